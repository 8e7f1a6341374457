"""Repetition between the sections of one draft, and between a newsletter and its earlier issues.

Sections are generated one call each, so a section does not see what the others say: it may
re-introduce the topic, repeat a sentence, or restate a fact another section already gave. Three
measures, each between a section and every EARLIER one (the later one is the one to fix):

- repeated sentence: a sentence of six words or more that is the same as one in an earlier
  section after normalising case, punctuation and markdown (word-level similarity >= SAME_SENTENCE);
- same opening: the first sentence shares most of its content words with an earlier section's
  first sentence (the topic introduced twice);
- same fact restated: two sentences share a number with its unit ("64 GB") and most of their
  content words.

Thresholds are calibrated on real multi-section documents nobody here wrote (bench/repetition.py,
bench/results/2026-11-25-repetition.json). Pure: text in, findings out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from .findings import ATTENTION, INFO, Finding
from .text import FENCED_CODE, SENTENCE_END, quote

MIN_WORDS = 8  # "It works." or "See the docs for details." twice is not worth a reviewer's time
SAME_SENTENCE = 0.85  # word-level similarity: a repeat with a word or two changed still counts
SAME_OPENING = 0.6  # Dice overlap of the content words of two first sentences
SAME_FACT = 0.5  # Dice overlap of content words, with a number and unit in common
MIN_CONTENT = 4  # openings and facts are compared only when both sentences have this many content words
MAX_QUOTES = 2

_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each even every few for from further get gets
had has have having he her here hers him his how however i if in into is it its itself just let lets like
may me might more most much must my no nor not now of off on once one only or other our ours out over own
per quite rather really same see she should so some such than that the their theirs them then there these
they this those through thus to too under until up upon us use used uses using very via was we well were
what when where which while who whom why will with would yet you your yours
""".split())

