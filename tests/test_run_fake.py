"""The whole pipeline driven through the scripted backend: what reaches the draft and run.json."""

from __future__ import annotations

import json

import pytest
import yaml

from pipeline.backends.script import ScriptBackend
from pipeline.errors import MemoryLimitError, OutputExistsError
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import opener_for

GOOD_1 = "Memory comes first on a small machine. Everything else follows from it."
GOOD_2 = "Second, keep every section short. Short calls stay coherent."


def run(brief, project, fake, **options):
    return run_brief(brief, RunOptions(out_root=project / "output", **options), Reporter(), opener_for(fake))


def front_matter(md: str) -> dict:
    return yaml.safe_load(md.split("---\n")[1])


def test_draft_has_front_matter_sections_in_order_html_and_manifest(write_brief, project, fake):
    fake.enqueue(GOOD_1, GOOD_2)
    result = run(write_brief(), project, fake)
    assert result.status == "ok"
    assert result.draft_dir == (project / "output/posts/2026-11-23-memory-budgets-for-local-models").resolve()
    md = (result.draft_dir / "index.md").read_text()
    meta = front_matter(md)
    assert meta["title"] == "Memory budgets for local models"
    assert meta["draft"] is True and meta["slug"] == "memory-budgets-for-local-models"
    assert meta["tags"] == ["mlx", "testing"] and meta["model"] == "fake-model"
    assert meta["run_id"] == result.manifest["run_id"]
    body = md.split("---\n", 2)[2]
    assert body.index("## First things") < body.index(GOOD_1) < body.index("## Second things") < body.index(GOOD_2)
    html = (result.draft_dir / "index.html").read_text()
    assert "<h2>First things</h2>" in html and GOOD_2 in html
    manifest = json.loads((result.draft_dir / "run.json").read_text())
    assert [s["heading"] for s in manifest["sections"]] == ["First things", "Second things"]
    assert manifest["brief"]["sha256"] and manifest["model"]["spec"] == "fake-model"


def test_every_call_passes_the_thinking_flag_from_stage_or_section(write_brief, project, fake):
    brief = write_brief(MINIMAL_WITH_THINKING_SECTION)
    fake.enqueue(GOOD_1, "<think>plan the words</think>" + GOOD_2)
    result = run(brief, project, fake)
    flags = [request.settings.enable_thinking for request in fake.history]
    assert flags == [False, True]
    prompts = [request.prompt for request in fake.history]
    assert prompts[0].endswith("<think>\n\n</think>\n\n") and prompts[1].endswith("assistant\n")
    sections = result.manifest["sections"]
    assert [s["enable_thinking"] for s in sections] == [False, True]
    assert sections[1]["settings"]["max_tokens"] == 90  # section override beats the stage


MINIMAL_WITH_THINKING_SECTION = """\
title: Thinking per section
date: 2026-11-23
model: fake-model
stages:
  draft: {max_tokens: 60, enable_thinking: false}
sections:
  - {heading: Plain, instruction: Write plainly., words: 20}
  - {heading: Considered, instruction: Think first., words: 20, enable_thinking: true, max_tokens: 90}
"""


@pytest.mark.parametrize("raw", [
    "<think>secret plan</think>" + GOOD_1,
    "<think></think>" + GOOD_1,
    "secret plan with no opener</think>" + GOOD_1,
    GOOD_1 + "<think>a thought that never closes and runs on",
])
def test_no_reasoning_text_reaches_the_draft(write_brief, project, fake, raw):
    fake.enqueue(raw, GOOD_2)
    result = run(write_brief(), project, fake)
    md = (result.draft_dir / "index.md").read_text()
    html = (result.draft_dir / "index.html").read_text()
    for leaked in ("think", "secret plan", "never closes"):
        assert leaked not in md and leaked not in html
    assert GOOD_1 in md
    assert "reasoning_removed" in [f["code"] for f in result.manifest["sections"][0]["attempts"][0]["findings"]]


def test_cap_truncated_section_is_trimmed_to_last_sentence_and_marked(write_brief, project, fake):
    long_text = ("One full sentence comes here, before the long one. Then a long one begins, and it keeps going "
                 "because the writer has many "
                 "things to say about memory, about the cache that fills up when the context grows, about the way "
                 "the operating system claims its share before any model loads, about swap that nobody wants to "
                 "touch, about the wired limit that pins pages for the GPU, and about the habit of checking the "
                 "peak after every run so that surprises arrive early rather than at two in the morning when")
    fake.enqueue(long_text, GOOD_2)
    result = run(write_brief(), project, fake)
    section = result.manifest["sections"][0]
    assert section["attempts"][0]["finish_reason"] == "length"
    assert "cap_trimmed" in [f["code"] for f in section["findings"]]
    assert "One full sentence comes here, before the long one.\n" in (result.draft_dir / "index.md").read_text()


