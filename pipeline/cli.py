"""Thin click commands: parse options, call the stage, hand typed results to `report`, exit with its code."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

import click

from . import errors, report, writer
from .backends import check_model, model_for, open_backend, open_prompt_formatter
from .checks.collapse import ENGLISH
from .checks.files import FileReport, Judge, check_text
from .checks.tokens import collapse_of
from .config.load import key_line, missing_snapshots
from .config.schema import LANGUAGE_PATTERN
from .init import write_project
from .install import install_files
from .progress import make_reporter
from .publish import PublishOptions
from .publish import publish as publish_draft
from .publish.config import CONFIG_NAME
from .recheck import DraftReport, check_draft
from .redo import redo as redo_sections
from .review import review_json, review_lines, write_index, write_review_page, write_review_pages
from .runner import RunOptions, dry_prompts, prepare, reuse_backend, run_with_catch_up, utc_now
from .schedule import crontab_line, job_for, launchd_name, launchd_plist, next_run, parse_at, systemd_units, unit_files

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


def echo_lines(lines: Iterable[str], err: bool = False) -> None:
    for line in lines:
        click.echo(line, err=err)


def fail(exc: errors.PipelineError, as_json: bool) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    if as_json:
        emit_json(report.error_record(exc))
    sys.exit(exc.exit_code)


class JsonErrorsGroup(click.Group):
    """Click reports a usage error (a missing argument, an unknown option) as text on stderr; with --json
    on the command line, stdout gets it as the JSON error object too, so a script reading it is not left
    with nothing to parse."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            return super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            exc.show()
            context = getattr(exc, "ctx", None)  # a UsageError's; some option errors carry none
            named = argv[0] if argv and argv[0] in self.commands else ""
            command = context.command_path if context else f"pipeline {named}".strip()
            emit_json(report.error_object(exc.format_message(), f"see `{command} --help`", exc.exit_code))
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `pipeline check --json … | head`: the reader left; the Python docs' way out
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)


