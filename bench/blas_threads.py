"""OpenBLAS thread counts for the embedded model on a Linux CPU, idle and beside a busy core, side by side.

Why pipeline/cpu_blas.py gives OpenBLAS as many threads as there are free cores: its threads spin
waiting for each other, so one more thread than the free cores slows everything. Runs bench/cpu_speed.py's
micro benchmark (load, prefill of a 545-token prompt, 100 greedy tokens) in a fresh process with
OPENBLAS_NUM_THREADS set to every core and to 1, first with the machine as it is, then with a busy
loop on one core beside it, alternating the order each round.
Usage: python bench/blas_threads.py [--rounds 1] [--out FILE.json]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import alternating, emit
from cpu_speed import MICRO, REPO


def micro(threads: int) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MICRO], env={**os.environ, "OPENBLAS_NUM_THREADS": str(threads)},
                          capture_output=True, text=True, cwd=REPO, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"prefill_tok_s": result["prefill_tok_s"], "decode_tok_s": result["decode_tok_s"],
            "wall_s": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    report: dict = {"benchmark": "blas_threads", "cores": cores}
    for beside in ("idle", "one core busy beside"):
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if beside != "idle" else None
        try:
            runs: dict[str, list[dict]] = {f"{cores} threads": [], "1 thread": []}
            for name in alternating(list(runs), args.rounds):
                runs[name].append(micro(cores if name != "1 thread" else 1))
            report[beside] = runs
        finally:
            if hog:
                hog.kill()
    emit(report, args.out)


if __name__ == "__main__":
    main()
