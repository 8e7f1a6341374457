"""Numbers in model-written prose must trace to the data, the brief's facts or the sources.

Matching is tolerant of formatting (38.1% = 38.1, 1,000 = 1000, -34.58 = 34.58 when the prose
says "lost 34.58") and of rounding (20.2 matches 20.23: the prose may round, never invent). A unit
written after the number must agree where both sides have one: "64 GB" in the facts verifies "64
gigabytes", not "64 tokens/s"; a bare number (a data field) verifies any. Pure."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .findings import ATTENTION, INFO, Finding
from .text import CODE, blanked, list_number_starts

# What a recorded list of known numbers was written by: 2 reads dotted versions and dates with their year
# (2026-12-07); a re-check of a run.json from before adds what the run's prompts held (recheck.reference_of).
NUMBERS_FORMAT = 2
_UNIT_NAMES = {  # spelling -> one name per unit; a word not listed (parameters, sections) is no unit
    **dict.fromkeys(["gb", "gib", "gigabyte", "gigabytes"], "GB"), **dict.fromkeys(["mb", "mib", "megabyte", "megabytes"], "MB"),
    **dict.fromkeys(["tb", "tib", "terabyte", "terabytes"], "TB"), **dict.fromkeys(["kb", "kib", "kilobyte", "kilobytes"], "KB"),
    **dict.fromkeys(["ms", "millisecond", "milliseconds"], "ms"), **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], "s"),
    **dict.fromkeys(["min", "mins", "minute", "minutes"], "min"), **dict.fromkeys(["h", "hr", "hrs", "hour", "hours"], "h"),
    **dict.fromkeys(["day", "days"], "day"), **dict.fromkeys(["week", "weeks"], "week"),
    **dict.fromkeys(["bit", "bits"], "bit"), **dict.fromkeys(["byte", "bytes"], "byte"),
    **dict.fromkeys(["token", "tokens"], "token"),
    **dict.fromkeys(["billion", "bn"], "billion"), **dict.fromkeys(["million", "mn"], "million"),
    **dict.fromkeys(["thousand"], "thousand"), **dict.fromkeys(["percent", "per cent", "percentage points"], "%"),
    **dict.fromkeys(["core", "cores"], "core"), **dict.fromkeys(["w", "watt", "watts"], "W"), "ghz": "GHz", "mhz": "MHz",
    "fps": "fps", "b": "billion", "k": "thousand", "x": "x",  # glued on: "35B", "4K", "4x"
}
_SCALES = {"thousand": 3, "million": 6, "billion": 9}  # "1.2k" is 1,200, "$1.2M" 1,200,000: compared as amounts
_GLUED = "|".join(sorted((u for u in _UNIT_NAMES if u.isalpha()), key=len, reverse=True))
# A number: optional sign, digits with optional thousands commas, optional decimals (".5" too), an optional exponent,
# optional %. Read whole or not at all: "$1.9M" is not "1", "3.11.4" is a version. A unit may be glued on ("64GB",
# "35B", "4x", "$8M"); other letters make it a name ("H100", "2nd", "x86").
_NUMBER = re.compile(r"(?<![\w.])([+\-−]?)(?=\.?\d)(\d{1,3}(?:,\d{3})++(?!\d)|\d*+)(\.\d++)?+([eE][+-]?\d++)?+(%?)"
                     rf"(?!\.\d|,\d)(?!(?!(?i:{_GLUED})\b|M\b)\w)")
_SPACE = "[ \t\u00a0\u202f\u2009]"  # a non-breaking or thin space holds a unit to its number too
_UNIT_AFTER = re.compile(rf"{_SPACE}?-?(tokens? (?:per|a) second\b|per ?cent\b|percentage points?\b|"
                         r"[A-Za-z]+(?:/(?:s|sec|second)\b)?)")
_RATE_TOKENS = frozenset({"tok", "token", "tokens", "t"})
KnownNumber = tuple[Decimal, str | None]  # a value and the unit written after it, if any ("date", "time" for those)


@dataclass(frozen=True)
class NumberMention:
    text: str  # as written
    value: Decimal  # absolute value, commas removed
    decimals: int
    start: int
    unit: str | None = None  # normalised ("GB", "tok/s", "%", "date"), None when none follows
    approximate: bool = False  # "about 35", "over 1,000": rounded to its last non-zero digit


def unit_after(text: str, match: re.Match) -> str | None:
    if match.group(5):
        return "%"
    glued = text[match.end(): match.end() + 1]
    if glued == "M" and not text[match.end() + 1: match.end() + 2].isalnum():
        return "million"  # "$8M"; a lowercase "m" may be minutes or metres
    after = _UNIT_AFTER.match(text, match.end())
    if not after:
        return None
    word = " ".join(after.group(1).lower().split())
    if word.startswith("token") and word.endswith("second"):
        return "tok/s"
    if "/" in word:  # a rate: "tok/s", "GB/s"
        base = word.split("/")[0]
        return "tok/s" if base in _RATE_TOKENS else f"{_UNIT_NAMES.get(base, base)}/s"
    return _UNIT_NAMES.get(word)


# "section 2", "steps 2 and 3", "pages 4-5", "#4": a number that names a place in the text, not a claim to verify.
# "section 1 of 3", "the first part of 3": the count of the draft's own parts, as the prompt states it.
_PLACES = (r"sections?|steps?|parts?|chapters?|phases?|pages?|items?|figures?|fig\.?|tables?|version|no\.|stages?|"
           r"appendix|issues?|pr|listings?|lines?|examples?|exercises?|slides?|episodes?|tips?")
_REFERENCE_BEFORE = re.compile(rf"(?:\b(?:{_PLACES})\s*(?:\d+\s*(?:,|and|&|to|-|–)\s*)*|#"
                               r"|\b(?:section|step|part|chapter|page)\s+\d+\s+of\s+"
                               r"|\b(?:first|second|third|fourth|fifth|last|final|next)\s+(?:section|step|part|chapter|page)"
                               r"\s+of\s+)$", re.IGNORECASE)
_ORDINAL_LINE = re.compile(r"(?m)^[ \t]*(?:#{1,6}[ \t]+|>[ \t]*)+\**(\d+)[.)](?=\s)")  # "### 1. Install", "> 2) Run"
_APPROXIMATELY = re.compile(r"\b(?:about|around|roughly|approximately|approx\.|nearly|almost|some|over|under|"
                            r"more than|less than|fewer than|close to|up to|at least|at most)\s*[$€£]?$|~\s*$", re.IGNORECASE)
_CURRENCY_BEFORE = re.compile(r"[$€£¥]\s*$")
# Not claims at all (with code): link destinations and addresses, footnote marks; blanked before numbers are read
_NOT_PROSE = re.compile(r"\]\([^)\n]*\)|<[a-z]+:[^>\s]*>|"
                        r"\b(?:https?://|www\.)[^\s)\]>]+|\b[A-Za-z][\w.-]*:\d{2,5}\b|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{2,5})?\b|"
                        r"\[\^[^\]\n]*\]", re.DOTALL | re.IGNORECASE)
# Names that hold a number: a standard after its acronym ("ISO 8601", "RFC 9110", "USB 3.2", "PEP 8"), a compound
# with a named part ("SHA-256", "UTF-8", "Qwen3-30B-A3B", "Llama-3.1-8B", "HTTP/2", "x86-64"), "24/7".
_ACRONYM_BEFORE = re.compile(r"\b([A-Z]{2,6})[ \u00a0]$")
_COMPOUND_EDGE = re.compile(r"[\w.+/-]*$")
_COMPOUND_REST = re.compile(r"[\w.+/-]*")
_NUMERIC_PART = re.compile(rf"[\d.,]*\d(?:[eE][+-]?\d+)?(?:(?i:{_GLUED})|M|%)?")  # "20GB", "$1.2M", "1e9": amounts
_MONTHS = {name: number for number, names in enumerate(
    ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july", "aug august",
     "sep sept september", "oct october", "nov november", "dec december"], start=1) for name in names.split()}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(rf"\b(?:(\d{{4}})-(\d{{2}})-(\d{{2}})|(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MONTH})\.?|"
                   rf"({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b)(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE)
# A dotted version of three or four parts ("Python 3.11.6", "Ollama 0.5.8"): one claim, compared whole
_VERSION = re.compile(r"(?<![\w.])\d{1,6}(?:\.\d{1,6}){2,3}(?!\w|\.\d)")
_TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?(?!\d|:\d)")


def is_reference(text: str, match: re.Match) -> bool:
    """Years (1900-2100 written as four digits, with no currency or unit) and section, step or list references."""
    digits, fraction, percent = match.group(2), match.group(3), match.group(5)
    before = text[max(0, match.start() - 32):match.start()]
    if (not fraction and not percent and len(digits) == 4 and 1900 <= int(digits) <= 2100
            and not _CURRENCY_BEFORE.search(before) and unit_after(text, match) is None):
        return True
    return bool(_REFERENCE_BEFORE.search(before))


def is_name(text: str, match: re.Match) -> bool:
    """A number inside a name: "SHA-256", "Qwen3-30B-A3B", "ISO 8601", "24/7"."""
    start, end = match.start(2) if match.group(2) else match.start(3), match.end()
    if text[start:end + 2] == "24/7" or text[max(0, start - 3):end] == "24/7":
        return True
    acronym = _ACRONYM_BEFORE.search(text, max(0, start - 8), start)
    if acronym and acronym.group(1).lower() not in _UNIT_NAMES and unit_after(text, match) is None:
        return True
    left = _COMPOUND_EDGE.search(text, max(0, start - 40), start)
    right = _COMPOUND_REST.match(text, end)
    compound = (left.group() if left else "") + text[start:end] + (right.group() if right else "")
    parts = [part for part in re.split(r"[-/]", compound.strip(".")) if part]
    return any(not _NUMERIC_PART.fullmatch(part) and (any(c.isupper() for c in part) or (
        any(c.isdigit() for c in part) and any(c.isalpha() for c in part))) for part in parts)


def _dates_and_times(text: str) -> list[NumberMention]:
    found = []
    for match in _DATE.finditer(text):
        iso_month, month_name = match.group(2), match.group(5) or match.group(6)
        month = int(iso_month) if iso_month else _MONTHS[month_name.lower().rstrip(".")]
        day = int(match.group(3) or match.group(4) or match.group(7))
        year = int(match.group(1) or match.group(8) or 0)  # "2025-12-07" is not verified by "2026-12-07"
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append(NumberMention(match.group().strip(), Decimal(year * 10000 + month * 100 + day), 0, match.start(),
                                       "date"))
    for match in _TIME.finditer(text):
        found.append(NumberMention(match.group(), Decimal(int(match.group(1)) * 100 + int(match.group(2))), 0,
                                   match.start(), "time"))
    return found


def _versions(text: str, claims_only: bool) -> list[NumberMention]:
    """Dotted versions, each as one number (its parts zero-padded behind their count): "3.11.6" verifies only "3.11.6".
    After "version" or in a reference ("section 2.3.1") it is no claim, but a source's still counts."""
    found = []
    for match in _VERSION.finditer(text):
        before = text[max(0, match.start() - 32):match.start()]
        if claims_only and _REFERENCE_BEFORE.search(before):  # "version" is among its places
            continue
        parts = match.group().split(".")
        value = Decimal(str(len(parts)) + "".join(part.zfill(6) for part in parts))
        found.append(NumberMention(match.group(), value, 0, match.start(), "version"))
    return found


