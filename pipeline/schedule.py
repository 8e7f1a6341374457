"""`pipeline schedule`: the same weekly build as a crontab line, a systemd user timer and a launchd
agent. Pure: builds the texts and decides where they go; `install.py` writes them."""

from __future__ import annotations

import datetime as dt
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .errors import PipelineError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_AT = re.compile(r"^\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+([01]?\d|2[0-3]):([0-5]\d)\s*$", re.IGNORECASE)


class ScheduleError(PipelineError):
    exit_code = 2


@dataclass(frozen=True)
class When:
    day: int  # 0 = Monday
    hour: int
    minute: int


@dataclass(frozen=True)
class Job:
    name: str  # pipeline-<brief stem>
    workdir: Path  # the project folder (templates and briefs are found from there)
    command: list[str]  # absolute pipeline executable + arguments
    log: Path


def parse_at(text: str) -> When:
    match = _AT.match(text)
    if not match:
        raise ScheduleError(f"--at {text!r} is not a weekly time", hint='write a day and a 24-hour time, e.g. "mon 07:00"')
    return When(DAYS.index(match.group(1).lower()[:3]), int(match.group(2)), int(match.group(3)))


def next_run(when: When, now: dt.datetime) -> dt.datetime:
    """The first time at or after `now` (local, aware) that the schedule fires."""
    day = now.date() + dt.timedelta(days=(when.day - now.weekday()) % 7)
    start = dt.datetime.combine(day, dt.time(when.hour, when.minute), now.tzinfo)
    return start if start >= now else start + dt.timedelta(weeks=1)


def shell_command(job: Job) -> str:
    # The log's folder is made by the job itself: printing the entries must change nothing on disk.
    log = shlex.quote(str(job.log))
    return (f"mkdir -p {shlex.quote(str(job.log.parent))} && cd {shlex.quote(str(job.workdir))} && "
            f"{shlex.join(job.command)} >> {log} 2>&1")


def crontab_line(job: Job, when: When) -> str:
    cron_day = (when.day + 1) % 7  # cron: 0 = Sunday
    command = shell_command(job).replace("%", "\\%")  # cron turns a bare % into a newline
    return f"{when.minute} {when.hour} * * {cron_day} {command}  # {job.name}"


def systemd_units(job: Job, when: When) -> dict[str, str]:
    # systemd expands %-specifiers in these settings: a literal % is written %%.
    workdir, command = str(job.workdir).replace("%", "%%"), shlex.quote(shell_command(job)).replace("%", "%%")
    service = (f"[Unit]\nDescription=pipeline weekly build ({job.name})\n\n[Service]\nType=oneshot\n"
               f"WorkingDirectory={workdir}\nExecStart=/bin/sh -c {command}\n")
    day = DAYS[when.day].capitalize()
    timer = (f"[Unit]\nDescription=Weekly timer for {job.name}\n\n[Timer]\n"
             f"OnCalendar={day} *-*-* {when.hour:02d}:{when.minute:02d}:00\n"
             "Persistent=true\n"  # a machine that was off at build time runs the job when it comes back
             f"Unit={job.name}.service\n\n[Install]\nWantedBy=timers.target\n")
    return {f"{job.name}.service": service, f"{job.name}.timer": timer}


def launchd_plist(job: Job, when: When) -> str:
    args = "".join(f"\n      <string>{escape(a)}</string>" for a in job.command)
    weekday = (when.day + 1) % 7  # launchd: 0 = Sunday
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>local.{escape(job.name)}</string>
  <key>ProgramArguments</key>
  <array>{args}
  </array>
  <key>WorkingDirectory</key>
  <string>{escape(str(job.workdir))}</string>
  <key>StartCalendarInterval</key>
  <dict>
    <key>Weekday</key>
    <integer>{weekday}</integer>
    <key>Hour</key>
    <integer>{when.hour}</integer>
    <key>Minute</key>
    <integer>{when.minute}</integer>
  </dict>
  <key>StandardOutPath</key>
  <string>{escape(str(job.log))}</string>
  <key>StandardErrorPath</key>
  <string>{escape(str(job.log))}</string>
</dict>
</plist>
"""


def launchd_name(job: Job) -> str:
    return f"local.{job.name}.plist"


def job_for(brief: Path, log: Path | None, workdir: Path, out_root: Path) -> Job:
    """The weekly job for a brief: this installation's pipeline, by absolute path (cron has almost no PATH),
    with the project folder, the brief and the output root all absolute, so nothing depends on where it runs."""
    out = (workdir / out_root).resolve()
    log_path = (workdir / log).resolve() if log else out / "logs" / f"{brief.stem}.log"
    command = [*pipeline_command(), "run", str((workdir / brief).resolve()), "--out", str(out)]
    return Job(unit_name(brief), workdir, command, log_path)


def unit_name(brief: Path) -> str:
    """pipeline-<brief>, in the characters a systemd unit, a launchd label and a cron comment all accept."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", brief.stem).strip("-.") or "brief"
    return f"pipeline-{stem}"


def pipeline_command() -> list[str]:
    candidate = Path(sys.argv[0])
    if candidate.name == "pipeline" and candidate.exists():
        return [str(candidate.absolute())]
    found = shutil.which("pipeline")
    return [found] if found else [sys.executable, "-m", "pipeline"]


def unit_files(job: Job, when: When, platform: str, home: Path) -> tuple[dict[Path, str], str]:
    """The files `--install` writes on this platform, and the command that activates them."""
    if platform == "darwin":
        target = home / "Library" / "LaunchAgents" / launchd_name(job)
        return {target: launchd_plist(job, when)}, f"launchctl load {target}"
    folder = home / ".config" / "systemd" / "user"
    files = {folder / name: text for name, text in systemd_units(job, when).items()}
    return files, f"systemctl --user daemon-reload && systemctl --user enable --now {job.name}.timer"
