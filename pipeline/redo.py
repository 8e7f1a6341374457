"""`pipeline redo DRAFT_DIR --section HEADING`: generate only the named sections again, with the next
seed, and put each in place of its own block in index.md. Every other byte of index.md stays as it is,
the reviewer's edits included; index.html, the email files, review.html and run.json (with a history of
redos) follow. The prompt is the one run.json recorded, unless the brief changed: then a post's prompts
are rendered again, and a change that reaches another section is refused (that needs a whole rerun)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import errors
from .assemble import DraftSection, html_page, markdown_body
from .checks.findings import ATTENTION
from .checks.prose import Reference, check_prose
from .checks.repetition import repetition_findings
from .checks.text import FRONT_MATTER
from .config import MemorySettings, SamplingSettings, load_brief
from .generate import SectionResult, generate
from .generate.attempts import Task
from .mail import email_html, email_text
from .manifest import section_record
from .progress import Reporter
from .prompts import SectionPrompt
from .recheck import read_manifest, read_text, sections_of, without_review_notes
from .review import front_matter, refresh_index, review_page, sha256
from .state import run_lock
from .writer import write_whole

_TITLE = re.compile(r"(?m)^title: (.*)$")


@dataclass(frozen=True)
class Redone:
    draft_dir: Path
    sections: list[SectionResult]
    status: str


def redo(draft_dir: Path, wanted: list[str], instruction: str | None, model: str | None,
         backend_opener, reporter: Reporter, now: dt.datetime) -> Redone:
    manifest = read_manifest(draft_dir)
    with run_lock(draft_dir.parent.parent, Path(manifest["brief"]["path"])):  # not while a run rewrites it
        return redo_locked(draft_dir, manifest, wanted, instruction, model, backend_opener, reporter, now)


def redo_locked(draft_dir: Path, manifest: dict, wanted: list[str], instruction: str | None, model: str | None,
                backend_opener, reporter: Reporter, now: dt.datetime) -> Redone:
    markdown = read_text(draft_dir / "index.md")
    recorded = manifest["sections"]
    chosen = pick_sections(recorded, wanted, draft_dir)
    if instruction is not None and len(chosen) != 1:
        raise errors.InputError("--instruction applies to one section; name exactly one with --section")
    prompts = redo_prompts(manifest, chosen, instruction)
    backend = backend_opener(model or manifest["model"]["spec"], memory_settings(manifest))
    results = generate(backend, [Task(p, backend.render(p.messages, p.enable_thinking)) for p in prompts], reporter)
    edited, results = replace_blocks(markdown, results, manifest)
    manifest = updated_manifest(manifest, results, instruction, markdown, edited, now)
    write_files(draft_dir, manifest, edited)
    refresh_index(draft_dir.parent.parent)
    return Redone(draft_dir, results, manifest["status"])


def pick_sections(recorded: list[dict], wanted: list[str], draft_dir: Path) -> list[dict]:
    """By heading, or by number (1 is the draft's first model-written section)."""
    by_heading = {s["heading"]: s for s in recorded}
    chosen = []
    for name in wanted:
        section = by_heading.get(name) or (recorded[int(name) - 1] if name.isdigit() and 0 < int(name) <= len(recorded)
                                           else None)
        if section is None:
            listed = ", ".join(f"{n}: {s['heading']!r}" for n, s in enumerate(recorded, 1))
            raise errors.InputError(f"{draft_dir}: no model-written section {name!r}",
                                    hint=f"name one of {listed} (a heading, or its number)")
        chosen.append(section)
    return list({s["heading"]: s for s in chosen}.values())


def redo_prompts(manifest: dict, chosen: list[dict], instruction: str | None) -> list[SectionPrompt]:
    """The recorded prompts (or, after a brief edit that reaches only these sections, the brief's) with the
    next seed: one past the seed the section was last written with."""
    current = current_prompts(manifest, {s["heading"] for s in chosen})
    prompts = []
    for section in chosen:
        prompt = current.get(section["heading"]) or recorded_prompt(section)
        settings = prompt.settings.model_copy(update={"seed": section["settings"]["seed"] + 1})
        messages = with_instruction(prompt, section, manifest, instruction) if instruction else prompt.messages
        prompts.append(dataclasses.replace(prompt, settings=settings, messages=messages))
    return prompts


def recorded_prompt(section: dict) -> SectionPrompt:
    return SectionPrompt(section["index"], section["heading"], section["target_words"], section["stage"],
                         tuple(section["messages"]), SamplingSettings(**section["settings"]), section["template"],
                         language=section.get("language", "en"))


def current_prompts(manifest: dict, redoing: set[str]) -> dict[str, SectionPrompt]:
    """{} while the brief is as the run read it. After an edit, a post's prompts rendered again, unless the
    edit reaches a section that is not being redone: that draft needs a whole rerun."""
    brief_path = Path(manifest["brief"]["path"])
    if brief_sha256(brief_path) == manifest["brief"]["sha256"]:
        return {}
    rerun = "rerun the whole brief with `pipeline run BRIEF --force` (edits in index.md are not kept), or restore the brief"
    if manifest.get("kind", "post") != "post":
        raise errors.InputError(f"{brief_path} changed since this issue was built", hint=rerun)
    from .runner import RunOptions, dry_prompts, prepare  # the orchestrator's own preparation, no model

    prompts = {p.heading: p for p in dry_prompts(prepare(brief_path, RunOptions(), dt.datetime.now(dt.UTC)))[0]}
    recorded = {s["heading"]: s for s in manifest["sections"]}
    if set(prompts) != set(recorded):
        raise errors.InputError(f"{brief_path}: sections were added, removed or renamed since this draft was written",
                                hint=rerun)
    affected = [h for h, p in prompts.items() if h not in redoing and (
        list(p.messages) != recorded[h]["messages"] or p.settings.model_dump() != recorded[h]["settings"])]
    if affected:
        raise errors.InputError(f"{brief_path} changed in ways that reach other sections: "
                                f"{', '.join(map(repr, affected))} would now be written differently",
                                hint=f"redo those too (--section), restore the brief and use --instruction for this "
                                     f"section alone, or {rerun}")
    return prompts


def brief_sha256(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise errors.InputError(f"{path}: the draft's brief cannot be read ({exc.strerror})",
                                hint="run pipeline redo from the folder pipeline run ran in (run.json names the "
                                     "brief by that path)") from exc


def with_instruction(prompt: SectionPrompt, section: dict, manifest: dict, instruction: str) -> tuple[dict, ...]:
    """The user message with the brief's instruction for this section swapped for the reviewer's."""
    original = load_brief(Path(manifest["brief"]["path"])).brief.sections[section["index"]].instruction or ""
    *rest, user = prompt.messages
    content = user["content"]
    content = content.replace(original, instruction) if original and original in content \
        else f"{content}\nInstead of the brief's instruction: {instruction}"
    return (*rest, {**user, "content": content})


def replace_blocks(markdown: str, results: list[SectionResult], manifest: dict) -> tuple[str, list[SectionResult]]:
    """Each redone section's block (from its heading to the next) is replaced; nothing else changes."""
    checked = checked_results(markdown, results, manifest)
    for result in checked:
        notes = tuple(f.message for f in result.findings if f.severity == ATTENTION)
        block = markdown_body([DraftSection(result.prompt.heading, result.text, notes)])
        markdown = replace_block(markdown, result.prompt.heading, block)
    return markdown, checked


def replace_block(markdown: str, heading: str, block: str) -> str:
    parts = sections_of(markdown)
    here = next((p for p in parts if p.heading == heading), None)
    if here is None:
        raise errors.InputError(f"section {heading!r} is not in index.md any more",
                                hint=f"add its heading back (`## {heading}`) where it belongs, then redo it")
    lines = markdown.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: here.line - 1])
    following = [p for p in parts if p.line > here.line]
    end = sum(len(line) for line in lines[: following[0].line - 1]) if following else len(markdown)
    tail = "\n\n" if following else "\n"
    return markdown[:start] + block.strip() + tail + markdown[end:]


