"""Backends turn a rendered prompt into streamed text. `open_backend` picks one for a model name:
`script:FILE` plays scripted responses, `openai:URL#NAME` streams from an OpenAI-compatible server,
anything else is an MLX model (builtin, folder or hub id)."""

from __future__ import annotations

from pathlib import Path

from ..config import LoadedBrief, MemorySettings
from ..models import check_model_spec
from .base import Backend, BatchStream, Capabilities, Delta, GenerationStats, ModelInfo, Request, Stream
from .openai import OPENAI_PREFIX, OpenAIBackend, parse_spec
from .script import SCRIPT_PREFIX, ScriptBackend

__all__ = ["Backend", "BatchStream", "Capabilities", "Delta", "GenerationStats", "ModelInfo", "Request", "Stream",
           "check_model", "model_for", "open_backend", "open_prompt_formatter"]


def model_for(loaded: LoadedBrief, override: str | None) -> str:
    """--model as given, else the brief's; a brief's `script:FILE` is relative to the brief, like its other files."""
    if override:
        return override
    spec = loaded.brief.model
    script = spec.removeprefix(SCRIPT_PREFIX)
    if spec.startswith(SCRIPT_PREFIX) and not Path(script).is_absolute():
        return SCRIPT_PREFIX + str(loaded.path.parent / script)
    return spec


def check_model(spec: str) -> None:
    """Refuse a model that could never open, without loading it: a missing script or folder, an unknown builtin."""
    if spec.startswith(SCRIPT_PREFIX):
        ScriptBackend.from_file(spec)
    elif spec.startswith(OPENAI_PREFIX):
        parse_spec(spec)
    else:
        check_model_spec(spec)


def open_backend(model: str, memory: MemorySettings) -> Backend:
    if model.startswith(SCRIPT_PREFIX):
        return ScriptBackend.from_file(model)
    if model.startswith(OPENAI_PREFIX):
        return OpenAIBackend(model)
    from .mlx import MLXBackend  # imported lazily: mlx is heavy and not needed by validate/check

    return MLXBackend.load(model, memory)


def open_prompt_formatter(model: str) -> Backend:
    """A backend that can apply the chat template but has no weights loaded (for `render`)."""
    if model.startswith(SCRIPT_PREFIX):
        return ScriptBackend.from_file(model)
    if model.startswith(OPENAI_PREFIX):
        return OpenAIBackend(model)  # the server applies the template: the request is the prompt
    from .mlx import MLXBackend

    return MLXBackend.tokenizer_only(model)
