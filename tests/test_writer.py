"""The draft writer (atomic, never clobbering, safe names) and the assembled page (tidy, sanitized)."""

from __future__ import annotations

import builtins
import datetime as dt
import errno
import os
from pathlib import Path

import pytest
import yaml

from pipeline import writer
from pipeline.assemble import Draft, DraftSection, assemble_post, markdown_page, tidy_section
from pipeline.config import Brief
from pipeline.errors import OutputError, OutputExistsError
from pipeline.writer import draft_dir, write_draft

KEY = "2026-11-23-a-post"


def draft(text: str = "New text.") -> Draft:
    return Draft("posts", KEY, {"index.md": f"# {text}\n", "index.html": f"<p>{text}</p>\n", "run.json": "{}\n"})


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for folders): compare before and after."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


@pytest.fixture
def out(project) -> Path:
    return project / "output"


@pytest.fixture
def old_draft(out) -> Path:
    target = write_draft(out, draft("Old text."), force=False)
    assert (target / "index.md").read_text() == "# Old text.\n"
    return target


def fail_on_fsync(number: int, error: int = errno.ENOSPC):
    """An os.fsync that fails on its number-th call, as a full disk does."""
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == number:
            raise OSError(error, os.strerror(error))
        return os.fsync(fd)

    return fsync


# Atomic writes.

def test_new_draft_has_every_file_and_no_staging_left(out):
    target = write_draft(out, draft(), force=False)
    assert target == (out / "posts" / KEY).resolve()
    assert sorted(p.name for p in target.iterdir()) == ["index.html", "index.md", "run.json"]
    assert [p.name for p in (out / "posts").iterdir()] == [KEY]


def test_draft_folder_gets_the_usual_permissions_not_the_staging_ones(out):
    target = write_draft(out, draft(), force=False)
    (out / "posts" / "plain").mkdir()  # what any other new folder here gets under this umask
    assert target.stat().st_mode & 0o777 == (out / "posts" / "plain").stat().st_mode & 0o777


@pytest.mark.parametrize("failing_call", [1, 3])
def test_disk_full_leaves_no_partial_draft(out, monkeypatch, failing_call):
    monkeypatch.setattr(writer.os, "fsync", fail_on_fsync(failing_call))
    with pytest.raises(OutputError) as info:
        write_draft(out, draft(), force=False)
    assert "No space left on device" in info.value.message and str(out / "posts" / KEY) in info.value.message
    assert info.value.hint == "free some disk space and run again; existing drafts were not touched"
    assert list((out / "posts").iterdir()) == []  # no target, no staging folder


def test_disk_full_while_replacing_keeps_the_old_draft(out, old_draft, monkeypatch):
    before = tree(out)
    monkeypatch.setattr(writer.os, "fsync", fail_on_fsync(2))
    with pytest.raises(OutputError) as info:
        write_draft(out, draft("New text."), force=True)
    assert "free some disk space" in info.value.hint and "existing drafts were not touched" in info.value.hint
    assert tree(out) == before


def test_unwritable_staging_file_leaves_old_draft_intact(out, old_draft, monkeypatch):
    real_open = builtins.open

    def refuse_html(path, *args, **kwargs):
        if str(path).endswith("index.html"):  # index.md was already written into staging
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    before = tree(out)
    monkeypatch.setattr(builtins, "open", refuse_html)
    with pytest.raises(OutputError) as info:
        write_draft(out, draft(), force=True)
    assert "Permission denied" in info.value.message and "--out" in info.value.hint
    assert tree(out) == before


def test_failed_swap_puts_the_old_draft_back(out, old_draft, monkeypatch):
    real_replace = os.replace

    def replace(src, dst):
        if ".staging-" in str(src):
            raise OSError(errno.EIO, "Input/output error", str(src))
        return real_replace(src, dst)

    before = tree(out)
    monkeypatch.setattr(writer.os, "replace", replace)
    with pytest.raises(OutputError, match="Input/output error"):
        write_draft(out, draft(), force=True)
    assert tree(out) == before


