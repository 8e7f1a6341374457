"""The CLI through click's CliRunner: exit codes, stdout (results, JSON) and stderr (logs, errors)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import MINIMAL_BRIEF, opener_for

GOOD_1 = "Memory comes first on a small machine. Everything else follows from it."
GOOD_2 = "Second, keep every section short. Short calls stay coherent."
DRAFT = "output/posts/2026-11-23-memory-budgets-for-local-models"


@pytest.fixture
def cli(project, monkeypatch):
    """Invoke the CLI from inside the project folder, with the fake backend for run and render."""
    monkeypatch.chdir(project)
    monkeypatch.setattr(signal, "signal", lambda signum, handler: None)  # `run` must not keep its SIGTERM handler in pytest

    def invoke(*args: str, backend=None):
        obj = {"backend_opener": opener_for(backend) if backend else no_backend,
               "formatter_opener": (lambda model: backend) if backend else no_backend}
        return CliRunner().invoke(main, list(args), obj=obj)

    return invoke


def no_backend(*args):
    raise AssertionError("the backend must not be opened")


def tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


BAD_BRIEF = """\
title: Bad
sections:
  - heading: A
    instruction: Do.
    words: "100"
    colour: red
"""


# validate

def test_validate_ok(cli, write_brief):
    write_brief()
    result = cli("validate", "briefs/post.yaml")
    assert result.exit_code == 0
    assert result.stdout == "briefs/post.yaml: ok (2 sections, stages: draft)\n"
    assert result.stderr == ""


def test_validate_bad_brief_lists_every_problem_on_stderr(cli, write_brief, project):
    write_brief(BAD_BRIEF, "bad.yaml")
    result = cli("validate", "briefs/bad.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: invalid brief (2 problems):\n"
        "briefs/bad.yaml:5:12: sections.0.words: Input should be a valid integer (got '100'): write a number without quotes\n"
        "briefs/bad.yaml:6:5: sections.0.colour: unknown key; remove it or fix its spelling\n"
        "  → fix the lines above, then run `pipeline validate` again\n"
    )
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.stderr
    assert tree(project / "output") == {}


def test_validate_reports_template_errors_with_file_and_line(cli, write_brief, project):
    (project / "templates" / "section.md.j2").write_text("Write {{ section.heading }}.\n{{ vars.missing }}\n")
    write_brief()
    result = cli("validate", "briefs/post.yaml")
    assert result.exit_code == 2
    templates = (project / "templates").resolve()
    assert result.stderr.startswith(f"error: {templates}/section.md.j2:2: 'dict object' has no attribute 'missing'\n  → ")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_validate_names_a_snapshot_that_is_not_there(cli, project):
    from .conftest import copy_examples

    copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    brief = project / "briefs" / "weekly.yaml"
    brief.write_text(brief.read_text().replace("snapshot: feeds/", "snapshot: feeds/typo-", 1))
    result = cli("validate", "briefs/weekly.yaml")
    assert result.exit_code == 2 and ".snapshot: feeds/typo-" in result.stderr and "not found" in result.stderr
    assert result.stderr.startswith("error: invalid brief (1 problem):\nbriefs/weekly.yaml:")


@pytest.mark.parametrize("command", ["validate", "run", "render"])
def test_missing_brief_path_exits_2_without_a_traceback(cli, project, command):
    result = cli(command, "briefs/nope.yaml")
    assert result.exit_code == 2
    assert result.stderr == "error: cannot read the brief briefs/nope.yaml: No such file or directory\n" \
                            "  → check the path\n"
    assert tree(project / "output") == {}


# run

def test_run_json_prints_one_object_on_stdout_and_logs_on_stderr(cli, write_brief, fake, project):
    write_brief()
    fake.enqueue(GOOD_1, GOOD_2)
    result = cli("run", "briefs/post.yaml", "--json", "--out", "output", backend=fake)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert report["status"] == "ok"
    assert report["draft_dir"] == str((project / DRAFT).resolve())
    assert sorted(Path(f).name for f in report["files"]) == ["index.html", "index.md", "review.html", "run.json"]
    assert all(Path(f).is_file() for f in report["files"])
    assert [s["heading"] for s in report["sections"]] == ["First things", "Second things"]
    assert [s["status"] for s in report["sections"]] == ["ok", "ok"]
    assert report["sections"][0]["attempts"] == 1 and report["sections"][0]["finish_reason"] == "stop"
    assert "section 1 'First things': attempt 1" in result.stderr


def test_run_plain_prints_the_draft_path(cli, write_brief, fake, project):
    write_brief()
    fake.enqueue(GOOD_1, GOOD_2)
    result = cli("run", "briefs/post.yaml", "--out", "output", backend=fake)
    assert result.exit_code == 0
    assert result.stdout == f"draft: {(project / DRAFT).resolve()}/index.md\n"
    assert "status: ok" in result.stderr


def test_run_refuses_an_existing_draft_and_mentions_force(cli, write_brief, fake, project):
    write_brief()
    fake.enqueue(GOOD_1, GOOD_2)
    assert cli("run", "briefs/post.yaml", "--out", "output", backend=fake).exit_code == 0
    before = tree(project / "output")
    result = cli("run", "briefs/post.yaml", "--json", "--out", "output", backend=fake)
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "error" and report["exit_code"] == 1 and "--force" in report["hint"]
    assert tree(project / "output") == before
    assert len(fake.history) == 2  # refused before any generation


def test_a_template_error_is_reported_as_itself_when_a_draft_exists(cli, write_brief, fake, project):
    write_brief()
    fake.enqueue(GOOD_1, GOOD_2)
    assert cli("run", "briefs/post.yaml", "--out", "output", backend=fake).exit_code == 0
    before = tree(project / "output")
    (project / "templates" / "section.md.j2").write_text("Write {{ section.heading }}.\n{{ nope }}\n")
    result = cli("run", "briefs/post.yaml", "--out", "output", backend=fake)
    assert result.exit_code == 2 and "'nope' is undefined" in result.stderr and "already exists" not in result.stderr
    assert tree(project / "output") == before


def test_run_force_replaces(cli, write_brief, fake, project):
    write_brief()
    fake.enqueue(GOOD_1, GOOD_2, "Replaced text, written again for this test. It is new.", GOOD_2)
    assert cli("run", "briefs/post.yaml", "--out", "output", backend=fake).exit_code == 0
    result = cli("run", "briefs/post.yaml", "--out", "output", "--force", backend=fake)
    assert result.exit_code == 0
    assert "Replaced text, written again for this test. It is new." in (project / DRAFT / "index.md").read_text()


def test_run_with_a_section_still_empty_exits_3_needing_attention(cli, write_brief, fake, project):
    write_brief()
    fake.enqueue("", "<think>only thinking</think>", "", GOOD_2)
    result = cli("run", "briefs/post.yaml", "--json", "--out", "output", backend=fake)
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["status"] == "needs_attention"
    first, second = report["sections"]
    assert first["status"] == "needs_attention" and first["attempts"] == 3 and "empty" in first["findings"]
    assert second["status"] == "ok"
    assert (project / DRAFT / "index.md").is_file()  # written for review all the same


def test_run_needing_attention_says_so_on_stderr(cli, write_brief, fake):
    write_brief()
    fake.enqueue("", "", "", GOOD_2)
    result = cli("run", "briefs/post.yaml", "--out", "output", backend=fake)
    assert result.exit_code == 3
    assert "needs attention: [1] First things: no usable text was generated" in result.stderr


def test_run_bad_brief_exits_2_as_json_and_opens_no_backend(cli, write_brief, project):
    write_brief(BAD_BRIEF, "bad.yaml")
    result = cli("run", "briefs/bad.yaml", "--json", "--out", "output")
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["status"] == "error" and report["exit_code"] == 2
    assert "briefs/bad.yaml:6:5: sections.0.colour: unknown key" in report["error"]
    assert "briefs/bad.yaml:6:5: sections.0.colour: unknown key" in result.stderr
    assert tree(project / "output") == {}


@pytest.mark.parametrize("args, says", [
    (["run", "--json"], ("Missing argument 'BRIEFS...'.", " run")),
    (["run", "briefs/post.yaml", "--json", "--bogus"], ("No such option '--bogus'", " run")),
    (["check", "--json", "--read=yes", "output"], ("Option '--read' does not take a value.", "pipeline check")),
    (["nosuchcommand", "--json"], ("No such command 'nosuchcommand'.", "")),
])
def test_usage_errors_with_json_print_the_error_object_too(cli, project, args, says):
    result = cli(*args)
    assert result.exit_code == 2
    report = json.loads(result.stdout)  # a script reading --json output gets an object, not nothing
    assert report["status"] == "error" and report["exit_code"] == 2 and says[0] in report["error"]
    assert report["hint"].startswith("see `") and report["hint"].endswith(f"{says[1]} --help`")  # CliRunner's name
    assert says[0].split("'")[0] in result.stderr and tree(project / "output") == {}


def test_usage_errors_without_json_stay_text_and_help_still_works(cli):
    result = cli("run")
    assert result.exit_code == 2 and result.stdout == "" and "Missing argument 'BRIEFS...'" in result.stderr
    result = cli("run", "--json", "--help")
    assert result.exit_code == 0 and result.stdout.startswith("Usage: ") and "BRIEFS..." in result.stdout


# render

THINKING_BRIEF = MINIMAL_BRIEF.replace("    words: 20\n", "    words: 20\n    enable_thinking: true\n    max_tokens: 90\n", 1)


def test_render_shows_messages_prompt_and_thinking_flag(cli, write_brief, fake, project):
    write_brief(THINKING_BRIEF)
    result = cli("render", "briefs/post.yaml", backend=fake)
    assert result.exit_code == 0
    out = result.stdout
    assert "=== [1] First things — stage draft, enable_thinking=True, max_tokens=90\n" in out
    assert "=== [2] Second things — stage draft, enable_thinking=False, max_tokens=60\n" in out
    assert out.count("You are writing one section at a time") == 2  # once per section, inside its prompt
    assert 'Write the section "First things" (section 1 of 2).' in out
    assert "--- templates: templates/system.md.j2, templates/section.md.j2\n" in out
    first, second = out.split("=== [2]")
    assert first.rstrip().endswith("<|im_start|>assistant")  # thinking on: the model opens its own block
    assert second.rstrip().endswith("<|im_start|>assistant\n<think>\n\n</think>")  # thinking off: closed for it
    assert fake.history == [] and tree(project / "output") == {}


def test_render_one_section_by_heading_or_number(cli, write_brief, fake):
    write_brief(THINKING_BRIEF)
    for wanted in ("Second things", "2"):
        out = cli("render", "briefs/post.yaml", "--section", wanted, backend=fake).stdout
        assert out.startswith("=== [2] Second things") and "=== [1]" not in out
    missing = cli("render", "briefs/post.yaml", "--section", "Third", backend=fake)
    assert missing.exit_code == 2 and "no prose section 'Third'" in missing.stderr and "1 'First things'" in missing.stderr


def test_a_project_without_templates_uses_the_shipped_ones_and_says_so(cli, write_brief, fake, project):
    import shutil

    shutil.rmtree(project / "templates")
    (project / "pyproject.toml").write_text("")  # the project folder, with no templates/ of its own
    write_brief(THINKING_BRIEF)
    out = cli("render", "briefs/post.yaml", backend=fake).stdout
    assert "--- templates: shipped:post/system.md.j2, shipped:post/section.md.j2" in out
    (project / "templates").mkdir()
    (project / "templates" / "section.md.j2").write_text("Only {{ section.heading }}, in my own words.\n")
    out = cli("render", "briefs/post.yaml", backend=fake).stdout  # one file of its own: the rest is shipped
    assert "--- templates: shipped:post/system.md.j2, templates/section.md.j2" in out
    assert "Only First things, in my own words." in out


def test_render_json(cli, write_brief, fake):
    write_brief(THINKING_BRIEF)
    result = cli("render", "briefs/post.yaml", "--json", backend=fake)
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["model"] == "fake-model"
    sections = report["sections"]
    assert [(s["heading"], s["enable_thinking"], s["max_tokens"]) for s in sections] == [
        ("First things", True, 90), ("Second things", False, 60)]
    assert [m["role"] for m in sections[0]["messages"]] == ["system", "user"]
    assert sections[1]["prompt"] == fake.render(tuple(sections[1]["messages"]), False)


@pytest.mark.parametrize("model, says", [
    ("/nowhere/model", "model folder /nowhere/model does not exist"),
    ("builtin:nope", "unknown builtin model 'nope'"),
    ("not a model", "is neither a folder, a hub id"),
])
def test_validate_names_the_model_line_when_the_model_cannot_open(cli, project, write_brief, model, says):
    write_brief(f"title: T\nmodel: {model}\n" + "sections:\n  - {heading: A, instruction: Do., words: 30}\n")
    result = cli("validate", "briefs/post.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid brief (1 problem):\nbriefs/post.yaml:2: model: ")
    assert says in result.stderr


def test_a_model_folder_without_config_is_told_apart_from_a_missing_one(cli, project, write_brief):
    (project / "model").mkdir()
    write_brief(f"title: T\nmodel: {project / 'model'}\n" + "sections:\n  - {heading: A, instruction: Do., words: 30}\n")
    assert "has no config.json" in cli("validate", "briefs/post.yaml").stderr


def test_the_readmes_validate_example_is_what_validate_prints(monkeypatch):
    import re

    from .conftest import REPO

    monkeypatch.chdir(REPO)
    shown = re.search(r"```\n\$ pipeline validate docs/bad-brief.yaml\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert shown, "the README shows `pipeline validate docs/bad-brief.yaml` and its output"
    result = CliRunner().invoke(main, ["validate", "docs/bad-brief.yaml"])
    assert result.exit_code == 2 and result.stderr == shown.group(1)


def test_validate_counts_sections_in_words_that_read_right(cli, write_brief):
    write_brief("title: T\nsections:\n  - {heading: A, instruction: Do., words: 30}\n")
    assert "(1 section, stages: draft)" in cli("validate", "briefs/post.yaml").stdout


def test_the_readmes_run_json_example_has_the_keys_a_run_prints(cli, write_brief, fake):
    import json
    import re

    from .conftest import REPO

    shown = re.search(r"### `run --json`.*?```json\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    example = json.loads(shown.group(1))
    write_brief()
    fake.enqueue("Memory comes first for a local model. The weights and the cache share one pool of memory.",
                 "Second comes the schedule. The nightly job loads the model, writes and exits again.")
    printed = json.loads(cli("run", "briefs/post.yaml", "--json", backend=fake).stdout)
    assert example.keys() == printed.keys()
    assert example["totals"].keys() == printed["totals"].keys()
    assert example["sections"][0].keys() == printed["sections"][0].keys()
