"""Links in model-written prose: they must come from the sources (a model invents plausible URLs),
and none may use a scheme that runs code or embeds data. Pure."""

from __future__ import annotations

import html
import re

from .findings import ATTENTION, Finding

_URL = re.compile(r"(?i)\bhttps?://(?:\[[0-9a-f:.]+\][^\s)\]>\"'`]*|[^\s)\]>\"'`]+)")  # [::1]: an IPv6 host
# "www.mlx-guide.com/setup" without a scheme: site generators (Hugo's goldmark) make it a link too
_WWW = re.compile(r"(?i)(?<![\w/.@:-])www\.[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/[^\s)\]>\"'`]*)?")
_TRAILING = ".,;:!?*_~"  # a sentence's or emphasis's end after a bare URL, not part of it
_TRACKING = re.compile(r"(?i)^(?:utm_\w+|fbclid|gclid|ref)=")
# The writer's own machine or network ("http://127.0.0.1:8080/v1" for mlx_lm.server): not a reference to check
_LOCAL_HOST = re.compile(r"(?i)(?:localhost|[\w.-]+\.(?:local|localhost|internal|lan|home\.arpa)|127(?:\.\d+){3}|"
                         r"0\.0\.0\.0|10(?:\.\d+){3}|192\.168(?:\.\d+){2}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d+){2}|"
                         r"\[[0-9a-f:]+\])(?::\d+)?")


def _urls(text: str) -> list[str]:
    found = [url.rstrip(_TRAILING) for url in _URL.findall(text)]
    return found + [url.rstrip(_TRAILING) for url in _WWW.findall(text)]


def links_in(text: str) -> set[str]:
    return set(_urls(text))


def _host_and_path(url: str) -> tuple[str, str, str]:
    """The host (lower case), the slash after it and the rest; "www.example.com/guide" has no scheme to drop."""
    rest = url.partition("://")[2] if "://" in url else url
    host, slash, path = rest.partition("/")
    return host.lower(), slash, path


def same_link(url: str) -> str:
    """A link as compared: scheme and host in lower case, http as https, no fragment, tracking parameters or
    trailing slash ("HTTPS://Example.com/guide/?utm_source=x#top" is "https://example.com/guide")."""
    host, slash, path = _host_and_path(url)
    path, _, _ = path.partition("#")
    path, question, query = path.partition("?")
    kept = "&".join(p for p in query.split("&") if p and not _TRACKING.match(p))
    return f"https://{host}{slash}{path}".rstrip("/") + (f"?{kept}" if question and kept else "")


def is_local(url: str) -> bool:
    """A link to the writer's own machine or network, which no reader can follow and no source lists."""
    return bool(_LOCAL_HOST.fullmatch(_host_and_path(url)[0].partition("?")[0].partition("#")[0]))


def foreign_links(prose: str, allowed: set[str]) -> list[str]:
    """Every http(s) or www. link in the prose that is not one of the allowed links (nor a local address), sorted,
    once each."""
    known = {same_link(url) for url in allowed}
    return sorted({url for url in _urls(prose) if same_link(url) not in known and not is_local(url)})


def foreign_links_finding(prose: str, allowed: set[str]) -> Finding | None:
    foreign = foreign_links(prose, allowed)
    return Finding("foreign_link", ATTENTION, "links not in the sources: " + ", ".join(foreign)) if foreign else None


# -- link schemes that execute -------------------------------------------------------------------
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Where markdown takes a link destination: inline [x](dest), reference definitions [x]: dest, autolinks <dest>.
_INLINE = re.compile(r"(\]\(\s*<?)([^()\s>]+(?:\([^()\s]*\)[^()\s>]*)*)")  # one level of (...) as markdown allows
_ANGLED = re.compile(r"(\]\(\s*<)([^<>\n]+)(?=>)")  # [x](<dest>): spaces and tabs allowed in it
# A definition anywhere on a line, not only at its start: inside a quote or a list item it is one too ("> [1]: dest")
_REFERENCE = re.compile(r"(\[(?:\\.|[^\]\\\n])+\]:[ \t]*<?)(\S+?)(?=>?(?:\s|$))")
_AUTOLINK = re.compile(r"(<)([A-Za-z][A-Za-z0-9+.\-]*:[^>\s]*)(?=>)")
_DESTINATIONS = (_INLINE, _ANGLED, _REFERENCE, _AUTOLINK)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f\u200b-\u200f\u2060\ufeff]")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark and kramdown read `javascript\:` as `javascript:`
NEUTRALISED = "#unsafe-link-removed"


def link_scheme(destination: str) -> str | None:
    """The scheme a browser would see: markdown escapes and entities decoded, whitespace and controls
    dropped (`java&#115;cript:`, `jav&#x09;ascript:`, `javascript\\:` and ` JAVASCRIPT:` are all javascript)."""
    plain = _INVISIBLE.sub("", html.unescape(_BACKSLASH_ESCAPE.sub(r"\1", destination))).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", plain)
    return match.group(1) if match else None


def is_unsafe_link(destination: str) -> bool:
    scheme = link_scheme(destination)
    return scheme is not None and scheme not in SAFE_SCHEMES


def unsafe_links(text: str) -> list[str]:
    found = [m.group(2) for pattern in _DESTINATIONS for m in pattern.finditer(text)]
    return sorted({d for d in found if is_unsafe_link(d)})


def neutralise_links(text: str) -> str:
    """Every unsafe destination becomes a harmless fragment; the link text stays readable."""
    def replace(match: re.Match) -> str:
        return match.group(1) + (NEUTRALISED if is_unsafe_link(match.group(2)) else match.group(2))
    for pattern in _DESTINATIONS:
        text = pattern.sub(replace, text)
    return text


def unsafe_links_finding(text: str) -> Finding | None:
    """Named by scheme only: the note is shown in the draft and must not carry the link itself."""
    found = unsafe_links(text)
    schemes = sorted({link_scheme(d) or "" for d in found})
    return Finding("unsafe_link", ATTENTION, f"{len(found)} link(s) that run code or embed data were "
                   f"removed (scheme {', '.join(schemes)})") if found else None
