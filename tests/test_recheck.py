"""`pipeline check DRAFT_DIR`: the run's checks again on a reviewer's edited index.md, against run.json."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import REPO, copy_examples, fails_after

SECTIONS = {  # what the example post's sections say in a clean run: every number is in the brief
    "Why memory is the real constraint":
        "A 35 GB model looks small on a 64 GB Mac. The operating system, the cache and the context all want a share "
        "of the same memory, at the same time.",
    "Where the 64 GB goes":
        "The weights take 35 GB. macOS and my apps take about 10 GB. What is left holds the KV cache and the headroom "
        "that keeps the machine responsive.",
    "The three MLX limits I set":
        "I wire the weights, cap the cache at 3 GB and set the memory limit at 48 GB. Each limit protects something "
        "different, and together they keep the peak near 41 GB.",
    "Short sections instead of one long generation":
        "Each section is its own call of at most 400 tokens. Long generations drift into word salad, while short "
        "calls stay coherent from the first word to the last.",
    "Load, run, exit":
        "Cron starts the job at night. The job loads the model, writes the draft and exits, so a leak never builds "
        "up across days.",
}


@pytest.fixture
def cli(project, monkeypatch):
    """The real CLI from inside the project; models are scripts (`--model script:FILE`), opened as a user would."""
    monkeypatch.chdir(project)
    monkeypatch.setattr("signal.signal", lambda signum, handler: None)  # `run` must not keep its SIGTERM handler
    return lambda *args: CliRunner().invoke(main, list(args))


@pytest.fixture
def draft(project, cli):
    """A clean example post written through the CLI with a scripted backend; returns its folder."""
    copy_examples(project, "post.yaml")
    script = project / "briefs" / "script.json"
    script.write_text(json.dumps({"sections": SECTIONS}))
    result = cli("run", "briefs/post.yaml", "--model", f"script:{script}", "--out", "output")
    assert result.exit_code == 0, result.stderr
    return next((project / "output" / "posts").iterdir())


def edit(draft, old: str, new: str) -> None:
    index = draft / "index.md"
    text = index.read_text()
    assert old in text
    index.write_text(text.replace(old, new, 1))


def line_of(draft, needle: str) -> int:
    return next(n for n, line in enumerate((draft / "index.md").read_text().splitlines(), 1) if needle in line)


def findings(result) -> dict[str, list[tuple[str, str]]]:
    report = json.loads(result.stdout)
    return {s["heading"]: [(f["code"], f["severity"]) for f in s["findings"]] for d in report["drafts"]
            for s in d["sections"] if s["findings"]}


def test_a_clean_draft_checks_clean_and_run_json_records_what_it_was_checked_against(cli, draft):
    result = cli("check", str(draft))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.strip().endswith(": clean")
    manifest = json.loads((draft / "run.json").read_text())
    assert manifest["kind"] == "post"
    assert {"35 GB", "64 GB", "41 GB", "400 token"} <= set(manifest["checks"]["known_numbers"])
    assert manifest["checks"]["unverified_numbers"] == "attention"


def test_each_kind_of_edit_is_reported_with_its_line_and_exit_3(cli, draft):
    edit(draft, SECTIONS["Where the 64 GB goes"], "Sure! Here's the revised section:\n\n"
         + SECTIONS["Where the 64 GB goes"].replace("about 10 GB", "about 12 GB"))
    edit(draft, SECTIONS["Load, run, exit"], SECTIONS["Load, run, exit"] + " " + SECTIONS["Why memory is the real constraint"]
         .split(". ")[1])
    edit(draft, SECTIONS["The three MLX limits I set"], SECTIONS["The three MLX limits I set"]
         + "\n\nthe cache the limit the cache memory the limit the cache " * 6)
    edit(draft, SECTIONS["Short sections instead of one long generation"],
         SECTIONS["Short sections instead of one long generation"] + "\n\nWould you like me to write the next section?")
    result = cli("check", str(draft), "--json")
    assert result.exit_code == 3
    found = findings(result)
    assert found["Where the 64 GB goes"] == [("chatter", "attention"), ("unverified_number", "attention")]
    assert ("collapse", "attention") in found["The three MLX limits I set"]
    assert found["Short sections instead of one long generation"] == [("chatter", "attention")]
    assert ("repetition", "attention") in found["Load, run, exit"]
    assert "Why memory is the real constraint" not in found  # untouched and clean

    lines = cli("check", str(draft)).stdout.splitlines()
    heading_line = line_of(draft, "## Where the 64 GB goes")
    assert any(line.startswith(f"{draft}/index.md:{heading_line}: [attention] unverified_number") and "12" in line
               for line in lines)
    assert lines[-1].endswith("finding(s) need attention before publishing")


def test_fixing_what_the_run_flagged_makes_the_check_pass(cli, project, draft):
    edit(draft, SECTIONS["Load, run, exit"], SECTIONS["Load, run, exit"] + " It took 17 minutes.")
    assert findings(cli("check", str(draft), "--json"))["Load, run, exit"] == [("unverified_number", "attention")]
    edit(draft, " It took 17 minutes.", "")
    assert cli("check", str(draft)).exit_code == 0


def test_the_runs_review_notes_must_go_before_publishing(cli, project):
    copy_examples(project, "post.yaml")
    script = project / "briefs" / "script.json"
    script.write_text(json.dumps({"sections": {**SECTIONS, "Load, run, exit": SECTIONS["Load, run, exit"]
                                               + " It ran for 17 minutes."}}))
    assert cli("run", "briefs/post.yaml", "--model", f"script:{script}", "--out", "output").exit_code == 3
    draft = next((project / "output" / "posts").iterdir())
    assert ("review_note", "attention") in findings(cli("check", str(draft), "--json"))["Load, run, exit"]
    index = draft / "index.md"
    fixed = "\n".join(line for line in index.read_text().splitlines() if not line.startswith("> **Needs attention"))
    index.write_text(fixed.replace(" It ran for 17 minutes.", ""))
    assert cli("check", str(draft)).exit_code == 0


def test_an_old_run_json_without_its_checks_record_falls_back_to_the_prompts(cli, draft):
    manifest = json.loads((draft / "run.json").read_text())
    del manifest["checks"], manifest["kind"]
    (draft / "run.json").write_text(json.dumps(manifest))
    assert cli("check", str(draft)).exit_code == 0  # every number is in the research the prompts carried
    edit(draft, "about 10 GB", "about 11 GB")
    assert findings(cli("check", str(draft), "--json"))["Where the 64 GB goes"] == [("unverified_number", "attention")]


def test_a_deleted_section_is_noted_not_an_error(cli, draft):
    index = draft / "index.md"
    text = index.read_text()
    start = text.index("## Load, run, exit")
    index.write_text(text[:start].rstrip() + "\n")
    result = cli("check", str(draft), "--json")
    assert result.exit_code == 0
    assert findings(result)["Load, run, exit"] == [("section_removed", "info")]


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "run.json").unlink(), "no run.json here, so not a draft folder"),
    (lambda d: (d / "run.json").write_text("{not json"), "run.json: not valid JSON"),
    (lambda d: (d / "run.json").write_text('{"sections": [1, 2]}'), "not a pipeline run record"),
    (lambda d: (d / "run.json").write_text('{"sections": [], "checks": {"known_numbers": ["x"]}}'), "not a number"),
    (lambda d: (d / "index.md").unlink(), "index.md: cannot read"),
])
def test_a_damaged_draft_folder_is_a_clear_error_naming_the_file(cli, draft, damage, message):
    damage(draft)
    result = cli("check", str(draft))
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_newsletter_recheck_uses_its_feed_links_and_earlier_issues(cli, project, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    brief = copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    insight = ("The lesson is to trade less when the tape is quiet. Most losses came from stops set too tight, "
               "so next week I widen them before changing anything else.")
    pick = '{"picks": [{"id": 1, "reason": "It moved the market this week."}]}'
    script = project / "briefs" / "script.json"
    script.write_text(json.dumps({"sections": {"News that mattered": pick, "One operating insight": insight}}))
    for week, code in (("2026-W15", 0), ("2026-W16", 3)):  # W16 repeats W15's insight word for word
        result = cli("run", str(brief), "--offline", "--week", week, "--model", f"script:{script}", "--out", "output")
        assert result.exit_code == code, result.stderr
    draft = project / "output" / "newsletters" / "2026-W16"
    manifest = json.loads((draft / "run.json").read_text())
    assert manifest["kind"] == "newsletter" and manifest["checks"]["allowed_links"]
    feed_link = manifest["checks"]["allowed_links"][0]
    index = draft / "index.md"
    kept = [line for line in index.read_text().splitlines() if not line.startswith("> **Needs attention")]
    index.write_text("\n".join(kept).replace(insight, f"Read [the outage report]({feed_link}) and "
                                                      "[my notes](https://example.org/invented) before the open, "
                                                      "then wait for the first hour to pass."))
    found = findings(cli("check", str(draft), "--json"))
    assert found["One operating insight"] == [("foreign_link", "attention")]  # the feed's link passes, the invented one not
    index.write_text("\n".join(kept))
    assert ("repetition", "attention") in findings(cli("check", str(draft), "--json"))["One operating insight"]
    # Renamed, the prose section is still checked (run.json's layout tells it from the data tables, which are not)
    index.write_text("\n".join(kept).replace("## One operating insight", "## One lesson").replace(
        insight, "See [my notes](https://example.org/invented) first."))
    found = findings(cli("check", str(draft), "--json"))
    assert {("section_new", "info"), ("foreign_link", "attention")} <= set(found["One lesson"])
    assert set(found) == {"One lesson", "One operating insight"}  # the data sections: no findings, as before


def test_the_text_file_check_still_works_beside_draft_folders(cli, draft, tmp_path):
    loose = tmp_path / "notes.md"
    loose.write_text("## Notes\n\n" + "the cache holds the buffers and " * 30)
    result = cli("check", str(loose), str(draft), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 3 and not report["clean"]
    assert report["files"][0]["collapse"]["detected"] and report["drafts"][0]["clean"]


def test_the_example_post_on_real_model_output_reports_its_invented_numbers_and_chatter(cli, project):
    """The embedded model's real output for the example post (held out from tuning), written and re-checked."""
    real = json.loads((REPO / "tests/real_text/smollm2-example-post.json").read_text())["sections"]
    copy_examples(project, "post.yaml")
    script = project / "briefs" / "script.json"
    script.write_text(json.dumps({"default": "", "sections": real}))
    cli("run", "briefs/post.yaml", "--model", f"script:{script}", "--out", "output")
    draft = next((project / "output" / "posts").iterdir())
    manifest = json.loads((draft / "run.json").read_text())
    codes = {f["code"] for s in manifest["sections"] for f in s["findings"]}
    assert {"unverified_number", "chatter_trimmed"} <= codes
    result = cli("check", str(draft), "--json")
    assert result.exit_code == 3
    assert any(code == "unverified_number" for found in findings(result).values() for code, _ in found)



