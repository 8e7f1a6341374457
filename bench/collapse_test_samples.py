"""Write tests/real_text/collapse_samples.json: a small, fixed sample of the collapse corpus's
calibration split for tests/test_collapse_detector.py (fast: no tokenizer, no model).

- coherent: real sections, 6 per shape picked by a fixed seed, plus the sections that made the
  detector of 2026-11-23 fire (base64 in a README, a names list, language codes, a changelog of
  near-identical lines, doctest output, repeated boilerplate): none may fire (one more,
  deb:llvm/changelog.gz#2, a comma list of package names, still fires as a synonym chain), and
  Python-docs sections (calibration split of coherent_pydocs.jsonl.gz) that made the detector of
  2026-12-06 fire: reference pages repeating a boilerplate sentence for each function, grid tables
  with repeated cells, a doctest's repeated traceback just before prose; and npm READMEs (calibration
  split of coherent_npm.jsonl.gz) that made it fire: API references repeating a parameter list or a
  paragraph under each new heading or list item, three identical tables under three headings, a list
  of Markdown links to camelCase anchors;
- degenerate: real loops and salads of the embedded model and random-weight models, whole and
  spliced after real text, with their labelled onsets.
Usage: python bench/collapse_test_samples.py"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"
OLD_FALSE_ALARMS = [
    "pypi:cfn-lint:METADATA#2", "pypi:python-dotenv:METADATA#3", "pypi:numpy/ma/README.rst#2",
    "deb:adduser/TODO#0", "deb:ca-certificates/examples/ca-certificates-local/README#0", "deb:gdb/NEWS.gz#1",
    "deb:gtk-update-icon-cache/changelog.Debian.gz#0", "deb:libavahi-client3/NEWS.gz#1",
    "deb:libxau-dev/changelog.gz#0", "stdlib-code:pydoc.docclass#0", "stdlib-code:traceback.format#0",
    "deb:yq/README.rst.gz#1", "pypi:mlx_lm/BENCHMARKS.md#0",
]
PYDOCS_FALSE_ALARMS = [
    "pydocs:library/calendar#0", "pydocs:library/time#2", "pydocs:library/os.path#1",
    "pydocs:library/tarfile#0", "pydocs:library/time#3", "pydocs:library/unittest#7",
]
NPM_FALSE_ALARMS = [
    "npm:@eslint-community/regexpp@4.12.4#1", "npm:@eslint-community/regexpp@4.12.4#2", "npm:es5-shim@4.6.7#3",
    "npm:http-assert@1.5.0#1", "npm:@semantic-release/exec@7.1.0#4", "npm:mini-css-extract-plugin@2.10.2#1",
]
DEGENERATE = [
    "smollm2-cont-greedy-003", "smollm2-cont-greedy-007", "smollm2-cont-greedy-011", "smollm2-greedy-01",
    "smollm2-greedy-07", "smollm2-cont-t20-002", "smollm2-cont-t16-001", "smollm2-cont-t13-000",
    "smollm2-chat-t20-00", "smollm2-hot-01", "random-llama-00", "random-llama-101",
    "splice-calibration-070", "splice-calibration-100", "splice-calibration-107", "splice-calibration-144",
    "splice-calibration-023", "splice-calibration-098", "smollm2-cont-t16-111",
    "smollm2-cont-greedy-033", "smollm2-cont-greedy-113", "smollm2-cont-greedy-118",  # loops of list items
]


def main() -> None:
    with gzip.open(CORPUS / "coherent_real.jsonl.gz", "rt") as fh:
        real = [json.loads(line) for line in fh]
    calibration = [item for item in real if item["split"] == "calibration"]
    rng = random.Random(2026)
    picked = []
    for shape in ("prose", "list", "code", "table", "numbers"):
        picked += rng.sample([item for item in calibration if item["shape"] == shape], 6)
    by_id = {item["id"]: item for item in real}
    picked += [by_id[i] for i in OLD_FALSE_ALARMS if i in by_id and by_id[i] not in picked]
    with gzip.open(CORPUS / "coherent_pydocs.jsonl.gz", "rt") as fh:
        pydocs = {item["id"]: item for item in map(json.loads, fh)}
    picked += [pydocs[i] for i in PYDOCS_FALSE_ALARMS]
    with gzip.open(CORPUS / "coherent_npm.jsonl.gz", "rt") as fh:
        npm = {item["id"]: item for item in map(json.loads, fh)}
    picked += [npm[i] for i in NPM_FALSE_ALARMS]
    degenerate = {d["id"]: d for d in map(json.loads, (CORPUS / "degenerate.jsonl").read_text().splitlines())}
    chosen = [degenerate[i] for i in DEGENERATE]
    keep = ("id", "shape", "kind", "source", "licence", "onset", "text")
    out = {"about": "bench/collapse_test_samples.py: calibration split of bench/corpus; licences per item",
           "coherent": [{k: item[k] for k in keep if k in item} for item in picked],
           "degenerate": [{k: item[k] for k in keep if k in item} for item in chosen]}
    path = ROOT / "tests" / "real_text" / "collapse_samples.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(len(out["coherent"]), len(out["degenerate"]), path.stat().st_size)


if __name__ == "__main__":
    main()
