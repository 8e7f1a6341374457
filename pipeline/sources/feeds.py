"""RSS/Atom items: parsed from bytes with feedparser, cleaned into plain-text items, deduplicated
and selected for a week. Pure (fetching and the cache are in fetch.py). One bad feed never
raises: its status says what happened.

Feed text is data, never instructions: items leave this module as plain text (no HTML, no control
or bidi characters) with http(s) links only."""

from __future__ import annotations

import calendar
import datetime as dt
import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
import nh3

from ..checks.text import without_surrogates

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|igshid)$", re.IGNORECASE)
_DOCTYPE_START = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
# Format characters (bidi overrides, zero-width, tag characters) sit inside words: removed, not spaced.
_REMOVED = {"Cf", "Co", "Cs"}  # format, private use, surrogates; controls (Cc) become spaces
# Block tags end a word: without a space "<li>bug</li><li>Dark" would read "bugDark".
# Numeric character references: feedparser's loose parser calls chr() on them and raises on a
# surrogate, a code point past U+10FFFF or a number too large for C. Checked on the bytes first.
_CHARREF = re.compile(rb"&#(?:([xX])0*([0-9a-fA-F]+)|0*([0-9]+));")
_BLOCK_TAG = re.compile(r"<(?=/?(?:p|div|li|br|hr|h[1-6]|tr|td|th|ul|ol|dd|dt|blockquote|pre|table|section|article)\b)",
                        re.IGNORECASE)

# Statuses, in run.json and the review output.
OK, NOT_MODIFIED, TIMEOUT, HTTP_ERROR, UNREACHABLE, NOT_A_FEED, TOO_LARGE, PARSE_WARNING, OFFLINE, BAD_URL = (
    "ok", "not_modified", "timeout", "http_error", "unreachable", "not_a_feed", "too_large", "parse_warning",
    "offline", "bad_url")
PARSE_ERROR, BLOCKED_ADDRESS, FAILED = "parse_error", "blocked_address", "failed"


@dataclass(frozen=True)
class FeedLimits:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    max_bytes: int = 2 * 1024 * 1024
    max_summary_chars: int = 600
    total_timeout_s: float = 30.0  # one feed, every attempt and redirect: a slow drip must not hold the build
    retries: int = 2  # after a 429 or 5xx
    retry_backoff_s: float = 1.0  # 1 s, 2 s, ... unless Retry-After asks for longer
    max_retry_wait_s: float = 10.0  # a Retry-After above this is not waited for: the feed keeps its error
    max_redirects: int = 5
    workers: int = 8  # feeds fetched at once
    all_feeds_timeout_s: float = 60.0  # every feed of the brief: unfinished ones are a timeout


@dataclass
class FeedItem:
    source: str
    title: str
    link: str | None  # http(s) only
    summary: str
    published: dt.datetime | None  # timezone-aware UTC
    guid: str | None


@dataclass
class FeedResult:
    name: str
    url: str
    status: str
    detail: str = ""
    from_cache: bool = False
    items: list[FeedItem] = field(default_factory=list)

    def record(self) -> dict:
        return {"name": self.name, "url": self.url, "status": self.status, "detail": self.detail,
                "from_cache": self.from_cache, "items": len(self.items)}


# -- cleaning ------------------------------------------------------------------------------------
def plain_text(value: str, limit: int | None = None) -> str:
    """Feed HTML → plain text: tags dropped (script/style with content), entities decoded,
    invisible and bidi characters removed, whitespace collapsed."""
    text = without_surrogates(value, "") if isinstance(value, str) else ""  # nh3 raises on them
    for _ in range(5):  # double-escaped markup (&amp;lt;script&amp;gt;) is a tag again after one round
        cleaned = html.unescape(nh3.clean(_BLOCK_TAG.sub(" <", text), tags=set(), clean_content_tags={"script", "style"}))
        if cleaned == text:
            break
        text = cleaned
    text = "".join(" " if cat == "Cc" else "" if cat in _REMOVED else ch
                   for ch in text if (cat := unicodedata.category(ch)))
    text = re.sub(r"\s+", " ", text).strip()
    return text[: limit - 1].rstrip() + "…" if limit and len(text) > limit else text


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number in range
    except ValueError:  # "http://[::1" and other malformed hosts: a feed's bad link must not sink the run
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def safe_link(url: str | None) -> str | None:
    if not url:
        return None
    url = plain_text(url)
    return url if is_http_url(url) else None


