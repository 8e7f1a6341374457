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


def text_only_watch() -> Watch:
    """A watch with no reading: only the text signals judge a stream without surprisal."""
    return Watch(("<think>", "</think>"), False, True, read=False)


def watched(stream_, watch: Watch | None = None):
    return watch_stream(stream_, watch or Watch(("<think>", "</think>"), False, True), lambda _: None)


def test_a_hot_sample_is_stopped_early_by_its_surprisal(backend):
    with_surprisal = watched(stream(backend, temperature=2.0))
    text_only = watched(WithoutSurprisal(stream(backend, temperature=2.0)), text_only_watch())
    assert with_surprisal.finish_reason == "collapse"
    assert with_surprisal.collapse.signal == "word_salad"
    assert with_surprisal.collapse.signals["surprisal_nats"] >= Thresholds().surprisal_nats
    assert with_surprisal.stats.generation_tokens <= 40
    # the same tokens (same seed), judged by the text alone, run on for longer or to the cap
    assert text_only.stats.generation_tokens > with_surprisal.stats.generation_tokens + 10


def test_a_stream_without_surprisal_is_read_by_the_embedded_model_as_it_grows(backend):
    """A server streams no probabilities: the embedded model reads the visible text every 16 tokens (`pipeline
    check`'s bar: 32 tokens at 8.0 nats), so the same hot sample stops soon after the model's own surprisal
    would have stopped it, long before the text signals alone do; the whole text was read, so it is not read
    again after the stream. Coherent output is read to its end and passes."""
    from pipeline.checks.tokens import _scorer

    assert _scorer() is not None  # loaded before the streams: a load draws from MLX's random state, as sampling does
    with_surprisal = watched(stream(backend, temperature=2.0))
    read = watched(WithoutSurprisal(stream(backend, temperature=2.0)))
    text_only = watched(WithoutSurprisal(stream(backend, temperature=2.0)), text_only_watch())
    assert read.finish_reason == "collapse" and read.collapse.signal == "word_salad"
    assert read.collapse.signals["onset_from"] == "model surprisal"
    assert read.stats.generation_tokens <= with_surprisal.stats.generation_tokens + 48
    assert read.stats.generation_tokens < text_only.stats.generation_tokens
    assert text_only.visible.startswith(read.visible)  # the same tokens (same seed), stopped earlier
    coherent = watched(WithoutSurprisal(stream(backend, temperature=0.6, seed=1)))
    assert coherent.finish_reason in ("stop", "length") and coherent.collapse is None and coherent.watched


def test_reading_a_growing_text_scores_each_token_as_one_whole_read(backend):
    """Reading a stream 16 tokens at a time with the KV cache kept gives the nats of one read of the whole text
    (within float32 noise); when the growing text splits a token read before differently, the text is read again."""
    from pipeline.checks.tokens import _encoding

    ids = _encoding(PROMPT * 4).ids
    whole = backend.surprisal(ids)
    reading = backend.reading()
    for end in range(16, len(ids) + 16, 16):
        reading.extend(ids[:end])
    assert len(reading.nats) == len(ids)
    assert max(abs(a - b) for a, b in zip(whole, reading.nats, strict=True)) < 1e-3
    changed = ids[:20] + [ids[20] + 1] + ids[21:]
    reading.extend(changed)
    assert reading.ids == changed and len(reading.nats) == len(changed)
    assert abs(reading.nats[21] - backend.surprisal(changed)[21]) < 1e-3


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
