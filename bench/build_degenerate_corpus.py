"""Build bench/corpus/degenerate.jsonl (and coherent_model.jsonl) from raw model outputs in
bench/corpus/raw/, with the collapse onset of each degenerate sample labelled.

Onsets of loops are found by `loop_onset`, a definition independent of the detector: the first
word from which the text keeps repeating 8-word spans it already contained (numbers ignored, so
"11. Faith ..." / "12. Faith ..." count as a loop). Synonym chains and word salad are labelled by
hand below, with the text where the collapse starts. Samples judged coherent go to
coherent_model.jsonl, which the benchmark adds to the coherent set.
Usage: python bench/build_degenerate_corpus.py"""

from __future__ import annotations

import json
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
}


def normalise(word: str) -> str:
    return re.sub(r"\d+", "#", word.lower())


def loop_onset(text: str) -> int | None:
    """Char offset of the first word whose 8-word span occurred earlier, when from there on at
    least 80% of spans are repeats (a loop that persists, not a quoted phrase)."""
    matches = list(re.finditer(r"\S+", text))
    words = [normalise(m.group()) for m in matches]
    seen, repeated = set(), []
    for i in range(len(words) - SPAN + 1):
        span = tuple(words[i:i + SPAN])
        repeated.append(span in seen)
        seen.add(span)
    for i, is_repeat in enumerate(repeated):
        rest = repeated[i:]
        if is_repeat and sum(rest) >= 0.8 * len(rest) and len(rest) >= SPAN:
            return matches[i].start()
    return None


def default_label(record: dict) -> tuple[str | None, str | None]:
    """Random weights: greedy decoding loops, sampling is salad from the first token."""
    if record["source"] == "tiny-random-llama":
        return ("loop", None) if record["temp"] == 0.0 else ("word_salad", "")
    return (None, None)


def label(record: dict) -> dict | None:
    kind, onset_text = LABELS.get(record["id"]) or default_label(record)
    if kind is None:
        return None
    text = record["text"]
    if kind == "coherent":
        return {"id": record["id"], "label": "coherent", "kind": "model-prose", "source": record["source"],
                "onset": None, "text": text}
    onset = loop_onset(text) if onset_text is None else text.index(onset_text)
    if onset is None and record["source"] == "tiny-random-llama":
        onset = 0  # a loop inside one glued token ("zymezymezyme..."): degenerate from the start
    if onset is None:
        raise SystemExit(f"{record['id']}: no loop onset found; label it by hand")
    return {"id": record["id"], "label": "degenerate", "kind": kind, "source": record["source"],
            "onset": onset, "text": text}


def main() -> None:
    out = {"degenerate": [], "coherent": []}
    for raw_file in sorted((HERE / "raw").glob("*.jsonl")):
        for line in raw_file.read_text().splitlines():
            item = label(json.loads(line))
            if item:
                out[item["label"]].append(item)
    for name, items in (("degenerate.jsonl", out["degenerate"]), ("coherent_model.jsonl", out["coherent"])):
        (HERE / name).write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
    kinds = {}
    for item in out["degenerate"]:
        kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
    print(json.dumps({"degenerate": kinds, "coherent_model": len(out["coherent"])}))


if __name__ == "__main__":
    main()
