"""How early can a loop be stopped? Prints one JSON object.

A loop's labelled onset (bench/build_degenerate_corpus.py's `loop_onset`) is its first repeated 8-word span: the
start of its second copy. Until that copy is written out, the text is a span quoted again, which real text does
(a refrain, a changelog line, a reference page's boilerplate); a detector that waits for one whole copy to come
round cannot stop a loop earlier than its period past the onset. Per batch of continuations (its held-out and
reserve loops): each loop's period (the median distance, in tokens, back to where each repeated span after the
onset came last), the p95 delay such a detector would have if it fired the moment one whole copy came round, and
the detector's own delay, also counted from that moment.
Usage: python bench/loop_periods.py BATCH [BATCH ...] [--out FILE.json]"""

from __future__ import annotations

import argparse
import re
from bisect import bisect_right
from pathlib import Path

from build_degenerate_corpus import SPAN, normalise
from collapse import load, percentile, stream
from common import emit

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)
from pipeline.checks.tokens import token_ends

CORPUS = Path(__file__).resolve().parent / "corpus"
TARGET = 64  # tokens late at p95: the target


def period_tokens(text: str, onset: int, ends: list[int]) -> int | None:
    """One copy of the loop, in tokens: the median distance back to where each repeated 8-word span from the onset
    on came last (None for an onset labelled by hand with no repeated span after it)."""
    matches = list(re.finditer(r"\S+", text))
    words = [normalise(match.group()) for match in matches]
    token_at = [bisect_right(ends, match.start()) for match in matches]  # tokens ended before each word
    last: dict[tuple[str, ...], int] = {}
    distances = []
    for i in range(len(words) - SPAN + 1):
        span = tuple(words[i: i + SPAN])
        if matches[i].start() >= onset and span in last:
            distances.append(token_at[i] - token_at[last[span]])
        last[span] = i
    return round(percentile(distances, 0.5)) if distances else None


def judge(batch: str) -> dict:
    periods, delays, past_copy, missed, by_hand = [], [], [], 0, 0
    for item in load(CORPUS / "degenerate.jsonl"):
        if item.get("batch") != batch or item["kind"] != "loop" or item["split"] == "calibration":
            continue
        ends = token_ends(item["text"])
        period = period_tokens(item["text"], item["onset"], ends)
        if period is None:
            by_hand += 1
            continue
        periods.append(period)
        verdict, fired = stream(item["text"], ends)
        if fired is None:
            missed += 1
            continue
        delay = fired - sum(1 for end in ends if end <= item["onset"])
        delays.append(delay)
        past_copy.append(max(delay - period, 0))
    return {
        "loops": len(periods), "missed": missed, "onset_labelled_by_hand_left_out": by_hand,
        "period_tokens": {"p50": percentile(periods, 0.5), "p95": percentile(periods, 0.95), "max": max(periods)},
        "longer_than_target": sum(period > TARGET for period in periods),
        "best_p95_delay_firing_at_one_whole_copy": percentile(periods, 0.95),
        "detector_delay": {"p50": percentile(delays, 0.5), "p95": percentile(delays, 0.95)},
        "detector_tokens_past_one_whole_copy": {"p50": percentile(past_copy, 0.5), "p95": percentile(past_copy, 0.95)},
        "_periods": periods,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("batches", nargs="+")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = {"benchmark": "loop_periods", "target_p95_tokens": TARGET,
              "batches": {batch: judge(batch) for batch in args.batches}}
    everything = [period for batch in report["batches"].values() for period in batch.pop("_periods")]
    report["all"] = {"loops": len(everything), "longer_than_target": sum(period > TARGET for period in everything),
                     "best_p95_delay_firing_at_one_whole_copy": percentile(everything, 0.95)}
    emit(report, args.out)


if __name__ == "__main__":
    main()
