"""The only code that writes under output/: whole drafts, atomically, never clobbering silently.

A --force replace is two renames (the old draft to `.replaced-<key>`, the new one into place). SIGINT
and SIGTERM wait until both are done; after a SIGKILL or a power cut the names say how far it got,
and the next run finishes or undoes it (`recover`) before anything else touches that draft."""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .assemble import Draft
from .errors import OutputError, OutputExistsError
from .paths import draft_dir as draft_path

log = logging.getLogger("pipeline")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def draft_dir(out_root: Path, kind: str, key: str) -> Path:
    """Where a draft lives; refuses any name that could leave out_root."""
    for part in (kind, key):
        if not _SAFE_NAME.match(part) or ".." in part:
            raise OutputError(f"unsafe output folder name {part!r}", hint="use a slug of a-z, 0-9 and -")
    root = out_root.resolve()
    target = draft_path(root, kind, key).resolve()
    if not target.is_relative_to(root):
        raise OutputError(f"{target} is outside {root}")
    return target


def check_target(out_root: Path, kind: str, key: str, force: bool) -> Path:
    """Before the slow part: finish an interrupted replace, refuse to clobber, and make sure the
    draft's folder can be written (a read-only or full disk fails in seconds, not after generation)."""
    target = draft_dir(out_root, kind, key)
    recover(target)
    probe_writable(target.parent)
    if target.exists() and not force:
        raise OutputExistsError(
            f"a draft already exists at {target}",
            hint="review or move it, or re-run with --force to replace it",
        )
    return target


def probe_writable(folder: Path) -> None:
    """Create and delete a file in the nearest existing folder on the way (creating no folder yet)."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(existing))
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".probe-"):
            pass
    except OSError as exc:
        raise _output_error(exc, folder) from None


def write_draft(out_root: Path, draft: Draft, force: bool) -> Path:
    """Write every file into a staging folder beside the target, then swap it in with renames."""
    target = check_target(out_root, draft.kind, draft.key, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{draft.key}-", dir=target.parent))
    except OSError as exc:
        raise _output_error(exc, target) from None
    try:
        staging.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700: the draft would be private to us
        for name, content in draft.files.items():
            _write_synced(staging / name, content)
        _swap_in(staging, target)
    except OSError as exc:
        raise _output_error(exc, target) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_synced(path: Path, content: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def retired_path(target: Path) -> Path:
    return target.with_name(f".replaced-{target.name}")


def _swap_in(staging: Path, target: Path) -> None:
    _failpoint("staged")
    with deferred_signals():  # a Ctrl-C or SIGTERM here takes effect once the swap is whole
        if not target.exists():
            os.replace(staging, target)
            _sync_folder(target.parent)
            return
        retired = retired_path(target)
        os.replace(target, retired)  # --force: the old draft stays whole until the new one is in place
        _failpoint("retired")
        try:
            os.replace(staging, target)
        except OSError:
            os.replace(retired, target)
            raise
        _sync_folder(target.parent)
        _failpoint("swapped")
        _remove_tree(retired)


def recover(target: Path) -> str | None:
    """Finish or undo a replace that a crash interrupted; say which (also in the log)."""
    retired = retired_path(target)
    leftovers = list(target.parent.glob(f".staging-{target.name}-*")) if target.parent.is_dir() else []
    for staging in leftovers:  # never swapped in: an unfinished new draft
        shutil.rmtree(staging, ignore_errors=True)
    if not retired.exists():
        return None
    if target.exists():
        _remove_tree(retired)
        note = f"finished an interrupted replace of {target}: the new draft is in place"
    else:
        os.replace(retired, target)
        _sync_folder(target.parent)
        note = f"restored {target} after an interrupted replace: the earlier draft is back"
    log.warning(note)
    return note


def _remove_tree(folder: Path) -> None:
    """Delete a retired draft; a crash part-way leaves a `.replaced-*` that `recover` removes."""
    for child in sorted(folder.iterdir()):
        if child.is_file() and not child.is_symlink():
            child.unlink()
            _failpoint("cleaning")
    shutil.rmtree(folder, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Renames are durable only once their folder is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them. Main thread only (elsewhere
    signals are not delivered anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: pending.append(signum))
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for received in pending[:1]:
            signal.raise_signal(received)


def _failpoint(step: str) -> None:
    """Tests stop a real process here (PIPELINE_FAILPOINT=step) to send it signals."""
    if os.environ.get("PIPELINE_FAILPOINT") == step:
        print(f"failpoint {step}", file=sys.stderr, flush=True)
        time.sleep(1.0)  # long enough for a test to send a signal at this step


def _output_error(exc: OSError, target: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        hint = "free some disk space and run again; existing drafts were not touched"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "make the output folder writable, or choose another with --out"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        hint = "the output path runs through a file, not a folder: choose a folder with --out"
    else:
        hint = "existing drafts were not touched"
    where = exc.filename or target
    return OutputError(f"could not write draft {target}: {exc.strerror or exc} ({where})", hint=hint)
