"""Newsletter-specific steps between the sources and the draft: which week, the template context,
the news sections, and the checks of model prose against the data (numbers, links). Pure apart
from the backend calls in `pick_all_news`."""

from __future__ import annotations

import datetime as dt

from .backends import Backend
from .blocks import block_environment
from .checks.findings import Finding
from .checks.links import foreign_links_finding
from .checks.numbers import flatten_numbers, unverified_numbers_finding
from .config import Brief, LoadedBrief
from .news import NewsPicks, pick_news
from .prompts import render_template
from .sources import Gathered, Week
from .weeks import current_week, parse_week, week_key, week_window, zone


def resolve_week(brief: Brief, override: str | None, now: dt.datetime) -> Week:
    tz = zone(brief.timezone)
    year, number = parse_week(override or brief.week) if (override or brief.week) else current_week(now, tz)
    start, end = week_window(year, number, tz)
    return Week(week_key(year, number), start, end)


def week_context(week: Week) -> dict:
    last_day = (week.end - dt.timedelta(days=1)).date()
    return {"key": week.key, "start_date": week.start.date().isoformat(), "end_date": last_day.isoformat()}


def source_context(gathered: Gathered | None) -> dict:
    if gathered is None:
        return {}
    return {"week": week_context(gathered.week), "data": gathered.data,
            "feeds": [f.record() for f in gathered.feeds]}


def pick_all_news(backend: Backend, loaded: LoadedBrief, gathered: Gathered | None) -> dict[int, NewsPicks]:
    if gathered is None:
        return {}
    brief = loaded.brief
    return {index: pick_news(backend, gathered.selection.items, section.instruction, brief.settings_for(section),
                             section.max_items, index)
            for index, section in enumerate(brief.sections) if section.type == "news"}


def news_blocks(loaded: LoadedBrief, news: dict[int, NewsPicks], context: dict) -> dict[int, str]:
    env = block_environment(loaded)
    blocks = {}
    for index, picks in news.items():
        section = loaded.brief.sections[index]
        rows = [{"title": p.item.title, "link": p.item.link, "source": p.item.source, "reason": p.reason,
                 "published": p.item.published.date().isoformat() if p.item.published else None} for p in picks.picks]
        blocks[index] = render_template(env, section.template or "news.md.j2", {**context, "picks": rows})
    return blocks


def block_list(loaded: LoadedBrief, blocks: dict[int, str]) -> list[dict]:
    return [{"heading": loaded.brief.sections[i].heading, "text": text} for i, text in sorted(blocks.items())]


def reference_text(loaded: LoadedBrief, gathered: Gathered, blocks: dict[int, str]) -> str:
    """Everything a number in the prose may legitimately come from."""
    items = " ".join(f"{i.title} {i.summary}" for f in gathered.feeds for i in f.items)
    return " ".join([flatten_numbers(gathered.data), flatten_numbers(loaded.brief.facts), loaded.brief.research,
                     items, *blocks.values()])


def allowed_links(gathered: Gathered) -> set[str]:
    return {i.link for f in gathered.feeds for i in f.items if i.link}


def check_prose(text: str, known: set, links: set[str], strict: bool) -> list[Finding]:
    """Unverified numbers (attention in --strict, info otherwise) and links not in the sources."""
    findings = [unverified_numbers_finding(text, known, strict), foreign_links_finding(text, links)]
    return [finding for finding in findings if finding]
