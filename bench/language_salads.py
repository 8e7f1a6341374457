"""Word salads and loops written in other languages, and what a brief's `language:` costs in catching them.

The collapse detector's token-soup, token-cost and long-sentence signals are English's; with `language:`
set to another language they are off (they flag real Indonesian, Dutch or Swedish as salad). What is left
to catch a salad in another language: few distinct words, doubled words, loops, the model's surprisal
while streaming, and `pipeline check`'s reading. This measures it on real degenerate output:

  generate: the embedded SmolLM2 continues the opening of a real section in another language (held-out
    and reserve prose of bench/corpus/coherent_languages.jsonl.gz, one a language and setting) at
    temperatures 1.3, 1.6 and 2.0 (word salad from the splice: the onset is the splice point) and greedily
    past any sane cap (a loop, where the continuation repeats a 6-word span three times; greedy runs that
    don't loop are kept and not counted). Written to bench/corpus/degenerate_languages.jsonl (resumable).
  evaluate: each sample streamed token by token with the embedded tokenizer, (a) judged as English (the
    setting left unset), (b) in its own language, (c) in its own language with the model's surprisal (scored
    teacher-forced by the embedded model, as the MLX backend reports it while generating), and (d) as
    `pipeline check --language` judges it (text, then the model's reading). Recall per kind and the onset
    delay in tokens after the labelled onset (p50/p95), per mode.
Usage: python bench/language_salads.py generate [--limit N]
       python bench/language_salads.py evaluate [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import time
from collections import defaultdict
from pathlib import Path

from collapse import ends_of, percentile, rate, stream
from common import emit

import pipeline  # noqa: F401  (before mlx: OpenBLAS and the one-row forwarder on a Linux CPU)
from pipeline.checks.tokens import collapse_of, scored

CORPUS = Path(__file__).parent / "corpus"
SAMPLES = CORPUS / "degenerate_languages.jsonl"
LANGUAGES = ("de", "fr", "es", "it", "nl", "pt_BR", "id", "sv", "pl", "ro", "da", "cs")
SETTINGS = {"t13": 1.3, "t16": 1.6, "t20": 2.0, "greedy": 0.0}
LOOP_SPAN, LOOP_TIMES = 6, 3  # a greedy continuation loops where a 6-word span has come round three times


def prefixes() -> list[dict]:
    """One opening (40-120 words, cut at a sentence or line end) per language and setting, each of another page."""
    with gzip.open(CORPUS / "coherent_languages.jsonl.gz", "rt") as fh:
        items = [json.loads(line) for line in fh]
    rng = random.Random(5)
    rng.shuffle(items)
    chosen = []
    for language in LANGUAGES:
        pages = [i for i in items if i.get("language") == language and i["split"] != "calibration" and i["shape"] == "prose"]
        for name, page in zip(SETTINGS, pages, strict=False):
            words = page["text"].split(" ")
            cut = " ".join(words[: rng.randint(40, 120)])
            end = max(cut.rfind(". "), cut.rfind("\n"))
            if end >= 150:
                chosen.append({"id": f"smollm2-{language}-{name}", "language": language, "setting": name,
                               "section": page["id"], "licence": page["licence"], "prefix": cut[: end + 1]})
    return chosen


def generate(limit: int) -> None:
    import mlx.core as mx
    from mlx_lm import stream_generate
    from mlx_lm.sample_utils import make_sampler

    from pipeline.backends.mlx import MLXBackend
    from pipeline.config import MemorySettings

    done = {json.loads(line)["id"] for line in SAMPLES.read_text().split("\n") if line} if SAMPLES.exists() else set()
    backend = MLXBackend.load("builtin:smollm2", MemorySettings())  # float32 on a CPU, as runs use it
    for number, pick in enumerate(prefixes()[:limit]):
        if pick["id"] in done:
            continue
        temp = SETTINGS[pick["setting"]]
        mx.random.seed(number)
        started, text = time.time(), ""
        for response in stream_generate(backend._model, backend._tokenizer, pick["prefix"],
                                        max_tokens=320 if temp == 0.0 else 160, sampler=make_sampler(temp=temp)):
            text += response.text
        record = {**pick, "temp": temp, "seed": number, "seconds": round(time.time() - started, 1),
                  "splice": len(pick["prefix"]), "text": pick["prefix"] + text}
        del record["prefix"]
        record.update(label(record))
        with open(SAMPLES, "a") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(record["id"], record["kind"], record["seconds"], flush=True)


def label(sample: dict) -> dict:
    """Hot continuations are salad from the splice; a greedy one is a loop from the first repeat of a span
    that comes round three times (None: it did not loop, and is not counted)."""
    if sample["temp"] > 0:
        return {"kind": "word_salad", "onset": sample["splice"]}
    tail = sample["text"][sample["splice"]:]
    words = [(m.start(), m.group()) for m in re.finditer(r"\S+", tail)]
    seen: dict[tuple, list[int]] = defaultdict(list)
    for i in range(len(words) - LOOP_SPAN + 1):
        span = tuple(w for _, w in words[i: i + LOOP_SPAN])
        seen[span].append(i)
        if len(seen[span]) == LOOP_TIMES:
            return {"kind": "loop", "onset": sample["splice"] + words[seen[span][1]][0]}
    return {"kind": None, "onset": None}


def evaluate(out: Path | None) -> None:
    samples = [json.loads(line) for line in SAMPLES.read_text().split("\n") if line.strip()]
    counted = [s for s in samples if s["kind"]]
    found: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    delays: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for sample in counted:
        text, kind, language = sample["text"], sample["kind"], sample["language"]
        ends = ends_of(text)
        onset_token = sum(1 for end in ends if end <= sample["onset"])
        score = scored(text)
        assert score is not None, "the embedded model is needed: make setup"
        nats = score[1]
        modes = {"as English (language unset)": stream(text, ends),
                 "in its language": stream(text, ends, language=language),
                 "in its language, with the model's surprisal": stream(text, ends, nats, language=language)}
        for mode, (verdict, at) in modes.items():
            found[mode][kind].append(verdict.detected)
            if verdict.detected and at is not None:
                delays[mode][kind].append(max(at - onset_token, 0))
        checked = collapse_of(text, language=language)  # `pipeline check --language`: text, then the model's reading
        found["pipeline check --language (text, then read)"][kind].append(checked.detected)
    report: dict = {"benchmark": "language_salads", "samples": len(samples), "counted": len(counted),
                    "languages": sorted({s["language"] for s in counted}),
                    "greedy runs that did not loop (not counted)": [s["id"] for s in samples if not s["kind"]]}
    for mode, kinds in found.items():
        report[mode] = {kind: {"caught": f"{sum(hits)} / {len(hits)}", "recall": rate(sum(hits), len(hits)),
                               **({"delay_tokens_p50": percentile(delays[mode][kind], 0.5),
                                   "delay_tokens_p95": percentile(delays[mode][kind], 0.95)} if delays[mode][kind] else {})}
                        for kind, hits in sorted(kinds.items())}
    emit(report, out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["generate", "evaluate"])
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    generate(args.limit) if args.mode == "generate" else evaluate(args.out)


if __name__ == "__main__":
    main()
