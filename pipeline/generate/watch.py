"""One sequence while it streams: its reasoning-free text and its collapse detector.

The detector only ever sees visible text (reasoning is not judged), and the stream is stopped the
moment it reports collapse, so a degenerate section costs tokens up to the onset, not up to the cap."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ..backends import Delta, GenerationStats, Stream
from ..checks.collapse import ENGLISH, CollapseDetector, Verdict
from ..checks.text import without_surrogates
from ..checks.tokens import StreamRead
from ..thinking import split_thinking


@dataclass(frozen=True)
class Streamed:
    """What one backend call produced, watched by the collapse detector."""

    raw: str
    visible: str
    finish_reason: str  # stop, length, or collapse (stopped early by the detector)
    stats: GenerationStats
    collapse: Verdict | None
    tokens_after_onset: int | None
    watched: bool = False  # a model judged the whole visible text while it streamed: the writer's own surprisal, as
    # the backend reported it, or the embedded model's reading (a backend without): no read is needed afterwards


class VisibleText:
    """Tracks the reasoning-free text while raw output streams, for the detector."""

    def __init__(self, markers: tuple[str, str], starts_inside: bool):
        self.markers, self.starts_inside = markers, starts_inside
        self.raw = ""
        self.visible = ""

    def add(self, delta: str) -> tuple[str, bool]:
        """Returns (new visible text, whether earlier visible text was retracted)."""
        self.raw += delta
        visible = split_thinking(self.raw, self.markers, self.starts_inside).visible
        grew = visible.startswith(self.visible)
        added = visible[len(self.visible):] if grew else visible
        self.visible = visible
        return added, not grew


class NoDetector:
    """Stands in when a stage sets `collapse_watch: false`."""

    def feed(self, text: str, tokens: int = 0, surprisal: float | None = None) -> Verdict:
        return Verdict()

    def finish(self) -> Verdict:
        return Verdict()


class Watch:
    def __init__(self, markers: tuple[str, str], starts_inside: bool, collapse_watch: bool, language: str = ENGLISH,
                 read: bool = True):
        """`read`: where the backend reports no surprisal, the embedded model reads the visible text as it grows."""
        self.text = VisibleText(markers, starts_inside)
        self.new_detector: Callable[[], CollapseDetector | NoDetector] = (
            functools.partial(CollapseDetector, language=language) if collapse_watch else NoDetector)
        self.detector = self.new_detector()
        self.checkpoints: list[tuple[int, int]] = []  # (visible chars, tokens so far)
        self.tokens = 0
        self.nats = 0.0  # the model's surprisal of the tokens so far, where the backend reports it
        self.scored = False
        self.reads = collapse_watch and read
        self.reader: StreamRead | None = None  # the embedded model, where the backend reports no surprisal
        self.read_verdict: Verdict | None = None

    def add(self, delta: Delta) -> bool:
        """Take one streamed piece; True once the visible text has collapsed."""
        # A lone surrogate cannot be written as UTF-8 (draft or run.json): it becomes U+FFFD on arrival.
        added, retracted = self.text.add(without_surrogates(delta.text))
        if retracted:
            self.detector = self.new_detector()  # a late </think> turned earlier "visible" text into reasoning
            self.reader = None
            added = self.text.visible
        spent, self.tokens = delta.generation_tokens - self.tokens, delta.generation_tokens
        nats = None if delta.surprisal is None else delta.surprisal - self.nats
        self.scored = self.scored or delta.surprisal is not None
        self.nats = self.nats if delta.surprisal is None else delta.surprisal  # the final delta carries none
        self.checkpoints.append((len(self.text.visible), self.tokens))
        if self.detector.feed(added, spent, nats if added else None).detected:  # reasoning is not judged
            return True
        return bool(added) and self._read(final=False) is not None

    def _read(self, final: bool) -> Verdict | None:
        """A backend that streams no probabilities: the embedded model reads the visible text as it grows; a salad
        once it found one."""
        if not self.scored and self.reads and self.read_verdict is None:
            self.reader = self.reader or StreamRead()
            self.read_verdict = self.reader.add(self.text.visible, final)
        return self.read_verdict

    def result(self, finish_reason: str, stats: GenerationStats | None) -> Streamed:
        verdict, stats = self.read_verdict or self.detector.finish(), stats or GenerationStats()  # what stopped it
        if not verdict.detected:
            verdict = self._read(final=True) or verdict  # the tail after the last read
        watched = self.scored or (self.reader is not None and self.reader.covered)
        if not verdict.detected or verdict.onset is None:
            return Streamed(self.text.raw, self.text.visible, finish_reason, stats, None, None, watched)
        after = self.tokens - tokens_at(self.checkpoints, verdict.onset)
        return Streamed(self.text.raw, self.text.visible, finish_reason, stats, verdict, after, watched)


def tokens_at(checkpoints: list[tuple[int, int]], offset: int) -> int:
    for chars, tokens in checkpoints:
        if chars > offset:
            return tokens
    return checkpoints[-1][1] if checkpoints else 0


def watch_stream(stream: Stream, watch: Watch, on_tokens: Callable[[int], None]) -> Streamed:
    """Stream one call; stop it the moment the detector sees collapse in the visible text."""
    for delta in stream:
        collapsed = watch.add(delta)
        on_tokens(delta.generation_tokens)
        if delta.finish_reason:
            return watch.result(delta.finish_reason, delta.stats)
        if collapsed:
            return watch.result("collapse", stream.stop().stats)
    return watch.result("stop", None)  # a stream that ended without its final delta
