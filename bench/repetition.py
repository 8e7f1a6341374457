"""Calibrate and measure the repetition check (pipeline/checks/repetition.py). Prints one JSON object.

Negatives: real multi-section documents nobody here wrote, split at their headings: the READMEs of
installed packages (their METADATA), the docs under /usr/share/doc, and CPython's reference topics
(pydoc_data). Every document goes to the calibration or the held-out split by a hash of its name;
thresholds are chosen on the calibration split only, and the false-positive rates reported per
document and per section pair on the held-out split. A flag on a human-edited document counts as
a false positive even where the document does repeat itself, so the rate is an upper bound; the
flagged sentences are listed so a reader can judge.

Positives (recall): real text with a real repetition put in: a sentence of one section copied
into a later one (verbatim, and with one word changed), a later section that opens like an earlier
one, and a newsletter's prose one week later with light edits (numbers changed, a word swapped).

Model drafts: `--drafts LABEL=DIR ...` reads drafts written by `pipeline run` (index.md) and counts
the findings per draft and the overlap between sections; `--generate LABEL=WORKTREE` first runs the
example post with seeds 7, 11 and 23 in that checkout (slow: about 5 min a run on CPU).

    python bench/repetition.py > /tmp/r.json
    python bench/repetition.py --drafts before=/tmp/rep/before after=/tmp/rep/after
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import random
import re
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.checks import repetition as rep

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / ".venv/lib/python3.11/site-packages"
SEEDS = (7, 11, 23)
DRAFT_SIZED = 12  # sections: a post or newsletter has 3 to 12; API references with 100 are reported apart
SWEEP_FLOOR = 0.7  # the lowest sentence threshold swept
GRIDS = {"sentence": (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0), "opening": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
         "fact": (0.3, 0.4, 0.5, 0.6, 0.7)}

_ATX = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^([=\-~*^+#\"'`])\1{2,}\s*$")
_RST_NOISE = re.compile(r"^\s*(?:\.\. |:[\w-]+:|\[!\[|!\[|<)")


def split_sections(text: str) -> list[tuple[str, str]]:
    """A document split at markdown (#) and reStructuredText (underlined) headings; code blocks
    (indented four spaces or more), directives and images dropped, as they are not prose."""
    lines = text.splitlines()
    sections: list[tuple[str, list[str]]] = [("(top)", [])]
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else ""
        atx = _ATX.match(line)
        if atx:
            sections.append((atx.group(2), []))
        elif line.strip() and _UNDERLINE.match(following) and abs(len(following.strip()) - len(line.strip())) <= 3 \
                and not _UNDERLINE.match(line):
            sections.append((line.strip(), []))
            i += 1
        elif _UNDERLINE.match(line) or _RST_NOISE.match(line) or line.startswith(("    ", "\t")):
            sections[-1][1].append("")
        else:
            sections[-1][1].append(line)
        i += 1
    return [(heading, "\n".join(body)) for heading, body in sections]


def prose_sections(text: str) -> list[tuple[str, str]]:
    """Sections with at least two sentences of six words or more: the prose a draft section is."""
    kept = []
    for heading, body in split_sections(text):
        if sum(len(s.words) >= rep.MIN_WORDS for s in rep.sentences(body)) >= 2:
            kept.append((heading, body))
    return kept


def metadata_body(path: Path) -> str:
    text = path.read_text(errors="replace")
    return text.split("\n\n", 1)[1] if "\n\n" in text else ""


def documents() -> list[tuple[str, list[tuple[str, str]]]]:
    """(name, prose sections) of every real document with three prose sections or more."""
    found: list[tuple[str, str]] = []
    for path in sorted(SITE.glob("*.dist-info/METADATA")):
        if not path.parent.name.startswith("pipeline-"):  # our own README is not "nobody here wrote"
            found.append((f"pypi:{path.parent.name.split('-')[0]}", metadata_body(path)))
    patterns = ["*.md", "*.md.gz", "README*", "*.rst", "*.rst.gz", "*.txt", "*.txt.gz"]
    for pattern in patterns:
        for name in sorted(glob.glob(f"/usr/share/doc/**/{pattern}", recursive=True)):
            if re.search(r"changelog|copyright|news|license|authors", name, re.I) or "/html/_sources/" in name:
                continue  # lists of changes repeat "Fixed ..." by nature; the Python docs are measured apart
            raw = Path(name).read_bytes()
            text = gzip.decompress(raw).decode(errors="replace") if name.endswith(".gz") else raw.decode(errors="replace")
            found.append((f"doc:{name.removeprefix('/usr/share/doc/')}", text))
    try:
        from pydoc_data.topics import topics
        found += [(f"cpython:{name}", text) for name, text in sorted(topics.items())]
    except ImportError:
        pass
    docs, seen = [], set()
    for name, text in found:
        digest = hashlib.sha1(text.encode()).hexdigest()
        sections = prose_sections(text)
        if digest not in seen and len(sections) >= 3:
            seen.add(digest)
            docs.append((name, sections))
    return docs


def python_docs_fpr() -> dict | None:
    """The check as shipped on the Python 3.11 docs (bench/build_docs_corpus.py's Markdown pages), added
    after the threshold was chosen: a reference repeats sentences by design, so this is an upper bound."""
    from build_docs_corpus import SOURCES, pages

    if not SOURCES.exists():
        return None
    docs = [(name, sections) for name, text in pages() if len(sections := prose_sections(text)) >= 3]
    return check_fpr([(n, s) for n, s in docs if len(s) <= DRAFT_SIZED])


def split_of(name: str) -> str:
    return "calibration" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 0 else "heldout"


# --- scores per section pair, so thresholds can be swept without re-running the check ---

def pair_scores(sections: list[tuple[str, str]]) -> list[dict]:
    """For every (earlier, later) section pair: the best sentence similarity, the opening overlap and
    the best fact overlap, with the sentences behind them."""
    split = [rep.sentences(text) for _, text in sections]
    pairs = []
    for j, here in enumerate(split):
        for i in range(j):
            there = split[i]
            best_sentence = (0.0, "", "")
            for a in here:
                for b in there:
                    if rep.could_repeat(a, b, SWEEP_FLOOR):
                        score = rep.similarity(a, b)
                        if score > best_sentence[0]:
                            best_sentence = (score, a.text, b.text)
            opening = 0.0
            if here and there and min(len(here[0].content), len(there[0].content)) >= rep.MIN_CONTENT:
                opening = rep.dice(here[0], there[0])
            fact = (0.0, "", "")
            for a in here:
                if not a.facts or len(a.content) < rep.MIN_CONTENT:
                    continue
                for b in there:
                    if a.facts & b.facts and len(b.content) >= rep.MIN_CONTENT:
                        score = rep.dice(a, b)
                        if score > fact[0]:
                            fact = (score, a.text, b.text)
            pairs.append({"pair": [i, j], "sentence": best_sentence, "opening": opening, "fact": fact})
    return pairs


def rates(docs: list[tuple[str, list[dict]]], kind: str, threshold: float) -> dict:
    def score(p: dict) -> float:
        return p[kind] if kind == "opening" else p[kind][0]
    flagged_docs = sum(any(score(p) >= threshold for p in pairs) for _, pairs in docs)
    all_pairs = [p for _, pairs in docs for p in pairs]
    flagged_pairs = sum(score(p) >= threshold for p in all_pairs)
    return {"threshold": threshold, "documents": len(docs), "documents_flagged": flagged_docs,
            "fpr_per_document": round(flagged_docs / len(docs), 4) if docs else None,
            "section_pairs": len(all_pairs), "pairs_flagged": flagged_pairs,
            "fpr_per_pair": round(flagged_pairs / len(all_pairs), 5) if all_pairs else None}


def examples(docs: list[tuple[str, list[dict]]], kind: str, threshold: float, limit: int = 40) -> list[dict]:
    shown = []
    for name, pairs in docs:
        for p in pairs:
            value = p[kind] if kind == "opening" else p[kind][0]
            if value >= threshold:
                entry = {"document": name, "pair": p["pair"], "score": round(value, 3), "exact": value == 1.0}
                if kind != "opening":
                    entry |= {"later": p[kind][1][:140], "earlier": p[kind][2][:140]}
                shown.append(entry)
    return shown[:limit]


def check_fpr(docs: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    """The check as shipped, on whole documents: findings per document and section, by severity."""
    flagged = {"attention": 0, "info": 0, "any": 0}
    sections_flagged = {"attention": 0, "info": 0}
    total_sections = exact_only = 0
    for _, sections in docs:
        findings = rep.repetition_findings(sections)
        total_sections += len(sections)
        severities = {f.severity for fs in findings.values() for f in fs}
        for severity in ("attention", "info"):
            flagged[severity] += severity in severities
            sections_flagged[severity] += sum(any(f.severity == severity for f in fs) for fs in findings.values())
        flagged["any"] += bool(severities)
        repeats = [m for ms in rep.repetition_matches(sections).values() for m in ms if m.kind == "sentence"]
        exact_only += bool(repeats) and all(m.score == 1.0 for m in repeats)
    n = len(docs)
    return {"documents": n, "sections": total_sections,
            "documents_with_attention": flagged["attention"], "attention_fpr_per_document": round(flagged["attention"] / n, 4),
            "of_which_only_exact_repeats": exact_only,
            "documents_with_info": flagged["info"], "info_fpr_per_document": round(flagged["info"] / n, 4),
            "sections_with_attention": sections_flagged["attention"],
            "attention_fpr_per_section": round(sections_flagged["attention"] / total_sections, 5),
            "sections_with_info": sections_flagged["info"],
            "info_fpr_per_section": round(sections_flagged["info"] / total_sections, 5)}


# --- recall: real text with a real repetition put in ---

def long_sentences(text: str) -> list[str]:
    """The sentences the check compares (8 words or more as written, not a lead-in): the ones to copy."""
    return [s.text for s in rep.sentences(text) if rep.comparable(s)]


def one_word_changed(sentence: str, rng: random.Random) -> str:
    words = sentence.split()
    if len(words) < 3:
        return sentence + " really"
    spot = rng.randrange(1, len(words) - 1)
    words[spot] = "really" if words[spot] != "really" else "truly"
    return " ".join(words)


def edited_numbers(text: str, rng: random.Random) -> str:
    """Next week's numbers: every number changed, the words kept."""
    return re.sub(r"\d+(?:\.\d+)?", lambda m: str(round(float(m.group()) * rng.uniform(0.8, 1.2), 1)), text)


def light_edit(text: str, rng: random.Random) -> str:
    """A newsletter one week later, lightly edited: numbers changed, one word changed per paragraph."""
    paragraphs = edited_numbers(text, rng).split("\n\n")
    edited = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        if len(words) > 4:
            spot = rng.randrange(1, len(words) - 1)
            words[spot] = "really"
        edited.append(" ".join(words))
    return "\n\n".join(edited)


def recall(docs: list[tuple[str, list[tuple[str, str]]]], seed: int = 1) -> dict:
    rng = random.Random(seed)
    cases = {"copied_sentence": [0, 0], "copied_sentence_one_word_changed": [0, 0], "copied_opening": [0, 0],
             "newsletter_next_week_light_edit": [0, 0], "newsletter_next_week_sentence_reused": [0, 0]}
    missed: list[dict] = []

    def count(case: str, hit: bool, detail: str) -> None:
        cases[case][0] += hit
        cases[case][1] += 1
        if not hit and len(missed) < 10:
            missed.append({"case": case, "text": detail[:160]})

    for _name, sections in docs:
        donors = [(i, long_sentences(t)) for i, (_, t) in enumerate(sections)]
        donors = [(i, s) for i, s in donors if s]
        if len(donors) < 2:
            continue
        (i, source), (j, _) = donors[0], donors[-1]
        sentence = rng.choice(source)
        for case, copied in (("copied_sentence", sentence), ("copied_sentence_one_word_changed",
                                                             one_word_changed(sentence, rng))):
            changed = list(sections)
            changed[j] = (sections[j][0], sections[j][1] + "\n\n" + copied)
            found = rep.repetition_findings(changed).get(j, [])
            count(case, any(f.severity == "attention" and "repeats" in f.message for f in found), copied)
        opening = long_sentences(sections[i][1])[0]
        changed = list(sections)
        changed[j] = (sections[j][0], opening + "\n\n" + sections[j][1])
        found = rep.repetition_findings(changed).get(j, [])
        count("copied_opening", bool(found), opening)
        text = sections[i][1]
        count("newsletter_next_week_light_edit",
              bool(rep.previous_issue_findings(light_edit(text, rng), [("last week", text)])), text)
        reused = sections[j][1] + "\n\n" + edited_numbers(sentence, rng)
        count("newsletter_next_week_sentence_reused", bool(rep.previous_issue_findings(reused, [("last week", text)])),
              sentence)
    return {"cases": {case: {"caught": hit, "of": n, "recall": round(hit / n, 4) if n else None}
                      for case, (hit, n) in cases.items()}, "missed_examples": missed}


def family(name: str) -> str:
    """Documents of one package (or source) stand in for issues of one newsletter: same subject, new text."""
    source, _, path = name.partition(":")
    return f"{source}:{path.split('/')[0]}" if source == "doc" else source


def previous_issue_fpr(docs: list[tuple[str, list[tuple[str, str]]]]) -> dict:
    """Each draft-sized document's prose against up to 12 documents of the same family before it (as if
    they were earlier issues of one newsletter: same subject, different text), and each section against
    the sections before it in its own document (the hardest case: same author, same subject). Any
    finding is counted as a false positive."""
    drafts = [(n, s) for n, s in docs if len(s) <= DRAFT_SIZED]
    by_family: dict[str, list[tuple[str, str]]] = {}
    across = across_flagged = 0
    shown = []
    for name, sections in drafts:
        earlier = by_family.setdefault(family(name), [])
        text = "\n\n".join(t for _, t in sections)
        if earlier:
            across += 1
            found = rep.previous_issue_findings(text, earlier[-12:][::-1])
            across_flagged += bool(found)
            if found and len(shown) < 8:
                shown.append({"document": name, "message": found[0].message[:240]})
        earlier.append((name, text))
    within = within_flagged = 0
    for _name, sections in drafts:
        for j in range(1, len(sections)):
            within += 1
            within_flagged += bool(rep.previous_issue_findings(sections[j][1], [(f"#{i}", sections[i][1])
                                                                               for i in range(j)]))
    return {"documents_vs_earlier_of_same_family": {"issues": across, "flagged": across_flagged,
                                                    "fpr": round(across_flagged / across, 4) if across else None},
            "sections_vs_earlier_sections": {"issues": within, "flagged": within_flagged,
                                             "fpr": round(within_flagged / within, 4) if within else None},
            "flagged_examples": shown}


# --- model drafts ---

def draft_sections(index_md: Path) -> list[tuple[str, str]]:
    return rep.markdown_sections(index_md.read_text())


def mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def overlap(sections: list[tuple[str, str]]) -> dict:
    """How much later sections overlap earlier ones: findings by kind, and two continuous measures
    (mean best sentence similarity and mean best content-word overlap of each later sentence)."""
    matches = rep.repetition_matches(sections)
    kinds = {k: sum(m.kind == k for ms in matches.values() for m in ms) for k in ("sentence", "opening", "fact")}
    split = [rep.sentences(t) for _, t in sections]
    best_sim, best_dice, openings = [], [], []
    for j in range(1, len(split)):
        earlier = [s for i in range(j) for s in split[i]]
        for s in split[j]:
            if rep.comparable(s) and earlier:
                best_sim.append(max(rep.similarity(s, e) for e in earlier))
                best_dice.append(max(rep.dice(s, e) for e in earlier))
        openings += [rep.dice(split[j][0], split[i][0]) for i in range(j) if split[j] and split[i]]
    return {"findings": kinds, "sections_flagged": len(matches),
            "mean_best_sentence_similarity": mean(best_sim), "mean_best_content_overlap": mean(best_dice),
            "mean_opening_overlap": mean(openings)}


def premise_overlap(index_md: Path, sections: list[tuple[str, str]]) -> float | None:
    """Re-introducing the topic: how much the first sentence of sections 2.. shares with the post's title
    and description (front matter), on average."""
    meta = yaml.safe_load(index_md.read_text().split("---\n")[1])
    premise = rep.sentence_of(f"{meta.get('title', '')} {meta.get('description', '')}")
    firsts = [rep.sentences(text) for _, text in sections[1:]]
    return mean([rep.dice(first[0], premise) for first in firsts if first])


def on_topic(index_md: Path, sections: list[tuple[str, str]]) -> float | None:
    """The share of each section's content words that appear in the post's title, description or
    headings, on average: a prompt that confuses the model shows as text about something else."""
    meta = yaml.safe_load(index_md.read_text().split("---\n")[1])
    topic = rep.sentence_of(" ".join([meta.get("title", ""), meta.get("description", ""), *(h for h, _ in sections)]))
    shares = []
    for _, text in sections:
        words = [w for s in rep.sentences(text) for w in s.content]
        if words:
            shares.append(sum(w in topic.content for w in words) / len(words))
    return mean(shares)


def run_findings(run_json: Path) -> dict[str, int]:
    """The pipeline's own findings on the draft (by code), as its run.json recorded them."""
    try:
        manifest = json.loads(run_json.read_text())
    except OSError:
        return {}
    counts: dict[str, int] = {}
    for section in manifest.get("sections", []):
        for finding in section.get("findings", []):
            counts[finding["code"]] = counts.get(finding["code"], 0) + 1
    return counts


def drafts_report(label_dirs: list[str]) -> dict:
    report = {}
    for spec in label_dirs:
        label, pattern = spec.split("=", 1)
        runs = {}
        for index_md in sorted(glob.glob(f"{pattern}*/posts/*/index.md")):
            sections = draft_sections(Path(index_md))
            runs[index_md] = overlap(sections) | {"mean_opening_overlap_with_premise": premise_overlap(Path(index_md), sections),
                                                  "on_topic": on_topic(Path(index_md), sections),
                                                  "run_findings": run_findings(Path(index_md).parent / "run.json")}
        totals = {k: sum(r["findings"][k] for r in runs.values()) for k in ("sentence", "opening", "fact")}
        values = list(runs.values())
        report[label] = {"drafts": len(runs), "findings": totals,
                         "sections_flagged": sum(r["sections_flagged"] for r in runs.values()),
                         "mean_best_sentence_similarity": mean([r["mean_best_sentence_similarity"] for r in values]),
                         "mean_best_content_overlap": mean([r["mean_best_content_overlap"] for r in values]),
                         "mean_opening_overlap": mean([r["mean_opening_overlap"] for r in values]),
                         "mean_opening_overlap_with_premise": mean([r["mean_opening_overlap_with_premise"] for r in values]),
                         "on_topic": mean([r["on_topic"] for r in values]),
                         "run_findings": {code: sum(r["run_findings"].get(code, 0) for r in values)
                                          for code in sorted({c for r in values for c in r["run_findings"]})},
                         "runs": runs}
    return report


def generate(label: str, worktree: Path, out: Path) -> None:
    """The example post with each seed in `worktree` (its own pipeline code and templates)."""
    brief = (worktree / "briefs/post.yaml").read_text()
    for seed in SEEDS:
        path = worktree / f"briefs/post-s{seed}.yaml"
        path.write_text(brief.replace("    seed: 7\n", f"    seed: {seed}\n"))
        subprocess.run([sys.executable, "-m", "pipeline", "run", path.name and str(path.relative_to(worktree)),
                        "--out", str(out / f"{label}-s{seed}")], cwd=worktree, check=False)


def real_model_texts() -> dict:
    """The committed real outputs of the embedded model: what the check says about them."""
    found = {}
    for path in sorted((REPO / "tests/real_text").glob("*.json")):
        data = json.loads(path.read_text())
        sections = data.get("sections")
        if isinstance(sections, dict):
            findings = rep.repetition_findings(list(sections.items()))
            found[path.name] = {str(i): [f.severity + ": " + f.message for f in fs] for i, fs in findings.items()}
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drafts", nargs="*", default=[], help="LABEL=PATH-PREFIX of `pipeline run --out` folders")
    parser.add_argument("--generate", nargs="*", default=[], help="LABEL=WORKTREE: run the example post there first")
    parser.add_argument("--out", default="/tmp/repetition-drafts")
    args = parser.parse_args()
    for spec in args.generate:
        label, worktree = spec.split("=", 1)
        generate(label, Path(worktree), Path(args.out))
        args.drafts.append(f"{label}={args.out}/{label}-s")

    docs = documents()
    scored = {name: pair_scores(sections) for name, sections in docs}
    chosen = {"sentence": rep.SAME_SENTENCE, "opening": rep.SAME_OPENING, "fact": rep.SAME_FACT}
    groups = {}
    for split in ("calibration", "heldout"):
        for size, limit in (("draft_sized", DRAFT_SIZED), ("all", 10**6)):
            chosen_docs = [(n, s) for n, s in docs if split_of(n) == split and len(s) <= limit]
            pairs = [(n, scored[n]) for n, _ in chosen_docs]
            groups[f"{split}/{size}"] = {
                "sweep": {kind: [rates(pairs, kind, t) for t in grid] for kind, grid in GRIDS.items()},
                "check_as_shipped": check_fpr(chosen_docs),
                "flagged_at_chosen": {kind: examples(pairs, kind, t) for kind, t in chosen.items()},
            }
    heldout_docs = [(n, s) for n, s in docs if split_of(n) == "heldout"]
    calibration_docs = [(n, s) for n, s in docs if split_of(n) == "calibration"]
    result = {
        "benchmark": "repetition",
        "thresholds": {**chosen, "min_words": rep.MIN_WORDS, "min_content_words": rep.MIN_CONTENT},
        "corpus": {"documents": len(docs), "calibration": len(calibration_docs), "heldout": len(heldout_docs),
                   "draft_sized": {split: sum(split_of(n) == split and len(s) <= DRAFT_SIZED for n, s in docs)
                                   for split in ("calibration", "heldout")},
                   "sources": {src: sum(n.startswith(src + ":") for n, _ in docs) for src in ("pypi", "doc", "cpython")},
                   "sections": sum(len(s) for _, s in docs)},
        "groups": groups,
        "python_docs_draft_sized": python_docs_fpr(),
        "previous_issue_fpr": {"calibration": previous_issue_fpr(calibration_docs),
                               "heldout": previous_issue_fpr(heldout_docs)},
        "recall": {"calibration": recall(calibration_docs), "heldout": recall(heldout_docs)},
        "real_model_text": real_model_texts(),
        "model_drafts": drafts_report(args.drafts),
        "command": "python bench/repetition.py " + " ".join(sys.argv[1:]),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
