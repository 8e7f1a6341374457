"""Does `pipeline check --read` call text in other languages word salad? Two held-out sections a language.

Scores two held-out sections of each language of bench/corpus/coherent_languages.jsonl.gz (a fixed
random pick) under the embedded model and reports each one's mean surprisal, its most improbable
32-token window and whether `collapse.salad_window` (the read bar, 8.0 nats over 32 tokens) fires.
On a CPU this takes a few minutes.
Usage: python bench/read_languages.py [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

from common import emit

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)
from pipeline.checks import tokens
from pipeline.checks.collapse import Thresholds, salad_window

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    by_language = defaultdict(list)
    with gzip.open(ROOT / "bench/corpus/coherent_languages.jsonl.gz", "rt", encoding="utf-8") as lines:
        for item in map(json.loads, lines):
            if item["split"] == "held-out":
                by_language[item["language"]].append(item)
    rng, size, rows = random.Random(0), Thresholds().read_tokens, []
    for language, items in sorted(by_language.items()):
        for item in rng.sample(items, min(2, len(items))):
            ends_and_nats = tokens.scored(item["text"])
            assert ends_and_nats is not None, "the embedded model is needed: make setup"
            nats = ends_and_nats[1]
            windows = [sum(nats[i: i + size]) / size for i in range(1, max(2, len(nats) - size + 1))]
            rows.append({"id": item["id"], "language": language, "tokens": len(nats),
                         "mean_nats": round(sum(nats) / len(nats), 2), "max_window_nats": round(max(windows), 2),
                         "read_fires": salad_window(nats) is not None})
    emit({"benchmark": "read_languages", "sections": len(rows), "languages": len(by_language),
          "read_fires": sum(r["read_fires"] for r in rows),
          "max_window_nats": [min(r["max_window_nats"] for r in rows), max(r["max_window_nats"] for r in rows)],
          "rows": rows}, args.out)


if __name__ == "__main__":
    main()
