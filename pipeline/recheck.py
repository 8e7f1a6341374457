"""`pipeline check DRAFT_DIR`: every check of a run, again, on the reviewer's edited index.md, against what
the run recorded in run.json (its prompts, the numbers and links it checked against, each section's
target). What a reviewer runs before publishing. Reads the draft folder and the embedded model's
tokenizer (checks/tokens.py); the embedded model runs only to place a word salad's start, and the
draft folder is not written."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import errors
from .checks.chatter import trim_chatter
from .checks.collapse import ENGLISH
from .checks.files import Judge, prose_only
from .checks.findings import ATTENTION, INFO, Finding
from .checks.links import links_in
from .checks.numbers import known_values
from .checks.prose import Reference, check_prose
from .checks.repetition import previous_issue_findings, repetition_findings
from .checks.section import DEFAULT_THINK_MARKERS, check_section
from .checks.text import FRONT_MATTER, REVIEW_NOTE
from .checks.tokens import collapse_of
from .kinds.newsletter import previous_issues

_SECTION_HEADING = re.compile(r"(?m)^## (.+?)[ \t]*$")


@dataclass(frozen=True)
class Part:
    heading: str
    line: int  # of the heading in index.md
    text: str


@dataclass
class SectionCheck:
    heading: str
    line: int
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"heading": self.heading, "line": self.line,
                "findings": [{"code": f.code, "severity": f.severity, "message": f.message} for f in self.findings]}


@dataclass
class DraftReport:
    path: str
    kind: str
    sections: list[SectionCheck]

    @property
    def clean(self) -> bool:
        return not any(f.severity == ATTENTION for s in self.sections for f in s.findings)

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "clean": self.clean,
                "sections": [s.as_dict() for s in self.sections]}


def check_draft(draft_dir: Path, judge: Judge = collapse_of, language: str | None = None) -> DraftReport:
    """`language`: what the text is written in; by default each section's, as run.json recorded it."""
    manifest = read_manifest(draft_dir)
    markdown = read_text(draft_dir / "index.md")
    recorded = {s["heading"]: s for s in manifest["sections"]}
    parts = sections_of(markdown)
    prose = [p for p in parts if p.heading in recorded]
    reference = reference_of(manifest, [p.text for p in parts if p.heading not in recorded])
    repeats = repetition_findings([(p.heading, without_review_notes(p.text)) for p in prose])
    previous = previous_issues(draft_dir.parent, draft_dir.name, set(recorded)) if kind_of(manifest) == "newsletter" else []
    judged = {h: functools.partial(judge, language=language or s.get("language", ENGLISH)) for h, s in recorded.items()}
    checks = [SectionCheck(p.heading, p.line, section_findings(p, recorded[p.heading], reference, manifest, judged[p.heading])
                           + repeats.get(n, []) + previous_issue_findings(without_review_notes(p.text), previous))
              for n, p in enumerate(prose)]
    written = {p.heading for p in prose}
    checks += [SectionCheck(heading, 0, [Finding("section_removed", INFO, "no longer in index.md")])
               for heading in recorded if heading not in written]
    return DraftReport(str(draft_dir), kind_of(manifest), checks)


def section_findings(part: Part, recorded: dict, reference: Reference, manifest: dict,
                     judge: Judge) -> list[Finding]:
    """The run's checks on one section's text as the reviewer left it."""
    notes = len(REVIEW_NOTE.findall(part.text))
    text = without_review_notes(part.text)
    findings = check_section(text, recorded.get("target_words") or 0, think_markers(manifest))
    findings = [f for f in findings if recorded.get("target_words") or f.code not in {"short", "long"}]
    findings += collapse_findings(text, part.line, judge)
    findings += chatter_findings(text, part.heading, recorded)
    findings += check_prose(text, reference.known, reference.links, reference.strict)
    if notes:
        findings.append(Finding("review_note", ATTENTION, f"{notes} 'Needs attention' note(s) from the run are still "
                                                          "in the text: fix what they say, then delete them"))
    return findings


