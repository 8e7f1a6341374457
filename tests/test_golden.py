"""A whole run through the scripted backend, compared file by file with a stored expected tree.

Volatile values (run id, timestamps, timings, versions, paths) are normalised first.
Regenerate after an intended change with: PIPELINE_UPDATE_GOLDEN=1 pytest tests/test_golden.py"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeline.backends.script import ScriptBackend
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import copy_examples, opener_for

GOLDEN = Path(__file__).parent / "golden"
SCRIPT = [
    "Thirty-five gigabytes of weights sound small next to 64 GB. The operating system, the cache and "
    "the context all want their share, and they want it at the same time.",
    "<think>List the parts.</think>Weights take 35 GB. The OS and my apps take about 10 GB. "
    "What is left must hold the KV cache and leave headroom.",
    "I set three limits: the wired limit, the cache limit and the memory limit. " + "Each one " * 300,  # a loop
    "I set three limits: the wired limit, the cache limit and the memory limit. Each one protects "
    "something different.",  # the retry after the collapse
    "",  # section 4 stays unusable on both attempts: flagged, the draft is still written
    "<think>Only reasoning, and the cap cuts it off before any answer",
    "Short",
    "Cron starts the job, the job writes the draft, and the process exits. Nothing leaks across days.",
]
VOLATILE_KEYS = {"run_id", "files_sha256", "started_at", "wall_s", "tok_s", "prompt_tok_s", "environment", "totals", "path",
                 "sha256"}


def normalise_json(value):
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS else normalise_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_json(v) for v in value]
    return value


def normalise(name: str, text: str) -> str:
    if name == "run.json":
        return json.dumps(normalise_json(json.loads(text)), indent=2, ensure_ascii=False) + "\n"
    return re.sub(r"run_id: \S+", "run_id: <volatile>", text)


def compare_with_golden(draft_dir: Path, name: str) -> list[str]:
    """Compare a draft folder with tests/golden/<name>/ (or rewrite that folder when asked to)."""
    golden = GOLDEN / name
    # review.html shows timings throughout; tests/test_review_pages.py checks it in a browser instead.
    produced = {p.name: normalise(p.name, p.read_text()) for p in sorted(draft_dir.iterdir()) if p.name != "review.html"}
    if os.environ.get("PIPELINE_UPDATE_GOLDEN"):
        golden.mkdir(parents=True, exist_ok=True)
        for file_name, text in produced.items():
            (golden / file_name).write_text(text)
    expected = {p.name: p.read_text() for p in sorted(golden.iterdir())}
    assert sorted(produced) == sorted(expected)
    for file_name in expected:
        assert produced[file_name] == expected[file_name], f"{file_name} differs from tests/golden/{name}/{file_name}"
    return sorted(produced)


def test_fake_run_matches_golden_files(project):
    brief = copy_examples(project, "post.yaml")
    brief.write_text(brief.read_text().replace("model: builtin:smollm2", "model: fake-model")
                     + "date: 2026-11-23\n")
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(ScriptBackend(SCRIPT)))
    assert compare_with_golden(result.draft_dir, "post") == ["index.html", "index.md", "run.json"]
    assert result.status == "needs_attention"  # the fourth section stayed empty after its attempts
    third = result.manifest["sections"][2]["attempts"]
    assert [a["finish_reason"] for a in third] == ["collapse", "stop"]
    assert third[0]["collapse"]["signal"] == "loop" and third[0]["tokens_after_onset"] <= 64
    assert third[1]["settings_changed"] == {"repetition_penalty": 1.15, "presence_penalty": 0.3}


NEWSLETTER_SCRIPT = [
    "Sure! The most important items are the outage and the MoE speed-up.",  # no JSON: the stage asks again
    '{"picks": [{"id": 6, "reason": "Exchange outages are when slippage losses cluster."}, '
    '{"id": 5, "reason": "Faster MoE decoding on the same Mac."}, {"id": 2, "reason": "Fees went up 12%."}]}',
    "<think>46 round trips, 39.1% wins.</think>The lesson is to trade less when the tape is quiet. "
    "The win rate was 39.1% on 46 round-trips, and most losses came from stops set too tight. "
    "Next week I widen them to 3% and read https://example.org/not-a-source before changing anything else.",
]


def test_newsletter_run_matches_golden_files(project, tmp_path, monkeypatch):
    """The example week offline: data blocks, a news pick repaired on its second attempt, prose with a
    thinking block, an unverified number and a link that is not in the feeds."""
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    brief = copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    options = RunOptions(out_root=project / "output", offline=True)
    result = run_brief(brief, options, Reporter(), opener_for(ScriptBackend(NEWSLETTER_SCRIPT)))
    files = compare_with_golden(result.draft_dir, "newsletter")
    assert files == ["email.html", "email.txt", "index.html", "index.md", "run.json"]
    assert result.status == "needs_attention"  # the foreign link
