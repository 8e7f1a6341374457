"""Jinja filters for block templates. The formatting filters are there for every brief; a domain's
filters only for a brief that names its set under `filters:` (e.g. `filters: [trading]`).

- formatting: signed, number, percent, md_escape, md_url
- trading: trade_stats, equity_stats, failure_clusters, worst_pair
"""

from __future__ import annotations

from . import formatting, trading

# Set name -> filters; a brief's `filters:` may name any of these (config.py checks against it).
FILTER_SETS = {"trading": trading.FILTERS}


def filters_for(names: list[str]) -> dict:
    """The filters a brief's templates get: the formatting ones, then each named set's."""
    chosen = dict(formatting.FILTERS)
    for name in names:
        chosen.update(FILTER_SETS[name])
    return chosen


def filter_set_of(filter_name: str) -> str | None:
    """Which registered set provides a filter (for the hint when a brief has not opted in)."""
    return next((name for name, filters in FILTER_SETS.items() if filter_name in filters), None)
