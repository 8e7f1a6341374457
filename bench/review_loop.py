"""The review loop's costs, side by side on one machine: a full run; a run interrupted after its
next-to-last section and resumed; a redo of one section of the full run's draft. Prints one JSON object:
tokens and wall time of each, and their ratios to the full run.

Usage: python bench/review_loop.py [--brief briefs/post.yaml] [--model builtin:smollm2] [--section 3]"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(brief: str, out: Path, model: str, *extra: str, failpoint: str | None = None) -> tuple[float, int]:
    return timed(["run", brief, "--out", str(out), "--model", model, *extra], failpoint)


def timed(args: list[str], failpoint: str | None = None) -> tuple[float, int]:
    """Wall seconds and exit code; with a failpoint, SIGTERM is sent when the process reaches it (SIGTERM, as a
    scheduler stops a job: a shell starts background jobs with SIGINT ignored)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **({"PIPELINE_FAILPOINT": failpoint} if failpoint else {})}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args, "-q"], stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    if failpoint:
        for line in proc.stderr:
            if f"failpoint {failpoint}" in line:
                proc.send_signal(signal.SIGTERM)
                break
    proc.communicate()
    return time.perf_counter() - started, proc.returncode


def generated_tokens(out: Path) -> tuple[int, int, int]:
    """(tokens this run generated, sections, sections from the cache) from the draft's run.json."""
    manifest = json.loads(next(out.glob("*/*/run.json")).read_text())
    cached = sum(s["from_cache"] for s in manifest["sections"])
    return manifest["totals"]["tokens_out"], len(manifest["sections"]), cached


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brief", default="briefs/post.yaml")
    parser.add_argument("--model", default="builtin:smollm2")
    parser.add_argument("--section", default="3", help="the section to redo (heading or number)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        full_out, resumed_out = Path(folder) / "full", Path(folder) / "resumed"
        full_s, full_code = run(args.brief, full_out, args.model, "--fresh")
        full_tokens, sections, _ = generated_tokens(full_out)
        interrupted_s, interrupted_code = run(args.brief, resumed_out, args.model, failpoint=f"cached-{sections - 1}")
        resumed_s, resumed_code = run(args.brief, resumed_out, args.model)
        resumed_tokens, _, cached = generated_tokens(resumed_out)
        draft = next(full_out.glob("*/*/run.json")).parent
        redo_s, redo_code = timed(["redo", str(draft), "--section", args.section, "--model", args.model])
        redo_tokens = json.loads((draft / "run.json").read_text())["redos"][-1]["tokens_out"]
    print(json.dumps({
        "benchmark": "review_loop", "brief": args.brief, "model": args.model, "sections": sections,
        "interrupted_after_sections": sections - 1,
        "exit_codes": {"full": full_code, "interrupted": interrupted_code, "resumed": resumed_code, "redo": redo_code},
        "full": {"tokens": full_tokens, "wall_s": round(full_s, 1)},
        "interrupted_run_wall_s": round(interrupted_s, 1),
        "resumed": {"tokens": resumed_tokens, "wall_s": round(resumed_s, 1), "sections_from_cache": cached},
        "redo_one_section": {"section": args.section, "tokens": redo_tokens, "wall_s": round(redo_s, 1)},
        "ratios_to_full": {"resumed_tokens": round(resumed_tokens / full_tokens, 3) if full_tokens else None,
                           "resumed_wall": round(resumed_s / full_s, 3),
                           "redo_tokens": round(redo_tokens / full_tokens, 3) if full_tokens else None,
                           "redo_wall": round(redo_s / full_s, 3)},
        "note": "wall times include Python start and model load in each run; one machine, runs back to back",
    }, indent=2))


if __name__ == "__main__":
    main()
