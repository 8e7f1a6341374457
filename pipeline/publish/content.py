"""What a draft folder holds for publishing: its front matter, its markdown body (as the reviewer left
it, made inert again: an edit may have brought back `{{<` or a javascript: link), its HTML and, for
newsletters, its email renditions. Never run.json, review.html or anything else of the review loop."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..checks.links import neutralise_links
from ..checks.markup import defuse_html
from ..checks.text import FRONT_MATTER, inert, markdown_html
from ..errors import InputError
from ..recheck import read_manifest


@dataclass(frozen=True)
class DraftContent:
    folder: Path
    kind: str  # the output folder's kind: posts, newsletters
    slug: str
    meta: dict  # front matter
    body: str  # markdown without front matter, inert
    html: str  # the body as sanitized HTML (for email and webhooks)
    email_html: str | None  # newsletters: the email rendition the run wrote
    email_text: str | None

    @property
    def title(self) -> str:
        return str(self.meta.get("title") or self.slug)


def read_content(folder: Path) -> DraftContent:
    markdown = _read(folder / "index.md")
    read_manifest(folder)  # a folder pipeline did not write is refused here, with what to do
    match = FRONT_MATTER.match(markdown)
    try:
        meta = yaml.safe_load(match.group(1)) if match else None
    except yaml.YAMLError as exc:
        raise InputError(f"{folder / 'index.md'}: its front matter is not valid YAML: {exc}",
                         hint="fix the block between the --- lines") from None
    if not isinstance(meta, dict):
        raise InputError(f"{folder / 'index.md'}: no front matter (a --- block with title and date) at the top",
                         hint="put back the front matter the run wrote")
    body = inert(defuse_html(neutralise_links(markdown[match.end():] if match else markdown))).strip() + "\n"
    email_html, email_text = (folder / "email.html"), (folder / "email.txt")
    return DraftContent(folder, folder.parent.name, str(meta.get("slug") or folder.name), meta, body,
                        markdown_html(body), _read(email_html) if email_html.exists() else None,
                        _read(email_text) if email_text.exists() else None)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", hint="publish takes a draft folder that pipeline run wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def digest(*parts: str | bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()


@dataclass(frozen=True)
class Plan:
    """What one target would receive: its hash (the idempotency test), where it goes, and the payload."""

    sha256: str
    remote: str  # known before sending (a page's path), or "" (a webhook's id, which the receiver gives)
    payload: object
    summary: str  # one line: what would be sent where
