"""In-process mlx-lm backend: one model load per process, capped streaming, memory hygiene."""

from __future__ import annotations

import copy
import logging
import os
import platform
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import MemorySettings, SamplingSettings
from ..cpu_blas import blas_in_use
from ..errors import MemoryLimitError, ModelError
from ..memory import MemoryBudget, apply_budget, check_fits, guard, plan_budget, read_memory, size, total_memory
from ..models import ResolvedModel, resolve_model
from ..thinking import prompt_opens_think
from .base import DEFAULT_THINK_MARKERS, Capabilities, Delta, GenerationStats, ModelInfo, Request
from .batch_probe import BatchProbe, batch_probe
from .budget import BudgetProcessor, forced_close, marker_ids
from .constrain import SchemaProcessor, can_constrain
from .sampling import make_sampler

if TYPE_CHECKING:
    from mlx_lm.generate import GenerationResponse

log = logging.getLogger("pipeline")

MIN_SHARED_PREFIX = 32  # below this, prefilling the prefix separately saves nothing worth the copy


class MLXBackend:
    def __init__(self, model, tokenizer, resolved: ResolvedModel, budget: MemoryBudget | None,
                 weights: str = "as stored", batching: BatchProbe | None = None):
        self._model, self._tokenizer = model, tokenizer
        self.resolved = resolved
        self.budget = budget  # None when only the tokenizer is loaded (render)
        self.weights = weights  # or "float32 (dequantized for the CPU)"
        self.batching = batching  # measured at load: whether decoding sections together pays here
        markers = _think_markers(tokenizer)
        self.capabilities = Capabilities(think_markers=markers, batching_pays=bool(batching and batching.pays),
                                         constrained=model is not None and self._can_constrain())
        self._think_ids = marker_ids(tokenizer, markers)  # None: a thinking budget cannot be forced
        self._prefix: tuple[list[int], list] | None = None  # (tokens, prefilled KV cache)

    @classmethod
    def load(cls, spec: str, memory: MemorySettings) -> MLXBackend:
        import mlx.core as mx

        resolved = resolve_model(spec)
        budget = plan_budget(memory, total_memory(mx), resolved.weight_bytes, mx.metal.is_available())
        check_fits(budget, resolved.weight_bytes, spec)
        apply_budget(mx, budget)  # before loading, so the weights are placed under the limits
        model, tokenizer = _load_model(resolved, budget)
        weights = _cpu_weights(model, budget)
        guard(mx, budget)
        batching = batch_probe(model, _probe_identity(resolved, weights))
        log.debug("model %s: %s weights, BLAS %s; batching: %s", spec, weights, blas_in_use(), batching.describe())
        return cls(model, tokenizer, resolved, budget, weights, batching)

    @classmethod
    def tokenizer_only(cls, spec: str) -> MLXBackend:
        """For rendering prompts: the chat template without loading weights."""
        from mlx_lm.utils import hf_repo_to_path, load_tokenizer

        resolved = resolve_model(spec)
        try:
            folder = Path(resolved.source) if resolved.is_local else hf_repo_to_path(resolved.source)
            tokenizer = load_tokenizer(folder)
        except Exception as exc:
            raise ModelError(f"cannot load the tokenizer of {spec}: {type(exc).__name__}: {exc}",
                             hint=_load_hint(resolved)) from None
        return cls(None, tokenizer, resolved, budget=None)

    @property
    def generation_budget(self) -> MemoryBudget:
        assert self.budget is not None  # only a tokenizer-only backend has none, and it never generates
        return self.budget

    def describe(self) -> ModelInfo:
        budget = self.budget.as_gb() if self.budget else None
        return ModelInfo(spec=self.resolved.spec, backend="mlx", source=self.resolved.source, memory_budget_gb=budget,
                         weights=self.weights, blas=blas_in_use(),
                         batching=self.batching.describe() if self.batching else None)

    def render(self, messages: tuple[dict, ...], enable_thinking: bool) -> str:
        return self._tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, tokenize=False, enable_thinking=enable_thinking
        )

    def share_prefix(self, prompts: list[str]) -> int:
        """Prefill the token prefix all prompts share (system prompt + brief) once; calls whose
        prompt starts with it reuse a copy of its KV cache. Returns the shared length in tokens."""
        import mlx.core as mx
        from mlx_lm.models.cache import make_prompt_cache

        self._prefix = None
        if not prompts:  # a newsletter with no prose section has nothing to share
            return 0
        token_lists = [self._encode(p) for p in prompts]
        shared = _common_prefix_len(token_lists) if len(token_lists) > 1 else 0
        shared = min(shared, min(len(t) for t in token_lists) - 1)  # each call must feed >= 1 token
        if shared < MIN_SHARED_PREFIX:
            return 0
        cache = make_prompt_cache(self._model)
        self._model(mx.array(token_lists[0][:shared])[None], cache=cache)
        mx.eval([c.state for c in cache])
        self._prefix = (token_lists[0][:shared], cache)
        return shared

    def stream(self, request: Request) -> MLXStream:
        return MLXStream(self, request)

    def surprisal(self, ids: list[int], window: int = 400, context: int = 200) -> list[float]:
        """Each token's -log p in nats given the tokens before it (at least `context` of them, or all),
        in windows so memory stays flat on long texts; the first token has none and scores 0."""
        import mlx.core as mx

        nats = [0.0]
        for start in range(0, len(ids) - 1, window):
            first = max(0, start - context)
            chunk = ids[first: start + window + 1]
            logits = self._model(mx.array([chunk]))[0].astype(mx.float32)
            logprobs = logits - mx.logsumexp(logits, axis=-1, keepdims=True)
            targets = mx.array(chunk[start - first + 1:])
            picked = mx.take_along_axis(logprobs[start - first:-1], targets[:, None], axis=-1)[:, 0]
            nats.extend((-picked).tolist())  # type: ignore[arg-type]  # a 1-D array: a list of floats
        return nats[: len(ids)]

    def reading(self) -> Reading:
        """A growing text read token by token (a stream from a backend that reports no probabilities)."""
        return Reading(self._model)

    def stream_batch(self, requests: list[Request]) -> MLXBatchStream:
        return MLXBatchStream(self, requests)

    def _encode(self, prompt: str) -> list[int]:
        # Same rule as mlx-lm: add special tokens unless the chat template already put the BOS in.
        bos = self._tokenizer.bos_token
        return self._tokenizer.encode(prompt, add_special_tokens=bos is None or not prompt.startswith(bos))

    def _prompt_with_cache(self, prompt: str) -> tuple[list[int], list | None, int]:
        """The tokens still to prefill, a private copy of the shared-prefix cache, and its length."""
        tokens = self._encode(prompt)
        if self._prefix is None:
            return tokens, None, 0
        prefix, cache = self._prefix
        if tokens[: len(prefix)] != prefix or len(tokens) == len(prefix):
            return tokens, None, 0
        return tokens[len(prefix):], copy.deepcopy(cache), len(prefix)

    def _vocab_size(self) -> int:
        return self._model.args.vocab_size

    def _can_constrain(self) -> bool:
        return can_constrain(self._tokenizer._tokenizer, tuple(self._tokenizer.eos_token_ids))

    def _processors(self, request: Request) -> CallProcessors:
        """The sampling penalties, then the schema's mask or the thinking budget (last, so nothing
        re-opens a token they ruled out), and the call's cap."""
        settings, tokenizer = request.settings, self._tokenizer
        chain = make_processors(settings)
        if request.schema is not None:
            schema = SchemaProcessor(tokenizer._tokenizer, tuple(tokenizer.eos_token_ids), request.schema)
            return CallProcessors([*chain, schema], settings.max_tokens, schema=schema)
        ids = self._think_ids
        if not (settings.enable_thinking and settings.thinking_budget and ids):
            return CallProcessors(chain, settings.max_tokens)
        forced = forced_close(tokenizer, ids[1])
        budget = BudgetProcessor(ids, forced, settings.thinking_budget,
                                 prompt_opens_think(request.prompt, self.capabilities.think_markers))
        return CallProcessors([*chain, budget], budget.state.cap(settings.max_tokens, len(forced)), budget=budget)

    def _clear_cache_after(self, tokens: int) -> bool:
        import mlx.core as mx

        if self.budget is None or tokens < self.budget.clear_cache_after_tokens:
            return False
        mx.clear_cache()  # long generations leave large KV buffers in the cache
        return True


