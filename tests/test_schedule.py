"""`pipeline schedule`: the printed cron line, systemd units and launchd agent are valid and run."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.schedule import ScheduleError, When, parse_at

from .conftest import MINIMAL_BRIEF, REPO, copy_examples, copy_shipped_templates
from .tiny_models import ANSWER_CHAIN, THINKING_CHAIN, build_scripted_qwen3


@pytest.mark.parametrize("text,expected", [("mon 07:00", When(0, 7, 0)), ("Sunday 23:59", When(6, 23, 59)),
                                           ("fri 7:05", When(4, 7, 5))])
def test_parse_at(text, expected):
    assert parse_at(text) == expected


@pytest.mark.parametrize("text", ["monday", "07:00", "mon 24:00", "xyz 07:00", "mon 7:5"])
def test_parse_at_rejects_what_it_cannot_schedule(text):
    with pytest.raises(ScheduleError, match="mon 07:00"):
        parse_at(text)


def schedule(project, brief, *extra, home=None):
    env = {"HOME": str(home)} if home else {}
    cwd = os.getcwd()
    os.chdir(project)
    try:
        return CliRunner(env=env).invoke(main, ["schedule", str(brief), "--at", "wed 06:30", *extra])
    finally:
        os.chdir(cwd)


def test_prints_cron_systemd_and_launchd_entries(project, write_brief):
    brief = write_brief()
    result = schedule(project, brief)
    assert result.exit_code == 0, result.output
    out = result.stdout
    cron = next(line for line in out.splitlines() if re.match(r"^\d", line))
    assert cron.startswith("30 6 * * 3 mkdir -p ") and f"run {brief.resolve()} --out " in cron and ">> " in cron
    assert "OnCalendar=Wed *-*-* 06:30:00" in out and "Persistent=true" in out
    plist = plistlib.loads(out[out.index("<?xml"):].encode())
    assert plist["StartCalendarInterval"] == {"Weekday": 3, "Hour": 6, "Minute": 30}
    assert plist["ProgramArguments"][-4:] == ["run", str(brief.resolve()), "--out", str((project / "output").resolve())]
    assert plist["WorkingDirectory"] == str(project.resolve())


def test_bad_brief_or_time_is_refused(project, write_brief):
    brief = write_brief("title: x\n")
    assert schedule(project, brief).exit_code == 2
    good = write_brief(name="good.yaml")
    result = CliRunner().invoke(main, ["schedule", str(good), "--at", "someday"])
    assert result.exit_code == 2 and "mon 07:00" in result.stderr


def test_install_writes_systemd_units_under_home(project, write_brief, tmp_path):
    brief = write_brief()
    result = schedule(project, brief, "--install", home=tmp_path / "home")
    assert result.exit_code == 0
    if sys.platform == "darwin":
        assert (tmp_path / "home/Library/LaunchAgents/local.pipeline-post.plist").exists()
    else:
        units = tmp_path / "home/.config/systemd/user"
        assert (units / "pipeline-post.timer").read_text().count("Persistent=true") == 1
        assert "systemctl --user enable --now pipeline-post.timer" in result.stderr


@pytest.mark.mlx
def test_the_cron_command_really_builds_the_draft(project, write_brief, tmp_path):
    model = build_scripted_qwen3(tmp_path / "model", {**THINKING_CHAIN, **ANSWER_CHAIN})
    brief = write_brief(f"""\
title: Scheduled
date: 2026-11-23
model: {model}
stages:
  draft: {{max_tokens: 40, temperature: 0.0}}
sections:
  - {{heading: One, instruction: Write., words: 20}}
