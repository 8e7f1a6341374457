"""Kinds of draft. Everything that differs between a post and a newsletter lives in its kind;
adding a kind is a new module here and one line in KINDS."""

from __future__ import annotations

from ..config import Brief
from .base import Kind, Situation, SourcesRecord, Stages, Verified
from .newsletter import Newsletter
from .post import Post

KINDS: dict[str, Kind] = {kind.name: kind for kind in (Post(), Newsletter())}

__all__ = ["KINDS", "Kind", "Situation", "SourcesRecord", "Stages", "Verified", "kind_of"]


def kind_of(brief: Brief) -> Kind:
    return KINDS[brief.kind]
