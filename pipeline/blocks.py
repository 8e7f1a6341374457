"""Deterministic sections: `static` text as written, `template` sections rendered from data.
Numbers in a newsletter come from here, never from the model. Pure (templates are read by jinja)."""

from __future__ import annotations

import re
from urllib.parse import quote

import jinja2

from . import trading
from .config import LoadedBrief, Section
from .prompts import make_environment, render_template


def signed(value, decimals: int = 2) -> str:
    return f"{float(value):+,.{decimals}f}"


def number(value, decimals: int = 2) -> str:
    return f"{float(value):,.{decimals}f}"


def percent(value, decimals: int = 1) -> str:
    return f"{float(value):.{decimals}f}%"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


def md_escape(text) -> str:
    """Feed and model text dropped into markdown: no links, emphasis, HTML or shortcodes ({{<) of its own."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def md_url(url) -> str:
    """An http(s) URL safe inside (...) of a markdown link."""
    return quote(str(url), safe=":/?&=#%~+,;@!$'*")


FILTERS = {
    "signed": signed, "number": number, "percent": percent, "md_escape": md_escape, "md_url": md_url,
    "trade_stats": trading.trade_stats, "equity_stats": trading.equity_stats,
    "failure_clusters": trading.failure_clusters, "worst_pair": trading.worst_pair,
}


def block_environment(loaded: LoadedBrief) -> jinja2.Environment:
    env = make_environment(loaded.templates_dir)
    env.filters.update(FILTERS)
    return env


def render_block(env: jinja2.Environment, section: Section, context: dict) -> str:
    if section.type == "static":
        return section.text.strip()
    return render_template(env, section.template, {**context, "section": {"heading": section.heading}})


def render_blocks(loaded: LoadedBrief, context: dict) -> dict[int, str]:
    """Section index -> markdown, for every static and template section."""
    env = block_environment(loaded)
    return {index: render_block(env, section, context)
            for index, section in enumerate(loaded.brief.sections) if section.type in ("static", "template")}