def checked_results(markdown: str, results: list[SectionResult], manifest: dict) -> list[SectionResult]:
    """The run's checks against its sources and the other sections as they now read (edits included)."""
    reference = Reference.from_record(manifest["checks"]) if isinstance(manifest.get("checks"), dict) else None
    new = {r.prompt.heading: r for r in results}
    prose = {s["heading"] for s in manifest["sections"]}
    texts = [(p.heading, new[p.heading].text if p.heading in new else without_review_notes(p.text))
             for p in sections_of(markdown) if p.heading in prose]
    repeats = repetition_findings(texts)
    order = [heading for heading, _ in texts]
    checked = []
    for result in results:
        found = repeats.get(order.index(result.prompt.heading), []) if result.prompt.heading in order else []
        if reference:
            found = check_prose(result.text, reference.known, reference.links, reference.strict) + found
        checked.append(result.with_findings(found))
    return checked


def updated_manifest(manifest: dict, results: list[SectionResult], instruction: str | None, before: str,
                     after: str, now: dt.datetime) -> dict:
    records = {r.prompt.heading: section_record(r) for r in results}
    sections = [records.get(s["heading"], s) for s in manifest["sections"]]
    attention = any(f["severity"] == ATTENTION for s in sections for f in s["findings"])
    hashes = dict(manifest.get("files_sha256") or {})
    if hashes.get("index.md") in (None, sha256(before)):  # unedited: the new text is the run's text
        hashes["index.md"] = sha256(after)
    redo_record = {"at": now.isoformat(timespec="seconds"), "sections": list(records),
                   "seeds": [r.prompt.settings.seed for r in results], "instruction": instruction,
                   "tokens_out": sum(a.stats.generation_tokens for r in results for a in r.attempts)}
    return {**manifest, "status": "needs_attention" if attention else "ok", "sections": sections,
            "files_sha256": hashes, "redos": [*manifest.get("redos", []), redo_record]}


def write_files(draft_dir: Path, manifest: dict, markdown: str) -> None:
    """The renditions first and run.json last, each file whole: index.md is the source of the others."""
    body = FRONT_MATTER.sub("", markdown, count=1).strip() + "\n"
    meta = front_matter(markdown)
    title = str(meta.get("title") or draft_dir.name)
    files = {"index.html": html_page(title, body)}
    if (draft_dir / "email.html").exists():
        files |= {"email.html": email_html(title, str(meta.get("description") or title), body),
                  "email.txt": email_text(title, body)}
    files |= {"review.html": review_page(draft_dir, manifest, markdown), "index.md": markdown,
              "run.json": json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"}
    try:
        for name, text in files.items():
            write_whole(draft_dir / name, text)
    except OSError as exc:
        raise errors.OutputError(f"{draft_dir}: could not write {exc.filename or ''}: {exc.strerror or exc}",
                                 hint="free some disk space or fix permissions, then redo again") from exc


def memory_settings(manifest: dict) -> MemorySettings:
    """The brief's memory limits, as the run had them (the brief is there: redo_prompts read it)."""
    try:
        return load_brief(Path(manifest["brief"]["path"])).brief.memory
    except errors.PipelineError:
        return MemorySettings()