def mentions(text: str, claims_only: bool = True) -> list[NumberMention]:
    """The numbers of a text a reader takes as claims (`claims_only`), or every number in it (what a source gives:
    "version 3.11" there verifies "Python 3.11" in the prose). Dates and clock times are one mention each."""
    prose = blanked(blanked(text, CODE), _NOT_PROSE)
    found = _dates_and_times(prose)
    prose = blanked(blanked(prose, _DATE), _TIME)
    found += _versions(prose, claims_only)
    prose = blanked(prose, _VERSION)
    markers = list_number_starts(prose) | {m.start(1) for m in _ORDINAL_LINE.finditer(prose)}
    for match in _NUMBER.finditer(prose):
        if claims_only and (match.start(2) in markers or is_reference(prose, match) or is_name(prose, match)):
            continue  # "3. " opening a numbered list item, a year, "step 2", "SHA-256"
        digits, fraction = match.group(2).replace(",", "") or "0", match.group(3) or ""
        try:
            value = Decimal(digits + fraction + (match.group(4) or ""))
        except InvalidOperation:
            continue
        approximate = bool(_APPROXIMATELY.search(prose, max(0, match.start() - 24), match.start()))
        found.append(NumberMention(match.group(0), value, max(len(fraction) - 1, 0), match.start(),
                                   unit_after(prose, match), approximate))
    return sorted(found, key=lambda m: m.start)


