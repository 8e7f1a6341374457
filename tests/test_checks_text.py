"""The shared text primitives of pipeline.checks: one definition of a sentence end, a list marker,
a leaked marker and safe HTML, used by every check."""

from __future__ import annotations

import re

import pytest

from pipeline.checks.section import check_section, leak_pattern, think_leaks
from pipeline.checks.text import (
    CLAUSE_PUNCTUATION,
    CLOSERS,
    SENTENCE_END,
    SENTENCE_PUNCTUATION,
    ends_clause,
    ends_mid_sentence,
    is_list_number,
    list_number_starts,
    markdown_html,
)

REASONING = ("<reasoning>", "</reasoning>")


def test_think_leaks_finds_the_backends_own_markers():
    text = "Done. <reasoning> more </reasoning> and a cut-off </reasoning"
    assert think_leaks(text, REASONING) == ["</reasoning", "</reasoning>", "<reasoning>"]


def test_think_leaks_with_other_markers_still_finds_chat_tokens():
    assert think_leaks("Done.<|im_end|><|eot_id|>", REASONING) == ["<|eot_id|>", "<|im_end|>"]


def test_think_leaks_default_still_catches_think_and_its_bare_prefix():
    assert think_leaks("a <think> b </think> c <think d </think") == ["</think", "</think>", "<think", "<think>"]
    assert think_leaks("a <think> b") == think_leaks("a <think> b", ("<think>", "</think>"))


def test_think_leaks_takes_non_tag_markers_literally():
    assert think_leaks("x [THINK] y [/THINK] z", ("[THINK]", "[/THINK]")) == ["[/THINK]", "[THINK]"]
    assert leak_pattern(("[THINK]", "[/THINK]")).search("THINK") is None


def test_check_section_judges_leaks_by_the_markers_it_is_given():
    text = "A complete sentence about memory. <reasoning> leaked."
    assert [f.code for f in check_section(text, 10, REASONING)] == ["think_leak"]
    assert check_section(text, 10) == []  # with the default markers, <reasoning> is ordinary text


@pytest.mark.parametrize("char", SENTENCE_PUNCTUATION)
def test_every_sentence_punctuation_ends_a_sentence_and_a_clause(char):
    assert SENTENCE_END.search(f"end{char} Next") and ends_clause(f"end{char}")


@pytest.mark.parametrize("closer", CLOSERS)
def test_closers_after_the_punctuation_still_end_it(closer):
    assert SENTENCE_END.search(f"end.{closer} Next").end() == 5 and ends_clause(f"end.{closer}")


def test_colon_and_semicolon_end_a_clause_not_a_sentence():
    assert set(CLAUSE_PUNCTUATION) - set(SENTENCE_PUNCTUATION) == {":", ";"}
    assert ends_clause("this:") and ends_clause("it;") and not SENTENCE_END.search("this: and")
    assert not ends_clause("3.5GB") and not ends_clause("word")


@pytest.mark.parametrize("word, marker", [("1.", True), ("12)", True), ("1.5", False), ("a.", False), ("(1)", False)])
def test_is_list_number(word, marker):
    assert is_list_number(word) is marker


def test_list_number_starts_point_at_the_digits_of_item_markers_only():
    text = "Intro 3. here.\n  2. Second item\n10) Tenth\n4.5 is a number"
    assert list_number_starts(text) == {text.index("2. S"), text.index("10)")}


def test_markdown_html_sanitizes_and_keeps_nh3_defaults():
    html = markdown_html("Hi <script>alert(1)</script> [a](https://example.com) [b](javascript:alert(1))")
    assert "<script" not in html and "javascript:" not in html
    assert '<a href="https://example.com" rel="noopener noreferrer">a</a>' in html


def test_markdown_html_tag_and_scheme_lists_restrict_the_output():
    html = markdown_html("# Title\n\n**bold** [m](mailto:a@b.c) [f](ftp://x.y)", tags={"p", "a"},
                         url_schemes={"mailto"})
    assert "<h1>" not in html and "<strong>" not in html and "mailto:a@b.c" in html and "ftp:" not in html


