"""Build bench/corpus/coherent_real.jsonl.gz: coherent sections of real text nobody here wrote.

Sources, all found offline on this machine (none written for this project):
- the long descriptions (READMEs) in installed Python packages' METADATA, under the venv and the
  pyenv interpreters' site-packages (markdown and reStructuredText: prose, lists, code, tables);
- documentation shipped inside packages (*.md, *.rst, *.txt next to the code);
- /usr/share/doc/*/: READMEs, NEWS, release notes, changelogs and Debian changelogs (gzip'd too);
- CPython 3.11 standard-library module docstrings, and some of its functions as fenced code;
- real tabular data on disk (dpkg status, /etc/services, tzdata, errno, HTTP statuses, pip RECORD
  files) rendered as Markdown or aligned-column tables: dense numbers, as in posts' stats tables.

Each document is cut into draft-sized sections (150-600 words, split at headings, then at blank
lines), each section gets a shape by simple rules (code, table, list, numbers, prose), exact and
near duplicates are dropped, and the split is fixed per source *package* (all documents of one
package land in one split), by a hash of the package name: calibration 50%, held-out 25%,
reserve 25% (the reserve is never looked at unless the held-out split gets used for tuning).
Usage: python bench/build_coherent_corpus.py [--out bench/corpus/coherent_real.jsonl.gz]"""

from __future__ import annotations

import argparse
import ast
import email.parser
import gzip
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIN_WORDS, MAX_WORDS = 150, 600
MAX_SECTIONS_PER_DOC = 4  # one long changelog must not be half the corpus
MAX_SECTIONS_PER_PACKAGE = 7
EXCLUDE_PACKAGES = {"pipeline"}  # this project's own README

_MD_HEADING = re.compile(r"^#{1,6} \S")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.])\1{2,}\s*$")
_DEB_CHANGELOG_HEAD = re.compile(r"^[a-z0-9][a-z0-9.+-]* \([^)]+\) [^;]+; urgency=")
_VERSION_HEAD = re.compile(r"^(Version |v?\d+\.\d+(\.\d+)?\b|Changes (in|since|for) |Release |\*\s*Noteworthy)", re.I)
_LIST_LINE = re.compile(r"^\s*([-*+•]|\d+[.)]|\(\w\))\s+\S")
_TABLE_LINE = re.compile(r"^\s*(\|.*\||\+[-=+]{3,}\+?|={3,}( +={3,})+)\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_COLUMN_GAP = re.compile(r"\S {2,}(?=\S)")  # aligned columns


def split_of(package: str) -> str:
    bucket = int(hashlib.sha256(package.encode()).hexdigest()[:8], 16) % 4
    return "calibration" if bucket < 2 else "held-out" if bucket == 2 else "reserve"


# -- documents --------------------------------------------------------------------------------
def metadata_docs():
    seen = set()
    roots = [ROOT / ".venv/lib/python3.11/site-packages", *Path("/root/.pyenv/versions").glob("*/lib/python*/site-packages")]
    for root in roots:
        for meta in sorted(root.glob("*.dist-info/METADATA")):
            msg = email.parser.Parser().parsestr(meta.read_text(errors="replace"))
            name = (msg.get("Name") or meta.parent.name.split("-")[0]).lower().replace("_", "-")
            body = msg.get_payload() or msg.get("Description") or ""
            if name in EXCLUDE_PACKAGES or name in seen or len(body.split()) < MIN_WORDS:
                continue
            seen.add(name)
            licence = msg.get("License-Expression") or next(
                (c.split("::")[-1].strip() for c in msg.get_all("Classifier") or [] if c.startswith("License ::")), None
            ) or (msg.get("License") or "see package").splitlines()[0][:80]
            yield {"package": f"pypi:{name}", "doc": f"pypi:{name}:METADATA", "source": "package-metadata",
                   "licence": licence, "text": body}


def shipped_docs():
    root = ROOT / ".venv/lib/python3.11/site-packages"
    for path in sorted(root.rglob("*")):
        if path.suffix not in {".md", ".rst"} or "dist-info" in str(path) or "LICENSE" in path.name.upper():
            continue
        if "/tests/" in str(path) or "/templates/" in str(path) or path.stat().st_size > 400_000:
            continue
        package = path.relative_to(root).parts[0]
        yield {"package": f"pypi:{package.lower()}", "doc": f"pypi:{path.relative_to(root)}", "source": "package-docs",
               "licence": "licence of package " + package, "text": path.read_text(errors="replace")}


def debian_licence(folder: Path) -> str:
    copyright_file = folder / "copyright"
    if not copyright_file.exists():
        return "see /usr/share/doc/" + folder.name + "/copyright"
    text = copyright_file.read_text(errors="replace")
    found = re.findall(r"(?m)^License: *(\S.*)$", text)
    return Counter(found).most_common(1)[0][0][:80] if found else "see /usr/share/doc/" + folder.name + "/copyright"


_NOT_TEXT = (".html", ".png", ".gif", ".pdf", ".c", ".h", ".pl", ".py", ".sh", ".css", ".js", ".svg", ".jpg")


def usr_share_docs():
    wanted = re.compile(r"(readme|news|changes|changelog|relnotes|notes|faq|todo|howto|guide|intro|tutorial|\d+\.\d+)", re.I)
    for folder in sorted(Path("/usr/share/doc").iterdir()):
        if not folder.is_dir():
            continue
        licence = debian_licence(folder)
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.stat().st_size > 3_000_000 or path.name == "copyright":
                continue
            name = path.name[:-3] if path.name.endswith(".gz") else path.name
            if not wanted.search(str(path.relative_to(folder))) or name.endswith(_NOT_TEXT) or "/_sources/" in str(path):
                continue  # (Sphinx sources, e.g. python3.11-doc's: bench/build_docs_corpus.py reads those apart)
            try:
                raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError, EOFError):
                continue
            if "\x00" in text:
                continue
            yield {"package": f"deb:{folder.name}", "doc": f"deb:{path.relative_to('/usr/share/doc')}",
                   "source": "usr-share-doc", "licence": licence, "text": text}


