"""run.json: everything needed to audit or reproduce a draft. The one place it is built. Pure."""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from .backends import ModelInfo
from .checks.prose import Reference
from .config import LoadedBrief
from .generate import Attempt, SectionResult

if TYPE_CHECKING:
    from .kinds import SourcesRecord  # kinds build their records with this module's section_record

SCHEMA_VERSION = 1


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def attempt_record(attempt: Attempt) -> dict:
    stats = attempt.stats
    return {
        "number": attempt.number,
        "rung": attempt.rung,
        "seed": attempt.seed,
        "settings_changed": attempt.settings,
        "finish_reason": attempt.finish_reason,
        "collapse": attempt.collapse.as_dict() if attempt.collapse else None,
        "tokens_after_onset": attempt.tokens_after_onset,
        "tokens_in": stats.prompt_tokens,
        "prefix_tokens_reused": stats.prefix_tokens_reused,
        "tokens_out": stats.generation_tokens,
        "tok_s": round(stats.generation_tps, 2),
        "prompt_tok_s": round(stats.prompt_tps, 2),
        "wall_s": round(stats.wall_s, 3),
        "constrained": attempt.constrained,
        "constraint_s": round(stats.constraint_s, 3),
        "memory_gb": {"active": round(stats.active_memory_gb, 4), "peak": round(stats.peak_memory_gb, 4),
                      "cache": round(stats.cache_memory_gb, 4), "cache_cleared": stats.cache_cleared},
        "reasoning_chars_removed": attempt.reasoning_chars,
        "reasoning_tokens": stats.reasoning_tokens,
        "thinking_budget_hit": stats.thinking_budget_hit,
        "usable": attempt.usable,
        "findings": [dataclasses.asdict(f) for f in attempt.findings],
        "raw_text": attempt.raw_text,
    }


def section_record(result: SectionResult) -> dict:
    prompt = result.prompt
    structured = result.task.parse is not None
    return {
        "index": prompt.index,
        "heading": prompt.heading,
        "stage": prompt.stage,
        "template": prompt.template,
        **({"template_files": list(prompt.template_files)} if prompt.template_files else {}),
        "enable_thinking": prompt.enable_thinking,
        "settings": prompt.settings.model_dump(),
        "target_words": prompt.target_words,
        "language": prompt.language,
        "messages": list(prompt.messages),
        "rendered_prompt": result.rendered_prompt,
        "status": "needs_attention" if result.needs_attention else "ok",
        "chosen_attempt": result.chosen.number,
        "from_cache": result.from_cache,
        "findings": [dataclasses.asdict(f) for f in result.findings],
        "attempts": [attempt_record(a) | ({"error": a.error} if structured else {}) for a in result.attempts],
    }


@dataclass(frozen=True)
class Timings:
    load_s: float  # opening the backend (model load)
    total_s: float
    prefix_s: float  # prefilling the prompt prefix the sections share
    shared_prefix_tokens: int
    decode_s: float  # the sections' calls, wall time (batched calls overlap)


@dataclass(frozen=True)
class Totals:
    sections: int
    attempts: int
    tokens_in: int
    shared_prefix_tokens: int  # prefilled once, reused by every call
    tokens_out: int
    generation_s: float
    tok_s: float
    load_s: float
    total_s: float
    outside_model_s: float
    outside_model_share: float
    peak_memory_gb: float
    per_stage: dict = field(default_factory=dict)  # stage -> {calls, tokens_out, seconds, tok_s}


def per_stage(results: list[SectionResult], stage_results: list[SectionResult], prose_s: float) -> dict:
    """Tokens and time per stage (the news pick apart from the prose), so one stage's speed is not hidden in
    another's. Structured stages run one call at a time; prose calls may overlap in a batch, so the prose
    stages share the sections' wall time (`prose_s`) in proportion to their tokens."""
    calls: dict[str, list] = {}
    seconds: dict[str, float] = {}
    for r in stage_results:
        calls.setdefault(r.prompt.stage, []).extend(r.attempts)
        seconds[r.prompt.stage] = seconds.get(r.prompt.stage, 0.0) + sum(a.stats.wall_s for a in r.attempts)
    prose = [r for r in results if not r.from_cache]
    prose_tokens = sum(a.stats.generation_tokens for r in prose for a in r.attempts) or 1
    for r in prose:
        calls.setdefault(r.prompt.stage, []).extend(r.attempts)
        share = sum(a.stats.generation_tokens for a in r.attempts) / prose_tokens
        seconds[r.prompt.stage] = seconds.get(r.prompt.stage, 0.0) + prose_s * share
    report = {}
    for stage, attempts in calls.items():
        tokens = sum(a.stats.generation_tokens for a in attempts)
        report[stage] = {"calls": len(attempts), "tokens_out": tokens, "seconds": round(seconds[stage], 3),
                         "tok_s": round(tokens / seconds[stage], 2) if seconds[stage] else 0.0}
    return report


