"""An optimised BLAS under MLX on a Linux CPU. MLX's Linux CPU wheel links the reference BLAS it
bundles (~5 GFLOP/s for a float32 matmul); OpenBLAS makes MLX's matmuls ~35x faster on this project's
2-core machine. Nothing changes on macOS (Accelerate) or where MLX runs on a GPU.

OpenBLAS comes from the `scipy-openblas32` wheel, the build NumPy and SciPy ship: DYNAMIC_ARCH (it picks
its kernels for the CPU it runs on) and no libgfortran to find. (A single-target build crashed with
SIGILL on a CPU without AVX-512.) Its symbols carry a `scipy_` prefix, so MLX cannot bind to them
directly: a small C forwarder (native/gemv_forward.c, built with the system's C compiler on first use
and cached) defines the `cblas_sgemm` MLX calls and passes each product on to OpenBLAS. No compiler, or
any other failure: MLX keeps its own BLAS.

The forwarder also sends products with one row (every decode step at batch 1) to sgemv: OpenBLAS's x86
sgemm packs the whole weight matrix even then, which costs ~3x over streaming it once (single-sequence
decode 1.6-1.8x faster, bench/cpu_speed.py)."""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .paths import cache_root

log = logging.getLogger("pipeline")
THREADS_VARIABLE = "OPENBLAS_NUM_THREADS"
DISABLE_VARIABLE = "PIPELINE_CPU_BLAS"  # "reference": MLX's own BLAS; "openblas": no forwarder (benchmarks, bug hunts)
FORWARDER_SOURCE = Path(__file__).parent / "native" / "gemv_forward.c"
_loaded: str | None = None  # what was loaded: "openblas (...)", or None


def blas_in_use() -> str:
    """What run.json records: which BLAS MLX's CPU matmuls use in this process."""
    if sys.platform == "darwin":
        return "accelerate"
    return _loaded or "reference (bundled with mlx)"


def use_fast_blas() -> str | None:
    """Route MLX's matmuls to OpenBLAS if this is Linux, mlx is not imported yet and OpenBLAS can be had."""
    global _loaded
    if _loaded or sys.platform != "linux" or os.environ.get(DISABLE_VARIABLE) == "reference":
        return _loaded
    if "mlx.core" in sys.modules:
        log.debug("mlx was imported before pipeline could load OpenBLAS: MLX keeps its reference BLAS")
        return None
    library = _openblas()
    if library is None:
        return None
    os.environ.setdefault(THREADS_VARIABLE, str(free_cores()))  # read when OpenBLAS loads; the user's value wins
    one_row = os.environ.get(DISABLE_VARIABLE) != "openblas"
    try:
        openblas = ctypes.CDLL(str(library), mode=os.RTLD_NOW)
        _load_forwarder(openblas, one_row)
    except (AttributeError, OSError, subprocess.SubprocessError) as exc:
        log.debug("OpenBLAS not used (%s): MLX keeps its reference BLAS", exc)
        return None
    threads = openblas.scipy_openblas_get_num_threads()
    _loaded = (f"openblas ({library}), {threads} thread{'s' * (threads != 1)}"
               + (", one-row products through sgemv" if one_row else ""))
    return _loaded


def free_cores(sample_s: float = 0.1) -> int:
    """Cores idle right now (over `sample_s`, from /proc/stat), at least one. OpenBLAS's threads wait for each
    other spinning: one more than the free cores halves prefill and decode beside a busy core (2 cores: 84-92
    prefill and ~8.2 decode tokens/s with 2 threads, 157 and ~15.2 with 1; idle, 2 threads are ~20% faster
    than 1; bench/blas_threads.py). Not the load average: it lags a minute (after `make run`'s installation
    it still counted a busy core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        before = _cpu_times()
        time.sleep(sample_s)
        busy = cores * busy_share(before, _cpu_times())  # the machine's share, where this process may run
    except (OSError, ValueError):
        busy = os.getloadavg()[0]
    return max(1, min(cores, cores - round(busy)))


def _cpu_times() -> list[int]:
    with open("/proc/stat", encoding="ascii") as stat:
        return [int(field) for field in stat.readline().split()[1:]]  # the "cpu" line: all cores, in clock ticks


def busy_share(before: list[int], after: list[int]) -> float:
    """The share of CPU time spent busy between two readings of /proc/stat's first line (all cores)."""
    spent = [b - a for a, b in zip(before, after, strict=False)]
    idle = spent[3] + (spent[4] if len(spent) > 4 else 0)  # idle and iowait
    total = sum(spent[:8])  # guest time is counted in user already
    return 0.0 if total <= 0 else (total - idle) / total


def _load_forwarder(openblas: ctypes.CDLL, one_row: bool) -> None:
    """Put the forwarder's cblas_sgemm into the global symbol scope, wired to this OpenBLAS's sgemm (and
    its sgemv for one-row products, unless `one_row` is off)."""
    sgemm = ctypes.cast(openblas.scipy_cblas_sgemm, ctypes.c_void_p)
    sgemv = ctypes.cast(openblas.scipy_cblas_sgemv, ctypes.c_void_p) if one_row else None
    forwarder = ctypes.CDLL(str(_built_forwarder()), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    forwarder.pipeline_gemv_forward_init(sgemm, sgemv)  # before anything can call its cblas_sgemm


def _built_forwarder() -> Path:
    """The forwarder compiled for this source, in the user cache (built once, by the first process)."""
    source = FORWARDER_SOURCE.read_bytes()
    library = cache_root() / "blas" / f"gemv-forward-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if library.is_file():
        return library
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not compiler:
        raise OSError("no C compiler (cc) to build it")
    library.parent.mkdir(parents=True, exist_ok=True)
    staging = library.with_name(library.name + f".{os.getpid()}.tmp")
    try:
        subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", str(staging), str(FORWARDER_SOURCE)],
                       check=True, capture_output=True, timeout=120)
        os.replace(staging, library)  # whole or absent, even with two processes building at once
    finally:
        staging.unlink(missing_ok=True)
    return library


def _openblas() -> Path | None:
    spec = importlib.util.find_spec("scipy_openblas32")  # found without importing it
    folder = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None
    library = folder / "lib" / "libscipy_openblas.so" if folder else None
    return library if library and library.is_file() else None
