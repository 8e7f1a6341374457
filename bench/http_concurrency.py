"""The example post through the OpenAI-compatible backend against one local `mlx_lm.server`: its
sections one at a time (`generation.mode: sequential`) against all sent concurrently (`batched`),
same server, same process, one run each per round, rounds alternating which goes first. Prints one
JSON object (wall time per draft, tokens, the ratio).

The server runs the embedded model (or --model DIR) on this machine; on a CPU batching pays little,
on a GPU or a Mac's Metal it is where a server earns its keep.
Usage: python bench/http_concurrency.py [--rounds 2] [--max-tokens 120] [--model DIR] [--out FILE.json]"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from common import alternating, emit

from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

REPO = Path(__file__).resolve().parent.parent


def start_server(model: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Importing pipeline first gives the server the same BLAS as pipeline itself (cpu_blas.py).
    launch = "import sys, pipeline; from mlx_lm.server import main; sys.argv[0] = 'mlx_lm.server'; main()"
    server = subprocess.Popen([sys.executable, "-c", launch, "--model", model, "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=1)
            return server, port
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("mlx_lm.server did not start")


def project_with(mode: str, spec: str, max_tokens: int, root: Path) -> Path:
    """The example post in a fresh project folder, pointed at the server, in the given mode."""
    project = root / mode
    shutil.copytree(REPO / "templates", project / "templates")
    (project / "briefs").mkdir(parents=True)
    text = (REPO / "briefs" / "post.yaml").read_text()
    text = text.replace("model: builtin:smollm2", f"model: '{spec}'")
    text = re.sub(r"(?m)^(\s+max_tokens:) \d+", rf"\1 {max_tokens}", text)
    text += f"\ngeneration:\n  mode: {mode}\n  max_batch: 8\n"
    (project / "briefs" / "post.yaml").write_text(text)
    return project / "briefs" / "post.yaml"


def one_run(brief: Path) -> dict:
    started = time.perf_counter()
    result = run_brief(brief, RunOptions(out_root=brief.parent.parent / "output", force=True), Reporter())
    wall = time.perf_counter() - started
    sections = result.manifest["sections"]
    return {"wall_s": round(wall, 2), "sections": len(sections),
            "tokens": sum(a["tokens_out"] for s in sections for a in s["attempts"]),
            "attempts": sum(len(s["attempts"]) for s in sections), "status": result.status}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=120)
    parser.add_argument("--model", help="an MLX model folder (default: the embedded model)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.model is None:
        from pipeline.builtin_model import builtin_model_dir

        args.model = str(builtin_model_dir())
    server, port = start_server(args.model)
    spec = f"openai:http://127.0.0.1:{port}/v1#{args.model}"
    runs: dict[str, list[dict]] = {"sequential": [], "batched": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            briefs = {mode: project_with(mode, spec, args.max_tokens, Path(tmp)) for mode in runs}
            for mode in alternating(["sequential", "batched"], args.rounds):
                runs[mode].append(one_run(briefs[mode]))
    finally:
        server.terminate()
        server.wait()
    wall = {mode: statistics.median(r["wall_s"] for r in rs) for mode, rs in runs.items()}
    tps = {mode: statistics.median(r["tokens"] / r["wall_s"] for r in rs) for mode, rs in runs.items()}
    report = {"benchmark": "http_concurrency", "server": "mlx_lm.server on 127.0.0.1", "model": args.model,
              "max_tokens": args.max_tokens, "runs": runs, "median_wall_s": wall,
              "median_tokens_per_s": {m: round(v, 2) for m, v in tps.items()},
              "batched_vs_sequential_wall": round(wall["batched"] / wall["sequential"], 3),
              "batched_vs_sequential_tokens_per_s": round(tps["batched"] / tps["sequential"], 3)}
    emit(report, args.out)


if __name__ == "__main__":
    main()
