"""Fetching feeds: requests with timeouts, a byte cap and an overall deadline, conditional GET,
private addresses refused, 429/5xx retried, several feeds at once, and a local cache of the last
good copy. The only network and disk I/O of the feed sources; parsing and cleaning are in feeds.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import hashlib
import ipaddress
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import tenacity
import urllib3
from urllib3.exceptions import ReadTimeoutError

from .feeds import (
    BAD_URL,
    BLOCKED_ADDRESS,
    FAILED,
    HTTP_ERROR,
    NOT_A_FEED,
    NOT_MODIFIED,
    OFFLINE,
    OK,
    PARSE_ERROR,
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
            # Whole files only, even if the run is killed; a name per thread: two feeds may share a URL.
            tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}-{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)


# -- addresses ------------------------------------------------------------------------------------
Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # ::ffff:127.0.0.1 is loopback too
        ip = ip.ipv4_mapped
    # is_global as well: it also excludes shared (carrier-grade NAT, 100.64/10) and other special ranges.
    return ip.is_global and not (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_unspecified
                                 or ip.is_multicast or ip.is_reserved)


def address_refusal(url: str, resolve: Resolver) -> Fetched | None:
    """None when every address the host resolves to is public. Every address, not the first: the
    connection may use any of them. (A resolver that answers differently a moment later, DNS
    rebinding, is not covered: requests resolves again to connect.)"""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        return Fetched(UNREACHABLE, None, f"cannot resolve {host}: {type(exc).__name__}")
    if not addresses:
        return Fetched(UNREACHABLE, None, f"cannot resolve {host}")
    private = [a for a in addresses if not is_public(a)]
    if private:
        return Fetched(BLOCKED_ADDRESS, None, f"{host} resolves to a non-public address ({private[0]}); "
                       "set allow_private on the feed to fetch it")
    return None


# -- fetching ------------------------------------------------------------------------------------
@dataclass
class Fetched:
    status: str
    body: bytes | None
    detail: str = ""
    from_cache: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)  # of a fresh 200: its validators are cached once the body parses
    retryable: bool = False  # a 429 or 5xx
    retry_after: float | None = None  # seconds the server asked us to wait


def fetch(url: str, cache: FeedCache, limits: FeedLimits, offline: bool, session: requests.Session, *,
          allow_private: bool = False, resolve: Resolver = resolve_host, deadline: float | None = None) -> Fetched:
    """`deadline` (time.monotonic) is the one for all feeds; this feed's own is total_timeout_s from now."""
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
    own_deadline = time.monotonic() + limits.total_timeout_s
    feed_deadline = own_deadline if deadline is None else min(deadline, own_deadline)
    fetched = with_retries(lambda: attempt(url, headers, limits, session, allow_private, resolve, feed_deadline),
                           limits, feed_deadline)
    if fetched.status == OK:
        return fetched
    if fetched.status == NOT_MODIFIED and cached is None:  # a 304 we did not ask for
        fetched = Fetched(HTTP_ERROR, None, "HTTP 304")
    return dataclasses.replace(fetched, body=cached, from_cache=cached is not None)


def with_retries(call: Callable[[], Fetched], limits: FeedLimits, deadline: float) -> Fetched:
    """429 and 5xx are asked again, at most `retries` times, after the longer of the back-off and
    Retry-After; not when the wait would pass max_retry_wait_s or the feed's deadline."""
    def pause(state: tenacity.RetryCallState) -> float:
        return retry_pause(state.outcome.result() if state.outcome else None, state.attempt_number, limits)

    def stop(state: tenacity.RetryCallState) -> bool:
        wait_s = pause(state)
        return (state.attempt_number > limits.retries or wait_s > limits.max_retry_wait_s
                or time.monotonic() + wait_s >= deadline)

    def gave_up(state: tenacity.RetryCallState) -> Fetched:
        assert state.outcome is not None  # tenacity gives up after an attempt
        last: Fetched = state.outcome.result()
        tries = "1 attempt" if state.attempt_number == 1 else f"{state.attempt_number} attempts"
        return dataclasses.replace(last, detail=f"{last.detail} ({tries})")

    retrying = tenacity.Retrying(retry=tenacity.retry_if_result(lambda f: f.retryable), wait=pause, stop=stop,
                                 retry_error_callback=gave_up)
    return retrying(call)


def retry_pause(last: Fetched | None, attempt_number: int, limits: FeedLimits) -> float:
    backoff = min(limits.retry_backoff_s * 2 ** (attempt_number - 1), limits.max_retry_wait_s)
    asked = last.retry_after if last and last.retry_after is not None else 0.0
    return max(backoff, asked)


