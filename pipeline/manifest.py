"""run.json: everything needed to audit or reproduce a draft. Pure: builds a dict."""

from __future__ import annotations

import dataclasses
import platform
import sys
from importlib.metadata import PackageNotFoundError, version

from .config import LoadedBrief
from .generate import Attempt, SectionResult

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
        "memory_gb": {"active": round(stats.active_memory_gb, 4), "peak": round(stats.peak_memory_gb, 4),
                      "cache": round(stats.cache_memory_gb, 4), "cache_cleared": stats.cache_cleared},
        "reasoning_chars_removed": attempt.reasoning_chars,
        "usable": attempt.usable,
        "findings": [dataclasses.asdict(f) for f in attempt.findings],
        "raw_text": attempt.raw_text,
    }


def section_record(result: SectionResult) -> dict:
    prompt = result.prompt
    return {
        "index": prompt.index,
        "heading": prompt.heading,
        "stage": prompt.stage,
        "template": prompt.template,
        "enable_thinking": prompt.enable_thinking,
        "settings": prompt.settings.model_dump(),
        "target_words": prompt.target_words,
        "messages": list(prompt.messages),
        "rendered_prompt": result.rendered_prompt,
        "status": "needs_attention" if result.needs_attention else "ok",
        "chosen_attempt": result.chosen.number,
        "findings": [dataclasses.asdict(f) for f in result.findings],
        "attempts": [attempt_record(a) for a in result.attempts],
    }


def totals(results: list[SectionResult], timings: dict) -> dict:
    attempts = [a for r in results for a in r.attempts]
    generation_s = timings["prefix_s"] + timings.get("news_s", 0.0) + sum(a.stats.wall_s for a in attempts)
    tokens_out = sum(a.stats.generation_tokens for a in attempts)
    total = timings["total_s"]
    outside = max(total - timings["load_s"] - generation_s, 0.0)
    return {
        "sections": len(results),
        "attempts": len(attempts),
        "tokens_in": sum(a.stats.prompt_tokens for a in attempts),
        "shared_prefix_tokens": timings["shared_prefix_tokens"],  # prefilled once, reused by every call
        "tokens_out": tokens_out,
        "generation_s": round(generation_s, 3),
        "tok_s": round(tokens_out / generation_s, 2) if generation_s else 0.0,
        "load_s": round(timings["load_s"], 3),
        "total_s": round(total, 3),
        "outside_model_s": round(outside, 3),
        "outside_model_share": round(outside / total, 4) if total else 0.0,
        "peak_memory_gb": round(max((a.stats.peak_memory_gb for a in attempts), default=0.0), 4),
    }


def build_manifest(*, loaded: LoadedBrief, run_id: str, backend, results: list[SectionResult],
                   timings: dict, status: str, started_at: str, sources: dict | None = None) -> dict:
    budget = getattr(backend, "budget", None)
    resolved = getattr(backend, "resolved", None)
    return {
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        "status": status,
        "started_at": started_at,
        "brief": {"path": str(loaded.path), "sha256": loaded.sha256},
        "model": {"spec": backend.model, "backend": backend.name,
                  "source": resolved.source if resolved else None},
        "memory_budget_gb": budget.as_gb() if budget else None,
        "stages": {name: s.model_dump() for name, s in loaded.brief.stages.items()},
        "environment": {"python": sys.version.split()[0], "platform": platform.platform(),
                        "pipeline": package_version("pipeline"), "mlx": package_version("mlx"),
                        "mlx_lm": package_version("mlx-lm")},
        "totals": totals(results, timings),
        "sections": [section_record(r) for r in results],
        **({"sources": sources} if sources else {}),
    }
