"""What `pipeline check --read` costs against `--no-read`, side by side: whole commands, as a reviewer runs them.

Writes a ~1,000-word markdown draft from reserve sections of the npm README set (prose and lists, under
`##` headings) and times `pipeline check --read FILE` and `pipeline check --no-read FILE` as separate
processes, alternating which goes first each round (interpreter start, model load and scoring
included). Prints wall seconds per round, medians, their ratio and how many tokens were read.
Usage: python bench/check_speed.py [--rounds 3] [--words 1000] [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import alternating, emit

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "bench" / "corpus" / "coherent_npm.jsonl.gz"


def draft_of(words: int) -> str:
    """Reserve prose and list sections, whole, until `words` is reached: text no rule was tuned on."""
    parts, count = [], 0
    with gzip.open(SOURCE, "rt", encoding="utf-8") as lines:
        items = [json.loads(line) for line in lines]
    for item in items:
        if item["split"] != "reserve" or item["shape"] not in ("prose", "list"):
            continue
        parts.append(f"## {item['package']}\n\n{item['text'].strip()}\n")
        count += len(item["text"].split())
        if count >= words:
            break
    return "\n".join(parts)


def timed_check(flag: str, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "check", "--json", flag, str(path)],
                          capture_output=True, text=True, cwd=ROOT, env=os.environ.copy())
    return time.perf_counter() - started, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--words", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from pipeline.checks.tokens import token_ends  # the embedded tokenizer: how much the model reads

    text = draft_of(args.words)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "draft.md"
        path.write_text(text, encoding="utf-8")
        seconds: dict[str, list[float]] = {"--read": [], "--no-read": []}
        exits: dict[str, set[int]] = {"--read": set(), "--no-read": set()}
        for flag in alternating(list(seconds), args.rounds):
            wall, code = timed_check(flag, path)
            seconds[flag].append(round(wall, 2))
            exits[flag].add(code)
    medians = {flag: statistics.median(values) for flag, values in seconds.items()}
    emit({"benchmark": "check_speed", "machine": platform.machine(), "cpus": os.cpu_count(),
          "draft_words": len(text.split()), "draft_tokens": len(token_ends(text) or []), "wall_s": seconds, "median_s": medians,
          "exit_codes": {flag: sorted(codes) for flag, codes in exits.items()},
          "read_over_no_read": round(medians["--read"] / medians["--no-read"], 2)}, args.out)


if __name__ == "__main__":
    main()
