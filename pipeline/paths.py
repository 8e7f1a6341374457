"""Where the pipeline keeps things: the user cache (converted models, fetched feeds) and, under an
output root, the run state and the drafts. Path arithmetic only: no I/O apart from reading
PIPELINE_CACHE_DIR, so callers decide when a folder is created."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_path

CACHE_ENV = "PIPELINE_CACHE_DIR"


def cache_root() -> Path:
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else user_cache_path("pipeline")


def models_cache_dir() -> Path:
    """Converted models (the embedded SmolLM2 as an mlx-lm directory)."""
    return cache_root() / "models"


def feed_cache_dir() -> Path:
    """Fetched feeds, so an offline run or a failing feed can use the last good copy."""
    return cache_root() / "feeds"


def state_dir(out_root: Path) -> Path:
    """Run locks and state.json, beside the drafts (hidden: it is not a draft)."""
    return out_root / ".pipeline"


def draft_dir(out_root: Path, kind_folder: str, key: str) -> Path:
    """output/<kind folder>/<key>: posts/<date>-<slug> or newsletters/<YYYY>-W<ww>. Names are not
    validated here: writer.draft_dir does that before anything is written."""
    return out_root / kind_folder / key
