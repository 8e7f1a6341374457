"""`pipeline check`'s default judgement (the text signals, then the embedded model's reading) on a fixed
random sample of a coherent set's held-out and reserve sections: false alarms per shape, and how many
the reading adds. For a set the whole-corpus scoring (bench/surprisal_dump.py, on a GPU) has not read:
on this 2-core CPU the embedded model reads ~100 tokens/s, so a sample of 200 sections takes ~20 min.
Each section's scores (-log p per token, as `pipeline check --read` computes them) are appended to
--scores as they are made, so an interrupted run goes on where it stopped.
Usage: python bench/check_read_sample.py SET.jsonl.gz [--n 200] [--scores FILE.jsonl] [--out FILE.json]"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from collapse import ends_of, load
from common import emit
from surprisal import window_peak
from surprisal_check import MODES, judged

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)
from pipeline.checks.collapse import Thresholds
from pipeline.checks.tokens import scored

CHECK = MODES[2]  # `pipeline check`: the text signals, then the model's reading


def sample(path: Path, n: int) -> list[dict]:
    items = [i for i in load(path) if i["split"] in ("held-out", "reserve")]
    random.Random(7).shuffle(items)
    return items[:n]


def scores_of(items: list[dict], cache: Path, name: str) -> dict[str, list[float]]:
    known = {row["id"]: row["nats"] for row in map(json.loads, cache.read_text().split("\n")[:-1])} if cache.exists() else {}
    for item in items:
        if item["id"] not in known:
            result = scored(item["text"])
            assert result is not None, "the embedded model is needed: make setup"
            known[item["id"]] = [round(value, 2) for value in result[1]]
            with open(cache, "a") as fh:
                fh.write(json.dumps({"id": item["id"], "file": name, "nats": known[item["id"]]}) + "\n")
    return known


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("set", type=Path)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--scores", type=Path, default=Path("/tmp/check_read_scores.jsonl"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    items = sample(args.set, args.n)
    nats = scores_of(items, args.scores, args.set.name)
    sections, by_text, by_read, peaks = Counter(), Counter(), Counter(), []
    for item in items:
        shape = item["shape"]
        sections[shape] += 1
        fired, _, by_model, _ = judged(item["text"], ends_of(item["text"]), nats[item["id"]], CHECK)
        by_text[shape] += fired and not by_model
        by_read[shape] += fired and by_model
        if not fired or by_model:
            peaks.append(window_peak(nats[item["id"]], Thresholds().read_tokens))
    emit({"benchmark": "check_read_sample", "set": args.set.name, "sections": len(items),
          "false_alarms_per_shape": {shape: f"{by_text[shape] + by_read[shape]} / {count}"
                                     for shape, count in sorted(sections.items())},
          "of_which_text_signals": sum(by_text.values()), "added_by_reading": sum(by_read.values()),
          "read_bar_nats": Thresholds().read_nats, "highest_window_nats_of_the_rest": round(max(peaks), 2)}, args.out)


if __name__ == "__main__":
    main()
