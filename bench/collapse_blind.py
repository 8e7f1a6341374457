"""False alarms of the collapse detector on one coherent set, every split, against an earlier revision.

For a set built after the detector was tuned (bench/build_npm_corpus.py, bench/build_docs_corpus.py):
every section is streamed token by token (the embedded tokenizer's tokens) through this checkout's
detector and through the one at REV, and the sections that fire are counted per split and shape. Run
once with REV = the revision the set was built against, this is the blind figure on all of it; after
tuning on its calibration split, the held-out and reserve rows are the ones to report.
`--as-written`: this checkout judges each text in its own language (the item's `language`), as a brief's
`language:` would have it; REV judges it as every revision before that setting did.
Usage: python bench/collapse_blind.py SET.jsonl.gz --against REV [--as-written] [--out FILE.json]"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from collapse import ends_of, load, stream
from common import detector_at, emit


def fired(module, text: str, language: str | None = None) -> bool:
    return stream(text, ends_of(text), detector_class=module.CollapseDetector, language=language)[0].detected


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("set", type=Path)
    parser.add_argument("--against", required=True, help="a git revision")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--as-written", action="store_true",
                        help="judge each text in its own language (a brief's `language:`) in this checkout")
    args = parser.parse_args()
    items = load(args.set)
    report: dict = {"benchmark": "collapse_blind", "set": args.set.name, "sections": len(items)}
    for name, module in (("this checkout", detector_at(None)), (args.against, detector_at(args.against))):
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for item in items:
            hit = fired(module, item["text"], item.get("language") if args.as_written and name == "this checkout" else None)
            group = "held-out + reserve" if item["split"] != "calibration" else "calibration"
            for key in {"all", item["split"], group, f"{group} / {item['shape']}", f"all / {item['shape']}"}:
                counts[key][0] += hit
                counts[key][1] += 1
        report[name] = {key: f"{hits} / {total}" for key, (hits, total) in sorted(counts.items())}
    emit(report, args.out)


if __name__ == "__main__":
    main()
