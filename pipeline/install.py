"""Writes the scheduler files `pipeline schedule --install` asks for (schedule.py decides them)."""

from __future__ import annotations

from pathlib import Path


def install_files(files: dict[Path, str]) -> list[Path]:
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)
