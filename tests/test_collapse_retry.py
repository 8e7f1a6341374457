"""Collapse while streaming: the stream is stopped at once, the section retried up the ladder,
and a section that always collapses is flagged with its best clean text kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import opener_for
from .tiny_models import LOOP_CHAIN, build_scripted_qwen3

CLEAN = "Memory is the first constraint on a small machine. Everything else follows from it."
LOOP = "The cache holds the buffers. " + "the cache holds the buffers and " * 60
CHAIN = ("Good stewardship matters. " + ", ".join(["allocation", "deallocation", "retention", "release", "management",
         "oversight", "supervision", "administration", "governance", "stewardship", "control", "care"] * 3))
SALAD = ("I measured the limits. the the system system management of of the oversight the the data of system "
         "system the of of management the the cache memory of the of of limit the the system of governance the "
         "the memory of of system the the")

BRIEF = """\
title: Ladder
date: 2026-11-23
stages:
  draft: {{max_tokens: 300, attempts: {attempts}}}
sections:
  - {{heading: Only, instruction: Write., words: 30}}
"""


def run(write_brief, project, fake, attempts=3):
    brief = write_brief(BRIEF.format(attempts=attempts))
    return run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))


@pytest.mark.parametrize("degenerate,signal", [(LOOP, "loop"), (CHAIN, "synonym_chain"), (SALAD, "word_salad")])
def test_collapsed_then_clean(write_brief, project, fake, degenerate, signal):
    fake.enqueue(degenerate, CLEAN)
    result = run(write_brief, project, fake)
    first, second = result.manifest["sections"][0]["attempts"]
    assert first["finish_reason"] == "collapse" and first["collapse"]["signal"] == signal
    assert first["tokens_after_onset"] <= 64
    assert 0 < first["tokens_out"] <= first["tokens_after_onset"] + 30  # stopped near the onset, not at the cap
    assert second["rung"] == "new seed, penalties over the whole section"
    assert second["settings_changed"]["repetition_penalty"] == 1.15
    assert result.status == "ok"
    assert CLEAN in (result.draft_dir / "index.md").read_text()


def test_always_collapsing_is_flagged_after_n_attempts_keeping_the_best_clean_text(write_brief, project, fake):
    fake.enqueue(LOOP, CHAIN, SALAD)
    result = run(write_brief, project, fake, attempts=3)
    section = result.manifest["sections"][0]
    assert [a["finish_reason"] for a in section["attempts"]] == ["collapse"] * 3
    assert [a["rung"] for a in section["attempts"]] == ["as configured", "new seed, penalties over the whole section",
                                                         "smaller cap"]
    assert section["attempts"][2]["settings_changed"]["max_tokens"] == 180
    assert section["status"] == "needs_attention" and result.status == "needs_attention"
    md = (result.draft_dir / "index.md").read_text()
    assert "The cache holds the buffers." in md  # the longest clean text before an onset
    assert "the cache holds the buffers and the cache" not in md and "the the" not in md
    assert "deallocation, retention" not in md
    assert "> **Needs attention:** loop from character" in md


def test_split_fallback_writes_two_halves(write_brief, project, fake):
    first_half = "Memory comes first. The weights take most of it."
    second_half = "The cache takes the rest. Headroom keeps the system calm."
    fake.enqueue(LOOP, LOOP, LOOP, first_half, second_half)
    result = run(write_brief, project, fake, attempts=4)
    attempts = result.manifest["sections"][0]["attempts"]
    assert attempts[-1]["rung"] == "split in two" and attempts[-1]["settings_changed"]["split"] is True
    assert attempts[-1]["settings_changed"]["max_tokens"] == 150
    continuation = fake.history[-1].prompt  # the second call sees the first half as its own turn
    assert f"<|im_start|>assistant\n{first_half}<|im_end|>\n<|im_start|>user\n" in continuation
    assert "second half" in continuation.split("<|im_start|>user\n")[-1]
    assert result.status == "ok"
    assert f"{first_half}\n\n{second_half}" in (result.draft_dir / "index.md").read_text()


def test_retries_never_loop_forever(write_brief, project, fake):
    fake.default = LOOP  # collapses every time, forever
    result = run(write_brief, project, fake, attempts=6)
    assert len(result.manifest["sections"][0]["attempts"]) == 6
    assert result.status == "needs_attention"


def test_collapse_watch_off_keeps_the_stream_going(write_brief, project, fake):
    brief = write_brief(BRIEF.format(attempts=1).replace("attempts: 1}", "attempts: 1, collapse_watch: false}"))
    fake.enqueue(LOOP)
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    attempt = result.manifest["sections"][0]["attempts"][0]
    assert attempt["finish_reason"] == "length" and attempt["collapse"] is None


@pytest.mark.mlx
def test_real_mlx_generation_is_stopped_at_the_onset(tmp_path, write_brief, project):
    model = build_scripted_qwen3(tmp_path / "loop", LOOP_CHAIN)
    brief = write_brief(f"""\
