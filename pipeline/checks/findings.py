"""What a check reports: a Finding with a code, a severity and a message for the reviewer."""

from __future__ import annotations

from dataclasses import dataclass

ATTENTION = "attention"  # a reviewer must look before publishing (exit code 3)
INFO = "info"  # recorded in run.json, shown in the summary


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
