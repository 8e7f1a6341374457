"""Pure checks on model-written text. No I/O, no model: usable on any text."""

from __future__ import annotations

import re
from dataclasses import dataclass

ATTENTION = "attention"  # a reviewer must look before publishing (exit code 3)
INFO = "info"  # recorded in run.json, shown in the summary

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets/markdown emphasis).
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]*_]*(?=\s|$)")
_LEAK_MARKERS = re.compile(r"</?think>?|<\|im_(?:start|end)\|>|<\|endoftext\|>|<\|eot_id\|>|<\|assistant\|>")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str


_LIST_NUMBER = re.compile(r"(?m)^\s*\d+[.)]")


def last_sentence_end(text: str) -> int | None:
    # "2." opening a numbered list item is not the end of a sentence.
    numbers = {m.end() for m in _LIST_NUMBER.finditer(text)}
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() not in numbers]
    return ends[-1] if ends else None


def trim_to_sentence(text: str) -> str:
    """Cut text back to its last complete sentence ('' when there is none)."""
    end = last_sentence_end(text)
    return text[:end].rstrip() if end else ""


def ends_mid_sentence(text: str) -> bool:
    stripped = text.rstrip()
    if not stripped:
        return False
    last_line = stripped.splitlines()[-1].strip()
    # Tables, code, list items and headings need not end with a full stop; "**Note:** ..." is prose.
    if last_line.startswith(("|", "```", "~~~", "#")) or re.match(r"^(?:[-*+]|\d+[.)])\s", last_line):
        return False
    return last_sentence_end(stripped) != len(stripped)


def think_leaks(text: str) -> list[str]:
    return sorted(set(_LEAK_MARKERS.findall(text)))


def word_count(text: str) -> int:
    return len(re.findall(r"\b[\w'’-]+\b", text))


def check_section(text: str, target_words: int) -> list[Finding]:
    """Findings for a finished section's kept text."""
    findings = []
    if not text.strip():
        return [Finding("empty", ATTENTION, "no usable text was generated")]
    leaks = think_leaks(text)
    if leaks:
        findings.append(Finding("think_leak", ATTENTION, f"chat or reasoning markers in the text: {', '.join(leaks)}"))
    if ends_mid_sentence(text):
        findings.append(Finding("mid_sentence", ATTENTION, "the text ends in the middle of a sentence"))
    words = word_count(text)
    if words < 0.4 * target_words:
        findings.append(Finding("short", INFO, f"{words} words, target {target_words}"))
    elif words > 2.0 * target_words:
        findings.append(Finding("long", INFO, f"{words} words, target {target_words}"))
    return findings
