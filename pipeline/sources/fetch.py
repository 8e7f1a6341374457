"""Fetching feeds: requests with timeouts, a byte cap and an overall deadline, conditional GET,
and a local cache of the last good copy. The only network and disk I/O of the feed sources;
parsing and cleaning are in feeds.py."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests
import urllib3
from urllib3.exceptions import ReadTimeoutError

from .feeds import (
    BAD_URL,
    HTTP_ERROR,
    NOT_A_FEED,
    NOT_MODIFIED,
    OFFLINE,
    OK,
    TIMEOUT,
    TOO_LARGE,
    UNREACHABLE,
    FeedLimits,
    FeedResult,
    is_http_url,
    parse,
)

USER_AGENT = "pipeline-newsletter/0.1 (+local batch runner; one fetch per feed per run)"


# -- cache -----------------------------------------------------------------------------------------
class FeedCache:
    """Last good body of each feed plus its validators (ETag, Last-Modified), one file pair per URL."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode()).hexdigest()[:24]
        return self.folder / f"{key}.body", self.folder / f"{key}.json"

    def load(self, url: str) -> tuple[bytes | None, dict]:
        body, meta = self._paths(url)
        if not body.exists():
            return None, {}
        try:
            return body.read_bytes(), json.loads(meta.read_text())
        except (OSError, ValueError):
            return None, {}

    def store(self, url: str, content: bytes, headers) -> None:
        body, meta = self._paths(url)
        self.folder.mkdir(parents=True, exist_ok=True)
        validators = {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"), "url": url}
        for path, data in ((body, content), (meta, json.dumps(validators).encode())):
            tmp = path.with_suffix(path.suffix + ".tmp")  # whole files only, even if the run is killed
            tmp.write_bytes(data)
            tmp.replace(path)


# -- fetching ------------------------------------------------------------------------------------
@dataclass
class Fetched:
    status: str
    body: bytes | None
    detail: str = ""
    from_cache: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)  # of a fresh 200: its validators are cached once the body parses


def fetch(url: str, cache: FeedCache, limits: FeedLimits, offline: bool, session: requests.Session) -> Fetched:
    if not is_http_url(url):
        return Fetched(BAD_URL, None, "only http and https feeds are fetched")
    cached, validators = cache.load(url)
    if offline:
        return Fetched(OFFLINE, cached, "offline: using the cached copy" if cached is not None else "offline and not cached",
                       cached is not None)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if cached is not None and validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if cached is not None and validators.get("last_modified"):
        headers["If-Modified-Since"] = validators["last_modified"]
    try:
        timeout = (limits.connect_timeout_s, limits.read_timeout_s)
        with session.get(url, headers=headers, timeout=timeout, stream=True) as response:
            if response.status_code == 304 and cached is not None:
                return Fetched(NOT_MODIFIED, cached, "304 Not Modified", True)
            # Redirects are followed, so any other 3xx here (a 304 we did not ask for) is an error too.
            if response.status_code >= 300:
                return Fetched(HTTP_ERROR, cached, f"HTTP {response.status_code}", cached is not None)
            body = read_capped(response, limits.max_bytes, time.monotonic() + limits.total_timeout_s)
            if body is SLOW:
                return Fetched(TIMEOUT, cached, f"the body took longer than {limits.total_timeout_s:g}s", cached is not None)
            if body is None:
                return Fetched(TOO_LARGE, cached, f"body over {limits.max_bytes} bytes", cached is not None)
            return Fetched(OK, body, headers=response.headers)
    except requests.RequestException as exc:
        if timed_out(exc):
            return Fetched(TIMEOUT, cached, "no answer in time", cached is not None)
        return Fetched(UNREACHABLE, cached, type(exc).__name__, cached is not None)
    except ReadTimeoutError:  # raised by raw.read1, which requests does not wrap
        return Fetched(TIMEOUT, cached, "the body stopped arriving", cached is not None)
    except urllib3.exceptions.HTTPError as exc:
        return Fetched(UNREACHABLE, cached, type(exc).__name__, cached is not None)
    except ValueError as exc:  # requests lets a malformed redirect target ("http://[::1") through as is
        return Fetched(UNREACHABLE, cached, f"malformed URL: {exc}", cached is not None)


def timed_out(exc: requests.RequestException) -> bool:
    # A read timeout while streaming the body reaches us as ConnectionError(ReadTimeoutError).
    return isinstance(exc, requests.Timeout) or any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


SLOW = b"<slow>"  # sentinel: the download passed its overall deadline


def read_capped(response: requests.Response, max_bytes: int, deadline: float) -> bytes | None:
    """The body, or None past max_bytes, or SLOW past the deadline. read1 returns whatever one
    socket read brings, so a server dripping a byte at a time is seen between reads."""
    declared = response.headers.get("Content-Length")
    # ASCII digits only: "²" passes isdigit() but int() rejects it.
    if declared and declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks, size = [], 0
    while chunk := response.raw.read1(64 * 1024, decode_content=True):
        size += len(chunk)
        if size > max_bytes:
            return None
        if time.monotonic() > deadline:
            return SLOW
        chunks.append(chunk)
    return b"".join(chunks)


def fetch_feed(url: str, name: str, cache: FeedCache, limits: FeedLimits, offline: bool,
               session: requests.Session) -> FeedResult:
    fetched = fetch(url, cache, limits, offline, session)
    result = FeedResult(name, url, fetched.status, fetched.detail, fetched.from_cache)
    if fetched.body is None:
        return result
    status, detail, result.items = parse(fetched.body, name, limits)
    if fetched.status != OK:
        return result
    result.status, result.detail = status, detail
    if status == NOT_A_FEED:
        return cached_instead(result, cache, limits)
    try:
        cache.store(url, fetched.body, fetched.headers)
    except OSError as exc:  # an unwritable cache costs the next run its 304, not this run its feed
        result.detail = f"{result.detail}; cache not written: {exc.strerror or exc}".lstrip("; ")
    return result


def cached_instead(result: FeedResult, cache: FeedCache, limits: FeedLimits) -> FeedResult:
    """A 200 that is not a feed (an error or login page) keeps the last good copy, in the cache
    and in this run."""
    cached, _ = cache.load(result.url)
    if cached is not None:
        result.items, result.from_cache = parse(cached, result.name, limits)[2], True
    return result
