"""published.json in the draft folder: per target, what was sent (a hash of exactly what the target
received), where it went (a path, a remote id, a Message-ID), when, and every earlier send. It is what
makes publishing idempotent, and what the review pages show."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..writer import write_whole

RECORD_NAME = "published.json"


@dataclass(frozen=True)
class Sent:
    target: str  # the name given to --to
    type: str  # hugo, smtp, webhook
    sha256: str  # of what the target received
    remote: str  # the page's path, the webhook's id, the email's Message-ID
    draft: bool  # published as a draft (Hugo's draft: true)
    at: str


def read_record(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}  # never published (a damaged record is rewritten on the next publish)
    return data if isinstance(data, dict) else {}


def last_sent(folder: Path, target: str) -> dict | None:
    entry = read_record(folder).get(target)
    return entry if isinstance(entry, dict) else None


def remember(folder: Path, sent: Sent) -> None:
    record = read_record(folder)
    previous = record.get(sent.target) if isinstance(record.get(sent.target), dict) else None
    history = (previous or {}).get("history", [])
    if previous:
        history = [*history, {k: previous[k] for k in ("sha256", "remote", "draft", "at") if k in previous}]
    record[sent.target] = {**asdict(sent), "history": history}
    write_whole(folder / RECORD_NAME, json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
