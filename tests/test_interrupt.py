"""Interrupted runs (Ctrl-C, SIGTERM from cron/systemd) write nothing and keep earlier drafts whole."""

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
from .tiny_models import LOOP_CHAIN, build_scripted_qwen3


def test_ctrl_c_mid_run_exits_130_and_keeps_the_old_draft(write_brief, project, fake):
    brief = write_brief()
    out = project / "output"
    fake.enqueue("Old text of the first section. It stays.", "Old text of the second section. It stays too.")
    runner = CliRunner()
    first = runner.invoke(main, ["run", str(brief), "--out", str(out)], obj={"backend_opener": opener_for(fake)})
    assert first.exit_code == 0, first.output
    index = next(out.glob("posts/*/index.md"))
    before = index.read_text()

    fake.enqueue("New text of the first section. Almost done.", KeyboardInterrupt())
    second = runner.invoke(main, ["run", str(brief), "--out", str(out), "--force"], obj={"backend_opener": opener_for(fake)})
    assert second.exit_code == 130
    assert "interrupted: nothing was written; existing drafts are untouched" in second.stderr  # and that is true
    assert index.read_text() == before
    assert [p.name for p in (out / "posts").iterdir()] == [index.parent.name]  # no staging left behind


@pytest.mark.mlx
def test_sigterm_during_generation_exits_143_and_writes_nothing(tmp_path, write_brief, project):
    model = build_scripted_qwen3(tmp_path / "loop", LOOP_CHAIN)
    brief = write_brief(f"""\
title: Endless
date: 2026-11-23
model: {model}
stages:
  draft: {{max_tokens: 8000, temperature: 0.0, collapse_watch: false}}
sections:
  - {{heading: Forever, instruction: Never stop., words: 50}}
""")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", str(brief), "--out", str(project / "output")],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stderr:  # wait until generation has started
        if "attempt 1" in line:
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143
    assert "interrupted: nothing was written" in rest
    assert not any((project / "output").rglob("*.md"))
