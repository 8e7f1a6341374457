"""Chatter trimming and the number audit on sets of cases written to probe them. Prints one JSON object.

bench/corpus/chatter/*.json: {heading, lead, body, tail, kind}; the input is lead + body + tail, and the right output
is exactly body (chatter: lead and tail cut; content: nothing cut, the worst error being content lost). probe.json is
an adversarial probe the rules of 2026-12-07 were calibrated on; blind-1, -2 and -3 were each written by a helper that
saw neither the rules nor the other sets, then judged once (figures in the README) and only then used to change the
rules, so the figures printed now for all but the newest are not blind.
bench/corpus/numbers/blind-1.json: {sources, prose, expected_flagged}; the numbers of the prose the audit must flag.
Usage: python bench/probe_sets.py [--out FILE.json]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common import emit

from pipeline.checks.chatter import trim_chatter
from pipeline.checks.numbers import known_values, unverified

CORPUS = Path(__file__).resolve().parent / "corpus"


def chatter_set(path: Path) -> dict:
    counts = dict.fromkeys(("chatter_cut_exactly", "chatter_missed", "chatter_cut_partly", "content_kept", "content_cut"), 0)
    wrong = []
    for case in json.loads(path.read_text()):
        trimmed = trim_chatter(case["lead"] + case["body"] + case["tail"], case["heading"])
        if case["kind"] == "content":
            outcome = "content_cut" if trimmed.removed else "content_kept"
        elif trimmed.text.strip() == case["body"].strip():
            outcome = "chatter_cut_exactly"
        else:
            outcome = "chatter_cut_partly" if trimmed.removed else "chatter_missed"
        counts[outcome] += 1
        if outcome not in ("content_kept", "chatter_cut_exactly"):
            wrong.append({"id": case["id"], "outcome": outcome, "removed": trimmed.removed})
    return {**counts, "wrong": wrong}


def numbers_set(path: Path) -> dict:
    def bare(texts: list[str]) -> list[str]:
        return sorted(t.lstrip("$€£+-−").rstrip("%") for t in texts)
    agree, wrong = 0, []
    for case in json.loads(path.read_text()):
        flagged = bare([m.text for m in unverified(case["prose"], known_values(case["sources"]))])
        if flagged == bare(case["expected_flagged"]):
            agree += 1
        else:
            wrong.append({"id": case["id"], "flagged": flagged, "expected": bare(case["expected_flagged"])})
    return {"cases": agree + len(wrong), "agree": agree, "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    emit({"benchmark": "probe_sets",
          "chatter": {p.stem: chatter_set(p) for p in sorted((CORPUS / "chatter").glob("*.json"))},
          "numbers": {p.stem: numbers_set(p) for p in sorted((CORPUS / "numbers").glob("*.json"))}}, args.out)


if __name__ == "__main__":
    main()
