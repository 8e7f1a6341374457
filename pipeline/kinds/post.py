"""A blog post: written from the brief's research and facts alone, filed by date and slug."""

from __future__ import annotations

from typing import Any

from ..assemble import DraftSection, assemble_post
from ..config import LoadedBrief
from .base import Kind


class Post(Kind):
    name = "post"
    folder = "posts"

    def key(self, loaded: LoadedBrief, sources: Any) -> str:
        brief = loaded.brief
        return f"{brief.post_date().isoformat()}-{brief.post_slug()}"

    def assemble(self, loaded: LoadedBrief, sources: Any, sections: list[DraftSection], model: str,
                 run_id: str) -> dict[str, str]:
        return assemble_post(loaded.brief, sections, model, run_id)