def _think_markers(tokenizer) -> tuple[str, str]:
    start, end = getattr(tokenizer, "think_start", None), getattr(tokenizer, "think_end", None)
    return (start, end) if start and end else DEFAULT_THINK_MARKERS


WEIGHTS_VARIABLE = "PIPELINE_CPU_WEIGHTS"  # "stored": keep quantized weights on a CPU too (benchmarks)
DEQUANTIZE_AT_MOST = 2 * 1024**3  # float32 bytes: a small model; a large one stays quantized


def _cpu_weights(model, budget: MemoryBudget) -> str:
    """On a CPU, a small quantized model runs far faster dense in float32: MLX's quantized matmul has
    no BLAS path there, float32 matmuls do (and bfloat16 is slower than both). Measured in
    bench/cpu_speed.py; on Metal and CUDA the quantized weights stay."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm.utils import dequantize_model

    quantized = [m for _, m in model.named_modules() if isinstance(m, nn.QuantizedLinear | nn.QuantizedEmbedding)]
    if _on_gpu() or not quantized or os.environ.get(WEIGHTS_VARIABLE) == "stored":
        return "as stored"
    dense_bytes = 4 * sum(m.weight.shape[0] * m.weight.shape[1] * 32 // m.bits for m in quantized)
    if dense_bytes > min(DEQUANTIZE_AT_MOST, budget.memory_limit // 4):
        return "as stored"
    dequantize_model(model)
    model.set_dtype(mx.float32)
    mx.eval(dict(tree_flatten(model.parameters())))
    return "float32 (dequantized for the CPU)"


def _probe_identity(resolved: ResolvedModel, weights: str) -> dict:
    """What the batch probe's answer depends on: the model's files, the weights as run, the device."""
    import mlx.core as mx

    config = Path(resolved.source) / "config.json" if resolved.is_local else None
    stamp = config.stat().st_mtime_ns if config and config.exists() else None
    return {"source": resolved.source, "config_mtime_ns": stamp, "weights": weights,
            "device": str(mx.default_device()), "mlx": metadata.version("mlx"), "blas": blas_in_use(),
            "cpus": os.cpu_count(), "machine": platform.machine()}


def _on_gpu() -> bool:
    import mlx.core as mx

    return mx.default_device().type == mx.DeviceType.gpu


class Reading:
    """The model reading a text as it grows: each token scored once against all the tokens before it, the KV cache
    kept between calls (a section costs ~1.35x one read of it, bench/read_cost.py: many short calls)."""

    def __init__(self, model) -> None:
        self._model = model
        self._cache: list | None = None
        self._last = None  # log-probabilities of the token after the last one read
        self.ids: list[int] = []
        self.nats: list[float] = []  # per token read: -log p (the first token has no context: 0)

    def extend(self, ids: list[int]) -> None:
        """Read up to the end of `ids`, the text's tokens so far; if the growing text split a token already read
        differently, the whole text is read again (rare: the last tokens are held back until more text comes)."""
        import mlx.core as mx
        from mlx_lm.models.cache import make_prompt_cache

        if _common_prefix_len([self.ids, ids]) < len(self.ids):  # rare: a token split differently once more came
            self._cache, self._last, self.ids, self.nats = None, None, [], []
        new = ids[len(self.ids):]
        if not new:
            return
        if self._cache is None:
            self._cache = make_prompt_cache(self._model)
        logits = self._model(mx.array([new]), cache=self._cache)[0].astype(mx.float32)
        logprobs = logits - mx.logsumexp(logits, axis=-1, keepdims=True)
        self.nats.append(0.0 if self._last is None else _surprisal(self._last, new[0]))
        if len(new) > 1:
            rest = -mx.take_along_axis(logprobs[:-1], mx.array(new[1:], dtype=mx.int32)[:, None], axis=-1)[:, 0]
            self.nats.extend(rest.tolist())  # type: ignore[arg-type]  # a 1-D array: a list of floats
        self._last, self.ids = logprobs[-1], self.ids + new


def _common_prefix_len(token_lists: list[list[int]]) -> int:
    first, length = token_lists[0], min(len(t) for t in token_lists)
    for index in range(length):
        if any(t[index] != first[index] for t in token_lists[1:]):
            return index
    return length


def make_processors(settings: SamplingSettings):
    from mlx_lm.sample_utils import make_logits_processors

    window = settings.penalty_context or settings.max_tokens  # covers the whole section
    return make_logits_processors(
        repetition_penalty=settings.repetition_penalty, repetition_context_size=window,
        presence_penalty=settings.presence_penalty, presence_context_size=window,
        frequency_penalty=settings.frequency_penalty, frequency_context_size=window,
    )


def _load_model(resolved: ResolvedModel, budget: MemoryBudget):
    from mlx_lm import load

    try:
        return load(resolved.source)
    except RuntimeError as exc:
        error = _as_memory_error(exc, budget)
        raise (error if error is not exc else ModelError(f"cannot load model {resolved.spec}: {exc}")) from None
    except Exception as exc:  # hub and file errors come in many types; all mean the same to a user
        raise ModelError(f"cannot load model {resolved.spec}: {type(exc).__name__}: {exc}",
                         hint=_load_hint(resolved)) from None


def _load_hint(resolved: ResolvedModel) -> str:
    if resolved.is_local:
        return "check the model folder's files"
    return "a hub id needs network access on first use; run once online, or point `model:` at a local MLX folder"


def _as_memory_error(exc: RuntimeError, budget: MemoryBudget) -> Exception:
    text = str(exc).lower()
    if "memory" in text or "alloc" in text:
        return MemoryLimitError(
            f"MLX could not allocate memory under memory_limit {size(budget.memory_limit)}: {exc}",
            hint="raise memory.memory_limit_gb, lower max_tokens, or use a smaller model")
    return exc


@dataclass
class CallProcessors:
    """One call's logits processors, its cap, and the two whose work run.json records."""

    chain: list
    cap: int
    schema: SchemaProcessor | None = None
    budget: BudgetProcessor | None = None

    def stats(self) -> dict:
        budget = self.budget.state if self.budget else None
        return {"constraint_s": self.schema.seconds if self.schema else 0.0,
                "reasoning_tokens": budget.reasoning_tokens if budget else None,
                "thinking_budget_hit": budget.hit if budget else None}


