"""Chatter around a section: preambles, a repeated heading, echoed instructions and closing offers are cut
at the ends (and recorded); echoed instructions inside the content are reported, never cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.checks.chatter import trim_chatter
from pipeline.checks.section import check_section
from pipeline.config import load_brief
from pipeline.prompts import render_prompts

from .conftest import REPO


@pytest.fixture(scope="module")
def prompt():
    """The example post's real first-section prompt, as the model receives it."""
    first = render_prompts(load_brief(REPO / "briefs" / "post.yaml"))[0]
    return first.heading, [m["content"] for m in first.messages]


BODY = "A 35 GB model looks small on a 64 GB Mac. The operating system wants its share too."


def test_instructions_echoed_inside_the_content_are_reported_not_cut(prompt):
    heading, texts = prompt
    text = ("A 35 GB model looks small on a 64 GB Mac. Explain why a 35 GB model on a 64 GB Mac leaves less room "
            "than it seems. The operating system wants its share too.")
    trimmed = trim_chatter(text, heading, texts)
    assert trimmed.text == text and trimmed.removed == []
    assert trimmed.echoed == ["Explain why a 35 GB model on a 64 GB Mac leaves less room than it seems."]


@pytest.mark.parametrize("text", [
    # The research notes are the writer's material: reusing a line of them is content, not an echo.
    "The Mac has 64 GB of unified memory shared by the CPU, the GPU and the operating system. That is the budget.",
    # A heading-like first line that is not this section's heading stays.
    "Memory first\n\nA 35 GB model looks small on a 64 GB Mac.",
    # Content that mentions the section's subject in passing.
    "Why memory is the real constraint is easy to say and hard to feel until the machine starts to swap.",
])
def test_content_that_resembles_the_prompt_is_kept(prompt, text):
    heading, texts = prompt
    trimmed = trim_chatter(text, heading, texts)
    assert trimmed.text == text and trimmed.removed == [] and trimmed.echoed == []


def test_a_section_that_is_only_chatter_is_left_for_the_empty_and_short_checks(prompt):
    heading, texts = prompt
    only = "Sure! Here is your section:\n\nWould you like another section?"
    left = trim_chatter(only, heading, texts).text
    assert left == "Would you like another section?"  # never cut to nothing: the short check retries it
    assert [f.code for f in check_section(left, 110)] == ["short"]


def test_real_model_output_keeps_its_content_while_its_chatter_goes(prompt):
    """Real SmolLM2 output for the example post (tests/real_text): content lines are never cut."""
    import json

    heading, texts = prompt
    real = json.loads(Path(REPO / "tests/real_text/smollm2-example-post-heldout.json").read_text())["sections"]
    for text in real.values():
        trimmed = trim_chatter(text, heading, texts)
        kept = trimmed.text
        assert all(piece in text for piece in trimmed.removed)
        assert len(kept) >= len(text) - sum(len(r) for r in trimmed.removed) - 8  # only the cut pieces went


def test_the_real_preambles_of_the_calibration_outputs_are_cut_and_nothing_else():
    """31 real attempts of the embedded model (tests/real_text): each preamble it wrote is cut, whole, and the
    first line of the content after it is kept."""
    import json

    prompts = {p.heading: [m["content"] for m in p.messages] for p in render_prompts(load_brief(REPO / "briefs/post.yaml"))}
    attempts = json.loads((REPO / "tests/real_text/smollm2-chatter-calibration.json").read_text())["attempts"]
    removed = [trim_chatter(a["text"], a["heading"], prompts[a["heading"]]).removed for a in attempts]
    leads = sorted(r[0] for r in removed if r and r[0] != "What would be another section describing the nightly jobs?")
    assert leads == sorted([
        "Here's a revised version of the post with a rewritten introduction:", "What a great question!",
        'Here\'s an example of how to write the section "Where the 64 GB goes":', "Here's your version of the section:",
        "Here's an example using just two sentences to give you more detail without breaking up your text too much:",
        'Here\'s an example of writing the section "Short sections instead of one long generations":',
        "Here's an edited version:", "Here's an example of the section:", "Here's an example:", "Here is your section:"])
    assert sum(bool(r) for r in removed) == 11  # the other 20 attempts start with content and keep it


