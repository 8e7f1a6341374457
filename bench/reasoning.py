"""The `reasoning` finding (pipeline/checks/reasoning.py) on text nobody here wrote as a model's reasoning. Prints one
JSON object.

False flags: every section of every coherent set in bench/corpus/ (READMEs, changelogs, manuals, the Python docs,
Debian's books, finance and number-heavy docs, other languages) and the 200 LLM-written technical blog sections; any
section flagged is a false alarm. The rules' first draft flagged 3 of them (all since fixed), so these figures are
not blind; the blind ones come from bench/corpus/reasoning/ via bench/probe_sets.py.
Usage: python bench/reasoning.py [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from common import emit

from pipeline.checks.reasoning import reasoning_sentences

CORPUS = Path(__file__).resolve().parent / "corpus"


def false_flags(path: Path) -> dict:
    sections, flagged = 0, []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for item in map(json.loads, fh):
            sections += 1
            if found := reasoning_sentences(item["text"]):
                flagged.append({"id": item["id"], "sentence": found[0]})
    return {"sections": sections, "flagged": len(flagged), "examples": flagged[:20]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sets = sorted(CORPUS.glob("coherent_*.jsonl.gz")) + [CORPUS / "llm_blog.jsonl.gz"]
    per_set = {path.name: false_flags(path) for path in sets}
    emit({"benchmark": "reasoning", "sections": sum(s["sections"] for s in per_set.values()),
          "flagged": sum(s["flagged"] for s in per_set.values()), "per_set": per_set}, args.out)


if __name__ == "__main__":
    main()
