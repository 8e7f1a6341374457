"""Formatting filters every brief's templates get: numbers, signs, percents, markdown escaping. Pure.

Their results are Markup: block templates print any other string as text (escaped), so a data value
can never become a link, HTML or a shortcode, while these filters' output is printed as it is."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import quote

from markupsafe import Markup


def signed(value, decimals: int = 2) -> Markup:
    return Markup(f"{float(value):+,.{decimals}f}")


def number(value, decimals: int = 2) -> Markup:
    return Markup(f"{float(value):,.{decimals}f}")


def percent(value, decimals: int = 1) -> Markup:
    return Markup(f"{float(value):.{decimals}f}%")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md_escape(text) -> Markup:
    """Feed and model text dropped into markdown: no links, emphasis, HTML or shortcodes ({{<) of its own."""
    return Markup(_MARKDOWN_SPECIAL.sub(r"\\\1", str(text)))


def md_url(url) -> Markup:
    """An http(s) URL safe inside (...) of a markdown link."""
    return Markup(quote(str(url), safe=":/?&=#%~+,;@!$'*"))


def as_text(value):
    """Block templates' finalize: anything printed by {{ }} is data, so it is escaped as text; numbers
    and the filters' own Markup are printed as they are. A dict or list prints its strings too."""
    return value if isinstance(value, (Markup, int, float, Decimal)) else md_escape(value)


FILTERS = {"signed": signed, "number": number, "percent": percent, "md_escape": md_escape, "md_url": md_url}
