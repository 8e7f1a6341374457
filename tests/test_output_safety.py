"""A --force replace under real signals at every step: afterwards exactly one whole draft exists (the
earlier one or the new one, never none and never a mix), and the next run clears what was left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from pipeline.assemble import Draft
from pipeline.cli import main
from pipeline.writer import check_target, recover, write_draft

from .conftest import opener_for
from .test_newsletter import INSIGHT, PICK

FILES = ("a.md", "b.md", "index.md")
CHILD = textwrap.dedent("""\
    import sys
    from pathlib import Path
    from pipeline.assemble import Draft
    from pipeline.writer import write_draft
    write_draft(Path(sys.argv[1]), Draft("posts", "k", {name: "NEW" for name in sys.argv[2:]}), force=True)
    """)


def draft(out, text: str) -> None:
    write_draft(out, Draft("posts", "k", dict.fromkeys(FILES, f"{text}\n")), force=True)


def whole_draft(out) -> str:
    """The one draft under posts/ must be whole: every file, all from the same run."""
    assert sorted(p.name for p in (out / "posts").iterdir()) == ["k"], "a hidden leftover or no draft"
    contents = {(out / "posts" / "k" / name).read_text() for name in FILES}
    assert sorted(p.name for p in (out / "posts" / "k").iterdir()) == list(FILES) and len(contents) == 1
    return contents.pop().strip()


def replace_and_signal(out, step: str, signum: int) -> int:
    env = {**os.environ, "PIPELINE_FAILPOINT": step}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(out), *FILES], env=env, stderr=subprocess.PIPE, text=True)
    for line in child.stderr:
        if line.startswith(f"failpoint {step}"):
            child.send_signal(signum)
            break
    child.communicate(timeout=30)
    return child.returncode


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["INT", "TERM", "KILL"])
@pytest.mark.parametrize("step", ["staged", "retired", "swapped", "cleaning"])
def test_a_signal_at_any_step_of_a_replace_leaves_one_whole_draft(tmp_path, step, signum):
    out = tmp_path / "output"
    draft(out, "OLD")
    replace_and_signal(out, step, signum)
    note = recover(out / "posts" / "k")  # what the next run does first
    expected = "OLD" if step == "staged" or (step == "retired" and signum == signal.SIGKILL) else "NEW"
    assert whole_draft(out) == expected
    if signum == signal.SIGKILL and step != "staged":
        assert note and ("restored" in note if expected == "OLD" else "finished" in note)


def test_the_next_run_reports_what_it_recovered(tmp_path, caplog):
    out = tmp_path / "output"
    draft(out, "OLD")
    replace_and_signal(out, "retired", signal.SIGKILL)
    assert not (out / "posts" / "k").exists()  # the crash left the earlier draft under its retired name
    with caplog.at_level("WARNING", logger="pipeline"):
        check_target(out, "posts", "k", force=True)
    assert "restored" in caplog.text and whole_draft(out) == "OLD"


def test_a_deferred_ctrl_c_still_interrupts_once_the_replace_is_whole(tmp_path):
    out = tmp_path / "output"
    draft(out, "OLD")
    code = replace_and_signal(out, "retired", signal.SIGINT)
    assert code != 0  # the interrupt was delivered, after the swap
    assert whole_draft(out) == "NEW"


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


def test_a_full_disk_while_recording_the_week_keeps_the_written_draft(project, fake, monkeypatch, caplog):
    from pathlib import Path

    from pipeline import state
    from pipeline.progress import Reporter
    from pipeline.runner import RunOptions, run_brief

    real_write = Path.write_text

    def full(self, *args, **kwargs):
        if self.name.startswith("state.") and self.suffix == ".tmp":
            real_write(self, "{")  # part of the file got written, then the disk filled
            raise OSError(28, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)

    brief = _weekly(project)
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(project / "cache"))
    monkeypatch.setattr(Path, "write_text", full)
    fake.enqueue(PICK, INSIGHT)
    with caplog.at_level("WARNING", logger="pipeline"):
        result = run_brief(brief, RunOptions(out_root=project / "output", offline=True), Reporter(), opener_for(fake))
    assert (result.draft_dir / "index.md").is_file() and result.status == "ok"
    assert "could not record 2026-W16" in caplog.text
    assert not list((project / "output" / ".pipeline").glob("*.tmp"))
    assert state.last_completed_week(project / "output", brief) is None


def test_a_corrupt_state_file_is_set_aside_not_silently_dropped(project, caplog):
    from pipeline import state

    out = project / "output"
    (out / ".pipeline").mkdir(parents=True)
    (out / ".pipeline" / "state.json").write_text('{"other-brief": {"last_completed_week": "2026-W10"')
    with caplog.at_level("WARNING", logger="pipeline"):
        state.record_completed_week(out, project / "briefs" / "weekly.yaml", "2026-W16")
    kept = list((out / ".pipeline").glob("state.json.corrupt-*"))
    assert len(kept) == 1 and "other-brief" in kept[0].read_text()
    assert "was unreadable" in caplog.text and "kept it as" in caplog.text
    assert state.last_completed_week(out, project / "briefs" / "weekly.yaml") == "2026-W16"


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
    import shutil

    from .conftest import REPO

    for name in ("weekly.yaml", "weekly-data.json"):
        shutil.copy(REPO / "briefs" / name, project / "briefs" / name)
    shutil.copytree(REPO / "briefs" / "feeds", project / "briefs" / "feeds")
    return project / "briefs" / "weekly.yaml"
