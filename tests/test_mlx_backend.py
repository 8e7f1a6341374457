"""The real MLX backend on tiny models built in the test: chat template, thinking flag, caps,
shared-prefix cache, memory limit, model resolution errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.backends.base import Request
from pipeline.config import MemorySettings, SamplingSettings
from pipeline.errors import MemoryLimitError, ModelError
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .tiny_models import ANSWER, ANSWER_CHAIN, LOOP_CHAIN, THINKING_CHAIN, build_random_qwen3_moe, build_scripted_qwen3

pytestmark = pytest.mark.mlx

MESSAGES = ({"role": "system", "content": "You write short sections. " * 12}, {"role": "user", "content": "Write."})


@pytest.fixture(scope="session")
def thinking_model(tmp_path_factory):
    return build_scripted_qwen3(tmp_path_factory.mktemp("thinking"), {**THINKING_CHAIN, **ANSWER_CHAIN})


@pytest.fixture(scope="session")
def looping_model(tmp_path_factory):
    return build_scripted_qwen3(tmp_path_factory.mktemp("loop"), LOOP_CHAIN)


@pytest.fixture(scope="session")
def moe_model(tmp_path_factory):
    return build_random_qwen3_moe(tmp_path_factory.mktemp("moe"))


@pytest.fixture(scope="session")
def mlx_backend():
    from pipeline.backends.mlx import MLXBackend

    return lambda path, **memory: MLXBackend.load(str(path), MemorySettings(**memory))


def generate(backend, thinking=False, max_tokens=40, seed=0, temperature=0.0):
    settings = SamplingSettings(enable_thinking=thinking, max_tokens=max_tokens, temperature=temperature)
    deltas = list(backend.stream(Request(backend.render(MESSAGES, thinking), settings, seed)))
    return "".join(d.text for d in deltas), deltas[-1]


def test_thinking_flag_reaches_the_chat_template(thinking_model, mlx_backend):
    backend = mlx_backend(thinking_model)
    assert backend.render(MESSAGES, False).endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert backend.render(MESSAGES, True).endswith("<|im_start|>assistant\n")
    assert backend.capabilities.think_markers == ("<think>", "</think>")


def test_model_thinks_only_when_asked(thinking_model, mlx_backend):
    backend = mlx_backend(thinking_model)
    off, final_off = generate(backend, thinking=False)
    on, final_on = generate(backend, thinking=True)
    assert "<think>" not in off and off.strip() == ANSWER
    assert on.startswith("<think> planning quietly </think>") and final_on.finish_reason == "stop"
    assert final_off.stats.generation_tokens == len(ANSWER_CHAIN) and final_off.stats.prompt_tokens > 0


def test_cap_is_hard_and_reported(looping_model, mlx_backend):
    text, final = generate(mlx_backend(looping_model), max_tokens=17, temperature=0.7)
    assert final.finish_reason == "length" and final.stats.generation_tokens == 17
    assert text.split().count("loop") == 17


def test_shared_prefix_cache_gives_the_same_tokens(moe_model, mlx_backend):
    """Random weights make every token depend on the whole context, so a wrong cache shows."""
    plain = mlx_backend(moe_model)
    cached = mlx_backend(moe_model)
    prompts = [cached.render((MESSAGES[0], {"role": "user", "content": u}), False) for u in ("Write.", "Write more.")]
    shared = cached.share_prefix(prompts)
    assert shared >= 32
    expected, _ = generate(plain)
    got, final = generate(cached)
    assert got == expected
    assert final.stats.prefix_tokens_reused == shared
    assert final.stats.prompt_tokens < 10  # only the user turn was prefilled


def test_weights_larger_than_the_memory_limit_stop_before_loading(moe_model, mlx_backend):
    with pytest.raises(MemoryLimitError, match=r"needs [\d.]+ KiB of weights but memory_limit is 1\.0 KiB"):
        mlx_backend(moe_model, memory_limit_gb=1e-6)


def test_memory_guard_names_the_limit():
    import mlx.core as mx

    from pipeline.memory import MemoryBudget, guard

    keep = mx.ones((256, 256))
    mx.eval(keep)
    with pytest.raises(MemoryLimitError, match="exceeded memory_limit"):
        guard(mx, MemoryBudget(total_bytes=1 << 30, memory_limit=1024, cache_limit=0, wired_limit=0,
                               clear_cache_after_tokens=500))


def test_missing_model_folder_is_a_clear_error(tmp_path, mlx_backend):
    with pytest.raises(ModelError, match="nowhere does not exist"):
        mlx_backend(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="empty has no config.json"):
        mlx_backend(tmp_path / "empty")


def test_hub_id_offline_says_network_is_needed(monkeypatch, mlx_backend):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="network access on first use"):
        mlx_backend("pipeline-tests/no-such-model")


BRIEF = """\
title: Thinking per stage
date: 2026-11-23
model: {model}
stages:
  draft: {{max_tokens: 40, enable_thinking: false, temperature: 0.0}}
  considered: {{max_tokens: 40, enable_thinking: true, temperature: 0.0}}
sections:
  - {{heading: Plain, instruction: Write plainly., words: 20}}
  - {{heading: Considered, instruction: Think first., words: 20, stage: considered}}
"""


def test_whole_run_on_a_real_model_keeps_thinking_out_of_the_draft(thinking_model, write_brief, project):
    brief = write_brief(BRIEF.format(model=thinking_model))
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter())
    manifest = json.loads((result.draft_dir / "run.json").read_text())
    plain, considered = manifest["sections"]
    assert plain["rendered_prompt"].endswith("<think>\n\n</think>\n\n") and not plain["enable_thinking"]
    assert considered["rendered_prompt"].endswith("assistant\n") and considered["enable_thinking"]
    assert "planning quietly" in considered["attempts"][0]["raw_text"]
    for name in ("index.md", "index.html"):
        text = (result.draft_dir / name).read_text()
        assert "planning" not in text and "think>" not in text
        opening = {"index.md": "\n\nMemory matters most", "index.html": "<p>Memory matters most"}[name]
        assert text.count(opening) == 2  # once per section (the repetition finding quotes it too)
    assert manifest["totals"]["shared_prefix_tokens"] > 0


def test_unpermute_inverts_llama_cpp_permutation():
    from pipeline.builtin_model import unpermute_rows

    def llama_cpp_permute(w, heads):  # convert_hf_to_gguf.py's LlamaModel.permute
        return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)

    w = np.arange(12 * 5).reshape(12, 5)
    assert (unpermute_rows(llama_cpp_permute(w, 3), 3) == w).all()
    assert not (llama_cpp_permute(w, 3) == w).all()


def test_no_prompts_share_nothing(moe_model, mlx_backend):
    """A newsletter made only of news, data and static sections has no prose prompt to prefill."""
    assert mlx_backend(moe_model).share_prefix([]) == 0
