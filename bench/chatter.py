"""Chatter trimming (pipeline/checks/chatter.py) on real text. Prints one JSON object.

False trims: every section of every coherent set in bench/corpus/ (package READMEs, changelogs, docs, the Python
documentation, Debian's books, npm READMEs, finance and number-heavy docs, other languages: text nobody here wrote),
and every paragraph of it taken as a section's start (with the two paragraphs after it, so a trailing line is judged
too): any cut is content lost. coherent_real and coherent_pydocs were read to shape the rules of 2026-12-07 (their
false trims then were fixed), so they are reported apart as `looked_at`; the other sets were never looked at for
chatter. Also what is cut from the embedded model's real attempts at the example post, per file in tests/real_text/
(which of them were used to write the patterns is in each file's `source`).
Usage: python bench/chatter.py [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

from common import emit

from pipeline.checks.chatter import trim_chatter
from pipeline.config import load_brief
from pipeline.prompts import render_prompts

REPO = Path(__file__).resolve().parent.parent
PARAGRAPH = re.compile(r"\n\s*\n")
LOOKED_AT = {"coherent_real.jsonl.gz", "coherent_pydocs.jsonl.gz"}


def false_trims(corpus: str) -> dict:
    sections, starts, cut = 0, 0, []
    with gzip.open(REPO / "bench/corpus" / corpus, "rt") as fh:
        for item in map(json.loads, fh):
            sections += 1
            paragraphs = [p for p in PARAGRAPH.split(item["text"]) if p.strip()]
            texts = [item["text"]] + ["\n\n".join(paragraphs[i: i + 3]) for i in range(1, len(paragraphs))]
            starts += len(texts) - 1
            cut += [{"id": item["id"], "removed": removed} for text in texts if (removed := trim_chatter(text).removed)]
    return {"sections": sections, "paragraph_starts": starts, "texts_trimmed": len(cut), "trimmed": cut[:20]}


def model_attempts() -> dict:
    prompts = {p.heading: [m["content"] for m in p.messages] for p in render_prompts(load_brief(REPO / "briefs/post.yaml"))}
    report = {}
    for path in sorted((REPO / "tests/real_text").glob("smollm2-chatter-*.json")):
        data = json.loads(path.read_text())
        removed = [trim_chatter(a["text"], a["heading"], prompts[a["heading"]]).removed for a in data["attempts"]]
        report[path.name] = {"source": data["source"], "attempts": len(removed),
                             "attempts_trimmed": sum(bool(r) for r in removed), "removed": [x for r in removed for x in r]}
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sets = {path.name: false_trims(path.name) for path in sorted((REPO / "bench/corpus").glob("coherent_*.jsonl.gz"))}
    emit({"benchmark": "chatter",
          "looked_at": {name: report for name, report in sets.items() if name in LOOKED_AT},
          "never_looked_at": {name: report for name, report in sets.items() if name not in LOOKED_AT},
          "never_looked_at_total": total({n: r for n, r in sets.items() if n not in LOOKED_AT}),
          "model_attempts": model_attempts()}, args.out)


def total(sets: dict) -> dict:
    return {key: sum(report[key] for report in sets.values()) for key in ("sections", "paragraph_starts", "texts_trimmed")}


if __name__ == "__main__":
    main()
