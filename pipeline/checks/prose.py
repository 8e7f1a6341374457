"""Model prose checked against what it was written from: numbers must trace to the brief, data or
sources (format- and rounding-tolerant), links must be among the sources'. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .findings import Finding
from .links import foreign_links_finding
from .numbers import NUMBERS_FORMAT, KnownNumber, unverified_numbers_finding


@dataclass(frozen=True)
class Reference:
    """What prose is checked against: the numbers and links it may use, and whether an unverified number
    needs attention. run.json records it, so `pipeline check` re-runs the same checks on an edited draft."""

    known: set[KnownNumber]
    links: set[str]
    strict: bool

    def as_record(self) -> dict:
        return {"known_numbers": sorted(f"{value} {unit}" if unit else str(value) for value, unit in self.known),
                "allowed_links": sorted(self.links),
                "unverified_numbers": "attention" if self.strict else "info", "numbers_format": NUMBERS_FORMAT}

    @classmethod
    def from_record(cls, record: dict) -> Reference:
        known = {(Decimal(value), unit or None) for value, _, unit in (str(v).partition(" ") for v in record["known_numbers"])}
        return cls(known, set(record.get("allowed_links") or []), record.get("unverified_numbers") == "attention")


def check_prose(text: str, known: set[KnownNumber], links: set[str], strict: bool) -> list[Finding]:
    """Unverified numbers (attention when strict, info otherwise) and links not in the sources."""
    findings = [unverified_numbers_finding(text, known, strict), foreign_links_finding(text, links)]
    return [finding for finding in findings if finding]
