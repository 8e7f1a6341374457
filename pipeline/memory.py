"""MLX memory budget: limits derived from total memory (overridable), measured usage, a hard guard.

MLX's CPU backend does not enforce its memory limit, so the guard checks active memory itself
and stops with an error that names the limit instead of letting the OS kill the process."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from .config import MemorySettings
from .errors import MemoryLimitError

GIB = 1024**3


@dataclass(frozen=True)
class MemoryBudget:
    total_bytes: int
    memory_limit: int
    cache_limit: int
    wired_limit: int
    clear_cache_after_tokens: int

    def as_gb(self) -> dict:
        return {k: (round(v / GIB, 3) if k != "clear_cache_after_tokens" else v) for k, v in asdict(self).items()}


def size(count: int | float) -> str:
    """Bytes for a person: "41.20 GiB", "120.5 MiB", "1.0 KiB" (a small limit never reads "0.00 GiB")."""
    for unit, scale in (("GiB", GIB), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:.{2 if unit == 'GiB' else 1}f} {unit}"
    return f"{int(count)} bytes"


def total_memory(mx) -> int:
    info = mx.device_info()
    if "memory_size" in info:
        return int(info["memory_size"])
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def plan_budget(settings: MemorySettings, total: int, model_bytes: int, metal: bool) -> MemoryBudget:
    """Pure: defaults are 75% of memory for MLX, 5% for its cache, and the model wired (Metal only)."""
    def gb(value):
        return int(value * GIB) if value is not None else None

    memory_limit = gb(settings.memory_limit_gb) or int(total * 0.75)
    cache_limit = gb(settings.cache_limit_gb) if settings.cache_limit_gb is not None else int(total * 0.05)
    wired_default = min(model_bytes, memory_limit) if metal else 0
    wired_limit = gb(settings.wired_limit_gb) if settings.wired_limit_gb is not None else wired_default
    return MemoryBudget(total, memory_limit, cache_limit, wired_limit, settings.clear_cache_after_tokens)


def check_fits(budget: MemoryBudget, model_bytes: int, model: str) -> None:
    if model_bytes > budget.memory_limit:
        raise MemoryLimitError(
            f"model {model} needs {size(model_bytes)} of weights but memory_limit is {size(budget.memory_limit)}",
            hint="raise memory.memory_limit_gb in the brief, or use a smaller/more quantized model",
        )


def apply_budget(mx, budget: MemoryBudget) -> None:
    mx.set_memory_limit(budget.memory_limit)
    mx.set_cache_limit(budget.cache_limit)
    if budget.wired_limit and mx.metal.is_available():
        mx.set_wired_limit(budget.wired_limit)


@dataclass
class MemoryReading:
    active_gb: float
    peak_gb: float
    cache_gb: float


def read_memory(mx) -> MemoryReading:
    return MemoryReading(mx.get_active_memory() / GIB, mx.get_peak_memory() / GIB, mx.get_cache_memory() / GIB)


def guard(mx, budget: MemoryBudget) -> None:
    active = mx.get_active_memory()
    if active > budget.memory_limit:
        raise MemoryLimitError(
            f"MLX active memory {size(active)} exceeded memory_limit {size(budget.memory_limit)}",
            hint="raise memory.memory_limit_gb, lower max_tokens, or use a smaller model",
        )
