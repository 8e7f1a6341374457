"""Model prose checked against what it was written from: numbers must trace to the brief, data or
sources (format- and rounding-tolerant), links must be among the sources'. Pure."""

from __future__ import annotations

from decimal import Decimal

from .findings import Finding
from .links import foreign_links_finding
from .numbers import unverified_numbers_finding


def check_prose(text: str, known: set[Decimal], links: set[str], strict: bool) -> list[Finding]:
    """Unverified numbers (attention when strict, info otherwise) and links not in the sources."""
    findings = [unverified_numbers_finding(text, known, strict), foreign_links_finding(text, links)]
    return [finding for finding in findings if finding]
