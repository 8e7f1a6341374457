"""Score every text of the collapse corpus with the embedded model once, so surprisal rules can be
calibrated and measured without running the model again (bench/corpus/surprisal.jsonl.gz).

Two steps, because scoring ~3M tokens takes hours on this 2-core CPU and minutes on a GPU:
  python bench/surprisal_dump.py ids OUT_IDS.jsonl.gz        # here: the embedded tokenizer's ids per item
  python bench/surprisal_dump.py score IDS MODEL_DIR OUT.gz  # anywhere MLX runs (CUDA, Metal or CPU)
The scoring is MLXBackend.surprisal's, written out so it runs with mlx and mlx-lm alone (the GPU
machine has no pipeline install): the weights dequantized to float32 as on a CPU, windows of 400
tokens, each with at least 200 tokens of context before it; the first token scores 0. Each output
line: {"id", "file", "nats": [per token, 2 decimals]}; token i is the i-th of the embedded tokenizer's
encoding of the item's text (no special tokens), as `pipeline check` reads a file."""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = ("coherent_real.jsonl.gz", "coherent_pydocs.jsonl.gz", "coherent_npm.jsonl.gz", "coherent.jsonl", "coherent_model.jsonl",
         "degenerate.jsonl")
WINDOW, CONTEXT = 400, 200


def items():
    for name in FILES:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(CORPUS / name, "rt") as fh:
            for line in fh:
                if line.strip():
                    yield name, json.loads(line)


def dump_ids(out: Path) -> None:
    import pipeline  # noqa: F401 - before mlx, as every entry point
    from pipeline.checks.tokens import _encoding

    with gzip.open(out, "wt") as fh:
        for name, item in items():
            encoding = _encoding(item["text"])
            fh.write(json.dumps({"id": item["id"], "file": name, "ids": encoding.ids}) + "\n")


def score(ids_path: Path, model_dir: Path, out: Path) -> None:
    import mlx.core as mx
    from mlx_lm.utils import dequantize_model, load_model

    model, _ = load_model(model_dir)
    dequantize_model(model)
    model.set_dtype(mx.float32)
    started, tokens = time.time(), 0
    with gzip.open(ids_path, "rt") as src, gzip.open(out, "wt") as dst:
        for line in src:
            row = json.loads(line)
            ids = row.pop("ids")
            nats = [0.0]
            for start in range(0, len(ids) - 1, WINDOW):
                first = max(0, start - CONTEXT)
                chunk = ids[first: start + WINDOW + 1]
                logits = model(mx.array([chunk]))[0].astype(mx.float32)
                logprobs = logits - mx.logsumexp(logits, axis=-1, keepdims=True)
                targets = mx.array(chunk[start - first + 1:])
                picked = mx.take_along_axis(logprobs[start - first:-1], targets[:, None], axis=-1)[:, 0]
                nats.extend((-picked).tolist())
            row["nats"] = [round(value, 2) for value in nats[: len(ids)]]
            tokens += len(ids)
            dst.write(json.dumps(row) + "\n")
    print(json.dumps({"device": str(mx.default_device()), "tokens": tokens, "seconds": round(time.time() - started, 1)}))


if __name__ == "__main__":
    if sys.argv[1] == "ids":
        dump_ids(Path(sys.argv[2]))
    else:
        score(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