""")
    cron = next(line for line in schedule(project, brief).stdout.splitlines() if re.match(r"^\d", line))
    command = cron.split(" ", 5)[5].rsplit("  # ", 1)[0]
    done = subprocess.run(["/bin/sh", "-c", command], env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                          timeout=120)  # cron's bare environment
    assert done.returncode == 0
    assert (project / "output/posts/2026-11-23-scheduled/index.md").exists()
    assert "draft:" in (project / "output/logs/post.log").read_text()


def weekly_brief(project, *, pinned: bool = False, covers: str = "last"):
    brief = copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    text = brief.read_text()
    brief.write_text(text if pinned else text.replace("week: 2026-W16\n", f"covers: {covers}\n"))
    return brief


def test_the_repositorys_weekly_example_is_schedulable_as_the_readme_shows(project):
    shutil.copytree(REPO / "briefs", project / "briefs", dirs_exist_ok=True)
    result = schedule(project, "briefs/weekly.yaml")
    assert result.exit_code == 0, result.output
    assert "builds 20" in result.stdout.splitlines()[0] and "(covers: last)" in result.stdout.splitlines()[0]


def test_printing_the_entries_writes_nothing_and_names_every_path(project, write_brief):
    brief = write_brief()
    before = sorted(p for p in project.rglob("*"))
    result = schedule(project, "briefs/post.yaml", "--out", "drafts")
    assert result.exit_code == 0, result.output
    assert sorted(p for p in project.rglob("*")) == before  # no logs/ folder, nothing
    cron = next(line for line in result.stdout.splitlines() if re.match(r"^\d", line))
    out = (project / "drafts").resolve()
    assert f"mkdir -p {out / 'logs'} && cd {project.resolve()} && " in cron
    assert f"run {brief.resolve()} --out {out} >> {out / 'logs' / 'post.log'}" in cron


def test_schedule_says_which_week_the_next_run_builds(project, monkeypatch):
    import datetime as dt

    from pipeline import cli

    class Now(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # Tue 2026-11-24 10:00 local: the next "wed 06:30" is in W48
            return dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)

    monkeypatch.setattr(cli.dt, "datetime", Now)
    out = schedule(project, weekly_brief(project)).stdout
    assert out.splitlines()[0] == "# the next run, Wed 2026-11-25 06:30, builds 2026-W47 (covers: last)"
    out = schedule(project, weekly_brief(project, covers="current")).stdout
    assert "builds 2026-W48 (covers: current)" in out.splitlines()[0]


def test_schedule_refuses_a_brief_that_pins_its_week(project):
    brief = weekly_brief(project, pinned=True)
    result = schedule(project, brief)
    line = brief.read_text().splitlines().index("week: 2026-W16") + 1
    assert result.exit_code == 2 and result.stdout == ""
    assert f"{brief}:{line}: the brief pins `week: 2026-W16`" in result.stderr and "delete the line" in result.stderr


@pytest.mark.parametrize("change, message", [
    (("model: builtin:smollm2", "model: builtin:nope"), "unknown builtin model 'nope'"),
    (("title: Memory", "templates: ../missing\ntitle: Memory"), "template folder"),
    (("model: builtin:smollm2", "model: script:absent.yaml"), "cannot read script"),
])
def test_schedule_refuses_what_validate_refuses(project, write_brief, change, message):
    brief = write_brief(MINIMAL_BRIEF.replace(*change))
    result = schedule(project, brief)
    validate = CliRunner().invoke(main, ["validate", str(brief)])
    assert result.exit_code != 0 and validate.exit_code == result.exit_code
    assert result.stdout == "" and message in result.stderr


def test_percent_signs_and_odd_brief_names_are_escaped_for_each_scheduler(tmp_path):
    project = tmp_path / "50% done"
    copy_shipped_templates(project / "templates")
    (project / "briefs").mkdir()
    brief = project / "briefs" / "my 'weekly' post.yaml"
    brief.write_text(MINIMAL_BRIEF)
    result = schedule(project, brief, "--install", home=tmp_path / "home")
    assert result.exit_code == 0, result.stderr
    cron = next(line for line in result.stdout.splitlines() if re.match(r"^\d", line))
    assert "50\\% done" in cron and "50% done" not in cron.replace("\\%", "")
    units = tmp_path / "home/.config/systemd/user"
    if sys.platform != "darwin":
        assert sorted(p.name for p in units.iterdir()) == ["pipeline-my-weekly-post.service", "pipeline-my-weekly-post.timer"]
        service = (units / "pipeline-my-weekly-post.service").read_text()
        assert "WorkingDirectory=" + str(project.resolve()).replace("%", "%%") in service
        assert "50%% done" in service and "50% done" not in service.replace("%%", "")
