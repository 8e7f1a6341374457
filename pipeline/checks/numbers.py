"""Numbers in model-written prose must trace to the data, the brief's facts or the sources.

Matching is tolerant of formatting (38.1% = 38.1, 1,000 = 1000, -34.58 = 34.58 when the prose
says "lost 34.58") and of rounding (20.2 matches 20.23: the prose may round, never invent). Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .findings import ATTENTION, INFO, Finding
from .text import list_number_starts

# A number: optional sign, digits with optional thousands commas, optional decimals, optional %.
_NUMBER = re.compile(r"(?<![\w.])([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)(?![\w])")


@dataclass(frozen=True)
class NumberMention:
    text: str  # as written
    value: Decimal  # absolute value, commas removed
    decimals: int
    start: int


# "section 2", "step 3", "#4": a number that names a place in the text, not a claim to verify.
# "section 1 of 3", "the first part of 3": the count of the draft's own parts, as the prompt states it.
_REFERENCE_BEFORE = re.compile(r"(?:\b(?:section|step|part|chapter|phase|page|item|figure|fig\.|table|version|no\.)\s*|#"
                               r"|\b(?:section|step|part|chapter|page)s?\s+(?:\d+\s+)?of\s+)$", re.IGNORECASE)


def is_reference(text: str, match: re.Match) -> bool:
    """Years (1900-2100 written as four digits) and section, step or list references are not verified."""
    digits, fraction, percent = match.group(2), match.group(3), match.group(4)
    if not fraction and not percent and len(digits) == 4 and 1900 <= int(digits) <= 2100:
        return True
    return bool(_REFERENCE_BEFORE.search(text[max(0, match.start() - 24):match.start()]))


def mentions(text: str) -> list[NumberMention]:
    markers = list_number_starts(text)
    found = []
    for match in _NUMBER.finditer(text):
        if match.start(2) in markers or is_reference(text, match):
            continue  # "3. " opening a numbered list item, a year, "step 2"
        digits, fraction = match.group(2).replace(",", ""), match.group(3) or ""
        try:
            value = Decimal(digits + fraction)
        except InvalidOperation:
            continue
        found.append(NumberMention(match.group(0), value, max(len(fraction) - 1, 0), match.start()))
    return found


def known_values(*texts: str) -> set[Decimal]:
    """Every number that appears in the reference material (data rendered as text, facts, sources)."""
    return {m.value for text in texts for m in mentions(text)}


def rounds_to(reference: Decimal, mention: NumberMention) -> bool:
    quantum = Decimal(1).scaleb(-mention.decimals)
    try:
        return reference.quantize(quantum) == mention.value
    except InvalidOperation:
        return False


def is_verified(mention: NumberMention, known: set[Decimal]) -> bool:
    return mention.value in known or any(rounds_to(value, mention) for value in known)


def unverified(prose: str, known: set[Decimal]) -> list[NumberMention]:
    return [m for m in mentions(prose) if not is_verified(m, known)]


def unverified_numbers_finding(prose: str, known: set[Decimal], strict: bool) -> Finding | None:
    """Numbers not traced to the sources: attention in --strict, info otherwise."""
    numbers = unverified(prose, known)
    if not numbers:
        return None
    return Finding("unverified_number", ATTENTION if strict else INFO,
                   "numbers not found in the data, facts or sources: " + ", ".join(m.text for m in numbers))


def flatten_numbers(value) -> str:
    """Data (dicts, lists, scalars) as text, so its numbers can be collected the same way."""
    if isinstance(value, dict):
        return " ".join(f"{flatten_numbers(k)} {flatten_numbers(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(flatten_numbers(v) for v in value)
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)


@dataclass(frozen=True)
class NumberAudit:
    """How many numbers in model-written text were verified against the sources, and which were not."""

    numbers: int
    verified: int
    unverified: list[str]


def number_audit(texts: list[str], known: set[Decimal]) -> NumberAudit:
    found = [m for text in texts for m in mentions(text)]
    flagged = [m.text for m in found if not is_verified(m, known)]
    return NumberAudit(len(found), len(found) - len(flagged), flagged)
