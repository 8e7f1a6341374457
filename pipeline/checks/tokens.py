"""Token boundaries for checking a file: the collapse detector's token-cost signal (invented words split
into many tokens each) needs them and a file has none. The embedded model's tokenizer gives the counts
the detector was calibrated with, so `pipeline check` judges a text as generation did; where that model
is not installed the signal is off and the rest still judge. On a machine that never ran the embedded
model, the first check converts it into the user cache, as a first run does."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from .collapse import Verdict, detect_collapse

log = logging.getLogger("pipeline")


@cache
def _tokenizer() -> Any:
    try:
        from tokenizers import Tokenizer

        from ..builtin_model import builtin_model_dir

        return Tokenizer.from_file(str(builtin_model_dir() / "tokenizer.json"))
    except Exception as exc:  # noqa: BLE001 - an optional aid: no model, no file, a bad file all mean "without it"
        log.debug("collapse check without token counts (%s)", exc)
        return None


def token_ends(text: str) -> list[int] | None:
    """Character offsets where each token ends, or None without the tokenizer."""
    tokenizer = _tokenizer()
    if tokenizer is None or not text:
        return None
    return [end for _, end in tokenizer.encode(text, add_special_tokens=False).offsets]


def collapse_of(prose: str) -> Verdict:
    """Written text judged as generation judges a stream: token by token, with the embedded tokenizer's tokens."""
    return detect_collapse(prose, token_ends=token_ends(prose))
