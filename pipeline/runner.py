"""The orchestrator: reads like a table of contents. Gather everything, then write once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from .assemble import DraftSection, assemble_newsletter, assemble_post, draft_location
from .backends import open_backend
from .blocks import render_blocks
from .checks.findings import ATTENTION, Finding
from .checks.numbers import known_values, number_audit
from .config import LoadedBrief, load_brief
from .generate import SectionResult, generate_sections
from .manifest import build_manifest
from .news import NewsPicks
from .newsletter import (allowed_links, block_list, check_prose, news_blocks, pick_all_news, reference_text,
                         resolve_week, source_context)
from .progress import Reporter
from .prompts import brief_context, render_prompts
from .sources import Gathered, gather
from .state import last_completed_week, record_completed_week, run_lock, weeks_to_build
from .weeks import current_week, week_key, zone
from .writer import check_target, write_draft


@dataclass(frozen=True)
class RunOptions:
    out_root: Path = Path("output")
    force: bool = False
    model: str | None = None  # overrides the brief's model
    week: str | None = None  # newsletters: build this ISO week
    offline: bool = False  # newsletters: feeds from the cache only
    strict: bool = False  # unverified numbers need attention (exit 3)


@dataclass
class RunResult:
    draft_dir: Path
    files: list[str]
    status: str  # "ok" or "needs_attention"
    sections: list[SectionResult]
    manifest: dict


@dataclass
class Prepared:
    """Everything known before the model is asked anything."""

    loaded: LoadedBrief
    gathered: Gathered | None
    context: dict
    blocks: dict[int, str] = field(default_factory=dict)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def prepare(brief_path: Path, options: RunOptions, now: dt.datetime) -> Prepared:
    """Load the brief, gather the week's sources (newsletters) and render the deterministic blocks."""
    loaded = load_brief(brief_path)
    newsletter = loaded.brief.kind == "newsletter"
    gathered = gather(loaded, resolve_week(loaded.brief, options.week, now), options.offline, now) if newsletter else None
    context = {**brief_context(loaded), **source_context(gathered)}
    return Prepared(loaded, gathered, context, render_blocks(loaded, context))


def prose_prompts(prep: Prepared, news: dict[int, NewsPicks]) -> list:
    """The news lists join the deterministic blocks; every prose prompt sees them all."""
    prep.blocks |= news_blocks(prep.loaded, news, prep.context)
    return render_prompts(prep.loaded, {**prep.context, "blocks": block_list(prep.loaded, prep.blocks)})


def dry_prompts(prep: Prepared) -> tuple[list, dict[int, NewsPicks]]:
    """Prompts as they would be rendered, with no model: news sections get no picks (for validate/render)."""
    news = {i: NewsPicks([], "none") for i, s in enumerate(prep.loaded.brief.sections) if s.type == "news"}
    return prose_prompts(prep, news), news


def run_brief(brief_path: Path, options: RunOptions, reporter: Reporter, backend_opener=open_backend) -> RunResult:
    with run_lock(options.out_root, brief_path):  # an overlapping run of this brief exits at once (4)
        result = build_draft(brief_path, options, reporter, backend_opener)
    if result.manifest.get("sources"):
        record_completed_week(options.out_root, brief_path, result.manifest["sources"]["week"]["key"])
    return result


def run_with_catch_up(brief_path: Path, options: RunOptions, reporter: Reporter, backend_opener=open_backend) -> list[RunResult]:
    """A newsletter built for "this week" first builds the weeks it missed (machine off on build day)."""
    opener = reuse_backend(backend_opener)  # one model load for every week
    missed = missed_weeks(brief_path, options, utc_now())
    caught_up = [run_brief(brief_path, dataclasses.replace(options, week=week), reporter, opener) for week in missed]
    return caught_up + [run_brief(brief_path, options, reporter, opener)]


def missed_weeks(brief_path: Path, options: RunOptions, now: dt.datetime) -> list[str]:
    brief = load_brief(brief_path).brief
    if brief.kind != "newsletter" or options.week or brief.week:
        return []
    current = current_week(now, zone(brief.timezone))
    weeks = [week_key(*w) for w in weeks_to_build(last_completed_week(options.out_root, brief_path), current)]
    return [w for w in weeks[:-1] if not (options.out_root / "newsletters" / w).exists()]


def reuse_backend(backend_opener):
    opened = {}

    def opener(model, memory):
        if model not in opened:
            opened[model] = backend_opener(model, memory)
        return opened[model]
    return opener