def stdlib_docs():
    lib = Path(sys.base_prefix) / "lib" / "python3.11"
    if not lib.exists():
        lib = Path("/root/.pyenv/versions/3.11.7/lib/python3.11")
    for path in sorted(lib.rglob("*.py")):
        rel = path.relative_to(lib)
        if rel.parts[0] in {"site-packages", "test", "idlelib", "lib2to3"} or "tests" in rel.parts:
            continue
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(errors="replace")))
        except (SyntaxError, ValueError):
            continue
        if doc and len(doc.split()) >= MIN_WORDS:
            module = ".".join(rel.with_suffix("").parts)
            yield {"package": f"stdlib:{rel.parts[0].removesuffix('.py')}", "doc": f"stdlib:{module}",
                   "source": "python-stdlib-docstring", "licence": "PSF-2.0", "text": doc}


def _table(header: list[str], rows: list[list[str]], style: int) -> str:
    if style % 5 == 4:  # plain columns aligned with spaces, as in a terminal paste
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows])
    align = ["---:" if all(re.fullmatch(r"[-+\d.,%/]+", r[i] or "0") for r in rows) else "---" for i in range(len(header))]
    return "\n".join("| " + " | ".join(r) + " |" for r in [header, align, *rows])


def code_docs():
    """Functions of the CPython 3.11 standard library as fenced code blocks, as a post would quote them."""
    lib = Path("/root/.pyenv/versions/3.11.7/lib/python3.11")
    for number, path in enumerate(sorted(lib.glob("*.py"))):
        if number % 2:
            continue
        source = path.read_text(errors="replace")
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            body = node.body if isinstance(node, ast.ClassDef) else [node]
            for item in body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    segment = ast.get_source_segment(source, item)
                    if segment and MIN_WORDS <= len(segment.split()) <= MAX_WORDS:
                        yield {"package": f"stdlib:{path.stem}", "doc": f"stdlib-code:{path.stem}.{item.name}",
                               "source": "python-stdlib-code", "licence": "PSF-2.0", "whole": True,
                               "text": f"```python\n{segment}\n```"}