def totals(results: list[SectionResult], stage_results: list[SectionResult], timings: Timings) -> Totals:
    """What this run spent: model time and tokens count the structured stages too (the news pick), with a
    breakdown per stage; sections kept by an interrupted run cost nothing now."""
    attempts = [a for r in results if not r.from_cache for a in r.attempts]
    stage_attempts = [a for r in stage_results for a in r.attempts]
    prose_s = timings.prefix_s + timings.decode_s
    generation_s = prose_s + sum(a.stats.wall_s for a in stage_attempts)
    tokens_out = sum(a.stats.generation_tokens for a in [*attempts, *stage_attempts])
    total = timings.total_s
    outside = max(total - timings.load_s - generation_s, 0.0)
    return Totals(
        sections=len(results), attempts=len(attempts), tokens_in=sum(a.stats.prompt_tokens for a in attempts),
        shared_prefix_tokens=timings.shared_prefix_tokens, tokens_out=tokens_out,
        generation_s=round(generation_s, 3), tok_s=round(tokens_out / generation_s, 2) if generation_s else 0.0,
        load_s=round(timings.load_s, 3), total_s=round(total, 3), outside_model_s=round(outside, 3),
        outside_model_share=round(outside / total, 4) if total else 0.0,
        peak_memory_gb=round(max((a.stats.peak_memory_gb for a in attempts), default=0.0), 4),
        per_stage=per_stage(results, stage_results, prose_s),
    )


@dataclass(frozen=True)
class RunRecord:
    """Everything run.json says about one run."""

    loaded: LoadedBrief
    run_id: str
    started_at: str
    status: str
    model: ModelInfo
    sections: list[SectionResult]
    totals: Totals
    sources: SourcesRecord | None = None  # the kind's own part (a newsletter's week, feeds, picks, number audit)
    kind: str = "post"
    reference: Reference | None = None  # what prose was checked against: `pipeline check DRAFT_DIR` reuses it
    batched: bool = False  # sections decoded together (generation.mode, or auto's measurement)


def build_manifest(run: RunRecord, pages: dict[str, str] | None = None) -> dict:
    """`pages` are the draft's other files: their hashes tell a reviewer's edits from the run's text."""
    return {
        "schema": SCHEMA_VERSION,
        "run_id": run.run_id,
        "kind": run.kind,
        "status": run.status,
        "started_at": run.started_at,
        "brief": {"path": str(run.loaded.path), "sha256": run.loaded.sha256},
        "model": {"spec": run.model.spec, "backend": run.model.backend, "source": run.model.source,
                  **({"weights": run.model.weights} if run.model.weights else {}),
                  **({"batching": run.model.batching} if run.model.batching else {})},
        "memory_budget_gb": run.model.memory_budget_gb,
        "stages": {name: s.model_dump() for name, s in run.loaded.brief.stages.items()},
        "generation": {"mode": "batched" if run.batched else "sequential",
                       "requested": run.loaded.brief.generation.mode, "max_batch": run.loaded.brief.generation.max_batch},
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "pipeline": package_version("pipeline"), "mlx": package_version("mlx"),
                        "mlx_lm": package_version("mlx-lm"), **({"blas": run.model.blas} if run.model.blas else {})},
        "totals": dataclasses.asdict(run.totals),
        "sections": [section_record(r) for r in run.sections],
        # every section's heading and type: `pipeline check` tells a renamed prose section from a data block by it
        "layout": [{"heading": s.heading, "type": s.type} for s in run.loaded.brief.sections],
        **({"sources": run.sources.as_dict()} if run.sources else {}),
        **({"checks": run.reference.as_record()} if run.reference else {}),
        **({"files_sha256": {name: hashlib.sha256(text.encode()).hexdigest() for name, text in pages.items()}}
           if pages else {}),
    }
