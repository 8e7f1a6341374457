"""split_thinking and prompt_opens_think: no reasoning text may be kept as visible text."""

from __future__ import annotations

import pytest

from pipeline.thinking import SplitText, prompt_opens_think, split_thinking

QWEN = ("<think>", "</think>")


def split(raw: str, starts_inside: bool = False, markers=QWEN) -> SplitText:
    return split_thinking(raw, markers, starts_inside)


def test_plain_text_is_all_visible():
    assert split("  Just prose.  ") == SplitText("Just prose.", "", False, False, 0)


def test_closed_block_is_reasoning():
    assert split("<think>\nplan the words\n</think>\n\nThe answer.") == SplitText(
        "The answer.", "plan the words", False, False, 2)


def test_empty_block_counts_its_markers():
    assert split("<think>\n\n</think>\n\nThe answer.") == SplitText("The answer.", "", False, False, 2)


def test_unclosed_block_makes_the_rest_reasoning():
    assert split("Visible start. <think>a thought the cap cut") == SplitText(
        "Visible start.", "a thought the cap cut", True, False, 1)


def test_stray_close_makes_everything_before_it_reasoning():
    assert split("planning without an opener</think>The answer.") == SplitText(
        "The answer.", "planning without an opener", False, True, 1)


def test_stray_close_after_a_closed_block_moves_the_earlier_visible_text_too():
    result = split("<think>a</think>middle</think>end")
    assert result.visible == "end" and result.stray_close
    assert "middle" in result.reasoning and "a" in result.reasoning


def test_multiple_blocks_are_all_removed():
    result = split("One. <think>x</think>Two. <think>y</think>Three.")
    assert result == SplitText("One. Two. Three.", "xy", False, False, 4)


def test_nested_open_marker_does_not_leak():
    result = split("<think>outer <think>inner</think> still thinking</think>Answer.")
    assert result.visible == "Answer."
    assert "<think>" not in result.visible and "still thinking" not in result.visible


def test_starts_inside_when_the_prompt_opened_the_block():
    assert split("reasoning first</think>\nThe answer.", starts_inside=True) == SplitText(
        "The answer.", "reasoning first", False, False, 1)


def test_starts_inside_and_never_closes_keeps_nothing():
    assert split("it thinks until the cap", starts_inside=True) == SplitText(
        "", "it thinks until the cap", True, False, 0)


def test_empty_output():
    assert split("") == SplitText("", "", False, False, 0)
    assert split("", starts_inside=True).visible == ""


def test_custom_markers():
    markers = ("[[reason]]", "[[/reason]]")
    assert split("[[reason]]hidden[[/reason]]Shown. <think>not a marker here</think>", markers=markers) == SplitText(
        "Shown. <think>not a marker here</think>", "hidden", False, False, 2)


@pytest.mark.parametrize("prompt, opens", [
    ("<|im_start|>assistant\n<think>\n", True),
    ("<|im_start|>assistant\n<think>\n\n</think>\n\n", False),
    ("<|im_start|>assistant\n", False),
    ("user asked about <think> tags</think> earlier<|im_start|>assistant\n<think>", True),
    ("<think>  \n\t", True),
])
def test_prompt_opens_think(prompt, opens):
    assert prompt_opens_think(prompt, QWEN) is opens


def test_prompt_opens_think_with_custom_markers():
    assert prompt_opens_think("assistant: <r>", ("<r>", "</r>"))
    assert not prompt_opens_think("assistant: <think>", ("<r>", "</r>"))


# A post about reasoning models shows the markers as code: before, `<think>` in a code span opened a "reasoning block"
# that swallowed the rest of the section, and a fenced transcript lost its lines.
@pytest.mark.parametrize("raw", [
    "Qwen3 wraps its reasoning in `<think>` and `</think>` tags, which the runner removes.",
    "Use `<think>` to open it. The rest of this section explains why.",
    "The stop token is ``<|im_end|>``; `</think>` closes the block.",
    "A raw answer:\n\n```\n<think>\nplan the section\n</think>\nThe answer.\n```\n\nThe runner keeps only the answer.",
    "~~~text\n</think>\n~~~\n\nA stray close like that one is harmless.",
])
def test_markers_written_as_code_stay_visible_text(raw):
    result = split(raw)
    assert result.visible == raw and result.reasoning == "" and result.markers == 0 and not result.unclosed


def test_real_blocks_around_code_that_shows_markers_are_still_removed():
    result = split("<think>plan: mention `x`</think>Wrap it in `<think>` tags.<think>more</think> Done.")
    assert result.visible == "Wrap it in `<think>` tags. Done." and result.reasoning == "plan: mention `x`more"
    assert result.markers == 4
