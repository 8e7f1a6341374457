"""An OpenAI-compatible HTTP backend: `openai:<base-url>#<model-name>` streams /v1/chat/completions
from a server that holds the model (mlx_lm.server on another Mac, vLLM on GPUs).

The server applies the chat template, so the "rendered prompt" recorded in run.json is the exact
request this backend sends: the messages and `chat_template_kwargs.enable_thinking`. Sections sent
together run concurrently (bounded) so the server batches them. A server's `reasoning` /
`reasoning_content` deltas come back wrapped in think markers, so the usual splitter removes them.
Connecting is retried with back-off; a stream that breaks off mid-section ends with finish reason
`dropped`, which the retry ladder treats like any unusable attempt, so the draft is not lost."""

from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from ..errors import ModelError
from .base import DEFAULT_THINK_MARKERS, Capabilities, Delta, GenerationStats, ModelInfo, Request

OPENAI_PREFIX = "openai:"
API_KEY_VARIABLE = "PIPELINE_API_KEY"
CONNECT_TIMEOUT_S, READ_TIMEOUT_S = 10, 300  # read: the longest silence between two streamed chunks


SCHEMA_OPTION = "?json_schema"  # the server enforces response_format's JSON schema (vLLM, OpenAI)


def parse_spec(spec: str) -> tuple[str, str]:
    """`openai:http://host:8080/v1#model-name` -> (base URL, model name); `...v1?json_schema#...` too."""
    url, _, name = spec.removeprefix(OPENAI_PREFIX).partition("#")
    url = url.removesuffix(SCHEMA_OPTION)
    if not url.startswith(("http://", "https://")) or "?" in url or not name:
        raise ModelError(f"bad model {spec!r}", hint="write it as openai:http://HOST:PORT/v1#MODEL-NAME "
                         "(or .../v1?json_schema#MODEL-NAME for a server that enforces JSON schemas)")
    return url.rstrip("/"), name


class _Retryable(Exception):
    """Connection refused or a 5xx/429 answer: worth another try after a pause."""


