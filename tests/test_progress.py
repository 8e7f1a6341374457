"""Progress: a live line per section on a terminal, plain log lines when not a terminal (cron)."""

from __future__ import annotations

import io
import logging

from pipeline.backends.script import ScriptBackend
from pipeline.progress import LogReporter, TerminalReporter
from pipeline.runner import RunOptions, run_brief

from .conftest import opener_for


def test_terminal_shows_tokens_and_rate_per_section(write_brief, project):
    screen = io.StringIO()
    fake = ScriptBackend(["Memory comes first on a small machine. It always does.",
                          "Second things come next. They follow the first ones."])
    run_brief(write_brief(), RunOptions(out_root=project / "output"), TerminalReporter(screen), opener_for(fake))
    text = screen.getvalue()
    assert "\r\033[K[1] First things: 1 tok," in text and "tok/s" in text
    assert "[2] Second things: 9 tok, 100.0 tok/s" in text and text.endswith("\n")


def test_not_a_terminal_logs_one_line_per_event(write_brief, project, caplog):
    fake = ScriptBackend(["Memory comes first on a small machine. It always does.",
                          "Second things come next. They follow the first ones."])
    with caplog.at_level(logging.INFO, logger="pipeline"):
        run_brief(write_brief(), RunOptions(out_root=project / "output"), LogReporter(), opener_for(fake))
    lines = [r.getMessage() for r in caplog.records]
    assert "section 1 'First things': attempt 1" in lines
    assert any(line.startswith("[2] Second things: 9 tok, 100.0 tok/s") for line in lines)
    assert not any("\r" in line or "\033" in line for line in lines)
