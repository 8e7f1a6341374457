"""The one interface every backend implements, and the values that cross it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Protocol

from ..config import SamplingSettings


@dataclass(frozen=True)
class Chat:
    """A rendered chat plus the settings for this one call."""

    messages: tuple[dict, ...]
    settings: SamplingSettings
    seed: int


@dataclass
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


@dataclass
class Delta:
    """A piece of streamed text. The last one carries finish_reason ('stop' or 'length') and stats."""

    text: str
    generation_tokens: int
    finish_reason: str | None = None
    stats: GenerationStats | None = field(default=None)


class BatchStream(Protocol):
    """Several chats decoded together: yields (chat index, Delta) as tokens arrive. A sequence's
    last Delta carries its finish_reason and stats; `stop(i)` drops sequence i at once."""

    def __iter__(self) -> Iterator[tuple[int, Delta]]: ...

    def stop(self, index: int) -> GenerationStats: ...


class Backend(Protocol):
    name: str
    model: str
    think_markers: tuple[str, str]

    def chat_prompt(self, messages: tuple[dict, ...], enable_thinking: bool) -> str:
        """The exact text the model sees after its chat template is applied."""

    def share_prefix(self, prompts: list[str]) -> int:
        """Optionally prefill what every prompt starts with once; returns its length in tokens."""

    last_stats: GenerationStats  # stats of the latest call, also when the caller closed it early

    def stream(self, chat: Chat) -> Iterator[Delta]:
        """Generate for one chat, capped at chat.settings.max_tokens. Closing the iterator stops
        generation at once (the collapse watch does that)."""

    def stream_batch(self, chats: list[Chat]) -> BatchStream:
        """Generate for several independent chats at once, each with its own cap and sampler."""
