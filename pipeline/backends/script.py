"""The scripted backend: plays given responses through the real generation path, token by token.

For writing briefs and templates without a model (`--model script:FILE`) and for tests of pipeline
logic. It is never a stand-in for testing the MLX backend itself; tests/test_mlx_*.py do that.

A script file (YAML or JSON) is a list of responses played in order, or a mapping:

    sections:          # a heading's calls (its retries and news picks too) take these first, in order
      Why memory matters: ["first attempt", "the retry"]
    responses: [...]   # then these, in order, for any call
    default: "..."     # then this, for every call left
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from ..config.yamlsource import YamlDocument, format_problem, load_yaml
from ..errors import ModelError
from ..thinking import ThinkingBudget, prompt_opens_think
from .base import DEFAULT_THINK_MARKERS, Capabilities, Delta, GenerationStats, ModelInfo, Request

SCRIPT_PREFIX = "script:"
_TOKEN = re.compile(r"\s*\S+")  # a "token" is a word with the whitespace before it

Script = str | BaseException  # an exception is raised when its turn comes (tests of error paths)


class ScriptFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    sections: dict[str, list[str]] = Field(default_factory=dict)
    responses: list[str] = Field(default_factory=list)
    default: str | None = None

    @field_validator("sections", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value


class ScriptBackend:
    def __init__(self, outputs: Sequence[Script] = (), model: str = "fake-model",
                 default: str | None = None, responder: Callable[[Request], Script] | None = None,
                 by_label: dict[str, list[str]] | None = None, batching_pays: bool = False,
                 think_markers: tuple[str, str] = DEFAULT_THINK_MARKERS):
        self.model = model
        # Its answers come from a script that can change under the same spec: nothing is kept for a resume.
        self.capabilities = Capabilities(think_markers, batching_pays, reproducible=False)
        self.queue: list[Script] = list(outputs)
        self.by_label = {label: list(texts) for label, texts in (by_label or {}).items()}
        self.default = default  # played when nothing else is left; None makes that an error
        self.responder = responder  # request -> output, instead of the script: order-independent tests
        self.history: list[Request] = []  # every call, in order
        self.batches: list[int] = []  # size of every batch asked for

    @classmethod
    def from_file(cls, spec: str) -> ScriptBackend:
        path = Path(spec.removeprefix(SCRIPT_PREFIX))
        script = read_script(path)
        return cls(script.responses, model=spec, default=script.default, by_label=script.sections)

    def enqueue(self, *outputs: Script) -> ScriptBackend:
        """Queue outputs: a string is streamed word by word; an exception is raised when its turn comes."""
        self.queue.extend(outputs)
        return self

    def describe(self) -> ModelInfo:
        source = self.model.removeprefix(SCRIPT_PREFIX) if self.model.startswith(SCRIPT_PREFIX) else None
        return ModelInfo(spec=self.model, backend="script", source=source)

    def render(self, messages: tuple[dict, ...], enable_thinking: bool) -> str:
        """A Qwen3-style template: with thinking off it closes an empty think block itself."""
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n" + ("" if enable_thinking else "<think>\n\n</think>\n\n")

    def share_prefix(self, prompts: list[str]) -> int:
        return 0

    def stream(self, request: Request) -> ScriptStream:
        self.history.append(request)
        script = self.responder(request) if self.responder else self._next_output(request.label)
        if isinstance(script, BaseException):
            raise script
        return ScriptStream(_TOKEN.findall(script), request, self.capabilities.think_markers)

    def stream_batch(self, requests: list[Request]) -> ScriptBatchStream:
        self.batches.append(len(requests))
        return ScriptBatchStream([self.stream(request) for request in requests])

    def _next_output(self, label: str) -> Script:
        if self.by_label.get(label):
            return self.by_label[label].pop(0)
        if self.queue:
            return self.queue.pop(0)
        if self.default is not None:
            return self.default
        raise ModelError(f"{self.model}: no scripted response left for {label!r}",
                         hint="add responses to the script (under `sections:` by heading, or `responses:`), "
                              "or set `default:`")


class ScriptStream:
    """One scripted call: a word per delta, capped at max_tokens like a real model."""

    def __init__(self, tokens: list[str], request: Request, markers: tuple[str, str]):
        self.budget: ThinkingBudget | None = None
        cap = request.settings.max_tokens
        if request.settings.enable_thinking and request.settings.thinking_budget:
            self.budget = ThinkingBudget(request.settings.thinking_budget, prompt_opens_think(request.prompt, markers))
            tokens, cap = within_budget(tokens, self.budget, markers), self.budget.cap(cap, 1)
        self.tokens, self.emitted, self.stopped = tokens[:cap], 0, False
        self.finish = "length" if len(tokens) > cap else "stop"
        self.prompt_tokens = len(request.prompt.split())

    def __iter__(self) -> Iterator[Delta]:
        while self.emitted < len(self.tokens) and not self.stopped:
            self.emitted += 1
            yield Delta(self.tokens[self.emitted - 1], self.emitted)
        if not self.stopped:
            yield self._final(self.finish)

    def stop(self) -> Delta:
        self.stopped = True  # nothing more is generated
        return self._final("stopped")

    def _final(self, reason: str) -> Delta:
        budget = self.budget
        stats = GenerationStats(prompt_tokens=self.prompt_tokens, generation_tokens=self.emitted,
                                generation_tps=100.0, prompt_tps=1000.0, wall_s=self.emitted / 100.0,
                                reasoning_tokens=budget.reasoning_tokens if budget else None,
                                thinking_budget_hit=budget.hit if budget else None)
        return Delta("", self.emitted, reason, stats)


def within_budget(tokens: list[str], budget: ThinkingBudget, markers: tuple[str, str]) -> list[str]:
    """The scripted words as a budgeted model would produce them: reasoning past the budget is
    replaced by the end marker, and the script's reasoning up to its own end marker is dropped."""
    kept: list[str] = []
    skipping = False
    for token in tokens:
        if skipping:
            skipping = markers[1] not in token
            continue
        if budget.must_close:
            budget.hit = True
            budget.saw(opens=False, closes=True)
            kept.append(" " + markers[1])
            skipping = markers[1] not in token
            continue
        budget.saw(opens=markers[0] in token, closes=markers[1] in token)
        kept.append(token)
    return kept


