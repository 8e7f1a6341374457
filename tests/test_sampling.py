"""The MLX backend's sampler keeps exactly the tokens mlx-lm's top-p → min-p → top-k chain keeps,
with the same log-probabilities, and samples them in proportion."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import SamplingSettings

pytestmark = pytest.mark.mlx

SETTINGS = [dict(top_p=0.9, min_p=0.05, top_k=40), dict(top_p=0.5, min_p=0.0, top_k=40),
            dict(top_p=1.0, min_p=0.2, top_k=10), dict(top_p=0.99, min_p=0.0, top_k=3),
            dict(top_p=0.9, min_p=0.05, top_k=200)]


def mlx_lm_chain(logprobs, top_p, min_p, top_k):
    from mlx_lm.sample_utils import apply_min_p, apply_top_k, apply_top_p

    if 0 < top_p < 1.0:
        logprobs = apply_top_p(logprobs, top_p)
    if min_p:
        logprobs = apply_min_p(logprobs, min_p)
    return apply_top_k(logprobs, top_k)


def distributions(sharpness: float, rows: int = 3, vocab: int = 5000, seed: int = 0):
    import mlx.core as mx

    logits = mx.array(np.random.default_rng(seed).standard_normal((rows, vocab)).astype(np.float32) * sharpness)
    return logits - mx.logsumexp(logits, axis=-1, keepdims=True)


@pytest.mark.parametrize("options", SETTINGS)
@pytest.mark.parametrize("sharpness", [0.5, 2.0, 6.0])  # flat (top-k decides), middling, peaked (min-p/top-p decide)
def test_the_same_tokens_survive_with_the_same_log_probabilities(options, sharpness):
    from pipeline.backends.sampling import TopKFirst, make_sampler

    logprobs = distributions(sharpness)
    sampler = make_sampler(SamplingSettings(temperature=0.7, **options), vocab_size=5000)
    assert isinstance(sampler, TopKFirst)
    ids, values = (np.array(a) for a in sampler.candidates(logprobs))
    reference = np.array(mlx_lm_chain(logprobs, **options))
    for row in range(logprobs.shape[0]):
        expected = {int(i): float(reference[row, i]) for i in np.flatnonzero(np.isfinite(reference[row]))}
        kept = {int(i): float(v) for i, v in zip(ids[row], values[row], strict=True) if np.isfinite(v)}
        assert kept.keys() == expected.keys()
        assert all(kept[i] == pytest.approx(expected[i], abs=1e-6) for i in kept)


def test_samples_follow_the_kept_distribution():
    import mlx.core as mx

    from pipeline.backends.sampling import make_sampler

    mx.random.seed(3)
    logprobs = distributions(2.0, rows=1, vocab=2000, seed=1)
    settings = SamplingSettings(temperature=0.8, top_p=0.9, min_p=0.0, top_k=8)
    sampler = make_sampler(settings, vocab_size=2000)
    ids, values = (np.array(a)[0] for a in sampler.candidates(logprobs))
    weights = np.where(np.isfinite(values), np.exp(values / settings.temperature), 0.0)
    expected = dict(zip(ids.tolist(), weights / weights.sum(), strict=True))
    draws = np.array(sampler(mx.repeat(logprobs, 4000, axis=0)))
    assert set(draws.tolist()) <= {i for i, p in expected.items() if p > 0}
    for token, share in expected.items():
        assert abs((draws == token).mean() - share) < 0.03


def test_greedy_and_no_top_k_use_mlx_lm_s_own_sampler():
    from pipeline.backends.sampling import TopKFirst, make_sampler

    assert not isinstance(make_sampler(SamplingSettings(temperature=0.0), 5000), TopKFirst)
    assert not isinstance(make_sampler(SamplingSettings(temperature=0.7, top_k=0), 5000), TopKFirst)
    assert not isinstance(make_sampler(SamplingSettings(temperature=0.7, top_k=40), 30), TopKFirst)