INDONESIAN = next(i["text"] for i in json.loads((REPO / "tests" / "real_text" / "other_languages.json").read_text())
                  ["written_in"] if i["language"] == "id").split("## Deskripsi\n", 1)[1]  # one section: no headings


def collapse_in(result) -> set[str]:
    return {heading for heading, found in findings(result).items() if ("collapse", "attention") in found}


def test_the_recheck_judges_each_section_in_the_language_its_run_recorded(cli, draft, tmp_path):
    """A reviewer who rewrote a section in Indonesian (real text, a translated manual page): judged as English
    it is token soup; run.json's `language` (the brief's), or --language, says what it is written in."""
    heading = "Load, run, exit"
    edit(draft, SECTIONS[heading], INDONESIAN)
    assert collapse_in(cli("check", str(draft), "--json", "--no-read")) == {heading}
    assert collapse_in(cli("check", str(draft), "--json", "--no-read", "--language", "id")) == set()
    manifest = json.loads((draft / "run.json").read_text())
    assert {s["language"] for s in manifest["sections"]} == {"en"}
    for section in manifest["sections"]:
        section["language"] = "id"
    (draft / "run.json").write_text(json.dumps(manifest))
    assert collapse_in(cli("check", str(draft), "--json", "--no-read")) == set()

    loose = tmp_path / "catatan.md"
    loose.write_text("## Catatan\n\n" + INDONESIAN)
    for language, flagged in ((None, True), ("id", False)):
        result = cli("check", str(loose), "--json", "--no-read", *(["--language", language] if language else []))
        assert json.loads(result.stdout)["files"][0]["collapse"]["detected"] is flagged


