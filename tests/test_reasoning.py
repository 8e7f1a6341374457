"""Reasoning written into a section with no think markers: flagged sentence by sentence when it talks about the
writing task (the user, the brief, the section, its length), never for a post's own "the user" or "I need to"."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline.checks.findings import ATTENTION
from pipeline.checks.reasoning import reasoning_sentences
from pipeline.checks.section import check_section

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"
SECTION = ("My Mac has 64 GB of memory. The weights take 35 GB, macOS and my apps about 10 GB, and the rest holds "
           "the cache.")


@pytest.mark.parametrize("reasoning", [
    "Okay, the user wants me to write a section about memory on a 64 GB Mac.",
    "Hmm, the user is asking for something practical, so I should keep the tone plain.",
    "Alright, let's tackle this. I need to keep it under 110 words and mention the 48 GB limit.",
    "First, I need to make sure the numbers match the brief.",
    "The brief says to mention the 3 GB cache cap, so I'll put it in the second paragraph.",
    "Wait, did I cover the 48 GB limit? Yes.",
    "Let me count: that's about 105 words, close enough.",
    "Let me think about how to open this.",
    "Okay, I'm supposed to write the section on backups.",
    "Double-checking the facts: 128 GB Mac Studio, yes. Five-minute timeout, yes.",
    "Need to keep this under 200 words.",
    "Keep it under 180 words per the request.",
    "Final answer above.",
    "Word count is around 80, under the 150 target, so I should expand the speed part.",
    "Does this sound too much like an ad for Apple?",
    "The notes don't give a version, so I'll skip it.",
])
def test_reasoning_about_the_task_is_flagged_wherever_it_sits(reasoning):
    for text in (f"{reasoning} {SECTION}", f"{SECTION}\n\n{reasoning}", f"{SECTION}\n\n{reasoning}\n\n{SECTION}"):
        found = [f for f in check_section(text, 30) if f.code == "reasoning"]
        assert len(found) == 1 and found[0].severity == ATTENTION, text
        assert reasoning_sentences(text)[0].startswith(reasoning.split(".")[0][:30])


@pytest.mark.parametrize("content", [
    "The user wants to log in with a passkey, and the form asks for a password first.",  # a UX post
    "The user asked me to reset their password, so I checked the audit log first.",  # a support story
    "I need to write a cron job that runs the build at night. First, I need to install Python 3.12.",
    "I will write a separate post about the migration, but the numbers are what convinced the team.",
    'The instructions say "do not use bullet points", and the model uses bullet points anyway.',
    'Output like "Okay, let me write a section about..." used to slip through into the post.',  # quoted, not said
    "Wait for the job to finish before you open the draft. Hmm, that took longer than I hoped.",
    "This section describes how the wired limit works.",  # documentation opens sections so
    "Let me explain why the cache matters more than the weights.",
    "Clone it as a git submodule as per the instructions below.",  # jq's README
    "If the request includes an Authorization header, the request will not be required to include a CSRF token.",
    "The startup message names the database the user wants to connect to.",  # PostgreSQL's protocol docs
    "When I sit down to write, the outline is already arguing with me, which is exactly what I want.",
    "My section prompt has four parts: the heading, a word target, three facts the section must include, and a tone.",
    "Does this sound familiar? The job ran, the log said success, and nothing was backed up.",
    "Okay, so here's the thing: the cache grows with the context, not with the model.",
    "Reasoning models write a plan first; the runner strips it between `<think>` and `</think>`, e.g. "
    "`Okay, the user wants me to write a section about memory.`",  # shown as code
])
def test_a_posts_own_words_about_users_plans_and_instructions_are_content(content):
    assert reasoning_sentences(f"{SECTION} {content}") == []
    assert not [f for f in check_section(f"{SECTION}\n\n{content}", 30) if f.code == "reasoning"]


@pytest.mark.parametrize("name", ["coherent_real.jsonl.gz", "coherent_pydocs.jsonl.gz", "llm_blog.jsonl.gz"])
def test_text_people_and_an_llm_blog_wrote_has_no_reasoning_in_it(name):
    """Real READMEs, changelogs and manuals, Python's documentation and 200 technical blog sections: nothing is
    reasoning about a writing task (every coherent set measured 0 of 17,092 sections; these three run here)."""
    with gzip.open(CORPUS / name, "rt", encoding="utf-8") as lines:
        flagged = [item["id"] for item in map(json.loads, lines) if reasoning_sentences(item["text"])]
    assert flagged == []


def test_a_checklist_of_the_draft_against_its_brief_is_reasoning_a_feature_list_is_not():
    checklist = "- mentions launchd: yes\n- under 200 words: 183, yes\n- heading matches outline: yes"
    assert len(reasoning_sentences(f"{SECTION}\n\n{checklist}")) == 3
    features = "- GPU offload: yes\n- Streaming: yes\n- Windows: no"
    assert reasoning_sentences(f"{SECTION}\n\n{features}") == []


def test_a_paragraph_that_deliberates_about_the_task_is_reasoning_however_it_is_worded():
    """No sentence pattern knows "Two ways to frame it"; the paragraph names the task (readers, the opening), speaks
    to itself (a plan, a question) and weighs options (Maybe, Then): four kinds of cue together. A how-to paragraph
    of people's text carries three at most."""
    deliberation = ("Two ways to frame the comparison: which is faster, or which is easier to live with. Do I give "
                    "both? Maybe. Readers like numbers, so lead with the experience and put the number in the opening "
                    "sentence with its caveat.")
    found = reasoning_sentences(f"{SECTION}\n\n{deliberation}")
    assert len(found) == 1 and found[0].startswith("Two ways to frame")
    how_to = ("Let's say we also want to instrument the size of requests and responses. For\nthis we use the `add()` "
              "method. This method does nothing more than taking a\nfunction and adding it to a list. Then during "
              "run-time every time FastAPI\nhandles a request all functions in this list will be called.")
    assert reasoning_sentences(f"{SECTION}\n\n{how_to}") == []  # prometheus-fastapi-instrumentator's README: 3 cues


@pytest.mark.parametrize("name, leaks, look_alikes", [("blind-1", 43, 0), ("blind-2", 30, 1), ("blind-3", 19, 1),
                                                         ("blind-4", 19, 0)])
def test_the_helpers_sets_are_judged_as_measured(name, leaks, look_alikes):
    """bench/corpus/reasoning/blind-*.json: leaks and look-alikes written by helpers that never saw this check (judged
    once: blind-1 34/45 leaks and 2/45 look-alikes, blind-2 8/50 and 1/50, blind-3 14/50 and 1/50, blind-4 19/50 and
    0/50; the sentence rules were then fixed from the first two and the paragraph rule calibrated on them, so this is a
    regression test, not a measure)."""
    cases = json.loads((CORPUS / "reasoning" / f"{name}.json").read_text())
    flagged = {case["id"]: bool(reasoning_sentences(case["text"])) for case in cases}
    assert sum(flagged[c["id"]] for c in cases if c["label"] == "content") <= look_alikes
    assert sum(flagged[c["id"]] for c in cases if c["label"] == "leak") >= leaks