# Leftovers of a replace that a crash interrupted (the real-signal matrix is in test_output_safety.py).

def test_a_retired_draft_with_no_new_one_is_restored(out, old_draft, caplog):
    os.replace(old_draft, old_draft.with_name(f".replaced-{KEY}"))  # SIGKILL between the two renames
    before = tree(out)
    with caplog.at_level("WARNING", logger="pipeline"):
        assert writer.check_target(out, "posts", KEY, force=True) == old_draft
    assert (old_draft / "index.md").read_text() == "# Old text.\n"
    assert f"recovered an interrupted replace of {old_draft}" in caplog.text and "earlier one is back" in caplog.text
    assert len(tree(out)) == len(before) and [p.name for p in (out / "posts").iterdir()] == [KEY]


def test_a_half_deleted_draft_is_never_restored(out, old_draft):
    removing = old_draft.with_name(f".removing-{KEY}")
    os.replace(old_draft, removing)
    (removing / "index.md").unlink()  # SIGKILL part-way through deleting the replaced draft
    assert writer.recover(out / "posts") == [f"recovered an interrupted replace of {old_draft}: "
                                             "finished removing the earlier draft"]
    assert list((out / "posts").iterdir()) == []  # no half draft came back


def test_staging_and_probe_leftovers_are_removed_quietly(out, old_draft):
    (out / "posts" / f".staging-{KEY}-abc").mkdir()
    (out / "posts" / f".staging-{KEY}-abc" / "index.md").write_text("half")
    (out / "posts" / ".probe-xyz").write_bytes(b"0" * 10)
    assert writer.recover(out / "posts") == []
    assert [p.name for p in (out / "posts").iterdir()] == [KEY]


def test_other_hidden_files_are_left_alone(out, old_draft):
    (out / "posts" / ".DS_Store").write_text("finder")
    writer.recover(out / "posts")
    assert (out / "posts" / ".DS_Store").read_text() == "finder"


