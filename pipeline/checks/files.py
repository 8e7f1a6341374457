"""`pipeline check`: the quality checks on any text or markdown a person wants to review. Pure.

Markdown is judged section by section (## headings). Code fences and table rows are masked out
of the collapse check, keeping character offsets, because they repeat by design."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .collapse import ENGLISH, Verdict, detect_collapse
from .section import DEFAULT_THINK_MARKERS, think_leaks
from .text import FRONT_MATTER, REVIEW_NOTE, ends_mid_sentence

Judge = Callable[..., Verdict]  # judge(prose, language=...): how a section's prose is judged for collapse
_HEADING = re.compile(r"(?m)^#{1,6} .*$")
_FENCE = re.compile(r"(?ms)^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$")
_TABLE_ROW = re.compile(r"(?m)^ {0,3}\|.*$")


@dataclass
class Part:
    heading: str | None
    start: int
    end: int


@dataclass
class FileReport:
    path: str
    collapse: dict
    collapses: list[dict] = field(default_factory=list)
    think_leaks: list[str] = field(default_factory=list)
    mid_sentence: list[dict] = field(default_factory=list)
    review_notes: list[int] = field(default_factory=list)  # lines of the run's "Needs attention" notes still there

    @property
    def clean(self) -> bool:
        return not (self.collapses or self.think_leaks or self.mid_sentence or self.review_notes)

    def as_dict(self) -> dict:
        return {**asdict(self), "clean": self.clean}


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def mask(text: str, pattern: re.Pattern) -> str:
    """Blank out matches with spaces, keeping newlines, so offsets still point into the file."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def prose_only(text: str) -> str:
    """Code fences and table rows blanked out (offsets kept): they repeat by design."""
    return mask(mask(text, _FENCE), _TABLE_ROW)


def parts_of(text: str) -> list[Part]:
    """Sections between headings; a file without headings is one part."""
    body_start = m.end() if (m := FRONT_MATTER.match(text)) else 0
    headings = list(_HEADING.finditer(text, body_start))
    if not headings:
        return [Part(None, body_start, len(text))]
    parts = [Part(None, body_start, headings[0].start())] if text[body_start:headings[0].start()].strip() else []
    for here, after in zip(headings, [*headings[1:], None], strict=True):
        parts.append(Part(here.group().lstrip("#").strip(), here.end(), after.start() if after else len(text)))
    return parts


def check_text(path: str, text: str, markers: tuple[str, str] = DEFAULT_THINK_MARKERS,
               judge: Judge = detect_collapse, language: str = ENGLISH) -> FileReport:
    """`judge`: how a section's prose is judged for collapse (the CLI passes tokens.collapse_of, which
    reads the embedded tokenizer; this module stays pure). `language`: what the text is written in."""
    prose = prose_only(text)
    report = FileReport(path, collapse={"detected": False, "onset": None})
    for part in parts_of(text):
        verdict = judge(prose[part.start: part.end], language=language)
        if verdict.detected:
            assert verdict.onset is not None  # a detected collapse always carries its onset
            onset = part.start + verdict.onset
            report.collapses.append({"detected": True, "onset": onset, "line": line_of(text, onset),
                                     "signal": verdict.signal, "section": part.heading, "signals": verdict.signals})
        written = mask(text[part.start: part.end], REVIEW_NOTE)  # the run's own notes are not the section's text
        if ends_mid_sentence(written):
            end = part.start + len(written.rstrip())
            report.mid_sentence.append({"section": part.heading, "line": line_of(text, end)})
    if report.collapses:
        report.collapse = report.collapses[0]
    report.think_leaks = think_leaks(text, markers)
    report.review_notes = [line_of(text, note.start()) for note in REVIEW_NOTE.finditer(text)]
    return report
