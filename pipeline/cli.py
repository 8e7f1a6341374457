"""Thin click commands: parse options, set up logging, call the runner, map errors to exit codes."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import signal
import sys
from pathlib import Path

import click

from . import errors
from .backends import open_backend, open_prompt_formatter
from .checks.files import check_text
from .progress import make_reporter
from .config import load_brief
from .schedule import Job, When, crontab_line, launchd_name, launchd_plist, parse_at, systemd_units
from .runner import RunOptions, dry_prompts, prepare, reuse_backend, run_with_catch_up

log = logging.getLogger("pipeline")


class Terminated(Exception):
    """SIGTERM (cron's or systemd's stop) becomes an exception so cleanup code runs."""


def _on_sigterm(signum, frame):
    raise Terminated()


def setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S", force=True)


def emit_json(obj: dict) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def fail(exc: errors.PipelineError, as_json: bool) -> None:
    click.echo(f"error: {exc}", err=True)
    if as_json:
        emit_json({"status": "error", "error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code})
    sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pipeline")
def main() -> None:
    """Turn YAML briefs into draft posts, one short MLX generation per section."""


brief_argument = click.argument("brief", type=click.Path(dir_okay=False, path_type=Path))


@main.command()
@click.argument("briefs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--model", help="Override the brief's model (folder, hub id or builtin:smollm2).")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Output root folder.")
@click.option("--force", is_flag=True, help="Replace an existing draft.")
@click.option("--week", help="Newsletters: build this ISO week, e.g. 2026-W16.")
@click.option("--offline", is_flag=True, help="Newsletters: read feeds from the cache (and snapshots) only.")
@click.option("--strict", is_flag=True, help="Unverified numbers in model prose need attention (exit 3).")
@click.option("-v", "--verbose", count=True, help="More log detail.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def run(ctx: click.Context, briefs: tuple[Path, ...], as_json: bool, model: str | None, out_root: Path, force: bool,
        week: str | None, offline: bool, strict: bool, verbose: int, quiet: bool) -> None:
    """Generate a draft from each BRIEF into output/ (the model is loaded once for all of them)."""
    setup_logging(verbose, quiet)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    opener = reuse_backend((ctx.obj or {}).get("backend_opener", open_backend))  # tests pass a fake backend
    options, outcomes = RunOptions(out_root, force, model, week, offline, strict), []
    try:
        for brief in briefs:
            outcomes.append(run_one(brief, options, make_reporter(quiet), opener, len(briefs) > 1))
    except errors.PipelineError as exc:
        fail(exc, as_json)
    except (KeyboardInterrupt, Terminated) as exc:
        code = 143 if isinstance(exc, Terminated) else errors.EXIT_INTERRUPTED
        click.echo("interrupted: nothing more was written; existing drafts are untouched", err=True)
        sys.exit(code)
    finally:
        signal.signal(signal.SIGTERM, previous)
    report(outcomes, as_json)
    sys.exit(exit_code(outcomes))


def run_one(brief: Path, options: RunOptions, reporter, opener, keep_going: bool):
    """One brief's drafts, or its error: with several briefs, one bad brief does not stop the rest."""
    try:
        return brief, run_with_catch_up(brief, options, reporter, opener)
    except errors.PipelineError as exc:
        if not keep_going:
            raise
        click.echo(f"error: {brief}: {exc}", err=True)
        return brief, exc


def exit_code(outcomes) -> int:
    failures = [o for _, o in outcomes if isinstance(o, errors.PipelineError)]
    if failures:
        return failures[0].exit_code
    attention = any(r.status == "needs_attention" for _, results in outcomes for r in results)
    return errors.EXIT_ATTENTION if attention else errors.EXIT_OK


def report(outcomes, as_json: bool) -> None:
    if as_json:
        runs = [run_record(brief, outcome) for brief, outcome in outcomes]
        statuses = [r["status"] for r in runs]
        status = "error" if "error" in statuses else "needs_attention" if "needs_attention" in statuses else "ok"
        emit_json(runs[0] if len(runs) == 1 else {"status": status, "runs": runs})
        return
    for _, outcome in outcomes:
        if not isinstance(outcome, errors.PipelineError):
            report_text(outcome)


