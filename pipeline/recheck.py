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

import yaml

from . import errors
from .checks.chatter import trim_chatter
from .checks.collapse import ENGLISH
from .checks.files import Judge, prose_only
from .checks.findings import ATTENTION, INFO, Finding
from .checks.links import links_in
from .checks.numbers import NUMBERS_FORMAT, known_values
from .checks.prose import Reference, check_prose
from .checks.repetition import previous_issue_findings, repetition_findings
from .checks.section import DEFAULT_THINK_MARKERS, check_section
from .checks.text import FENCED_CODE, FRONT_MATTER, REVIEW_NOTE
from .checks.tokens import collapse_of
from .kinds.newsletter import previous_issues

# An ATX heading, its closing hashes dropped ("## Where it goes ##"); fenced code is skipped before it is looked for
_HEADING = re.compile(r"(?m)^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
# What the run's own checks say of text it made safe, as a re-check finds it: put there after the run, and live
_LIVE_AGAIN = {
    "raw_html": "raw HTML that runs code (scripts, event handlers) is in the text: a site would run it; delete it",
    "template_syntax": "Hugo/Liquid/kramdown syntax ({{, {% or {:) is in the text: a site build would run it; delete or "
                       "escape it",
    "unsafe_link": "a link that runs code or embeds data (javascript:, data:, ...) is in the text: delete it",
}


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
    recorded = {key(s["heading"]): s for s in manifest["sections"]}
    parts = sections_of(markdown, set(recorded))
    blocks = data_blocks(manifest, parts, recorded)
    prose = [p for p in parts if key(p.heading) not in blocks]
    reference = reference_of(manifest, [p.text for p in parts if key(p.heading) in blocks], draft_dir / "run.json")
    repeats = repetition_findings([(p.heading, without_review_notes(p.text)) for p in prose])
    previous = previous_issues(draft_dir.parent, draft_dir.name, set(recorded)) if kind_of(manifest) == "newsletter" else []
    checks = [SectionCheck(p.heading, p.line, section_findings(p, recorded.get(key(p.heading)), reference, manifest,
                                                               judge, language)
                           + repeats.get(n, []) + previous_issue_findings(without_review_notes(p.text), previous))
              for n, p in enumerate(prose)]
    written = {key(p.heading) for p in prose}
    checks += [SectionCheck(s["heading"], 0, [Finding("section_removed", INFO, "no longer in index.md (deleted, or its "
                                                      "heading renamed: then it is checked as a new section)")])
               for k, s in recorded.items() if k not in written]
    checks += front_matter_checks(markdown) + ([] if parts else [SectionCheck("index.md", 1, [Finding(
        "no_sections", ATTENTION, "index.md has no '## ' section headings, so no section can be checked: restore them")])])
    return DraftReport(str(draft_dir), kind_of(manifest), checks)


def key(heading: str) -> str:
    """A heading as the reviewer may have retyped it: spacing, zero-width and non-breaking spaces aside."""
    return " ".join(heading.replace("\u200b", "").split())


def data_blocks(manifest: dict, parts: list[Part], recorded: dict) -> set[str]:
    """The sections the run rendered from data (tables, news, static text), as run.json's layout lists them; a run.json
    from before the layout was recorded: a newsletter's sections the model did not write (a post's are all prose)."""
    layout = manifest.get("layout")
    if isinstance(layout, list):
        return {key(b["heading"]) for b in layout if isinstance(b, dict) and isinstance(b.get("heading"), str)
                and b.get("type") != "prose"}
    return {key(p.heading) for p in parts if key(p.heading) not in recorded} if kind_of(manifest) == "newsletter" else set()


def section_findings(part: Part, recorded: dict | None, reference: Reference, manifest: dict,
                     judge: Judge, language: str | None) -> list[Finding]:
    """The run's checks on one section's text as the reviewer left it; a section run.json does not list (renamed or
    added) gets them all but its length target and its prompt's echo."""
    notes = len(REVIEW_NOTE.findall(part.text))
    text = without_review_notes(part.text)
    target = (recorded or {}).get("target_words") or 0
    findings = [_as_rechecked(f) for f in check_section(text, target, think_markers(manifest))
                if target or f.code not in {"short", "long"}]
    if recorded is None:
        findings.append(Finding("section_new", INFO, "not in run.json (renamed or added): checked without its length "
                                                     "target and prompt"))
    findings += collapse_findings(text, part.line, functools.partial(
        judge, language=language or (recorded or {}).get("language") or ENGLISH))
    findings += chatter_findings(text, part.heading, recorded or {})
    findings += check_prose(text, reference.known, reference.links, reference.strict)
    if notes:
        findings.append(Finding("review_note", ATTENTION, f"{notes} 'Needs attention' note(s) from the run are still "
                                                          "in the text: fix what they say, then delete them"))
    return findings


def _as_rechecked(finding: Finding) -> Finding:
    """The run made such text inert and noted it; found again in a re-check, it was put back and is live."""
    message = _LIVE_AGAIN.get(finding.code)
    return Finding(finding.code, ATTENTION, message) if message else finding


def front_matter_checks(markdown: str) -> list[SectionCheck]:
    """Front matter a site build would fail on: never closed, or not YAML."""
    if not markdown.startswith("---\n"):
        return []
    front = FRONT_MATTER.match(markdown)
    if not front:
        return [SectionCheck("front matter", 1, [Finding("front_matter", ATTENTION, "the front matter opened on line 1 "
                                                         "is never closed by a '---' line: close it")])]
    try:
        yaml.safe_load(front.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark else 0)
        return [SectionCheck("front matter", line, [Finding("front_matter", ATTENTION, f"not valid YAML on line {line} "
                                                            f"({getattr(exc, 'problem', None) or exc}): fix it, or the "
                                                            "site build fails")])]
    return []


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


def reference_of(manifest: dict, blocks: list[str], path: Path = Path("run.json")) -> Reference:
    """The run's own record of what it checked against (one written before numbers were read as now gets what
    the prompts held too); for a run.json from before that record, what the model was given (its prompts, the
    kind's sources) and the draft's data blocks."""
    checks = manifest.get("checks")
    recorded = checks if isinstance(checks, dict) and isinstance(checks.get("known_numbers"), list) else None
    if recorded is not None and recorded.get("numbers_format") == NUMBERS_FORMAT:
        return recorded_reference(recorded, path)
    given = [m.get("content", "") for s in manifest["sections"] for m in s.get("messages", [])]
    given += blocks + [json.dumps(manifest.get("sources") or {})]
    if recorded is not None:  # written before numbers were read as now (versions, dated days): the prompts' count too
        reference = recorded_reference(recorded, path)
        return Reference(reference.known | known_values(*given), reference.links, reference.strict)
    return Reference(known_values(*given), {link for text in given for link in links_in(text)},
                     kind_of(manifest) == "post")


def recorded_reference(recorded: dict, path: Path) -> Reference:
    try:
        return Reference.from_record(recorded)
    except ArithmeticError as exc:  # decimal's InvalidOperation: an edited run.json
        raise errors.InputError(f"{path}: `checks.known_numbers` holds a value that is not a number",
                                hint="rebuild the draft with --force, or restore run.json") from exc


def kind_of(manifest: dict) -> str:
    if isinstance(manifest.get("kind"), str):
        return manifest["kind"]
    return "newsletter" if isinstance(manifest.get("sources"), dict) and "week" in manifest["sources"] else "post"


def think_markers(manifest: dict) -> tuple[str, str]:
    markers = (manifest.get("model") or {}).get("think_markers")
    return tuple(markers) if isinstance(markers, list) and len(markers) == 2 else DEFAULT_THINK_MARKERS


def without_review_notes(text: str) -> str:
    return REVIEW_NOTE.sub("", text).strip()


def sections_of(markdown: str, recorded: frozenset[str] | set[str] = frozenset()) -> list[Part]:
    """Each section of index.md with the line of its heading: every `##` heading, and a heading of another level
    that names a section the run wrote (the reviewer made it `###`); headings inside fenced code are code."""
    front = FRONT_MATTER.match(markdown)
    start = front.end() if front else 0
    code = [m.span() for m in FENCED_CODE.finditer(markdown, start)]
    headings = [h for h in _HEADING.finditer(markdown, start)
                if (len(h.group(1)) == 2 or key(h.group(2)) in recorded)
                and not any(a <= h.start() < b for a, b in code)]
    ends = [h.start() for h in headings[1:]] + [len(markdown)] if headings else []
    return [Part(key(h.group(2)), markdown.count("\n", 0, h.start()) + 1, markdown[h.end(): end].strip())
            for h, end in zip(headings, ends, strict=True)]


def read_text(path: Path) -> str:
    if path.exists() and not path.is_file():  # a folder, a pipe (reading one would wait forever), a device
        raise errors.InputError(f"{path}: not a regular file", hint="pipeline check DRAFT_DIR needs the draft's index.md "
                                                                   "and run.json as files")
    try:
        data = path.read_bytes()
    except PermissionError as exc:
        raise errors.InputError(f"{path}: permission denied", hint=f"make it readable: chmod u+r {path}") from exc
    except OSError as exc:
        raise errors.InputError(f"{path}: cannot read: {exc.strerror or exc}",
                                hint="pipeline check DRAFT_DIR needs the draft's index.md and run.json") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise errors.InputError(f"{path}: {errors.not_utf8(exc)}",
                                hint="save the file as UTF-8 in your editor, then run the check again") from exc


def read_manifest(draft_dir: Path) -> dict:
    path = draft_dir / "run.json"
    if path.exists() and not path.is_file():
        read_text(path)  # says what it is instead
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
    if problem := manifest_problem(manifest):
        raise errors.InputError(f"{path}: {problem}", hint="restore run.json as the run wrote it, or rebuild the draft "
                                                          "with pipeline run --force")
    return manifest


def manifest_problem(manifest: dict) -> str | None:
    """The first field the re-check reads that has the wrong type (a hand-edited run.json), named as a path."""
    for n, section in enumerate(manifest["sections"]):
        where = f"sections[{n}]"
        messages = section.get("messages", [])
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("content", ""), str) for m in messages):
            return f"{where}.messages is not a list of messages with text content"
        target = section.get("target_words")
        if target is not None and (not isinstance(target, int) or isinstance(target, bool) or target < 0):
            return f"{where}.target_words is {target!r}, not a whole number of words"
        if not isinstance(section.get("language", ENGLISH), str):
            return f"{where}.language is {section['language']!r}, not a language code"
    model = manifest.get("model", {})
    markers = model.get("think_markers", []) if isinstance(model, dict) else None
    if not isinstance(model, dict) or not (isinstance(markers, list) and all(isinstance(m, str) for m in markers)):
        return "model is not a record with a list of think markers"
    return None
