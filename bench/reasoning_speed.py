"""The `reasoning` check's paragraph rule, before and after its cheap first test (a task word, and the question pattern
only where there is a question mark), side by side on every paragraph of coherent_real: seconds (best of --rounds)
and whether every verdict is the same. Prints one JSON object.
Usage: python bench/reasoning_speed.py [--rounds 3] [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from common import emit

from pipeline.checks import reasoning

CORPUS = Path(__file__).resolve().parent / "corpus" / "coherent_real.jsonl.gz"


def every_cue_searched(paragraph: str) -> bool:
    """The rule as it was first written: each cue's pattern searched, then the count."""
    cues = {name for name, pattern in reasoning._CUES.items() if pattern.search(paragraph)}
    return "task" in cues and bool(cues & reasoning._TO_ITSELF) and len(cues) >= reasoning.DELIBERATION_CUES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        paragraphs = [p for item in map(json.loads, lines) for p in reasoning._PARAGRAPH.split(item["text"])]
    rules = {"before: every cue searched": every_cue_searched, "after: task word first": reasoning._deliberates}
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for name, rule in rules.items():
            started = time.perf_counter()
            for paragraph in paragraphs:
                rule(paragraph)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
    same = all(every_cue_searched(p) == reasoning._deliberates(p) for p in paragraphs)
    emit({"benchmark": "reasoning_speed", "paragraphs": len(paragraphs), "best_s": {k: round(v, 2) for k, v in best.items()},
          "speedup": round(best["before: every cue searched"] / best["after: task word first"], 1), "same_verdicts": same},
         args.out)


if __name__ == "__main__":
    main()
