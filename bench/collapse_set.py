"""False alarms of the collapse detector on one coherent set, per shape. Prints one JSON object.

Each section streamed token by token as `pipeline check` and generation judge it (text signals; bench/collapse.py
`stream`), whatever its split: for a set built after the rules, such as coherent_npm2, every section is unseen.
Usage: python bench/collapse_set.py bench/corpus/coherent_npm2.jsonl.gz [--out FILE.json]"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from collapse import ends_of, load, stream
from common import emit

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("set", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    judged: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    alarms = []
    for item in load(args.set):
        verdict, _ = stream(item["text"], ends_of(item["text"]))
        judged[item["shape"]][1] += 1
        if verdict.detected:
            judged[item["shape"]][0] += 1
            alarms.append({"id": item["id"], "shape": item["shape"], "signal": verdict.signal,
                           "at": item["text"][verdict.onset: verdict.onset + 120]})
    flagged, total = sum(a for a, _ in judged.values()), sum(n for _, n in judged.values())
    emit({"benchmark": "collapse_set", "set": args.set.name, "sections": total,
          "false_alarms": f"{flagged} / {total}", "rate": round(flagged / total, 4) if total else None,
          "per_shape": {shape: {"false_alarms": f"{a} / {n}", "rate": round(a / n, 4)} for shape, (a, n) in
                        sorted(judged.items())},
          "alarms": alarms}, args.out)


if __name__ == "__main__":
    main()
