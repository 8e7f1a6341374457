"""Reading while it streams: what a backend without probabilities (the HTTP backend) gains. Prints one JSON object.

Each sample of a batch of continuations (bench/corpus/degenerate.jsonl, and the batch's runs that stayed coherent,
coherent_model.jsonl) is streamed as the section the backend would write: only the model's own part, without the
real text before it (a server's section has no opening), token by token with the embedded tokenizer. Two ways,
side by side on the same texts: the text signals alone (what the HTTP backend's stream had), and the text signals
with the embedded model reading the stream as it grows (generation's own watch, generate/watch.py).
Per kind: recall, tokens generated past the labelled onset before the stream stopped (p50/p95), and the coherent
runs flagged. The model reads on this CPU (~100 tokens/s): a batch takes minutes.
Usage: python bench/stream_read.py BATCH [BATCH ...] [--out FILE.json]"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from collapse import ends_of, load
from continuations import kind_report, run_batches

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)
from pipeline.backends.base import DEFAULT_THINK_MARKERS, Delta
from pipeline.generate.watch import Watch

CORPUS = Path(__file__).resolve().parent / "corpus"
MODES = ("text", "text + reading while streaming")


def streamed(text: str, ends: list[int], read: bool) -> int | None:
    """The token at which generation's watch (generate/watch.py, as a server's stream meets it: no surprisal)
    would have stopped the stream, or None."""
    watch, start = Watch(DEFAULT_THINK_MARKERS, False, True, read=read), 0
    for count, end in enumerate(ends, start=1):
        if watch.add(Delta(text[start:end], count)):
            return count
        start = end
    return len(ends) if watch.result("stop", None).collapse is not None else None


def judge_batch(batch: str) -> dict:
    degenerate = [d for d in load(CORPUS / "degenerate.jsonl") if d.get("batch") == batch]
    coherent = [c for c in load(CORPUS / "coherent_model.jsonl") if c.get("batch") == batch]
    found: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    late: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    false_alarms: dict[str, list[str]] = defaultdict(list)
    for item in degenerate + coherent:
        cut = item.get("splice") or 0
        text = item["text"][cut:]
        ends = ends_of(text) if text else []  # a run that wrote nothing after its opening
        onset = None if item["onset"] is None else sum(1 for end in ends if end <= item["onset"] - cut)
        for mode in MODES:
            at = streamed(text, ends, read=mode != MODES[0])
            if onset is None:
                if at is not None:
                    false_alarms[mode].append(item["id"])
                continue
            found[mode][item["kind"]].append(at is not None)
            if at is not None:
                late[mode][item["kind"]].append(max(at - onset, 0))
    return kind_report(MODES, found, late, false_alarms, len(coherent))


if __name__ == "__main__":
    run_batches("stream_read", MODES, judge_batch)
