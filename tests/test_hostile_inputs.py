"""Bad input, tried the way a new user would: through the CLI. Each case must end in a message that
names the file and says what to do (never a traceback) with the documented exit code, and leave
earlier drafts as they were."""

from __future__ import annotations

import json
import sqlite3
import textwrap

import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import MINIMAL_BRIEF

SCRIPT = json.dumps(["Memory comes first on a small machine. Everything follows.",
                 "Keep every section short. Short sections stay coherent."])


def newsletter(data_source: str, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        kind: newsletter
        title: Weekly
        week: 2026-W16
        {extra}
        sources:
          data:
            - {data_source}
        sections:
          - {{heading: Stats, type: static, text: Nothing yet.}}
          - {{heading: Insight, instruction: Say one thing., words: 30}}
        """)


def write_data(project):
    (project / "briefs" / "nan.json").write_text('[{"pnl": NaN}]')
    (project / "briefs" / "comma.csv").write_text('pnl\n"1,5"\n')
    with sqlite3.connect(project / "briefs" / "db.sqlite") as db:
        db.execute("create table trades (pnl real)")


CASES = {
    "templates outside the project": ("templates: /\n" + MINIMAL_BRIEF, [], 2, "outside the project folder"),
    "NaN in JSON data": (newsletter("{name: trades, path: nan.json, columns: {pnl: float}, whole_history: true}"), [], 2,
                         "is not a number JSON allows"),
    "decimal comma": (newsletter("{name: trades, path: comma.csv, columns: {pnl: float}, whole_history: true}"), [], 2,
                      'set `decimal: ","` on the source'),
    "SQLite that writes a file": (newsletter("{name: trades, path: db.sqlite, columns: {pnl: float}, "
                                             "query: \"vacuum into 'copy.sqlite'\", whole_history: true}"), [], 2,
                                  "does more than read"),
    "week_column not a date": (newsletter("{name: trades, path: comma.csv, columns: {pnl: float}, "
                                          "week_column: pnl}"), [], 2, "must name a datetime column"),
    "week out of range": (MINIMAL_BRIEF, ["--week", "9999-W52"], 0, None),  # a post ignores --week
    "newsletter week out of range": (newsletter("{name: trades, path: comma.csv, columns: {pnl: str}, "
                                                "whole_history: true}"),
                                     ["--week", "9999-W52"], 2, "out of range"),
    "YAML 1.1 surprises": (MINIMAL_BRIEF.replace("  total_memory_gb: 64", "  country: NO\n  version: 3.10"), [], 0,
                           None),
    "alias bomb": ("variables:\n  a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"  {c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdef", "bcdefg", strict=True))
        + MINIMAL_BRIEF, [], 2, "aliases expand"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_ends_in_a_message_not_a_traceback(name, project, monkeypatch, tmp_path):
    text, extra, code, message = CASES[name]
    monkeypatch.chdir(project)
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    write_data(project)
    (project / "briefs" / "x.yaml").write_text(text)
    (project / "script.json").write_text(SCRIPT)
    for command in (["validate", "briefs/x.yaml"], ["run", "briefs/x.yaml", "--model", "script:script.json"]):
        result = CliRunner().invoke(main, [*command, *(extra if command[0] == "run" else [])])
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
            f"{name}: {command[0]} raised {result.exception!r}"
        assert "Traceback" not in result.stderr
        if command[0] == "run":
            assert result.exit_code == code, result.stderr
            assert message is None or message in result.stderr
    assert sorted(p.name for p in (project / "briefs").iterdir() if p.suffix == ".sqlite") == ["db.sqlite"]


def test_mutated_briefs_only_ever_end_in_a_clear_error(tmp_path):
    """Random edits of the example post brief (quotes, colons, brackets, indentation, deleted characters):
    loading either succeeds or names the problem; it never raises anything else."""
    import random

    from pipeline.config import load_brief
    from pipeline.errors import PipelineError

    from .conftest import REPO

    base, rng = (REPO / "briefs" / "post.yaml").read_text(), random.Random(1)
    pieces = list("\":'{}[]-#&*!|> \t\n%@`,?") + ["\n  ", "a", "1"]
    path = tmp_path / "b.yaml"
    for _ in range(500):
        text = list(base)
        for _ in range(rng.randint(1, 6)):
            at, op = rng.randrange(len(text)), rng.random()
            if op < 0.4:
                text.insert(at, rng.choice(pieces))
            elif op < 0.7:
                del text[at]
            else:
                text[at] = rng.choice(pieces)
        path.write_text("".join(text))
        try:
            load_brief(path)
        except PipelineError as exc:
            assert str(path) in str(exc) and exc.hint  # names the file and says what to do
