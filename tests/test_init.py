"""`pipeline init`: a new project that validates, runs, schedules, and keeps what is already there."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from pipeline.backends.script import ScriptBackend
from pipeline.cli import main
from pipeline.prompts import SHIPPED_TEMPLATES

from .conftest import opener_for

SECTIONS = {
    "Why I started": "I wanted drafts that never leave my machine. A local model writes them at night, one short section "
                     "at a time, and I review them over coffee. Nothing is sent anywhere, and the cost is the power I "
                     "already pay for. That trade felt right for notes that mention clients by name.",
    "What surprised me": "The surprise was how much the brief matters. With good notes the sections read well; with thin "
                         "notes the model fills gaps with confident filler. Writing the research block became the real "
                         "work, and the drafting became the easy part of the week. I now keep notes as I go, in a plain "
                         "file beside the brief, and the sections that come back need far fewer edits.",
    "What I would do differently": "First, I would write the notes before the outline, not after it. Second, I would "
                                   "keep each section shorter and ask for fewer of them, because short sections stay "
                                   "on topic and are quicker to review. Both changes start next month, and I will "
                                   "compare the edits I make against this month's drafts.",
}


def invoke(folder, *args, backend=None):
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        obj = {"backend_opener": opener_for(backend)} if backend else None
        return CliRunner().invoke(main, list(args), obj=obj)
    finally:
        os.chdir(cwd)


def test_a_new_project_validates_runs_and_schedules(tmp_path):
    project = tmp_path / "blog"
    made = invoke(tmp_path, "init", "blog")
    assert made.exit_code == 0, made.output
    assert "wrote blog/briefs/first.yaml" in made.stdout and "pipeline run briefs/first.yaml" in made.stderr
    assert len((project / "briefs" / "first.yaml").read_text().splitlines()) <= 10
    assert (project / "templates" / "section.md.j2").read_text() == (SHIPPED_TEMPLATES / "post" / "section.md.j2").read_text()
    assert (project / "templates" / "newsletter" / "news.md.j2").is_file()
    assert (project / ".gitignore").read_text().splitlines()[-1] == "output/"
    for brief in ("briefs/first.yaml", "briefs/weekly.yaml"):
        assert invoke(project, "validate", brief).exit_code == 0
    ran = invoke(project, "run", "briefs/first.yaml", backend=ScriptBackend(by_label={k: [v] for k, v in SECTIONS.items()}))
    assert ran.exit_code == 0, ran.output
    draft = next((project / "output" / "posts").iterdir())
    assert "## What surprised me" in (draft / "index.md").read_text()
    assert (project / "output" / "index.html").is_file()
    scheduled = invoke(project, "schedule", "briefs/weekly.yaml", "--at", "mon 07:00")
    assert scheduled.exit_code == 0 and "builds 20" in scheduled.stdout.splitlines()[0]


def test_init_keeps_what_is_there(tmp_path):
    (tmp_path / "templates").mkdir()
    mine = tmp_path / "templates" / "section.md.j2"
    mine.write_text("My own section prompt for {{ section.heading }}.\n")
    result = invoke(tmp_path, "init")
    assert result.exit_code == 0
    assert mine.read_text() == "My own section prompt for {{ section.heading }}.\n"
    assert "kept  templates/section.md.j2 (already there)" in result.stdout
    assert (tmp_path / "templates" / "system.md.j2").is_file()  # the missing ones are written


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_it_cannot_write_is_a_message(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = invoke(tmp_path, "init", "locked")
    assert result.exit_code != 0 and "cannot write the project" in result.stderr and "Traceback" not in result.output


def test_the_readme_shows_the_brief_init_writes():
    from pipeline.init import FIRST_BRIEF

    from .conftest import REPO

    assert f"```yaml\n{FIRST_BRIEF}```" in (REPO / "README.md").read_text()