def table_docs():
    """Real tabular data found on disk, rendered as Markdown (or aligned-column) tables: dense numbers."""
    tables: list[tuple[str, str, list[str], list[list[str]]]] = []  # (name, licence, header, rows)
    status = Path("/var/lib/dpkg/status").read_text(errors="replace").split("\n\n")
    packages = [dict(re.findall(r"(?m)^([A-Za-z-]+): (.*)$", block)) for block in status]
    rows = [[p["Package"], p.get("Version", "")[:28], p.get("Architecture", ""), p.get("Installed-Size", "0"),
             p.get("Section", "")] for p in packages if "Package" in p]
    header = ["package", "version", "arch", "installed KiB", "section"]
    tables.append(("dpkg-status", "Debian package metadata (facts)", header, rows))
    services = [line.split("#")[0].split() + [line.split("#")[1].strip() if "#" in line else ""]
                for line in Path("/etc/services").read_text().splitlines() if line and not line.startswith("#")]
    tables.append(("etc-services", "GPL-2.0+ (netbase)", ["service", "port/proto", "alias", "comment"],
                   [[r[0], r[1], " ".join(r[2:-1])[:20], r[-1][:40]] for r in services if len(r) >= 3]))
    zones = [line.split("\t") for line in Path("/usr/share/zoneinfo/zone1970.tab").read_text().splitlines()
             if line and not line.startswith("#")]
    tables.append(("tzdata-zone1970", "public domain (tzdata)", ["codes", "coordinates", "zone", "comment"],
                   [(z + [""] * 4)[:4] for z in zones]))
    import errno
    import http
    import os
    tables.append(("python-errno", "PSF-2.0", ["code", "name", "message"],
                   [[str(code), name, os.strerror(code)] for code, name in sorted(errno.errorcode.items())]))
    tables.append(("python-httpstatus", "PSF-2.0", ["status", "phrase", "description"],
                   [[str(s.value), s.phrase, s.description] for s in http.HTTPStatus]))
    record_rows = []
    for record in sorted((ROOT / ".venv/lib/python3.11/site-packages").glob("*.dist-info/RECORD")):
        for line in record.read_text().splitlines():
            parts = line.rsplit(",", 2)
            if len(parts) == 3 and parts[2].isdigit():
                record_rows.append([parts[0][-48:], parts[2], parts[1][7:19] or "-"])
    tables.append(("pip-record", "file listings of installed packages", ["file", "bytes", "sha256 prefix"], record_rows[::7]))
    for name, licence, header, rows in tables:
        for chunk, start in enumerate(range(0, len(rows) - 11, 23)[:40]):
            size = 12 + (chunk * 7) % 24
            text = _table(header, rows[start:start + size], chunk)
            yield {"package": f"table:{name}:{chunk}", "doc": f"table:{name}:{chunk}", "source": "rendered-table",
                   "licence": licence, "text": text, "whole": True}


# -- sections ---------------------------------------------------------------------------------
def blocks_of(text: str) -> list[tuple[bool, str]]:
    """(starts a new section?, block) pairs: blocks are split at blank lines, never inside a code fence."""
    lines = text.replace("\r\n", "\n").replace("\t", "    ").split("\n")
    blocks, current, fenced, heading = [], [], False, False

    def flush():
        nonlocal current, heading
        if any(line.strip() for line in current):
            blocks.append((heading, "\n".join(current).strip("\n")))
        current, heading = [], False

    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        is_heading = not fenced and (
            _MD_HEADING.match(line) or _DEB_CHANGELOG_HEAD.match(line)
            or (index + 1 < len(lines) and line.strip() and _RST_UNDERLINE.match(lines[index + 1])
                and len(lines[index + 1].strip()) >= len(line.strip()) - 2)
            or (len(line) < 60 and _VERSION_HEAD.match(line) and not _LIST_LINE.match(line)))
        if is_heading:
            flush()
            heading = True
        if not line.strip() and not fenced:
            flush()
            continue
        current.append(line)
    flush()
    return blocks


def words(text: str) -> int:
    return len(text.split())


def sections_of(text: str) -> list[str]:
    sections, current = [], []

    def flush():
        nonlocal current
        if current:
            sections.append("\n\n".join(current))
        current = []

    for heading, block in blocks_of(text):
        size = words("\n".join(current))
        if heading and size >= MIN_WORDS:
            flush()
        elif size + words(block) > MAX_WORDS:
            if size >= MIN_WORDS:
                flush()
            elif words(block) > MAX_WORDS:  # one long block: cut it at line ends
                piece: list[str] = []
                for line in block.split("\n"):
                    piece.append(line)
                    if words("\n".join(current + ["\n".join(piece)])) >= MAX_WORDS - 40:
                        current.append("\n".join(piece))
                        flush()
                        piece = []
                block = "\n".join(piece)
                if not block.strip():
                    continue
            else:
                flush()
        current.append(block)
    flush()
    return [s.strip() for s in sections if MIN_WORDS <= words(s) <= MAX_WORDS + 60]


