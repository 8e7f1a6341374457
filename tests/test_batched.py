"""Batched generation: sections decode together, a collapsing one leaves its batch at once and
retries in the next round, drafts match sequential generation, the model loads once for many
briefs, and memory stays flat over many drafts."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from pipeline.backends.script import ScriptBackend
from pipeline.cli import main
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .tiny_models import ANSWER, ANSWER_CHAIN, THINKING_CHAIN, build_scripted_qwen3

LOOP = "The cache holds the buffers. " + "the cache holds the buffers and " * 60
SCRIPTS = {
    "One": ["Memory comes first on a small machine. Everything follows from it."],
    "Two": [LOOP, "Second, keep every section short. Short sections stay coherent."],
    "Three": ["Third, measure the peak memory. Then trust the number you measured."],
}
BRIEF = """\
title: Batched
date: 2026-11-23
generation: {{mode: {mode}, max_batch: {max_batch}}}
stages:
  draft: {{max_tokens: 300, attempts: 3}}
sections:
  - {{heading: One, instruction: Write one., words: 20}}
  - {{heading: Two, instruction: Write two., words: 20}}
  - {{heading: Three, instruction: Write three., words: 20}}
"""


def by_heading():
    scripts = {k: list(v) for k, v in SCRIPTS.items()}

    def respond(request):
        return scripts[request.label].pop(0)
    return respond


def run(write_brief, project, backend, mode="batched", max_batch=8, name="post.yaml", out="output"):
    brief = write_brief(BRIEF.format(mode=mode, max_batch=max_batch), name)
    return run_brief(brief, RunOptions(out_root=project / out), Reporter(), lambda m, mem: backend)


def test_sections_decode_together_and_a_collapse_retries_in_the_next_round(write_brief, project, monkeypatch):
    from pipeline.backends.script import ScriptBatchStream

    stopped, stop = [], ScriptBatchStream.stop
    monkeypatch.setattr(ScriptBatchStream, "stop", lambda self, i: stopped.append(i) or stop(self, i))
    fake = ScriptBackend(responder=by_heading())
    result = run(write_brief, project, fake)
    assert stopped == [1]  # "Two" was dropped from its batch the moment it collapsed
    assert fake.batches == [3, 1]  # everyone first, then the one retry
    two = result.manifest["sections"][1]["attempts"]
    assert [a["finish_reason"] for a in two] == ["collapse", "stop"]
    assert two[0]["tokens_after_onset"] <= 64
    assert 0 < two[0]["tokens_out"] <= two[0]["tokens_after_onset"] + 30  # stopped near the onset, not at the cap
    assert two[1]["settings_changed"]["repetition_penalty"] == 1.15
    assert result.status == "ok"


def test_batched_and_sequential_drafts_are_the_same(write_brief, project):
    batched_fake, sequential_fake = ScriptBackend(responder=by_heading()), ScriptBackend(responder=by_heading())
    batched = run(write_brief, project, batched_fake, out="a")
    sequential = run(write_brief, project, sequential_fake, mode="sequential", out="b")
    assert batched_fake.batches and sequential_fake.batches == []  # the two modes really differ
    strip = lambda path: re.sub(r"run_id: \S+", "", path.read_text())  # noqa: E731
    for name in ("index.md", "index.html"):
        assert strip(batched.draft_dir / name) == strip(sequential.draft_dir / name)


def test_max_batch_limits_each_round(write_brief, project):
    fake = ScriptBackend(responder=by_heading())
    run(write_brief, project, fake, max_batch=2)
    assert fake.batches == [2, 2]  # One+Two, then Three + Two's retry


def test_auto_follows_what_the_backend_says_pays_on_its_device(write_brief, project):
    cpu_like = ScriptBackend(responder=by_heading())
    sequential = run(write_brief, project, cpu_like, mode="auto", out="cpu")
    assert cpu_like.batches == []
    assert sequential.manifest["generation"] == {"mode": "sequential", "requested": "auto", "max_batch": 8}
    gpu_like = ScriptBackend(responder=by_heading(), batching_pays=True)
    batched = run(write_brief, project, gpu_like, mode="auto", out="gpu")
    assert gpu_like.batches == [3, 1]
    assert batched.manifest["generation"]["mode"] == "batched"


def test_totals_count_overlapping_batched_calls_once(write_brief, project):
    result = run(write_brief, project, ScriptBackend(responder=by_heading(), batching_pays=True), mode="batched")
    totals, attempts = result.manifest["totals"], [a for s in result.manifest["sections"] for a in s["attempts"]]
    assert totals["generation_s"] <= totals["total_s"]
    assert totals["generation_s"] < sum(a["wall_s"] for a in attempts)  # three calls ran at once, not one by one


@pytest.mark.mlx
def test_the_batch_probe_measures_once_per_model_and_device(scripted, tmp_path, monkeypatch):
    from pipeline.backends.batch_probe import PAYS_AT, batch_probe
    from pipeline.backends.mlx import MLXBackend, _probe_identity
    from pipeline.config import MemorySettings

    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    backend = MLXBackend.load(str(scripted), MemorySettings())
    first = backend.batching
    assert first is not None and not first.cached and first.speedup > 0
    assert backend.capabilities.batching_pays == (first.speedup >= PAYS_AT)
    again = MLXBackend.load(str(scripted), MemorySettings()).batching
    assert again is not None and again.cached and again.speedup == pytest.approx(first.speedup, abs=1e-3)
    other_device = batch_probe(backend._model, {**_probe_identity(backend.resolved, backend.weights), "device": "elsewhere"})
    assert not other_device.cached  # another device, BLAS or weight format is measured anew
    (tmp_path / "cache" / "batch-probe.json").write_text("{not json")
    assert not MLXBackend.load(str(scripted), MemorySettings()).batching.cached  # a damaged answer is re-measured
    assert "decode" in backend.describe().batching


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    return build_scripted_qwen3(tmp_path_factory.mktemp("scripted"), {**THINKING_CHAIN, **ANSWER_CHAIN})


REAL = """\
title: Real batch {n}
date: 2026-11-23
model: {model}
generation: {{mode: {mode}}}
stages:
  draft: {{max_tokens: 40, temperature: 0.0}}
