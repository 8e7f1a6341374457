"""Run lock and run state, kept beside the drafts in the output root.

The lock makes an overlapping run of the same brief (a slow cron job still going when the next
starts) exit at once with code 4. The state file remembers the last week each newsletter brief
completed, so a machine that was off on build day catches up on its next run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import EXIT_LOCKED, OutputError, PipelineError
from .paths import state_dir

log = logging.getLogger("pipeline")


class LockedError(PipelineError):
    exit_code = EXIT_LOCKED


def brief_id(brief_path: Path) -> str:
    resolved = str(brief_path.resolve())
    return f"{brief_path.stem}-{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"


@contextmanager
def run_lock(out_root: Path, brief_path: Path):
    folder = state_dir(out_root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only disk, or --out below a regular file
        raise OutputError(f"cannot use the output folder {out_root}: {exc.strerror or exc} ({exc.filename or folder})",
                          hint="choose a writable folder with --out") from None
    path = folder / f"{brief_id(brief_path)}.lock"
    if path.is_symlink():  # opening it would create or truncate whatever it points at
        raise OutputError(f"the lock file {path} is a symlink; refusing to follow it",
                          hint="remove it; pipeline creates its own lock files")
    lock = FileLock(str(path))
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
    """The state file; an unreadable one is set aside (never silently overwritten) and a warning says so."""
    path = state_path(out_root)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        state = _set_aside(path, exc)
    return state if isinstance(state, dict) else _set_aside(path, ValueError("not a JSON object"))


def _set_aside(path: Path, problem: Exception) -> dict:
    kept = path.with_name(f"{path.name}.corrupt-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
    try:
        path.replace(kept)
        log.warning("%s was unreadable (%s); kept it as %s and started a new one: catch-up may rebuild weeks",
                    path, problem, kept)
    except OSError as exc:
        log.warning("%s is unreadable (%s) and could not be set aside: %s", path, problem, exc)
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
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(path)
    except OSError as exc:  # the draft is already written: a state file that could not be kept is a warning
        tmp.unlink(missing_ok=True)
        log.warning("could not record %s as built in %s: %s; the next run may build it again", week, path, exc)