class OpenAIBackend:
    def __init__(self, spec: str):
        self.spec = spec
        self.base_url, self.model = parse_spec(spec)
        key = os.environ.get(API_KEY_VARIABLE)
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        # Seeds are passed on, but a server's batching makes no promise of the same text: nothing is kept for a resume.
        # Structured stages are sent as response_format only where the user says the server enforces it.
        self.capabilities = Capabilities(DEFAULT_THINK_MARKERS, batching_pays=True, reproducible=False,
                                         constrained=SCHEMA_OPTION + "#" in spec)

    def describe(self) -> ModelInfo:
        return ModelInfo(spec=self.spec, backend="openai", source=f"{self.base_url} ({self.model})")

    def render(self, messages: tuple[dict, ...], enable_thinking: bool) -> str:
        return json.dumps({"messages": list(messages), "chat_template_kwargs": {"enable_thinking": enable_thinking}},
                          ensure_ascii=False)

    def share_prefix(self, prompts: list[str]) -> int:
        return 0  # the server's own prompt cache does this

    def stream(self, request: Request) -> HTTPStream:
        return HTTPStream(self, request)

    def stream_batch(self, requests: list[Request]) -> ConcurrentStreams:
        return ConcurrentStreams([self.stream(r) for r in requests])  # a round is at most max_batch sections

    def body(self, request: Request) -> dict[str, Any]:
        settings = request.settings
        sent = json.loads(request.prompt)
        body = {"model": self.model, "messages": sent["messages"], "chat_template_kwargs": sent["chat_template_kwargs"],
                "stream": True, "stream_options": {"include_usage": True}, "max_tokens": settings.max_tokens,
                "temperature": settings.temperature, "top_p": settings.top_p, "seed": request.seed,
                "top_k": settings.top_k, "min_p": settings.min_p}  # top_k/min_p: mlx_lm.server and vLLM extensions
        if request.schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "schema": request.schema, "strict": True}}
        for name in ("repetition_penalty", "presence_penalty", "frequency_penalty"):
            if getattr(settings, name) is not None:
                body[name] = getattr(settings, name)
        return body

    @retry(retry=retry_if_exception(lambda e: isinstance(e, _Retryable)), stop=stop_after_attempt(4),
           wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
    def open(self, body: dict) -> requests.Response:
        try:
            response = requests.post(f"{self.base_url}/chat/completions", json=body, headers=self.headers, stream=True,
                                     timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
        except requests.ConnectionError as exc:
            raise _Retryable(f"cannot connect to {self.base_url}: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"{self.base_url} answered {response.status_code}: {response.text[:200]}")
        return response

    def connect(self, body: dict) -> requests.Response:
        try:
            response = self.open(body)
        except _Retryable as exc:
            raise ModelError(f"{exc} (4 tries)", hint=f"is the server running? e.g. mlx_lm.server --model "
                             f"{self.model} --port 8080, then --model openai:http://127.0.0.1:8080/v1#{self.model}") from None
        if response.status_code >= 400:
            hint = ("check the model name after '#': it must be one the server serves (GET /v1/models)"
                    if response.status_code == 404 else f"check {API_KEY_VARIABLE} and the server's options")
            raise ModelError(f"{self.base_url} refused the request ({response.status_code}): {response.text[:300]}",
                             hint=hint)
        return response


class HTTPStream:
    """One streamed chat completion; `stop()` closes the connection, which ends generation server-side."""

    def __init__(self, backend: OpenAIBackend, request: Request):
        self.backend, self.request = backend, request
        self.response: requests.Response | None = None
        self.tokens, self.prompt_tokens = 0, 0
        self.started = time.perf_counter()
        self.finished = threading.Event()
        self.deltas = self._generate()

    def __iter__(self) -> Iterator[Delta]:
        return self.deltas

    def stop(self) -> Delta:
        self.finished.set()
        if self.response is not None:
            self.response.close()
        return self._final("stopped")

    def _generate(self) -> Iterator[Delta]:
        self.response = self.backend.connect(self.backend.body(self.request))
        reasoning = False
        reason = "dropped"  # unless the server says how it ended
        try:
            for chunk in _events(self.response):
                if self.finished.is_set():
                    return
                usage = chunk.get("usage") or {}
                self.tokens = usage.get("completion_tokens", self.tokens)
                self.prompt_tokens = usage.get("prompt_tokens", self.prompt_tokens)
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    thought = delta.get("reasoning") or delta.get("reasoning_content") or ""
                    text = delta.get("content") or ""
                    piece, reasoning = _with_markers(thought, text, reasoning)
                    if piece:
                        self.tokens += not usage
                        yield Delta(piece, self.tokens)
                    reason = choice.get("finish_reason") or reason
        except (requests.RequestException, ValueError):
            reason = "dropped"  # the connection broke or the server sent garbage mid-section
        finally:
            self.response.close()
        closing = DEFAULT_THINK_MARKERS[1] if reasoning else ""
        yield self._final(reason, closing)

    def _final(self, reason: str, text: str = "") -> Delta:
        wall = time.perf_counter() - self.started
        stats = GenerationStats(prompt_tokens=self.prompt_tokens, generation_tokens=self.tokens,
                                generation_tps=self.tokens / wall if wall else 0.0, wall_s=wall)
        return Delta(text, self.tokens, reason if reason in ("stop", "length", "stopped") else "dropped", stats)


def _events(response: requests.Response) -> Iterator[dict]:
    """Server-sent events: `data: {...}` lines until `data: [DONE]`."""
    for line in response.iter_lines(decode_unicode=True):
        if not line or not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def _with_markers(thought: str, text: str, reasoning: bool) -> tuple[str, bool]:
    """Reasoning deltas inside think markers, as a local model would write them."""
    open_marker, close_marker = DEFAULT_THINK_MARKERS
    piece = ""
    if thought:
        piece += ("" if reasoning else open_marker) + thought
        reasoning = True
    if text:
        piece += (close_marker if reasoning else "") + text
        reasoning = False
    return piece, reasoning


class ConcurrentStreams:
    """Several HTTP streams at once, one thread each: yields (request index, Delta) as they arrive.
    How many go at once is the brief's `generation.max_batch` (the scheduler's round size)."""

    def __init__(self, streams: list[HTTPStream]):
        self.streams = streams
        self.events: queue.Queue[tuple[int, Delta | BaseException | None]] = queue.Queue()

    def __iter__(self) -> Iterator[tuple[int, Delta]]:
        threads = [threading.Thread(target=self._pump, args=(i,), daemon=True) for i in range(len(self.streams))]
        for thread in threads:
            thread.start()
        running = len(threads)
        while running:
            index, item = self.events.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield index, item

    def _pump(self, index: int) -> None:
        try:
            for delta in self.streams[index]:
                self.events.put((index, delta))
        except BaseException as exc:  # a refused request: raised in the caller's thread
            self.events.put((index, exc))
        finally:
            self.events.put((index, None))

    def stop(self, index: int) -> Delta:
        return self.streams[index].stop()
