"""Exceptions that end a command: each carries its exit code and says what to do next."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_ATTENTION = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130


def not_utf8(exc: UnicodeDecodeError) -> str:
    """Where a file stops being UTF-8, as a person finds it: the line, and the byte."""
    data = bytes(exc.object)
    line = data.count(b"\n", 0, exc.start) + 1
    return f"line {line} is not UTF-8 (byte 0x{data[exc.start]:02x})"


class PipelineError(Exception):
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class BriefError(PipelineError):
    """The brief is invalid: every problem is listed at once, each as file:line:col: path: message."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: list[str], hint: str | None = None):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"invalid brief ({count}):\n" + "\n".join(problems), hint)


class InputError(PipelineError):
    """A file given on the command line cannot be read."""

    exit_code = EXIT_USAGE


class TemplateError(PipelineError):
    exit_code = EXIT_USAGE


class ModelError(PipelineError):
    pass


class MemoryLimitError(PipelineError):
    pass


class OutputExistsError(PipelineError):
    pass


class OutputError(PipelineError):
    pass
