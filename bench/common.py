"""What the benchmarks share: the one JSON report on stdout (and in --out), and side-by-side rounds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def emit(report: dict, out: Path | None) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    print(text)
    if out:
        out.write_text(text + "\n")


def alternating(names: list[str], rounds: int) -> Iterator[str]:
    """Each name once per round, the order reversed every other round (whoever goes first pays for a cold cache)."""
    for round_ in range(rounds):
        yield from (names if round_ % 2 == 0 else names[::-1])