title: Loop
date: 2026-11-23
model: {model}
stages:
  draft: {{max_tokens: 2000, temperature: 0.0, attempts: 2}}
sections:
  - {{heading: Forever, instruction: Never stop., words: 50}}
""")
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter())
    for attempt in result.manifest["sections"][0]["attempts"]:
        assert attempt["finish_reason"] == "collapse" and attempt["collapse"]["signal"] in ("loop", "word_salad")
        assert attempt["tokens_out"] < 100  # of a 2000-token cap
        assert attempt["tokens_after_onset"] <= 64
    assert result.status == "needs_attention"


def test_the_briefs_language_decides_which_signals_judge_the_stream(write_brief, project, fake):
    """Real Indonesian (a translated manual page) streamed as a section: judged as English it is token
    soup and the section is retried; with `language: id` it is kept as written, and run.json says why."""
    real = json.loads((Path(__file__).parent / "real_text" / "other_languages.json").read_text())["written_in"]
    indonesian = next(i["text"] for i in real if i["language"] == "id").split("## Deskripsi\n", 1)[1]
    runs = {}
    for language, replies in (("id", [indonesian]), ("en", [indonesian, CLEAN])):
        fake.enqueue(*replies)
        brief = write_brief(BRIEF.format(attempts=3).replace("title: Ladder", f"title: Ladder {language}\nlanguage: {language}"),
                            name=f"{language}.yaml")
        runs[language] = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    kept = runs["id"].manifest["sections"][0]
    assert [a["finish_reason"] for a in kept["attempts"]] == ["stop"] and kept["language"] == "id"
    assert indonesian.split()[0] in (runs["id"].draft_dir / "index.md").read_text()
    retried = runs["en"].manifest["sections"][0]
    assert retried["attempts"][0]["finish_reason"] == "collapse" and retried["attempts"][0]["collapse"]["signal"] == "word_salad"
    assert retried["language"] == "en"


def test_salad_in_another_language_from_a_backend_without_probabilities_is_read_while_it_streams(write_brief, project,
                                                                                                   fake):
    """A Dutch draft (`language: nl`) from a backend that streams no probabilities (the scripted one, as the HTTP
    backend): English's salad signals are off, so the embedded model reads the stream as it grows. Real salad (the
    embedded model's, after a real Dutch manual page) stops the stream within a read or two of its start, not at
    its end; the clean second answer is kept. Without a reading while it streams (a section too long to read that
    way), the section is read once it ends and cut back to the page's last sentence (read_unwatched)."""
    salad = json.loads((Path(__file__).parent / "real_text" / "other_languages.json").read_text())["salads"][0]
    clean = "Het bestand bevat de standaardinstellingen voor deluser en delgroup. Elke regel is een optie met een waarde."
    fake.enqueue(salad["text"], clean)
    brief = write_brief(BRIEF.format(attempts=3).replace("title: Ladder", "title: Ladder\nlanguage: nl"))
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    first, second = result.manifest["sections"][0]["attempts"]
    assert first["finish_reason"] == "collapse" and first["collapse"]["signal"] == "word_salad"
    assert first["collapse"]["signals"]["onset_from"] == "model surprisal"
    assert salad["splice"] - 200 <= first["collapse"]["onset"] <= first["collapse"]["fired_at"] < len(salad["text"]) - 200
    assert second["usable"] and result.status == "ok" and clean in (result.draft_dir / "index.md").read_text()

    from pipeline.generate.attempts import read_unwatched

    kept, findings = read_unwatched(salad["text"], "nl", watched=False)
    assert kept == salad["text"][: salad["splice"]].strip() and findings  # cut back to the page's last sentence
    for language in ("nl", "en"):  # the model's own surprisal watched it while streaming: no second read
        assert read_unwatched(salad["text"], language, watched=True) == (salad["text"], [])