def test_markdown_html_renders_tables_and_sane_lists():
    html = markdown_html("| a | b |\n|---|---|\n| 1 | 2 |\n\n1. one\n2. two\n\n* star")
    assert "<table>" in html and "<ol>" in html and "<ul>" in html


def test_sentence_end_is_built_from_the_shared_characters():
    assert SENTENCE_END.pattern.startswith("[" + re.escape(SENTENCE_PUNCTUATION) + "]")


# The embedded model's real section in a fresh-clone `make run` (2026-12-07), a form with its blanks left in.
FORM = ("On November 9th, [My Date] took on a challenge. She had been using [Her Name] as her laptop, which was designed "
        "to optimize performance while running multiple tasks simultaneously. [MLAYER_NAME].")


def test_blanks_left_to_fill_in_need_attention():
    (finding,) = [f for f in check_section(FORM, 0) if f.code == "placeholder"]
    assert finding.severity == "attention" and "[My Date], [Her Name]" in finding.message


@pytest.mark.parametrize("text", [
    "Thanks to [Your Name](https://example.com/you) for the patch.",  # a link
    "See [Your Name][1] below.\n\n[1]: https://example.com",  # a reference link
    "Set `[Your Name]` in the config.",  # code
    "* file.c [HAVE_W32_SYSTEM]: Use it.",  # a changelog's macro
    "Usage: git http-fetch [options] <commit> [URL]",  # a usage line
])
def test_brackets_that_are_links_code_or_names_are_no_blanks(text):
    assert not [f for f in check_section(text, 0) if f.code == "placeholder"]


# -- where a section may end (found by a blind set of 92 endings: 8 proper endings flagged, 3 cut list items passed) --
@pytest.mark.parametrize("ending", [
    "Memory bandwidth bounds token generation.[^1]", "Is the trade worth it?[^2]",
    "See you next week. 👋", "Here's to the next fifty! 🎉", "Thanks for reading. 👍🏽", "Thanks. ❤️",
    "That settled it.\n\n<!-- TODO: add the chart -->", "That settled it.\n\n![Memory during the run](img/mem.png)",
    "Every Mac I tried did.\n\nhttps://example.com/posts/bandwidth", "Start small.\n\n<https://ollama.com/library>",
    "Read the docs.\n\n[More on startup scripts](https://pm2.keymetrics.io/docs/usage/startup/)",
    "Three picks:\n\n- Q4_K_M for the 70B model\n- where the option value came from",
    "Run it:\n\n```bash\nollama ps\n```", "Done.\n\n| a | b |\n|---|---|\n| 1 | 2 |",
])
def test_a_finished_section_with_a_footnote_emoji_comment_image_link_or_list_does_not_end_mid_sentence(ending):
    assert not ends_mid_sentence("The cap was 512 tokens. " + ending)


@pytest.mark.parametrize("ending", [
    "- Set the cap to 512 so the", "3. Restart the server and then check whether the", "- **Context size:** set it to",
    "- Memory: 64 GB, swap,", "- Then run this command:", "The limit went up and the cache then",
    "Here is the command:", "I set the cap to 512 because 👋",
])
def test_a_section_cut_off_in_a_list_item_or_a_sentence_ends_mid_sentence(ending):
    assert ends_mid_sentence("The cap was 512 tokens.\n\n- Pull the model first\n" + ending)


@pytest.mark.parametrize("text", [
    "Qwen3 wraps its reasoning in `<think>` and `</think>` tags, which the runner removes.",
    "The stop token is ``<|im_end|>`` in ChatML templates.",
    "A raw answer looks like this:\n\n```\n<think>\nplan\n</think>\nThe answer.<|im_end|>\n```\n\nThe runner strips it.",
    "~~~yaml\nstop: [\"<|eot_id|>\", \"<|endoftext|>\"]\n~~~\n\nThat list covers every model I run.",
])
def test_markers_written_as_code_are_content_not_leaks(text):
    assert think_leaks(text) == [] and not any(f.code == "think_leak" for f in check_section(text, 20))


def test_markers_in_prose_next_to_code_are_still_leaks():
    assert think_leaks("The tag is `<think>`. </think> Then the answer.<|im_end|>") == ["</think>", "<|im_end|>"]
