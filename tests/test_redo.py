"""`pipeline redo DRAFT --section H`: only the named sections are written again (next seed), every other
byte of index.md stays (the reviewer's edits included), and the other files and run.json follow."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.backends.script import ScriptBackend
from pipeline.cli import main

from .conftest import copy_examples, opener_for
from .test_recheck import SECTIONS
from .tiny_models import build_random_qwen3_moe

NEW = "The weights take 35 GB, macOS and my apps about 10 GB. What is left is the cache and the headroom I keep."


@pytest.fixture
def cli(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.setattr("signal.signal", lambda signum, handler: None)

    def invoke(*args: str, backend=None):
        return CliRunner().invoke(main, list(args), obj={"backend_opener": opener_for(backend)} if backend else None)
    return invoke


@pytest.fixture
def draft(project, cli):
    copy_examples(project, "post.yaml")
    script = project / "briefs" / "script.json"
    script.write_text(json.dumps({"sections": SECTIONS}))
    assert cli("run", "briefs/post.yaml", "--model", f"script:{script}").exit_code == 0
    return next((project / "output" / "posts").iterdir())


def edit(draft, old: str, new: str) -> None:
    index = draft / "index.md"
    index.write_text(index.read_text().replace(old, new, 1))


def test_only_the_named_section_changes_and_edits_elsewhere_are_kept(cli, draft):
    edit(draft, "Cron starts the job at night.", "Cron starts the job at night, after my last commit.")
    before = (draft / "index.md").read_text()
    backend = ScriptBackend(default=NEW)
    result = cli("redo", str(draft), "--section", "Where the 64 GB goes", backend=backend)
    assert result.exit_code == 0, result.stderr
    after = (draft / "index.md").read_text()
    old = SECTIONS["Where the 64 GB goes"]
    assert after == before.replace(old, NEW)  # byte for byte, but for the one block
    assert "after my last commit" in after
    manifest = json.loads((draft / "run.json").read_text())
    assert [r["sections"] for r in manifest["redos"]] == [["Where the 64 GB goes"]]
    assert manifest["redos"][0]["seeds"] == [backend.history[0].settings.seed] == [8]  # the example's seed 7, plus one
    redone = next(s for s in manifest["sections"] if s["heading"] == "Where the 64 GB goes")
    assert redone["attempts"][0]["raw_text"] == NEW
    for name in ("index.html", "review.html"):
        assert "macOS and my apps about 10 GB" in (draft / name).read_text()
    assert "after my last commit" in (draft / "index.html").read_text()
    review = json.loads(cli("review", "--json").stdout)["drafts"][0]
    assert review["edited"] is True  # the reviewer's edit still shows, the redo does not hide it


def test_sections_by_number_several_at_once_and_each_redo_takes_the_next_seed(cli, draft):
    other = "Cron runs the job at two in the morning, and the process ends before anyone wakes up to check it."
    backend = ScriptBackend(by_label={"Why memory is the real constraint": [NEW, NEW.replace("10 GB", "about 10 GB")],
                                      "Load, run, exit": [other]})
    assert cli("redo", str(draft), "--section", "1", "--section", "5", backend=backend).exit_code == 0
    assert cli("redo", str(draft), "--section", "1", backend=backend).exit_code == 0
    assert [r.label for r in backend.history] == ["Why memory is the real constraint", "Load, run, exit",
                                                  "Why memory is the real constraint"]
    assert [r.settings.seed for r in backend.history] == [8, 8, 9]


def test_an_instruction_for_this_redo_replaces_the_briefs(cli, draft):
    backend = ScriptBackend(default=NEW)
    result = cli("redo", str(draft), "--section", "2", "--instruction", "Say it in two sentences.", backend=backend)
    assert result.exit_code == 0
    prompt = backend.history[0].prompt
    assert "Say it in two sentences." in prompt and "Break the budget down" not in prompt
    assert json.loads((draft / "run.json").read_text())["redos"][0]["instruction"] == "Say it in two sentences."


def test_the_new_text_gets_the_runs_checks(cli, draft):
    backend = ScriptBackend(default=NEW.replace("10 GB", "14 GB") + " " + SECTIONS["Load, run, exit"].split(". ")[0] + ".")
    result = cli("redo", str(draft), "--section", "2", backend=backend)
    assert result.exit_code == 3 and "14" in result.stdout
    codes = {f["code"] for s in json.loads((draft / "run.json").read_text())["sections"] for f in s["findings"]}
    assert "unverified_number" in codes
    assert "> **Needs attention:** numbers not found" in (draft / "index.md").read_text()


def test_a_brief_edit_for_the_redone_section_is_used_and_one_elsewhere_is_refused(cli, project, draft):
    brief = project / "briefs" / "post.yaml"
    brief.write_text(brief.read_text().replace("Break the budget down into", "Split the budget into"))
    backend = ScriptBackend(default=NEW)
    assert cli("redo", str(draft), "--section", "Where the 64 GB goes", backend=backend).exit_code == 0
    assert "Split the budget into" in backend.history[0].prompt  # only its own prompt changed: used
    # The research notes are in every section's system prompt: an edit there reaches them all.
    brief.write_text(brief.read_text().replace("macOS and the apps I keep open", "macOS and the apps I run"))
    before = (draft / "index.md").read_text()
    result = cli("redo", str(draft), "--section", "2", backend=backend)
    assert result.exit_code == 2
    assert "'Why memory is the real constraint'" in result.stderr and "would now be written differently" in result.stderr
    assert "--force" in result.stderr and (draft / "index.md").read_text() == before


@pytest.mark.parametrize("args, damage, message", [
    (["--section", "Nope"], None, "no model-written section 'Nope'"),
    (["--section", "9"], None, "name one of 1: 'Why memory is the real constraint'"),
    (["--section", "1", "--section", "2", "--instruction", "x"], None, "--instruction applies to one section"),
    (["--section", "2"], lambda d, p: (p / "briefs" / "post.yaml").unlink(), "the draft's brief cannot be read"),
    (["--section", "2"], lambda d, p: (d / "index.md").write_text((d / "index.md").read_text().replace(
        "## Where the 64 GB goes", "## Renamed")), "section 'Where the 64 GB goes' is not in index.md"),
    (["--section", "2"], lambda d, p: (d / "run.json").unlink(), "no run.json here"),
])
def test_bad_requests_are_refused_with_what_to_do_and_change_nothing(cli, project, draft, args, damage, message):
    if damage:
        damage(draft, project)
    before = {p.name: p.read_bytes() for p in draft.iterdir()}
    result = cli("redo", str(draft), *args, backend=ScriptBackend(default=NEW))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert {p.name: p.read_bytes() for p in draft.iterdir()} == before


@pytest.mark.mlx
def test_redo_on_a_real_tiny_model_keeps_every_other_section(cli, project, write_brief, tmp_path):
    model = build_random_qwen3_moe(tmp_path / "moe")
    brief = write_brief(f"""\