def test_empty_output_is_retried_with_a_new_seed(write_brief, project, fake):
    fake.enqueue("", "<think>only thinking", GOOD_1, GOOD_2)
    brief = write_brief(MINIMAL_BRIEF_ATTEMPTS_3)
    result = run(brief, project, fake)
    attempts = result.manifest["sections"][0]["attempts"]
    assert len(attempts) == 3 and attempts[-1]["usable"]
    assert len({a["seed"] for a in attempts}) == 3
    assert result.status == "ok"


MINIMAL_BRIEF_ATTEMPTS_3 = """\
title: Retry
date: 2026-11-23
stages:
  draft: {max_tokens: 60, attempts: 3}
sections:
  - {heading: One, instruction: Write., words: 20}
  - {heading: Two, instruction: Write., words: 20}
"""


def test_section_still_empty_after_all_attempts_needs_attention(write_brief, project, fake):
    fake.enqueue("", "", "", GOOD_2)
    result = run(write_brief(), project, fake)
    assert result.status == "needs_attention"
    section = result.manifest["sections"][0]
    assert section["status"] == "needs_attention" and len(section["attempts"]) == 3
    assert (result.draft_dir / "index.md").exists()  # the draft is still written for review


def test_existing_draft_is_not_overwritten_without_force(write_brief, project, fake):
    brief = write_brief()
    fake.enqueue(GOOD_1, GOOD_2)
    first = run(brief, project, fake)
    before = (first.draft_dir / "index.md").read_text()
    with pytest.raises(OutputExistsError, match="--force"):
        run(brief, project, fake)
    assert fake.history and len(fake.history) == 2  # refused before generating anything
    assert (first.draft_dir / "index.md").read_text() == before
    fake.enqueue("Replaced text, written again for this test. It is new.", GOOD_2)
    second = run(brief, project, fake, force=True)
    assert "Replaced text, written again" in (second.draft_dir / "index.md").read_text()
    assert not list((project / "output/posts").glob(".*"))  # no staging or retired folders left


def test_backend_error_writes_nothing(write_brief, project, fake):
    fake.enqueue(GOOD_1, MemoryLimitError("MLX active memory exceeded memory_limit 0.01 GiB"))
    with pytest.raises(MemoryLimitError):
        run(write_brief(), project, fake)
    assert not any((project / "output").rglob("*.md"))


def test_raw_html_from_the_model_is_removed_from_markdown_and_html(write_brief, project, fake):
    hostile = ('Safe words. <script>alert(1)</script> and <img src=x onerror=alert(2)> stay inert; '
               'a < b is fine and `<code>` is kept.')
    fake.enqueue(hostile, GOOD_2)
    result = run(write_brief(), project, fake)
    md = (result.draft_dir / "index.md").read_text()
    html = (result.draft_dir / "index.html").read_text()
    for dangerous in ("<script", "alert(1)", "<img", "onerror"):
        assert dangerous not in md and dangerous not in html
    assert "Safe words.  and  stay inert" in md and "a < b is fine" in md and "`<code>`" in md


def test_leaked_markers_are_judged_by_the_backends_own_think_markers(write_brief, project):
    fake = ScriptBackend(think_markers=("<reasoning>", "</reasoning>"))
    fake.enqueue(GOOD_1 + " <reasoning", GOOD_2, GOOD_2)
    result = run(write_brief(), project, fake)
    findings = result.manifest["sections"][0]["attempts"][0]["findings"]
    assert any(f["code"] == "think_leak" and "<reasoning" in f["message"] for f in findings)


def test_a_lone_surrogate_from_the_model_is_replaced_not_a_crash(write_brief, project, fake):
    fake.enqueue("Memory comes first \ud800 on a small machine. It follows.", GOOD_2)
    result = run(write_brief(), project, fake)
    assert "first \ufffd on" in (result.draft_dir / "index.md").read_text(encoding="utf-8")
    assert "\ufffd" in (result.draft_dir / "run.json").read_text(encoding="utf-8")


def test_a_far_too_short_section_is_retried_at_the_same_cap_and_flagged_if_it_stays_short(write_brief, project, fake):
    fake.enqueue("Too brief.", GOOD_1, GOOD_2)
    result = run(write_brief(MINIMAL_BRIEF_ATTEMPTS_3), project, fake)
    first, second = result.manifest["sections"][0]["attempts"]
    assert [f["code"] for f in first["findings"]] == ["short"] and not first["usable"]
    assert second["rung"].startswith("new seed, same cap") and "max_tokens" not in second["settings_changed"]
    assert result.status == "ok"

    fake.enqueue("Too brief.", "Still brief.", "Brief again.", GOOD_2)
    result = run(write_brief(MINIMAL_BRIEF_ATTEMPTS_3), project, fake, force=True)
    section = result.manifest["sections"][0]
    assert len(section["attempts"]) == 3 and section["status"] == "needs_attention"
    assert "expand or cut the section" in (result.draft_dir / "index.md").read_text()
