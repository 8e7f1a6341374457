"""Domain filter sets are opt-in per brief (`filters: [trading]`); formatting filters are always there."""

from __future__ import annotations

import pytest

from pipeline.blocks import block_environment, render_blocks
from pipeline.config import Brief, load_brief
from pipeline.errors import TemplateError
from pipeline.filters import FILTER_SETS, filter_set_of, filters_for

from .conftest import copy_examples

HINT = "add `filters: [trading]` to the brief"


@pytest.fixture
def weekly(project):
    return copy_examples(project, "weekly.yaml", "weekly-data.json")


def without_opt_in(weekly):
    text = weekly.read_text()
    assert "\nfilters: [trading]" in text
    weekly.write_text("\n".join(line for line in text.splitlines() if not line.startswith("filters:")) + "\n")
    return load_brief(weekly)


def test_the_brief_accepts_every_registered_set_and_nothing_else():
    sections = [{"heading": "A", "instruction": "Do.", "words": 30}]
    assert Brief.model_validate({"title": "T", "sections": sections, "filters": list(FILTER_SETS)}).filters
    with pytest.raises(ValueError, match="unknown filter set 'nope'; use one of: trading"):
        Brief.model_validate({"title": "T", "sections": sections, "filters": ["nope"]})


def test_formatting_filters_are_there_for_every_brief_and_trading_only_when_named():
    assert {"signed", "number", "percent", "md_escape", "md_url"} <= set(filters_for([]))
    assert "trade_stats" not in filters_for([]) and "trade_stats" in filters_for(["trading"])
    assert filter_set_of("worst_pair") == "trading" and filter_set_of("md_escape") is None


def test_the_example_newsletter_opts_in(weekly):
    loaded = load_brief(weekly)
    assert loaded.brief.filters == ["trading"]
    assert "failure_clusters" in block_environment(loaded).filters


def test_a_template_using_a_set_the_brief_did_not_name_says_how_to_opt_in(weekly, project):
    loaded = without_opt_in(weekly)
    with pytest.raises(TemplateError) as info:
        render_blocks(loaded, {"data": {"trades": [], "equity": []}})
    stats = project / "templates" / "newsletter" / "stats.md.j2"
    assert info.value.message == f"{stats}:1: template syntax error: No filter named 'trade_stats'."
    assert info.value.hint.startswith(HINT)


def test_the_hint_also_comes_when_jinja_finds_the_filter_missing_at_render_time(weekly, project):
    loaded = without_opt_in(weekly)
    (project / "templates" / "newsletter" / "stats.md.j2").write_text(
        "Stats.\n{% if data.trades %}{{ data.trades | trade_stats }}{% endif %}\n")
    with pytest.raises(TemplateError) as info:
        render_blocks(loaded, {"data": {"trades": [{"pnl": 1.0}], "equity": []}})
    assert "stats.md.j2:2" in info.value.message and "No filter named 'trade_stats'" in info.value.message
    assert info.value.hint.startswith(HINT)


def test_an_unknown_filter_keeps_the_plain_hint(project, write_brief):
    (project / "templates" / "oops.md.j2").write_text("{{ 3 | no_such_filter }}\n")
    brief = write_brief("title: T\nsections:\n  - {heading: A, type: template, template: oops.md.j2}\n")
    with pytest.raises(TemplateError) as info:
        render_blocks(load_brief(brief), {})
    assert info.value.hint == "fix the template"