@pytest.mark.parametrize("text", [
    "Here are the three limits I set:\n\n- wired: the weights\n- cache: 3 GB",
    "Here's an example:\n\n```python\nmx.set_cache_limit(3 * 2**30)\n```",
    "Here is the plan for the week, in three steps:\n1. Load.\n2. Run.",
    "Great questions come from readers. This one did too.",
    "Here's what this post covers:\n\n- memory\n- limits",
    "Here is how I wrote the post: late at night, after the build.\nMore on that below.",
    # Real text from the Python 3.11 docs (PSF-2.0), which bench/chatter.py found cut: a code word is no
    # "post", and "should instead read:" is no "should I ...?" offer
    "Here is an example session that uses the `POST` method:\n\n```\n>>> import http.client, urllib.parse\n```",
    "For example, this line from the above example:\n\n```none\nprobe process(\"python\")\n```\n\nshould instead read:",
])
def test_presenting_content_is_not_a_preamble(text):
    assert trim_chatter(text, "Some heading").removed == []


def test_first_held_out_outputs_lose_only_their_preambles():
    """Ten real attempts (seeds 31 and 37). Held out until 2026-12-06, when their miss "Here's your part 3:" made
    "part" (with piece, chapter, article, write-up) one of the preamble's nouns: no longer held out since. Still
    missed: a first line that is another section's heading. No content line goes (since 2026-12-07 the bold label
    "**Section 1**" under the preamble goes too: a line all in emphasis naming a section by number is a place label)."""
    import json

    prompts = {p.heading: [m["content"] for m in p.messages] for p in render_prompts(load_brief(REPO / "briefs/post.yaml"))}
    attempts = json.loads((REPO / "tests/real_text/smollm2-chatter-heldout.json").read_text())["attempts"]
    removed = [r for a in attempts for r in trim_chatter(a["text"], a["heading"], prompts[a["heading"]]).removed]
    assert removed == ["Here's an example of the section you're referring to:", "Here's your part 3:",
                       "Here's an example of how to write this paragraph:", "**Section 1**"]


def test_second_held_out_outputs_lose_only_their_preambles():
    """Ten real attempts (seeds 53 and 59). Held out until 2026-12-06, when their miss "Here's a breakdown of
    how you can go about writing that section:" (a reply about writing the section) became a preamble shape:
    no longer held out since. No content line goes, and "Here's how it all ends: …" (an opening on the same
    line as its content) stays."""
    import json

    prompts = {p.heading: [m["content"] for m in p.messages] for p in render_prompts(load_brief(REPO / "briefs/post.yaml"))}
    attempts = json.loads((REPO / "tests/real_text/smollm2-chatter-heldout-2.json").read_text())["attempts"]
    removed = [r for a in attempts for r in trim_chatter(a["text"], a["heading"], prompts[a["heading"]]).removed]
    assert sorted(removed) == ["Here is the section:", "Here is the section:",
                               "Here's a breakdown of how you can go about writing that section:"]


def test_third_held_out_outputs_lose_only_their_preambles():
    """Eighteen real attempts (seeds 61 and 67) made after the last rule change and never tuned on: two of
    three preambles go; "Here's an example:" before a numbered line ("4.1. …") stays, as an example before a
    list or code does, and so does a closing "I hope that's as close as you need to get." No content line goes."""
    import json

    prompts = {p.heading: [m["content"] for m in p.messages] for p in render_prompts(load_brief(REPO / "briefs/post.yaml"))}
    attempts = json.loads((REPO / "tests/real_text/smollm2-chatter-heldout-3.json").read_text())["attempts"]
    removed = [r for a in attempts for r in trim_chatter(a["text"], a["heading"], prompts[a["heading"]]).removed]
    assert removed == ["Here's a rewritten version of the original paragraph:", "Here's an edited version:"]


# An adversarial probe of 2026-12-07 (79 chatter variants in the styles of several model families, 67 pieces of
# content that look like chatter): before its rules changed 46 variants were kept and 28 content pieces were cut.
# These are from that probe (it calibrated the rules; bench/chatter.py reports the text never looked at).
MEMORY = "Why memory is the real constraint"


