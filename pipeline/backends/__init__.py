"""Backends turn a rendered chat into streamed text. `open_backend` picks one for a model name."""

from __future__ import annotations

from ..config import MemorySettings
from .base import Backend, BatchStream, Chat, Delta, GenerationStats

__all__ = ["Backend", "BatchStream", "Chat", "Delta", "GenerationStats", "open_backend", "open_prompt_formatter"]


def open_backend(model: str, memory: MemorySettings) -> Backend:
    from .mlx import MLXBackend  # imported lazily: mlx is heavy and not needed by validate/check

    return MLXBackend.load(model, memory)


def open_prompt_formatter(model: str) -> Backend:
    """A backend that can apply the chat template but has no weights loaded (for `render`)."""
    from .mlx import MLXBackend

    return MLXBackend.tokenizer_only(model)
