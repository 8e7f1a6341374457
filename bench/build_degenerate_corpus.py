"""Build bench/corpus/degenerate.jsonl (and coherent_model.jsonl) from raw model outputs in
bench/corpus/raw/, with the collapse onset of each degenerate sample labelled.

Onsets of loops are found by `loop_onset`, a definition independent of the detector: the first
word from which the text keeps repeating 8-word spans it already contained (numbers ignored, so
"11. Faith ..." / "12. Faith ..." count as a loop). Synonym chains and word salad are labelled by
hand below, with the text where the collapse starts. Samples judged coherent go to
coherent_model.jsonl, which the benchmark adds to the coherent set.
Usage: python bench/build_degenerate_corpus.py"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent / "corpus"
SPAN = 8

# id -> (kind, text at the onset). kind "coherent" means the sample did not collapse.
# None as the onset text means: the loop labeler finds it; "" means the collapse starts at once.
LABELS: dict[str, tuple[str, str | None]] = {
    "smollm2-greedy-00": ("coherent", None),
    "smollm2-greedy-01": ("loop", None),
    "smollm2-greedy-02": ("loop", None),
    "smollm2-greedy-03": ("loop", None),
    "smollm2-greedy-04": ("loop", "6. **Model Evaluation**"),  # a repeated paragraph, not a persistent loop
    "smollm2-greedy-05": ("loop", None),
    "smollm2-greedy-06": ("loop", "7. Improved Reliability"),  # items start repeating earlier ones
    "smollm2-greedy-07": ("loop", None),
    # Sampling at temperature 1.6: salad from the first tokens, or soon after.
    **{f"smollm2-hot-{i:02d}": ("word_salad", "") for i in range(10)},
    "smollm2-hot-06": ("word_salad", "integrate package services"),
    "smollm2-hot-08": ("word_salad", "Processing alloc"),
    # repetition_penalty 1.6 forbids repeats: the text drifts into run-on salad (held out from calibration).
    "smollm2-chain-00": ("word_salad", "1a-Management_Pillow"),
    "smollm2-chain-01": ("word_salad", "and care can lead directly"),
    "smollm2-chain-02": ("word_salad", "that automated heavily planned"),
    "smollm2-chain-03": ("word_salad", "JusticeLaws/Procedureenforced"),
    "smollm2-chain-04": ("word_salad", "And here's why I am calling Babel"),
    "smollm2-chain-05": ("word_salad", "Bionanofabric"),
    "smollm2-chain-06": ("word_salad", "- this was actually first done"),
    "smollm2-chain-07": ("word_salad", "3 people say this one thing"),
    "smollm2-chain-08": ("word_salad", "that can be implemented even under single-tenant"),
    "smollm2-chain-09": ("word_salad", "haha HAHA LA!!!"),
    # repetition 1.2 + presence 1.5 on list prompts, meant to provoke synonym chains: SmolLM2 drifts into
    # comma-less run-on lists instead (held out from calibration).
    "smollm2-syn-00": ("word_salad", "except those provided within these countries"),
    "smollm2-syn-01": ("word_salad", "so much there’s nothing like ensuring"),
    "smollm2-syn-02": ("word_salad", "hence ensuring eco friendly practices"),
    "smollm2-syn-03": ("word_salad", "instead of running them entirely off standby mode"),
    "smollm2-syn-04": ("word_salad", "making money through financial means"),
    "smollm2-syn-05": ("word_salad", "sometimes our eyes will only see one perspective"),
    "smollm2-syn-06": ("word_salad", "but it also has its limitations when dealing"),
    "smollm2-syn-07": ("word_salad", "(In today’s world) this does not mean"),
    "smollm2-syn-08": ("word_salad", "policies which includes laws like tax regulations"),
    "smollm2-syn-09": ("word_salad", "So does this phrase 'I am more than I seem'"),
    # Second batch: two outputs the loop labeller called coherent, read after the detector flagged them (a loop
    # inside one token; a changelog entry three times over, cut by the cap). "|" marks the onset in the text.
    "smollm2-cont-greedy-043": ("loop", '"|xorg_xorg_xorg'),
    "smollm2-cont-t07-059": ("loop", "e99b18cf710).\n\n|gcc-10 (10-20200222-1)"),
}


def normalise(word: str) -> str:
    return re.sub(r"\d+", "#", word.lower())


def loop_onset(text: str, after: int = 0) -> int | None:
    """Char offset of the first word whose 8-word span occurred earlier, when from there on at
    least 80% of spans are repeats (a loop that persists, not a quoted phrase); spans starting
    before `after` (a real text's prefix) are never onsets."""
    matches = list(re.finditer(r"\S+", text))
    words = [normalise(m.group()) for m in matches]
    seen, repeated = set(), []
    for i in range(len(words) - SPAN + 1):
        span = tuple(words[i:i + SPAN])
        repeated.append(span in seen)
        seen.add(span)
    for i, is_repeat in enumerate(repeated):
        rest = repeated[i:]
        if is_repeat and sum(rest) >= 0.8 * len(rest) and len(rest) >= SPAN and matches[i].start() >= after:
            return matches[i].start()
    return None


def default_label(record: dict) -> tuple[str | None, str | None]:
    """Random weights: greedy decoding loops, sampling is salad from the first token. The chat
    samples at temperature >= 1.3 (or penalty 1.8) were read: all are salad from the first token.
    Continuations of real text: hot ones are salad from the splice, greedy ones loop (or stay
    coherent, when no loop persists to the cap)."""
    if record["source"] == "tiny-random-llama":
        return ("loop", None) if record["temp"] == 0.0 else ("word_salad", "")
    if record["source"].startswith("smollm2-chat-"):
        return ("word_salad", "")
    if record["source"].startswith("smollm2-continue-"):  # below temperature 1: a draft's settings, no salad
        return ("loop", None) if record["temp"] < 1.0 else ("word_salad", None)
    return (None, None)


def json_line(item: dict) -> str:
    """One JSON line, readable by any line splitter: U+2028 and U+2029 (str.splitlines breaks at them) escaped."""
    return json.dumps(item, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def split_of(key: str) -> str:
    """The same rule as bench/build_coherent_corpus.py: calibration 50%, held-out 25%, reserve 25%."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 4
    return "calibration" if bucket < 2 else "held-out" if bucket == 2 else "reserve"


OLD_SOURCES = {"smollm2-greedy", "smollm2-hot", "smollm2-chain", "smollm2-syn"}  # used to tune before 2026-11-25


def split_for(record: dict) -> str:
    if record["source"] in OLD_SOURCES or (record["source"] == "tiny-random-llama" and len(record["id"]) == 15):
        return "calibration"  # these shaped the thresholds before: never held out
    if "split" in record:  # a continuation: the split of the real text it continues
        return record["split"]
    if "prompt" in record:
        return split_of("chat:" + record["prompt"])  # one prompt is one document, whatever the settings
    return split_of(record["id"])


def label(record: dict) -> dict | None:
    kind, onset_text = LABELS.get(record["id"]) or default_label(record)
    if kind is None:
        return None
    text, split = record["text"], split_for(record)
    splice = record.get("splice", 0)
    if kind == "loop" and splice and onset_text is None:
        onset = loop_onset(text, after=splice)
        if onset is None:  # greedy continuation that never settled into a loop
            kind = "coherent"
    batch = {"batch": record["batch"]} if "batch" in record else {}
    if kind == "coherent":
        return {"id": record["id"], "label": "coherent", "kind": "model-prose", "shape": "prose",
                "source": record["source"], "split": split, "onset": None, "splice": splice or None, "text": text,
                **batch}
    if kind == "word_salad" and onset_text is None:
        onset = splice + len(text[splice:]) - len(text[splice:].lstrip())
    elif not (kind == "loop" and splice) or onset_text is not None:
        onset = loop_onset(text) if onset_text is None else text.index(onset_text.replace("|", "")) + max(onset_text.find("|"), 0)
    if onset is None and record["source"] == "tiny-random-llama":
        onset = 0  # a loop inside one glued token ("zymezymezyme..."): degenerate from the start
    if onset is None:
        raise SystemExit(f"{record['id']}: no loop onset found; label it by hand")
    return {"id": record["id"], "label": "degenerate", "kind": kind, "source": record["source"], "split": split,
            "onset": onset, "splice": splice or None, "text": text, **batch}


def prefix_of(text: str, rng: random.Random) -> str | None:
    """A real section's opening, 30-200 words, cut at a sentence or line end (never inside a code fence)."""
    cut = " ".join(text.split(" ")[: rng.randint(30, 200)])
    end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("\n"))
    cut = cut[: end + 1].rstrip()
    if len(cut) < 120 or cut.count("```") % 2:
        return None
    return cut


def splices(degenerate: list[dict], per_split: dict[str, int], seed: int = 5) -> list[dict]:
    """Real coherent prefix + real degenerate suffix, both of one split. Salad: the onset is the
    splice point. Loop: the suffix starts up to ~60 words before the donor's loop onset, and the
    onset is found by `loop_onset` after the splice."""
    with gzip.open(HERE / "coherent_real.jsonl.gz", "rt") as fh:
        coherent = [json.loads(line) for line in fh]
    rng, out = random.Random(seed), []
    for split, count in per_split.items():
        sections = [c for c in coherent if c["split"] == split]
        donors = [d for d in degenerate if d["split"] == split and not d.get("splice") and "batch" not in d]  # as before
        rng.shuffle(sections)
        for number in range(count):
            donor = donors[number % len(donors)]
            prefix = None
            while prefix is None:
                section = sections.pop()
                prefix = prefix_of(section["text"], rng)
            joint = rng.choice(["\n\n", "\n", " "])
            if donor["kind"] == "loop":
                start = donor["text"].rfind(" ", 0, max(donor["onset"] - rng.randint(0, 400), 0)) + 1
                suffix = donor["text"][start:start + 1600]
            else:
                suffix = donor["text"][donor["onset"]:donor["onset"] + 1200]
            suffix = suffix.strip()
            text = prefix + joint + suffix
            splice = len(prefix + joint)
            onset = splice if donor["kind"] != "loop" else loop_onset(text, after=splice)
            if onset is None:
                continue
            out.append({"id": f"splice-{split}-{number:03d}", "label": "degenerate", "kind": donor["kind"],
                        "source": "splice", "split": split, "onset": onset, "splice": splice,
                        "prefix_from": section["id"], "suffix_from": donor["id"], "prefix_shape": section["shape"],
                        "text": text})
    return out


def main() -> None:
    out = {"degenerate": [], "coherent": []}
    for raw_file in sorted((HERE / "raw").glob("*.jsonl")):
        for line in filter(None, raw_file.read_text().split("\n")):  # not splitlines(): a text may hold U+2028
            item = label(json.loads(line))
            if item:
                out[item["label"]].append(item)
    out["degenerate"] += splices(out["degenerate"], {"calibration": 160, "held-out": 100, "reserve": 100})
    for name, items in (("degenerate.jsonl", out["degenerate"]), ("coherent_model.jsonl", out["coherent"])):
        (HERE / name).write_text("".join(json_line(i) for i in items))
    kinds: dict = {}
    for item in out["degenerate"]:
        batch = [item["batch"]] if "batch" in item else []
        key = "/".join([item["split"], item["kind"], "splice" if item.get("splice") else "whole", *batch])
        kinds[key] = kinds.get(key, 0) + 1
    print(json.dumps({"degenerate": kinds, "coherent_model": len(out["coherent"])}))


if __name__ == "__main__":
    main()
