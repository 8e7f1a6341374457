"""Numbers in model-written prose must trace to the data, the brief's facts or the sources.

Matching is tolerant of formatting (38.1% = 38.1, 1,000 = 1000, -34.58 = 34.58 when the prose
says "lost 34.58") and of rounding (20.2 matches 20.23: the prose may round, never invent). A unit
written after the number must agree where both sides have one: "64 GB" in the facts verifies "64
gigabytes", not "64 tokens/s"; a bare number (a data field) verifies any. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .findings import ATTENTION, INFO, Finding
from .text import list_number_starts

# A number: optional sign, digits with optional thousands commas, optional decimals, optional %.
# A unit may be glued on ("64GB", "35B", "4x"); other letters make it a name ("H100", "2nd", "x86").
_NUMBER = re.compile(r"(?<![\w.])([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(%?)"
                     r"(?!(?!(?i:gib|gb|mib|mb|tb|kb|ms|ghz|min|bit|b|k|x|s|h)\b)\w)")


_UNIT_AFTER = re.compile(r"[ \t]?-?(tokens? (?:per|a) second\b|[A-Za-z]+(?:/s(?:ec)?)?\b)")
_UNIT_NAMES = {  # spelling -> one name per unit; a word not listed (parameters, sections) is no unit
    **dict.fromkeys(["gb", "gib", "gigabyte", "gigabytes"], "GB"), **dict.fromkeys(["mb", "mib", "megabyte", "megabytes"], "MB"),
    **dict.fromkeys(["tb", "tib", "terabyte", "terabytes"], "TB"), **dict.fromkeys(["kb", "kib", "kilobyte", "kilobytes"], "KB"),
    **dict.fromkeys(["ms", "millisecond", "milliseconds"], "ms"), **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], "s"),
    **dict.fromkeys(["min", "mins", "minute", "minutes"], "min"), **dict.fromkeys(["h", "hr", "hrs", "hour", "hours"], "h"),
    **dict.fromkeys(["day", "days"], "day"), **dict.fromkeys(["week", "weeks"], "week"),
    **dict.fromkeys(["bit", "bits"], "bit"), **dict.fromkeys(["byte", "bytes"], "byte"),
    **dict.fromkeys(["token", "tokens"], "token"),
    **dict.fromkeys(["billion", "bn"], "billion"), **dict.fromkeys(["million", "mn"], "million"),
    **dict.fromkeys(["thousand"], "thousand"), **dict.fromkeys(["percent", "per cent"], "%"),
    **dict.fromkeys(["core", "cores"], "core"), **dict.fromkeys(["w", "watt", "watts"], "W"), "ghz": "GHz",
    "b": "billion", "k": "thousand", "x": "x",  # glued on: "35B", "4K", "4x"
}
KnownNumber = tuple[Decimal, str | None]  # a value and the unit written after it, if any


@dataclass(frozen=True)
class NumberMention:
    text: str  # as written
    value: Decimal  # absolute value, commas removed
    decimals: int
    start: int
    unit: str | None = None  # normalised ("GB", "tok/s", "%"), None when none follows


def unit_after(text: str, match: re.Match) -> str | None:
    if match.group(4):
        return "%"
    after = _UNIT_AFTER.match(text, match.end())
    if not after:
        return None
    word = after.group(1).lower()
    if word.startswith("token") and word.endswith("second"):
        return "tok/s"
    if "/" in word:  # a rate: "tok/s", "GB/s"
        base = word.split("/")[0]
        return "tok/s" if base in ("tok", "token", "tokens") else f"{_UNIT_NAMES.get(base, base)}/s"
    return _UNIT_NAMES.get(word)


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
        found.append(NumberMention(match.group(0), value, max(len(fraction) - 1, 0), match.start(),
                                   unit_after(text, match)))
    return found


def known_values(*texts: str) -> set[KnownNumber]:
    """Every number that appears in the reference material (data rendered as text, facts, sources), with its unit."""
    return {(m.value, m.unit) for text in texts for m in mentions(text)}


def rounds_to(reference: Decimal, mention: NumberMention) -> bool:
    quantum = Decimal(1).scaleb(-mention.decimals)
    try:
        return reference.quantize(quantum) == mention.value
    except InvalidOperation:
        return False


def is_verified(mention: NumberMention, known: set[KnownNumber]) -> bool:
    return any((value == mention.value or rounds_to(value, mention))
               and (unit is None or mention.unit is None or unit == mention.unit) for value, unit in known)


def unverified(prose: str, known: set[KnownNumber]) -> list[NumberMention]:
    return [m for m in mentions(prose) if not is_verified(m, known)]


def unverified_numbers_finding(prose: str, known: set[KnownNumber], strict: bool) -> Finding | None:
    """Numbers not traced to the sources: attention in --strict, info otherwise."""
    numbers = unverified(prose, known)
    if not numbers:
        return None
    return Finding("unverified_number", ATTENTION if strict else INFO,
                   "numbers not found in the data, facts or sources: " + ", ".join(m.text for m in numbers))


# Not "_min" or "_max": in data they mean minimum and maximum far more often than minutes.
_KEY_UNIT = re.compile(r"_(gb|gib|mb|tb|kb|ms|s|sec|seconds|minutes|h|hours|days|weeks|bits?|bytes|tokens|pct|percent|b)$",
                       re.IGNORECASE)


def flatten_numbers(value) -> str:
    """Data (dicts, lists, scalars) as text, so its numbers can be collected the same way; a key that names
    a unit ("os_and_apps_gb: 10", "win_rate_pct: 38.1") gives its number that unit."""
    if isinstance(value, dict):
        return " ".join(f"{flatten_numbers(k)} {flatten_numbers(v)}{_unit_of_key(k, v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(flatten_numbers(v) for v in value)
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)


def _unit_of_key(key, value) -> str:
    unit = _KEY_UNIT.search(str(key)) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if not unit:
        return ""
    word = unit.group(1).lower()
    return {"pct": "%", "percent": "%", "b": " billion"}.get(word, f" {word}")


@dataclass(frozen=True)
class NumberAudit:
    """How many numbers in model-written text were verified against the sources, and which were not."""

    numbers: int
    verified: int
    unverified: list[str]


def number_audit(texts: list[str], known: set[KnownNumber]) -> NumberAudit:
    found = [m for text in texts for m in mentions(text)]
    flagged = [m.text for m in found if not is_verified(m, known)]
    return NumberAudit(len(found), len(found) - len(flagged), flagged)