sections:
  - {{heading: One, instruction: Write one., words: 20}}
  - {{heading: Two, instruction: Write two., words: 20, enable_thinking: true}}
  - {{heading: Three, instruction: Write three., words: 20}}
"""


@pytest.mark.mlx
def test_real_mlx_batch_matches_sequential_and_reuses_the_prefix(scripted, write_brief, project):
    drafts = {}
    for mode in ("batched", "sequential"):
        brief = write_brief(REAL.format(n=mode, model=scripted, mode=mode), f"{mode}.yaml")
        result = run_brief(brief, RunOptions(out_root=project / mode), Reporter())
        drafts[mode] = result
        assert all(s["attempts"][0]["prefix_tokens_reused"] > 0 for s in result.manifest["sections"])
    body = lambda r: (r.draft_dir / "index.md").read_text().split("---\n", 2)[2]  # noqa: E731
    assert body(drafts["batched"]) == body(drafts["sequential"])
    assert body(drafts["batched"]).count(f"\n\n{ANSWER}\n") == 3 and "planning" not in body(drafts["batched"])


@pytest.mark.mlx
def test_memory_stays_flat_over_twenty_drafts_in_one_process(scripted, write_brief, project):
    import mlx.core as mx

    from pipeline.backends.mlx import MLXBackend
    from pipeline.config import MemorySettings

    backend = MLXBackend.load(str(scripted), MemorySettings())
    readings = []
    for n in range(20):
        brief = write_brief(REAL.format(n=n, model=scripted, mode="batched"), f"b{n}.yaml")
        run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), lambda m, mem: backend)
        readings.append((mx.get_active_memory(), mx.get_cache_memory()))
    active = [a for a, _ in readings]
    assert max(active[2:]) <= active[2] * 1.05 + 64 * 1024  # no growth after warm-up
    assert max(c for _, c in readings) <= backend.budget.cache_limit
    assert mx.set_cache_limit(backend.budget.cache_limit) == backend.budget.cache_limit  # the limit was applied


@pytest.mark.mlx
def test_several_briefs_in_one_invocation_load_the_model_once(scripted, write_brief, project, monkeypatch):
    from pipeline.backends import mlx as mlx_backend

    loads = []
    real_load = mlx_backend._load_model
    monkeypatch.setattr(mlx_backend, "_load_model", lambda *args: loads.append(args) or real_load(*args))
    one_section = REAL.split("  - {{heading: Two")[0]  # the tiny model writes one sentence: more would repeat it
    briefs = [write_brief(one_section.format(n=n, model=scripted, mode="batched"), f"m{n}.yaml") for n in range(3)]
    result = CliRunner().invoke(main, ["run", *map(str, briefs), "--out", str(project / "output"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["runs"]) == 3 and report["status"] == "ok"
    assert len(loads) == 1
