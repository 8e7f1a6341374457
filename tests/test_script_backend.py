"""The scripted backend from the command line (`--model script:FILE` or `model: script:FILE`):
responses by heading, in order and by default, streamed through the real generation path; script
files with mistakes fail with the file, line and column."""

from __future__ import annotations

import json
import textwrap

import pytest
from click.testing import CliRunner

from pipeline.backends import Request
from pipeline.backends.script import ScriptBackend
from pipeline.cli import main
from pipeline.config import SamplingSettings

from .conftest import MINIMAL_BRIEF, copy_examples

FIRST = "Memory comes first on a small machine. Everything else follows from it."
SECOND = "Second, keep every section short. Short calls stay coherent."
DRAFT = "output/posts/2026-11-23-memory-budgets-for-local-models"


@pytest.fixture
def cli(project, monkeypatch):
    monkeypatch.chdir(project)
    return lambda *args: CliRunner().invoke(main, list(args))


def script(project, text: str, name: str = "script.yaml") -> str:
    (project / name).write_text(textwrap.dedent(text))
    return name


def test_responses_by_heading_reach_the_draft_through_the_cli(cli, write_brief, project):
    write_brief()
    path = script(project, f"""\
        sections:
          Second things: "{SECOND}"
          First things: "{FIRST}"
        """)
    result = cli("run", "briefs/post.yaml", "--model", f"script:{path}", "--json")
    assert result.exit_code == 0, result.stderr
    body = (project / DRAFT / "index.md").read_text()
    assert body.index(FIRST) < body.index(SECOND)  # matched by heading, not by order
    manifest = json.loads((project / DRAFT / "run.json").read_text())
    assert manifest["model"] == {"spec": f"script:{path}", "backend": "script", "source": path}
    assert json.loads(result.stdout)["sections"][0]["tokens_out"] == len(FIRST.split())  # streamed word by word


def test_a_collapsing_scripted_response_is_cut_and_retried_like_a_model(cli, write_brief, project):
    write_brief()
    loop = "I set the limits. " + "each one each one " * 80
    path = script(project, f"""\
        sections:
          First things: ["{loop}", "{FIRST}"]
        default: "{SECOND}"
        """)
    result = cli("run", "briefs/post.yaml", "--model", f"script:{path}", "--json")
    assert result.exit_code == 0, result.stderr
    first = json.loads((project / DRAFT / "run.json").read_text())["sections"][0]
    assert [a["finish_reason"] for a in first["attempts"]] == ["collapse", "stop"]
    assert first["attempts"][0]["tokens_out"] < 160  # stopped at the onset, not at the cap


def test_a_brief_names_its_script_relative_to_itself(cli, write_brief, project):
    write_brief(MINIMAL_BRIEF.replace("model: builtin:smollm2", "model: script:answers.yaml"))
    (project / "briefs" / "answers.yaml").write_text(json.dumps([FIRST, SECOND]))  # JSON works too
    result = cli("run", "briefs/post.yaml")
    assert result.exit_code == 0, result.stderr
    assert SECOND in (project / DRAFT / "index.md").read_text()


def test_a_script_that_runs_out_names_the_section_and_writes_nothing(cli, write_brief, project):
    write_brief()
    path = script(project, f'responses: ["{FIRST}"]\n')
    result = cli("run", "briefs/post.yaml", "--model", f"script:{path}")
    assert result.exit_code == 1
    assert f"error: script:{path}: no scripted response left for 'Second things'" in result.stderr
    assert "default:" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "output" / "posts").exists()


@pytest.mark.parametrize("text, where", [
    ("sections:\n  First things: [1, 2]\n", ":2:18: sections.First things.0: Input should be a valid string"),
    ("responses: [a\n", ":2:1:"),
    ("replies: [a]\n", ":1:1: replies: Extra inputs are not permitted"),
])
def test_a_bad_script_file_is_reported_with_its_position(cli, write_brief, project, text, where):
    write_brief()
    path = script(project, text)
    result = cli("run", "briefs/post.yaml", "--model", f"script:{path}")
    assert result.exit_code == 1
    assert "error: invalid script:\n" in result.stderr and f"{path}{where}" in result.stderr