COUNT = "count"  # a number the sources spell out: it verifies a bare number in the prose, not one with a unit
_NUMBER_WORDS = {word: Decimal(i) for i, word in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty".split())} | {"thirty": Decimal(30), "forty": Decimal(40), "fifty": Decimal(50),
                                           "dozen": Decimal(12), "hundred": Decimal(100)}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def known_values(*texts: str) -> set[KnownNumber]:
    """Every number that appears in the reference material (data rendered as text, facts, sources), with its unit;
    numbers written as words ("two offices") too, so the prose may write them in digits, as counts: "three knobs" in
    the brief verifies "3 knobs", never "3 days"."""
    known = {(m.value, m.unit) for text in texts for m in mentions(text, claims_only=False)}
    days = {(value % 10000, unit) for value, unit in known if unit == "date"}  # a dated day verifies "7 December" too
    return known | days | {(_NUMBER_WORDS[w.lower()], COUNT) for text in texts for w in _NUMBER_WORD.findall(text)}


def _amount(value: Decimal, unit: str | None) -> tuple[Decimal, str | None]:
    """A value with its scale applied ("1.2 thousand" is 1200, no unit); others as they are."""
    return (value.scaleb(_SCALES[unit]), None) if unit in _SCALES else (value, unit)


class KnownIndex:
    """Known numbers sorted by amount per unit: a mention is looked up by bisection, not against every one."""

    def __init__(self, known: set[KnownNumber]):
        self.by_unit: dict[str | None, list[Decimal]] = {}
        for value, unit in known:
            for amount, kind in {(value, unit), _amount(value, unit)}:
                self.by_unit.setdefault(kind, []).append(amount)
        for values in self.by_unit.values():
            values.sort()

    def has(self, low: Decimal, high: Decimal, unit: str | None) -> bool:
        """Any known amount in [low, high) in this unit (exactly low when they are equal): half up, 12.45 is "12.5" and
        not "12.4". A bare number on either side matches any unit (a count only a bare one)."""
        units = self.by_unit if unit is None else [unit, None]
        end = bisect.bisect_right if low == high else bisect.bisect_left
        return any(bisect.bisect_left(values, low) < end(values, high) for values in (self.by_unit.get(u, []) for u in units))


