"""OpenBLAS under MLX on a Linux CPU, and the embedded model dense in float32 there: each in a fresh
process (the BLAS is chosen once per process, before mlx is imported), checked for the right numbers,
not only for speed (speed is measured in bench/cpu_speed.py)."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux" or platform.machine() != "x86_64",
                                reason="OpenBLAS is loaded on Linux x86-64 CPUs only")

PROBE = """
import hashlib, json, numpy as np
import pipeline
from pipeline.cpu_blas import blas_in_use
import mlx.core as mx
mx.set_default_device(mx.cpu)  # the CPU's BLAS, also where a GPU is the default
a = np.random.default_rng(0).standard_normal((384, 512)).astype(np.float32)
b = np.random.default_rng(1).standard_normal((512, 256)).astype(np.float32)
product = np.array(mx.array(a) @ mx.array(b))
print(json.dumps({"blas": blas_in_use(), "max_error": float(np.abs(product - a @ b).max()),
                  "bits": hashlib.sha256(product.tobytes()).hexdigest()}))
"""


def probe(code: str = PROBE, **env) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, **env})
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_openblas_is_used_and_gives_the_same_numbers(tmp_path):
    result, reference = probe(PIPELINE_CACHE_DIR=str(tmp_path)), probe(PIPELINE_CPU_BLAS="reference")
    assert result["blas"].startswith("openblas") and result["max_error"] < 1e-3
    # MLX's product really came from another BLAS: the same numbers to 1e-3, summed in another order.
    assert result["bits"] != reference["bits"]


def test_reference_blas_on_request():
    result = probe(PIPELINE_CPU_BLAS="reference")
    assert result["blas"].startswith("reference") and result["max_error"] < 1e-3


def test_mlx_imported_first_keeps_its_own_blas():
    code = PROBE.replace("\nimport pipeline\n", "\nimport mlx.core\nimport pipeline\n")
    assert probe(code)["blas"].startswith("reference")


ONE_ROW = """
import ctypes, json, numpy as np
import pipeline
from pipeline.cpu_blas import blas_in_use
import mlx.core as mx
mx.set_default_device(mx.cpu)  # the CPU's BLAS, also where a GPU is the default
rng, errors = np.random.default_rng(0), []
for m, k, n in [(1, 576, 4096), (1, 64, 300), (300, 64, 1), (1, 5, 1), (3, 4, 5)]:
    a, b, c = (rng.standard_normal(shape).astype(np.float32) for shape in ((m, k), (k, n), (m, n)))
    for a_stored_transposed in (False, True):
        for b_stored_transposed in (False, True):  # x @ W.T is how a linear layer multiplies
            x = mx.array(a.T.copy()).T if a_stored_transposed else mx.array(a)
            w = mx.array(b.T.copy()).T if b_stored_transposed else mx.array(b)
            errors.append(float(np.abs(np.array(x @ w) - a @ b).max()))
            errors.append(float(np.abs(np.array(mx.addmm(mx.array(c), x, w, alpha=0.5, beta=2.0))
                                       - (0.5 * a @ b + 2 * c)).max()))
q, keys = rng.standard_normal((1, 9, 1, 64)).astype(np.float32), rng.standard_normal((1, 9, 300, 64)).astype(np.float32)
errors.append(float(np.abs(np.array(mx.array(q) @ mx.array(keys).swapaxes(-1, -2)) - q @ keys.swapaxes(-1, -2)).max()))
try:
    counter = ctypes.CDLL(None).pipeline_gemv_forwarded
    counter.restype = ctypes.c_long
    forwarded = counter()
except AttributeError:
    forwarded = None
