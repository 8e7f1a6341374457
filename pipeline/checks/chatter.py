"""Assistant chatter around a section: a preamble ("Sure! Here is your section:"), a heading that repeats
the section's own, the prompt's instructions echoed back ("You are writing one section at a time…"),
and an offer or question to the user ("Would you like another section?"). Trimmed only at the very
start or end of the text, so content is never cut; echoed instructions inside the content are reported
instead. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_PREAMBLE = re.compile(
    r"\A\s*(?:(?:sure|certainly|of course|absolutely|okay|ok|great)[!,.]*\s*)?"
    r"(?:here(?:'s|’s| is| are)\s+(?:your|the|a|an|my)?\s*(?:requested\s+|revised\s+|new\s+)?"
    r"(?:section|draft|paragraph|text|content|post|answer|response|introduction|rewrite|part|piece|chapter|article"
    r"|write-up)\b[^\n]{0,60}"
    r"|(?:sure|certainly|of course|absolutely)[!.]*)\s*:?[ \t]*\n+",
    re.IGNORECASE)
# "Here's an edited version:", "Here's an example of how to write the section "X":", "Here is the revised
# draft:" on a line of its own: the model presenting its answer. "Here are the three limits I set:" is content.
_PRESENTING = re.compile(
    r"\A\s*(?:(?:sure|certainly|of course|okay|ok)[!,.]*\s*)?here(?:'s|’s| is| are)\s+(?:your|the|a|an|my|some)?\s*"
    r"(?:(?:edited|revised|new|rewritten|updated|improved|possible|short|shorter|longer)\s+)?"
    r"(?:version|example|draft|rewrite|take|attempt|answer|response)\b[^\n]{0,160}:[ \t]*\n+", re.IGNORECASE)
# "Here's a breakdown of how you can go about writing that section:": a reply about the writing itself.
_ABOUT_WRITING = re.compile(
    r"\A\s*(?:(?:sure|certainly|of course|okay|ok)[!,.]*\s*)?(?:here(?:'s|’s| is| are)|below is)\b[^\n]{0,160}"
    r"\b(?:writ(?:e|ing)|draft(?:ing)?)\b[^\n]{0,40}\b(?:section|paragraph|post|part)\b[^\n]{0,40}:[ \t]*\n+",
    re.IGNORECASE)
_SECTION_WORDS = re.compile(r"\b(?:section|version|draft|rewrite|post|paragraph|text|answer|response)\b", re.IGNORECASE)
_INLINE_CODE = re.compile(r"`[^`\n]*`")  # "the `POST` method" names code, not the post being written
_PROSE_START = re.compile(r"\A\s*[A-Za-z\"“‘']")  # not a fence, list, table or code after "Here's an example:"
_FLATTERY = re.compile(r"\A\s*(?:what an?|that's an?|that is an?)?\s*(?:great|good|excellent|interesting)\s+"
                       r"question[!.]+[ \t]*", re.IGNORECASE)
# An offer or question to the user at the very end; whole words ("should instead read:" is no "should I")
_OFFER = re.compile(
    r"\n[ \t]*\n?[ \t]*((?:would you like|do you want|shall i|should i|let me know|i hope (?:this|that) helps|"
    r"feel free to|what would be|can i help|how can i (?:help|assist)|is there anything|if you(?:'d| would) like)"
    r"\b[^\n]{0,200})\s*\Z",
    re.IGNORECASE)
_FIRST_LINE = re.compile(r"\A\s*([^\n]*)(?:\n+|\Z)")
_LAST_LINE = re.compile(r"(?:\A|\n+)([^\n]*)\s*\Z")
_FIRST_SENTENCE = re.compile(r"\A\s*(.+?[.!?])(?:\s+|\Z)", re.DOTALL)
_CLAUSE_END = re.compile(r"[.!?;:\n]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_NOT_WORD = re.compile(r"[\W_]+")
# How an instruction starts: the writer is told what to do (a research note or a fact is not).
_IMPERATIVES = frozenset(
    "write explain describe say list summarise summarize use keep end avoid include give cover mention "
    "compare show tell answer pick choose start focus make break walk outline introduce conclude".split())
_ADDRESSED = re.compile(r"\b(?:you|your|do not|don't)\b", re.IGNORECASE)
MIN_ECHO_WORDS = 5  # shorter clauses ("Write plainly.") are too common to call an echo


@dataclass(frozen=True)
class Trimmed:
    text: str
    removed: list[str]  # what was cut, for run.json
    echoed: list[str] = field(default_factory=list)  # instructions repeated inside the content: flagged, kept


def normalised(text: str) -> str:
    return _NOT_WORD.sub(" ", text.lower()).strip()


def is_instruction(clause: str) -> bool:
    words = clause.split()
    first = words[0].lstrip("-*• ").lower() if words else ""
    return len(words) >= MIN_ECHO_WORDS and (first in _IMPERATIVES or bool(_ADDRESSED.search(clause)))


@dataclass(frozen=True)
class Told:
    """The prompt's clauses, normalised, and which of them instruct the writer."""

    clauses: frozenset[str] = frozenset()
    instructions: frozenset[str] = frozenset()


