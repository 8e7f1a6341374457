"""An optimised BLAS under MLX on a Linux CPU. MLX's Linux CPU wheel links the reference BLAS it
bundles (~5 GFLOP/s for a float32 matmul); loading OpenBLAS with global symbols before mlx is imported
makes MLX's matmuls use it (~35x on this project's 2-core machine). Nothing changes on macOS
(Accelerate) or where MLX runs on a GPU.

OpenBLAS comes from the `cmeel-openblas` wheel (standard symbol names), which needs libgfortran.so.5:
the system's if there is one, else the copy the mlx[cpu] wheel bundles under another name. For that
case a private folder in the user cache holds OpenBLAS with its RPATH set to itself (patchelf) and the
bundled libgfortran under the name OpenBLAS asks for. Any failure falls back to MLX's own BLAS.

OpenBLAS's x86 sgemm packs the whole weight matrix even when the product has one row (every decode
step at batch 1), which costs ~3x over streaming it once. A small C forwarder (native/gemv_forward.c,
built with the system's C compiler on first use and cached) sits ahead of OpenBLAS and sends those
products to sgemv: single-sequence decode 1.6-1.8x faster (bench/cpu_speed.py). No compiler: OpenBLAS alone."""

from __future__ import annotations

import ctypes
import ctypes.util
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
    """Load OpenBLAS globally if this is Linux, mlx is not imported yet and OpenBLAS can be had."""
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
    try:
        loadable = _loadable(library)
        openblas = ctypes.CDLL(str(loadable), mode=os.RTLD_NOW)  # local for now: the forwarder must come first
    except (OSError, subprocess.CalledProcessError) as exc:
        log.debug("OpenBLAS not loaded (%s): MLX keeps its reference BLAS", exc)
        return None
    forwarding = os.environ.get(DISABLE_VARIABLE) != "openblas" and _load_forwarder(openblas)
    ctypes.CDLL(str(loadable), mode=os.RTLD_NOW | os.RTLD_GLOBAL)  # now global, behind the forwarder
    threads = openblas.openblas_get_num_threads() if hasattr(openblas, "openblas_get_num_threads") else 0
    _loaded = (f"openblas ({loadable})" + (f", {threads} thread{'s' * (threads != 1)}" if threads else "")
               + (", one-row products through sgemv" if forwarding else ""))
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


def _load_forwarder(openblas: ctypes.CDLL) -> bool:
    """Put the gemv forwarder into the global symbol scope, wired to this OpenBLAS's sgemm and sgemv."""
    try:
        targets = [ctypes.cast(openblas.cblas_sgemm, ctypes.c_void_p), ctypes.cast(openblas.cblas_sgemv, ctypes.c_void_p)]
        forwarder = ctypes.CDLL(str(_built_forwarder()), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    except (AttributeError, OSError, subprocess.SubprocessError) as exc:
        log.debug("gemv forwarder not used (%s): OpenBLAS's sgemm serves one-row products too", exc)
        return False
    forwarder.pipeline_gemv_forward_init(*targets)  # before anything can call its cblas_sgemm
    return True


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


def _site_dir(package: str) -> Path | None:
    """The site-packages folder a package is installed in (found without importing it)."""
    spec = importlib.util.find_spec(package)
    locations = spec.submodule_search_locations if spec else None
    return Path(next(iter(locations))).parent if locations else None


def _openblas() -> Path | None:
    site = _site_dir("cmeel")  # cmeel-openblas installs beside the cmeel package
    library = site / "cmeel.prefix" / "lib" / "libopenblas.so.0" if site else None
    return library if library and library.is_file() else None


def _loadable(library: Path) -> Path:
    """OpenBLAS needs libgfortran.so.5: a system one is found by name; otherwise a private copy of
    OpenBLAS finds mlx's bundled libgfortran beside itself."""
    if ctypes.util.find_library("gfortran"):
        return library
    return _private_copy(library) / "libopenblas.so.0"


def _private_copy(library: Path) -> Path:
    bundled = _bundled_fortran()
    if bundled is None:
        raise OSError("no libgfortran.so.5 on this system and none bundled with mlx")
    folder = cache_root() / "blas" / f"openblas-{library.stat().st_size}-{int(library.stat().st_mtime)}"
    if (folder / "libopenblas.so.0").is_file():
        return folder
    staging = folder.with_name(folder.name + f".{os.getpid()}.tmp")
    try:
        staging.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, staging / "libopenblas.so.0")
        gfortran, *others = bundled
        shutil.copy2(gfortran, staging / "libgfortran.so.5")
        for other in others:  # libquadmath, under the bundled name libgfortran asks for
            shutil.copy2(other, staging / other.name)
        for lib in ("libopenblas.so.0", "libgfortran.so.5"):
            subprocess.run([_patchelf(), "--set-rpath", "$ORIGIN", str(staging / lib)], check=True, capture_output=True)
        if not folder.exists():  # another process may have made it meanwhile: then theirs is used
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _bundled_fortran() -> list[Path] | None:
    site = _site_dir("mlx")
    if site is None:
        return None
    libs = site / "mlx_cpu.libs"
    gfortran = sorted(libs.glob("libgfortran-*.so.5*"))
    return [gfortran[0], *sorted(libs.glob("libquadmath-*.so*"))] if gfortran else None


def _patchelf() -> str:
    found = shutil.which("patchelf") or shutil.which("patchelf", path=str(Path(sys.executable).parent))
    if not found:
        raise OSError("patchelf is not installed")
    return found