def retry_after_s(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds from now: delay-seconds or an HTTP date; None when absent or unreadable."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(int(value[:12]))  # twelve digits already mean "longer than we wait"
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def attempt(url: str, headers: Mapping[str, str], limits: FeedLimits, session: requests.Session, allow_private: bool,
            resolve: Resolver, deadline: float) -> Fetched:
    """One request, its redirects followed by hand so that every hop's address is checked."""
    try:
        for _ in range(limits.max_redirects + 1):
            if not allow_private and (refused := address_refusal(url, resolve)):
                return refused
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Fetched(TIMEOUT, None, "no time left for this feed")
            timeout = (min(limits.connect_timeout_s, remaining), min(limits.read_timeout_s, remaining))
            with session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False) as response:
                target = session.get_redirect_target(response)
                if target is None:
                    return answer(response, limits, deadline)
            url = urljoin(url, target)
            if not is_http_url(url):
                return Fetched(UNREACHABLE, None, "redirect to a URL that is not http(s)")
        return Fetched(UNREACHABLE, None, f"more than {limits.max_redirects} redirects")
    except requests.RequestException as exc:
        if timed_out(exc):
            return Fetched(TIMEOUT, None, "no answer in time")
        return Fetched(UNREACHABLE, None, type(exc).__name__)
    except ReadTimeoutError:  # raised by raw.read1, which requests does not wrap
        return Fetched(TIMEOUT, None, "the body stopped arriving")
    except urllib3.exceptions.HTTPError as exc:
        return Fetched(UNREACHABLE, None, type(exc).__name__)
    except ValueError as exc:  # a malformed redirect target ("http://[::1") reaches urljoin or requests as is
        return Fetched(UNREACHABLE, None, f"malformed URL: {exc}")


def answer(response: requests.Response, limits: FeedLimits, deadline: float) -> Fetched:
    code = response.status_code
    if code == 304:
        return Fetched(NOT_MODIFIED, None, "304 Not Modified")
    if code == 429 or 500 <= code <= 599:
        return Fetched(HTTP_ERROR, None, f"HTTP {code}", retryable=True,
                       retry_after=retry_after_s(response.headers.get("Retry-After")))
    if code >= 300:  # redirects are followed before this, so any other 3xx is an error too
        return Fetched(HTTP_ERROR, None, f"HTTP {code}")
    body = read_capped(response, limits.max_bytes, deadline)
    if body is SLOW:
        return Fetched(TIMEOUT, None, f"the body took longer than {limits.total_timeout_s:g}s")
    if body is None:
        return Fetched(TOO_LARGE, None, f"body over {limits.max_bytes} bytes")
    return Fetched(OK, body, headers=response.headers)


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
               session: requests.Session, *, allow_private: bool = False, resolve: Resolver = resolve_host,
               deadline: float | None = None) -> FeedResult:
    fetched = fetch(url, cache, limits, offline, session, allow_private=allow_private, resolve=resolve,
                    deadline=deadline)
    result = FeedResult(name, url, fetched.status, fetched.detail, fetched.from_cache)
    if fetched.body is None:
        return result
    status, detail, result.items = parse(fetched.body, name, limits)
    if fetched.status != OK:
        return result
    result.status, result.detail = status, detail
    if status in (NOT_A_FEED, PARSE_ERROR):
        return cached_instead(result, cache, limits)
    try:
        cache.store(url, fetched.body, fetched.headers)
    except OSError as exc:  # an unwritable cache costs the next run its 304, not this run its feed
        result.detail = f"{result.detail}; cache not written: {exc.strerror or exc}".lstrip("; ")
    return result


def cached_instead(result: FeedResult, cache: FeedCache, limits: FeedLimits) -> FeedResult:
    """A 200 that is not a feed (an error or login page) or does not parse keeps the last good copy,
    in the cache and in this run."""
    cached, _ = cache.load(result.url)
    if cached is not None:
        result.items, result.from_cache = parse(cached, result.name, limits)[2], True
    return result


# -- many feeds at once ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FeedJob:
    url: str
    name: str
    allow_private: bool = False


def fetch_all(jobs: Sequence[FeedJob], cache: FeedCache, limits: FeedLimits, offline: bool, *,
              resolve: Resolver = resolve_host,
              new_session: Callable[[], requests.Session] = requests.Session) -> list[FeedResult]:
    """Every feed on a pool of `workers` threads, within all_feeds_timeout_s in all; results in the
    jobs' order. A feed not finished by then is a timeout (with its cached copy, if any)."""
    deadline = time.monotonic() + limits.all_feeds_timeout_s
    pool = ThreadPoolExecutor(max_workers=max(1, limits.workers), thread_name_prefix="feed")
    try:
        futures = [pool.submit(fetch_job, job, cache, limits, offline, resolve, new_session, deadline) for job in jobs]
        wait_for_futures(futures, timeout=max(0.0, deadline - time.monotonic()))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # stragglers stop at the same deadline on their own
    return [finished(future, job, cache, limits) for future, job in zip(futures, jobs, strict=True)]


def fetch_job(job: FeedJob, cache: FeedCache, limits: FeedLimits, offline: bool, resolve: Resolver,
              new_session: Callable[[], requests.Session], deadline: float) -> FeedResult:
    """One feed on a worker thread, with a session of its own (a Session is not thread-safe)."""
    try:
        with new_session() as session:
            return fetch_feed(job.url, job.name, cache, limits, offline, session, allow_private=job.allow_private,
                              resolve=resolve, deadline=deadline)
    except Exception as exc:  # an error nobody foresaw costs this feed, not the build
        return FeedResult(job.name, job.url, FAILED, f"{type(exc).__name__}: {str(exc)[:200]}")


def finished(future: Future[FeedResult], job: FeedJob, cache: FeedCache, limits: FeedLimits) -> FeedResult:
    if future.done() and not future.cancelled():
        return future.result()
    result = FeedResult(job.name, job.url, TIMEOUT, f"not done within {limits.all_feeds_timeout_s:g}s for all feeds")
    return cached_instead(result, cache, limits)
