"""Score every text of the collapse corpus with the embedded model once, so surprisal rules can be
calibrated and measured without running the model again (bench/corpus/surprisal.jsonl.gz).

Two steps, because scoring ~3M tokens takes hours on this 2-core CPU and minutes on a GPU:
  python bench/surprisal_dump.py ids OUT_IDS.jsonl.gz [FILE ...]  # here: the embedded tokenizer's ids per item
  python bench/surprisal_dump.py score IDS MODEL_DIR OUT.gz [ROWS]  # anywhere MLX runs; ROWS: shards
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
from collections.abc import Sequence
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = ("coherent_real.jsonl.gz", "coherent_pydocs.jsonl.gz", "coherent_npm.jsonl.gz", "coherent.jsonl", "coherent_model.jsonl",
         "degenerate.jsonl", "coherent_pypi.jsonl.gz", "coherent_debdocs.jsonl.gz", "coherent_debprose.jsonl.gz",
         "coherent_numdocs.jsonl.gz", "coherent_numprose.jsonl.gz", "coherent_numbers9.jsonl.gz", "coherent_finance.jsonl.gz")
WINDOW, CONTEXT = 400, 200


def items(files: Sequence[str] = FILES):
    for name in files:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(CORPUS / name, "rt") as fh:
            for line in fh:
                if line.strip():
                    yield name, json.loads(line)


def dump_ids(out: Path, files: Sequence[str] = FILES) -> None:
    import pipeline  # noqa: F401 - before mlx, as every entry point
    from pipeline.checks.tokens import _encoding

    with gzip.open(out, "wt") as fh:
        for name, item in items(files):
            encoding = _encoding(item["text"])
            fh.write(json.dumps({"id": item["id"], "file": name, "ids": encoding.ids}) + "\n")


def windows_of(ids: list[int]):
    """(first, start, chunk): each window's tokens with up to CONTEXT tokens before it; token `start`'s
    successors are scored, from chunk position start - first on."""
    for start in range(0, len(ids) - 1, WINDOW):
        first = max(0, start - CONTEXT)
        yield first, start, ids[first: start + WINDOW + 1]


def score(ids_path: Path, model_dir: Path, out: Path, batch: int = 32, shard_rows: int = 0) -> None:
    """Windows of every item, longest first, `batch` at a time, right-padded (a causal model's scores
    for real positions don't see the padding); each item's nats rejoined in order. With shard_rows,
    the output is cut into OUT.0, OUT.1, ... of that many rows each (the GPU machine returns files of
    at most 16 MiB)."""
    import mlx.core as mx
    from mlx_lm.utils import dequantize_model, load_model

    model, _ = load_model(model_dir)
    dequantize_model(model)
    model.set_dtype(mx.float32)
    started = time.time()
    with gzip.open(ids_path, "rt") as src:
        rows = [json.loads(line) for line in src]
    jobs = [(r, first, start, chunk) for r, row in enumerate(rows) for first, start, chunk in windows_of(row["ids"])]
    jobs.sort(key=lambda job: -len(job[3]))
    scored: dict[tuple[int, int], list[float]] = {}
    for at in range(0, len(jobs), batch):
        group = jobs[at: at + batch]
        width = len(group[0][3])
        tokens = mx.array([chunk + [0] * (width - len(chunk)) for _, _, _, chunk in group])
        logits = model(tokens).astype(mx.float32)
        logprobs = logits - mx.logsumexp(logits, axis=-1, keepdims=True)
        picked = mx.take_along_axis(logprobs[:, :-1], tokens[:, 1:, None], axis=-1)[..., 0]
        values = (-picked).tolist()
        for (r, first, start, chunk), row_values in zip(group, values, strict=True):
            scored[(r, start)] = row_values[start - first: len(chunk) - 1]
    for r, row in enumerate(rows):
        ids = row.pop("ids")
        nats = [0.0] + [v for start in range(0, len(ids) - 1, WINDOW) for v in scored[(r, start)]]
        row["nats"] = [round(value, 2) for value in nats[: len(ids)]]
    size = shard_rows or len(rows)
    for shard, at in enumerate(range(0, len(rows), size)):
        with gzip.open(f"{out}.{shard}" if shard_rows else out, "wt") as dst:
            dst.writelines(json.dumps(row) + "\n" for row in rows[at: at + size])
    print(json.dumps({"device": str(mx.default_device()), "tokens": sum(len(r["nats"]) for r in rows),
                      "windows": len(jobs), "seconds": round(time.time() - started, 1)}))


if __name__ == "__main__":
    if sys.argv[1] == "ids":
        dump_ids(Path(sys.argv[2]), sys.argv[3:] or FILES)
    else:
        score(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), shard_rows=int(sys.argv[5]) if len(sys.argv) > 5 else 0)