def _surprisal(logprobs, token: int) -> float:
    """-log p of the token chosen, before temperature (mlx-lm's logprobs): what the collapse watch reads."""
    return -float(logprobs[token].item())


class MLXStream:
    """One call through mlx-lm's stream_generate, with the shared-prefix cache when it applies."""

    def __init__(self, backend: MLXBackend, request: Request):
        self.backend, self.request = backend, request
        self.response: GenerationResponse | None = None  # mlx-lm's latest
        self.started = time.perf_counter()
        self.reused = 0
        self.nats = 0.0  # -log p of the tokens so far, under the model before temperature: salad is improbable
        self.processors = backend._processors(request)
        self.deltas = self._generate()

    def __iter__(self) -> Iterator[Delta]:
        return self.deltas

    def stop(self) -> Delta:
        self.deltas.close()  # generation stops at once
        return self._final("stopped")

    def _generate(self) -> Generator[Delta, None, None]:
        import mlx.core as mx
        from mlx_lm import stream_generate

        backend, settings = self.backend, self.request.settings
        tokens, cache, self.reused = backend._prompt_with_cache(self.request.prompt)
        processors = self.processors
        mx.random.seed(self.request.seed)
        mx.reset_peak_memory()
        self.started = time.perf_counter()
        try:
            for self.response in stream_generate(
                backend._model, backend._tokenizer, tokens, max_tokens=processors.cap, prompt_cache=cache,
                sampler=make_sampler(settings, backend._vocab_size()), logits_processors=processors.chain,
            ):
                guard(mx, backend.generation_budget)
                if self.response.finish_reason is None:
                    self.nats += _surprisal(self.response.logprobs, self.response.token)
                    yield Delta(self.response.text, self.response.generation_tokens, surprisal=self.nats)
        except RuntimeError as exc:
            raise _as_memory_error(exc, backend.generation_budget) from exc
        yield self._final((self.response and self.response.finish_reason) or "stop")

    def _final(self, reason: str) -> Delta:
        import mlx.core as mx

        response, wall = self.response, time.perf_counter() - self.started
        if response is None:
            return Delta("", 0, reason, GenerationStats(wall_s=wall, prefix_tokens_reused=self.reused))
        reading = read_memory(mx)
        stats = GenerationStats(
            prompt_tokens=response.prompt_tokens, generation_tokens=response.generation_tokens,
            prompt_tps=response.prompt_tps, generation_tps=response.generation_tps, wall_s=wall,
            prefix_tokens_reused=self.reused, peak_memory_gb=reading.peak_gb, active_memory_gb=reading.active_gb,
            cache_memory_gb=reading.cache_gb, cache_cleared=self.backend._clear_cache_after(response.generation_tokens),
            **self.processors.stats(),
        )
        text = response.text if reason != "stopped" else ""
        return Delta(text, response.generation_tokens, reason, stats)