@click.group(cls=JsonErrorsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pipeline")
def main() -> None:
    """Turn YAML briefs into draft posts, one short MLX generation per section."""


brief_argument = click.argument("brief", type=click.Path(dir_okay=False, path_type=Path))
week_option = click.option("--week", help="Newsletters: the ISO week, e.g. 2026-W16.")


@main.command()
@click.argument("briefs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--model", help="Override the brief's model (folder, hub id, builtin:smollm2 or script:FILE).")
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Output root folder.")
@click.option("--force", is_flag=True, help="Replace an existing draft.")
@click.option("--fresh", is_flag=True, help="Generate every section, even those an interrupted run finished.")
@week_option
@click.option("--offline", is_flag=True, help="Newsletters: read feeds from the cache (and snapshots) only.")
@click.option("--strict", is_flag=True, help="Unverified numbers in model prose need attention (exit 3).")
@click.option("-v", "--verbose", count=True, help="More log detail.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def run(ctx: click.Context, briefs: tuple[Path, ...], as_json: bool, model: str | None, out_root: Path, force: bool,
        fresh: bool, week: str | None, offline: bool, strict: bool, verbose: int, quiet: bool) -> None:
    """Generate a draft from each BRIEF into output/ (the model is loaded once for all of them)."""
    setup_logging(verbose, quiet)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    opener = reuse_backend((ctx.obj or {}).get("backend_opener", open_backend))  # tests pass an in-process backend
    options, outcomes = RunOptions(out_root, force, model, week, offline, strict, fresh), []
    written_before = len(writer.WRITTEN)  # an interrupt's message names what this run wrote, and nothing else
    try:
        for brief in briefs:
            outcomes.append(run_one(brief, options, make_reporter(quiet), opener, len(briefs) > 1))
    except errors.PipelineError as exc:
        fail(exc, as_json)
    except (KeyboardInterrupt, Terminated) as exc:
        click.echo(writer.interrupted_note(written_before), err=True)
        sys.exit(143 if isinstance(exc, Terminated) else errors.EXIT_INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    print_runs(outcomes, as_json)
    sys.exit(exit_code(outcomes))


def run_one(brief: Path, options: RunOptions, reporter, opener, keep_going: bool) -> report.Outcome:
    """One brief's drafts, or its error: with several briefs, one bad brief does not stop the rest."""
    try:
        return brief, run_with_catch_up(brief, options, reporter, opener)
    except errors.PipelineError as exc:
        if not keep_going:
            raise
        click.echo(f"error: {brief}: {exc}", err=True)
        return brief, exc


def print_runs(outcomes: list[report.Outcome], as_json: bool) -> None:
    if as_json:
        emit_json(report.runs_json(outcomes))
        return
    for _, outcome in outcomes:
        if not isinstance(outcome, errors.PipelineError):
            out, err = report.run_lines(outcome)
            echo_lines(out)
            echo_lines(err, err=True)


def exit_code(outcomes: list[report.Outcome]) -> int:
    failures = [o for _, o in outcomes if isinstance(o, errors.PipelineError)]
    if failures:
        return failures[0].exit_code
    results = [r for _, o in outcomes if not isinstance(o, errors.PipelineError) for r in o]
    return errors.EXIT_ATTENTION if any(r.status == "needs_attention" for r in results) else errors.EXIT_OK


def language_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(LANGUAGE_PATTERN, value):
        raise click.BadParameter(f"{value!r} is not a language code: give one such as en, de or pt-BR")
    return value


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--read/--no-read", "read", default=True, show_default=True,
              help="Also read the text with the embedded model, which finds word salad the text signals miss "
                   "(on a 2-core CPU ~20 s for a 1,100-word draft instead of ~1 s).")
@click.option("--language", metavar="CODE", callback=language_option,
              help="The language the text is written in (en, de, pt-BR): the collapse check's English-only "
                   "signals judge only English. Default: a draft's, as its run.json recorded it; en for files.")
def check(paths: tuple[Path, ...], as_json: bool, read: bool, language: str | None) -> None:
    """Re-run every check on a draft folder (output/posts/DRAFT/) after editing it, against what its run.json
    recorded; or the text checks (collapse, leaked think markers, text cut mid-sentence) on text FILES.
    Exit 0 clean, 3 when something needs attention."""
    reports: list[FileReport | DraftReport] = []
    failures: list[tuple[Path, errors.PipelineError]] = []
    judge = functools.partial(collapse_of, read=read)
    for path in map(draft_folder_of, paths):
        try:
            reports.append(check_draft(path, judge, language) if path.is_dir()
                           else check_file(path, judge, language or ENGLISH))
        except errors.PipelineError as exc:  # the other paths are still checked and reported
            click.echo(f"error: {exc}", err=True)
            failures.append((path, exc))
    if as_json:
        checked = report.check_json(reports)
        emit_json({**checked, **({"clean": False, "errors": [{"path": str(path), **report.error_record(exc)}
                                                              for path, exc in failures]} if failures else {})})
    else:
        echo_lines(line for r in reports for line in report.check_lines(r))
    if failures:
        sys.exit(failures[0][1].exit_code)
    sys.exit(errors.EXIT_OK if all(r.clean for r in reports) else errors.EXIT_ATTENTION)


def draft_folder_of(path: Path) -> Path:
    """A draft's index.md or run.json given for the draft: its folder, so the checks against the run's record run."""
    if path.name in ("index.md", "run.json") and path.is_file() and (path.parent / "run.json").is_file():
        return path.parent
    return path


@main.command()
@brief_argument
@click.option("--at", "at", required=True, help='Day and 24-hour time, e.g. "mon 07:00".')
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Output root the scheduled runs write to (made absolute in the entries).")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Log file (default: OUT/logs/<brief>.log).")
@click.option("--install", is_flag=True, help="Write the systemd user units (Linux) or the launchd agent (macOS).")
def schedule(brief: Path, at: str, out_root: Path, log_path: Path | None, install: bool) -> None:
    """Print a crontab line, a systemd user timer and a launchd agent that build BRIEF weekly. The
    current folder is the project folder the job runs in; printing writes nothing."""
    try:
        when = parse_at(at)
        prep, _, _ = validated(brief, None)  # never schedule a brief that `validate` would refuse
        note = prep.kind.schedule_note(prep.loaded, next_run(when, dt.datetime.now().astimezone()))
    except errors.PipelineError as exc:
        fail(exc, False)
    job = job_for(brief, log_path, Path.cwd().resolve(), out_root)
    click.echo(f"# {note}")
    click.echo(f"# cron (crontab -e), runs {at}; logs to {job.log}\n{crontab_line(job, when)}\n")
    for name, text in systemd_units(job, when).items():
        click.echo(f"# systemd user unit: ~/.config/systemd/user/{name}\n{text}")
    click.echo(f"# launchd agent (macOS): ~/Library/LaunchAgents/{launchd_name(job)}\n{launchd_plist(job, when)}")
    if install:
        job.log.parent.mkdir(parents=True, exist_ok=True)  # launchd and systemd do not make the log's folder
        files, hint = unit_files(job, when, sys.platform, Path.home())
        echo_lines((f"installed {path}" for path in install_files(files)), err=True)
        click.echo(f"now run: {hint}", err=True)


