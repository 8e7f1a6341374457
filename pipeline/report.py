"""Typed results → text lines or one JSON object. The CLI prints what this returns; nothing here
reads run.json back."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from .checks.files import FileReport
from .checks.findings import ATTENTION
from .errors import PipelineError
from .generate import SectionResult
from .kinds import SourcesRecord
from .recheck import DraftReport
from .redo import Redone
from .runner import RunResult

Outcome = tuple[Path, "list[RunResult] | PipelineError"]  # one brief: its drafts (caught-up weeks first), or its error


def error_record(exc: PipelineError) -> dict:
    return error_object(exc.message, exc.hint, exc.exit_code)


def error_object(message: str, hint: str | None, exit_code: int) -> dict:
    """What --json prints for any error, ours or a usage error click found."""
    return {"status": "error", "error": message, "hint": hint, "exit_code": exit_code}


# -- run ------------------------------------------------------------------------------------------
def runs_json(outcomes: list[Outcome]) -> dict:
    runs = [run_json(brief, outcome) for brief, outcome in outcomes]
    if len(runs) == 1:
        return runs[0]
    statuses = [r["status"] for r in runs]
    status = "error" if "error" in statuses else "needs_attention" if "needs_attention" in statuses else "ok"
    return {"status": status, "runs": runs}


def run_json(brief: Path, outcome: list[RunResult] | PipelineError) -> dict:
    if isinstance(outcome, PipelineError):
        return {"brief": str(brief), **error_record(outcome)}
    result = outcome[-1]  # the draft asked for; earlier ones are weeks caught up
    return {
        "brief": str(brief),
        "status": "needs_attention" if any(r.status == "needs_attention" for r in outcome) else "ok",
        "caught_up": [str(r.draft_dir) for r in outcome[:-1]],
        "draft_dir": str(result.draft_dir),
        "files": [str(result.draft_dir / name) for name in result.files],
        "run_id": result.run_id,
        "model": result.model,
        "totals": asdict(result.totals),
        "sections": [section_json(s) for s in result.sections],
        **(sources_json(result.sources) if result.sources else {}),
    }


def sources_json(sources: SourcesRecord) -> dict:
    return {"feeds": [f.record() for f in sources.feeds], "numbers": asdict(sources.audit) if sources.audit else None,
            "news": sources.news, "findings": [asdict(f) for f in sources.findings]}


def section_json(section: SectionResult) -> dict:
    chosen = section.chosen
    stats = chosen.stats
    return {
        "heading": section.prompt.heading, "status": "needs_attention" if section.needs_attention else "ok",
        "attempts": len(section.attempts), "enable_thinking": section.prompt.enable_thinking,
        "tokens_in": stats.prompt_tokens, "tokens_out": stats.generation_tokens,
        "tok_s": round(stats.generation_tps, 2), "wall_s": round(stats.wall_s, 3),
        "finish_reason": chosen.finish_reason, "findings": [f.code for f in section.findings],
    }


def run_lines(results: list[RunResult]) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines) for one brief's drafts."""
    out = [f"caught up: {earlier.draft_dir / 'index.md'}" for earlier in results[:-1]]
    result = results[-1]
    out.append(f"draft: {result.draft_dir / 'index.md'}")
    totals = result.totals
    err = [f"{totals.tokens_out} tokens in {totals.total_s:.1f}s, status: {result.status}"]
    err += [f"  stage {name}: {s['calls']} call{'s' if s['calls'] != 1 else ''}, {s['tokens_out']} tokens in "
            f"{s['seconds']:.1f}s ({s['tok_s']} tok/s)" for name, s in totals.per_stage.items()]
    err += [f"needs attention: [{s.prompt.index + 1}] {s.prompt.heading}: {f.message}"
            for s in result.sections for f in s.findings if f.severity == ATTENTION]
    return out, err + (sources_lines(result.sources) if result.sources else [])