print(json.dumps({"blas": blas_in_use(), "max_error": max(errors), "forwarded": forwarded}))
"""


def test_one_row_products_go_through_sgemv_and_give_the_same_numbers(tmp_path):
    result = probe(ONE_ROW, PIPELINE_CACHE_DIR=str(tmp_path))  # an empty cache: the forwarder is built here
    assert "one-row products through sgemv" in result["blas"] and result["max_error"] < 1e-3
    assert result["forwarded"] >= 8 * 4 + 1  # every one-row or one-column case above, and the attention scores
    assert list((tmp_path / "blas").glob("gemv-forward-*.so"))


def test_forwarder_off_on_request():
    result = probe(ONE_ROW, PIPELINE_CPU_BLAS="openblas")
    assert result["blas"].startswith("openblas") and "sgemv" not in result["blas"]
    assert result["forwarded"] == 0 and result["max_error"] < 1e-3  # every product through sgemm


def test_without_a_c_compiler_mlx_keeps_its_own_blas(tmp_path):
    """OpenBLAS's symbols are prefixed (scipy_cblas_sgemm): only the compiled forwarder can route to them."""
    result = probe(ONE_ROW, PIPELINE_CACHE_DIR=str(tmp_path), CC=str(tmp_path / "no-such-cc"))
    assert result["blas"].startswith("reference") and result["max_error"] < 1e-3
    assert result["forwarded"] is None


MODEL = """
import json
from pipeline.backends.mlx import MLXBackend
from pipeline.backends.base import Request
from pipeline.config import MemorySettings, SamplingSettings
backend = MLXBackend.load("builtin:smollm2", MemorySettings())
messages = ({"role": "user", "content": "Name the capital of France in one sentence."},)
request = Request(backend.render(messages, False), SamplingSettings(max_tokens=24, temperature=0.0), 0)
text = "".join(d.text for d in backend.stream(request))
print(json.dumps({"weights": backend.describe().weights, "text": text}))
"""


@pytest.mark.mlx
def test_embedded_model_runs_dense_on_the_cpu_and_says_so():
    dense, stored = probe(MODEL), probe(MODEL, PIPELINE_CPU_WEIGHTS="stored")
    assert dense["weights"] == "float32 (dequantized for the CPU)" and stored["weights"] == "as stored"
    assert "Paris" in dense["text"] and "Paris" in stored["text"]  # the same model, both ways


def test_openblas_threads_are_the_users_setting_or_the_free_cores(monkeypatch):
    """OpenBLAS's threads spin waiting for each other: more threads than free cores halves its speed
    (bench/blas_threads.py). The count is chosen before OpenBLAS loads, and the user's setting wins."""
    assert ", 1 thread," in probe(OPENBLAS_NUM_THREADS="1")["blas"]
    assert ", 2 threads," in probe(OPENBLAS_NUM_THREADS="2")["blas"]
    from pipeline.cpu_blas import busy_share, free_cores

    assert busy_share([100, 0, 50, 1000, 5, 0, 0, 0], [100, 0, 50, 1040, 5, 0, 0, 0]) == 0
    assert busy_share([100, 0, 50, 1000, 5, 0, 0, 0], [110, 0, 60, 1020, 5, 0, 0, 0]) == 0.5  # user, system
    assert busy_share([0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 10, 10, 0, 0, 0]) == 0  # waiting for the disk is idle
    cores = len(os.sched_getaffinity(0))
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # a real busy core beside it
    try:
        time.sleep(0.3)
        assert free_cores() <= max(1, cores - 1)
        # unset, pipeline chooses: OpenBLAS alone would start a thread for every core, the busy one too
        chosen = re.search(r", (\d+) threads?,", probe()["blas"])
        assert chosen and int(chosen.group(1)) <= max(1, cores - 1)
    finally:
        hog.kill()


def test_the_openblas_build_picks_its_kernels_for_the_cpu_it_runs_on():
    """A single-target build (cmeel-openblas's SKYLAKEX) died with SIGILL on an AVX2-only CPU at the first
    small product: the wheel used must be a DYNAMIC_ARCH build."""
    import ctypes

    from pipeline.cpu_blas import _openblas

    library = _openblas()
    assert library is not None, "scipy-openblas32 is not installed: run make setup"
    config = ctypes.CDLL(str(library)).scipy_openblas_get_config
    config.restype = ctypes.c_char_p
    assert b"DYNAMIC_ARCH" in config()
