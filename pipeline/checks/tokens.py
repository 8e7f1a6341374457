"""The embedded model's reading of a file for `pipeline check`, which has no stream to watch, and of a stream
from a backend that reports no probabilities, as it grows (StreamRead).

Token boundaries: the collapse detector's token-cost signal (invented words split into many tokens
each) needs them; the embedded tokenizer gives the counts the detector was calibrated with, so a file
is judged as generation judges a stream. Surprisal: when the text signals find a word salad, they
place its start roughly (they need tens of words of it); the embedded model scores the text up to
there and the start is where it turns improbable (collapse.onset_by_surprisal). Reading with the
model (`read`, the default): text the signals pass is scored whole, and a 32-token stretch improbable
enough is a word salad (collapse.salad_window); without it, clean text never loads the model.
Without the embedded model both aids are off and the text signals still judge; on a machine that
never ran it, the first check converts it into the user cache, as a first run does."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from .collapse import ENGLISH, SALAD_SIGNALS, Thresholds, Verdict, detect_collapse, onset_by_surprisal, salad_window

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


@cache
def _scorer() -> Any:
    try:
        from ..backends.mlx import MLXBackend
        from ..config import DEFAULT_MODEL, MemorySettings

        return MLXBackend.load(DEFAULT_MODEL, MemorySettings())
    except Exception as exc:  # noqa: BLE001 - as above: without the model, the text signals' onset stands
        log.debug("collapse onset without the model's surprisal (%s)", exc)
        return None


def _encoding(text: str) -> Any:
    tokenizer = _tokenizer()
    return None if tokenizer is None or not text else tokenizer.encode(text, add_special_tokens=False)


def token_ends(text: str) -> list[int] | None:
    """Character offsets where each token ends, or None without the tokenizer."""
    encoding = _encoding(text)
    return None if encoding is None else [end for _, end in encoding.offsets]


def scored(text: str) -> tuple[list[int], list[float]] | None:
    """Token end offsets and each token's surprisal (nats) under the embedded model, or None without it."""
    encoding, scorer = _encoding(text), _scorer()
    if encoding is None or scorer is None:
        return None
    return [end for _, end in encoding.offsets], scorer.surprisal(encoding.ids)


def collapse_of(prose: str, read: bool = True, language: str = ENGLISH) -> Verdict:
    """Written text judged as generation judges a stream: token by token, with the embedded tokenizer's
    tokens; a word salad's start then located by the embedded model's surprisal. `read`: also score
    text the signals pass (the text signals alone miss salad shaped like real text). `language`: the text's."""
    encoding = _encoding(prose)
    ends = None if encoding is None else [end for _, end in encoding.offsets]
    verdict = detect_collapse(prose, token_ends=ends, language=language)
    if ends and verdict.detected and verdict.signal in SALAD_SIGNALS and verdict.onset is not None:
        _locate_salad(prose, verdict, verdict.onset, encoding.ids, ends)
    elif ends and not verdict.detected and read:
        return _read_with_model(prose, verdict, encoding.ids, ends)
    return verdict


def _read_with_model(prose: str, verdict: Verdict, ids: list[int], ends: list[int]) -> Verdict:
    if len(ids) < Thresholds().read_tokens:
        return verdict  # shorter than one reading window: nothing to read, no model to load
    scorer = _scorer()
    return _salad_read(prose, verdict, scorer.surprisal(ids) if scorer is not None else [], ends) or verdict


def _salad_read(prose: str, verdict: Verdict, nats: list[float], ends: list[int]) -> Verdict | None:
    """The first stretch the model found improbable enough (collapse.salad_window) as a word salad, or None."""
    found = salad_window(nats)
    if found is None:
        return None
    first, after, mean = found
    located = onset_by_surprisal(nats, first, after)  # the stretch may start before the window
    onset = first if located is None else located
    return Verdict(True, _word_at(prose, ends[onset - 1] if onset else 0), "word_salad", verdict.words_seen,
                   ends[after - 1], {**verdict.signals, "surprisal_nats": round(mean, 2), "onset_from": "model surprisal"})


class StreamRead:
    """A stream from a backend that reports no probabilities (a server), read by the embedded model while it grows,
    every READ_EVERY tokens: a salad is found where `pipeline check` would find it, before the cap is spent. The last
    HOLD_BACK tokens wait for the next read (more text may join them into other tokens)."""

    READ_EVERY = 16
    HOLD_BACK = 2
    MAX_TOKENS = 4096  # a longer section is read once it ends, in windows (Reading keeps every token's cache)

    def __init__(self) -> None:
        self.off = _tokenizer() is None  # without the embedded model the text signals judge alone
        self.reading: Any = None  # begun once there is a window's worth of text (a short section loads no model)
        self.covered = False  # the whole text was read (no read after the stream is needed)
        self._tokenized = 0  # characters of text when it was last tokenized

    def add(self, text: str, final: bool = False) -> Verdict | None:
        """The visible text so far (`final`: all of it); a word salad once the model found one."""
        if self.off or (not final and len(text) - self._tokenized < 2 * self.READ_EVERY):
            return None  # no tokenizing on every streamed piece: a token is 2 characters or more, mostly
        self._tokenized = len(text)
        encoding = _encoding(text)
        ids, ends = (encoding.ids, [end for _, end in encoding.offsets]) if encoding is not None else ([], [])
        if len(ids) > self.MAX_TOKENS:
            self.off = True
            return None
        self.covered = final
        stable = len(ids) if final else len(ids) - self.HOLD_BACK
        read = len(self.reading.ids) if self.reading is not None else 0
        if stable < Thresholds().read_tokens or stable - read < (1 if final else self.READ_EVERY):
            return None  # shorter than one reading window (as `check` reads), or too little new text yet
        if self.reading is None:
            scorer = _scorer()
            if scorer is None:  # the model did not load: the text signals judge alone
                self.off, self.covered = True, False
                return None
            self.reading = scorer.reading()
        self.reading.extend(ids[:stable])
        return _salad_read(text, Verdict(), self.reading.nats, ends[:stable])


def _word_at(prose: str, start: int) -> int:
    """A token's start is often the space before its word: the onset is the word's."""
    return start + len(prose[start:]) - len(prose[start:].lstrip())


def _locate_salad(prose: str, verdict: Verdict, text_onset: int, ids: list[int], ends: list[int]) -> None:
    """Only the text up to where the detector fired is scored: the model loads on the first salad."""
    scorer = _scorer()
    if scorer is None:
        return
    fired = sum(1 for end in ends if end <= (verdict.fired_at or len(prose)))
    onset = onset_by_surprisal(scorer.surprisal(ids[:fired]), sum(1 for end in ends if end <= text_onset), fired)
    if onset is not None:
        verdict.onset = _word_at(prose, ends[onset - 1] if onset else 0)
        verdict.signals["onset_from"] = "model surprisal"