def test_english_salad_the_text_signals_pass_is_read_when_no_probabilities_were_streamed():
    """SmolLM2 continuing a real changelog into salad shaped like it (short indented lines of invented names;
    bench/corpus, calibration split): English's text signals pass it, the embedded model's reading does not."""
    from pipeline.checks.tokens import collapse_of
    from pipeline.generate.attempts import read_unwatched

    corpus = Path(__file__).resolve().parent.parent / "bench" / "corpus" / "degenerate.jsonl"
    salad = next(item for item in map(json.loads, corpus.read_text().splitlines()) if item["id"] == "smollm2-cont-t13-035")
    assert not collapse_of(salad["text"], read=False).detected
    kept, findings = read_unwatched(salad["text"], "en", watched=False)
    assert findings and findings[0].code == "collapse" and "embedded model reading" in findings[0].message
    assert len(kept) <= salad["onset"] and salad["text"].startswith(kept)  # cut back before the salad


def test_english_salad_the_text_signals_pass_stops_the_stream_once_read(write_brief, project, fake):
    """The same real salad streamed by a backend without probabilities (the scripted one, as the HTTP backend): the
    embedded model reads the stream every 16 tokens as it grows, so the stream is stopped soon after the salad
    starts, not at its end, and the section is retried; the clean answer is kept."""
    corpus = Path(__file__).resolve().parent.parent / "bench" / "corpus" / "degenerate.jsonl"
    salad = next(item for item in map(json.loads, corpus.read_text().splitlines()) if item["id"] == "smollm2-cont-t13-035")
    fake.enqueue(salad["text"], CLEAN)
    result = run(write_brief, project, fake)
    first, second = result.manifest["sections"][0]["attempts"]
    assert first["finish_reason"] == "collapse" and first["collapse"]["signal"] == "word_salad"
    assert first["collapse"]["signals"]["onset_from"] == "model surprisal"
    assert first["collapse"]["fired_at"] < len(salad["text"]) - 200  # stopped before the end it would have streamed
    assert first["tokens_after_onset"] <= 64
    assert second["usable"] and result.status == "ok" and CLEAN in (result.draft_dir / "index.md").read_text()


@pytest.mark.parametrize("missing", ["_scorer", "_tokenizer"])
def test_without_the_embedded_model_a_stream_is_judged_by_its_text_alone(write_brief, project, fake, monkeypatch,
                                                                          missing):
    """The embedded model's weights (or its tokenizer) unavailable: nothing reads the stream, nothing fails; the
    salad the text signals pass is kept for the reviewer, as before the reading."""
    from pipeline.checks import tokens

    monkeypatch.setattr(tokens, missing, lambda: None)
    corpus = Path(__file__).resolve().parent.parent / "bench" / "corpus" / "degenerate.jsonl"
    salad = next(item for item in map(json.loads, corpus.read_text().splitlines()) if item["id"] == "smollm2-cont-t13-035")
    fake.enqueue(salad["text"], CLEAN)
    result = run(write_brief, project, fake)
    attempts = result.manifest["sections"][0]["attempts"]
    assert attempts[0]["finish_reason"] in ("stop", "length") and attempts[0]["collapse"] is None
    assert not [f for f in attempts[0]["findings"] if f["code"] == "collapse"]
