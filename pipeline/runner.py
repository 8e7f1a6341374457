"""The orchestrator: reads like a table of contents. Gather everything, then write once.

Every step that differs between a post and a newsletter is a step of the brief's kind."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assemble import Draft, DraftSection
from .backends import Backend, model_for, open_backend
from .blocks import render_blocks
from .checks.findings import ATTENTION
from .config import LoadedBrief, MemorySettings, load_brief
from .generate import SectionResult, generate_sections
from .generate.cache import SectionCache
from .kinds import Kind, Situation, SourcesRecord, Stages, kind_of
from .manifest import RunRecord, Timings, Totals, build_manifest, totals
from .paths import state_dir
from .progress import Reporter
from .prompts import SectionPrompt, brief_context, render_prompts
from .review import refresh_index, review_page
from .state import run_lock
from .writer import check_target, write_draft

BackendOpener = Callable[[str, MemorySettings], Backend]

log = logging.getLogger("pipeline")


@dataclass(frozen=True)
class RunOptions:
    out_root: Path = Path("output")
    force: bool = False
    model: str | None = None  # overrides the brief's model
    week: str | None = None  # newsletters: build this ISO week
    offline: bool = False  # newsletters: feeds from the cache only
    strict: bool = False  # unverified numbers need attention (exit 3)
    fresh: bool = False  # generate every section, even those an interrupted run finished


@dataclass(frozen=True)
class RunResult:
    draft_dir: Path
    files: list[str]
    status: str  # "ok" or "needs_attention"
    run_id: str
    model: str
    sections: list[SectionResult]
    totals: Totals
    sources: SourcesRecord | None  # what the kind compiled the draft from (a newsletter's feeds, number audit)
    manifest: dict


@dataclass(frozen=True)
class Prepared:
    """Everything known before the model is asked anything."""

    loaded: LoadedBrief
    kind: Kind
    sources: Any  # the kind's own (a newsletter's week, feeds and data)
    context: dict
    blocks: dict[int, str]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def situation(options: RunOptions, now: dt.datetime) -> Situation:
    return Situation(now=now, week=options.week, offline=options.offline, out_root=options.out_root)


def prepare(brief_path: Path, options: RunOptions, now: dt.datetime) -> Prepared:
    """Load the brief, gather the kind's sources and render the deterministic blocks."""
    loaded = load_brief(brief_path)
    kind = kind_of(loaded.brief)
    sources = kind.gather(loaded, situation(options, now))
    context = {**brief_context(loaded), **kind.context(loaded, sources)}
    return Prepared(loaded, kind, sources, context, render_blocks(loaded, context))


def prose_prompts(prep: Prepared, stages: Stages) -> tuple[dict[int, str], list[SectionPrompt]]:
    """The structured stages' blocks join the deterministic ones; every prose prompt sees them all."""
    blocks = prep.blocks | stages.blocks
    listed = [{"heading": prep.loaded.brief.sections[i].heading, "text": text} for i, text in sorted(blocks.items())]
    return blocks, render_prompts(prep.loaded, {**prep.context, "blocks": listed})


def dry_prompts(prep: Prepared) -> tuple[list[SectionPrompt], Stages]:
    """Prompts as they would be rendered with no model (validate, render)."""
    stages = prep.kind.dry_stages(prep.loaded, prep.sources, prep.context)
    return prose_prompts(prep, stages)[1], stages


def run_brief(brief_path: Path, options: RunOptions, reporter: Reporter,
              backend_opener: BackendOpener = open_backend) -> RunResult:
    with run_lock(options.out_root, brief_path):  # an overlapping run of this brief exits at once (4)
        return build_draft(brief_path, options, reporter, backend_opener)


def run_with_catch_up(brief_path: Path, options: RunOptions, reporter: Reporter,
                      backend_opener: BackendOpener = open_backend) -> list[RunResult]:
    """Drafts the kind says were missed (machine off on build day) first, then the one asked for."""
    opener = reuse_backend(backend_opener)  # one model load for every draft
    loaded = load_brief(brief_path)
    kind = kind_of(loaded.brief)
    warn_ignored_options(brief_path, kind, options)
    missed = kind.missed(options.out_root, brief_path, loaded, situation(options, utc_now()))
    caught_up = [run_brief(brief_path, dataclasses.replace(options, week=week), reporter, opener) for week in missed]
    return [*caught_up, run_brief(brief_path, options, reporter, opener)]