def test_a_language_that_is_not_a_code_is_refused_naming_the_option(cli, draft):
    result = cli("check", str(draft), "--language", "Bahasa Indonesia")
    assert result.exit_code == 2 and "--language" in result.output
    assert "'Bahasa Indonesia' is not a language code" in result.output


# From an adversarial probe of `pipeline check` (2026-12-07): each was a false "clean", a traceback or a hang before.
@pytest.mark.parametrize("old, new", [
    ("## Where the 64 GB goes", "## Where all 64 GB go"),  # renamed: checked as a new section, not skipped
    ("## Where the 64 GB goes", "## Where the 64 GB goes ##"),  # closing hashes are markdown too
    ("## Where the 64 GB goes", "### Where the 64 GB goes"),  # demoted by the reviewer
])
def test_an_edited_heading_does_not_hide_its_section_from_the_checks(cli, draft, old, new):
    edit(draft, SECTIONS["Where the 64 GB goes"], "Sure! Here's the revised section:\n\nThe weights take 99 GB.")
    edit(draft, old, new)
    result = cli("check", str(draft), "--no-read", "--json")
    assert result.exit_code == 3, result.stdout
    codes = findings(result)[new.strip("# ")]
    assert {("chatter", "attention"), ("unverified_number", "attention")} <= set(codes)


def test_a_draft_given_by_its_index_md_is_checked_against_its_run_json(cli, draft):
    edit(draft, "The weights take 35 GB.", "The weights take 99 GB.")
    result = cli("check", str(draft / "index.md"), "--no-read", "--json")
    assert result.exit_code == 3 and ("unverified_number", "attention") in findings(result)["Where the 64 GB goes"]


