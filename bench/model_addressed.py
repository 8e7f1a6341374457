"""False alarms of the feed check for text that addresses a model (pipeline/kinds/news.py, ADDRESSES_A_MODEL)
on real text that was never used to write the pattern: every section of bench/corpus/coherent_real.jsonl.gz
(package READMEs, changelogs, docs), paragraph by paragraph as feed summaries would be. Prints one JSON object.
Usage: python bench/model_addressed.py [--out FILE.json]"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from pathlib import Path

from common import emit

from pipeline.kinds.news import ADDRESSES_A_MODEL

CORPUS = Path(__file__).resolve().parent / "corpus" / "coherent_real.jsonl.gz"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sections = paragraphs = 0
    hits = []
    with gzip.open(CORPUS, "rt") as fh:
        for line in fh:
            item = json.loads(line)
            sections += 1
            for paragraph in re.split(r"\n\s*\n", item["text"]):
                paragraphs += 1
                found = ADDRESSES_A_MODEL.search(paragraph)
                if found:
                    hits.append({"id": item["id"], "matched": found.group(0)})
    emit({"benchmark": "model_addressed", "corpus": str(CORPUS.name), "sections": sections, "paragraphs": paragraphs,
          "flagged_paragraphs": len(hits), "false_alarm_rate_per_paragraph": round(len(hits) / paragraphs, 5),
          "flagged": hits, "command": "python bench/model_addressed.py"}, args.out)


if __name__ == "__main__":
    main()