@pytest.mark.parametrize("lead", [
    "Certainly! Below is the section on why memory is the real constraint:\n\n",
    "Absolutely — here's a draft of the section on memory.\n\n",
    "Okay, here is the rewritten section:\n\n",
    "Here's a concise, engaging section about why memory is the real constraint:\n\n",
    "Here is a 110-word section on why memory is the real constraint:\n\n",
    "Sure! 😊 Here's your section:\n\n",
    "**Here's your section:**\n\n",
    "*Sure! Here is the section:*\n\n",
    "Here you go:\n\n",
    "The following is the section you asked for:\n\n",
    "I'd be happy to help! Here's the section:\n\n",
    "Sure, I can help with that!\n\n",
    "Here is a section of about 110 words, in short paragraphs, written in first person, plain English:\n\n",
    "As an AI language model, I don't have personal experience, but here's a section:\n\n",
    "I'll write this section in first person, focusing on the memory math.\n\n",
    f"## 1. {MEMORY}\n\n",
    f"### Section 1: {MEMORY}\n\n",
    f"{MEMORY}\n=================================\n\n",
    f"Title: {MEMORY}\n\n",
    f"**{MEMORY}** (approx. 110 words)\n\n",
    f"## {MEMORY}\n\n", f"**{MEMORY}**\n", f"{MEMORY}:\n\n", f"Sure! Here is your section:\n\n### {MEMORY}\n\n",
    # since the blind set of 2026-12-07 (blind-4): a yes and a plan, a title handed over, a draft of "a title",
    # a section body "for" its title, a relative clause about the brief, a prompt's labelled line or first clause
    "Understood. I'll keep it to about 110 words and skip the heading.\n\n",
    "Got it! Writing section 1 now.\n\n",
    f'Alright! Here\'s "{MEMORY}":\n\n',
    f'Certainly! Below is a draft of "{MEMORY}", in first person:\n\n',
    f'Here\'s the section body for "{MEMORY}" (about 110 words):\n\n',
    "Absolutely, here's a draft that sticks to your research notes.\n\n",
    "Style: first person, concrete, plain English.\n\n",
    "Write about 110 words in short paragraphs.\n\n",
    # since blind-5: a bare "Understood." or "Will do.", "As requested, here is the section on where …:",
    # "a draft of section 1, aiming for …"
    "Understood.\n\n", "Will do.\n\n", "As requested, here is the section on where the memory goes:\n\n",
    "Okay, here's a draft of section 1, aiming for about 110 words and a first-person tone:\n\n---\n\n",
    # since blind-6: a yes with the section's place or plan, a title with its place and length, a plan "as requested"
    "Got it. Section 1, about 110 words, first person.\n\n", "Of course. Section 1 of 5 follows.\n\n***\n\n",
    "Okay, final section! Keeping it to roughly 90 words.\n\n", "Alright, section one. Here we go!\n\n",
    "Absolutely — keeping it concrete and first person as asked:\n\n",
    f'Sure! Here\'s "{MEMORY}" (section 1 of 5), about 110 words:\n\n',
    "I'll break the 64 GB into weights, KV cache, the OS and headroom, as requested.\n\n",
    # since blind-7: a length with a tilde, a heading with its place or length, "Section 1 of 5" alone, a yes and
    # "I will explain …"
    "Sure! Here's a ~110 word section written in first person:\n\n", f"{MEMORY} (section 1 of 5)\n\n",
    f"{MEMORY} (approx. 110 words):\n\n", f"{MEMORY}\n\nSection 1 of 5\n\n",
    "Understood. I will explain why a 35 GB model leaves less room than it seems.\n\n",
    # the prompt's own first line, as a line or as the first sentence
    "You are writing one section at a time of a blog post for a technical audience.\n",
    "You are writing one section at a time of a blog post for a technical audience. ",
])
def test_chatter_of_many_models_is_cut_before_the_content(prompt, lead):
    heading, texts = prompt
    trimmed = trim_chatter(lead + BODY, heading, texts)
    assert trimmed.text == BODY and "".join(trimmed.removed).replace("\n", "") == lead.strip().replace("\n", "")