def build_draft(brief_path: Path, options: RunOptions, reporter: Reporter, backend_opener) -> RunResult:
    started, now = time.perf_counter(), utc_now()
    prep = prepare(brief_path, options, now)
    kind, key = draft_location(prep.loaded.brief, prep.gathered.week.key if prep.gathered else None)
    check_target(options.out_root, kind, key, options.force)  # before the slow part
    backend = backend_opener(options.model or prep.loaded.brief.model, prep.loaded.brief.memory)
    load_s = time.perf_counter() - started
    news = pick_all_news(backend, prep.loaded, prep.gathered)
    prompts = prose_prompts(prep, news)
    generation = generate_sections(backend, prompts, reporter, *batching(prep.loaded, backend))
    news_findings, audit = verify_against_sources(prep, generation.sections, news, options.strict)
    status = "needs_attention" if needs_attention(generation.sections, news_findings) else "ok"
    run_id = new_run_id(now)
    draft = assemble(prep, generation.sections, backend.model, run_id)
    timings = {"load_s": load_s, "total_s": time.perf_counter() - started, "news_s": news_seconds(news),
               "shared_prefix_tokens": generation.shared_prefix_tokens, "prefix_s": generation.prefix_s}
    manifest = build_manifest(loaded=prep.loaded, run_id=run_id, backend=backend, results=generation.sections,
                              timings=timings, status=status, started_at=now.isoformat(timespec="seconds"),
                              sources=sources_record(prep, news, news_findings, audit))
    draft = dataclasses.replace(draft, files={**draft.files, "run.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"})
    target = write_draft(options.out_root, draft, options.force)
    return RunResult(target, sorted(draft.files), status, generation.sections, manifest)


def news_seconds(news: dict[int, NewsPicks]) -> float:
    return sum(a.get("wall_s", 0.0) for picks in news.values() for a in picks.attempts)


def batching(loaded: LoadedBrief, backend) -> tuple[bool, int]:
    """(batched?, max batch) from the brief; "auto" asks the backend whether batching pays on its device."""
    settings = loaded.brief.generation
    batched = settings.mode == "batched" or (settings.mode == "auto" and getattr(backend, "prefers_batching", False))
    return batched, settings.max_batch


def verify_against_sources(prep: Prepared, results: list[SectionResult], news: dict[int, NewsPicks],
                           strict: bool) -> tuple[list[Finding], dict]:
    """Newsletters: numbers in model prose must come from the data; links must come from the feeds.
    Prose findings join their section's; returns the news reasons' findings and the number audit."""
    if prep.gathered is None:
        return [], {}
    known = known_values(reference_text(prep.loaded, prep.gathered, prep.blocks))
    links = allowed_links(prep.gathered)
    reasons = " ".join(p.reason for picks in news.values() for p in picks.picks)
    for result in results:
        result.chosen.findings.extend(check_prose(result.text, known, links, strict))
    return check_prose(reasons, known, links, strict), number_audit([r.text for r in results] + [reasons], known)


def needs_attention(results: list[SectionResult], news_findings: list[Finding]) -> bool:
    return any(r.needs_attention for r in results) or any(f.severity == ATTENTION for f in news_findings)


def draft_sections(prep: Prepared, results: list[SectionResult]) -> list[DraftSection]:
    """Every section in brief order: model prose, or its deterministic block."""
    by_index = {r.prompt.index: r for r in results}
    sections = []
    for index, section in enumerate(prep.loaded.brief.sections):
        if index in by_index:
            result = by_index[index]
            notes = tuple(f.message for f in result.findings if f.severity == ATTENTION)
            sections.append(DraftSection(section.heading, result.text, notes))
        else:
            sections.append(DraftSection(section.heading, prep.blocks.get(index, ""), (), raw=True))
    return sections


def assemble(prep: Prepared, results: list[SectionResult], model: str, run_id: str):
    sections = draft_sections(prep, results)
    if prep.gathered is None:
        return assemble_post(prep.loaded.brief, sections, model, run_id)
    week = prep.gathered.week
    return assemble_newsletter(prep.loaded.brief, sections, model, run_id, week.key, week.start.date())


def sources_record(prep: Prepared, news: dict[int, NewsPicks], news_findings: list[Finding], audit: dict) -> dict | None:
    if prep.gathered is None:
        return None
    selection = prep.gathered.selection
    return {
        "week": {"key": prep.gathered.week.key, "start": prep.gathered.week.start.isoformat(),
                 "end": prep.gathered.week.end.isoformat(), "timezone": prep.loaded.brief.timezone},
        "feeds": [f.record() for f in prep.gathered.feeds],
        "items": {"in_week": len(selection.items), "duplicates": selection.duplicates, "undated": selection.undated,
                  "future": selection.future, "outside_week": selection.outside_week},
        "data": {name: len(rows) for name, rows in prep.gathered.data.items()},
        "news": [{"section": prep.loaded.brief.sections[i].heading, "method": n.method, "attempts": n.attempts,
                  "picked": [{"title": p.item.title, "link": p.item.link, "reason": p.reason} for p in n.picks]}
                 for i, n in news.items()],
        "news_findings": [dataclasses.asdict(f) for f in news_findings],
        "number_audit": audit,
    }
