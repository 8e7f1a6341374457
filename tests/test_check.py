"""`pipeline check FILE... [--json]`: quality checks on any text a person wants to review."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"
LOOP_TAIL = "the cache holds the buffers and " * 40
DRAFT = f"""---
title: A draft
---

## Good

All fine here. Really fine.

```python
for i in range(3):
    print("same line")
    print("same line")
    print("same line")
```

| day | value |
|-----|-------|
| Mon | 1 |
| Mon | 1 |

## Bad

I wrote about memory. It was fine and people liked it. {LOOP_TAIL.strip()}.

## Thinking

<think>I should not be here.</think> The answer is short.
"""


def check(*args):
    return CliRunner().invoke(main, ["check", *map(str, args)])


def test_clean_file_exits_0(tmp_path):
    path = tmp_path / "clean.md"
    path.write_text("## One\n\nMemory is a budget. I spend it carefully.\n")
    result = check(path)
    assert result.exit_code == 0 and result.stdout.strip() == f"{path}: clean"


def test_findings_exit_3_with_json_shape(tmp_path):
    path = tmp_path / "draft.md"
    path.write_text(DRAFT)
    result = check("--json", path)
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["clean"] is False
    (file_report,) = report["files"]
    collapse = file_report["collapse"]
    assert collapse["detected"] is True and collapse["signal"] == "loop" and collapse["section"] == "Bad"
    bad_start = DRAFT.index("I wrote about memory.")
    assert bad_start < collapse["onset"] < DRAFT.index("## Thinking")
    assert DRAFT[collapse["onset"]:].startswith("the cache holds") or DRAFT[collapse["onset"]:].startswith("cache holds")
    assert collapse["line"] == DRAFT.count("\n", 0, collapse["onset"]) + 1
    assert len(file_report["collapses"]) == 1  # the code block and table repeat by design and are not judged
    assert file_report["think_leaks"] == ["</think>", "<think>"]


def test_mid_sentence_is_reported_with_its_line(tmp_path):
    path = tmp_path / "cut.txt"
    path.write_text("The first sentence is whole.\nThe second one stops in the middle of")
    result = check("--json", path)
    assert result.exit_code == 3
    assert json.loads(result.stdout)["files"][0]["mid_sentence"] == [{"section": None, "line": 2}]
    assert json.loads(result.stdout)["files"][0]["collapse"] == {"detected": False, "onset": None}


def test_plain_output_names_file_line_and_signal(tmp_path):
    path = tmp_path / "draft.md"
    path.write_text(DRAFT)
    lines = check(path).stdout.splitlines()
    assert any(line.startswith(f"{path}:") and "collapse (loop)" in line and "'Bad'" in line for line in lines)
    assert f"{path}: leaked markers: </think>, <think>" in lines


def test_unreadable_input_exits_2(tmp_path):
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00bad")
    for target, says in ((tmp_path / "missing.md", "no such file or folder"), (binary, "cannot read as UTF-8 text")):
        result = check(target)
        assert result.exit_code == 2
        assert f"{target}: {says}" in result.stderr and "Traceback" not in result.stderr


def test_the_runs_own_review_notes_are_not_taken_for_unfinished_sentences(tmp_path):
    path = tmp_path / "edited.md"
    path.write_text("## One\n\nThe cache holds the buffers. It is fine.\n\n"
                    "> **Needs attention:** numbers not found in the data, facts or sources: 2\n\n"
                    "## Two\n\nAll good here.\n")
    result = check(path)
    assert result.exit_code == 3
    assert "mid-sentence" not in result.stdout
    assert f"{path}:5: the run's 'Needs attention' note is still here" in result.stdout
    path.write_text(path.read_text().replace("> **Needs attention:** numbers not found in the data, facts or sources: 2\n\n", ""))
    assert check(path).exit_code == 0


def test_a_checked_pipeline_draft_is_clean(write_brief, project, fake):
    from pipeline.progress import Reporter
    from pipeline.runner import RunOptions, run_brief

    from .conftest import opener_for

    fake.enqueue("Memory comes first on a small machine. Everything follows from it.",
                 "Second, keep every section short. Short sections stay coherent.")
    result = run_brief(write_brief(), RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    assert check(result.draft_dir / "index.md").exit_code == 0


def corpus_salad(tmp_path: Path, sample_id: str) -> tuple[Path, dict]:
    """A degenerate sample of the collapse corpus written to a file."""
    sample = next(item for line in (CORPUS / "degenerate.jsonl").read_text().splitlines()
                  if (item := json.loads(line))["id"] == sample_id)
    path = tmp_path / "salad.md"
    path.write_text(sample["text"])
    return path, sample


def checked_collapse(path: Path) -> dict:
    result = check("--json", path)
    assert result.exit_code == 3
    return json.loads(result.stdout)["files"][0]["collapse"]


def test_check_counts_tokens_so_invented_words_are_caught_where_they_start(tmp_path, monkeypatch):
    """A real changelog with real SmolLM2 word salad (temperature 1.6) spliced in from the collapse
    corpus. The salad's invented words cost many tokens each: with token counts `check` places the
    onset at the splice; reading words only, it fired ~600 characters later. (The model's surprisal,
    which would also move the onset, is off here: this is the token counts alone.)"""
    from pipeline.checks import tokens

    path, sample = corpus_salad(tmp_path, "splice-calibration-017")
    monkeypatch.setattr(tokens, "_scorer", lambda: None)
    assert abs(checked_collapse(path)["onset"] - sample["onset"]) <= 20
    monkeypatch.setattr(tokens, "_tokenizer", lambda: None)  # the embedded model not installed
    assert checked_collapse(path)["onset"] - sample["onset"] > 300


@pytest.mark.mlx
def test_check_locates_a_salad_where_the_model_finds_it_improbable(tmp_path, monkeypatch):
    """SmolLM2 at temperature 1.6 continuing a real table of network services (calibration split). The
    text signals fire well into the salad and place its start 365 characters after it; the embedded
    model's surprisal puts it where it is. Without the model, the text signals' onset stands."""
    from pipeline.checks import tokens

    path, sample = corpus_salad(tmp_path, "smollm2-cont-t16-116")
    located = checked_collapse(path)
    assert abs(located["onset"] - sample["onset"]) <= 10
    assert located["signals"]["onset_from"] == "model surprisal"
    monkeypatch.setattr(tokens, "_scorer", lambda: None)  # the embedded model's weights unavailable
    unlocated = checked_collapse(path)
    assert unlocated["onset"] - sample["onset"] > 300 and "onset_from" not in unlocated["signals"]


@pytest.mark.mlx
def test_check_read_finds_salad_the_text_signals_pass_and_passes_what_people_wrote(tmp_path):
    """`--read`: the embedded model reads the whole text. Real SmolLM2 output at a high temperature
    (calibration split) that the text signals pass: its first 32 tokens average 8.7 nats a token,
    word salad. A real NEWS section full of version numbers and names, whose 16-token windows cross
    the generation bar (7.4 nats), stays under the read bar. With --no-read the salad passes."""
    def collapse(*args) -> dict:
        return json.loads(check("--json", *args).stdout)["files"][0]["collapse"]

    path, _ = corpus_salad(tmp_path, "smollm2-hot-09")
    assert not collapse("--no-read", path)["detected"]
    found = collapse("--read", path)
    assert found["signal"] == "word_salad" and found["signals"]["onset_from"] == "model surprisal"
    assert found["signals"]["surprisal_nats"] >= 8.0
    with gzip.open(CORPUS / "coherent_real.jsonl.gz", "rt") as fh:
        news = next(item for item in map(json.loads, fh) if item["id"] == "deb:librsvg2-2/NEWS.gz#1")
    (tmp_path / "news.md").write_text(news["text"])
    assert not collapse("--read", tmp_path / "news.md")["detected"]
