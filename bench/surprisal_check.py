"""Would `pipeline check` gain from the model's surprisal? Streams every corpus text through the
collapse detector with each token's surprisal from bench/corpus/surprisal.jsonl.gz (the embedded
model's, scored once by bench/surprisal_dump.py) and without it, and prints, per split: false
positives per shape on coherent text (real text nobody here wrote, the Python docs, the model's own
coherent output) and recall and onset delay on the degenerate samples. Text that people wrote is
the hard case: the generation bar was set on the model's own output, and human text (names, numbers,
code, tables) is less probable to a small model than what it writes itself. Three modes: the text
signals alone; the generation rule (16 tokens, 7.4 nats) while streaming; and `pipeline check --read`'s
(the text signals, then the whole text read for a 32-token window of 8.0 nats, chosen on the calibration
split). For the degenerate samples, the delay of a read is counted to the end of the window that fired.
Usage: python bench/surprisal_check.py [--split calibration|held-out|reserve|all] [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
from collections import Counter, defaultdict
from pathlib import Path

from collapse import coherent_items, ends_of, load, percentile, rate, stream
from common import emit

import pipeline  # noqa: F401 - before mlx, as every entry point
from pipeline.checks.collapse import SALAD_SIGNALS, onset_by_surprisal, salad_window

CORPUS = Path(__file__).resolve().parent / "corpus"


def nats_by_id(path: Path) -> dict[str, list[float]]:
    """Each item's scores by id; the few ids two items share (two `__exit__` methods) are left out."""
    with gzip.open(path, "rt") as fh:
        rows = [(row["id"], row["nats"]) for row in map(json.loads, fh)]
    shared = {key for key, count in Counter(key for key, _ in rows).items() if count > 1}
    return {key: nats for key, nats in rows if key not in shared}


def group_of(item: dict) -> str:
    return f"{item['split']} / {item.get('batch', 'main')}"


MODES = ("text", "text+surprisal", "check: text, then read")


def judged(text: str, ends: list[int], nats: list[float], mode: str) -> tuple[bool, int | None, bool, int | None]:
    """(fired, at which token, by the model's surprisal, the onset token `pipeline check` would report)
    for one text: streamed with the generation rule (text+surprisal), or with the text signals alone
    and then, if they pass it, read whole as `pipeline check --read` reads it (collapse.salad_window).
    The reported onset is check's (checks/tokens.collapse_of): a salad's start placed by surprisal."""
    verdict, at = stream(text, ends, nats if mode == "text+surprisal" else None)
    onset = None if verdict.onset is None else sum(1 for end in ends if end <= verdict.onset)
    if verdict.detected or mode != MODES[2]:
        if verdict.detected and verdict.signal in SALAD_SIGNALS and onset is not None and at is not None:
            located = onset_by_surprisal(nats[:at], onset, at)
            onset = onset if located is None else located
        return verdict.detected, at, "surprisal_nats" in verdict.signals, onset
    found = salad_window(nats)
    if not found:
        return False, None, False, None
    located = onset_by_surprisal(nats, found[0], found[1])
    return True, found[1], True, found[0] if located is None else located


def evaluate(coherent: list[dict], degenerate: list[dict], nats: dict[str, list[float]]) -> dict:
    report: dict = {}
    for mode in MODES:
        fired: dict[str, list] = defaultdict(list)
        examples = []
        for item in coherent:
            hit, _, by_model, _ = judged(item["text"], ends_of(item["text"]), nats[item["id"]], mode)
            fired[item["shape"]].append(hit)
            if hit and by_model:
                examples.append(item["id"])
        caught: dict[str, list] = defaultdict(list)
        delays: dict[str, list] = defaultdict(list)
        reported: dict[str, list] = defaultdict(list)
        for item in degenerate:
            ends = ends_of(item["text"])
            hit, at, _, onset = judged(item["text"], ends, nats[item["id"]], mode)
            caught[item["kind"]].append(hit)
            labelled = sum(1 for end in ends if end <= item["onset"])
            if hit and at is not None:
                delays[item["kind"]].append(max(at - labelled, 0))
            if hit and onset is not None:
                reported[item["kind"]].append(abs(onset - labelled))
        report[mode] = {
            "false_positives_per_shape": {shape: f"{sum(hits)}/{len(hits)}" for shape, hits in sorted(fired.items())},
            "false_positive_rate": rate(sum(sum(h) for h in fired.values()), sum(len(h) for h in fired.values())),
            "recall_per_kind": {kind: f"{sum(hits)}/{len(hits)}" for kind, hits in sorted(caught.items())},
            "delay_tokens": {kind: {"p50": percentile(v, 0.5), "p95": percentile(v, 0.95)} for kind, v in sorted(delays.items())},
            "reported_onset_error_tokens": {kind: {"p50": percentile(v, 0.5), "p95": percentile(v, 0.95)}
                                            for kind, v in sorted(reported.items())},
            **({"fired_by_surprisal": examples[:20]} if examples else {}),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="all", choices=["calibration", "held-out", "reserve", "all"])
    parser.add_argument("--nats", type=Path, default=CORPUS / "surprisal.jsonl.gz")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not args.nats.exists():
        raise SystemExit(f"{args.nats} is missing: it is made by bench/surprisal_dump.py (see bench/corpus/README.md)")
    nats = nats_by_id(args.nats)
    coherent = [c for c in coherent_items(CORPUS) if c["id"] in nats]
    degenerate = [d for d in load(CORPUS / "degenerate.jsonl") if d["id"] in nats]
    groups = sorted({group_of(x) for x in coherent + degenerate if args.split in ("all", x["split"])})
    report = {"benchmark": "surprisal_check", "nats": str(args.nats.name)}
    for group in groups:
        report[group] = evaluate([c for c in coherent if group_of(c) == group],
                                 [d for d in degenerate if group_of(d) == group], nats)
    emit(report, args.out)


if __name__ == "__main__":
    main()