@pytest.mark.parametrize("tail", [
    "\n\nHope this helps!",
    "\n\nPlease let me know if you want any adjustments.",
    "\n\n**Let me know if you'd like any changes!**",
    "\n\nIf you’d like, I can expand on the KV cache.",
    "\n\nWant me to adjust the tone?",
    "\n\n(Word count: 112)",
    "\n\n**Note:** I used only the facts from your research notes.",
    "\n\nI've kept it concise and in first person, as requested.",
    "\n\n---\n\nLet me know if you'd like any changes!",  # the rule above it goes too, and is recorded
    # smaller models' closings, cut whole
    "\n\nI hope this section meets your requirements.\n\nThank you!",
    "\n\nBest regards,\n[Your Name]",
    "\n\nNote: This section is based on general knowledge. Please consult recent studies for up-to-date figures.",
    "\n\nI've kept this focused on the practical steps. Want me to add a paragraph on off-site replication?",
    "\n\nThis section flows naturally into the next one. Would you like me to write that next?",
    "\n\n[End of section]",
    # the prompt's own instructions, echoed at the end
    "\n\nWrite only the section body: no heading, no preamble, no closing summary.",
    "\nWrite about 110 words in short paragraphs and end with a complete sentence.",
    "\n\nWould you like me to expand on the cache limit?",
    # since blind-4: leave to change it for the asker's post, thanks for the topic, the series done, an end marker,
    # a hope without "I", a list of notes on the answer under a rule
    "\n\nFeel free to adjust the tone to match the rest of your post.",
    "\n\nThanks for the interesting topic! Let me know if you need anything else.",
    "\n\nThat's section 5 of 5, so the post is complete! Would you like me to stitch them together?",
    "\n\n[End of section 1]", "\n\nHope that works for your post!", "\n\nReady for section 2 whenever you are. 🙌",
    "\n\nDone. Is there anything you'd like me to change?",
    "\n\nThis section explains the memory budget while staying close to the requested length.",
    "\n\n---\n\n**Notes:**\n- Kept to about 110 words\n- Used only the figures you provided\n- No heading, as requested"
    "\n\nWant me to continue with section 2?",
    # since blind-5: end markers in brackets, hopes without a noun, "does this work for you", thanks for the notes,
    # the next section announced, leave to drop a part, a summary of what the answer covered
    "\n\n(End of section 1.)", "\n\n[END]", "\n\nI hope this meets your requirements.", "\n\nI hope this is helpful! 😊",
    "\n\nDoes this work for you, or would you like a more technical version?",
    "\n\n---\n\nThat completes the post. I hope it's useful, and thank you for the clear research notes!",
    "\n\nI've kept this section focused on the budget. Shall I move on to the MLX limits next?",
    '\n\nNext up is section 2, "Where the 64 GB goes". Just say the word and I\'ll write it.',
    "\n\nFeel free to drop the last paragraph if you'd rather keep it short.",
    "\n\n---\n\n**Key points covered:**\n\n*   The operating system's share\n*   The KV cache\n\n"
    "Would you like me to revise anything?",
    "\n\n---\n\n**Notes:**\n- Used only the facts and numbers provided.\n- No heading or closing summary, per your instructions.",
    # since blind-6: notes in the prompt's terms, a checklist, a recap, a menu of offers, a word count in brackets,
    # the answer summed up for the asker, thanks for working together, "That's it for this one!"
    "\n\nNotes:\n- Kept it in first person and plain English.\n- About 110 words, short paragraphs.",
    "\n\n---\n\nHow I followed your instructions:\n- ~110 words\n- Short paragraphs\n- First person, concrete",
    "\n\n**Quick recap of what I covered:**\n- The OS share\n- The KV cache\n\nWould you like me to adjust anything?",
    "\n\nWould you like me to:\n* Add a short example of the drift?\n* Make the tone more casual?",
    "\n\n(≈110 words, short paragraphs, complete final sentence.)",
    "\n\nIn summary, this section walks through the memory budget and the headroom that remains at peak.",
    "\n\nThis section explains the 400-token cap and the drift. Shall I proceed to the next one?",
    "\n\nThanks for working through all five sections with me. Good luck with publishing!",
    "\n\nThat's it for this one! 🎉", "\n\nLet me know if you'd like code examples showing how to set these limits.",
    "\n\nIf you'd like, I can turn the breakdown into a bulleted list instead of paragraphs.",
    "\n\n**Note:** The values above are taken directly from the research notes provided.",
    # since blind-7: end markers in italics, a length note after a dash, metadata lines, generic sign-offs
    "\n\n*End of section 1.*", "\n\n—\n*Generated in about 110 words as requested.*",
    "\n\n---\n\n*Approximately 110 words, first person, short paragraphs.*", "\n\nTotal: ~112 words.",
    "\n\n---\n\n**Word count:** 112  \n**Tone:** first person, plain English  \n**Facts used:** 64 GB, 35 GB",
    "\n\nHope you like it! 😊", "\n\nIf you have any other questions, feel free to ask.",
    "\n\n---\n\nThis wraps up the post. Would you like a title suggestion or a meta description?",
    "\n\nThat's section 1 done. If you want, I can go back and smooth the transitions between sections.",
])
def test_closing_chatter_of_many_models_is_cut_after_the_content(prompt, tail):
    heading, texts = prompt
    trimmed = trim_chatter(BODY + tail, heading, texts)
    assert trimmed.text == BODY and "".join(trimmed.removed).split() == tail.split()


