"""Inputs other than the brief: RSS/Atom feeds and operating data files, gathered for one week."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..config import FeedSource, LoadedBrief
from ..paths import feed_cache_dir
from .data import DataSpec, load_data
from .feeds import NOT_A_FEED, PARSE_ERROR, FeedLimits, FeedResult, WeekSelection, parse, select_week
from .fetch import FeedCache, FeedJob, fetch_all


@dataclass
class Week:
    key: str  # 2026-W16
    start: dt.datetime
    end: dt.datetime


@dataclass
class Gathered:
    week: Week
    feeds: list[FeedResult] = field(default_factory=list)
    selection: WeekSelection = field(default_factory=lambda: WeekSelection([]))
    data: dict[str, list[dict]] = field(default_factory=dict)


def feed_name(feed: FeedSource) -> str:
    try:
        return feed.name or urlsplit(feed.url).hostname or feed.url
    except ValueError:  # "http://[::1" passes the schema's pattern; fetching reports it as bad_url
        return feed.url


def read_snapshot(loaded: LoadedBrief, feed: FeedSource, result: FeedResult, limits: FeedLimits) -> FeedResult:
    """No live copy and nothing cached: fall back to the saved copy the brief names."""
    if result.items or not feed.snapshot:
        return result
    path = loaded.path.parent / feed.snapshot
    try:
        status, problem, items = parse(path.read_bytes(), result.name, limits)
    except OSError as exc:
        return dataclasses.replace(result, detail=f"{result.detail}; snapshot {path} unreadable: {exc.strerror}")
    if status in (PARSE_ERROR, NOT_A_FEED):  # the saved copy is all this run has: its failure is the status
        return dataclasses.replace(result, status=status,
                                   detail=f"{result.detail}; snapshot {feed.snapshot}: {problem}".lstrip("; "))
    earlier = result.detail.replace("offline and not cached", "offline, no cached copy")
    detail = f"{earlier}; the saved snapshot {feed.snapshot} was used{f' ({problem})' if problem else ''}".lstrip("; ")
    return dataclasses.replace(result, items=items, from_cache=True, detail=detail)


DEFAULT_LIMITS = FeedLimits()


def gather_feeds(loaded: LoadedBrief, offline: bool, limits: FeedLimits = DEFAULT_LIMITS) -> list[FeedResult]:
    feeds = loaded.brief.sources.feeds
    jobs = [FeedJob(feed.url, feed_name(feed), feed.allow_private) for feed in feeds]
    results = fetch_all(jobs, FeedCache(feed_cache_dir()), limits, offline)
    return [read_snapshot(loaded, feed, result, limits) for feed, result in zip(feeds, results, strict=True)]


def cap_per_feed(selection: WeekSelection, loaded: LoadedBrief) -> WeekSelection:
    limits = {feed_name(f): f.max_items for f in loaded.brief.sources.feeds}
    kept, counts = [], Counter[str]()
    for item in selection.items:  # newest first
        counts[item.source] += 1
        if counts[item.source] <= limits.get(item.source, 10):
            kept.append(item)
    return dataclasses.replace(selection, items=kept)


def gather_data(loaded: LoadedBrief, week: Week) -> dict[str, list[dict]]:
    params = {"start": week.start.isoformat(), "end": week.end.isoformat()}
    data = {}
    for source in loaded.brief.sources.data:
        spec = DataSpec(source.name, loaded.path.parent / source.path, source.columns, source.query, source.decimal)
        rows = load_data(spec, params)
        if source.week_column:
            rows = [row for row in rows if week.start <= row[source.week_column] < week.end]
        data[source.name] = rows
    return data


def gather(loaded: LoadedBrief, week: Week, offline: bool, now: dt.datetime) -> Gathered:
    feeds = gather_feeds(loaded, offline)
    selection = cap_per_feed(select_week(feeds, week.start, week.end, now), loaded)
    return Gathered(week, feeds, selection, gather_data(loaded, week))
