"""What reading a stream as it grows costs against one read of the finished section. Prints one JSON object.

The embedded model reads sections of its own coherent output (bench/corpus/coherent_model.jsonl) two ways, side by
side, alternating which goes first: once whole (`pipeline check`'s read, MLXBackend.surprisal) and in 16-token steps
with the KV cache kept (what a stream from a backend without probabilities gets, backends/mlx.Reading). Reports the
seconds of each, their ratio, and the largest difference in nats between the two readings of a token.
Usage: python bench/read_cost.py [--sections 12] [--out FILE.json]"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from collapse import load
from common import emit

import pipeline  # noqa: F401  (before mlx: the CPU's BLAS)
from pipeline.checks.tokens import StreamRead, _encoding, _scorer

CORPUS = Path(__file__).resolve().parent / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", type=int, default=12)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    scorer = _scorer()
    assert scorer is not None, "the embedded model is needed: make setup"
    texts = [item["text"] for item in load(CORPUS / "coherent_model.jsonl") if len(item["text"]) > 400][: args.sections]
    seconds = {"whole": 0.0, "as it grows": 0.0}
    tokens, worst = 0, 0.0
    scorer.surprisal(_encoding(texts[0]).ids[:64])  # warm up
    for number, text in enumerate(texts):
        ids = _encoding(text).ids
        tokens += len(ids)
        for way in (("whole", "as it grows") if number % 2 == 0 else ("as it grows", "whole")):
            start = time.perf_counter()
            if way == "whole":
                whole = scorer.surprisal(ids)
            else:
                reading = scorer.reading()
                for end in range(StreamRead.READ_EVERY, len(ids) + StreamRead.READ_EVERY, StreamRead.READ_EVERY):
                    reading.extend(ids[:end])
            seconds[way] += time.perf_counter() - start
        worst = max(worst, *(abs(a - b) for a, b in zip(whole, reading.nats, strict=True)))
    emit({"benchmark": "read_cost", "sections": len(texts), "tokens": tokens,
          "seconds": {way: round(value, 2) for way, value in seconds.items()},
          "ratio_as_it_grows_to_whole": round(seconds["as it grows"] / seconds["whole"], 2),
          "largest_difference_nats": round(worst, 5)}, args.out)


if __name__ == "__main__":
    main()
