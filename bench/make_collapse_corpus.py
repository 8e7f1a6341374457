"""Generate real degenerate (and coherent) model outputs for the collapse evaluation set.

Runs the embedded SmolLM2 with settings known to degenerate (greedy, no penalties, long caps)
and with sane settings, and appends raw outputs to a JSONL file for labelling.
Usage: python bench/make_collapse_corpus.py OUT.jsonl [--max-tokens 400] [--limit N]"""

from __future__ import annotations

import argparse
import json
import time

SYNONYM_PROMPTS = [
    "What words describe good governance?",
    "What qualities make a good manager?",
    "Describe the values of a healthy company culture.",
    "What words describe efficient memory management?",
    "List the traits of a reliable system.",
    "What describes a good leader?",
    "What are the principles of good software design?",
    "Describe the characteristics of a strong team.",
    "What words describe a resilient trading strategy?",
    "What makes an organization well run?",
]
PROMPTS = [
    "List all the words that mean management.",
    "Write a very long essay about memory management in computers.",
    "Describe the responsibilities of a system administrator in detail.",
    "Give me synonyms for governance, oversight and administration.",
    "Explain how a large language model works, step by step, in great detail.",
    "Write a long story about a robot who manages a warehouse.",
    "What are the benefits of unified memory? Explain at length.",
    "List the qualities of a good leader.",
    "Write a detailed report on cache management, allocation and deallocation.",
    "Describe the weather in every season, at length.",
    "Explain why testing software is important, in as much detail as possible.",
    "Write a newsletter about trading strategies and risk management.",
    "What is the meaning of life? Answer at great length.",
    "Describe a city at night in a long poem.",
    "List every programming language you know and describe each one.",
    "Write the history of the personal computer in detail.",
]

SETTINGS = {
    "greedy": dict(temp=0.0, repetition_penalty=None),
    "hot": dict(temp=1.6, repetition_penalty=None),
    "sane": dict(temp=0.6, repetition_penalty=1.1),
    "chain": dict(temp=0.7, repetition_penalty=1.6),  # a strong penalty forbids repeats: run-on salad
    "syn": dict(temp=0.5, repetition_penalty=1.2, presence_penalty=1.5),  # lists drift into synonym chains
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--settings", default="greedy", choices=sorted(SETTINGS))
    parser.add_argument("--limit", type=int, default=len(PROMPTS))
    args = parser.parse_args()

    from mlx_lm import load, stream_generate
    from mlx_lm.sample_utils import make_logits_processors, make_sampler

    from pipeline.builtin_model import builtin_model_dir

    model, tokenizer = load(str(builtin_model_dir()))
    chosen = SETTINGS[args.settings]
    prompts = SYNONYM_PROMPTS if args.settings == "syn" else PROMPTS
    for index, prompt in enumerate(prompts[: args.limit]):
        chat = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False)
        started, text, tokens = time.time(), "", 0
        for response in stream_generate(
            model, tokenizer, chat, max_tokens=args.max_tokens, sampler=make_sampler(temp=chosen["temp"]),
            logits_processors=make_logits_processors(
                repetition_penalty=chosen["repetition_penalty"], repetition_context_size=args.max_tokens,
                presence_penalty=chosen.get("presence_penalty"), presence_context_size=args.max_tokens),
        ):
            text += response.text
            tokens = response.generation_tokens
        record = {"id": f"smollm2-{args.settings}-{index:02d}", "source": f"smollm2-{args.settings}", "prompt": prompt,
                  "tokens": tokens, "seconds": round(time.time() - started, 1), "text": text}
        with open(args.out, "a") as fh:
            fh.write(json.dumps(record) + "\n")
        print(record["id"], tokens, record["seconds"], flush=True)


if __name__ == "__main__":
    main()
