"""Deterministic sections: `static` text as written, `template` sections rendered from data.
Numbers in a newsletter come from here, never from the model. Pure (templates are read by jinja)."""

from __future__ import annotations

import jinja2

from .config import LoadedBrief, Section
from .filters import filters_for
from .filters.formatting import as_text
from .prompts import brief_environment, render_template


def block_environment(loaded: LoadedBrief) -> jinja2.Environment:
    env = brief_environment(loaded)
    env.filters.update(filters_for(loaded.brief.filters))
    env.finalize = as_text  # data strings are text, never markup
    return env


def render_block(env: jinja2.Environment, section: Section, context: dict) -> str:
    # Section's validator requires text on a static section and a template on a template section.
    if section.type == "static":
        assert section.text is not None
        return section.text.strip()
    assert section.template is not None
    return render_template(env, section.template, {**context, "section": {"heading": section.heading}})


def render_blocks(loaded: LoadedBrief, context: dict) -> dict[int, str]:
    """Section index -> markdown, for every static and template section."""
    env = block_environment(loaded)
    return {index: render_block(env, section, context)
            for index, section in enumerate(loaded.brief.sections) if section.type in ("static", "template")}
