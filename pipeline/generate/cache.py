"""Finished sections kept under the output folder, so an interrupted run (Ctrl-C, SIGTERM, kill -9, a
crash at section 5 of 6) starts again where it stopped. An entry is keyed by everything that decides
a section's text: the rendered prompt, the model's identity, the sampling settings (seed, caps and
enable_thinking among them) and the code that generates and judges it; any change is a miss. The
cache is bounded (entries and age) and cleaned when it is opened."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from functools import lru_cache
from pathlib import Path

from ..backends import GenerationStats, ModelInfo
from ..checks.collapse import Verdict
from ..checks.findings import Finding
from ..writer import failpoint, write_whole
from .attempts import Attempt, SectionResult, Task

log = logging.getLogger("pipeline")

MAX_ENTRIES = 2000  # a year of weekly newsletters and daily posts, a few MB
MAX_AGE_DAYS = 30
FORMAT = 1  # of an entry's JSON


@lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the code that turns a prompt into a section (generation, ladder, checks): an edit to any of
    it, a threshold included, makes every cached section a miss."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("generate/*.py"), *package.glob("checks/*.py"), package / "thinking.py"]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def model_identity(info: ModelInfo) -> dict:
    """The spec and what it loaded; for a local folder, also its weights' sizes and times (new weights in
    the same folder are another model)."""
    identity: dict = {"spec": info.spec, "backend": info.backend, "source": info.source}
    folder = Path(info.source) if info.source else None
    if folder and folder.is_dir():
        identity["files"] = sorted((p.name, p.stat().st_size, int(p.stat().st_mtime))
                                   for p in folder.iterdir() if p.suffix in {".safetensors", ".json"})
    return identity


class SectionCache:
    def __init__(self, folder: Path, model: ModelInfo, read: bool = True):
        self.folder = folder
        self.model = model_identity(model)
        self.read = read  # --fresh: generate everything, but still keep what finishes
        self.stored = 0

    def key(self, task: Task) -> str:
        parts = {"format": FORMAT, "code": code_version(), "model": self.model, "prompt": task.rendered,
                 "settings": task.prompt.settings.model_dump(), "target_words": task.prompt.target_words,
                 "heading": task.prompt.heading, "messages": list(task.prompt.messages)}
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, task: Task) -> SectionResult | None:
        if not self.read:
            return None
        path = self.folder / f"{self.key(task)}.json"
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            attempts = tuple(attempt_from(a) for a in entry["attempts"])
            result = SectionResult(task, attempts, int(entry["chosen"]), from_cache=True)
            result.chosen  # noqa: B018 (a chosen number out of range is a damaged entry)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("ignoring damaged cached section %s (%s); it is generated again", path.name, exc)
            return None
        return result

    def put(self, result: SectionResult) -> None:
        """Kept at once, so an interrupt later in the run loses nothing before it; a cache that cannot be
        written is a warning (the run goes on)."""
        entry = {"format": FORMAT, "heading": result.prompt.heading, "chosen": result.chosen_number,
                 "attempts": [attempt_record(a) for a in result.attempts]}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_whole(self.folder / f"{self.key(result.task)}.json", json.dumps(entry))
        except OSError as exc:
            log.warning("could not keep section %r for a resumed run: %s", result.prompt.heading, exc)
            return
        self.stored += 1
        failpoint(f"cached-{self.stored}")

    def clean(self) -> int:
        """Drop entries older than MAX_AGE_DAYS and all but the newest MAX_ENTRIES; returns how many went."""
        try:
            entries = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return 0
        cutoff = time.time() - MAX_AGE_DAYS * 86400
        stale = [p for n, p in enumerate(entries) if n >= MAX_ENTRIES or p.stat().st_mtime < cutoff]
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)


def attempt_record(attempt: Attempt) -> dict:
    record = dataclasses.asdict(attempt)
    record["value"] = None  # prose only: a structured stage's parsed answer is not cached
    return record


def attempt_from(record: dict) -> Attempt:
    collapse = record.get("collapse")
    return Attempt(
        number=record["number"], rung=record["rung"], seed=record["seed"], settings=record["settings"],
        finish_reason=record["finish_reason"], raw_text=record["raw_text"], kept_text=record["kept_text"],
        reasoning_chars=record["reasoning_chars"], stats=GenerationStats(**record["stats"]),
        findings=tuple(Finding(**f) for f in record["findings"]),
        collapse=Verdict(**collapse) if collapse else None, tokens_after_onset=record.get("tokens_after_onset"),
        error=record.get("error"))
