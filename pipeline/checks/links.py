"""Links in model-written prose must come from the sources: a model invents plausible URLs. Pure."""

from __future__ import annotations

import re

from .findings import ATTENTION, Finding

_URL = re.compile(r"https?://[^\s)\]>\"']+")


def foreign_links(prose: str, allowed: set[str]) -> list[str]:
    """Every http(s) URL in the prose that is not one of the allowed links, sorted, once each."""
    return sorted({url for url in _URL.findall(prose) if url not in allowed})


def foreign_links_finding(prose: str, allowed: set[str]) -> Finding | None:
    foreign = foreign_links(prose, allowed)
    return Finding("foreign_link", ATTENTION, "links not in the sources: " + ", ".join(foreign)) if foreign else None