class MLXBatchStream:
    """Several chats decoded together with mlx-lm's BatchGenerator: one forward pass per step for
    the whole batch, each sequence with its own cap, sampler, penalties and shared-prefix cache.
    The batch is seeded once (sequences cannot have their own seeds)."""

    def __init__(self, backend: MLXBackend, requests: list[Request]):
        import mlx.core as mx
        from mlx_lm.generate import BatchGenerator

        self.backend = backend
        chats = [r.settings for r in requests]
        prepared = [backend._prompt_with_cache(r.prompt) for r in requests]
        self.reused = [reused for _, _, reused in prepared]
        mx.random.seed(requests[0].seed if requests else 0)
        mx.reset_peak_memory()
        tokenizer = backend._tokenizer
        self.generator = BatchGenerator(
            backend._model, stop_tokens=[[t] for t in tokenizer.eos_token_ids],
            completion_batch_size=max(len(chats), 1), prefill_batch_size=max(len(chats), 1),
        )
        vocab = backend._vocab_size()
        self.processors = [backend._processors(r) for r in requests]
        self.uids = self.generator.insert(
            [tokens for tokens, _, _ in prepared],
            max_tokens=[p.cap for p in self.processors],
            # mlx-lm types each cache as a list, but a None entry gets a fresh one (BatchGenerator.insert_segments).
            caches=[cache for _, cache, _ in prepared],  # type: ignore[misc]
            samplers=[make_sampler(c, vocab) for c in chats],
            logits_processors=[p.chain for p in self.processors],
        )
        self.index = {uid: i for i, uid in enumerate(self.uids)}
        self.detokenizers = [tokenizer.detokenizer for _ in chats]
        self.tokens = [0] * len(chats)
        self.nats = [0.0] * len(chats)  # as MLXStream.nats, per sequence
        self.prompt_tokens = [len(tokens) for tokens, _, _ in prepared]
        self.started = time.perf_counter()
        self.live = set(range(len(chats)))

    def __iter__(self) -> Iterator[tuple[int, Delta]]:
        import mlx.core as mx

        try:
            while self.live and (responses := self.generator.next_generated()):
                guard(mx, self.backend.generation_budget)
                for response in responses:
                    delta = self._delta(response)
                    if delta is not None:
                        yield self.index[response.uid], delta
        except RuntimeError as exc:
            raise _as_memory_error(exc, self.backend.generation_budget) from exc
        finally:
            self.generator.close()
            self._clear_cache_if_long()

    def _delta(self, response) -> Delta | None:
        i = self.index.get(response.uid)
        if i is None or i not in self.live:
            return None  # a sequence we stopped may still report from the step in flight
        detokenizer = self.detokenizers[i]
        if response.finish_reason != "stop":  # the stop token itself is not text
            self.tokens[i] += 1
            detokenizer.add_token(response.token)
        if response.finish_reason is None:
            self.nats[i] += _surprisal(response.logprobs, response.token)
            return Delta(detokenizer.last_segment, self.tokens[i], surprisal=self.nats[i])
        detokenizer.finalize()
        self.live.discard(i)
        return Delta(detokenizer.last_segment, self.tokens[i], response.finish_reason, self.stats(i))

    def stop(self, index: int) -> Delta:
        if index in self.live:
            self.live.discard(index)
            self.generator.remove([self.uids[index]])
        return Delta("", self.tokens[index], "stopped", self.stats(index))

    def stats(self, index: int) -> GenerationStats:
        import mlx.core as mx

        wall = time.perf_counter() - self.started
        reading = read_memory(mx)
        return GenerationStats(
            prompt_tokens=self.prompt_tokens[index], prefix_tokens_reused=self.reused[index],
            generation_tokens=self.tokens[index], generation_tps=self.tokens[index] / wall if wall else 0.0,
            wall_s=wall, peak_memory_gb=reading.peak_gb, active_memory_gb=reading.active_gb,
            cache_memory_gb=reading.cache_gb, **self.processors[index].stats(),
        )

    def _clear_cache_if_long(self) -> None:
        self.backend._clear_cache_after(sum(self.tokens))  # a batch of long generations leaves large KV buffers