CRON = "```\n0 3 * * * /usr/local/bin/nightly --exit\n```"


@pytest.mark.parametrize("text", [
    # a line that introduces the writer's own things, or whose colon the content follows on the same line
    "Here is the section of my crontab that matters:\n\n" + CRON + "\n\nIt runs once a night and exits.",
    "Here's the part nobody tells you: the OS needs 10 GB.\n\nThe rest is shared by the weights and the cache.",
    "Here is the answer: 41 GB at peak.\nThat leaves room for the OS and the apps I keep open.",
    "Here is the response I got from the server:\n\n```json\n{\"error\": \"out of memory\"}\n```\n\nThat was the cache.",
    "Here is an example POST request body:\n\n```json\n{\"max_tokens\": 400}\n```\n\nEvery section is one such call.",
    "Here's the draft schedule the job follows:\n- 03:00 load\n- 03:05 generate\n- 03:40 exit",
    "Here's the post-mortem in one line:\nthe cache was never cleared.\n\nAfter that fix the job ran for months.",
    "Below is the script I use for writing the nightly post:\n\n```sh\npipeline write post.yaml\n```\n\nIt exits.",
    "Here's the short version:\n\nthe OS takes 10 GB, the model 35 GB, and the cache the rest.",
    "Certainly.\nThat is what I told myself when I bought a 64 GB Mac for a 35 GB model.",
    "Here are the topics we’ll cover in this chapter:\n\n- memory\n- limits",  # the Rust book: real text
    # a closing question the text answers, and endings addressed to the post's readers
    BODY + "\n\nShould I have bought the 128 GB model? No: the job exits, and the memory comes back.",
    BODY + "\n\nDo you want the numbers? 35 GB of weights, 10 GB for the OS, 41 GB at peak.",
    BODY + "\n\nFeel free to reuse the config: it is in the repository, MIT-licensed.",
    BODY + "\n\nI hope this helps someone avoid the swap storm I hit in March.",
    BODY + "\n\nIf you'd like to try this yourself, the script is in the repo linked above.",
    BODY + "\n\nLet me know in the comments how you budget yours.",
    BODY + "\n\nFeel free to dive into the user guide section on advanced indexing.",  # pandas' docs: real text
    BODY + "\n\n**Note:** This section uses grammar notations beyond standard EBNF:",  # Python's docs: real text
    BODY + "\n\nNote: I set all three limits in the script itself, so a library update cannot change them.",
    BODY + "\n\nI hope this helps someone avoid the swap storm I hit in March.",
    BODY + "\n\nNotes:\n- The figures are from my M2 Max.\n- Swap was off for every run.",  # the post's own notes
    BODY + "\n\nThis section describes how the wired limit works.",  # Python's docs open sections so: real text
    BODY + "\n\nDo you want to:\n\n- use C from Perl?\n- use Perl from C?",  # perlembed: real text
    BODY + '\n\nThe model answered "Let me know if you\'d like any changes!" every single time.',
    # a README's example of Markdown syntax in a fence is not a wrapped answer (npm's remark, mkdocs-autorefs)
    "```markdown\n| Alpha | Bravo |\n| ----- | ----- |\n| 1 | 2 |\n```",
    "```markdown\n## Hello, world!\n\nLink to [Hello, World!](#hello-world) on the same page.\n```",
])
def test_content_that_looks_like_chatter_is_kept(prompt, text):
    heading, texts = prompt
    assert trim_chatter(text, heading, texts).removed == []


@pytest.mark.parametrize("heading, text", [
    ("Load, run, exit", "Load, run, exit.\n\nThat is the whole nightly job, and the order matters."),
    ("Where the 64 GB goes", "Where the 64 GB goes?\n\nMostly to the weights: 35 GB of them."),
])
def test_an_opening_sentence_in_the_headings_words_is_content(heading, text):
    assert trim_chatter(text, heading).removed == []


