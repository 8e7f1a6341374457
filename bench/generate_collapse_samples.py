"""More real degenerate output of the embedded SmolLM2 for the collapse corpus (raw, unlabelled).

Two modes, appending to a raw JSONL file (resumable: ids already in the file are skipped):
- chat: technical-blog prompts through the chat template at high temperatures and penalties
  (salad from the first tokens, or drifting into it);
- continue: a coherent real section's first words as a plain-text prompt, continued by the model
  at high temperature (salad) or greedily past any sane cap (loops). The splice point, where the
  real text ends and the model's begins, is recorded: it is the collapse onset of hot continuations.
Prefixes come from bench/corpus/coherent_real.jsonl.gz (built by bench/build_coherent_corpus.py).
Usage: python bench/generate_collapse_samples.py chat OUT.jsonl [--limit N]
       python bench/generate_collapse_samples.py continue OUT.jsonl [--limit N]
       python bench/generate_collapse_samples.py continue bench/corpus/raw/smollm2-cont-2.jsonl --first 23 --limit 142
       python bench/generate_collapse_samples.py continue bench/corpus/raw/smollm2-cont-3.jsonl --batch 2026-12-07 \
           --sets coherent_finance.jsonl.gz coherent_numprose.jsonl.gz coherent_numdocs.jsonl.gz coherent_debprose.jsonl.gz \
           --limit 70
       python bench/generate_collapse_samples.py continue bench/corpus/raw/smollm2-cont-4.jsonl --batch 2026-12-07b \
           --name cont4 --sets coherent_numbers9.jsonl.gz coherent_pypi.jsonl.gz coherent_npm.jsonl.gz \
           coherent_pydocs.jsonl.gz coherent_debdocs.jsonl.gz --limit 70
       python bench/generate_collapse_samples.py continue bench/corpus/raw/smollm2-cont-5.jsonl --batch 2026-12-07c \
           --name cont5 --seed 5 --cycle greedy,t13,greedy,t07,greedy,t16,greedy,t20 \
           --skip-docs-of bench/corpus/raw/smollm2-cont-3.jsonl bench/corpus/raw/smollm2-cont-4.jsonl \
           --sets coherent_finance.jsonl.gz coherent_numbers9.jsonl.gz coherent_numprose.jsonl.gz coherent_numdocs.jsonl.gz \
           coherent_debprose.jsonl.gz coherent_pypi.jsonl.gz coherent_npm.jsonl.gz coherent_pydocs.jsonl.gz \
           coherent_debdocs.jsonl.gz --limit 64
The sixth is the fifth's command with smollm2-cont-6.jsonl, --batch 2026-12-07d --name cont6 --seed 6 and cont-5 added
to --skip-docs-of; the seventh smollm2-cont-7.jsonl, --batch 2026-12-07e --name cont7 --seed 8, cont-6 skipped too.
The third and fourth batches (--batch, --sets) continue the held-out and reserve sections of the sets named (never
their calibration ones), so all of them are reported on; three in seven of their runs are greedy, where SmolLM2
loops, since the earlier batches had few loops. The fifth (2026-12-07c) takes documents none of them took, half greedy."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path

import pipeline  # noqa: F401  (before mlx: OpenBLAS and the one-row forwarder on a Linux CPU)

CORPUS = Path(__file__).parent / "corpus"

CHAT_PROMPTS = [
    "Write a blog post section about running a 7B model on a MacBook: memory, tokens per second, and quantisation.",
    "Write the weekly update of a paper-trading bot: trades, win rate, PnL, and what changed in the code.",
    "Explain KV cache sizing with a worked example and numbers.",
    "Write a changelog for version 2.3 of a command-line tool.",
    "Write a markdown table comparing four laptops for local LLM inference, then discuss it.",
    "Explain how to profile a slow Python service, with code examples.",
    "Write a post about why my backtest lied to me, with figures.",
    "Describe the architecture of a small batch content pipeline.",
    "Write a newsletter intro about building in public, week 14.",
    "Explain the difference between throughput and latency for LLM serving.",
    "Write a README section on installing and configuring a CLI tool.",
    "Summarise this week's market moves in SPY, QQQ, NVDA and TLT.",
]
CHAT_SETTINGS = {  # name -> (temperature, repetition penalty)
    "t13": (1.3, None), "t16": (1.6, None), "t20": (2.0, None), "t13r13": (1.3, 1.3), "t10r18": (1.0, 1.8),
}
CONTINUE_SETTINGS = {"t13": (1.3, None), "t16": (1.6, None), "t20": (2.0, None), "greedy": (0.0, None)}
# The second batch (2026-12-06, --first 23) adds a temperature a draft is written at: coherent, or a loop.
CONTINUE_SETTINGS_2 = {**CONTINUE_SETTINGS, "t07": (0.7, None)}
THIRD_BATCH_CYCLE = ("greedy", "t13", "greedy", "t16", "t07", "greedy", "t20")  # setting names, in turn


def unseen_prefixes(sets: list[str], limit: int, seed: int = 7, used: set[str] = frozenset()) -> list[dict]:
    """Openings of the held-out and reserve sections of later coherent sets, one a document (none of `used`), as
    prefixes() cuts them."""
    items = []
    for name in sets:
        with gzip.open(CORPUS / name, "rt") as fh:
            items += [item for item in map(json.loads, fh) if item["split"] != "calibration" and item["doc"] not in used]
    return prefixes(limit, seed, items)


def docs_continued(raw_files: list[Path]) -> set[str]:
    """The documents earlier batches continued: a later batch takes others."""
    return {json.loads(line)["doc"] for path in raw_files for line in path.read_text().split("\n") if line.strip()}


def prefixes(limit: int, seed: int = 11, items: list[dict] | None = None) -> list[dict]:
    """Coherent real sections' openings (40-140 words, cut at a line or sentence end), of coherent_real by default."""
    if items is None:
        with gzip.open(CORPUS / "coherent_real.jsonl.gz", "rt") as fh:
            items = [json.loads(line) for line in fh]
    rng = random.Random(seed)
    rng.shuffle(items)
    chosen, docs = [], set()
    for item in items:
        if item["doc"] in docs or item["shape"] == "code":
            continue
        words = item["text"].split(" ")
        cut = " ".join(words[: rng.randint(40, 140)])
        end = max(cut.rfind(". "), cut.rfind("\n"))
        if end < 150:
            continue
        docs.add(item["doc"])
        chosen.append({"prefix": cut[: end + 1], "section": item["id"], "doc": item["doc"], "split": item["split"]})
        if len(chosen) >= limit:
            break
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["chat", "continue"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--greedy-tokens", type=int, default=320)
    parser.add_argument("--first", type=int, default=0,
                        help="skip the first N prefixes (made by an earlier batch) and use the second batch's settings")
    parser.add_argument("--sets", nargs="+", help="continue these coherent sets' held-out and reserve sections instead")
    parser.add_argument("--batch", help="the batch name recorded with --sets")
    parser.add_argument("--name", default="cont3", help="with --sets: the ids' middle part (smollm2-NAME-greedy-000)")
    parser.add_argument("--seed", type=int, default=7, help="with --sets: the shuffle's seed")
    parser.add_argument("--skip-docs-of", nargs="+", type=Path, default=[],
                        help="with --sets: leave out the documents these raw files continued")
    parser.add_argument("--cycle", default=",".join(THIRD_BATCH_CYCLE),
                        help="with --sets: the settings taken in turn, e.g. greedy,t13,greedy,t07")
    args = parser.parse_args()

    import mlx.core as mx
    from mlx_lm import stream_generate
    from mlx_lm.sample_utils import make_logits_processors, make_sampler

    from pipeline.backends.mlx import MLXBackend
    from pipeline.config import MemorySettings

    done = set()
    if args.out.exists():
        done = {json.loads(line)["id"] for line in args.out.read_text().split("\n") if line.strip()}
    backend = MLXBackend.load("builtin:smollm2", MemorySettings())  # float32 on a CPU, as runs use it
    model, tokenizer = backend._model, backend._tokenizer
    jobs = []
    if args.mode == "chat":
        for index, prompt in enumerate(CHAT_PROMPTS):
            for name in CHAT_SETTINGS:
                chat = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                                     add_generation_prompt=True, tokenize=False)
                jobs.append((f"smollm2-chat-{name}-{index:02d}", name, CHAT_SETTINGS[name], chat, {"prompt": prompt}))
        jobs.sort(key=lambda job: job[0].rsplit("-", 1)[1])  # every setting early, not one setting first
    elif args.sets:
        cycle = args.cycle.split(",")
        picks = unseen_prefixes(args.sets, args.limit, args.seed, docs_continued(args.skip_docs_of))
        for index, pick in enumerate(picks):
            name = cycle[index % len(cycle)]
            jobs.append((f"smollm2-{args.name}-{name}-{index:03d}", name, CONTINUE_SETTINGS_2[name], pick["prefix"],
                         pick | {"batch": args.batch}))
    else:
        settings = CONTINUE_SETTINGS_2 if args.first else CONTINUE_SETTINGS
        names = list(settings)
        for index, pick in enumerate(prefixes(args.limit)):
            name = names[index % len(names)]
            if index >= args.first:
                batch = {"batch": "2026-12-06"} if args.first else {}
                jobs.append((f"smollm2-cont-{name}-{index:03d}", name, settings[name], pick["prefix"], pick | batch))
    for number, (ident, name, (temp, penalty), prompt, meta) in enumerate(jobs[: args.limit]):
        if ident in done:
            continue
        mx.random.seed(number + args.first)
        cap = args.greedy_tokens if temp == 0.0 else args.max_tokens
        started, text, tokens = time.time(), "", 0
        for response in stream_generate(
            model, tokenizer, prompt, max_tokens=cap, sampler=make_sampler(temp=temp),
            logits_processors=make_logits_processors(repetition_penalty=penalty, repetition_context_size=cap),
        ):
            text += response.text
            tokens = response.generation_tokens
        record = {"id": ident, "source": f"smollm2-{args.mode}-{name}", "temp": temp, "repetition_penalty": penalty,
                  "seed": number + args.first, "tokens": tokens, "seconds": round(time.time() - started, 1), **meta}
        if args.mode == "continue":
            record["text"], record["splice"] = meta["prefix"] + text, len(meta["prefix"])
            del record["prefix"]
        else:
            record["text"] = text
        with open(args.out, "a") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(ident, tokens, record["seconds"], flush=True)


if __name__ == "__main__":
    main()
