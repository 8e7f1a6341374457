"""Resume: finished sections are kept under output/.pipeline/sections, so a run interrupted by a real
SIGINT, SIGTERM or SIGKILL and started again generates only the rest, and writes the same draft as a run
that was never interrupted. A real tiny MLX model (random weights, Qwen3-MoE shape) generates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.generate.cache import SectionCache

from .tiny_models import build_random_qwen3_moe

BRIEF = """\
title: Resumable
date: 2026-11-23
model: {model}
generation: {{mode: sequential}}
stages:
  draft: {{max_tokens: 24, temperature: 0.8, seed: 5, attempts: 2}}
sections:
  - {{heading: One, instruction: Write the first part., words: 20}}
  - {{heading: Two, instruction: Write the second part., words: 20}}
  - {{heading: Three, instruction: Write the third part., words: 20}}
  - {{heading: Four, instruction: Write the last part., words: 20}}
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return build_random_qwen3_moe(tmp_path_factory.mktemp("moe"))


def pipeline(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "run", *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, **popen)


def finished(*args: str) -> tuple[int, str, str]:
    proc = pipeline(*args)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def body(draft: Path) -> str:
    """index.md without its front matter (which names the run)."""
    return (draft / "index.md").read_text().split("---\n", 2)[2]


@pytest.mark.mlx
@pytest.mark.parametrize("sig, code, kept", [(signal.SIGINT, 130, 2), (signal.SIGTERM, 143, 2), (signal.SIGKILL, -9, 2),
                                             (signal.SIGTERM, 143, 3)])
def test_an_interrupted_run_resumes_and_writes_the_same_draft(model, project, write_brief, sig, code, kept):
    brief = write_brief(BRIEF.format(model=model))
    reference, out = project / "reference", project / "output"
    assert finished(str(brief), "--out", str(reference))[0] in (0, 3)

    proc = pipeline(str(brief), "--out", str(out), env={"PIPELINE_FAILPOINT": f"cached-{kept}"})
    assert proc.stderr is not None
    for line in proc.stderr:  # a finished section has just been kept
        if f"failpoint cached-{kept}" in line:
            break
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode == code
    assert not list(out.glob("posts/*/index.md"))  # no draft yet
    assert len(list((out / ".pipeline" / "sections").glob("*.json"))) == kept

    assert finished(str(brief), "--out", str(out))[0] in (0, 3)
    draft = next((out / "posts").iterdir())
    manifest = json.loads((draft / "run.json").read_text())
    assert [s["from_cache"] for s in manifest["sections"]] == [True] * kept + [False] * (4 - kept)
    assert body(draft) == body(next((reference / "posts").iterdir()))  # as if never interrupted
    full = json.loads((next((reference / "posts").iterdir()) / "run.json").read_text())["totals"]["tokens_out"]
    assert manifest["totals"]["tokens_out"] < full  # only the sections after the interruption were generated


@pytest.mark.mlx
def test_fresh_generates_everything_again(model, project, write_brief):
    brief = write_brief(BRIEF.format(model=model))
    out = project / "output"
    assert finished(str(brief), "--out", str(out))[0] in (0, 3)
    assert finished(str(brief), "--out", str(out), "--force", "--fresh")[0] in (0, 3)
    manifest = json.loads((next((out / "posts").iterdir()) / "run.json").read_text())
    assert not any(s["from_cache"] for s in manifest["sections"])
    assert finished(str(brief), "--out", str(out), "--force")[0] in (0, 3)
    manifest = json.loads((next((out / "posts").iterdir()) / "run.json").read_text())
    assert all(s["from_cache"] for s in manifest["sections"])


@pytest.mark.mlx
def test_a_changed_seed_or_prompt_is_a_miss_and_a_damaged_entry_is_generated_again(model, project, write_brief):
    brief = write_brief(BRIEF.format(model=model))
    out = project / "output"
    assert finished(str(brief), "--out", str(out))[0] in (0, 3)
    brief.write_text(brief.read_text().replace("seed: 5", "seed: 6").replace("the last part", "the final part"))
    entries = sorted((out / ".pipeline" / "sections").glob("*.json"))
    entries[0].write_text("{damaged")
    assert finished(str(brief), "--out", str(out), "--force")[0] in (0, 3)
    manifest = json.loads((next((out / "posts").iterdir()) / "run.json").read_text())
    assert not any(s["from_cache"] for s in manifest["sections"])


def test_the_cache_is_bounded_by_count_and_age(tmp_path, monkeypatch):
    from pipeline.backends import ModelInfo
    from pipeline.generate import cache as cache_module

    folder = tmp_path / "sections"
    folder.mkdir()
    now = time.time()
    for n in range(6):
        entry = folder / f"{n}.json"
        entry.write_text("{}")
        os.utime(entry, (now - n * 60, now - n * 60))
    old = folder / "old.json"
    old.write_text("{}")
    os.utime(old, (now - 40 * 86400, now - 40 * 86400))
    monkeypatch.setattr(cache_module, "MAX_ENTRIES", 4)
    assert SectionCache(folder, ModelInfo("m", "mlx")).clean() == 3
    assert sorted(p.name for p in folder.iterdir()) == ["0.json", "1.json", "2.json", "3.json"]
