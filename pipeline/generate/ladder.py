"""The one retry policy: after each attempt, the next attempt's settings, or stop.

Prose climbs a ladder of safer (and shorter) settings; a structured stage is shown its own unusable
answer and the reason, and asked again. Both stop at the first usable attempt or when the stage's
`attempts` run out, so nothing loops forever."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..config import SamplingSettings


@dataclass(frozen=True)
class Rung:
    """One step of a ladder: each is safer than the one before."""

    name: str
    penalties: bool = False  # repetition/presence penalties over the whole section
    cap_factor: float = 1.0
    split: bool = False  # write the section as two halves, the second continuing the first
    repair: bool = False  # show the model its unusable answer and why, and ask again


PROSE_LADDER = (
    Rung("as configured"),
    Rung("new seed, penalties over the whole section", penalties=True),
    Rung("smaller cap", penalties=True, cap_factor=0.6),
    Rung("split in two", penalties=True, split=True),
)
STRUCTURED_LADDER = (
    Rung("as configured"),
    Rung("shown its unusable answer", repair=True),
)
# After a far-too-short answer a smaller cap or a split would only make it shorter: a new seed, same cap.
AGAIN_FULL_CAP = Rung("new seed, same cap (the last answer was far too short)", penalties=True)
SAFER_PENALTIES = {"repetition_penalty": 1.15, "presence_penalty": 0.3}


@dataclass(frozen=True)
class Plan:
    """The next attempt: its number, rung, settings (with what the rung changed) and seed."""

    number: int
    rung: Rung
    settings: SamplingSettings
    changes: dict
    seed: int


class Judged(Protocol):
    """What the policy needs to know of an attempt (generate.attempts.Attempt has it)."""

    @property
    def usable(self) -> bool: ...

    @property
    def too_short(self) -> bool: ...


def derive_seed(base: int, section: int, attempt: int) -> int:
    """A different, reproducible seed for every section and retry."""
    digest = hashlib.sha256(f"{base}:{section}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def rung_for(ladder: tuple[Rung, ...], number: int) -> Rung:
    return ladder[min(number, len(ladder)) - 1]  # attempts past the ladder stay on its last rung


def rung_settings(settings: SamplingSettings, rung: Rung) -> dict:
    """The overrides a rung applies; penalties only ever get stronger."""
    changes: dict = {}
    if rung.penalties:
        for key, value in SAFER_PENALTIES.items():
            if (getattr(settings, key) or 0) < value:
                changes[key] = value
    if rung.cap_factor != 1.0 or rung.split:
        changes["max_tokens"] = max(16, int(settings.max_tokens * (0.5 if rung.split else rung.cap_factor)))
    return changes


def next_plan(ladder: tuple[Rung, ...], settings: SamplingSettings, index: int,
              attempts: Sequence[Judged]) -> Plan | None:
    """The next attempt, or None: the last one was usable, or the stage's attempts are spent."""
    if attempts and (attempts[-1].usable or len(attempts) >= settings.attempts):
        return None
    number = len(attempts) + 1
    rung = AGAIN_FULL_CAP if attempts and attempts[-1].too_short else rung_for(ladder, number)
    changes = rung_settings(settings, rung)
    return Plan(number, rung, settings.model_copy(update=changes), changes,
                derive_seed(settings.seed, index, number))