def collapse_findings(text: str, heading_line: int, judge: Judge) -> list[Finding]:
    verdict = judge(prose_only(text))
    if not verdict.detected or verdict.onset is None:
        return []
    line = heading_line + 2 + text.count("\n", 0, verdict.onset)  # the text starts after the heading and a blank line
    return [Finding("collapse", ATTENTION, f"{verdict.signal} from line {line}: rewrite or cut from there")]


def chatter_findings(text: str, heading: str, recorded: dict) -> list[Finding]:
    """In a re-check nothing is cut: chatter left at either end, or echoed instructions, need a look."""
    prompts = [m.get("content", "") for m in recorded.get("messages", []) if m.get("role") != "assistant"]
    trimmed = trim_chatter(text, heading, prompts)
    findings = []
    if trimmed.removed:
        findings.append(Finding("chatter", ATTENTION, "assistant chatter, not content: "
                                + " / ".join(repr(r) for r in trimmed.removed) + "; delete it"))
    if trimmed.echoed:
        findings.append(Finding("prompt_echo", ATTENTION, "the prompt's instructions repeated in the text: "
                                + " / ".join(repr(e) for e in trimmed.echoed) + "; delete them"))
    return findings


def reference_of(manifest: dict, blocks: list[str]) -> Reference:
    """The run's own record of what it checked against; for a run.json from before that record, what the
    model was given (its prompts, the kind's sources) and the draft's data blocks."""
    recorded = manifest.get("checks")
    if isinstance(recorded, dict) and isinstance(recorded.get("known_numbers"), list):
        try:
            return Reference.from_record(recorded)
        except ArithmeticError as exc:  # decimal's InvalidOperation: an edited run.json
            raise errors.InputError(f"run.json: `checks.known_numbers` holds a value that is not a number ({exc})",
                                    hint="rebuild the draft with --force, or restore run.json") from exc
    given = [m.get("content", "") for s in manifest["sections"] for m in s.get("messages", [])]
    given += blocks + [json.dumps(manifest.get("sources") or {})]
    return Reference(known_values(*given), {link for text in given for link in links_in(text)},
                     kind_of(manifest) == "post")


def kind_of(manifest: dict) -> str:
    if isinstance(manifest.get("kind"), str):
        return manifest["kind"]
    return "newsletter" if isinstance(manifest.get("sources"), dict) and "week" in manifest["sources"] else "post"


def think_markers(manifest: dict) -> tuple[str, str]:
    markers = (manifest.get("model") or {}).get("think_markers")
    return tuple(markers) if isinstance(markers, list) and len(markers) == 2 else DEFAULT_THINK_MARKERS


def without_review_notes(text: str) -> str:
    return REVIEW_NOTE.sub("", text).strip()


def sections_of(markdown: str) -> list[Part]:
    """Each ## section of index.md with the line of its heading."""
    front = FRONT_MATTER.match(markdown)
    start = front.end() if front else 0
    headings = list(_SECTION_HEADING.finditer(markdown, start))
    return [Part(h.group(1).replace("\u200b", "").strip(), markdown.count("\n", 0, h.start()) + 1,
                 markdown[h.end(): after.start() if after else len(markdown)].strip())
            for h, after in zip(headings, [*headings[1:], None], strict=True)]


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.InputError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}",
                                hint="pipeline check DRAFT_DIR needs the draft's index.md and run.json") from exc


def read_manifest(draft_dir: Path) -> dict:
    path = draft_dir / "run.json"
    if not path.is_file():
        raise errors.InputError(f"{draft_dir}: no run.json here, so not a draft folder",
                                hint="give a folder pipeline run wrote (output/posts/<draft>/), or markdown files")
    try:
        manifest = json.loads(read_text(path))
    except ValueError as exc:
        raise errors.InputError(f"{path}: not valid JSON ({exc})",
                                hint="run.json records what the run checked against; rebuild the draft with --force") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sections"), list) or not all(
            isinstance(s, dict) and isinstance(s.get("heading"), str) for s in manifest["sections"]):
        raise errors.InputError(f"{path}: not a pipeline run record (no list of sections with headings)",
                                hint="point pipeline check at a draft folder written by pipeline run")
    return manifest
