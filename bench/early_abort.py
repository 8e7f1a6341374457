"""Early abort on real generations with the embedded model: tokens spent after the collapse onset.

Greedy decoding without penalties and a long cap makes SmolLM2 degenerate on these prompts; the
collapse watch stops each stream when it fires. Prints one JSON object: per prompt the tokens
generated, the detector's onset, the tokens spent after it, and p50/p95 over prompts that collapsed.
Usage: python bench/early_abort.py [--max-tokens 600] [--limit 8]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collapse import percentile  # noqa: E402
from make_collapse_corpus import PROMPTS  # noqa: E402

from pipeline.backends import Request, open_backend  # noqa: E402
from pipeline.config import MemorySettings, SamplingSettings  # noqa: E402
from pipeline.generate.watch import Watch, watch_stream  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-tokens", type=int, default=600)
    parser.add_argument("--limit", type=int, default=8)
    args = parser.parse_args()
    backend = open_backend("builtin:smollm2", MemorySettings())
    settings = SamplingSettings(max_tokens=args.max_tokens, temperature=0.0, repetition_penalty=None, top_k=0)
    rows = []
    for text in PROMPTS[: args.limit]:
        messages = ({"role": "user", "content": text},)
        watch = Watch(backend.capabilities.think_markers, starts_inside=False, collapse_watch=True)
        streamed = watch_stream(backend.stream(Request(backend.render(messages, False), settings, 0)), watch, lambda n: None)
        rows.append({"prompt": text, "tokens_generated": streamed.stats.generation_tokens,
                     "finish_reason": streamed.finish_reason,
                     "signal": streamed.collapse.signal if streamed.collapse else None,
                     "onset_char": streamed.collapse.onset if streamed.collapse else None,
                     "tokens_after_onset": streamed.tokens_after_onset})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    spent = [r["tokens_after_onset"] for r in rows if r["tokens_after_onset"] is not None]
    print(json.dumps({
        "benchmark": "early_abort", "model": "builtin:smollm2", "decoding": "greedy, no penalties",
        "max_tokens": args.max_tokens, "prompts": len(rows), "collapsed": len(spent),
        "tokens_after_onset": {"p50": percentile(spent, 0.5), "p95": percentile(spent, 0.95), "max": max(spent, default=None)},
        "tokens_saved_vs_cap": sum(args.max_tokens - r["tokens_generated"] for r in rows if r["finish_reason"] == "collapse"),
        "rows": rows,
    }, indent=2))


if __name__ == "__main__":
    main()
