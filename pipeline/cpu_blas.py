"""An optimised BLAS under MLX on a Linux CPU. MLX's Linux CPU wheel links the reference BLAS it
bundles (~5 GFLOP/s for a float32 matmul); loading OpenBLAS with global symbols before mlx is imported
makes MLX's matmuls use it (~35x on this project's 2-core machine). Nothing changes on macOS
(Accelerate) or where MLX runs on a GPU.

OpenBLAS comes from the `cmeel-openblas` wheel (standard symbol names), which needs libgfortran.so.5:
the system's if there is one, else the copy the mlx[cpu] wheel bundles under another name. For that
case a private folder in the user cache holds OpenBLAS with its RPATH set to itself (patchelf) and the
bundled libgfortran under the name OpenBLAS asks for. Any failure falls back to MLX's own BLAS."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .paths import cache_root

log = logging.getLogger("pipeline")
DISABLE_VARIABLE = "PIPELINE_CPU_BLAS"  # "reference": keep MLX's own BLAS (benchmarks, bug hunts)
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
    try:
        loadable = _loadable(library)
        ctypes.CDLL(str(loadable), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
    except (OSError, subprocess.CalledProcessError) as exc:
        log.debug("OpenBLAS not loaded (%s): MLX keeps its reference BLAS", exc)
        return None
    _loaded = f"openblas ({loadable})"
    return _loaded


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