def test_a_cut_keeps_the_indentation_of_the_content_and_records_an_invisible_mark(prompt):
    heading, texts = prompt
    trimmed = trim_chatter("\ufeffHere is your section:\n\n    code line one\n    code line two\n\nProse after.", heading)
    assert trimmed.text == "    code line one\n    code line two\n\nProse after."
    assert trimmed.removed == ["\ufeffHere is your section:"]  # nothing goes without a record


@pytest.mark.parametrize("ending", [
    "Thanks for reading, and see you next week!",  # a newsletter's own sign-off, written for its readers
    "Thank you!",  # alone, it may thank the readers: only beside an offer to the asker is it chatter
    "If there's a topic you want covered, or one you'd like me to stop covering, now's the time.",
    "Please read the posting guide before sending anything to the list.",  # R's FAQ: real text
    "If you need more advanced logic, you can use arbitrary Python code via `apply()`.",  # pandas' docs: real text
])
def test_endings_written_for_readers_are_kept(prompt, ending):
    heading, texts = prompt
    assert trim_chatter(BODY + "\n\n" + ending, heading, texts).removed == []


@pytest.mark.parametrize("lead, tail", [
    ("", ""),  # the fence alone, holding a section's worth of prose
    ("Here's section 1, about 110 words:\n\n", ""),
    ("", "\n\nI've kept the tone first person. Let me know if anything needs adjusting!"),
])
@pytest.mark.parametrize("opener", ["```markdown", "```", "```text"])
def test_a_markdown_fence_around_the_answer_goes_with_the_chatter(prompt, lead, tail, opener):
    heading, texts = prompt
    body = " ".join([BODY] * 3)  # 51 words of prose
    trimmed = trim_chatter(f"{lead}{opener}\n{body}\n```{tail}", heading, texts)
    assert trimmed.text == body and f"{opener} … ```" in trimmed.removed


@pytest.mark.parametrize("fenced", [
    # a whole section that is a log, a config or code in a plain fence is content, however long (real output:
    # Python's `-X importtime`, a crontab, pip's resolver)
    "import time: self [us] | cumulative | imported package\nimport time:       152 |        152 |   _io\n"
    "import time:        40 |         40 |   marshal\nimport time:       260 |        260 |   posix\n"
    "import time:       518 |        969 | _frozen_importlib_external\nimport time:        73 |         73 |   time\n"
    "import time:       238 |        311 | zipimport\nimport time:        36 |         36 |     _codecs",
    "# m h dom mon dow command\n0 3 * * * /usr/local/bin/pipeline run briefs/post.yaml >> /var/log/pipeline.log 2>&1\n"
    "0 7 * * MON /usr/local/bin/pipeline run briefs/newsletter.yaml --out /srv/newsletter/output\n"
    "30 7 * * MON /usr/local/bin/pipeline publish output/newsletters/latest --target email\n"
    "*/15 * * * * /usr/local/bin/healthcheck --url http://127.0.0.1:8080/health --timeout 5",
    "ERROR: Cannot install pipeline==0.1.0 and mlx-lm==0.19.0 because these package versions have conflicting "
    "dependencies.\nThe conflict is caused by:\n    pipeline 0.1.0 depends on mlx>=0.22\n    mlx-lm 0.19.0 depends "
    "on mlx==0.18.1\nTo fix this you could try to:\n1. loosen the range of package versions you've specified\n"
    "2. remove package versions to allow pip attempt to solve the dependency conflict",
    # prose preformatted to a width: GNU units' info manual quotes the GFDL so (every paragraph start of the corpus)
    "You may add a passage of up to five words as a Front-Cover Text,\nand a passage of up to 25 words as a "
    "Back-Cover Text, to the end of\nthe list of Cover Texts in the Modified Version.  Only one passage\nof "
    "Front-Cover Text and one of Back-Cover Text may be added by (or\nthrough arrangements made by) any one entity.",
])
def test_a_plain_fence_around_what_is_not_prose_is_content(prompt, fenced):
    heading, texts = prompt
    assert len(fenced.split()) >= 40
    assert trim_chatter(f"```\n{fenced}\n```", heading, texts).removed == []


