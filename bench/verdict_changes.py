"""What a detector change changed, verdict by verdict. Prints one JSON object.

Every coherent section of the English sets in the splits asked for, and every degenerate sample of the corpus
(bench/corpus/degenerate.jsonl), streamed token by token through this checkout's detector and another
revision's (bench/common.py detector_at): the coherent sections whose verdict changed (a new or a lost false
alarm), and the degenerate samples caught or missed differently, or stopped at another token.
Usage: python bench/verdict_changes.py REV [--split calibration|held-out|reserve|all] [--out FILE.json]"""

from __future__ import annotations

import argparse
from pathlib import Path

from collapse import ends_of, load, stream
from common import detector_at, emit

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)

CORPUS = Path(__file__).resolve().parent / "corpus"
SPLITS = ("calibration", "held-out", "reserve")


def coherent_sets() -> list[Path]:
    return sorted(path for path in CORPUS.glob("coherent_*.jsonl.gz") if "languages" not in path.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("rev")
    parser.add_argument("--split", default="all", choices=[*SPLITS, "all"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    splits = SPLITS if args.split == "all" else (args.split,)
    other = detector_at(args.rev).CollapseDetector
    coherent, changed = 0, []
    for path in coherent_sets():
        for item in load(path):
            if item["split"] not in splits:
                continue
            coherent += 1
            ends = ends_of(item["text"])
            now, before = stream(item["text"], ends)[0], stream(item["text"], ends, detector_class=other)[0]
            if now.detected != before.detected:
                changed.append({"set": path.name, "id": item["id"], "shape": item["shape"], "split": item["split"],
                                "now": now.signal, "before": before.signal})
    moved = []
    for item in load(CORPUS / "degenerate.jsonl"):
        ends = ends_of(item["text"])
        (now, at), (before, was) = stream(item["text"], ends), stream(item["text"], ends, detector_class=other)
        if (now.detected, at) != (before.detected, was):
            onset = sum(1 for end in ends if end <= item["onset"])
            moved.append({"id": item["id"], "kind": item["kind"], "split": item["split"], "batch": item.get("batch"),
                          "late_now": None if at is None else at - onset, "late_before": None if was is None else was - onset})
    emit({"benchmark": "verdict_changes", "against": args.rev, "splits": list(splits), "coherent_sections": coherent,
          "coherent_verdicts_changed": changed, "degenerate_samples_changed": moved}, args.out)


if __name__ == "__main__":
    main()
