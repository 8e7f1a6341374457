"""Does decoding sections together pay on this machine? `generation.mode: auto` asks this module.

Measured, not guessed from the platform: a batch pays where one decode step costs about the same for
several sequences as for one (memory-bound GPUs; a CPU with a real BLAS), and not where a step's cost
grows with the batch (MLX's reference BLAS on a CPU). The answer is kept in the user cache per model,
device and library versions, so the probe (about a second on a CPU) runs once per machine and model."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..paths import cache_root

log = logging.getLogger("pipeline")

PROBE_BATCH = 4
PAYS_AT = 1.5  # batch tokens/s over single-stream tokens/s; below it a batch's extra memory buys too little
PROMPT_TOKENS = 16
STEPS = 4  # timed decode steps per batch size; the fastest counts (the machine is shared and noisy)


@dataclass(frozen=True)
class BatchProbe:
    speedup: float  # tokens/s decoding PROBE_BATCH sequences together ÷ tokens/s decoding one
    cached: bool

    @property
    def pays(self) -> bool:
        return self.speedup >= PAYS_AT

    def describe(self) -> str:
        verdict = "batched" if self.pays else "sequential"
        return (f"{verdict}: {PROBE_BATCH} sequences together decode {self.speedup:.1f}x the tokens/s of one"
                + (" (measured earlier on this machine)" if self.cached else " (measured now)"))


def batch_probe(model, identity: dict) -> BatchProbe:
    """The cached answer for this model and device, or a fresh measurement (then cached)."""
    key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    store = cache_root() / "batch-probe.json"
    known = _read(store)
    if key in known:
        return BatchProbe(float(known[key]["speedup"]), cached=True)
    speedup = measure_speedup(model)
    _write(store, {**known, key: {"speedup": round(speedup, 3), **identity}})
    return BatchProbe(speedup, cached=False)


def measure_speedup(model) -> float:
    single, batch = _step_seconds(model, 1), _step_seconds(model, PROBE_BATCH)
    return PROBE_BATCH * single / batch


def _step_seconds(model, batch: int) -> float:
    """The fastest of STEPS decode steps for `batch` sequences after a short prefill."""
    import mlx.core as mx
    from mlx_lm.models.cache import make_prompt_cache

    cache = make_prompt_cache(model)
    tokens = mx.arange(1, PROMPT_TOKENS + 1)[None].astype(mx.int32)
    mx.eval(model(mx.repeat(tokens, batch, axis=0), cache=cache))
    step = mx.ones((batch, 1), dtype=mx.int32)
    best = float("inf")
    for _ in range(STEPS + 1):  # the first step compiles kernels and is not counted
        began = time.perf_counter()
        mx.eval(model(step, cache=cache))
        best = min(best, time.perf_counter() - began)
    return best


def _read(store: Path) -> dict:
    try:
        known = json.loads(store.read_text())
        return known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        return {}  # no answer yet, or a damaged file: measure again


def _write(store: Path, known: dict) -> None:
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        partial = store.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(known, indent=2) + "\n")
        partial.replace(store)
    except OSError as exc:  # a read-only cache only costs the probe again next run
        log.debug("could not keep the batch probe's answer in %s: %s", store, exc)
