"""Thinking budgets on MLX: a logits processor that counts reasoning tokens and, once a stage's
`thinking_budget` is spent inside the think block, forces a short transition, the tokenizer's
end-of-thinking marker and a blank line, one token per step. The answer then has all of its own
`max_tokens`."""

from __future__ import annotations

from typing import Any

from ..thinking import TRANSITION, ThinkingBudget


def marker_ids(tokenizer: Any, markers: tuple[str, str]) -> tuple[int, int] | None:
    """The think markers' token ids, or None where either is not one token (the budget can't be forced)."""
    ids = [tokenizer.encode(marker, add_special_tokens=False) for marker in markers]
    return (ids[0][0], ids[1][0]) if all(len(i) == 1 for i in ids) else None


def forced_close(tokenizer: Any, close_id: int) -> list[int]:
    """Transition + end marker + blank line; the transition is left out where the vocabulary can't spell it."""
    transition = tokenizer.encode(TRANSITION, add_special_tokens=False)
    unknown = getattr(tokenizer, "unk_token_id", None)
    words = [] if unknown is not None and unknown in transition else transition
    return [*words, close_id, *tokenizer.encode("\n\n", add_special_tokens=False)]


class BudgetProcessor:
    """An mlx-lm logits processor (one call per sampled token; the first before any)."""

    def __init__(self, ids: tuple[int, int], forced: list[int], budget: int, starts_inside: bool):
        self.open_id, self.close_id = ids
        self.forced = forced
        self.state = ThinkingBudget(budget, inside=starts_inside)
        self._queue: list[int] = []
        self._forcing = False
        self._calls = 0

    def __call__(self, tokens, logits):
        import mlx.core as mx

        if self._calls:
            self._observe(int(tokens[-1].item()))
        self._calls += 1
        if self.state.must_close and not self._forcing:
            self.state.hit, self._forcing, self._queue = True, True, list(self.forced)
        if not self._queue:
            return logits
        only = self._queue.pop(0)
        allowed = mx.arange(logits.shape[-1]) == only
        return mx.where(allowed, logits, mx.array(-float("inf"), dtype=logits.dtype))

    def _observe(self, token: int) -> None:
        if self._forcing:  # the transition is ours, not the model's reasoning
            if token == self.close_id:
                self.state.saw(opens=False, closes=True)
            self._forcing = bool(self._queue)
            return
        self.state.saw(opens=token == self.open_id, closes=token == self.close_id)
