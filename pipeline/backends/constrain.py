"""Constrained decoding for structured stages: a JSON schema becomes an llguidance grammar, and a
logits processor masks every token the grammar does not allow, so the answer always parses.

The mask is applied with portable MLX ops (llguidance's own MLX helper is a Metal kernel, which
Linux CPU and CUDA builds lack). Compact JSON (no free whitespace) keeps a small model from padding
its answer with newlines until the cap."""

from __future__ import annotations

import json
import time
from functools import lru_cache
from typing import Any

COMPACT_JSON = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


class ConstraintError(ValueError):
    """The schema cannot be turned into a grammar."""


@lru_cache(maxsize=4)
def _ll_tokenizer(hf_tokenizer: Any, eos_ids: tuple[int, ...]):
    import llguidance.hf

    # Building it reads the whole vocabulary (~1 s): once per tokenizer.
    return llguidance.hf.from_tokenizer(hf_tokenizer, eos_token=list(eos_ids))


def can_constrain(hf_tokenizer: Any, eos_ids: tuple[int, ...]) -> bool:
    """Whether llguidance understands this tokenizer (byte-level BPE and SentencePiece do; a toy
    word-level one does not): where it does not, structured stages use prompt + validation + repair."""
    try:
        _ll_tokenizer(hf_tokenizer, eos_ids)
    except Exception:  # llguidance reports an unknown decoder or a slow tokenizer as ValueError or worse
        return False
    return True


def grammar_for(schema: dict) -> str:
    from llguidance import LLMatcher

    return LLMatcher.grammar_from_json_schema(json.dumps(schema), defaults=COMPACT_JSON)  # type: ignore[arg-type]


class SchemaProcessor:
    """An mlx-lm logits processor: called once per sampled token with the tokens so far. The first
    call comes before any answer token; each later one first feeds the grammar the token just sampled."""

    def __init__(self, hf_tokenizer: Any, eos_ids: tuple[int, ...], schema: dict):
        import numpy as np
        from llguidance import LLMatcher
        from llguidance.numpy import allocate_token_bitmask

        self._tokenizer = _ll_tokenizer(hf_tokenizer, eos_ids)
        self.matcher = LLMatcher(self._tokenizer, grammar_for(schema), log_level=0)
        if self.matcher.is_error():
            raise ConstraintError(f"the stage's JSON schema cannot be enforced: {self.matcher.get_error()}")
        self._bitmask = allocate_token_bitmask(1, self._tokenizer.vocab_size)
        self._bits = np.arange(32, dtype=np.uint32)
        self._calls = 0
        self.seconds = 0.0  # spent in the grammar and building the mask (host time; the masking op runs in the graph)

    def __call__(self, tokens, logits):
        # Reading the sampled token waits for the previous step's forward pass: decode time, not ours.
        sampled = int(tokens[-1].item()) if self._calls else None
        started = time.perf_counter()
        masked = self._mask(sampled, logits)
        self.seconds += time.perf_counter() - started
        return masked

    def _mask(self, sampled: int | None, logits):
        import mlx.core as mx
        import numpy as np
        from llguidance.numpy import fill_next_token_bitmask

        if sampled is not None:
            self.matcher.consume_token(sampled)
        self._calls += 1
        if self.matcher.is_error():
            return logits  # an out-of-grammar token (cannot happen under the mask): leave it to the parser
        fill_next_token_bitmask(self.matcher, self._bitmask)
        allowed = ((self._bitmask[0].view(np.uint32)[:, None] >> self._bits) & 1).reshape(-1).astype(bool)
        vocab = logits.shape[-1]
        if allowed.size < vocab:  # an embedding padded past the tokenizer's vocabulary: never those ids
            allowed = np.concatenate([allowed, np.zeros(vocab - allowed.size, dtype=bool)])
        return mx.where(mx.array(allowed[:vocab]), logits, mx.array(-float("inf"), dtype=logits.dtype))