_SKIPPED_LINE = re.compile(r"^\s*(?:\||#{1,6}\s|> \*\*Needs attention:\*\*|<!--)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_URL = re.compile(r"<?https?://\S+>?")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|%|[^\W\d_]+(?:['’][^\W\d_]+)*")


@dataclass(frozen=True)
class Sentence:
    text: str  # as written, markdown removed: what a message quotes
    words: tuple[str, ...]  # lower case, punctuation dropped
    vocabulary: frozenset[str]  # the set of those words
    content: frozenset[str]  # words that carry meaning (no stopwords), plurals folded
    facts: frozenset[str]  # a number and the word after it: "64 gb", "39.1 %"


@dataclass(frozen=True)
class Match:
    """One repetition: a sentence of this section (or issue) and the earlier one it repeats."""

    kind: str  # "sentence", "opening" or "fact"
    earlier: int  # index of the earlier section (or previous issue)
    here: Sentence
    there: Sentence
    score: float


def _fold(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def sentence_of(raw: str) -> Sentence:
    text = " ".join(raw.split())
    words = tuple(w.lower().replace("’", "'") for w in _TOKEN.findall(text))
    content = frozenset(_fold(w) for w in words if w not in _STOPWORDS and (len(w) > 2 or w[0].isdigit()))
    facts = frozenset(f"{w} {_fold(n)}" for w, n in zip(words, words[1:], strict=False)
                      if w[0].isdigit() and n not in _STOPWORDS and not n[0].isdigit())
    return Sentence(text, words, frozenset(words), content, facts)


def prose_lines(text: str) -> list[str]:
    """Paragraphs and list items of markdown prose: code, tables, headings and review notes left out."""
    text = FENCED_CODE.sub("\n", text.replace("\u200b", ""))
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip() or _SKIPPED_LINE.match(line) or _LIST_ITEM.match(line):
            if current:
                blocks.append(" ".join(current))
            current = []
            if line.strip() and _LIST_ITEM.match(line) and not _SKIPPED_LINE.match(line):
                current = [_LIST_ITEM.sub("", line, count=1)]
            continue
        current.append(line.strip().removeprefix("> "))
    if current:
        blocks.append(" ".join(current))
    return blocks


def sentences(text: str) -> list[Sentence]:
    """The prose's sentences, markdown links, emphasis and code marks removed."""
    found = []
    for block in prose_lines(text):
        block = _URL.sub(" ", _LINK.sub(r"\1", block)).replace("`", "").replace("**", "").replace("__", "")
        start = 0
        for end in [m.end() for m in SENTENCE_END.finditer(block)] + [len(block)]:
            piece = block[start:end].strip(" *_")
            start = end
            if piece:
                found.append(sentence_of(piece))
    return [s for s in found if s.words]


def similarity(a: Sentence, b: Sentence) -> float:
    """Word-level similarity, 1.0 for the same sentence: 2 * matched words / all words."""
    return SequenceMatcher(None, a.words, b.words, autojunk=False).ratio()


def dice(a: Sentence, b: Sentence) -> float:
    """Overlap of content words, order ignored: 2 * shared / all."""
    if not a.content or not b.content:
        return 0.0
    return 2 * len(a.content & b.content) / (len(a.content) + len(b.content))


def comparable(sentence: Sentence) -> bool:
    """Long enough to matter, and not a lead-in to a list or code ("Here is how:"), which is formulaic."""
    # Words as a reader counts them: "Q4_K_M for the 70B model" is five, not the nine pieces `words` holds.
    return len(sentence.text.split()) >= MIN_WORDS and not sentence.text.endswith(":")


def could_repeat(a: Sentence, b: Sentence, threshold: float = SAME_SENTENCE) -> bool:
    """A cheap filter before the word alignment: similarity can reach `threshold` only between sentences
    of similar length (an exact bound) that share most of their words (a loose one)."""
    shorter, longer = sorted((len(a.words), len(b.words)))
    if not (comparable(a) and comparable(b)) or 2 * shorter / (shorter + longer) < threshold:
        return False
    common = len(a.vocabulary & b.vocabulary)
    return 2 * common / (len(a.vocabulary) + len(b.vocabulary)) >= threshold - 0.15


def repeated_sentences(here: list[Sentence], there: list[Sentence], earlier: int) -> list[Match]:
    matches = []
    for sentence in here:
        best = max(((similarity(sentence, other), other) for other in there if could_repeat(sentence, other)),
                   default=None, key=lambda pair: pair[0])
        if best and best[0] >= SAME_SENTENCE:
            matches.append(Match("sentence", earlier, sentence, best[1], round(best[0], 3)))
    return matches


def restated_facts(here: list[Sentence], there: list[Sentence], earlier: int, skip: set[Sentence]) -> list[Match]:
    matches = []
    for sentence in here:
        if sentence in skip or not sentence.facts or len(sentence.content) < MIN_CONTENT:
            continue
        scored = [(dice(sentence, other), other) for other in there
                  if sentence.facts & other.facts and len(other.content) >= MIN_CONTENT]
        best = max(scored, default=None, key=lambda pair: pair[0])
        if best and best[0] >= SAME_FACT:
            matches.append(Match("fact", earlier, sentence, best[1], round(best[0], 3)))
    return matches


def same_opening(here: list[Sentence], there: list[Sentence], earlier: int) -> Match | None:
    if not here or not there or min(len(here[0].content), len(there[0].content)) < MIN_CONTENT:
        return None
    score = dice(here[0], there[0])
    return Match("opening", earlier, here[0], there[0], round(score, 3)) if score >= SAME_OPENING else None


def repetition_matches(sections: list[tuple[str, str]]) -> dict[int, list[Match]]:
    """Every repetition of an earlier section, by the index of the section that repeats it."""
    split = [sentences(text) for _, text in sections]
    found: dict[int, list[Match]] = {}
    for index, here in enumerate(split):
        matches: list[Match] = []
        for earlier in range(index):
            found_here = repeated_sentences(here, split[earlier], earlier)
            opening = same_opening(here, split[earlier], earlier)
            if opening and opening.here not in {m.here for m in found_here}:  # a repeated opening is reported once
                found_here.append(opening)
            matches += found_here + restated_facts(here, split[earlier], earlier, {m.here for m in found_here})
        if matches:
            found[index] = matches
    return found


def _quotes(matches: list[Match]) -> str:
    shown = "; ".join(quote(m.here.text) for m in matches[:MAX_QUOTES])
    return shown + (f" and {len(matches) - MAX_QUOTES} more" if len(matches) > MAX_QUOTES else "")


_KIND_TEXT = {
    "sentence": ("repeats {n} sentence{s} of {where}: {quotes}", ATTENTION),
    "opening": ("opens like {where} ({quotes} after {earlier}), introducing the topic again", INFO),
    "fact": ("restates {n} fact{s} from {where}: {quotes}", INFO),
}


def _finding(kind: str, where: str, matches: list[Match], advice: str = "cut or rewrite one of them") -> Finding:
    template, severity = _KIND_TEXT[kind]
    message = template.format(n=len(matches), s="" if len(matches) == 1 else "s", where=where,
                              quotes=_quotes(matches), earlier=quote(matches[0].there.text))
    return Finding("repetition", severity, f"{message}; {advice}")


def repetition_findings(sections: list[tuple[str, str]]) -> dict[int, list[Finding]]:
    """(heading, text) of each prose section in draft order -> findings of the sections that repeat an
    earlier one, by index into `sections`: repeated sentences need attention; the same opening and the
    same fact restated are info."""
    findings: dict[int, list[Finding]] = {}
    for index, matches in repetition_matches(sections).items():
        for earlier in sorted({m.earlier for m in matches}):
            where = f'section {earlier + 1} "{sections[earlier][0]}"'
            for kind in _KIND_TEXT:
                chosen = [m for m in matches if m.earlier == earlier and m.kind == kind]
                if chosen:
                    findings.setdefault(index, []).append(_finding(kind, where, chosen))
    return findings


_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_SECTION_HEADING = re.compile(r"(?m)^## (.+?)\s*$")


def markdown_sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, text) of each ## section of a draft's index.md (front matter and any text before the
    first heading left out): how an earlier draft's sections are read back."""
    body = _FRONT_MATTER.sub("", markdown, count=1)
    parts = _SECTION_HEADING.split(body)
    return [(parts[k].replace("\u200b", "").strip(), parts[k + 1].strip()) for k in range(1, len(parts), 2)]


def previous_issue_matches(text: str, previous: list[tuple[str, str]]) -> list[Match]:
    here = sentences(text)
    return [m for number, (_, earlier) in enumerate(previous) for m in repeated_sentences(here, sentences(earlier), number)]


def previous_issue_findings(text: str, previous: list[tuple[str, str]]) -> list[Finding]:
    """This issue's prose against (label, prose) of earlier issues: sentences repeated from one need
    attention (last week's insight word for word)."""
    matches = previous_issue_matches(text, previous)
    findings = []
    for number, (label, _) in enumerate(previous):
        chosen = [m for m in matches if m.earlier == number]
        if chosen:
            findings.append(_finding("sentence", f"the earlier issue {label}", chosen,
                                     "cut or rewrite it here: readers saw it already"))
    return findings
