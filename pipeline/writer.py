"""The only code that writes under output/: whole drafts, atomically, never clobbering silently.

A --force replace is two renames: the old draft to `.replaced-<key>`, the new one into place; then the
old one is renamed `.removing-<key>` and deleted. SIGINT and SIGTERM wait until the swap is whole. After
a SIGKILL or a power cut the names say how far it got, and the next run that writes into that folder
(`check_target`) restores the old draft or finishes the clean-up, and says which (`recover`)."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from .assemble import Draft
from .errors import OutputError, OutputExistsError
from .paths import draft_dir as draft_path
from .signals import deferred_signals

log = logging.getLogger("pipeline")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
STAGING, RETIRED, REMOVING, PROBE = ".staging-", ".replaced-", ".removing-", ".probe-"
PROBE_BYTES = 64 * 1024  # enough that a full disk refuses it (an empty file needs no free block)


@dataclass(frozen=True)
class Written:
    path: Path
    replaced: bool  # an earlier draft was there (--force) and is gone now


WRITTEN: list[Written] = []  # every draft this process put in place, in order: the CLI's interrupt message reads it


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
    """Before the slow part: finish interrupted replaces, make sure the draft's folder can be written
    (a read-only or full disk fails in seconds, not after generation), and refuse to clobber."""
    target = draft_dir(out_root, kind, key)
    folder = target.parent
    try:
        with folder_lock(folder) if folder.is_dir() else nullcontext():
            _recover_leftovers(folder)
            probe_writable(folder)
    except OSError as exc:
        raise _output_error(exc, target) from None
    _refuse_clobber(target, force)
    return target


def _refuse_clobber(target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise OutputExistsError(
            f"a draft already exists at {target}",
            hint="review or move it, or re-run with --force to replace it",
        )


def probe_writable(folder: Path) -> None:
    """Write and delete a small file in the nearest existing folder on the way (creating no folder yet)."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    try:
        if not existing.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(existing))
        with tempfile.NamedTemporaryFile(dir=existing, prefix=PROBE) as probe:
            probe.write(bytes(PROBE_BYTES))
            probe.flush()
    except OSError as exc:
        raise _output_error(exc, folder) from None


def write_draft(out_root: Path, draft: Draft, force: bool) -> Path:
    """Write every file into a staging folder beside the target, then swap it in with renames."""
    target = check_target(out_root, draft.kind, draft.key, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(exc, target) from None
    with folder_lock(target.parent):  # another run's recovery must not take our staging folder for a leftover
        _refuse_clobber(target, force)  # again: another brief may have written this key since the check
        try:
            staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{draft.key}-", dir=target.parent))
        except OSError as exc:
            raise _output_error(exc, target) from None
        try:
            staging.chmod(0o777 & ~_umask())  # mkdtemp makes it 0700: the draft would be private to us
            for name, content in draft.files.items():
                _write_synced(staging / name, content)
            _sync_folder(staging)
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


def write_whole(path: Path, content: str) -> None:
    """A whole file or none: written beside it, synced, renamed over it; no temp file left on failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_synced(tmp, content)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _swap_in(staging: Path, target: Path) -> None:
    failpoint("staged")
    with deferred_signals():  # a Ctrl-C or SIGTERM here takes effect once the swap is whole
        replaced = target.exists()
        retired = target.with_name(RETIRED + target.name)
        if replaced:
            os.replace(target, retired)  # --force: the old draft stays whole until the new one is in place
            failpoint("retired")
        try:
            os.replace(staging, target)
        except OSError:
            if replaced:
                os.replace(retired, target)
            raise
        WRITTEN.append(Written(target, replaced))
        _sync_quietly(target.parent)
        if replaced:
            failpoint("swapped")
            _discard(retired)


def _discard(retired: Path) -> None:
    """Delete a retired draft. One rename first marks it as garbage, so a crash part-way through the
    deletion never leaves a half draft under a name that `recover` would put back."""
    removing = retired.with_name(REMOVING + retired.name.removeprefix(RETIRED))
    try:
        os.replace(retired, removing)
        for child in sorted(removing.iterdir()):
            if child.is_file() and not child.is_symlink():
                child.unlink()
                failpoint("cleaning")
        shutil.rmtree(removing)
    except OSError as exc:  # the new draft is in place: a leftover is the next run's to remove, not an error
        log.warning("could not remove the replaced draft %s (%s); the next run removes it", removing, exc)


def recover(folder: Path) -> list[str]:
    """Finish or undo every replace in `folder` that a crash interrupted (`check_target` does this first)."""
    if not folder.is_dir():
        return []
    with folder_lock(folder):
        return _recover_leftovers(folder)


def _recover_leftovers(folder: Path) -> list[str]:
    """With the folder locked (a replace under way in another process is not a leftover): say what was
    recovered (log warnings, shown on stderr) and remove staging folders never put in place."""
    notes = []
    for leftover in sorted(folder.iterdir()) if folder.is_dir() else []:
        note = _recover_one(leftover)
        if note:
            log.warning(note)
            notes.append(note)
    return notes


def _recover_one(leftover: Path) -> str | None:
    name = leftover.name
    if name.startswith((STAGING, PROBE)):  # never put in place: the draft it was for is as it was
        _remove(leftover)
        return None
    if name.startswith(REMOVING):
        _remove(leftover)
        target = leftover.with_name(name.removeprefix(REMOVING))
        return f"recovered an interrupted replace of {target}: finished removing the earlier draft"
    if not name.startswith(RETIRED):
        return None
    target = leftover.with_name(name.removeprefix(RETIRED))
    if target.exists():
        _discard(leftover)
        return f"recovered an interrupted replace of {target}: the new draft is in place"
    os.replace(leftover, target)
    _sync_quietly(target.parent)
    return f"recovered an interrupted replace of {target}: the new draft never arrived, the earlier one is back"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive flock on the folder itself, held while drafts in it are written or recovered. The
    kernel drops it when the process dies, so a killed run never blocks the next."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # a filesystem without flock (some network mounts): go on unlocked
            log.debug("cannot lock %s (%s); writing without a folder lock", folder, exc)
        yield
    finally:
        os.close(fd)  # releases the lock


def _sync_folder(folder: Path) -> None:
    """Renames (and new names) are durable only once their folder is synced."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_quietly(folder: Path) -> None:
    """After a swap the draft is in place: a folder that cannot be synced is a warning, not a failure."""
    try:
        _sync_folder(folder)
    except OSError as exc:
        log.warning("could not sync %s (%s): the last renames may not survive a power cut", folder, exc)


def interrupted_note(since: int = 0) -> str:
    """What an interrupt left, for the CLI: only drafts listed here changed (a replace under way when the
    signal came was finished first); every other draft is as it was."""
    done = WRITTEN[since:]
    if not done:
        return "interrupted: nothing was written; existing drafts are untouched"
    listed = ", ".join(f"{w.path} ({'replaced the earlier draft' if w.replaced else 'new'})" for w in done)
    return f"interrupted after writing {listed}; no draft is half-written and other drafts are untouched"


def failpoint(step: str) -> None:
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