def test_a_missing_script_file_says_what_to_do(cli, write_brief):
    write_brief()
    result = cli("run", "briefs/post.yaml", "--model", "script:nope.yaml")
    assert result.exit_code == 1
    assert "cannot read script nope.yaml: No such file or directory" in result.stderr
    assert "YAML or JSON file of responses" in result.stderr


INSIGHT = "Trade less when the tape is quiet, and wait for the open."


def test_the_newsletter_builds_from_a_script_with_its_news_pick(cli, project, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    pick = '{"picks": [{"id": 6, "reason": "Outages are when slippage losses cluster."}]}'
    path = script(project, json.dumps({"sections": {"News that mattered": pick,
                                                    "One operating insight": INSIGHT}}))
    result = cli("run", "briefs/weekly.yaml", "--offline", "--model", f"script:{path}", "--json")
    assert result.exit_code == 0, result.stderr
    body = (project / "output/newsletters/2026-W16/index.md").read_text()
    assert "Outages are when slippage losses cluster." in body and INSIGHT in body


def test_render_shows_the_prompt_through_the_scripted_backends_template(cli, write_brief, project):
    write_brief()
    path = script(project, "default: unused\n")
    result = cli("render", "briefs/post.yaml", "--model", f"script:{path}", "--json")
    assert result.exit_code == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert rendered["model"] == f"script:{path}"
    assert rendered["sections"][0]["prompt"].endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")


def test_stop_ends_a_stream_and_reports_what_was_generated():
    stream = ScriptBackend([FIRST]).stream(Request("prompt", SamplingSettings(max_tokens=50), 0))
    deltas = iter(stream)
    next(deltas), next(deltas)
    final = stream.stop()
    assert final.finish_reason == "stopped" and final.stats.generation_tokens == 2
    assert list(deltas) == []  # nothing more is generated after stop


def test_a_section_that_shows_think_markers_as_code_reaches_the_draft_whole(cli, write_brief, project):
    write_brief()  # streamed through the real generation path: the watch, the reasoning split, the checks
    about_tags = ("Qwen3 wraps its reasoning in `<think>` and `</think>` tags. The runner removes what lies "
                  "between them before the section is checked, so none of it reaches the draft.")
    path = script(project, f"""\
        sections:
          First things: "{about_tags}"
        default: "{SECOND}"
        """)
    result = cli("run", "briefs/post.yaml", "--model", f"script:{path}", "--json")
    assert result.exit_code == 0, result.stderr
    assert about_tags in (project / DRAFT / "index.md").read_text()
    first = json.loads((project / DRAFT / "run.json").read_text())["sections"][0]
    assert len(first["attempts"]) == 1 and first["findings"] == []


def test_reasoning_written_as_text_is_retried_and_flagged_if_it_stays(cli, write_brief, project):
    """A reasoning model whose server drops the opening think marker writes its plan as the section: the first
    attempt is retried; a section that keeps it needs a reviewer (exit 3), and the sentence is named."""
    write_brief()
    thinking = ("Okay, the user wants me to write a section about memory. I need to keep it under 110 words and "
                "mention the 48 GB limit.")
    path = script(project, f"""\
        sections:
          First things: ["{thinking} {FIRST}", "{FIRST}"]
          Second things: {json.dumps([f"{SECOND} Wait, did I cover the 48 GB limit? Yes."] * 3)}
        """)
    result = cli("run", "briefs/post.yaml", "--model", f"script:{path}", "--json")
    assert result.exit_code == 3, result.stderr
    first, second = json.loads((project / DRAFT / "run.json").read_text())["sections"]
    assert len(first["attempts"]) == 2 and first["findings"] == []
    assert [f["code"] for f in first["attempts"][0]["findings"]] == ["reasoning"]
    assert len(second["attempts"]) == 3 and [f["code"] for f in second["findings"]] == ["reasoning", "unverified_number"]
    assert "Wait, did I cover the 48 GB limit?" in second["findings"][0]["message"]