def test_a_replaced_draft_that_cannot_be_deleted_is_a_warning_not_a_failure(out, old_draft, monkeypatch, caplog):
    real_rmtree = writer.shutil.rmtree

    def rmtree(path, *args, **kwargs):
        if ".removing-" in str(path) and not kwargs.get("ignore_errors"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(writer.shutil, "rmtree", rmtree)
    with caplog.at_level("WARNING", logger="pipeline"):
        target = write_draft(out, draft("New text."), force=True)
    assert (target / "index.md").read_text() == "# New text.\n" and "the next run removes it" in caplog.text
    monkeypatch.undo()
    writer.check_target(out, "posts", KEY, force=True)
    assert [p.name for p in (out / "posts").iterdir()] == [KEY]


def test_deferred_signals_deliver_the_signal_after_the_block():
    import signal

    from pipeline.signals import deferred_signals

    with pytest.raises(KeyboardInterrupt), deferred_signals():
        signal.raise_signal(signal.SIGINT)
        reached = True  # the block ran to its end first
    assert reached and signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_output_folder(out):
    (out / "posts").mkdir()
    (out / "posts").chmod(0o555)
    try:
        with pytest.raises(OutputError) as info:
            write_draft(out, draft(), force=False)
    finally:
        (out / "posts").chmod(0o755)
    assert "--out" in info.value.hint and list((out / "posts").iterdir()) == []


# Clobbering.

def test_existing_draft_is_refused_without_force(out, old_draft):
    before = tree(out)
    with pytest.raises(OutputExistsError) as info:
        write_draft(out, draft("New text."), force=False)
    assert info.value.message == f"a draft already exists at {old_draft}"
    assert "--force" in info.value.hint
    assert tree(out) == before


def test_force_replaces_the_whole_draft(out, old_draft):
    (old_draft / "notes.txt").write_text("an extra file of the old draft")
    target = write_draft(out, draft("New text."), force=True)
    assert target == old_draft
    assert (target / "index.md").read_text() == "# New text.\n"
    assert not (target / "notes.txt").exists()
    assert [p.name for p in (out / "posts").iterdir()] == [KEY]  # no staging or retired folder left


# Names.

@pytest.mark.parametrize("kind, key", [
    ("posts", ".."), ("posts", "../etc"), ("posts", "a/b"), ("posts", "/abs"), ("posts", ""),
    ("posts", ".hidden"), ("posts", "a..b"), ("..", "key"), ("", "key"), ("po/sts", "key"),
])
def test_unsafe_names_are_refused(out, kind, key):
    with pytest.raises(OutputError, match="unsafe output folder name"):
        draft_dir(out, kind, key)
    with pytest.raises(OutputError, match="unsafe output folder name"):
        write_draft(out, Draft(kind, key, {"index.md": "x"}), force=True)
    assert tree(out) == {}


def test_symlinked_draft_folder_pointing_outside_is_refused(out, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "posts").mkdir()
    (out / "posts" / KEY).symlink_to(outside)
    with pytest.raises(OutputError, match="is outside"):
        write_draft(out, draft(), force=True)
    assert list(outside.iterdir()) == []


# The assembled page.

def brief(**fields) -> Brief:
    data = {"title": "A post", "date": dt.date(2026, 11, 23), "sections": [
        {"heading": "First things", "instruction": "Do.", "words": 30}]}
    return Brief.model_validate({**data, **fields})


def assembled(text: str, heading: str = "First things", **fields) -> Draft:
    return Draft("posts", "a-post", assemble_post(brief(**fields), [DraftSection(heading, text)], "fake-model", "run-1"))


def test_untrusted_html_does_not_reach_index_html():
    text = ("Intro <script>alert(1)</script> text.\n\n"
            "<img src=x onerror=\"alert(2)\">\n\n"
            "[click](javascript:alert(3)) and [again](JaVaScRiPt:alert(4)) and "
            "<a href=\"java&#115;cript:alert(5)\">z</a>\n\n"
            "<svg onload=alert(6)></svg><iframe src=\"https://evil.example\"></iframe>\n\n"
            "A [fine link](https://example.com).")
    page = assembled(text).files["index.html"].lower()
    for dangerous in ("<script", "alert(1)", "onerror", "onload", "javascript:", "java&#115;cript", "<iframe", "<svg"):
        assert dangerous not in page
    assert '<a href="https://example.com"' in page and "fine link" in page
    assert "<p>intro  text.</p>" in page


def test_title_is_escaped_in_html():
    page = assembled("Text.", title="<b>Bold</b> & co").files["index.html"]
    assert "<title>&lt;b&gt;Bold&lt;/b&gt; &amp; co</title>" in page and "<b>" not in page


@pytest.mark.parametrize("first_line", ["## First things", "# First things", "First things", "**First things**",
                                        "### First Things:"])
def test_model_written_heading_that_repeats_ours_is_cut_as_chatter(first_line):
    from pipeline.checks.chatter import trim_chatter

    trimmed = trim_chatter(f"{first_line}\n\nThe body.", "First things")
    assert trimmed.text == "The body." and trimmed.removed == [first_line]


def test_a_first_line_that_only_starts_like_the_heading_is_kept():
    from pipeline.checks.chatter import trim_chatter

    assert trim_chatter("First things first: memory.\nMore.", "First things").removed == []


def test_headings_inside_a_section_are_demoted_below_ours():
    text = "Intro.\n# Big\n## Mid\n### Small\n#### Tiny\n  ## Indented\n#hashtag is not a heading"
    assert tidy_section("Other", text).splitlines() == [
        "Intro.", "### Big", "### Mid", "### Small", "#### Tiny", "### Indented", "#hashtag is not a heading"]


def test_comments_inside_code_blocks_are_not_demoted():
    text = "Run this:\n```bash\n# wire the model's size\n## twice\nsudo sysctl iogpu.wired_limit_mb=36000\n```\n# After"
    assert tidy_section("Other", text).splitlines() == [
        "Run this:", "```bash", "# wire the model's size", "## twice", "sudo sysctl iogpu.wired_limit_mb=36000", "```",
        "### After"]


def test_html_has_our_heading_levels_only():
    page = assembled("## First things\n# Shouting\nText.").files["index.html"]
    assert "<h1>A post</h1>" in page and "<h2>First things</h2>" in page and "<h3>Shouting</h3>" in page
    assert page.count("<h1>") == 1 and page.count("<h2>") == 1


@pytest.mark.parametrize("title", ['Memory: a "budget" for 64 GB', "It's: 'quoted' # not a comment", "---",
                                   "- looks like a list", "yes", "2026-11-23", "a --- b", "{flow}: [x]"])
def test_front_matter_is_valid_yaml_for_awkward_titles(title):  # a title with a line break is refused by the brief
    md = assembled("Text.", title=title, description='Say "hi": ok', tags=["a: b", "c"]).files["index.md"]
    assert md.startswith("---\n")
    header, body = md[4:].split("\n---\n", 1)
    meta = yaml.safe_load(header)
    assert meta["title"] == title and meta["description"] == 'Say "hi": ok' and meta["tags"] == ["a: b", "c"]
    assert meta["draft"] is True and meta["date"] == "2026-11-23" and meta["model"] == "fake-model"
    assert body.startswith("\n## First things")


def test_markdown_page_round_trips_unicode():
    page = markdown_page({"title": "Café — ünïcode"}, "Body")
    assert "Café — ünïcode" in page and yaml.safe_load(page.split("---\n")[1]) == {"title": "Café — ünïcode"}


def test_raw_html_is_removed_where_a_markdown_parser_sees_it_not_where_a_line_regex_does():
    # "```js```" is inline code (a backtick fence's info has no backtick) and "```python" closes no fence.
    text = "```js```\n<b>gone</b>\n\n```\n```python\n<i>kept in code</i>\n```\n<u>gone too</u>\nEnd."
    assert tidy_section("Other", text).splitlines() == [
        "```js```", "gone", "", "```", "```python", "<i>kept in code</i>", "```", "gone too", "End."]


@pytest.mark.parametrize(("line", "kept"), [
    ("a `<b>` c <i>d</i>", "a `<b>` c d"),  # a code span keeps its tags
    ("Try `` <b>x</b> ` now.", "Try `` x ` now."),  # `` opens a span only if `` closes it
    ("\\`<b>x</b>` y", "\\`x` y"),  # an escaped backtick opens none
    ("``a ` <b>`` then <i>z</i>", "``a ` <b>`` then z"),
    ("<scr<b>ipt>alert(1)</scr<b>ipt> ok", " ok"),  # removing <b> must not leave a <script>
])
def test_tags_outside_code_spans_are_removed(line, kept):
    assert tidy_section("Other", line) == kept.strip()


def test_tags_that_run_are_defused_in_code_too():
    md = assembled("Code: `<svg onload=alert(1)>` and\n```\n<img src=x onerror=alert(2)>\n<b>plain</b>\n```").files
    body = md["index.md"].split("---\n", 2)[2]
    assert "<\u200bsvg onload=alert(1)>" in body and "<\u200bimg src=x onerror=alert(2)>" in body
    assert "<b>plain</b>" in body  # harmless markup in code is left as written


def test_kramdown_attribute_lists_and_extensions_are_inert_but_format_specs_are_not_touched():
    body = assembled('Para.\n{: onclick="alert(1)"}\n\n{::nomarkdown}x{:/}\n\n`"{:.2f}".format(x)`').files["index.md"]
    assert '{\u200b: onclick="alert(1)"}' in body and "{\u200b::nomarkdown}" in body and '"{:.2f}"' in body