def tolerance(mention: NumberMention) -> Decimal:
    """How far a known value may be and still be what the prose rounded: half its last digit (35.4 -> "35"), or of
    its last non-zero digit when it says it rounds ("about 1,200" for 1,234, "over 1,000"; "about 11" is not 10)."""
    if mention.unit in ("date", "time", "version"):
        return Decimal(0)
    place = -mention.decimals
    if mention.approximate and mention.value and not mention.decimals:
        place = max(int(mention.value.normalize().as_tuple().exponent), 0)  # 1,200 -> 2: to the hundred
    return Decimal(1).scaleb(place) / 2


def is_verified(mention: NumberMention, index: KnownIndex) -> bool:
    margin = tolerance(mention)
    for value, unit in {(mention.value, mention.unit), _amount(mention.value, mention.unit)}:
        scale = value / mention.value if mention.value else Decimal(1)
        if index.has(value - margin * scale, value + margin * scale, unit):
            return True
    if mention.unit == "%":  # a share given as a fraction: 0.381 is "38.1%"
        return index.has((mention.value - margin) / 100, (mention.value + margin) / 100, None)
    return False


def unverified(prose: str, known: set[KnownNumber]) -> list[NumberMention]:
    index = KnownIndex(known)
    return [m for m in mentions(prose) if not is_verified(m, index)]


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
    found, index = [m for text in texts for m in mentions(text)], KnownIndex(known)
    flagged = [m.text for m in found if not is_verified(m, index)]
    return NumberAudit(len(found), len(found) - len(flagged), flagged)
