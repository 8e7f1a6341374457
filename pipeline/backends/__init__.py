"""Backends turn a rendered prompt into streamed text. `open_backend` picks one for a model name:
`script:FILE` plays scripted responses, anything else is an MLX model (builtin, folder or hub id)."""

from __future__ import annotations

from ..config import MemorySettings
from .base import Backend, BatchStream, Capabilities, Delta, GenerationStats, ModelInfo, Request, Stream
from .script import SCRIPT_PREFIX, ScriptBackend

__all__ = ["Backend", "BatchStream", "Capabilities", "Delta", "GenerationStats", "ModelInfo", "Request", "Stream",
           "open_backend", "open_prompt_formatter"]


def open_backend(model: str, memory: MemorySettings) -> Backend:
    if model.startswith(SCRIPT_PREFIX):
        return ScriptBackend.from_file(model)
    from .mlx import MLXBackend  # imported lazily: mlx is heavy and not needed by validate/check

    return MLXBackend.load(model, memory)


def open_prompt_formatter(model: str) -> Backend:
    """A backend that can apply the chat template but has no weights loaded (for `render`)."""
    if model.startswith(SCRIPT_PREFIX):
        return ScriptBackend.from_file(model)
    from .mlx import MLXBackend

    return MLXBackend.tokenizer_only(model)
