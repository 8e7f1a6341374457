"""Formatting filters every brief's templates get: numbers, signs, percents, markdown escaping. Pure."""

from __future__ import annotations

import re
from urllib.parse import quote


def signed(value, decimals: int = 2) -> str:
    return f"{float(value):+,.{decimals}f}"


def number(value, decimals: int = 2) -> str:
    return f"{float(value):,.{decimals}f}"


def percent(value, decimals: int = 1) -> str:
    return f"{float(value):.{decimals}f}%"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md_escape(text) -> str:
    """Feed and model text dropped into markdown: no links, emphasis, HTML or shortcodes ({{<) of its own."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def md_url(url) -> str:
    """An http(s) URL safe inside (...) of a markdown link."""
    return quote(str(url), safe=":/?&=#%~+,;@!$'*")


FILTERS = {"signed": signed, "number": number, "percent": percent, "md_escape": md_escape, "md_url": md_url}