class ScriptBatchStream:
    """Round-robin over one scripted stream per request, like a batch decoding step by step."""

    def __init__(self, streams: list[ScriptStream]):
        self.streams = streams
        self.live = {index: iter(stream) for index, stream in enumerate(streams)}

    def __iter__(self) -> Iterator[tuple[int, Delta]]:
        while self.live:
            for index, deltas in list(self.live.items()):
                delta = next(deltas, None)
                if delta is None or delta.finish_reason:
                    self.live.pop(index, None)
                if delta is not None:
                    yield index, delta

    def stop(self, index: int) -> Delta:
        self.live.pop(index, None)
        return self.streams[index].stop()


def read_script(path: Path) -> ScriptFile:
    """A script file, or a ModelError naming the file, line and column of what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read script {path}: {getattr(exc, 'strerror', None) or exc}",
                         hint="--model script:FILE takes a YAML or JSON file of responses") from None
    doc = load_yaml(text, str(path))
    problems = [format_problem(path, where, loc, message) for loc, where, message in doc.problems]
    data = {"responses": doc.data} if isinstance(doc.data, list) else doc.data
    if not problems:
        try:
            return ScriptFile.model_validate(data)
        except ValidationError as exc:
            problems = [format_problem(path, error_position(doc, e), tuple(e["loc"]), e["msg"]) for e in exc.errors()]
    raise ModelError("invalid script:\n" + "\n".join(problems),
                     hint="a script is a list of responses, or a mapping with sections:, responses: and default:")


def error_position(doc: YamlDocument, error: ErrorDetails) -> tuple[int, int]:
    loc = tuple(error["loc"])  # an unknown key is pointed at where the key is written
    return doc.key_position(loc) if error["type"] == "extra_forbidden" else doc.position(loc)