def canonical_link(url: str) -> str:
    """For deduplication: lowercase host, no fragment, no tracking parameters, sorted query."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k))
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/") or "/", urlencode(query), ""))


def dedupe_link(url: str) -> str:
    try:
        return canonical_link(url)
    except ValueError:  # a link urlsplit rejects still dedupes, as written
        return url


# -- parsing -------------------------------------------------------------------------------------
def strip_doctype(body: bytes) -> tuple[bytes, bool]:
    """Removes the first DOCTYPE; True when it declared entities. One anchored match: a regex search
    would retry at every later "<!DOCTYPE [" and go quadratic on a hostile body."""
    start = _DOCTYPE_START.search(body)
    match = start and _DOCTYPE.match(body, start.start())
    if not match:
        return body, False
    return body[: match.start()] + body[match.end():], match.group(1) is not None


def valid_charref(match: re.Match[bytes]) -> bool:
    hex_mark, hex_digits, decimal = match.groups()
    digits = hex_digits if hex_mark else decimal
    if len(digits) > 8:  # leading zeros are outside the group: more digits is past U+10FFFF
        return False
    code = int(digits, 16 if hex_mark else 10)
    return code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF


def neutralise_charrefs(body: bytes) -> tuple[bytes, int]:
    """Invalid numeric character references → U+FFFD, so one bad reference costs a character, not
    the feed. Bytes in an ASCII-compatible encoding only; UTF-16 bodies are caught in parse()."""
    count = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal count
        if valid_charref(match):
            return match.group(0)
        count += 1
        return b"&#xFFFD;"

    return _CHARREF.sub(replace, body), count


def parse(body: bytes, name: str, limits: FeedLimits) -> tuple[str, str, list[FeedItem]]:
    """Bytes → (status, detail, items); never raises. DOCTYPEs are removed first: feeds need no
    entity definitions, and dropping them defeats entity bombs and external entities. (feedparser
    drops entity declarations too, after decoding: that covers UTF-16 bodies this byte pattern misses.)"""
    stripped, had_entities = strip_doctype(body)
    stripped, bad_refs = neutralise_charrefs(stripped)
    try:
        parsed = feedparser.parse(stripped, sanitize_html=True, resolve_relative_uris=False)
        is_feed = bool(parsed.get("version") or parsed.entries)
        entries, bozo = list(parsed.entries), parsed.get("bozo")
        bozo_text = str(parsed.get("bozo_exception", "")) if bozo else ""
    except Exception as exc:  # feedparser raises on some hostile bytes: that is this feed's status, not a crash
        return PARSE_ERROR, f"{type(exc).__name__} in feedparser: {plain_text(str(exc), 160)}", []
    if not is_feed:
        return NOT_A_FEED, "no RSS or Atom content", []
    items, dropped = clean_entries(entries, name, limits)
    notes = [plain_text(bozo_text, 200) if bozo else "",
             "DOCTYPE with entity declarations removed" if had_entities else "",
             f"{bad_refs} invalid character references replaced" if bad_refs else "",
             f"{dropped.total()} items dropped ({', '.join(sorted(dropped))})" if dropped else ""]
    warned = bool(bozo or had_entities or bad_refs or dropped)
    return (PARSE_WARNING if warned else OK), "; ".join(n for n in notes if n), items


def clean_entries(entries: list, name: str, limits: FeedLimits) -> tuple[list[FeedItem], Counter[str]]:
    """Each entry on its own: one that cannot be cleaned is dropped and counted by error type."""
    items, dropped = [], Counter[str]()
    for entry in entries:
        try:
            item = to_item(entry, name, limits)
        except Exception as exc:  # a bad item costs itself, not the feed
            dropped[type(exc).__name__] += 1
            continue
        if item:
            items.append(item)
    return items, dropped


def to_item(entry, name: str, limits: FeedLimits) -> FeedItem | None:
    title = plain_text(entry.get("title", ""), 200)
    summary = plain_text(entry.get("summary", "") or entry.get("description", ""), limits.max_summary_chars)
    if not title and not summary:
        return None
    return FeedItem(source=name, title=title or summary[:80], link=safe_link(entry.get("link")), summary=summary,
                    published=entry_time(entry), guid=plain_text(entry.get("id", ""), 300) or None)


def entry_time(entry) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = dict.get(entry, key)  # not entry.get: it maps published to updated with a DeprecationWarning
        if parsed:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)
            except (OverflowError, ValueError, OSError):
                continue  # out of range: the next date field may still do
    return None


# -- selecting the week's items -------------------------------------------------------------------
@dataclass
class WeekSelection:
    items: list[FeedItem]
    duplicates: int = 0
    undated: int = 0
    future: int = 0
    outside_week: int = 0


def select_week(results: list[FeedResult], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> WeekSelection:
    """Dedupe (guid, then canonical link), keep items dated inside [start, end).
    Stated rule: items with no parseable date are left out (we cannot place them in a week), and
    items dated more than a day after `now` are treated as bogus and left out."""
    selection, seen = WeekSelection([]), set[str]()
    for item in (i for r in results for i in r.items):
        keys = {k for k in (item.guid and f"guid:{item.guid}", item.link and f"link:{dedupe_link(item.link)}") if k}
        if keys & seen:
            selection.duplicates += 1
            continue
        seen |= keys
        if item.published is None:
            selection.undated += 1
        elif item.published > now + dt.timedelta(days=1):
            selection.future += 1
        elif not start <= item.published < end:
            selection.outside_week += 1
        else:
            selection.items.append(item)
    selection.items.sort(key=_published, reverse=True)
    return selection


def _published(item: FeedItem) -> dt.datetime:
    assert item.published is not None  # select_week keeps dated items only
    return item.published
