"""The one contract every backend implements, and the values that cross it.

A call is one rendered prompt in (the chat template is applied once, by `render`) and a stream of
deltas out; the last delta carries the finish reason and the call's stats. What a backend can do
is declared in `capabilities`, never probed; `describe()` says what run.json records about it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ..config import SamplingSettings

DEFAULT_THINK_MARKERS = ("<think>", "</think>")


@dataclass(frozen=True)
class Request:
    """One call: the exact prompt text, the settings it is generated with, and its seed."""

    prompt: str  # after the chat template: what the model sees
    settings: SamplingSettings
    seed: int
    label: str = ""  # the section or stage that asked (progress lines, scripted responses)
    schema: dict | None = None  # a JSON schema the answer is constrained to (backends with `constrained`)


@dataclass(frozen=True)
class GenerationStats:
    prompt_tokens: int = 0  # tokens prefilled by this call (not counting a reused shared prefix)
    prefix_tokens_reused: int = 0
    generation_tokens: int = 0
    prompt_tps: float = 0.0
    generation_tps: float = 0.0
    wall_s: float = 0.0
    peak_memory_gb: float = 0.0
    active_memory_gb: float = 0.0
    cache_memory_gb: float = 0.0
    cache_cleared: bool = False
    constraint_s: float = 0.0  # time spent computing the schema's token masks (constrained calls)
    reasoning_tokens: int | None = None  # counted where a thinking budget was applied
    thinking_budget_hit: bool | None = None  # the budget ran out and the think block was closed for the model


@dataclass(frozen=True)
class Delta:
    """A piece of streamed text. The last one carries finish_reason and stats: 'stop', 'length',
    or 'stopped' when the caller ended the call early."""

    text: str
    generation_tokens: int
    finish_reason: str | None = None
    stats: GenerationStats | None = field(default=None)
    surprisal: float | None = None  # -log p (nats) of every token generated so far, where the backend knows it


class Stream(Protocol):
    """One call's deltas as they are generated."""

    def __iter__(self) -> Iterator[Delta]: ...

    def stop(self) -> Delta:
        """End generation at once (the collapse watch does this); returns the final delta."""
        ...


class BatchStream(Protocol):
    """Several calls decoded together: yields (request index, Delta) as tokens arrive."""

    def __iter__(self) -> Iterator[tuple[int, Delta]]: ...

    def stop(self, index: int) -> Delta:
        """Drop request `index` at once, the rest go on; returns its final delta."""
        ...


@dataclass(frozen=True)
class Capabilities:
    think_markers: tuple[str, str] = DEFAULT_THINK_MARKERS  # the tokenizer's reasoning markers
    batching_pays: bool = False  # decoding sections together beats one by one on this device
    reproducible: bool = True  # the same prompt, settings and seed give the same text: finished sections may be kept
    constrained: bool = False  # can hold an answer to a request's JSON schema while decoding


@dataclass(frozen=True)
class ModelInfo:
    """What run.json records about the model behind a backend."""

    spec: str  # as the user wrote it
    backend: str
    source: str | None = None  # the folder or hub id loaded
    memory_budget_gb: dict | None = None
    weights: str | None = None  # mlx: "as stored", or "float32 (dequantized for the CPU)"
    blas: str | None = None  # mlx on a CPU: which BLAS its matmuls use
    batching: str | None = None  # mlx: whether decoding sections together pays here, and the measured speed-up


class Backend(Protocol):
    capabilities: Capabilities

    def describe(self) -> ModelInfo: ...

    def render(self, messages: tuple[dict, ...], enable_thinking: bool) -> str:
        """The exact prompt text after the model's chat template (called once per prompt)."""
        ...

    def share_prefix(self, prompts: list[str]) -> int:
        """Optionally prefill what every prompt starts with once; returns its length in tokens."""
        ...

    def stream(self, request: Request) -> Stream:
        """Generate for one request, capped at request.settings.max_tokens."""
        ...

    def stream_batch(self, requests: list[Request]) -> BatchStream:
        """Generate for several independent requests at once, each with its own cap and sampler."""
        ...
