"""Posts: numbers in model prose must trace to the brief (facts, research, variables), and links to links
the brief gives. Checked on real output of the embedded model for the example brief."""

from __future__ import annotations

import json

import pytest

from pipeline.checks.numbers import mentions
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import REPO, opener_for

REAL = json.loads((REPO / "tests" / "real_text" / "smollm2-example-post.json").read_text())["sections"]


def example_post(project, extra: str = "") -> object:
    brief = project / "briefs" / "post.yaml"
    brief.write_text((REPO / "briefs" / "post.yaml").read_text() + "date: 2026-11-25\n" + extra)
    return brief


def run(brief, project, backend, **options):
    return run_brief(brief, RunOptions(out_root=project / "output", **options), Reporter(), opener_for(backend))


def flagged(result) -> dict[str, list[str]]:
    out = {}
    for section in result.sections:
        for finding in section.findings:
            if finding.code == "unverified_number":
                out[section.prompt.heading] = finding.message.split(": ", 1)[1].split(", ")
    return out


def test_the_embedded_models_invented_numbers_are_flagged(project, fake):
    fake.responder = lambda request: REAL[request.label]
    result = run(example_post(project), project, fake)
    numbers = flagged(result)
    assert {"16", "256", "32"} <= set(numbers["Why memory is the real constraint"])  # "16 GB", "256 MB", "32 GB"
    assert "2" in numbers["Load, run, exit"]  # "takes only 2 minutes"
    everything = sum(numbers.values(), [])
    assert not {"35", "64", "41"} & set(everything)  # "35-GB model", "64 GB", "about 41 GB": all in the research
    assert result.status == "needs_attention"


def test_a_brief_may_relax_unverified_numbers_to_info(project, fake):
    fake.responder = lambda request: REAL[request.label]
    result = run(example_post(project, "unverified_numbers: info\n"), project, fake)
    findings = [f for s in result.sections for f in s.findings if f.code == "unverified_number"]
    assert findings and all(f.severity == "info" for f in findings)


def test_numbers_from_facts_research_and_variables_pass_in_any_format(write_brief, project, fake):
    brief = write_brief("""\
title: Budget
date: 2026-11-23
research: The Mac has 64 GB; the model takes 35.4 GB.
facts: {monthly_cost_usd: 1200}
variables: {cores: 12}
sections:
  - {heading: One, instruction: Say it., words: 30}
""")
    fake.enqueue("In 2026 the model took 35 GB of the 64 GB and cost $1,200 a month on 12 cores, as section 2 says.")
    result = run(brief, project, fake)
    assert flagged(result) == {} and result.status == "ok"


def test_links_in_a_post_must_come_from_the_brief(write_brief, project, fake):
    brief = write_brief("""\
title: Links
date: 2026-11-23
research: The docs are at https://ml-explore.github.io/mlx/ and nowhere else.
sections:
  - {heading: One, instruction: Say it., words: 30}
""")
    fake.default = "Read https://ml-explore.github.io/mlx/ first. Then https://made.up/guide for more."
    result = run(brief, project, fake)
    findings = {f.code: f for f in result.sections[0].findings}
    assert "https://made.up/guide" in findings["foreign_link"].message
    assert "ml-explore" not in findings["foreign_link"].message and result.status == "needs_attention"


@pytest.mark.parametrize("text", ["In 2026 and 1999 we shipped.", "See section 3 and step 2.", "Item #4 covers it.",
                                  "1. First\n2. Second", "1) First\n2) Second",
                                  # the embedded model on `pipeline init`'s first brief, which its prompt calls "(section 1 of 3)"
                                  "I began writing a blog post, which is only the first section of 3.",
                                  "This is section 2 of 5."])
def test_years_references_and_list_ordinals_are_not_numbers_to_verify(text):
    assert mentions(text) == []


def test_counts_that_are_not_references_still_are_numbers():
    assert [m.value for m in mentions("It took 3 of the 5 runs, and the post is 4 sections long.")] == [3, 5, 4]


def test_the_embedded_models_chatter_is_trimmed_and_recorded(project, fake):
    fake.responder = lambda request: REAL[request.label]
    result = run(example_post(project), project, fake)
    body = (result.draft_dir / "index.md").read_text()
    assert "Here is your section:" not in body and "What would be another section" not in body
    assert "This [story] highlights" in body  # the content after the preamble stays
    trims = {s.prompt.heading: f.message for s in result.sections for f in s.findings if f.code == "chatter_trimmed"}
    assert trims == {"The three MLX limits I set": "removed: 'Here is your section:'",
                     "Load, run, exit": "removed: 'What would be another section describing the nightly jobs?'"}


@pytest.mark.parametrize("text", ["Here's the thing: memory matters most.",
                                  "Here is the plan for the week, in three steps:\n1. Load.\n2. Run.",
                                  "Memory matters.\n\nWhy does it matter? Because the cache grows.",
                                  "Would you like to know the trick? Keep sections short."])
def test_content_that_merely_looks_like_chatter_is_kept(text):
    from pipeline.checks.chatter import trim_chatter

    assert trim_chatter(text).removed == [] and trim_chatter(text).text == text


def test_units_must_agree_on_a_second_real_output(project, fake):
    """Another real output of the embedded model for the example post. Of its invented quantities, "5 sentences"
    and "30 seconds" are cut with chatter and at the cap; of those left, value-only matching flagged "7 days";
    with units "10 bytes per token" too (10 is in the facts, as os_and_apps_gb: 10 GB)."""
    heldout = json.loads((REPO / "tests" / "real_text" / "smollm2-example-post-heldout.json").read_text())["sections"]
    fake.responder = lambda request: heldout[request.label]
    numbers = flagged(run(example_post(project), project, fake))
    assert sorted(sum(numbers.values(), [])) == ["10", "7"]