@main.command()
@click.option("--out", "out_root", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Output root to review.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def review(out_root: Path, as_json: bool) -> None:
    """Rebuild OUT/index.html and every draft's review.html (edits show), and list the drafts, newest first."""
    if not out_root.is_dir():
        fail(errors.InputError(f"{out_root}: no such output folder", hint="run `pipeline run BRIEF` first, or pass --out"),
             as_json)
    try:
        index, rows = write_review_pages(out_root)
    except OSError as exc:
        fail(errors.OutputError(f"{out_root}: cannot write the review pages: {exc.strerror or exc}",
                                hint="check the folder's permissions and free space"), as_json)
    if as_json:
        emit_json(review_json(rows, index))
    else:
        echo_lines([*review_lines(rows), f"open {index}"])


@main.command()
@click.argument("draft", type=click.Path(file_okay=False, path_type=Path))
@click.option("--section", "sections", multiple=True, required=True,
              help="A model-written section to write again: its heading, or its number (1 = the first). Repeatable.")
@click.option("--instruction", help="This redo only: the section's instruction instead of the brief's.")
@click.option("--model", help="Override the model the draft was written with.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def redo(ctx: click.Context, draft: Path, sections: tuple[str, ...], instruction: str | None, model: str | None,
         as_json: bool, quiet: bool) -> None:
    """Write only the named SECTIONs of DRAFT again, with the next seed; everything else in index.md, your
    edits included, stays byte for byte. Exit 0 ok, 3 the new text needs attention."""
    setup_logging(0, quiet)
    opener = (ctx.obj or {}).get("backend_opener", open_backend)  # tests pass an in-process backend
    try:
        done = redo_sections(draft, list(sections), instruction, model, opener, make_reporter(quiet or as_json), utc_now())
    except errors.PipelineError as exc:
        fail(exc, as_json)
    except KeyboardInterrupt:
        click.echo("interrupted: the draft is as it was", err=True)
        sys.exit(130)
    if as_json:
        emit_json(report.redo_json(done))
    else:
        echo_lines(report.redo_lines(done))
    sys.exit(errors.EXIT_ATTENTION if done.status == "needs_attention" else errors.EXIT_OK)


@main.command()
@click.argument("draft", type=click.Path(file_okay=False, path_type=Path))
@click.option("--to", "to", required=True,
              help="A target named in pipeline.yaml, or hugo:SITE_DIR, webhook:URL, smtp://HOST:PORT.")
@click.option("--final", is_flag=True, help="Publish for real (Hugo's draft: false); the default keeps draft: true.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent where, send nothing.")
@click.option("--ignore-findings", is_flag=True, help="Publish even though the draft's checks find something.")
@click.option("--recipient", "recipients", multiple=True, help="smtp: send to this address (repeatable).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), default=Path(CONFIG_NAME),
              show_default=True, help="Where the publish targets are declared.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
def publish(draft: Path, to: str, final: bool, dry_run: bool, ignore_findings: bool, recipients: tuple[str, ...],
            config: Path, as_json: bool) -> None:
    """Send DRAFT to a target after its checks pass; the same content again does nothing. Exit 0 sent or
    unchanged, 3 blocked by findings."""
    options = PublishOptions(to, final, dry_run, ignore_findings, recipients, config)
    try:
        done = publish_draft(draft, options)
    except errors.PipelineError as exc:
        fail(exc, as_json)
    if not dry_run and done.action in ("published", "updated"):
        refresh_review(draft)
    if as_json:
        emit_json(done.as_dict())
    else:
        where = f" -> {done.remote}" if done.remote and done.action != "unchanged" else ""
        click.echo(f"{done.action}: {done.summary}{where}")


def refresh_review(draft: Path) -> None:
    """This draft's review page and the index show what was published where (a failure here leaves the
    send recorded)."""
    try:
        write_review_page(draft)
        write_index(draft.resolve().parent.parent)
    except OSError as exc:
        click.echo(f"warning: the review pages were not rebuilt ({exc}); run `pipeline review`", err=True)


def check_file(path: Path, judge: Judge, language: str) -> FileReport:
    if not path.exists():
        raise errors.InputError(f"{path}: no such file or folder",
                                hint="check the path; pipeline check reads a draft folder, or text and markdown files")
    try:
        return check_text(str(path), path.read_text(encoding="utf-8"), judge=judge, language=language)
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(f"{path}: cannot read as UTF-8 text: {getattr(exc, 'strerror', None) or exc}",
                                hint="check the path; pipeline check reads a draft folder, or text and markdown files") from exc


def dry_run(brief: Path, week: str | None):
    """Brief, sources (offline: cache and snapshots only) and prompts, without a model."""
    prep = prepare(brief, RunOptions(week=week, offline=True), utc_now())
    prompts, stages = dry_prompts(prep)
    return prep, prompts, stages


def chosen_sections(prompts: list, wanted: tuple[str, ...]) -> list:
    if not wanted:
        return prompts
    known = {p.heading: p for p in prompts} | {str(p.index + 1): p for p in prompts}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        listed = ", ".join(f"{p.index + 1} {p.heading!r}" for p in prompts)
        raise errors.InputError(f"no prose section {unknown[0]!r}", hint=f"use a heading or number: {listed}")
    return [known[w] for w in wanted]


def validated(brief: Path, week: str | None):
    """What `validate` checks: the brief, its data and templates, and that its model could open."""
    try:
        prep, prompts, stages = dry_run(brief, week)
        check_model(model_for(prep.loaded, None))
        if missing := missing_snapshots(prep.loaded):  # a run reads the feed live or skips it; validate says so
            raise errors.BriefError(missing, hint="fix `snapshot:` (relative to the brief), or remove it")
    except errors.ModelError as exc:  # a model that cannot open is the brief's problem: name its line
        line = key_line(brief, "model")
        where = f"{brief}:{line}: model" if line else f"{brief}: model (the default)"
        raise errors.BriefError([f"{where}: {exc.message}"], hint=exc.hint) from None
    return prep, prompts, stages


@main.command()
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Make FOLDER (default: here) a pipeline project: a first post brief, a weekly newsletter brief,
    editable copies of the templates and a .gitignore for output/. Existing files are kept."""
    try:
        written, kept = write_project(folder)
    except OSError as exc:
        fail(errors.OutputError(f"{folder}: cannot write the project: {exc.strerror or exc}",
                                hint="check the folder's permissions and free space"), False)
    echo_lines([*(f"wrote {path}" for path in written), *(f"kept  {path} (already there)" for path in kept)])
    click.echo(f"next: cd {folder} && pipeline validate briefs/first.yaml && pipeline run briefs/first.yaml", err=True)


@main.command()
@brief_argument
@week_option
def validate(brief: Path, week: str | None) -> None:
    """Check BRIEF, its data and its templates without loading a model or using the network."""
    setup_logging(0, True)
    try:
        prep, prompts, stages = validated(brief, week)
    except errors.PipelineError as exc:
        fail(exc, False)
    click.echo(f"{brief}: ok ({prep.kind.summary(prep.loaded, prep.sources, len(prompts), stages)})")


@main.command()
@brief_argument
@click.option("--model", help="Override the brief's model.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--section", "sections", multiple=True, metavar="HEADING|N",
              help="Only this section, by heading or 1-based number (repeatable).")
@week_option
@click.pass_context
def render(ctx: click.Context, brief: Path, model: str | None, as_json: bool, week: str | None,
           sections: tuple[str, ...]) -> None:
    """Print the exact prompt text the model will see for each prose section, and the template files it
    came from (--json adds the chat messages)."""
    setup_logging(0, True)
    try:
        prep, prompts, _ = dry_run(brief, week)
        prompts = chosen_sections(prompts, sections)
        opener = (ctx.obj or {}).get("formatter_opener", open_prompt_formatter)
        formatter = opener(model_for(prep.loaded, model))
    except errors.PipelineError as exc:
        fail(exc, as_json)
    rendered = [(p, formatter.render(p.messages, p.enable_thinking)) for p in prompts]
    if as_json:
        emit_json(report.render_json(formatter.describe().spec, rendered))
    else:
        echo_lines(report.render_lines(rendered))
