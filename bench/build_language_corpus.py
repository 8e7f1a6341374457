"""Build bench/corpus/coherent_languages.jsonl.gz: coherent text in 35 languages other than English.

The collapse detector's word-salad signals were built on English: a run of words with no English
function word is "token soup", and words costing the embedded (English) tokenizer ~3 tokens each are
"invented". Text in Czech, Russian or Korean is both, so before 2026-12-06 most of it was flagged.
This set measures that, from text found offline on a Debian machine:

- calibration (what the fix was tuned on): Vim's tutor in every translation it ships
  (`/usr/share/vim/vim90/tutor/tutor.*.utf-8`; Vim licence) and systemd's message catalogs
  (`/usr/lib/systemd/catalog/systemd.*.catalog`; LGPL-2.1+), both without the English originals;
- held-out and reserve (never tuned on; split by a hash of the page): translated manual pages under
  `/usr/share/man/<language>/` (the manpages-l10n, man-db, dpkg, apt, shadow, ... translations; licence
  as each owning package's Debian `copyright` states), rendered by `man -l` at a width where each
  paragraph is one line, section titles turned into `##` headings, indentation and justification
  spaces dropped, as a draft would be written.

Text is cut at blank lines into sections of 150-600 words (for Chinese and Japanese, which have no
spaces, a word is counted as 2 characters), at most 3 per document and 30 documents per language.
Items have the usual fields plus `language`; `batch: "languages"`; shapes by the usual rules.
Usage: python bench/build_language_corpus.py [--out FILE]"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
from pathlib import Path

from build_coherent_corpus import ROOT, debian_licence, shape_of, split_of, write_corpus

MIN_WORDS, MAX_WORDS = 150, 600
PER_DOC, DOCS_PER_LANGUAGE = 3, 30
UNSPACED = {"ja", "zh", "zh_cn", "zh_tw", "zh_CN", "zh_TW"}
TUTORS = Path("/usr/share/vim/vim90/tutor")
CATALOGS = Path("/usr/lib/systemd/catalog")
MAN = Path("/usr/share/man")


def words(text: str, language: str) -> int:
    return len(text.replace(" ", "")) // 2 if language in UNSPACED else len(text.split())


def sections(paragraphs: list[str], language: str) -> list[str]:
    """Paragraphs gathered into 150-600-word sections; a paragraph longer than that is left out."""
    found, current = [], []
    for paragraph in paragraphs:
        if words(paragraph, language) > MAX_WORDS:
            continue
        if words("\n\n".join([*current, paragraph]), language) > MAX_WORDS:
            current = []
        current.append(paragraph)
        if words("\n\n".join(current), language) >= MIN_WORDS:
            found.append("\n\n".join(current))
            current = []
    return found


def tutor_docs():
    for path in sorted(TUTORS.glob("tutor.*.utf-8")):
        language = path.name.split(".")[1]
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs = [p.strip("\n") for p in re.split(r"\n\s*~{20,}\s*\n|\n\s*\n", text) if p.strip()]
        yield "vim-tutor", f"vim:{path.name}", language, "Vim licence", paragraphs


def catalog_docs():
    for path in sorted(CATALOGS.glob("systemd.*.catalog")):
        language = path.name.split(".")[1].split("@")[0]
        text = re.sub(r"^(--|Subject|Defined-By|Support|Documentation):?.*$", "", path.read_text(encoding="utf-8"),
                      flags=re.M)
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        yield "systemd-catalog", f"systemd:{path.name}", language, "LGPL-2.1+", paragraphs


def rendered(page: Path) -> str:
    env = {**os.environ, "LANG": "C.UTF-8", "MANWIDTH": "3000", "MAN_KEEP_FORMATTING": ""}
    out = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True, env=env, timeout=30).stdout
    return re.sub(r".\x08", "", out)  # overstrike bold and underline


def as_draft(text: str) -> list[str]:
    """Section titles (unindented lines) become headings; indentation and justification go."""
    paragraphs, current = [], []
    for line in text.split("\n")[1:-2]:  # the running header and footer
        if line and not line[0].isspace():
            current and paragraphs.append("\n".join(current))
            current = [f"## {line.strip().capitalize()}"]
        elif line.strip():
            current.append(re.sub(r" {2,}", " ", line.strip()))
        elif current:
            paragraphs.append("\n".join(current))
            current = []
    current and paragraphs.append("\n".join(current))
    return paragraphs


def owner_licence(page: Path) -> str:
    found = subprocess.run(["dpkg", "-S", str(page)], capture_output=True, text=True).stdout
    package = found.split(":")[0].strip() if found else ""
    return debian_licence(Path("/usr/share/doc") / package) if package else "unknown"


def man_docs():
    for folder in sorted(p for p in MAN.iterdir() if p.is_dir() and not p.name.startswith("man")):
        pages = sorted(folder.glob("man*/*.gz"), key=lambda p: hashlib.sha256(p.name.encode()).digest())  # any 30, not a-c
        for page in pages[:DOCS_PER_LANGUAGE]:
            yield "man-page", f"man:{folder.name}/{page.name}", folder.name, owner_licence(page), as_draft(rendered(page))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / "coherent_languages.jsonl.gz")
    args = parser.parse_args()
    items = []
    for source, doc, language, licence, paragraphs in [*tutor_docs(), *catalog_docs(), *man_docs()]:
        split = "calibration" if source != "man-page" else "reserve" if split_of(doc) in ("held-out", "reserve") else "held-out"
        for number, text in enumerate(sections(paragraphs, language)[:PER_DOC]):
            items.append({"id": f"{doc}#{number}", "label": "coherent", "shape": shape_of(text), "source": source,
                          "package": doc, "doc": doc, "licence": licence, "language": language, "split": split,
                          "batch": "languages", "onset": None, "text": text})
    print(write_corpus(items, args.out))


if __name__ == "__main__":
    main()
