"""A whole run through the scripted backend, compared file by file with a stored expected tree.

Volatile values (run id, timestamps, timings, versions, paths) are normalised first.
Regenerate after an intended change with: PIPELINE_UPDATE_GOLDEN=1 pytest tests/test_golden.py"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from pipeline.backends.fake import FakeBackend
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import REPO, opener_for

GOLDEN = Path(__file__).parent / "golden" / "post"
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
VOLATILE_KEYS = {"run_id", "started_at", "wall_s", "tok_s", "prompt_tok_s", "environment", "totals", "path", "sha256"}


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


def test_fake_run_matches_golden_files(project):
    brief = project / "briefs" / "post.yaml"
    brief.write_text((REPO / "briefs" / "post.yaml").read_text().replace("model: builtin:smollm2", "model: fake-model")
                     + "date: 2026-11-23\n")
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(FakeBackend(SCRIPT)))
    produced = {p.name: normalise(p.name, p.read_text()) for p in sorted(result.draft_dir.iterdir())}
    if os.environ.get("PIPELINE_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in produced.items():
            (GOLDEN / name).write_text(text)
    expected = {p.name: p.read_text() for p in sorted(GOLDEN.iterdir())}
    assert sorted(produced) == sorted(expected) == ["index.html", "index.md", "run.json"]
    for name in expected:
        assert produced[name] == expected[name], f"{name} differs from tests/golden/post/{name}"
    assert result.status == "needs_attention"  # the fourth section stayed empty after its attempts
    third = result.manifest["sections"][2]["attempts"]
    assert [a["finish_reason"] for a in third] == ["collapse", "stop"]
    assert third[0]["collapse"]["signal"] == "loop" and third[0]["tokens_after_onset"] <= 64
    assert third[1]["settings_changed"] == {"repetition_penalty": 1.15, "presence_penalty": 0.3}
