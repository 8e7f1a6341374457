"""The collapse detector's speed against an earlier revision of it, side by side in one process.

Feeds the same texts (600 reserve coherent sections and the reserve degenerate samples, split into
the embedded tokenizer's tokens) through this checkout's pipeline/checks/collapse.py and through the
one at REV (`git show REV:pipeline/checks/collapse.py`), alternating which goes first each round, and
prints tokens/s per round and the ratio of the medians. Absolute figures depend on what else the
machine runs; the ratio is the claim.
Usage: python bench/collapse_speed.py --against REV [--rounds 5] [--out FILE.json]"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from collapse import coherent_items, ends_of, load
from common import alternating, detector_at, emit

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"


def tokens_per_s(module, streams: list[list[str]]) -> float:
    started = time.perf_counter()
    for pieces in streams:
        detector = module.CollapseDetector()
        for piece in pieces:
            detector.feed(piece, 1)
        detector.finish()
    return sum(map(len, streams)) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, help="a git revision")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    modules = {"this checkout": detector_at(None), args.against: detector_at(args.against)}
    texts = [c["text"] for c in coherent_items(CORPUS) if c["split"] == "reserve"][:600]
    texts += [d["text"] for d in load(CORPUS / "degenerate.jsonl") if d["split"] == "reserve"]
    streams = [[text[a:b] for a, b in zip([0, *ends], ends, strict=False)] for text in texts for ends in [ends_of(text)]]
    rounds: dict[str, list[int]] = {name: [] for name in modules}
    for name in alternating(list(modules), args.rounds):
        rounds[name].append(round(tokens_per_s(modules[name], streams)))
    medians = {name: statistics.median(values) for name, values in rounds.items()}
    emit({"benchmark": "collapse_speed", "tokens": sum(map(len, streams)), "tokens_per_s": rounds,
          "median": medians, "ratio_of_medians": round(medians["this checkout"] / medians[args.against], 3)}, args.out)


if __name__ == "__main__":
    main()
