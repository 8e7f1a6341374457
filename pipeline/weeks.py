"""ISO weeks in a configured time zone: the newsletter's unit of time."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import PipelineError

_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)  # ASCII: \d would take "２０２６" and int() would read it


class WeekError(PipelineError):
    exit_code = 2


def parse_week(text: str) -> tuple[int, int]:
    match = _WEEK.fullmatch(text)  # not match + "$", which lets a trailing newline through
    if not match:
        raise WeekError(f"week {text!r} is not an ISO week", hint="write it like 2026-W16")
    year, week = int(match.group(1)), int(match.group(2))
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


def week_window(year: int, week: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) local time, as aware datetimes."""
    monday = dt.date.fromisocalendar(year, week, 1)
    start = dt.datetime.combine(monday, dt.time(), tz)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tz)


def week_key(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


MAX_CATCH_UP_WEEKS = 4


def weeks_to_build(last_completed: str | None, current: tuple[int, int]) -> list[tuple[int, int]]:
    """The missed weeks after the last completed one (at most MAX_CATCH_UP_WEEKS), then the current."""
    monday = dt.date.fromisocalendar(current[0], current[1], 1)
    weeks = [current]
    for back in range(1, MAX_CATCH_UP_WEEKS + 1):
        year, week, _ = (monday - dt.timedelta(weeks=back)).isocalendar()
        if last_completed is None or f"{year}-W{week:02d}" <= last_completed:
            break
        weeks.insert(0, (year, week))
    return weeks
