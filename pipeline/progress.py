"""Progress on stderr: a live line per section on a terminal, plain log lines otherwise (cron)."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("pipeline")


class Reporter:
    """Silent reporter; the base for the others."""

    def note(self, message: str) -> None: ...

    def attempt_started(self, prompt, number: int) -> None: ...

    def tokens(self, prompt, count: int) -> None: ...

    def section_finished(self, result) -> None: ...


def summary_line(result) -> str:
    attempt = result.chosen
    stats = attempt.stats
    flags = ",".join(f.code for f in attempt.findings) or "ok"
    return (f"[{result.prompt.index + 1}] {result.prompt.heading}: {stats.generation_tokens} tok, "
            f"{stats.generation_tps:.1f} tok/s, {stats.wall_s:.1f}s, attempts {len(result.attempts)}, {flags}"
            + (" (kept by an interrupted run)" if result.from_cache else ""))


class LogReporter(Reporter):
    def note(self, message: str) -> None:
        log.info(message)

    def attempt_started(self, prompt, number: int) -> None:
        log.info("section %d %r: attempt %d", prompt.index + 1, prompt.heading, number)

    def section_finished(self, result) -> None:
        level = logging.WARNING if result.needs_attention else logging.INFO
        log.log(level, summary_line(result))


class TerminalReporter(Reporter):
    """Rewrites one status line while a section streams, then prints its summary."""

    def __init__(self, stream=sys.stderr):
        self._stream = stream
        self._started = 0.0
        self._label = ""

    def note(self, message: str) -> None:
        self._stream.write(f"\r\033[K{message}\n")
        self._stream.flush()

    def attempt_started(self, prompt, number: int) -> None:
        self._started = time.perf_counter()
        retry = f" (retry {number - 1})" if number > 1 else ""
        self._label = f"[{prompt.index + 1}] {prompt.heading}{retry}"

    def tokens(self, prompt, count: int) -> None:
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        self._stream.write(f"\r\033[K{self._label}: {count} tok, {count / elapsed:.1f} tok/s")
        self._stream.flush()

    def section_finished(self, result) -> None:
        self._stream.write(f"\r\033[K{summary_line(result)}\n")
        self._stream.flush()


def make_reporter(quiet: bool) -> Reporter:
    if quiet:
        return Reporter()
    return TerminalReporter() if sys.stderr.isatty() else LogReporter()