def test_a_text_between_two_code_blocks_is_not_one_fenced_answer(prompt):
    """PostgreSQL's manual: a query in a fence, a paragraph about it, another fence. The first fence's end is not the
    last line's, so the text is no answer wrapped whole (it was read as one before the fence inside was looked for)."""
    heading, texts = prompt
    prose = " ".join([BODY] * 3)
    text = f"```\nSELECT * FROM a, b, c WHERE a.id = b.id AND b.ref = c.id;\n```\n\n{prose}\n\n```\nSELECT 1;\n```"
    assert trim_chatter(text, heading, texts).removed == []
    assert trim_chatter(f"```markdown\n{prose}\n```\n\n{prose}\n\n```markdown\n{prose}\n```", heading, texts).removed == []


def test_a_wrapped_answer_may_hold_code_blocks_of_its_own(prompt):
    """Chat models wrap an answer holding a ```python block in ```markdown (blind-4, c4-076): the inner block opens with
    its language and closes bare, so the outer fence still wraps the whole answer."""
    heading, texts = prompt
    body = (f"{BODY} Here is what I set at the top of the nightly script:\n\n```python\nmx.set_cache_limit(3 * GB)\n```\n\n"
            f"{BODY} {BODY}")
    for opener in ("```markdown", "```"):
        trimmed = trim_chatter(f"Here is the section:\n\n{opener}\n{body}\n```", heading, texts)
        assert trimmed.text == body, opener


@pytest.mark.parametrize("lead, tail", [
    # written by a helper for bench/corpus/chatter/blind-8.json (missed when judged blind, the rules made from them)
    ("", "\n\n---\n\nI kept this close to 110 words, split into four short paragraphs, and ended on a full sentence. If "
         "you'd like the opening to land harder, I can lead with the 10 GB figure instead."),
    ("", "\n\nShould the next section keep this same level of detail, or would you prefer it more compact?"),
    ("", "\n\nP.S. Since this is the final section, you might want a short conclusion after it — I left it out because "
         "you asked for no closing summary."),
    ("Alright, section 4 is about why each section is a separate call. Keeping it around 110 words with short "
     "paragraphs.\n\n", ""),
    ("[Section 4/5]\n\n", ""),
])
def test_talk_to_the_asker_about_the_text_is_cut(prompt, lead, tail):
    """A short paragraph at either end that speaks to whoever asked for the text about it as a piece of writing (its
    section, length, what they asked for, what the model can redo), or acknowledges the ask and names the section."""
    heading, texts = prompt
    trimmed = trim_chatter(lead + BODY + tail, heading, texts)
    assert trimmed.text == BODY and len(trimmed.removed) == 1


@pytest.mark.parametrize("text", [
    # the blind sets' content that the first draft of those rules cut: a post's author speaks to readers too
    BODY + "\n\nIf you spot a mistake in any of the numbers above, let me know — issues and pull requests are welcome. "
           "I'll update this post with corrections as they come in.",
    BODY + "\n\nP.S. If you're coming to the Berlin meetup on Thursday, say hi — I'll be the one with the badly "
           "labeled Raspberry Pi cluster.",
    "Of course, the simplest design would be one call for the whole post. I tried it.\n\n" + BODY,
    "Okay, so 35 GB fits in 64 GB. Why write a whole post about it?\n\n" + BODY,
    "Okay, last piece: what the job does when it runs.\n\n" + BODY,
    # people's text that a draft taking "you specified", "you wanted" or "whenever you're" alone as talk to the asker cut
    BODY + "\n\nIf you specified Testing or Unstable in your `sources.list`, `apt upgrade` will switch most of your "
           "Stable system to Testing or Unstable, which might not be what you intended.",  # Debian's handbook
    BODY + "\n\nLet's say you wanted to get the version string for a package.",  # the Python docs
])
def test_a_post_that_speaks_to_its_readers_about_itself_is_kept(prompt, text):
    heading, texts = prompt
    assert trim_chatter(text, heading, texts).removed == []


