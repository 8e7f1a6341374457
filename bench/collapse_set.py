"""False alarms of the collapse detector on one coherent set, per shape. Prints one JSON object.

Each section streamed token by token as `pipeline check` and generation judge it (bench/collapse.py `evaluate`, its
coherent half), whatever its split: for a set built after the rules, such as coherent_npm2, every section is unseen.
Usage: python bench/collapse_set.py bench/corpus/coherent_npm2.jsonl.gz [--out FILE.json]"""

from __future__ import annotations

import argparse
from pathlib import Path

from collapse import evaluate, load
from common import emit

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("set", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = evaluate(load(args.set), [], details=True)
    emit({"benchmark": "collapse_set", "set": args.set.name,
          **{key: report[key] for key in ("coherent_sections", "false_positives", "false_positive_rate",
                                          "false_positive_rate_per_shape", "false_positive_ids")}}, args.out)


if __name__ == "__main__":
    main()
