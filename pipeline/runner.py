"""The orchestrator: reads like a table of contents. Gather everything, then write once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from .assemble import DraftSection, assemble_post, post_key
from .backends import open_backend
from .config import load_brief
from .generate import SectionResult, generate_sections
from .manifest import build_manifest
from .progress import Reporter
from .quality import ATTENTION
from .prompts import render_prompts
from .writer import check_target, write_draft


@dataclass(frozen=True)
class RunOptions:
    out_root: Path = Path("output")
    force: bool = False
    model: str | None = None  # overrides the brief's model


@dataclass
class RunResult:
    draft_dir: Path
    files: list[str]
    status: str  # "ok" or "needs_attention"
    sections: list[SectionResult]
    manifest: dict


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def draft_section(result: SectionResult) -> DraftSection:
    notes = tuple(f.message for f in result.findings if f.severity == ATTENTION)
    return DraftSection(result.prompt.heading, result.text, notes)


def run_brief(brief_path: Path, options: RunOptions, reporter: Reporter, backend_opener=open_backend) -> RunResult:
    started, now = time.perf_counter(), dt.datetime.now(dt.timezone.utc)
    loaded = load_brief(brief_path)
    prompts = render_prompts(loaded)
    check_target(options.out_root, "posts", post_key(loaded.brief), options.force)  # before the slow part
    backend = backend_opener(options.model or loaded.brief.model, loaded.brief.memory)
    load_s = time.perf_counter() - started
    generation = generate_sections(backend, prompts, reporter)
    results = generation.sections
    status = "needs_attention" if any(r.needs_attention for r in results) else "ok"
    run_id = new_run_id(now)
    draft = assemble_post(loaded.brief, [draft_section(r) for r in results], backend.model, run_id)
    timings = {"load_s": load_s, "total_s": time.perf_counter() - started,
               "shared_prefix_tokens": generation.shared_prefix_tokens, "prefix_s": generation.prefix_s}
    manifest = build_manifest(loaded=loaded, run_id=run_id, backend=backend, results=results,
                              timings=timings, status=status, started_at=now.isoformat(timespec="seconds"))
    draft = dataclasses.replace(draft, files={**draft.files, "run.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"})
    target = write_draft(options.out_root, draft, options.force)
    return RunResult(target, sorted(draft.files), status, results, manifest)

