"""Structured stages under constrained decoding: a real MLX model with random weights (noise when left
alone) behind the embedded model's byte-level tokenizer answers the news pick's schema every time,
one call or batched, and a whole newsletter build records the constrained pick in run.json."""

from __future__ import annotations

import json

import pytest

from pipeline.backends.base import Request
from pipeline.backends.constrain import ConstraintError, SchemaProcessor
from pipeline.config import MemorySettings, SamplingSettings
from pipeline.kinds.news import REASON_CHARS, pick_schema
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import copy_examples
from .tiny_models import build_random_llama

pytestmark = pytest.mark.mlx

MESSAGES = ({"role": "system", "content": "Answer with JSON."}, {"role": "user", "content": "Pick items 1 to 6."})


@pytest.fixture(scope="session")
def noise_model(tmp_path_factory):
    from pipeline.builtin_model import builtin_model_dir

    return build_random_llama(tmp_path_factory.mktemp("noise"), builtin_model_dir())


@pytest.fixture(scope="session")
def backend(noise_model):
    from pipeline.backends.mlx import MLXBackend

    return MLXBackend.load(str(noise_model), MemorySettings())


def settings(**overrides) -> SamplingSettings:
    return SamplingSettings(**{"max_tokens": 400, "temperature": 1.0, "top_p": 1.0, **overrides})


def valid_picks(text: str, count: int, max_items: int) -> bool:
    try:
        picks = json.loads(text)["picks"]
    except (ValueError, KeyError, TypeError):
        return False
    return (1 <= len(picks) <= max_items
            and all(set(p) == {"id", "reason"} and 1 <= p["id"] <= count and 0 < len(p["reason"]) <= REASON_CHARS
                    for p in picks))


def answer(backend, request: Request) -> tuple[str, object]:
    deltas = list(backend.stream(request))
    return "".join(d.text for d in deltas), deltas[-1]


def test_noise_model_answers_the_schema_every_time(backend):
    prompt = backend.render(MESSAGES, False)
    for seed in range(4):
        text, final = answer(backend, Request(prompt, settings(), seed, schema=pick_schema(6, 3)))
        assert valid_picks(text, 6, 3), text
        assert final.finish_reason == "stop"  # the grammar closed the object, then allowed only end-of-turn
        assert final.stats.constraint_s > 0


def test_without_the_schema_the_same_model_writes_noise(backend):
    text, _ = answer(backend, Request(backend.render(MESSAGES, False), settings(max_tokens=60), 0))
    assert not valid_picks(text, 6, 3)  # what the constraint is for: this test's control


def test_batched_sequences_each_keep_their_own_schema(backend):
    prompt = backend.render(MESSAGES, False)
    requests = [Request(prompt, settings(), 0, schema=pick_schema(6, 3)),
                Request(prompt, settings(max_tokens=30), 0),
                Request(prompt, settings(), 0, schema=pick_schema(2, 1))]
    texts = ["", "", ""]
    for index, delta in backend.stream_batch(requests):
        texts[index] += delta.text
    assert valid_picks(texts[0], 6, 3) and valid_picks(texts[2], 2, 1)
    assert not valid_picks(texts[1], 6, 3)


def test_a_schema_the_grammar_cannot_hold_is_refused_before_generating(backend):
    tokenizer = backend._tokenizer
    with pytest.raises(ConstraintError, match="cannot be enforced"):
        SchemaProcessor(tokenizer._tokenizer, tuple(tokenizer.eos_token_ids),
                        {"type": "object", "properties": {"id": {"type": "integer", "minimum": 5, "maximum": 1}},
                         "required": ["id"]})


def test_newsletter_pick_is_constrained_and_recorded(project, noise_model, monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    brief = copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    text = brief.read_text().replace("    max_tokens: 200\n    temperature: 0.2\n",
                                     "    max_tokens: 400\n    temperature: 1.0\n    collapse_watch: false\n", 1)
    brief.write_text(text.replace("    max_tokens: 260\n", "    max_tokens: 20\n"))  # the prose is noise: keep it short
    result = run_brief(brief, RunOptions(out_root=project / "output", offline=True, model=str(noise_model)), Reporter())
    news = result.manifest["sources"]["news"][0]
    assert news["method"] == "model"
    first = news["attempts"][0]
    assert first["constrained"] is True and first["usable"] and first["finish_reason"] == "stop"
    assert len(news["attempts"]) == 1 and first["constraint_s"] > 0
    answered = json.loads(first["raw_text"])["picks"]
    assert [p["reason"] for p in news["picked"]][:1] and len(news["picked"]) <= len(answered)
    body = (result.draft_dir / "index.md").read_text()
    assert all(f"]({p['link']})" in body for p in news["picked"])  # the model's picks are in the draft


def test_a_tokenizer_llguidance_cannot_read_falls_back_to_repair(tmp_path):
    from pipeline.backends.mlx import MLXBackend

    from .tiny_models import ANSWER_CHAIN, build_scripted_qwen3

    word_level = MLXBackend.load(str(build_scripted_qwen3(tmp_path / "words", ANSWER_CHAIN)), MemorySettings())
    assert word_level.capabilities.constrained is False  # structured stages then use prompt + validation + repair
