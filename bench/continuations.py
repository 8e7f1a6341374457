"""The later batches of SmolLM2 continuations, judged the three ways the tool judges text. Prints one JSON object.

A batch made by `bench/generate_collapse_samples.py continue ... --sets` continues the held-out and reserve
sections of coherent sets (greedy runs loop, hot ones turn to salad, from the splice; the onsets are labelled
by bench/build_degenerate_corpus.py, not by the detector). Its degenerate samples (bench/corpus/degenerate.jsonl)
and the runs that stayed coherent (coherent_model.jsonl) are scored under the embedded model on this CPU (the
writer's own -log p per token, ~100 tokens/s) and judged as generation with the MLX backend judges a stream
(`text+surprisal`), as the HTTP backend's stream is judged while it streams (`text`: the text signals alone),
and as `pipeline check` judges a file (`check`: the text signals, then the model's reading), each by
bench/surprisal_check.py's `judged`. Per kind: recall, tokens generated past the labelled onset before the
stream stopped (p50/p95), and how far the onset `check` reports is from the label (p95).
Usage: python bench/continuations.py BATCH [BATCH ...] [--out FILE.json]"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from collapse import load, percentile, rate
from common import emit
from surprisal_check import MODES, judged

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)
from pipeline.checks.tokens import scored

CORPUS = Path(__file__).resolve().parent / "corpus"


def judge_batch(batch: str) -> dict:
    degenerate = [d for d in load(CORPUS / "degenerate.jsonl") if d.get("batch") == batch]
    coherent = [c for c in load(CORPUS / "coherent_model.jsonl") if c.get("batch") == batch]
    found: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    late: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    placed: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    false_alarms: dict[str, list[str]] = defaultdict(list)
    for item in degenerate + coherent:
        scores = scored(item["text"])
        assert scores is not None, "the embedded model is needed: make setup"
        ends, nats = scores
        onset = None if item["onset"] is None else sum(1 for end in ends if end <= item["onset"])
        for mode in MODES:
            fired, at, _, reported = judged(item["text"], ends, nats, mode)
            if onset is None:
                if fired:
                    false_alarms[mode].append(item["id"])
                continue
            found[mode][item["kind"]].append(fired)
            if fired and at is not None:
                late[mode][item["kind"]].append(max(at - onset, 0))
            if fired and reported is not None:
                placed[mode][item["kind"]].append(abs(reported - onset))
    return kind_report(MODES, found, late, false_alarms, len(coherent), placed)


def kind_report(modes: tuple[str, ...], found: dict, late: dict, false_alarms: dict, coherent_runs: int,
                placed: dict | None = None) -> dict:
    """Per way of judging and per kind: recall, tokens late (p50/p95), where `check` put the onset (`placed`)."""
    report: dict = {"samples": {kind: len(hits) for kind, hits in found[modes[0]].items()}, "coherent_runs": coherent_runs}
    for mode in modes:
        report[mode] = {kind: {"caught": f"{sum(hits)} / {len(hits)}", "recall": rate(sum(hits), len(hits)),
                               "late_p50": percentile(late[mode][kind], 0.5),
                               "late_p95": percentile(late[mode][kind], 0.95),
                               **({} if placed is None else
                                  {"reported_onset_error_p95": percentile(placed[mode][kind], 0.95)})}
                        for kind, hits in sorted(found[mode].items())}
        report[mode]["false_alarms_on_coherent_runs"] = false_alarms[mode]
    return report


def run_batches(benchmark: str, modes: tuple[str, ...], judge: Callable[[str], dict]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("batches", nargs="+")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    emit({"benchmark": benchmark, "modes": list(modes), **{f"batch {batch}": judge(batch) for batch in args.batches}},
         args.out)


if __name__ == "__main__":
    run_batches("continuations", MODES, judge_batch)
