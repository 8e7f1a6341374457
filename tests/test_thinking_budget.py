"""Thinking budgets: after `thinking_budget` reasoning tokens the think block is closed for the model
and the answer still has all of `max_tokens`. On a real tiny Qwen3 model (mlx-lm's model, sampler
and detokenizer) that would reason forever, on the scripted backend, and recorded in run.json."""

from __future__ import annotations

import json

import pytest

from pipeline.backends.base import Request
from pipeline.backends.script import ScriptBackend
from pipeline.config import MemorySettings, SamplingSettings
from pipeline.errors import BriefError
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief
from pipeline.thinking import split_thinking

from .conftest import MINIMAL_BRIEF, opener_for
from .tiny_models import ANSWER, ANSWER_CHAIN, THINKING_CHAIN, build_scripted_qwen3

MESSAGES = ({"role": "system", "content": "You write short sections."}, {"role": "user", "content": "Write."})
ENDLESS_THOUGHT = {"assistant": "<think>", "<think>": "planning", "planning": "quietly", "quietly": "planning"}


def stream(backend, **settings) -> tuple[str, object]:
    request = Request(backend.render(MESSAGES, True), SamplingSettings(enable_thinking=True, temperature=0.0, **settings), 0)
    deltas = list(backend.stream(request))
    return "".join(d.text for d in deltas), deltas[-1]


@pytest.fixture(scope="module")
def mlx_load():
    from pipeline.backends.mlx import MLXBackend

    return lambda path: MLXBackend.load(str(path), MemorySettings())


@pytest.mark.mlx
def test_real_model_that_would_think_forever_answers_after_its_budget(tmp_path, mlx_load):
    backend = mlx_load(build_scripted_qwen3(tmp_path / "m", {**ENDLESS_THOUGHT, **ANSWER_CHAIN}))
    raw, final = stream(backend, max_tokens=16, thinking_budget=6)
    split = split_thinking(raw, backend.capabilities.think_markers)
    assert split.visible == ANSWER and split.reasoning == "planning quietly planning quietly planning quietly"
    assert final.stats.reasoning_tokens == 6 and final.stats.thinking_budget_hit is True
    assert final.finish_reason == "stop"  # the answer ended on its own: the reasoning did not eat its cap


@pytest.mark.mlx
def test_without_a_budget_the_same_model_never_answers(tmp_path, mlx_load):
    backend = mlx_load(build_scripted_qwen3(tmp_path / "m", {**ENDLESS_THOUGHT, **ANSWER_CHAIN}))
    raw, final = stream(backend, max_tokens=40)
    assert split_thinking(raw, backend.capabilities.think_markers).visible == ""
    assert final.finish_reason == "length" and final.stats.reasoning_tokens is None


@pytest.mark.mlx
def test_a_budget_larger_than_the_thought_changes_nothing(tmp_path, mlx_load):
    backend = mlx_load(build_scripted_qwen3(tmp_path / "m", {**THINKING_CHAIN, **ANSWER_CHAIN}))
    raw, final = stream(backend, max_tokens=40, thinking_budget=50)
    assert split_thinking(raw, backend.capabilities.think_markers).visible == ANSWER
    assert final.stats.reasoning_tokens == 2 and final.stats.thinking_budget_hit is False


def test_scripted_reasoning_is_cut_at_the_budget():
    backend = ScriptBackend(["<think> one two three four five six </think> The answer stands."])
    raw, final = stream(backend, max_tokens=16, thinking_budget=3)
    assert raw == "<think> one two three </think> The answer stands."
    assert final.stats.reasoning_tokens == 3 and final.stats.thinking_budget_hit is True


def test_scripted_budget_with_a_template_that_opens_the_block():
    backend = ScriptBackend(["a b c d </think> Done here."])
    request = Request("<|im_start|>assistant\n<think>\n", SamplingSettings(enable_thinking=True, thinking_budget=2), 0)
    deltas = list(backend.stream(request))
    assert "".join(d.text for d in deltas) == "a b </think> Done here."
    assert deltas[-1].stats.thinking_budget_hit is True


BUDGET_BRIEF = MINIMAL_BRIEF.replace("  draft:\n    max_tokens: 60\n",
                                     "  draft:\n    max_tokens: 60\n    enable_thinking: true\n    thinking_budget: 4\n")


def test_run_json_records_reasoning_tokens_and_the_budget(write_brief, project):
    answer = "Memory comes first for a local model, because the weights and the cache share one pool of memory."
    fake = ScriptBackend(default=f"<think> {'weighing it ' * 10}</think> {answer}")
    result = run_brief(write_brief(BUDGET_BRIEF), RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    manifest = json.loads((result.draft_dir / "run.json").read_text())
    for section in manifest["sections"]:
        first = section["attempts"][0]
        assert first["reasoning_tokens"] == 4 and first["thinking_budget_hit"] is True
    assert "weighing" not in (result.draft_dir / "index.md").read_text()


@pytest.mark.parametrize("value", ["0", "-3", "'many'"])
def test_bad_budget_is_a_brief_error_with_its_line(write_brief, value):
    brief = write_brief(BUDGET_BRIEF.replace("thinking_budget: 4", f"thinking_budget: {value}"))
    with pytest.raises(BriefError, match=r"post\.yaml:\d+:\d+.*thinking_budget"):
        run_brief(brief, RunOptions(), Reporter(), opener_for(ScriptBackend()))


@pytest.mark.mlx
def test_a_model_without_think_tokens_says_the_budget_was_not_enforced(write_brief, project):
    # The embedded SmolLM2 has no <think> token: the budget cannot be forced, and the run says so.
    from pipeline.backends.mlx import MLXBackend
    from pipeline.builtin_model import builtin_model_dir
    from pipeline.generate import Task, generate
    from pipeline.prompts import SectionPrompt

    backend = MLXBackend.load(str(builtin_model_dir()), MemorySettings())
    settings = SamplingSettings(enable_thinking=True, thinking_budget=4, max_tokens=16, attempts=1)
    prompt = SectionPrompt(index=0, heading="H", target_words=0, stage="draft", messages=MESSAGES,
                           settings=settings, template="(test)")
    result = generate(backend, [Task(prompt, backend.render(MESSAGES, True))], Reporter())[0]
    assert "thinking_budget_not_enforced" in {f.code for f in result.attempts[0].findings}
