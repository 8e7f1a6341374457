"""Repetition between a draft's sections and against earlier newsletter issues: on real documents
(CPython's reference topics, split at their headings), on real output of the embedded model, and
through whole runs with the scripted backend (run.json, the exit status, the note in the draft)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pipeline.checks.findings import ATTENTION, INFO
from pipeline.checks.repetition import (
    SAME_SENTENCE,
    markdown_sections,
    previous_issue_findings,
    repetition_findings,
    sentences,
    similarity,
)
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

from .conftest import REPO, opener_for, pin_example_week

REAL = Path(__file__).parent / "real_text"
DOCUMENTS = json.loads((REAL / "repetition_documents.json").read_text())["documents"]
MODEL_POST = list(json.loads((REAL / "smollm2-example-post.json").read_text())["sections"].items())
MODEL_DRAFTS = {label: [(h, t) for h, t in sections] for label, sections in
                json.loads((REAL / "repetition_smollm2_drafts.json").read_text())["drafts"].items()}


def sections_of(name: str) -> list[tuple[str, str]]:
    return [(heading, text) for heading, text in DOCUMENTS[name]]


# --- real documents nobody here wrote ---

@pytest.mark.parametrize("name", ["cpython:execmodel", "cpython:naming", "cpython:comparisons"])
def test_real_multi_section_documents_are_not_flagged(name):
    assert repetition_findings(sections_of(name)) == {}


def test_a_sentence_a_real_document_repeats_across_sections_is_flagged_on_the_later_one():
    found = repetition_findings(sections_of("cpython:attribute-access"))
    assert list(found) == [2]  # "Implementing Descriptors" repeats a sentence of section 1
    (finding,) = found[2]
    assert finding.code == "repetition" and finding.severity == ATTENTION
    assert 'section 1 "Customizing attribute access"' in finding.message
    assert "This method should return the computed attribute value" in finding.message
    assert finding.message.endswith("cut or rewrite one of them")


# --- real model output ---

def test_real_model_draft_without_copied_sentences_needs_no_attention():
    found = repetition_findings(MODEL_POST)
    assert not any(f.severity == ATTENTION for fs in found.values() for f in fs)


@pytest.mark.parametrize("label", sorted(MODEL_DRAFTS))
def test_six_real_model_drafts_need_no_attention_and_only_one_restates_a_fact(label):
    found = repetition_findings(MODEL_DRAFTS[label])
    if label == "before-s7":  # section 3 re-introduces "a 35B-parameter mixture-of-experts model" on a Mac
        assert [(i, f.severity, f.message.startswith("restates 1 fact from section 1")) for i, fs in found.items()
                for f in fs] == [(2, INFO, True)]
    else:
        assert found == {}


def test_a_sentence_from_one_real_draft_copied_into_another_draft_is_caught():
    sections = MODEL_DRAFTS["after-s11"]
    donor = max(sentences(MODEL_DRAFTS["before-s23"][0][1]), key=lambda s: len(s.words)).text
    changed = [sections[0], (sections[1][0], donor + " " + sections[1][1]), *sections[2:4],
               (sections[4][0], sections[4][1] + "\n\n" + donor)]
    found = repetition_findings(changed)
    assert [f.severity for f in found[4] if f.message.startswith("repeats 1 sentence of section 2")] == [ATTENTION]


def copy_into(sections: list[tuple[str, str]], sentence: str, target: int) -> list[tuple[str, str]]:
    changed = list(sections)
    changed[target] = (sections[target][0], sections[target][1] + "\n\n" + sentence)
    return changed


def test_a_model_sentence_copied_into_a_later_section_needs_attention_there_only():
    copied = "The nightly job is a brief processing step that takes only 2 minutes to execute on a Mac operating system."
    sections = copy_into(MODEL_POST, copied, 1)  # from section 5 into section 2: section 5 is the later one
    found = repetition_findings(sections)
    assert [f.severity for f in found[4] if "repeats" in f.message] == [ATTENTION]
    assert 'section 2 "Where the 64 GB goes"' in found[4][0].message
    assert 1 not in found or not any(f.severity == ATTENTION for f in found[1])


def test_a_copied_sentence_with_a_word_changed_or_markdown_added_is_still_a_repeat():
    original = sentences(MODEL_POST[4][1])[0]
    for variant in ("The **nightly job** is a short processing step that takes only 2 minutes to execute on a Mac "
                    "operating system.", "- the nightly job is a brief processing step that takes only 2 minutes "
                    "to execute on a [Mac](https://example.com) operating system"):
        assert similarity(sentences(variant)[0], original) >= SAME_SENTENCE
        found = repetition_findings(copy_into(MODEL_POST[:4], variant, 3) + [MODEL_POST[4]])
        assert any(f.severity == ATTENTION for f in found.get(4, []))


def test_short_sentences_list_lead_ins_code_and_tables_are_not_compared():
    text = ("It works well. Here is how I set it up for the nightly job:\n\n```\nrun the nightly job now please ok\n```\n"
            "| Model weights | 35 GB | on disk and in memory |")
    first, second = ("Setup", text), ("Running", text)
    assert repetition_findings([first, second]) == {}


def test_words_are_counted_as_written_so_short_items_with_identifiers_are_not_compared():
    # "Q4_K_M for the 70B model" is five words; split into pieces ("q", "4", "k", "m", …) it was nine, and was flagged
    picks = "My picks:\n\n- Q4_K_M for the 70B model\n- Q6_K for the 8B helper\n"
    first = ("Names", "The number after Q is the rough bit width of the weights in the file. " + picks)
    second = ("Where I landed", "For the helper I now run the larger quant, since memory is cheap there. " + picks)
    assert repetition_findings([first, second]) == {}
    longer = "- Q4_K_M for the 70B model, since nothing larger fits next to a useful context window\n"
    assert repetition_findings([(first[0], first[1] + longer), (second[0], second[1] + longer)])[1]


def test_the_same_opening_is_info_and_names_both_openings():
    opening = "Running a 35B mixture-of-experts model on a 64 GB Mac leaves less memory than it seems."
    found = repetition_findings([
        ("Why memory matters", opening + " The weights alone take 35 GB."),
        ("Where it goes", "Running a 35B mixture-of-experts model on one 64 GB Mac leaves less room than you think. "
                          "The KV cache grows with the context."),
    ])
    (finding,) = found[1]
    assert finding.severity == INFO and "opens like section 1" in finding.message


def test_a_fact_restated_in_other_words_is_info_and_different_facts_are_not():
    first = ("Budget", "Start with the weights. The weights of the model take 35 GB of the unified memory on this Mac.")
    restated = ("Limits", "Then come the limits. On this Mac the model weights use 35 GB of unified memory, as said.")
    other = ("Cache", "The cache is next. I cap the cache at 3 GB so that freed buffers never pile up during a long run.")
    found = repetition_findings([first, restated, other])
    assert [f.severity for f in found[1]] == [INFO] and "restates 1 fact" in found[1][0].message
    assert 2 not in found


def test_findings_point_only_backwards():
    sentence = "Every section is its own call of at most four hundred tokens, so it never drifts."
    found = repetition_findings([("One", sentence), ("Two", "Something else entirely is said here today."),
                                 ("Three", sentence)])
    assert list(found) == [2] and 'section 1 "One"' in found[2][0].message


# --- earlier newsletter issues ---

LAST_WEEK = ("The lesson is to trade less when the tape is quiet. The win rate was 39.1% on 46 round-trips, and most "
             "losses came from stops set too tight. Next week I widen them.")


def test_last_weeks_insight_word_for_word_or_with_new_numbers_needs_attention():
    for this_week in (LAST_WEEK, LAST_WEEK.replace("39.1%", "41.3%").replace("46", "52")):
        (finding,) = previous_issue_findings(this_week, [("2026-W15", LAST_WEEK), ("2026-W14", "Quiet week.")])
        assert finding.code == "repetition" and finding.severity == ATTENTION
        assert "the earlier issue 2026-W15" in finding.message and "win rate was" in finding.message


def test_a_different_insight_is_not_flagged_against_earlier_issues():
    this_week = ("Slippage, not the signal, cost the most this week: six losses on thin books. I pause the worst pair "
                 "for two days and size down after any exchange outage.")
    assert previous_issue_findings(this_week, [("2026-W15", LAST_WEEK)]) == []
    assert previous_issue_findings(this_week, []) == []


def test_markdown_sections_reads_a_drafts_sections_back():
    markdown = ("---\ntitle: x\n---\n\n## This week\n\n| a | b |\n\n## One operating insight\n\nThe lesson.\n\n"
                "> **Needs attention:** something\n")
    assert markdown_sections(markdown) == [("This week", "| a | b |"),
                                           ("One operating insight", "The lesson.\n\n> **Needs attention:** something")]
    assert [s.text for s in sentences(markdown_sections(markdown)[1][1])] == ["The lesson."]


# --- whole runs ---

REPEATED = "Every section is its own capped call, so a long generation never drifts into word salad."


def test_a_post_whose_sections_repeat_a_sentence_needs_attention_with_a_repetition_finding(write_brief, project):
    from pipeline.backends.script import ScriptBackend
    script = project / "script.yaml"
    script.write_text(json.dumps({"sections": {
        "First things": f"Memory comes first on a small machine. {REPEATED}",
        "Second things": f"Second, keep every section short. {REPEATED}",
    }}))
    brief = write_brief()
    backend = ScriptBackend.from_file(f"script:{script}")
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(backend))
    assert result.status == "needs_attention"
    manifest = json.loads((result.draft_dir / "run.json").read_text())
    first, second = manifest["sections"]
    assert not [f for f in first["findings"] if f["code"] == "repetition"]
    (finding,) = [f for f in second["findings"] if f["code"] == "repetition"]
    assert finding["severity"] == "attention" and 'section 1 "First things"' in finding["message"]
    assert "> **Needs attention:** repeats 1 sentence of section 1" in (result.draft_dir / "index.md").read_text()


def test_a_post_without_repetition_stays_ok(write_brief, project, fake):
    fake.enqueue("Memory comes first on a small machine. Everything else follows from it.",
                 "Second, keep every section short. Short calls stay coherent.")
    result = run_brief(write_brief(), RunOptions(out_root=project / "output"), Reporter(), opener_for(fake))
    assert result.status == "ok"
    assert not [f for s in result.manifest["sections"] for f in s["findings"] if f["code"] == "repetition"]


PICK = '{"picks": [{"id": 6, "reason": "Exchange outages are when slippage losses cluster."}]}'


@pytest.fixture
def weekly(project, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copy(REPO / "briefs" / "weekly-data.json", project / "briefs" / "weekly-data.json")
    brief = pin_example_week((REPO / "briefs" / "weekly.yaml").read_text())
    (project / "briefs" / "weekly.yaml").write_text(re.sub(r"(?m)^(\s+words:) \d+", r"\1 30", brief))  # as scripted
    shutil.copytree(REPO / "briefs" / "feeds", project / "briefs" / "feeds")
    return project / "briefs" / "weekly.yaml"


def build_week(weekly, project, fake, week: str, insight: str):
    fake.default = PICK  # weeks without feed items skip the pick: only the insight is asked for then
    fake.enqueue(PICK, insight) if week == "2026-W16" else fake.enqueue(insight)
    return run_brief(weekly, RunOptions(out_root=project / "output", offline=True, week=week), Reporter(),
                     opener_for(fake))


def test_a_newsletter_repeating_last_weeks_insight_needs_attention(weekly, project, fake):
    first = build_week(weekly, project, fake, "2026-W16", LAST_WEEK)
    assert first.status == "ok"
    again = build_week(weekly, project, fake, "2026-W17", LAST_WEEK.replace("39.1%", "41.3%"))
    assert again.status == "needs_attention"
    (insight,) = again.manifest["sections"]
    (finding,) = [f for f in insight["findings"] if f["code"] == "repetition"]
    assert finding["severity"] == "attention" and "the earlier issue 2026-W16" in finding["message"]


def test_a_newsletter_with_a_new_insight_is_not_flagged_and_later_issues_are_not_compared(weekly, project, fake):
    build_week(weekly, project, fake, "2026-W17", LAST_WEEK)  # a later week already built: not an earlier issue
    result = build_week(weekly, project, fake, "2026-W16", LAST_WEEK)
    assert not [f for s in result.manifest["sections"] for f in s["findings"] if f["code"] == "repetition"]
    fresh = ("Slippage, not the signal, cost the most this week: six losses on thin books. I pause the worst pair "
             "for two days and size down after any exchange outage.")
    later = build_week(weekly, project, fake, "2026-W18", fresh)
    assert not [f for s in later.manifest["sections"] for f in s["findings"] if f["code"] == "repetition"]