def run_record(brief: Path, outcome) -> dict:
    if isinstance(outcome, errors.PipelineError):
        return {"brief": str(brief), "status": "error", "error": outcome.message, "hint": outcome.hint,
                "exit_code": outcome.exit_code}
    result = outcome[-1]  # the draft asked for; earlier ones are weeks caught up
    return {
        "brief": str(brief),
        "status": "needs_attention" if any(r.status == "needs_attention" for r in outcome) else "ok",
        "caught_up": [str(r.draft_dir) for r in outcome[:-1]],
        "draft_dir": str(result.draft_dir),
        "files": [str(result.draft_dir / name) for name in result.files],
        "run_id": result.manifest["run_id"],
        "model": result.manifest["model"]["spec"],
        "totals": result.manifest["totals"],
        "sections": [section_summary(s) for s in result.manifest["sections"]],
        **({"feeds": result.manifest["sources"]["feeds"], "numbers": result.manifest["sources"]["number_audit"]}
           if "sources" in result.manifest else {}),
    }


def report_text(results) -> None:
    for earlier in results[:-1]:
        click.echo(f"caught up: {earlier.draft_dir / 'index.md'}")
    result = results[-1]
    totals = result.manifest["totals"]
    click.echo(f"draft: {result.draft_dir / 'index.md'}")
    click.echo(f"{totals['tokens_out']} tokens in {totals['total_s']:.1f}s ({totals['tok_s']} tok/s), "
               f"status: {result.status}", err=True)
    for section in result.manifest["sections"]:
        for finding in section["findings"]:
            if finding["severity"] == "attention":
                click.echo(f"needs attention: [{section['index'] + 1}] {section['heading']}: {finding['message']}", err=True)
    if "sources" in result.manifest:
        report_sources(result.manifest["sources"])


def report_sources(sources: dict) -> None:
    """Newsletters: the feeds that did not answer normally, and the number check, for the reviewer."""
    for feed in sources["feeds"]:
        if feed["status"] not in ("ok", "not_modified"):
            cached = ", cached copy used" if feed["from_cache"] else ""
            click.echo(f"feed {feed['name']}: {feed['status']} ({feed['detail']}{cached}), {feed['items']} items", err=True)
    audit = sources["number_audit"]
    flagged = f": {', '.join(audit['unverified'])}" if audit["unverified"] else ""
    click.echo(f"numbers in model prose: {audit['verified']} of {audit['numbers']} verified against the data"
               f"{flagged}", err=True)