@pytest.mark.parametrize("lead, tail", [
    # written by a helper for bench/corpus/chatter/blind-9.json (missed when judged blind, the rules made from them)
    ("Here is the section body, no heading included:\n\n", ""),
    ("Plain prose, short paragraphs, no bullet points:\n\n", ""),
    ("Written with a technical reader in mind, someone who knows what quantisation is but hasn't fought unified "
     "memory yet:\n\n", ""),
    ("Below is the body text for section 4. I have followed the style notes: first person, concrete, plain "
     "English.\n\n", ""),
    ("*Final section, kept short and plain as asked.*\n\n", ""),
    ("> Section 2 of 5 · target ~120 words\n\n", ""),
    ("I've aimed for a calm, matter-of-fact tone here rather than a dramatic one.\n\n", ""),
    ("Absolutely.\n\n", ""),
    ("[Section 3/5 — The three MLX limits I set]\n\n", ""),
    ("好的，以下是第三节的正文：\n\n", ""),
    ("Thanks for the detailed notes — they make this easy.\n\n", ""),
    ("", "\n\n---\n\nThis section totals about 120 words and uses only the figures provided (64, 35, 10, 41)."),
    ("", "\n\nIf the numbers change once you remeasure, send them over and I'll redo the paragraph."),
    ("", "\n\n---\n\nA couple of notes on this draft:\n\n1. I left the MLX limits out, since section 3 covers them.\n"
         "2. If you want a stronger hook, I can open with the 10 GB figure instead."),
    ("", "\n\nI hope this helps with your blog post!\n\nUser: thanks, next section please\nAssistant: Sure! Here is "
         "section 5:"),
    ("", "\n\nDone. Next?"),
    ("", "\n\n(Approx. 110 words.)"),
    # blind-10's (the rules made from them after it was judged)
    ("<|assistant|>\n", ""),
    ("### Response:\n", "\n</s>"),
    ("", "<|im_end|>"),
    ("", "\n\nNote: I only used facts from your research notes; I did not add any numbers beyond the 35 GB figure."),
    ("", "\n\nIn the final section, I can cover the load, run, exit pattern. Just say the word."),
])
def test_talk_about_the_request_at_either_end_is_cut(prompt, lead, tail):
    """An edge paragraph of at most 40 words that holds two kinds of what a request for a section is made of (the
    section named, its length, its style, the request itself, the text as a deliverable), or one of them said with a
    yes, a remark about the writing or, for its length, style or form, a colon handing over; a yes, a label or thanks
    for the notes on a line of its own; the model writing the chat's next turns itself."""
    heading, texts = prompt
    trimmed = trim_chatter(lead + BODY + tail, heading, texts)
    assert trimmed.text == BODY and trimmed.removed


@pytest.mark.parametrize("text", [
    # people's text that drafts of those rules cut (bench/chatter.py): docs name their sections and "your notes"
    "If you have configured your system as described in Section 4.2, “Execute a security update” you just need to "
    "do:\n\n" + BODY,  # Debian's securing-debian manual
    "Thus, to explain the output of the example of the last section:\n\n" + BODY,  # GNU units
    "There is some added flexibility to help with keeping time log data in the same file as your notes, todo "
    "lists, etc.:\n\n" + BODY,  # ledger
    "**Section 7.3, “Customers”**\n\n" + BODY,  # GnuCash's guide
    "Output:\n\n```\n$ python prog.py\n4\n```\n\n" + BODY,  # the Python docs: a label over a code block
    "*output:*\n\n" + BODY,
    "output:\n\n    You and your\n    whole family\n    are made out\n    of meat.",  # wordwrap's README (npm)
    BODY + "\n\nYou can even use custom compression algorithms, as long as they are defined in the ZIP spec (see "
           "section 4.4.5). If you'd like more info on using custom compressors, feel free to ask.",  # fflate's README
    "**OK**\n\n" + BODY,  # a button named in Debian's reference
    "如果您发现 SwanLab 对您的研究之旅有帮助，请考虑以下列格式引用：\n\n" + BODY,  # a README's own Chinese
    "Here's the draft schedule the job follows:\n\n" + BODY,
    BODY + "\n\n- <s>[10x faster than built-in logging](#10x-faster-than-built-in-logging)</s>",  # loguru's README
    BODY + "\n\nIf you spot a mistake in any of the numbers above, let me know. I'll update this post as they come in.",
    BODY + "\n\nUser: what does the cache hold?\nAssistant: the freed buffers.\n\n```\nUser: x\nAssistant: y\n```",
])
def test_docs_that_name_their_sections_labels_and_notes_are_kept(prompt, text):
    heading, texts = prompt
    assert trim_chatter(text, heading, texts).removed == []
