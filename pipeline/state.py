"""Run lock and run state, kept beside the drafts in the output root.

The lock makes an overlapping run of the same brief (a slow cron job still going when the next
starts) exit at once with code 4. The state file remembers the last week each newsletter brief
completed, so a machine that was off on build day catches up on its next run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import EXIT_LOCKED, PipelineError
from .paths import state_dir


class LockedError(PipelineError):
    exit_code = EXIT_LOCKED


def brief_id(brief_path: Path) -> str:
    resolved = str(brief_path.resolve())
    return f"{brief_path.stem}-{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"


@contextmanager
def run_lock(out_root: Path, brief_path: Path):
    folder = state_dir(out_root)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"{brief_id(brief_path)}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(f"another run of {brief_path} is in progress (lock {lock.lock_file})",
                          hint="wait for it to finish; the lock is released when that process exits") from None
    try:
        yield
    finally:
        lock.release()


def state_path(out_root: Path) -> Path:
    return state_dir(out_root) / "state.json"


def read_state(out_root: Path) -> dict:
    try:
        return json.loads(state_path(out_root).read_text())
    except (OSError, ValueError):
        return {}


def last_completed_week(out_root: Path, brief_path: Path) -> str | None:
    return read_state(out_root).get(brief_id(brief_path), {}).get("last_completed_week")


def record_completed_week(out_root: Path, brief_path: Path, week: str) -> None:
    state = read_state(out_root)
    previous = state.get(brief_id(brief_path), {}).get("last_completed_week")
    if previous and previous > week:  # building an old week by hand does not move the state back
        return
    state[brief_id(brief_path)] = {"brief": str(brief_path.resolve()), "last_completed_week": week,
                                   "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    path = state_path(out_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)
