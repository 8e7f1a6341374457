"""Collapse detector benchmark on the labelled corpus in bench/corpus/. Prints one JSON object.

False-positive rate on coherent sections, recall on degenerate ones (overall and per kind), onset
delay in tokens of the embedded model's tokenizer (p50/p95), and detector throughput in tokens/s
when fed token by token as in streaming.
Usage: python bench/collapse.py [--corpus bench/corpus] [--details]"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

from pipeline.checks.collapse import CollapseDetector


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tokenizer():
    from mlx_lm.utils import load_tokenizer

    from pipeline.builtin_model import builtin_model_dir

    return load_tokenizer(builtin_model_dir())


def token_ends(text: str, tok) -> list[int]:
    """Character offsets where each token of the embedded model's tokenizer ends."""
    encoding = tok._tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    return [end for _, end in encoding["offset_mapping"]]


def stream(text: str, tok):
    """Feed the text token by token, as during generation; returns (verdict, tokens fed when it fired)."""
    detector, start = CollapseDetector(), 0
    for count, end in enumerate(token_ends(text, tok), start=1):
        if detector.feed(text[start:end], 1).detected:
            return detector.verdict, count
        start = end
    return detector.finish(), None


def evaluate(coherent: list[dict], degenerate: list[dict], tok) -> dict:
    false_positives = [c["id"] for c in coherent if stream(c["text"], tok)[0].detected]
    found, delays, early, missed = defaultdict(list), [], 0, []
    for item in degenerate:
        verdict, fired_at_token = stream(item["text"], tok)
        found[item["kind"]].append(verdict.detected)
        if not verdict.detected:
            missed.append(item["id"])
            continue
        onset_token = sum(1 for end in token_ends(item["text"], tok) if end <= item["onset"])
        if fired_at_token is None:  # fired on the final word, at finish()
            fired_at_token = len(token_ends(item["text"], tok))
        early += fired_at_token <= onset_token
        delays.append(max(fired_at_token - onset_token, 0))
    flat = [hit for hits in found.values() for hit in hits]
    return {
        "coherent_sections": len(coherent),
        "false_positives": len(false_positives),
        "false_positive_rate": round(len(false_positives) / len(coherent), 4),
        "degenerate_sections": len(degenerate),
        "recall": round(sum(flat) / len(flat), 4),
        "recall_per_kind": {kind: {"n": len(hits), "recall": round(sum(hits) / len(hits), 4)}
                            for kind, hits in sorted(found.items())},
        "onset_delay_tokens": {"p50": percentile(delays, 0.5), "p95": percentile(delays, 0.95), "max": max(delays, default=None)},
        "fired_before_labelled_onset": early,
        "detection": "streamed token by token with the embedded model's tokenizer, as during generation",
        "false_positive_ids": false_positives,
        "missed_ids": missed,
    }


def throughput(texts: list[str], tok, repeats: int = 3) -> dict:
    """Feed each text token by token, as the generation loop does."""
    streams = [[tok.decode([t]) for t in tok.encode(text, add_special_tokens=False)] for text in texts]
    total_tokens = sum(len(s) for s in streams) * repeats
    started = time.perf_counter()
    for _ in range(repeats):
        for pieces in streams:
            detector = CollapseDetector()
            for piece in pieces:
                detector.feed(piece, 1)
            detector.finish()
    elapsed = time.perf_counter() - started
    return {"tokens": total_tokens, "seconds": round(elapsed, 3), "tokens_per_s": round(total_tokens / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=Path(__file__).parent / "corpus")
    args = parser.parse_args()
    coherent = [item for path in sorted(args.corpus.glob("coherent*.jsonl")) for item in load(path)]
    degenerate = load(args.corpus / "degenerate.jsonl")
    tok = tokenizer()
    report = {"benchmark": "collapse", **evaluate(coherent, degenerate, tok)}
    report["throughput"] = throughput([item["text"] for item in coherent + degenerate], tok)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