title: Redo
date: 2026-11-23
model: {model}
stages:
  draft: {{max_tokens: 24, temperature: 0.8, seed: 5, attempts: 1}}
sections:
  - {{heading: One, instruction: Write the first part., words: 20}}
  - {{heading: Two, instruction: Write the second part., words: 20}}
  - {{heading: Three, instruction: Write the third part., words: 20}}
""")
    assert cli("run", str(brief)).exit_code in (0, 3)
    draft = next((project / "output" / "posts").iterdir())
    before = (draft / "index.md").read_text()
    assert cli("redo", str(draft), "--section", "Two").exit_code in (0, 3)
    after = (draft / "index.md").read_text()
    cut = lambda text, a, b: text[text.index(a): text.index(b)]  # noqa: E731
    assert before.split("## Two")[0] == after.split("## Two")[0] and before.split("## Three")[1] == after.split("## Three")[1]
    assert cut(before, "## Two", "## Three") != cut(after, "## Two", "## Three")  # a new seed, new text


def test_a_redo_judges_the_new_text_in_the_language_the_run_recorded(cli, project):
    """A post written in Indonesian (`language: id`): the redone section's real Indonesian text is judged as
    Indonesian, as the run judged it, not as English token soup that would be retried."""
    from .test_recheck import INDONESIAN

    copy_examples(project, "post.yaml")
    brief = project / "briefs" / "post.yaml"
    assert "\nlanguage: en\n" in brief.read_text()
    brief.write_text(brief.read_text().replace("\nlanguage: en\n", "\nlanguage: id\n"))
    script = project / "briefs" / "script.json"
    script.write_text(json.dumps({"sections": SECTIONS}))
    assert cli("run", "briefs/post.yaml", "--model", f"script:{script}").exit_code == 0
    draft = next((project / "output" / "posts").iterdir())
    result = cli("redo", str(draft), "--section", "Load, run, exit", backend=ScriptBackend(default=INDONESIAN))
    assert result.exit_code == 0, result.stderr
    redone = next(s for s in json.loads((draft / "run.json").read_text())["sections"] if s["heading"] == "Load, run, exit")
    assert redone["language"] == "id" and [a["finish_reason"] for a in redone["attempts"]] == ["stop"]
    assert INDONESIAN.split()[0] in (draft / "index.md").read_text()
