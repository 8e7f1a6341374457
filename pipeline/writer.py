"""The only code that writes under output/: whole drafts, atomically, never clobbering silently."""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from pathlib import Path

from .assemble import Draft
from .errors import OutputError, OutputExistsError
from .paths import draft_dir as draft_path

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
    target = draft_dir(out_root, kind, key)
    if target.exists() and not force:
        raise OutputExistsError(
            f"a draft already exists at {target}",
            hint="review or move it, or re-run with --force to replace it",
        )
    return target


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


def _swap_in(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    retired = target.with_name(f".replaced-{target.name}-{os.getpid()}")
    os.replace(target, retired)  # --force: the old draft stays whole until the new one is in place
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def _output_error(exc: OSError, target: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        hint = "free some disk space and run again; existing drafts were not touched"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "make the output folder writable, or choose another with --out"
    else:
        hint = "existing drafts were not touched"
    where = exc.filename or target
    return OutputError(f"could not write draft {target}: {exc.strerror or exc} ({where})", hint=hint)