def warn_ignored_options(brief_path: Path, kind: Kind, options: RunOptions) -> None:
    ignored = [flag for flag, given in (("--week", options.week), ("--offline", options.offline)) if given]
    if ignored and not kind.dated_by_week:
        log.warning("%s: %s ignored: only a newsletter has a week and feeds, and this is a %s", brief_path,
                    " and ".join(ignored), kind.name)


def reuse_backend(backend_opener: BackendOpener) -> BackendOpener:
    opened: dict[str, Backend] = {}

    def opener(model: str, memory: MemorySettings) -> Backend:
        if model not in opened:
            opened[model] = backend_opener(model, memory)
        return opened[model]
    return opener


def build_draft(brief_path: Path, options: RunOptions, reporter: Reporter, backend_opener: BackendOpener) -> RunResult:
    started, now = time.perf_counter(), utc_now()
    prep = prepare(brief_path, options, now)
    loaded, kind, sources = prep.loaded, prep.kind, prep.sources
    key = kind.key(loaded, sources)
    dry_prompts(prep)  # a template error is reported as itself, not as "a draft already exists"
    check_target(options.out_root, kind.folder, key, options.force)  # before the slow part
    backend = backend_opener(model_for(loaded, options.model), loaded.brief.memory)
    load_s = time.perf_counter() - started
    stages = kind.run_stages(backend, loaded, sources, prep.context, reporter)
    blocks, prompts = prose_prompts(prep, stages)
    batched, max_batch = batching(loaded, backend)
    generation = generate_sections(backend, prompts, reporter, batched, max_batch, section_cache(options, backend))
    verified = kind.verify(loaded, sources, blocks, generation.sections, stages, options.strict)
    status = run_status(verified.sections, verified.findings)
    run_id, model = new_run_id(now), backend.describe()
    pages = kind.assemble(loaded, sources, draft_sections(loaded, blocks, verified.sections), model.spec, run_id)
    timings = Timings(load_s, time.perf_counter() - started, generation.prefix_s, generation.shared_prefix_tokens,
                      generation.decode_s)
    record = RunRecord(loaded, run_id, now.isoformat(timespec="seconds"), status, model, verified.sections,
                       totals(verified.sections, stages.results, timings), kind.record(loaded, sources, stages, verified),
                       kind.name, verified.reference, batched)
    manifest = build_manifest(record, pages)
    files = {**pages, "run.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
             "review.html": review_page(Path(key), manifest, pages["index.md"])}
    target = write_draft(options.out_root, Draft(kind.folder, key, files), options.force)
    kind.after_write(options.out_root, brief_path, sources)
    refresh_index(options.out_root)
    return RunResult(target, sorted(files), status, run_id, model.spec, record.sections, record.totals,
                     record.sources, manifest)


def section_cache(options: RunOptions, backend: Backend) -> SectionCache | None:
    if not backend.capabilities.reproducible:
        return None
    cache = SectionCache(state_dir(options.out_root) / "sections", backend.describe(), read=not options.fresh)
    cache.clean()
    return cache


def batching(loaded: LoadedBrief, backend: Backend) -> tuple[bool, int]:
    """(batched?, max batch) from the brief; "auto" batches where the backend says batching pays."""
    settings = loaded.brief.generation
    batched = settings.mode == "batched" or (settings.mode == "auto" and backend.capabilities.batching_pays)
    return batched, settings.max_batch


def run_status(sections: list[SectionResult], findings: list) -> str:
    attention = any(s.needs_attention for s in sections) or any(f.severity == ATTENTION for f in findings)
    return "needs_attention" if attention else "ok"


def draft_sections(loaded: LoadedBrief, blocks: dict[int, str], results: list[SectionResult]) -> list[DraftSection]:
    """Every section in brief order: model prose, or its deterministic block."""
    by_index = {r.prompt.index: r for r in results}
    sections = []
    for index, section in enumerate(loaded.brief.sections):
        if index in by_index:
            result = by_index[index]
            notes = tuple(f.message for f in result.findings if f.severity == ATTENTION)
            sections.append(DraftSection(section.heading, result.text, notes))
        else:
            sections.append(DraftSection(section.heading, blocks.get(index, ""), (), raw=True))
    return sections
