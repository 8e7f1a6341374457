"""The embedded model on this machine's CPU: MLX's own reference BLAS against OpenBLAS, 4-bit weights
as stored against float32 dequantized at load, side by side in one run (each configuration in its own
process: the BLAS is chosen per process). Prints one JSON object.

  micro: prefill of a 545-token prompt and 100 greedy decode tokens, per configuration, --rounds times
         (best decode per configuration in best_decode_tok_s); for the default
         also 100 tokens with the example's sampling settings (mlx-lm's sampler against pipeline's
         top-k-first one, alternating) and five sequences decoded together (the batched path);
  post:  `pipeline run briefs/post.yaml` (the Quick start's job, same brief and caps) before
         (reference BLAS, 4-bit) and after (the defaults: OpenBLAS, float32), alternating, --rounds each.
Usage: python bench/cpu_speed.py [--rounds 1] [--skip-post] [--out FILE.json]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import alternating, emit

REPO = Path(__file__).resolve().parent.parent
CONFIGS = {"before: reference BLAS, 4-bit": {"PIPELINE_CPU_BLAS": "reference", "PIPELINE_CPU_WEIGHTS": "stored"},
           "reference BLAS, float32": {"PIPELINE_CPU_BLAS": "reference"},
           "OpenBLAS, 4-bit": {"PIPELINE_CPU_WEIGHTS": "stored"},
           "OpenBLAS, float32, no gemv forwarder": {"PIPELINE_CPU_BLAS": "openblas"},
           "after: OpenBLAS, float32 (default)": {}}

MICRO = """
import json, sys, time
import pipeline.backends.mlx as mlx_backend
from pipeline.backends.mlx import MLXBackend
from pipeline.backends.base import Request
from pipeline.backends.sampling import make_sampler as top_k_first
from pipeline.config import MemorySettings, SamplingSettings
started = time.perf_counter()
backend = MLXBackend.load("builtin:smollm2", MemorySettings())
load_s = time.perf_counter() - started
backend._tokenizer.eos_token_ids = []  # every call decodes exactly its cap
tokens = backend._tokenizer.encode("The memory plan behind running a model on one machine. " * 60)[:545]
prompt = backend._tokenizer.decode(tokens)
greedy = SamplingSettings(max_tokens=100, temperature=0.0, repetition_penalty=None)
sampled = SamplingSettings(max_tokens=100, temperature=0.6, top_p=0.9, top_k=40, min_p=0.05, repetition_penalty=1.1)
def last(stream):
    return list(stream)[-1]
def mlx_lm_sampler(settings, vocab):
    from mlx_lm.sample_utils import make_sampler
    return make_sampler(temp=settings.temperature, top_p=settings.top_p, min_p=settings.min_p, top_k=settings.top_k)
final = last(backend.stream(Request(prompt, greedy, 0)))
result = {"load_s": round(load_s, 2), "prefill_tok_s": round(final.stats.prompt_tps, 1),
          "decode_tok_s": round(final.stats.generation_tps, 2)}
info = backend.describe()
if sys.argv[1:] != ["--full"]:  # the other configurations only for prefill and greedy decode: they are slow
    print(json.dumps({**result, "weights": info.weights, "blas": info.blas, "batching": info.batching}))
    raise SystemExit
# the example's sampling settings (the draft stage of briefs/post.yaml), mlx-lm's sampler against ours, alternating
decode = {"mlx-lm sampler": [], "top-k-first sampler": []}
for round_ in range(2):
    for name in (list(decode) if round_ == 0 else list(decode)[::-1]):
        mlx_backend.make_sampler = mlx_lm_sampler if name == "mlx-lm sampler" else top_k_first
        decode[name].append(last(backend.stream(Request(prompt, sampled, 0))).stats.generation_tps)
mlx_backend.make_sampler = top_k_first
result["sampled_decode_tok_s"] = {name: round(max(v), 2) for name, v in decode.items()}
# five sections decoded together (the batched path, after the shared prefix is prefilled once as in a run),
# tokens per second over all five
requests = [Request(prompt + f" Section {n}.", sampled, n) for n in range(5)]
backend.share_prefix([r.prompt for r in requests])
began = time.perf_counter()
finals = {}
for delta in backend.stream_batch(requests):
    if delta[1].finish_reason:
        finals[delta[0]] = delta[1]
decoded = sum(f.stats.generation_tokens for f in finals.values())
result["batched_5_decode_tok_s"] = round(decoded / (time.perf_counter() - began), 2)
info = backend.describe()
print(json.dumps({**result, "weights": info.weights, "blas": info.blas, "batching": info.batching}))
"""


def environment(overrides: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PIPELINE_CPU_BLAS", "PIPELINE_CPU_WEIGHTS")}
    return {**env, **overrides}


def micro(overrides: dict, full: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", MICRO, *(["--full"] if full else [])], env=environment(overrides),
                          capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def post(overrides: dict, out: Path) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "briefs/post.yaml", "--out", str(out), "--force",
                           "--fresh", "--json", "-q"], env=environment(overrides), capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - started
    try:
        summary = json.loads(done.stdout)  # one brief: the run's own object
    except ValueError:
        summary = {}
    return {"wall_s": round(wall, 1), "exit": done.returncode, "status": summary.get("status")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-post", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report: dict = {"benchmark": "cpu_speed", "cpus": os.cpu_count(), "micro": {}}
    for _round in range(args.rounds):  # every configuration once a round, so drift hits them alike
        for name, overrides in CONFIGS.items():
            report["micro"].setdefault(name, []).append(micro(overrides, full=not overrides))
            print(name, report["micro"][name][-1], file=sys.stderr, flush=True)  # progress: the whole run takes minutes
    report["best_decode_tok_s"] = {name: max(r["decode_tok_s"] for r in runs) for name, runs in report["micro"].items()}
    if not args.skip_post:
        before, after = list(CONFIGS.values())[0], list(CONFIGS.values())[-1]
        runs: dict[str, list] = {"before": [], "after": []}
        with tempfile.TemporaryDirectory() as tmp:
            for name in alternating(["before", "after"], args.rounds):
                runs[name].append(post({"before": before, "after": after}[name], Path(tmp) / name))
                print(name, runs[name][-1], file=sys.stderr, flush=True)
        report["post"] = runs
        best = {name: min(r["wall_s"] for r in rs) for name, rs in runs.items()}
        report["post_speedup"] = round(best["before"] / best["after"], 2)
    emit(report, args.out)


if __name__ == "__main__":
    main()
