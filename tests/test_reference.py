"""docs/brief.md and docs/cli.md are generated from the schema and the CLI: they must match the code."""

from __future__ import annotations

import pytest

from pipeline.config.schema import Brief, Section
from pipeline.reference import DOCS, PAGES, brief_reference, cli_reference


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_committed_reference_matches_the_code(name):
    committed = (DOCS / name).read_text()
    assert committed == PAGES[name](), f"docs/{name} is out of date: run `make docs` and commit it"


def test_every_brief_and_section_key_and_every_command_is_in_the_reference():
    brief = brief_reference()
    assert all(f"| `{key}` |" in brief for key in [*Brief.model_fields, *Section.model_fields])
    cli = cli_reference()
    for command in ("run", "validate", "render", "check", "redo", "review", "schedule", "publish"):
        assert f"## `pipeline {command}`" in cli
    assert "`--week" in cli and "`--version`" in cli and "`--log" in cli
