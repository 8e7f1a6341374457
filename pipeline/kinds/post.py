"""A blog post: written from the brief's research and facts alone, filed by date and slug. Its prose
is checked against the brief: every number must trace to the facts, research or variables, and every
link to a link the brief gives."""

from __future__ import annotations

from typing import Any

from ..assemble import DraftSection, assemble_post
from ..checks.links import links_in
from ..checks.numbers import flatten_numbers, known_values, number_audit
from ..checks.prose import Reference, check_prose
from ..config import LoadedBrief
from ..generate import SectionResult
from .base import Kind, Stages, Verified, with_repetition


class Post(Kind):
    name = "post"
    folder = "posts"

    def key(self, loaded: LoadedBrief, sources: Any) -> str:
        brief = loaded.brief
        return f"{brief.post_date().isoformat()}-{brief.post_slug()}"

    def verify(self, loaded: LoadedBrief, sources: Any, blocks: dict[int, str], sections: list[SectionResult],
               stages: Stages, strict: bool) -> Verified:
        reference = brief_text(loaded, blocks)
        known, links = known_values(reference), links_in(reference)
        strict = strict or loaded.brief.unverified_numbers != "info"  # posts default to attention
        checked = with_repetition([s.with_findings(check_prose(s.text, known, links, strict)) for s in sections])
        return Verified(checked, [], number_audit([s.text for s in sections], known), Reference(known, links, strict))

    def assemble(self, loaded: LoadedBrief, sources: Any, sections: list[DraftSection], model: str,
                 run_id: str) -> dict[str, str]:
        return assemble_post(loaded.brief, sections, model, run_id)


def brief_text(loaded: LoadedBrief, blocks: dict[int, str]) -> str:
    """Everything the brief gives the writer: a number or link in the prose may come from any of it."""
    brief = loaded.brief
    sections = [f"{s.heading} {s.instruction or ''} {flatten_numbers(s.variables)}" for s in brief.sections]
    return " ".join([brief.title, brief.description, " ".join(brief.tags), brief.research,
                     flatten_numbers(brief.facts), flatten_numbers(brief.variables), *sections, *blocks.values()])