def shape_of(text: str) -> str:
    lines = [line for line in text.split("\n") if line.strip()]
    fenced = code = 0
    inside = False
    for line in lines:
        if _FENCE.match(line):
            inside = not inside
            code += 1
        elif inside or line.lstrip().startswith((">>> ", "... ", "$ ")):
            code += 1
    fenced = code
    tables = sum(1 for line in lines if _TABLE_LINE.match(line) or line.count("|") >= 3 or line.count("\t") >= 2
                 or len(_COLUMN_GAP.findall(line.strip())) >= 2)
    listed = sum(1 for line in lines if _LIST_LINE.match(line))
    tokens = text.split()
    digits = sum(1 for token in tokens if any(c.isdigit() for c in token))
    if fenced >= 0.3 * len(lines):
        return "code"
    if tables >= 3 and tables >= 0.25 * len(lines):
        return "table"
    if listed >= 0.4 * len(lines):
        return "list"
    if digits >= 0.12 * len(tokens):
        return "numbers"
    return "prose"


def usable(text: str) -> bool:
    """Real text, not binary noise, base64, word lists or licence boilerplate."""
    tokens = [token for token in text.split() if any(c.isalnum() for c in token)]
    alpha = sum(1 for token in tokens if any(c.isalpha() for c in token))
    printable = sum(1 for c in text if c.isprintable() or c in "\n")
    if alpha < 0.5 * len(tokens) or printable < 0.98 * len(text) or max(map(len, tokens)) > 200:
        return False
    boiler = ("GNU General Public License", "Permission is hereby granted", "THE SOFTWARE IS PROVIDED",
              "Redistribution and use in source")
    return not any(b in text for b in boiler)


def fingerprint(text: str) -> str:
    return hashlib.sha256(re.sub(r"\W+", " ", text.lower()).strip().encode()).hexdigest()[:16]


def shingles(text: str) -> set[int]:
    tokens = re.sub(r"\W+", " ", text.lower()).split()
    return {hash(" ".join(tokens[i:i + 6])) for i in range(0, max(len(tokens) - 5, 1), 3)}


def write_corpus(items: list[dict], out: Path) -> dict:
    """Write the sections as gzip'd JSON Lines; returns their counts by split and shape."""
    with gzip.open(out, "wt", compresslevel=9) as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts: dict = defaultdict(Counter)
    for item in items:
        counts[item["split"]][item["shape"]] += 1
    return {k: dict(v) for k, v in sorted(counts.items())}


class NearDuplicates:
    """Admits a section unless it is unusable, already seen, or shares over half its 6-word shingles with
    one kept section (the same README in two versions, a vendored copy)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.index: dict[int, list[int]] = defaultdict(list)  # shingle -> kept sections that have it
        self.kept = 0

    def admit(self, text: str) -> bool:
        if not usable(text) or fingerprint(text) in self.seen:
            return False
        marks = shingles(text)
        shared = Counter(other for mark in marks for other in self.index.get(mark, ()))
        if shared and shared.most_common(1)[0][1] > 0.5 * len(marks):
            return False
        self.seen.add(fingerprint(text))
        for mark in marks:
            self.index[mark].append(self.kept)
        self.kept += 1
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / "coherent_real.jsonl.gz")
    args = parser.parse_args()
    items, unique = [], NearDuplicates()
    per_package: Counter = Counter()
    for generator in (metadata_docs, shipped_docs, usr_share_docs, stdlib_docs, table_docs, code_docs):
        for doc in generator():
            kept = 0
            for number, text in enumerate([doc["text"]] if doc.get("whole") else sections_of(doc["text"])):
                if kept >= MAX_SECTIONS_PER_DOC or per_package[doc["package"]] >= MAX_SECTIONS_PER_PACKAGE:
                    break
                if not unique.admit(text):
                    continue
                kept += 1
                per_package[doc["package"]] += 1
                items.append({"id": f"{doc['doc']}#{number}", "label": "coherent", "shape": shape_of(text),
                              "source": doc["source"], "package": doc["package"], "doc": doc["doc"],
                              "licence": doc["licence"], "split": split_of(doc["package"]), "onset": None, "text": text})
    print(json.dumps({"sections": len(items), "documents": len({i["doc"] for i in items}),
                      "packages": len({i["package"] for i in items}),
                      "by_source": Counter(i["source"] for i in items),
                      "by_split_and_shape": write_corpus(items, args.out)}, indent=1))


if __name__ == "__main__":
    main()
