"""ISO weeks in a configured time zone: the newsletter's unit of time."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import PipelineError

_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)  # ASCII: \d would take "２０２６" and int() would read it
FIRST_YEAR, LAST_YEAR = 1970, 9998  # a week's window must fit in datetime (9999-W52 ends in year 10000)


class WeekError(PipelineError):
    exit_code = 2


def parse_week(text: str) -> tuple[int, int]:
    match = _WEEK.fullmatch(text)  # not match + "$", which lets a trailing newline through
    if not match:
        raise WeekError(f"week {text!r} is not an ISO week", hint="write it like 2026-W16")
    year, week = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekError(f"week {text!r} is out of range", hint=f"use a year from {FIRST_YEAR} to {LAST_YEAR}")
    try:
        dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise WeekError(f"{year} has no ISO week {week}", hint="ISO years have 52 or 53 weeks") from None
    return year, week


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WeekError(f"unknown time zone {name!r}", hint="use an IANA name like Europe/Berlin or UTC") from None


def current_week(now: dt.datetime, tz: ZoneInfo) -> tuple[int, int]:
    year, week, _ = now.astimezone(tz).isocalendar()
    return year, week


def week_to_build(now: dt.datetime, tz: ZoneInfo, covers: str) -> tuple[int, int]:
    """The week a build at `now` covers: the last completed one, or (covers: current) the one under way."""
    current = current_week(now, tz)
    return current if covers == "current" else week_before_by(current, 1)


def week_window(year: int, week: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) local time, as aware datetimes."""
    monday = dt.date.fromisocalendar(year, week, 1)
    start = dt.datetime.combine(monday, dt.time(), tz)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tz)


def week_key(year: int, week: int) -> str:
    return f"{year:04d}-W{week:02d}"


MAX_CATCH_UP_WEEKS = 4


def weeks_between(last_completed: str | None, target: tuple[int, int]) -> list[tuple[int, int]]:
    """The weeks after the last completed one and before the target, oldest first (none without a record)."""
    try:
        done = dt.date.fromisocalendar(*parse_week(last_completed or ""), 1)
    except WeekError:  # no record (or an unreadable one): nothing counts as missed
        return []
    monday = dt.date.fromisocalendar(*target, 1)
    count = max((monday - done).days // 7 - 1, 0)
    return [week_before_by(target, back) for back in range(count, 0, -1)]


def week_before_by(week: tuple[int, int], back: int) -> tuple[int, int]:
    year, number, _ = (dt.date.fromisocalendar(*week, 1) - dt.timedelta(weeks=back)).isocalendar()
    return year, number


def weeks_to_build(last_completed: str | None, target: tuple[int, int]) -> tuple[list[tuple[int, int]], int]:
    """The missed weeks to build first (the newest MAX_CATCH_UP_WEEKS of them), then the target; and how
    many older missed weeks are left out."""
    missed = weeks_between(last_completed, target)
    kept = missed[-MAX_CATCH_UP_WEEKS:]
    return [*kept, target], len(missed) - len(kept)