def told_in(prompt_texts: Iterable[str]) -> Told:
    clauses = [c.strip().lstrip("-*• ") for text in prompt_texts for c in _CLAUSE_END.split(text)]
    return Told(frozenset(normalised(c) for c in clauses if c),
                frozenset(normalised(c) for c in clauses if is_instruction(c)))


def _is_echo(piece: str, told: Told) -> bool:
    """The piece is the prompt's own text, clause for clause, with at least one instruction in it: research
    notes the writer reuses are content, not an echo."""
    clauses = [normalised(c) for c in _CLAUSE_END.split(piece) if normalised(c)]
    return bool(clauses) and all(c in told.clauses for c in clauses) and any(c in told.instructions for c in clauses)


def _is_heading_repeat(line: str, heading: str) -> bool:
    bare = line.strip().strip("#*_ ").rstrip(":").strip("*_ ")
    return bool(heading) and normalised(bare) == normalised(heading)


def _leading(text: str, heading: str, told: Told) -> tuple[str, str] | None:
    """One piece of chatter at the start, and the rest; None when the text starts with content."""
    if lead := _PREAMBLE.match(text) or _presenting(text) or _ABOUT_WRITING.match(text) or _FLATTERY.match(text):
        return lead.group().strip(), text[lead.end():]
    line = _FIRST_LINE.match(text)
    if line and (_is_heading_repeat(line.group(1), heading) or _is_echo(line.group(1), told)):
        return line.group(1).strip(), text[line.end():]
    sentence = _FIRST_SENTENCE.match(text)
    if sentence and _is_echo(sentence.group(1), told):
        return sentence.group(1).strip(), text[sentence.end():]
    return None


def _presenting(text: str) -> re.Match | None:
    """The model presenting its answer, when what follows is that answer: it names the writing ("section",
    "version", ...), or it is "Here's an example:" followed by prose rather than code, a list or a table."""
    lead = _PRESENTING.match(text)
    if lead and (_SECTION_WORDS.search(_INLINE_CODE.sub("", lead.group())) or _PROSE_START.match(text[lead.end():])):
        return lead
    return None


def _trailing(text: str, told: Told) -> tuple[str, str] | None:
    if tail := _OFFER.search(text):
        return tail.group(1).strip(), text[: tail.start()]
    line = _LAST_LINE.search(text)
    if line and _is_echo(line.group(1), told):
        return line.group(1).strip(), text[: line.start()]
    return None


def trim_chatter(text: str, heading: str = "", prompt_texts: Iterable[str] = ()) -> Trimmed:
    """Cut chatter from both ends while content remains; report instructions echoed inside."""
    told = told_in(prompt_texts)
    removed = []
    for cut in (lambda t: _leading(t, heading, told), lambda t: _trailing(t, told)):
        while (step := cut(text)) and step[1].strip():
            removed.append(step[0])
            text = step[1]
    echoed = [s.strip() for s in _SENTENCE_END.split(text) if s.strip() and _is_echo(s, told)]
    return Trimmed(text.strip() if removed else text, removed, echoed)
