"""HTML in markdown that a browser would run: tags that script or embed (script, iframe, svg, ...), any
tag with an `on...=` handler or a link attribute whose scheme runs code. Found for the section checks
and made inert in index.md, code included. Pure."""

from __future__ import annotations

import re

from .links import is_unsafe_link
from .text import ZERO_WIDTH_SPACE

DANGEROUS_TAGS = frozenset({"script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
                            "link", "meta", "form", "svg", "math", "template", "noscript"})
# A tag as an HTML parser reads it: quoted values may hold '>' and the tag may run over several lines. A quote
# opens a value only right after '=': in `alt=a'b onerror=...` it is a letter of the value, and the handler counts.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:=\s*\"[^\"]*\"|=\s*'[^']*'|[^<>])*)")
_WHOLE_TAG = re.compile(_TAG.pattern + ">")
_HANDLER = re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE)
_URL_ATTRIBUTE = re.compile(r"""\b(?:href|src|action|formaction|xlink:href|data|poster|background)\s*=\s*"""
                            r"""("[^"]*"|'[^']*'|[^\s"'>]+)""", re.IGNORECASE)


def _runs(name: str, attributes: str) -> bool:
    urls = (value.strip("\"'") for value in _URL_ATTRIBUTE.findall(attributes))
    return (name.lower() in DANGEROUS_TAGS or bool(_HANDLER.search(attributes))
            or "srcdoc" in attributes.lower() or any(is_unsafe_link(url) for url in urls))


def dangerous_tags(text: str) -> list[str]:
    """Every tag in the text that would run code or embed a page (first 80 characters), also those that
    appear once harmless tags are removed, as the draft removes them: "<scr<b>ipt>"."""
    found: list[str] = []
    while True:
        found += [m.group(0)[:80] for m in _TAG.finditer(text) if _runs(m.group(2), m.group(3))]
        stripped = _WHOLE_TAG.sub(lambda m: m.group(0) if _runs(m.group(2), m.group(3)) else "", text)
        if stripped == text:
            return list(dict.fromkeys(found))
        text = stripped


def defuse_html(text: str) -> str:
    """A zero-width space after the '<' of every such tag: no parser sees a tag any more, readers see the
    same text. Done everywhere, code included, so a code span or fence read differently by kramdown,
    goldmark or us can never let one through."""
    def defuse(match: re.Match) -> str:
        return "<" + ZERO_WIDTH_SPACE + match.group(0)[1:] if _runs(match.group(2), match.group(3)) else match.group(0)
    return _TAG.sub(defuse, text)
