"""Pure text checks: sentence trimming, mid-sentence endings, leaked markers, section findings."""

from __future__ import annotations

import pytest

from pipeline.checks.findings import ATTENTION, INFO
from pipeline.checks.section import check_section, think_leaks
from pipeline.checks.text import ends_mid_sentence, trim_to_sentence, word_count


@pytest.mark.parametrize("text, trimmed", [
    ("One sentence. Two is cut", "One sentence."),
    ("Complete. Also complete!", "Complete. Also complete!"),
    ("Is it? Yes. And then", "Is it? Yes."),
    ('He said "stop." Then he', 'He said "stop."'),
    ("It fits (mostly.) But the", "It fits (mostly.)"),
    ("**Bold ends.** and then", "**Bold ends.**"),
    ("Wait… what", "Wait…"),
    ("Really?! Then", "Really?!"),
    ("The model uses 3.5 GB of", ""),  # a decimal point ends nothing
    ("no sentence end at all", ""),
    ("", ""),
    ("Steps:\n1. Load the model.\n2. Generate the", "Steps:\n1. Load the model."),
    ("Steps:\n1. Load\n2) Generate", ""),  # list numbers are not sentence ends
])
def test_trim_to_sentence(text, trimmed):
    assert trim_to_sentence(text) == trimmed


@pytest.mark.parametrize("text, mid", [
    ("A full sentence.", False),
    ("A full sentence.   \n\n", False),
    ("A sentence that stops", True),
    ("Here is the plan:", True),
    ("It costs 3.5", True),
    ('Quoted end."', False),
    ("", False),
    ("   ", False),
    ("Intro.\n\n- first item\n- second item without a stop", False),
    ("Intro.\n\n* starred item", False),
    ("Intro.\n\n1. numbered item", False),
    ("Intro.\n\n12) numbered item", False),
    ("Intro.\n\n| a | b |\n|---|---|\n| 1 | 2 |", False),
    ("Intro.\n\n```\ncode\n```", False),
    ("Intro.\n\n### A heading", False),
    ("- a list item.\n\nThen a paragraph that stops", True),
    ("Intro.\n\n**Note:** the limit is", True),  # bold lead-in, not a list item
    ("Intro.\n\n*Emphasis* that stops", True),
    ("Intro.\n\n+ plus item", False),
    ("Intro.\n\n~~~\ncode\n~~~", False),
])
def test_ends_mid_sentence(text, mid):
    assert ends_mid_sentence(text) is mid


def test_think_leaks_lists_each_marker_once():
    text = "a </think> b <|im_end|> c <think> d <|endoftext|> e </think> <|eot_id|> <|assistant|> <|im_start|>"
    assert think_leaks(text) == ["</think>", "<think>", "<|assistant|>", "<|endoftext|>", "<|eot_id|>",
                                 "<|im_end|>", "<|im_start|>"]


def test_think_leaks_on_clean_text():
    assert think_leaks("We think about <b>tags</b> and 3 < 4 > 2.") == []


def test_word_count():
    assert word_count("It's a 64-GB Mac, isn't it? — yes.") == 7


def codes(findings):
    return [(f.code, f.severity) for f in findings]


def test_check_section_empty_is_the_only_finding():
    assert codes(check_section("", 100)) == [("empty", ATTENTION)]
    assert codes(check_section(" \n\t", 100)) == [("empty", ATTENTION)]


def test_check_section_clean_text_has_no_findings():
    text = " ".join(["Every sentence here is short and complete."] * 6)
    assert word_count(text) == 42 and check_section(text, 40) == []


def test_check_section_flags_leaks_and_mid_sentence():
    findings = check_section("Some words here. <|im_end|> and then it stops", 10)
    assert codes(findings) == [("think_leak", ATTENTION), ("mid_sentence", ATTENTION)]
    assert "<|im_end|>" in findings[0].message


@pytest.mark.parametrize("words, target, code, severity", [
    (15, 40, "short", ATTENTION), (16, 40, None, None), (80, 40, None, None), (81, 40, "long", INFO)])
def test_check_section_length_bounds(words, target, code, severity):
    text = " ".join(["word"] * (words - 1)) + " end."
    assert codes(check_section(text, target)) == ([(code, severity)] if code else [])
    if code == "short":  # the reviewer is told what to do, not only the count
        assert "expand or cut" in check_section(text, target)[0].message
    if code:
        assert check_section(text, target)[0].message.startswith(f"{words} words, target {target}")
