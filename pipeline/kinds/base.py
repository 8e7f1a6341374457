"""What every kind of draft provides. The defaults describe a draft with no sources of its own
(a post); a kind overrides only what differs. The orchestrator calls these steps in order and
never asks which kind it has."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..assemble import DraftSection
from ..backends import Backend
from ..checks.findings import Finding
from ..checks.numbers import NumberAudit
from ..checks.prose import Reference
from ..checks.repetition import repetition_findings
from ..config import LoadedBrief
from ..generate import SectionResult
from ..progress import Reporter
from ..sources.feeds import FeedResult


@dataclass(frozen=True)
class Situation:
    """What a run was asked for, as far as the kinds care."""

    now: dt.datetime
    week: str | None = None  # a week given on the command line
    offline: bool = False
    out_root: Path | None = None  # where earlier drafts are (a newsletter compares itself with earlier issues)


@dataclass(frozen=True)
class Stages:
    """What the structured stages produced: blocks for the draft, results for run.json, the kind's own data."""

    blocks: dict[int, str] = field(default_factory=dict)
    results: list[SectionResult] = field(default_factory=list)
    data: Any = None


@dataclass(frozen=True)
class Verified:
    """The prose sections after checks against the sources, and findings that belong to no section."""

    sections: list[SectionResult]
    findings: list[Finding] = field(default_factory=list)
    audit: NumberAudit | None = None  # numbers in model text and how many were traced to the sources
    reference: Reference | None = None  # what the prose was checked against (run.json `checks`)


def with_repetition(sections: list[SectionResult]) -> list[SectionResult]:
    """Each prose section with the repetition findings against the sections before it in the draft."""
    order = sorted(range(len(sections)), key=lambda k: sections[k].prompt.index)
    found = repetition_findings([(sections[k].prompt.heading, sections[k].text) for k in order])
    by_section = {order[position]: findings for position, findings in found.items()}
    return [s.with_findings(by_section.get(k, [])) for k, s in enumerate(sections)]


class SourcesRecord(Protocol):
    """What a draft was compiled from and checked against: run.json's `sources`, the review summary."""

    @property
    def feeds(self) -> list[FeedResult]: ...

    @property
    def audit(self) -> NumberAudit | None: ...

    @property
    def findings(self) -> list[Finding]: ...  # those of no section (a news pick's fallback, a hostile feed item)

    @property
    def news(self) -> list[dict]: ...  # per news section: heading, method (model, fallback, none), items picked

    def as_dict(self) -> dict: ...


class Kind:
    name = ""  # the brief's `kind:`
    dated_by_week = False  # --week and --offline mean something (a week's feeds and data)
    folder = ""  # under the output root

    def gather(self, loaded: LoadedBrief, situation: Situation) -> Any:
        """The sources a draft is compiled from (feeds, data) for this run."""
        return None

    def context(self, loaded: LoadedBrief, sources: Any) -> dict:
        """Template variables beyond the brief's own."""
        return {}

    def key(self, loaded: LoadedBrief, sources: Any) -> str:
        """The draft's folder name under `folder`."""
        raise NotImplementedError

    def dry_stages(self, loaded: LoadedBrief, sources: Any, context: dict) -> Stages:
        """The structured stages' blocks as they would be with no model (validate, render)."""
        return Stages()

    def run_stages(self, backend: Backend, loaded: LoadedBrief, sources: Any, context: dict,
                   reporter: Reporter) -> Stages:
        """Structured stages the prose depends on (machine-parsed answers, thinking off)."""
        return Stages()

    def verify(self, loaded: LoadedBrief, sources: Any, blocks: dict[int, str], sections: list[SectionResult],
               stages: Stages, strict: bool) -> Verified:
        return Verified(sections)

    def assemble(self, loaded: LoadedBrief, sources: Any, sections: list[DraftSection], model: str,
                 run_id: str) -> dict[str, str]:
        raise NotImplementedError

    def record(self, loaded: LoadedBrief, sources: Any, stages: Stages, verified: Verified) -> SourcesRecord | None:
        """The kind's part of run.json (its sources and what was checked against them)."""
        return None

    def after_write(self, out_root: Path, brief_path: Path, sources: Any) -> None:
        """State kept between runs once a draft is written."""

    def missed(self, out_root: Path, brief_path: Path, loaded: LoadedBrief, situation: Situation) -> list[str]:
        """Earlier drafts this run should build first (a scheduled build the machine slept through)."""
        return []

    def schedule_note(self, loaded: LoadedBrief, next_run: dt.datetime) -> str:
        """What the next scheduled run will build, for `pipeline schedule`."""
        return f"the next run, {next_run:%a %Y-%m-%d %H:%M}, builds a {self.name} dated that day"

    def summary(self, loaded: LoadedBrief, sources: Any, prose: int, stages: Stages) -> str:
        """One line for `pipeline validate`."""
        count = len(loaded.brief.sections)
        return f"{count} section{'s' if count != 1 else ''}, stages: {', '.join(loaded.brief.stages)}"
