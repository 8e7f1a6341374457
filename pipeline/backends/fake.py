"""A scripted backend for tests of pipeline logic: plays queued outputs through the real code path.

Never a stand-in for testing the MLX backend itself; tests/test_mlx_*.py do that."""

from __future__ import annotations

import re
from typing import Iterator

from .base import Chat, Delta, GenerationStats


class FakeBackend:
    name = "fake"
    think_markers = ("<think>", "</think>")

    def __init__(self, outputs=(), model: str = "fake-model", default: str | None = None, responder=None):
        self.model = model
        self.queue: list = list(outputs)
        self.default = default  # played when the queue is empty; None makes an empty queue an error
        self.responder = responder  # chat -> output, instead of the queue: order-independent scripts
        self.history: list[tuple[Chat, str]] = []  # (chat, prompt text) of every call
        self.emitted = 0  # tokens streamed by the latest call (fewer than scripted when it was closed early)
        self.last_stats = GenerationStats()
        self.batches: list[int] = []  # size of every batch asked for

    def enqueue(self, *outputs) -> "FakeBackend":
        """Queue outputs: a string is streamed word by word; an exception is raised when its turn comes."""
        self.queue.extend(outputs)
        return self

    def chat_prompt(self, messages: tuple[dict, ...], enable_thinking: bool) -> str:
        """A Qwen3-style template: with thinking off it closes an empty think block itself."""
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n" + ("" if enable_thinking else "<think>\n\n</think>\n\n")

    def share_prefix(self, prompts: list[str]) -> int:
        return 0

    def stream(self, chat: Chat) -> Iterator[Delta]:
        prompt = self.chat_prompt(chat.messages, chat.settings.enable_thinking)
        self.history.append((chat, prompt))
        script = self.responder(chat) if self.responder else self._next_output()
        if isinstance(script, BaseException):
            raise script
        tokens = re.findall(r"\s*\S+", script)
        cap = chat.settings.max_tokens
        finish = "length" if len(tokens) > cap else "stop"
        self.emitted = 0
        try:
            for count, token in enumerate(tokens[:cap], start=1):
                self.emitted = count
                yield Delta(token, count)
        finally:  # also on close(): record what was actually generated
            self.last_stats = GenerationStats(prompt_tokens=len(prompt.split()), generation_tokens=self.emitted,
                                              generation_tps=100.0, prompt_tps=1000.0, wall_s=self.emitted / 100.0)
        yield Delta("", self.emitted, finish, self.last_stats)

    def stream_batch(self, chats: list[Chat]) -> "FakeBatchStream":
        self.batches.append(len(chats))
        return FakeBatchStream([self.stream(chat) for chat in chats])

    def _next_output(self):
        if self.queue:
            return self.queue.pop(0)
        if self.default is not None:
            return self.default
        raise AssertionError("FakeBackend: no scripted output left")


class FakeBatchStream:
    """Round-robin over one scripted stream per chat, like a batch decoding step by step."""

    def __init__(self, streams: list):
        self.streams = dict(enumerate(streams))
        self.tokens: dict[int, int] = {}

    def __iter__(self):
        while self.streams:
            for index, stream in list(self.streams.items()):
                delta = next(stream, None)
                if delta is None or delta.finish_reason:
                    self.streams.pop(index, None)
                if delta is not None:
                    self.tokens[index] = delta.generation_tokens
                    yield index, delta

    def stop(self, index: int) -> GenerationStats:
        stream = self.streams.pop(index, None)
        if stream is not None:
            stream.close()
        emitted = self.tokens.get(index, 0)
        return GenerationStats(generation_tokens=emitted, generation_tps=100.0, wall_s=emitted / 100.0)