@pytest.mark.parametrize("text", ["", "---\ntitle: x\n---\n", "# Only a title\n\nSome words.\n"])
def test_an_index_md_without_sections_needs_attention_and_is_no_traceback(cli, draft, text):
    (draft / "index.md").write_text(text)
    result = cli("check", str(draft), "--no-read", "--json")
    assert result.exit_code == 3 and findings(result)["index.md"] == [("no_sections", "attention")]


def test_html_that_runs_put_back_by_the_reviewer_needs_attention(cli, draft):
    edit(draft, "The weights take 35 GB.", "The weights take 35 GB. <img src=x onerror=alert(1)>")
    result = cli("check", str(draft), "--no-read", "--json")
    assert result.exit_code == 3 and ("raw_html", "attention") in findings(result)["Where the 64 GB goes"]
    assert "removed" not in result.stdout  # check removes nothing: the message says what to do instead


@pytest.mark.parametrize("front, line", [("---\ntitle: ok\n", 1), ("---\ntitle: a: b: [\n---\n", 2)])
def test_broken_front_matter_is_found_with_its_line(cli, draft, front, line):
    body = (draft / "index.md").read_text().split("---\n", 2)[2]
    (draft / "index.md").write_text(front + body)
    result = cli("check", str(draft), "--no-read", "--json")
    report = json.loads(result.stdout)["drafts"][0]["sections"]
    (front_matter,) = [s for s in report if s["heading"] == "front matter"]
    assert result.exit_code == 3 and front_matter["findings"][0]["code"] == "front_matter" and front_matter["line"] >= line


def test_a_heading_inside_a_code_fence_is_code(cli, draft):
    edit(draft, "The weights take 35 GB.", "The weights take 35 GB.\n\n```\n## Load, run, exit\n```\n")
    result = cli("check", str(draft), "--no-read", "--json")
    assert result.exit_code == 0, result.stdout


@pytest.mark.parametrize("field, value, named", [
    ("messages", "hello", "sections[0].messages"), ("messages", [1, None], "sections[0].messages"),
    ("target_words", "120", "sections[0].target_words"), ("target_words", -5, "sections[0].target_words"),
    ("language", 7, "sections[0].language"),
])
def test_a_hand_edited_run_json_is_a_message_naming_the_field(cli, draft, field, value, named):
    manifest = json.loads((draft / "run.json").read_text())
    manifest["sections"][0][field] = value
    (draft / "run.json").write_text(json.dumps(manifest))
    result = cli("check", str(draft), "--no-read", "--json")
    assert result.exit_code == 2 and named in json.loads(result.stdout)["errors"][0]["error"]


def test_index_md_that_is_not_utf8_names_its_line(cli, draft):
    (draft / "index.md").write_bytes((draft / "index.md").read_bytes() + b"\nCaf\xe9 au lait.\n")
    result = cli("check", str(draft), "--no-read")
    assert result.exit_code == 2 and "is not UTF-8" in result.stderr and "save the file as UTF-8" in result.stderr


def test_a_pipe_named_index_md_is_a_message_not_a_wait(cli, draft):
    import os

    (draft / "index.md").unlink()
    os.mkfifo(draft / "index.md")
    with fails_after(20):
        result = cli("check", str(draft), "--no-read")
    assert result.exit_code == 2 and "not a regular file" in result.stderr


def test_one_bad_path_does_not_keep_the_others_from_being_checked(cli, draft, tmp_path):
    result = cli("check", str(tmp_path / "missing"), str(draft), "--no-read", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 2 and report["drafts"][0]["clean"] and not report["clean"] and report["errors"]


def test_a_run_json_from_an_older_number_format_also_knows_what_its_prompts_held(cli, draft):
    """A draft made before versions and dated days were read as now has a record without them: re-checking it
    must not flag what its own prompts gave. The current format's record is trusted as it stands."""
    run_json = draft / "run.json"
    manifest = json.loads(run_json.read_text())
    manifest["checks"]["known_numbers"].remove("35 GB")  # as if the old reading had missed it
    run_json.write_text(json.dumps(manifest))
    assert findings(cli("check", str(draft), "--json"))["Why memory is the real constraint"] == [
        ("unverified_number", "attention")]
    del manifest["checks"]["numbers_format"]
    run_json.write_text(json.dumps(manifest))
    result = cli("check", str(draft), "--json")
    assert result.exit_code == 0, result.stdout


def test_reasoning_left_in_an_edited_section_needs_attention(cli, draft):
    edit(draft, SECTIONS["Load, run, exit"], SECTIONS["Load, run, exit"]
         + "\n\nWait, did I cover the cron schedule? The brief says to mention it, so I'll add a line.")
    result = cli("check", str(draft), "--json")
    assert result.exit_code == 3
    assert ("reasoning", "attention") in findings(result)["Load, run, exit"]