def section_summary(section: dict) -> dict:
    chosen = section["attempts"][section["chosen_attempt"] - 1]
    return {
        "heading": section["heading"], "status": section["status"], "attempts": len(section["attempts"]),
        "enable_thinking": section["enable_thinking"], "tokens_in": chosen["tokens_in"],
        "tokens_out": chosen["tokens_out"], "tok_s": chosen["tok_s"], "wall_s": chosen["wall_s"],
        "finish_reason": chosen["finish_reason"], "findings": [f["code"] for f in section["findings"]],
    }


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def check(files: tuple[Path, ...], as_json: bool) -> None:
    """Run the quality checks (collapse, leaked think markers, text cut mid-sentence) on FILES."""
    reports = []
    for path in files:
        try:
            reports.append(check_text(str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            fail(errors.InputError(f"{path}: cannot read as UTF-8 text: {getattr(exc, 'strerror', None) or exc}",
                                      hint="check the path; pipeline check reads text and markdown files"), as_json)
    clean = all(r.clean for r in reports)
    if as_json:
        emit_json({"clean": clean, "files": [r.as_dict() for r in reports]})
    else:
        for report in reports:
            click.echo("\n".join(describe(report)))
    sys.exit(errors.EXIT_OK if clean else errors.EXIT_ATTENTION)


def describe(report) -> list[str]:
    if report.clean:
        return [f"{report.path}: clean"]
    lines = [f"{report.path}:{c['line']}: collapse ({c['signal']}) at character {c['onset']}"
             + (f" in section {c['section']!r}" if c["section"] else "") for c in report.collapses]
    lines += [f"{report.path}: leaked markers: {', '.join(report.think_leaks)}"] if report.think_leaks else []
    lines += [f"{report.path}:{m['line']}: text ends mid-sentence" + (f" in section {m['section']!r}" if m["section"] else "")
              for m in report.mid_sentence]
    return lines


@main.command()
@brief_argument
@click.option("--at", "at", required=True, help='Day and 24-hour time, e.g. "mon 07:00".')
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Log file (default: output/logs/<brief>.log).")
@click.option("--install", is_flag=True, help="Write the systemd user units (Linux) or the launchd agent (macOS).")
def schedule(brief: Path, at: str, log_path: Path | None, install: bool) -> None:
    """Print a crontab line, a systemd user timer and a launchd agent that build BRIEF weekly."""
    try:
        when = parse_at(at)
        load_brief(brief)  # never schedule a brief that would fail
    except errors.PipelineError as exc:
        fail(exc, False)
    workdir = Path.cwd().resolve()
    log = (log_path or Path("output") / "logs" / f"{brief.stem}.log").resolve()
    job = Job(f"pipeline-{brief.stem}", workdir, [*pipeline_command(), "run", str(brief.resolve())], log)
    log.parent.mkdir(parents=True, exist_ok=True)
    click.echo(f"# cron (crontab -e), runs {at}; logs to {log}\n{crontab_line(job, when)}\n")
    for name, text in systemd_units(job, when).items():
        click.echo(f"# systemd user unit: ~/.config/systemd/user/{name}\n{text}")
    click.echo(f"# launchd agent (macOS): ~/Library/LaunchAgents/{launchd_name(job)}\n{launchd_plist(job, when)}")
    if install:
        for path in install_units(job, when):
            click.echo(f"installed {path}", err=True)


def pipeline_command() -> list[str]:
    """This installation's pipeline, by absolute path: cron and launchd have almost no PATH."""
    candidate = Path(sys.argv[0])
    if candidate.name == "pipeline" and candidate.exists():
        return [str(candidate.absolute())]
    found = shutil.which("pipeline")
    return [found] if found else [sys.executable, "-m", "pipeline"]


def install_units(job: Job, when: When) -> list[Path]:
    if sys.platform == "darwin":
        target = Path.home() / "Library" / "LaunchAgents" / launchd_name(job)
        files = {target: launchd_plist(job, when)}
        hint = f"launchctl load {target}"
    else:
        folder = Path.home() / ".config" / "systemd" / "user"
        files = {folder / name: text for name, text in systemd_units(job, when).items()}
        hint = f"systemctl --user daemon-reload && systemctl --user enable --now {job.name}.timer"
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    click.echo(f"now run: {hint}", err=True)
    return list(files)


week_option = click.option("--week", help="Newsletters: the ISO week to prepare, e.g. 2026-W16.")


def dry_run(brief: Path, week: str | None):
    """Brief, sources (offline: cache and snapshots only) and prompts, without a model."""
    prep = prepare(brief, RunOptions(week=week, offline=True), dt.datetime.now(dt.timezone.utc))
    prompts, news = dry_prompts(prep)
    return prep, prompts, news


@main.command()
@brief_argument
@week_option
def validate(brief: Path, week: str | None) -> None:
    """Check BRIEF, its data and its templates without loading a model or using the network."""
    setup_logging(0, True)
    try:
        prep, prompts, news = dry_run(brief, week)
    except errors.PipelineError as exc:
        fail(exc, False)
    sections, stages = prep.loaded.brief.sections, ", ".join(prep.loaded.brief.stages)
    if prep.gathered is None:
        click.echo(f"{brief}: ok ({len(sections)} sections, stages: {stages})")
        return
    fed = sum(len(f.items) for f in prep.gathered.feeds)
    click.echo(f"{brief}: ok ({len(sections)} sections: {len(prompts)} written by the model, {len(news)} news, "
               f"{len(sections) - len(prompts) - len(news)} from data; stages: {stages}; week {prep.gathered.week.key}: "
               f"{len(prep.gathered.selection.items)} of {fed} feed items in the week, offline)")


@main.command()
@brief_argument
@click.option("--model", help="Override the brief's model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@week_option
@click.pass_context
def render(ctx: click.Context, brief: Path, model: str | None, as_json: bool, week: str | None) -> None:
    """Print each section's messages and the exact prompt text the model will see."""
    setup_logging(0, True)
    try:
        prep, prompts, _ = dry_run(brief, week)
        loaded = prep.loaded
        opener = (ctx.obj or {}).get("formatter_opener", open_prompt_formatter)
        formatter = opener(model or loaded.brief.model)
    except errors.PipelineError as exc:
        fail(exc, as_json)
    rendered = [(p, formatter.chat_prompt(p.messages, p.enable_thinking)) for p in prompts]
    if as_json:
        emit_json({"model": formatter.model, "sections": [
            {"index": p.index, "heading": p.heading, "stage": p.stage, "enable_thinking": p.enable_thinking,
             "max_tokens": p.settings.max_tokens, "messages": list(p.messages), "prompt": text}
            for p, text in rendered]})
        return
    for prompt, text in rendered:
        click.echo(f"=== [{prompt.index + 1}] {prompt.heading} — stage {prompt.stage}, "
                   f"enable_thinking={prompt.enable_thinking}, max_tokens={prompt.settings.max_tokens}")
        for message in prompt.messages:
            click.echo(f"--- {message['role']}\n{message['content']}")
        click.echo(f"--- prompt as the model sees it\n{text}\n")
