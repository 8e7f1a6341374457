"""The model's own surprisal as a collapse signal while streaming, on the real embedded model:
word salad is improbable to the model that wrote it, so a hot sample is stopped within a few dozen
tokens, earlier than the text signals alone stop the same stream; coherent output never crosses
the bar (the calibration is in bench/surprisal.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from pipeline.backends.base import Delta, Request
from pipeline.checks.collapse import CollapseDetector, Thresholds
from pipeline.config import MemorySettings, SamplingSettings
from pipeline.generate.watch import Watch, watch_stream

pytestmark = pytest.mark.mlx

PROMPT = "Explain in two short paragraphs why a small machine needs a memory budget for a language model."


@pytest.fixture(scope="module")
def backend():
    from pipeline.backends.mlx import MLXBackend

    return MLXBackend.load("builtin:smollm2", MemorySettings())


def stream(backend, temperature: float, seed: int = 3, tokens: int = 160):
    prompt = backend.render(({"role": "user", "content": PROMPT},), False)
    settings = SamplingSettings(max_tokens=tokens, temperature=temperature, top_p=1.0, top_k=0, min_p=0.0,
                                repetition_penalty=None)
    return backend.stream(Request(prompt, settings, seed))


class WithoutSurprisal:
    """The same stream with the model's surprisal hidden: only the text signals can judge it."""

    def __init__(self, inner):
        self.inner = inner

    def __iter__(self) -> Iterator[Delta]:
        return (replace(delta, surprisal=None) for delta in self.inner)

    def stop(self) -> Delta:
        return self.inner.stop()


def watched(stream_, watch: Watch | None = None):
    return watch_stream(stream_, watch or Watch(("<think>", "</think>"), False, True), lambda _: None)


def test_a_hot_sample_is_stopped_early_by_its_surprisal(backend):
    with_surprisal = watched(stream(backend, temperature=2.0))
    text_only = watched(WithoutSurprisal(stream(backend, temperature=2.0)))
    assert with_surprisal.finish_reason == "collapse"
    assert with_surprisal.collapse.signal == "word_salad"
    assert with_surprisal.collapse.signals["surprisal_nats"] >= Thresholds().surprisal_nats
    assert with_surprisal.stats.generation_tokens <= 40
    # the same tokens (same seed), judged by the text alone, run on for longer or to the cap
    assert text_only.stats.generation_tokens > with_surprisal.stats.generation_tokens + 10


def test_coherent_output_does_not_cross_the_bar(backend):  # more coherent outputs: bench/surprisal.py
    watch = Watch(("<think>", "</think>"), False, True)
    result = watched(stream(backend, temperature=0.6, seed=1), watch)
    assert result.finish_reason in ("stop", "length") and result.collapse is None
    assert 0.5 < watch.nats / watch.tokens < Thresholds().surprisal_nats  # the surprisal did reach the watch


def test_surprisal_fires_on_an_improbable_window_and_names_its_onset():
    detector = CollapseDetector()
    text = "Memory is the first constraint. "
    detector.feed(text, tokens=6, surprisal=12.0)  # 2 nats a token: ordinary prose
    for word in ["zorb ", "quill ", "nimbus ", "fret ", "oak ", "yarrow ", "plinth ", "gust "]:
        verdict = detector.feed(word, tokens=2, surprisal=2 * 9.0)  # 9 nats a token: improbable
    assert verdict.detected and verdict.signal == "word_salad"
    assert verdict.onset == len(text)  # the first improbable piece
    calm = CollapseDetector()
    for word in ["zorb ", "quill ", "nimbus ", "fret ", "oak ", "yarrow ", "plinth ", "gust "] * 3:
        assert not calm.feed(word, tokens=2, surprisal=2 * 3.0).detected
