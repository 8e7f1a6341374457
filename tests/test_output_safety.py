"""Output safety. A --force replace under real signals at every step: afterwards exactly one whole
draft exists (the earlier one or the new one, never none and never a mix), the CLI says truly what
happened, and the next run clears what was left and says so. Output problems end in messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .conftest import opener_for
from .test_newsletter import INSIGHT, PICK

OLD, NEW = "The reviewed draft says this. It stays.", "The replacement draft says that. It arrives."
KEY = "2026-11-23-memory-budgets-for-local-models"
STEPS = ["staged", "retired", "swapped", "cleaning"]  # files written / old retired / new in place / old half-deleted
SIGNALS = {"INT": (signal.SIGINT, 130), "TERM": (signal.SIGTERM, 143), "KILL": (signal.SIGKILL, -signal.SIGKILL)}


def script(project, text: str) -> str:
    path = project / f"{text.split()[1]}.yaml"
    path.write_text(f'default: "{text}"\n')
    return f"script:{path}"


def cli_args(brief, project, text: str, *extra: str) -> list[str]:
    return ["run", str(brief), "--out", str(project / "output"), "--model", script(project, text), *extra]


def the_draft(project) -> tuple[str, str]:
    """(which text, its folder): the only entry under posts/, whole: every file from one run."""
    posts = project / "output" / "posts"
    entries = sorted(p.name for p in posts.iterdir())
    assert len(entries) == 1 and not entries[0].startswith("."), f"leftovers or no draft: {entries}"
    folder = posts / entries[0]
    assert sorted(p.name for p in folder.iterdir()) == ["index.html", "index.md", "review.html", "run.json"]
    texts = [p.read_text() for p in folder.iterdir()]
    which = {label for label, text in (("OLD", OLD), ("NEW", NEW)) for t in texts if text.split(".")[0] in t}
    assert len(which) == 1 and all(any(text.split(".")[0] in t for text in (OLD, NEW)) for t in texts), which
    return which.pop(), str(folder)


def signal_at(step: str, signum: int, args: list[str]) -> tuple[int, str]:
    """Run `pipeline run --force` in a real process, stop it at `step`, send `signum`."""
    child = subprocess.Popen([sys.executable, "-m", "pipeline", *args], stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PIPELINE_FAILPOINT": step, "PYTHONUNBUFFERED": "1"})
    assert child.stderr is not None
    seen = []
    for line in child.stderr:
        seen.append(line)
        if line.startswith(f"failpoint {step}"):
            child.send_signal(signum)
            break
    rest = child.communicate(timeout=60)[1]
    assert any(line.startswith("failpoint") for line in seen), "".join(seen)
    return child.returncode, "".join(seen) + rest


@pytest.mark.parametrize("sig", SIGNALS)
@pytest.mark.parametrize("step", STEPS)
def test_a_signal_at_any_step_of_a_replace_leaves_one_whole_draft(write_brief, project, step, sig):
    brief = write_brief()
    assert CliRunner().invoke(main, cli_args(brief, project, OLD)).exit_code in (0, 3)
    signum, code = SIGNALS[sig]
    returncode, stderr = signal_at(step, signum, cli_args(brief, project, NEW, "--force"))
    assert returncode == code, stderr
    expected = "OLD" if step == "staged" or (step == "retired" and sig == "KILL") else "NEW"
    if sig != "KILL":  # the process finished the swap (or never began it) and cleaned up before exiting
        which, folder = the_draft(project)
        assert which == expected and "Traceback" not in stderr
        if expected == "OLD":
            assert "interrupted: nothing was written; existing drafts are untouched" in stderr
        else:
            assert f"interrupted after writing {folder} (replaced the earlier draft)" in stderr
            assert "untouched" not in stderr.split("interrupted after")[0]
    nxt = CliRunner().invoke(main, cli_args(brief, project, NEW))  # the next run, without --force
    assert nxt.exit_code == 1 and "a draft already exists" in nxt.stderr
    assert the_draft(project)[0] == expected  # and nothing hidden is left beside it
    recovered = sig == "KILL" and step != "staged"
    assert ("recovered an interrupted replace of" in nxt.stderr) == recovered, nxt.stderr
    if recovered:
        assert ("earlier one is back" in nxt.stderr) == (expected == "OLD")


def test_a_replace_under_way_in_another_process_is_not_taken_for_a_leftover(write_brief, project):
    from pipeline.writer import check_target

    brief = write_brief()
    assert CliRunner().invoke(main, cli_args(brief, project, OLD)).exit_code in (0, 3)
    child = subprocess.Popen([sys.executable, "-m", "pipeline", *cli_args(brief, project, NEW, "--force")],
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PIPELINE_FAILPOINT": "retired", "PYTHONUNBUFFERED": "1"})
    assert child.stderr is not None
    for line in child.stderr:
        if line.startswith("failpoint retired"):
            break
    assert (project / "output" / "posts" / f".replaced-{KEY}").is_dir()  # mid-swap: what a crash would leave
    started = time.monotonic()
    assert check_target(project / "output", "posts", KEY, force=True)  # waits for that swap, recovers nothing
    assert time.monotonic() - started > 0.3
    child.communicate(timeout=60)
    assert child.returncode in (0, 3) and the_draft(project)[0] == "NEW"


# -- output problems end in messages, before the model loads ---------------------------------------
def cli_run(brief, out, backend):
    return CliRunner().invoke(main, ["run", str(brief), "--out", str(out)], obj={"backend_opener": opener_for(backend)})


def test_out_below_a_regular_file_is_a_message_before_any_generation(write_brief, project, fake):
    (project / "afile").write_text("x")
    result = cli_run(write_brief(), project / "afile" / "output", fake)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "cannot use the output folder" in result.stderr and "--out" in result.stderr
    assert fake.history == []


def test_a_read_only_output_folder_fails_in_seconds_not_after_generation(write_brief, project, fake, monkeypatch):
    import errno
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", kwargs.get("dir"))

    (project / "output" / ".pipeline").mkdir(parents=True)  # the lock folder exists; the drafts' does not
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)
    result = cli_run(write_brief(), project / "output", fake)
    assert result.exit_code == 1 and "Read-only file system" in result.stderr
    assert "make the output folder writable" in result.stderr and fake.history == []


def test_a_full_output_disk_fails_before_the_model_loads(write_brief, project, fake, monkeypatch):
    import errno

    from pipeline import writer

    class Full:  # creating a file needs no free block; writing 64 KiB into it does
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer.tempfile, "NamedTemporaryFile", Full)
    result = cli_run(write_brief(), project / "output", fake)
    assert result.exit_code == 1 and "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert "free some disk space" in result.stderr and fake.history == []


def test_the_probe_leaves_nothing_behind_and_creates_no_folder(write_brief, project, fake):
    fake.enqueue("The first section text is here. It is fine.", "The second section text is here. It is fine too.")
    assert cli_run(write_brief(), project / "output", fake).exit_code in (0, 3)
    assert not list((project / "output").rglob(".probe-*"))
    assert sorted(p.name for p in (project / "output").iterdir()) == [".pipeline", "index.html", "posts"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_a_read_only_output_folder_for_real(write_brief, project, fake):
    (project / "output").chmod(0o555)
    try:
        result = cli_run(write_brief(), project / "output", fake)
    finally:
        (project / "output").chmod(0o755)
    assert result.exit_code == 1 and "Traceback" not in result.stderr and fake.history == []


def test_a_symlink_planted_at_the_lock_path_is_refused(write_brief, project, fake, tmp_path):
    from pipeline.state import brief_id

    brief = write_brief()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    lock_dir = project / "output" / ".pipeline"
    lock_dir.mkdir(parents=True)
    (lock_dir / f"{brief_id(brief)}.lock").symlink_to(victim)
    result = cli_run(brief, project / "output", fake)
    assert result.exit_code == 1 and "is a symlink; refusing to follow it" in result.stderr
    assert victim.read_text() == "keep me" and fake.history == []


def test_a_full_disk_while_recording_the_week_keeps_the_written_draft(project, fake, monkeypatch):
    import errno

    from pipeline import state, writer

    real_write = writer._write_synced

    def full(path, content):
        if ".pipeline" not in path.parts:  # state.json's writes only, not the draft's
            return real_write(path, content)
        path.write_text("{")  # part of the file got written, then the disk filled
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    brief = _weekly(project)
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(project / "cache"))
    monkeypatch.setattr(writer, "_write_synced", full)
    fake.enqueue(PICK, INSIGHT)
    result = CliRunner().invoke(main, ["run", str(brief), "--out", str(project / "output"), "--offline"],
                                obj={"backend_opener": opener_for(fake)})
    assert result.exit_code in (0, 3), result.stderr  # the draft is written: not a failure
    assert (project / "output" / "newsletters" / "2026-W16" / "index.md").is_file()
    assert "could not record 2026-W16" in result.stderr and "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((project / "output" / ".pipeline").glob("*.tmp"))  # no temp file left
    assert state.last_completed_week(project / "output", brief) is None


def test_a_corrupt_state_file_is_set_aside_keeping_the_entries_still_readable(project, caplog):
    from pipeline import state

    out, brief = project / "output", project / "briefs" / "weekly.yaml"
    (out / ".pipeline").mkdir(parents=True)
    damaged = ('{"a-1": {"last_completed_week": "2026-W10"}, "b-2": {"last_completed_week": "2026-W11"},\n'
               ' "c-3": {"last_completed_week": "2026-W')  # a write cut off part-way
    (out / ".pipeline" / "state.json").write_text(damaged)
    with caplog.at_level("WARNING", logger="pipeline"):
        state.record_completed_week(out, brief, "2026-W16")
    kept = list((out / ".pipeline").glob("state.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == damaged  # the damaged file, as it was
    assert "was unreadable" in caplog.text and "kept it as" in caplog.text and "2 entries" in caplog.text
    now = state.read_state(out)
    assert now["a-1"]["last_completed_week"] == "2026-W10" and now["b-2"]["last_completed_week"] == "2026-W11"
    assert state.last_completed_week(out, brief) == "2026-W16"


def test_a_corrupt_state_file_found_by_a_read_keeps_its_entries_on_disk(project):
    from pipeline import state

    out = project / "output"
    (out / ".pipeline").mkdir(parents=True)
    (out / ".pipeline" / "state.json").write_text('{"a-1": {"last_completed_week": "2026-W10"}, "b-2": [nonsense')
    assert state.last_completed_week(out, project / "briefs" / "x.yaml") is None
    # the run may end before it records anything: the readable entries are on disk already
    assert state.read_state(out) == {"a-1": {"last_completed_week": "2026-W10"}}


@pytest.mark.parametrize("text", ['[1, 2]', '{"weekly-1": 5}', '{"weekly-1": {"last_completed_week": 7}}', "\xff"])
def test_a_state_file_of_the_wrong_shape_is_no_crash(project, text):
    from pipeline import state

    out = project / "output"
    (out / ".pipeline").mkdir(parents=True)
    (out / ".pipeline" / "state.json").write_bytes(text.encode("latin-1"))
    assert state.last_completed_week(out, project / "briefs" / "weekly.yaml") is None
    state.record_completed_week(out, project / "briefs" / "weekly.yaml", "2026-W16")
    assert state.last_completed_week(out, project / "briefs" / "weekly.yaml") == "2026-W16"


def test_runs_of_different_briefs_recording_at_once_keep_every_entry(project):
    import threading

    from pipeline import state

    out = project / "output"
    briefs = [project / "briefs" / f"b{i}.yaml" for i in range(8)]
    threads = [threading.Thread(target=state.record_completed_week, args=(out, b, "2026-W16")) for b in briefs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(state.last_completed_week(out, b) == "2026-W16" for b in briefs)


def test_a_lock_that_cannot_be_opened_is_a_message(write_brief, project, fake, monkeypatch):
    import errno

    from filelock import FileLock

    def planted(self, *args, **kwargs):  # a symlink planted after the check: O_NOFOLLOW refuses it
        raise OSError(errno.ELOOP, "Too many levels of symbolic links", self.lock_file)

    monkeypatch.setattr(FileLock, "acquire", planted)
    result = cli_run(write_brief(), project / "output", fake)
    assert result.exit_code == 1 and "cannot take the run lock" in result.stderr and "Traceback" not in result.stderr
    assert fake.history == []


@pytest.mark.mlx
def test_a_cache_dir_that_is_a_file_is_a_message(tmp_path, monkeypatch):
    from pipeline.builtin_model import builtin_model_dir
    from pipeline.errors import ModelError

    cache = tmp_path / "cache"
    cache.write_text("not a folder")
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(cache))
    with pytest.raises(ModelError, match="point PIPELINE_CACHE_DIR at a writable folder"):
        builtin_model_dir()


def _weekly(project):
    from .conftest import copy_examples

    return copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
