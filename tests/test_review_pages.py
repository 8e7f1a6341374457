"""Review pages in a real browser: output/index.html and each draft's review.html, rendered by headless
Chromium from file://, asserted on the DOM it built (against run.json), with screenshots kept."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import copy_examples

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
HOSTILE = ('Memory first. <script>alert("x")</script> Read [this](javascript:alert(1)) before the '
           '<b onclick="x()">cache</b> grows.')
SECTIONS = {
    "Why memory is the real constraint": "A 35 GB model looks small on a 64 GB Mac. It ran for 17 minutes, which "
                                         "is longer than I planned for.",
    "Where the 64 GB goes": "The weights take 35 GB. macOS and my apps take about 10 GB, and the cache takes the rest.",
    "The three MLX limits I set": "I cap the cache at 3 GB and set the memory limit at 48 GB. " + HOSTILE,
    "Short sections instead of one long generation": "Each section is its own call of at most 400 tokens, so the "
                                                     "text never drifts into salad.",
    "Load, run, exit": "Cron starts the job at night. The job loads the model, writes the draft and exits.",
}


def browser(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    """Debian's Chromium, headless, with nothing that reaches the network on its own."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp / 'chromium-profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=60)  # type: ignore[list-item]


def dom(page: Path, tmp: Path) -> str:
    done = browser(["--dump-dom", page.as_uri()], tmp)
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, tmp: Path, name: str) -> Path:
    shot = tmp / f"{name}.png"
    browser([f"--screenshot={shot}", "--window-size=1200,1800", page.as_uri()], tmp)
    assert shot.is_file() and shot.stat().st_size > 10_000  # a rendered page, not a blank one
    return shot


def cli(project: Path, *args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def output(project, monkeypatch, tmp_path):
    """A post (needs attention: an invented number, hostile markup) and a newsletter, written by the real CLI."""
    monkeypatch.chdir(project)
    monkeypatch.setattr("signal.signal", lambda signum, handler: None)
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    copy_examples(project, "post.yaml", "weekly.yaml", "weekly-data.json", feeds=True)
    script = project / "briefs" / "script.json"
    pick = '{"picks": [{"id": 1, "reason": "It moved the market this week."}]}'
    insight = ("The lesson is to trade less when the tape is quiet. Most losses came from stops set too tight, "
               "so next week I widen them before changing anything else.")
    limits = "The three MLX limits I set"  # an unsafe link needs attention: every attempt gets the same text
    script.write_text(json.dumps({"sections": {**SECTIONS, limits: [SECTIONS[limits]] * 3, "News that mattered": pick,
                                               "One operating insight": insight}}))
    assert cli(project, "run", "briefs/post.yaml", "--model", f"script:{script}").exit_code == 3
    assert cli(project, "run", "briefs/weekly.yaml", "--offline", "--model", f"script:{script}").exit_code == 0
    return project / "output"


def drafts(out: Path) -> dict[str, dict]:
    return {p.parent.relative_to(out).as_posix(): json.loads(p.read_text()) for p in out.glob("*/*/run.json")}


def test_every_run_rebuilds_the_index_and_review_lists_the_drafts(output, project):
    assert (output / "index.html").is_file()
    result = cli(project, "review", "--json")
    assert result.exit_code == 0
    listed = {d["folder"]: d for d in json.loads(result.stdout)["drafts"]}
    expected = drafts(output)
    assert set(listed) == set(expected)
    for folder, manifest in expected.items():
        assert listed[folder]["status"] == manifest["status"] and listed[folder]["kind"] == manifest["kind"]
        codes = {f["code"] for s in manifest["sections"] for f in s["findings"] if f["severity"] == "attention"}
        assert set(listed[folder]["attention"]) == codes
        assert listed[folder]["edited"] is False
    lines = cli(project, "review").stdout.splitlines()
    assert lines[-1] == "open output/index.html" and any("needs attention" in line for line in lines)


def test_an_edit_shows_and_a_broken_draft_is_left_out_not_fatal(output, project):
    post = next((output / "posts").iterdir())
    index = post / "index.md"
    index.write_text(index.read_text().replace("17 minutes", "a while"))
    broken = output / "posts" / "2026-01-01-broken"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    listed = {d["folder"]: d for d in json.loads(cli(project, "review", "--json").stdout)["drafts"]}
    assert listed[post.relative_to(output).as_posix()]["edited"] is True
    assert "posts/2026-01-01-broken" not in listed and len(listed) == 2
    assert "a while" in (post / "review.html").read_text()  # the review page shows the edited text


def test_review_without_an_output_folder_says_what_to_do(project, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["review", "--out", "nowhere"])
    assert result.exit_code == 2 and "run `pipeline run BRIEF` first" in result.stderr


def test_pages_are_self_contained_and_escape_model_text(output):
    for page in [output / "index.html", *output.glob("*/*/review.html")]:
        text = page.read_text()
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        assert not re.search(r"<(script|iframe|img|link)\b", text, re.IGNORECASE)  # nothing runs or loads
        assert not re.search(r"""\ssrc\s*=|url\(|@import""", text, re.IGNORECASE)  # links are clicked, nothing is fetched
    review = next((output / "posts").iterdir()) / "review.html"
    text = review.read_text()
    assert "javascript:" not in html.unescape(text).lower() and "onclick" not in text
    assert 'alert("x")' not in text  # the script's content went with the tag


@needs_chromium
def test_chromium_renders_the_index_as_run_json_says(output, tmp_path):
    page = dom(output / "index.html", tmp_path)
    rows = dict(re.findall(r'<tr data-folder="([^"]+)" data-status="([^"]+)"', page))
    assert rows == {folder: m["status"] for folder, m in drafts(output).items()}
    assert 'class="badge needs_attention"' in page and "unverified_number" in page
    screenshot(output / "index.html", tmp_path, "index")


@needs_chromium
def test_chromium_renders_each_review_page_with_its_findings_where_they_occur(output, tmp_path):
    for folder, manifest in drafts(output).items():
        page_path = output / folder / "review.html"
        page = dom(page_path, tmp_path)
        sections = re.split(r'<section class="draft[^"]*" data-heading="', page)[1:]
        shown = {html.unescape(s.split('"', 1)[0]): set(re.findall(r'data-code="([^"]+)"', s.split("</section>")[0]))
                 for s in sections}
        for section in manifest["sections"]:
            assert shown[section["heading"]] >= {f["code"] for f in section["findings"]}, section["heading"]
        screenshot(page_path, tmp_path, folder.replace("/", "-"))
    post = next(p for p in drafts(output) if p.startswith("posts/"))
    page = dom(output / post / "review.html", tmp_path)
    assert "<mark>17</mark>" in page  # the unverified number is marked where it stands
    assert "<script" not in page.split("<main")[1]  # the model's script is gone, not run
    newsletter = dom(output / "newsletters" / "2026-W16" / "review.html", tmp_path)
    assert 'id="feeds"' in newsletter and "It moved the market this week." in newsletter
