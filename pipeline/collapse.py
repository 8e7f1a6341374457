"""Collapse detection on model-written prose, incremental (fed while tokens stream) or on whole text.

Degenerating MoE output goes through recognisable phases: exact loops, synonym chains
("allocation, deallocation, retention, release, ..."), then word salad ("the the system system").
Each phase has a cheap signal that is O(1) per word; the detector fires on the first one that
crosses its calibrated threshold and reports the onset as a character offset. Thresholds were
calibrated on bench/corpus (see bench/collapse.py); never run this on template-rendered blocks.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, deque
from dataclasses import asdict, dataclass, field

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]*_]*$")
_CHAIN_ITEM = re.compile(r"^[a-z][a-z'’-]*$")  # lowercase words: synonyms, not tickers or numbers
_STRIP = str.maketrans("", "", "\"'“”‘’()[]*_`")


@dataclass(frozen=True)
class Thresholds:
    ngram: int = 4  # n of the repeated n-grams
    window: int = 40  # words in the sliding window
    repeat_share: float = 0.5  # share of the window's n-grams seen earlier in the text
    repeat_lookback: int = 600  # words: how far back an n-gram counts as "seen earlier"
    min_unique_ratio: float = 0.35  # distinct words / words in the window
    adjacent_repeats: int = 3  # "the the", "of of" in one window
    chain_items: int = 8  # consecutive short lowercase comma-separated items
    chain_item_words: int = 2  # words per chain item, at most
    run_on_words: int = 110  # words with no sentence end and no line break
    compress_ratio: float = 0.25  # zlib size / raw size of the window text (loops compress well)
    compress_every: int = 8  # words between compression checks (zlib is the costliest signal)
    min_words: int = 24  # evidence needed before anything fires


@dataclass
class Verdict:
    detected: bool = False
    onset: int | None = None  # character offset where the collapse starts
    signal: str | None = None  # which signal fired: loop, synonym_chain, word_salad, run_on
    words_seen: int = 0
    fired_at_word: int | None = None
    signals: dict = field(default_factory=dict)  # the values at the moment it fired (or at the end)

    def as_dict(self) -> dict:
        return asdict(self)


class CollapseDetector:
    """Feed text as it streams; `verdict.detected` turns true at the first confident signal."""

    def __init__(self, thresholds: Thresholds = Thresholds()):
        self.t = thresholds
        self.verdict = Verdict()
        self._text = ""
        self._scanned = 0  # chars of _text already split into complete words
        self._words: list[str] = []
        self._starts: list[int] = []
        self._window = deque()  # (word, repeated?) for the last `window` words
        self._window_counts: Counter = Counter()
        self._repeated_in_window = 0
        self._adjacent_in_window = 0
        self._ngram_last: dict[tuple, int] = {}
        self._chain_len = 0
        self._chain_start = 0
        self._item_words = 0
        self._item_start = 0
        self._run_on_start = 0

    # -- feeding -----------------------------------------------------------------------------
    def feed(self, delta: str) -> Verdict:
        """Add streamed text; only complete words (followed by whitespace) are judged."""
        self._text += delta
        for match in _WORD.finditer(self._text, self._scanned):
            if match.end() == len(self._text):
                break  # the word may continue in the next delta
            self._add_word(match.group(), match.start())
            self._scanned = match.end()
            if self.verdict.detected:
                break
        return self.verdict

    def finish(self) -> Verdict:
        """Judge the last word too, and record the final signal values."""
        tail = _WORD.search(self._text, self._scanned)
        if tail and not self.verdict.detected:
            self._add_word(tail.group(), tail.start())
            self._scanned = len(self._text)
        if not self.verdict.detected:
            self.verdict.signals = self._signal_values()
        return self.verdict

    # -- per-word updates, O(1) each -------------------------------------------------------------
    def _add_word(self, raw: str, start: int) -> None:
        index = len(self._words)
        word = raw.lower().translate(_STRIP)
        self._words.append(word)
        self._starts.append(start)
        self.verdict.words_seen = index + 1
        self._slide_window(word, self._is_repeat_ngram(index), index)
        self._track_chain(raw, index)
        self._track_run_on(raw, start, index)
        if index + 1 >= self.t.min_words:
            self._judge(index)

    def _is_repeat_ngram(self, index: int) -> bool:
        n = self.t.ngram
        if index + 1 < n:
            return False
        gram = tuple(self._words[index - n + 1: index + 1])
        last = self._ngram_last.get(gram)
        self._ngram_last[gram] = index
        return last is not None and index - last <= self.t.repeat_lookback

    def _slide_window(self, word: str, repeated: bool, index: int) -> None:
        adjacent = index > 0 and word.isalpha() and word == self._words[index - 1]
        self._window.append((word, repeated, adjacent))
        self._window_counts[word] += 1
        self._repeated_in_window += repeated
        self._adjacent_in_window += adjacent
        if len(self._window) > self.t.window:
            old, old_repeated, old_adjacent = self._window.popleft()
            self._window_counts[old] -= 1
            if not self._window_counts[old]:
                del self._window_counts[old]
            self._repeated_in_window -= old_repeated
            self._adjacent_in_window -= old_adjacent

    def _track_chain(self, raw: str, index: int) -> None:
        """Count consecutive comma-separated items of at most `chain_item_words` lowercase words."""
        if self._item_words == 0:
            self._item_start = index
        bare = raw.strip("\"'“”‘’()[]*_").rstrip(",;")
        self._item_words += 1
        lowercase = bool(_CHAIN_ITEM.match(bare)) or bare in {"and", "or"}
        if not lowercase or self._item_words > self.t.chain_item_words + 1:  # +1 for a trailing "and"
            self._chain_len, self._item_words = 0, 0
            return
        if raw.endswith((",", ";")):
            if self._chain_len == 0:
                self._chain_start = self._item_start
            self._chain_len += 1
            self._item_words = 0
        elif raw.endswith((".", "!", "?")) or "\n" in raw:
            self._chain_len, self._item_words = 0, 0

    def _track_run_on(self, raw: str, start: int, index: int) -> None:
        next_char = self._text[start + len(raw): start + len(raw) + 1]
        if _SENTENCE_END.search(raw) or next_char == "\n" or raw.startswith(("#", "|", "-", "*", "`")):
            self._run_on_start = index + 1

    # -- judging ---------------------------------------------------------------------------------
    def _judge(self, index: int) -> None:
        t, size = self.t, len(self._window)
        first = index - size + 1
        if self._repeated_in_window / size >= t.repeat_share:
            return self._fire("loop", self._first_repeat(first, index))
        if self._chain_len >= t.chain_items:
            return self._fire("synonym_chain", self._chain_start)
        salad = len(self._window_counts) / size < t.min_unique_ratio or self._adjacent_in_window >= t.adjacent_repeats
        if size == t.window and salad:
            return self._fire("word_salad", first)
        if index - self._run_on_start + 1 >= t.run_on_words:
            return self._fire("run_on", self._run_on_start)
        if size == t.window and index % t.compress_every == 0 and self._compression(first, index) < t.compress_ratio:
            return self._fire("loop", self._first_repeat(first, index))

    def _first_repeat(self, first: int, last: int) -> int:
        """The word where the repeated n-grams of this window begin (the loop's onset)."""
        for position, (_, repeated, _) in enumerate(self._window):
            if repeated:
                return max(first + position - self.t.ngram + 1, 0)
        return first

    def _compression(self, first: int, last: int) -> float:
        raw = self._text[self._starts[first]: self._starts[last] + len(self._words[last]) + 1].encode()
        return len(zlib.compress(raw, 6)) / max(len(raw), 1)

    def _fire(self, signal: str, onset_word: int) -> None:
        self.verdict = Verdict(True, self._starts[onset_word], signal, len(self._words), len(self._words),
                               self._signal_values())

    def _signal_values(self) -> dict:
        size = max(len(self._window), 1)
        return {
            "repeat_share": round(self._repeated_in_window / size, 3),
            "unique_ratio": round(len(self._window_counts) / size, 3),
            "adjacent_repeats": self._adjacent_in_window,
            "chain_items": self._chain_len,
            "run_on_words": len(self._words) - self._run_on_start,
        }


def detect_collapse(text: str, thresholds: Thresholds = Thresholds()) -> Verdict:
    """Judge a whole text as if it had streamed in."""
    detector = CollapseDetector(thresholds)
    detector.feed(text)
    return detector.finish()