def sources_lines(sources: SourcesRecord) -> list[str]:
    """Feeds that did not answer normally, and the number check, for the reviewer."""
    lines = [f"news {n['heading']!r}: {n['picked']} items, picked by the model" if n["method"] == "model"
             else f"news {n['heading']!r}: {n['picked']} items, {n['method']}" for n in sources.news]
    lines += [f"needs attention: {f.message}" for f in sources.findings if f.severity == ATTENTION]
    for feed in sources.feeds:
        if feed.status not in ("ok", "not_modified"):
            cached = ", cached copy used" if feed.from_cache and "snapshot" not in feed.detail else ""
            lines.append(f"feed {feed.name}: {feed.status} ({feed.detail}{cached}), {len(feed.items)} items")
    audit = sources.audit
    if audit:
        flagged = f": {', '.join(audit.unverified)}" if audit.unverified else ""
        lines.append(f"numbers in model prose: {audit.verified} of {audit.numbers} verified against the data{flagged}")
    return lines


# -- check ----------------------------------------------------------------------------------------
def check_json(reports: list[FileReport | DraftReport]) -> dict:
    files = [r.as_dict() for r in reports if isinstance(r, FileReport)]
    drafts = [r.as_dict() for r in reports if isinstance(r, DraftReport)]
    return {"clean": all(r.clean for r in reports), "files": files, **({"drafts": drafts} if drafts else {})}


def check_lines(report: FileReport | DraftReport) -> list[str]:
    if isinstance(report, DraftReport):
        return draft_check_lines(report)
    if report.clean:
        return [f"{report.path}: clean"]
    lines = [f"{report.path}:{c['line']}: collapse ({c['signal']}) at character {c['onset']}"
             + (f" in section {c['section']!r}" if c["section"] else "") for c in report.collapses]
    lines += [f"{report.path}: leaked markers: {', '.join(report.think_leaks)}"] if report.think_leaks else []
    lines += [f"{report.path}:{m['line']}: text ends mid-sentence" + (f" in section {m['section']!r}" if m["section"] else "")
              for m in report.mid_sentence]
    lines += [f"{report.path}:{line}: the run's 'Needs attention' note is still here: fix what it says, then delete it"
              for line in report.review_notes]
    return lines


def draft_check_lines(report: DraftReport) -> list[str]:
    """One line per finding, `index.md:LINE: [severity] code in 'Heading': message`, then the verdict."""
    index = f"{report.path}/index.md"
    lines = [f"{index}:{s.line}: [{f.severity}] {f.code} in {s.heading!r}: {f.message}"
             for s in report.sections for f in s.findings]
    attention = sum(f.severity == ATTENTION for s in report.sections for f in s.findings)
    verdict = "clean" if report.clean else f"{attention} finding(s) need attention before publishing"
    return [*lines, f"{report.path}: {verdict}"]


# -- redo -----------------------------------------------------------------------------------------
def redo_json(done: Redone) -> dict:
    return {"draft_dir": str(done.draft_dir), "status": done.status, "sections": [section_json(s) for s in done.sections]}


def redo_lines(done: Redone) -> list[str]:
    lines = [f"redone: [{s.prompt.index + 1}] {s.prompt.heading} (seed {s.prompt.settings.seed}, "
             f"{sum(a.stats.generation_tokens for a in s.attempts)} tokens)" for s in done.sections]
    lines += [f"needs attention: {s.prompt.heading}: {f.message}" for s in done.sections for f in s.findings
              if f.severity == ATTENTION]
    return [*lines, f"draft: {done.draft_dir / 'index.md'} (status: {done.status})"]


# -- render ---------------------------------------------------------------------------------------
def render_json(model: str, rendered: list[tuple]) -> dict:
    return {"model": model, "sections": [
        {"index": p.index, "heading": p.heading, "stage": p.stage, "enable_thinking": p.enable_thinking,
         "max_tokens": p.settings.max_tokens, "template_files": list(p.template_files),
         "messages": list(p.messages), "prompt": text}
        for p, text in rendered]}


def render_lines(rendered: list[tuple]) -> list[str]:
    lines = []
    for prompt, text in rendered:
        lines.append(f"=== [{prompt.index + 1}] {prompt.heading} — stage {prompt.stage}, "
                     f"enable_thinking={prompt.enable_thinking}, max_tokens={prompt.settings.max_tokens}")
        lines.append(f"--- templates: {', '.join(prompt.template_files)}")
        lines.append(f"--- prompt as the model sees it (system and user messages in the chat template)\n{text}\n")
    return lines
