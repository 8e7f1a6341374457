"""What the benchmarks share: the one JSON report on stdout (and in --out), and side-by-side rounds."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def emit(report: dict, out: Path | None) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    print(text)
    if out:
        out.write_text(text + "\n")


def alternating(names: list[str], rounds: int) -> Iterator[str]:
    """Each name once per round, the order reversed every other round (whoever goes first pays for a cold cache)."""
    for round_ in range(rounds):
        yield from (names if round_ % 2 == 0 else names[::-1])


def detector_at(revision: str | None) -> ModuleType:
    """pipeline/checks/collapse.py as this checkout has it (None) or as `revision` had it, loaded as a
    module of its own (its relative imports resolve against this checkout's package)."""
    path, name = ROOT / "pipeline/checks/collapse.py", "collapse_now"
    with tempfile.TemporaryDirectory() as tmp:
        if revision is not None:
            path, name = Path(tmp) / "collapse.py", f"collapse_{len(sys.modules)}"
            path.write_text(subprocess.run(["git", "show", f"{revision}:pipeline/checks/collapse.py"], cwd=ROOT,
                                           capture_output=True, text=True, check=True).stdout)
        spec = importlib.util.spec_from_file_location(f"pipeline.checks.{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        module.__package__ = "pipeline.checks"
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module
