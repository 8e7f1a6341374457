"""Run lock and run state, kept beside the drafts in the output root.

The lock makes an overlapping run of the same brief (a slow cron job still going when the next
starts) exit at once with code 4. The state file remembers the last week each newsletter brief
completed, so a machine that was off on build day catches up on its next run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import EXIT_LOCKED, OutputError, PipelineError
from .paths import state_dir
from .writer import write_whole

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
    except OSError as exc:  # a symlink planted since the check (the lock opens with O_NOFOLLOW), or no permission
        raise OutputError(f"cannot take the run lock {path}: {exc.strerror or exc}",
                          hint="remove it if it is not a plain file, or choose a writable folder with --out") from None
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
        if isinstance(state, dict):
            return state
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        pass
    with _state_lock(path):  # damaged: look again with the lock held, so that one run sets it aside
        return _read_locked(path)


@contextmanager
def _state_lock(path: Path) -> Iterator[None]:
    """Runs of different briefs share state.json: one read-modify-write at a time, or one drops the other's week."""
    lock = FileLock(str(path.with_name("state.lock")))
    try:
        lock.acquire(timeout=30)
    except (Timeout, OSError) as exc:  # a read-only output folder, a stuck run: carry on unlocked, as before
        log.warning("could not lock %s (%s); reading and writing it unlocked", path, exc)
        yield
        return
    try:
        yield
    finally:
        lock.release()


def _read_locked(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        return _set_aside(path, exc, {})
    try:
        state = json.loads(text)
    except ValueError as exc:
        return _set_aside(path, exc, _salvage(text))
    return state if isinstance(state, dict) else _set_aside(path, ValueError("not a JSON object"), {})


def _salvage(text: str) -> dict:
    """The entries of a damaged state file up to the damage (a cut-off write keeps all but the last)."""
    decoder, found = json.JSONDecoder(), {}
    pos = _skip_space(text, 0)
    if not text.startswith("{", pos):
        return {}
    pos += 1
    while True:
        try:
            key, pos = decoder.raw_decode(text, _skip_space(text, pos))
            pos = _skip_space(text, pos)
            if not text.startswith(":", pos):
                break
            value, pos = decoder.raw_decode(text, _skip_space(text, pos + 1))
        except ValueError:
            break
        if isinstance(key, str) and isinstance(value, dict):
            found[key] = value
        pos = _skip_space(text, pos)
        if not text.startswith(",", pos):
            break
        pos += 1
    return found


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _set_aside(path: Path, problem: Exception, salvaged: dict) -> dict:
    """Keep the damaged file as state.json.corrupt-<time> and start again from what could be read of it."""
    kept = path.with_name(f"{path.name}.corrupt-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}")
    try:
        path.replace(kept)
        _write_state(path, salvaged)
        log.warning("%s was unreadable (%s); kept it as %s and started a new one with the %d entr%s that could "
                    "still be read: catch-up may rebuild other weeks", path, problem, kept, len(salvaged),
                    "y" if len(salvaged) == 1 else "ies")
    except OSError as exc:
        log.warning("%s is unreadable (%s) and could not be set aside: %s", path, problem, exc)
    return salvaged


def _write_state(path: Path, state: dict) -> None:
    write_whole(path, json.dumps(state, indent=2))


def _last_week(state: dict, key: str) -> str | None:
    """An entry of the expected shape, or nothing (a hand-edited file must not crash a run)."""
    entry = state.get(key)
    week = entry.get("last_completed_week") if isinstance(entry, dict) else None
    return week if isinstance(week, str) else None


def last_completed_week(out_root: Path, brief_path: Path) -> str | None:
    return _last_week(read_state(out_root), brief_id(brief_path))


def record_completed_week(out_root: Path, brief_path: Path, week: str) -> None:
    path = state_path(out_root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _state_lock(path):
            state = _read_locked(path)
            previous = _last_week(state, brief_id(brief_path))
            if previous and previous > week:  # building an old week by hand does not move the state back
                return
            state[brief_id(brief_path)] = {"brief": str(brief_path.resolve()), "last_completed_week": week,
                                           "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
            _write_state(path, state)
    except OSError as exc:  # the draft is already written: a state file that could not be kept is a warning
        log.warning("could not record %s as built in %s: %s; the draft is written, but the next run may build "
                    "that week again (free space or fix permissions there)", week, path, exc.strerror or exc)
