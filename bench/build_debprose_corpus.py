"""Build bench/corpus/coherent_debprose.jsonl.gz: coherent sections of Debian's long-form technical books.

A sixth coherent set, built blind (the detector was never tuned on it), of real technical text nobody on
this project wrote, chosen for the text closest to a technical blog post: dense explanatory prose with
numbers, versions, sizes, amounts and commodity symbols, with some lists, code and tables. The sources are
ten Debian 12 (bookworm) documentation packages that no other set uses and that are not installed on the
build machine, fetched with `apt-get download PKG=VERSION` (versions pinned in PACKAGES) and unpacked with
`dpkg-deb -x` (bench/build_debdocs_corpus.py's `unpacked`):
- debian-handbook 11.20220922 (GPL-2.0+ or CC-BY-SA-3.0): The Debian Administrator's Handbook, en-US,
  Publican HTML, one page a section: installation, APT, networking, services, security, case studies;
- harden-doc 3.19+nmu1 (GPL-2.0): Securing Debian Manual, en-US, Publican HTML;
- debian-history 2.28 (GPL-2+, from the non-machine-readable copyright): A Brief History of Debian, English
  DocBook HTML: release dates, versions, package counts;
- rust-doc 1.63.0+dfsg1-2 (MIT or Apache-2.0, the `src/doc/*` stanza): three mdBook books, The Rust
  Programming Language (book/), the Edition Guide and the Rustonomicon (the API reference is not used);
- linux-doc-6.1 6.1.192-3 (GPL-2): the reStructuredText sources of the kernel's Documentation/ (admin
  guide, process, filesystems, networking, hwmon, mm, scheduler, ...; not translations/);
- ledger 3.3.0-3 (BSD-3-clause, from the non-machine-readable copyright): the Ledger 3 manual
  (ledger3.html, Texinfo HTML, one page; each chapter's sections (## and ###) are documents): plain-text
  accounting with amounts, prices and commodities such as $, EUR, AAPL;
- hledger 1.25-2+b5 (GPL-3+): the hledger manual (hledger.info.gz, Info; each node a document): journal
  examples with amounts and commodities, reports;
- developers-reference 12.18 (GPL-2): the Debian Developer's Reference, its reST sources (_sources/);
- maint-guide 1.2.53 (GPL-2.0+): the Debian New Maintainers' Guide, English DocBook HTML;
- debian-faq 11.1 (SPI's notice permitting verbatim and modified copies, from the non-machine-readable
  copyright): the Debian FAQ, English DocBook HTML.
These last three, and the Ledger manual, are cut into documents at their sections (## headings, and ###
for Ledger), as a page of them holds many topics.
The licence is the `Files: *` stanza's of each package's Debian copyright file (build_debdocs_corpus's
`licence_of`), or the one stated in LICENCES where the file has no such stanza; recorded per item.

Conversion to the Markdown a draft is written in:
- HTML (Publican, DocBook, mdBook, Texinfo): build_debdocs_corpus.py's HTML converter (h1-h6 as #-######,
  pre as fenced code, lists, definition lists as a bold term line, tables as pipe tables, note boxes as
  **Note:**, code as `code`, ...), after dropping, per package, what a reader does not see as the text:
  Publican's "Download the ebook" banner, logo bar and Prev/Next bar (`docnav`); everything of an mdBook
  page outside its <main> element, and its hidden code lines (`boring` spans, which mdBook shows only on
  request); Texinfo's navigation headers, tables of contents and the index;
- reStructuredText (kernel, Developer's Reference): bench/build_docs_corpus.py's `to_markdown` (the Python
  documentation set's), after `rst_tables`: tabs expanded to 8-column stops as docutils does (to_markdown
  makes a tab 4 spaces, which misaligned the kernel's tables), grid and simple tables made pipe tables
  (an empty header row where the table has none; left as written where a cell spans columns);
- Info (hledger): by this script: node headers, menus and footnote rulers dropped; titles underlined with
  `*`, `=`, `-` or `.` as #-####; `* item` lines as `- ` items; paragraphs (a first line indented 3
  spaces, or filled lines) as paragraphs; anything else (journal and command examples, reports: lines
  not filled as prose is, or indented deeper) as fenced code; 'quoted' code as `code`.
Skipped pages: the books' title pages, indexes, legal notices, tables of contents and revision histories;
mdBook's print.html (the whole book again) and the Rust book's 2018-edition/ and first-edition redirect
pages (too short to give a section anyway).

Rules, as for the fifth set: sections are cut by bench/build_coherent_corpus.py's rules (150-600 words,
at headings, then blank lines, never inside a fence; fences of over 500 words split first) and get its
shapes; its near-duplicate filter drops anything sharing over half its 6-word shingles with a section of
the older coherent sets or one kept before. At most 6 sections per document. Numbers-heavy, then table
sections (the rarest shapes) are taken first (documents in the order of a hash of their name, up to the cap
per document), but here at most 80 numbers and 50 table sections a package (PREFERRED), so that prose
dominates (the kernel's Documentation alone has hundreds of each); then the other shapes, one section per
document and round, until the package has 330 sections. Split by a hash of the source document
(`split_of(doc)`): calibration 50%, held-out 25%, reserve 25%. Every item carries `batch: "debian-prose"`;
`source` is `debian-<package>`.
The .deb files are kept in --cache/debs/ and unpacked in --cache/root/<package>/, so a rebuild reads the
same files without the network; the gzip header holds no time stamp, so a rebuild gives the same bytes.
Usage: python bench/build_debprose_corpus.py [--cache DIR] [--out FILE] [--dump DIR]"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from build_coherent_corpus import NearDuplicates
from build_debdocs_corpus import _blocks, _dedent_code, _Node, _Tree, build, licence_of, pick, unpacked
from build_docs_corpus import to_markdown as rst_to_markdown

PACKAGES = {"debian-handbook": ("11.20220922", "all"), "harden-doc": ("3.19+nmu1", "all"),
            "debian-history": ("2.28", "all"), "rust-doc": ("1.63.0+dfsg1-2", "all"),
            "linux-doc-6.1": ("6.1.192-3", "all"), "ledger": ("3.3.0-3", "amd64"), "hledger": ("1.25-2+b5", "amd64"),
            "developers-reference": ("12.18", "all"), "maint-guide": ("1.2.53", "all"), "debian-faq": ("11.1", "all")}
LICENCES = {"debian-history": "GPL-2+", "ledger": "BSD-3-clause", "rust-doc": "MIT or Apache-2.0",
            "debian-faq": "verbatim and modified copies permitted (SPI notice)"}  # no `Files: *` stanza
# (rust-doc: its `src/doc/*` stanza's; debian-faq: the notice its copyright file quotes)
SECTIONS_PER_DOC = 6
SECTIONS_PER_PACKAGE = 330
PREFERRED = {"numbers": 80, "table": 50}  # at most this many sections of these shapes a package, taken first
BATCH = "debian-prose"
SKIP = {"index.html", "ix01.html", "pr01.html", "legalnotice.html", "appe-Revision_History.html", "print.html",
        "toc.html", "SUMMARY.html", "title-page.html", "404.html"}


# -- HTML -----------------------------------------------------------------------------------------
def _prune(node: _Node, drop) -> None:
    node.children = [c for c in node.children if isinstance(c, str) or not drop(c)]
    for child in node.children:
        if isinstance(child, _Node):
            _prune(child, drop)


def _find(node: _Node, tag: str) -> _Node | None:
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == tag:
                return child
            found = _find(child, tag)
            if found:
                return found
    return None


def html_markdown(page: str, root: str = "body", drop_classes: frozenset = frozenset(),
                  drop_ids: frozenset = frozenset()) -> str:
    """build_debdocs_corpus's HTML conversion of the `root` element, without the elements of those classes/ids."""
    tree = _Tree()
    tree.feed(page)
    _prune(tree.root, lambda n: bool(n.classes & drop_classes) or n.attrs.get("id") in drop_ids)
    top = _find(tree.root, root) or tree.root
    return "\n\n".join(_blocks(top)).strip() + "\n"


PUBLICAN: dict[str, Any] = {"drop_classes": frozenset({"docnav"}), "drop_ids": frozenset({"banner", "title"})}
MDBOOK: dict[str, Any] = {"root": "main", "drop_classes": frozenset({"boring"})}
TEXINFO: dict[str, Any] = {"drop_classes": frozenset({"header", "contents", "shortcontents", "contents-heading", "section-toc",
                                      "index-cp", "index-fn", "summary-letter", "nav-panel", "copiable-anchor"})}


# -- Info -----------------------------------------------------------------------------------------
_INFO_UNDERLINE = {"*": 1, "=": 2, "-": 3, ".": 4}


def _info_inline(text: str) -> str:
    text = re.sub(r"(?<![\w'`])'([^'\s](?:[^'\n]*?[^'\s])?)'(?![\w'])", r"`\1`", text)
    return re.sub(r"(?<![\w`])_([^_\s](?:[^_\n]*?[^_\s])?)_(?![\w`])", r"*\1*", text)


def _filled(block: list[str]) -> bool:
    """Lines filled as an Info paragraph is: no deeper indentation, no aligned columns, long lines but the last,
    starting as a sentence does and ending with a stop (examples start with `$ `, a date, `;`, ...)."""
    if not re.match(r"^[A-Z(\"'`]", block[0]) or block[-1].rstrip()[-1:] not in ".:!?)\"'`":
        return False
    if any(len(line) - len(line.lstrip()) >= 2 for line in block[1:]):
        return False
    if any(re.search(r"\S {3,}\S", line) for line in block):
        return False
    return all(len(line.rstrip()) >= 50 for line in block[:-1])


def info_nodes(text: str) -> list[tuple[str, str]]:
    """(node name, Markdown) for each node of an Info file."""
    out = []
    for chunk in text.split("\x1f")[1:]:
        head, _, body = chunk.strip("\n").partition("\n")
        node = re.search(r"Node: ([^,]+)", head)
        if node and body.strip():
            out.append((node.group(1).strip(), info_to_markdown(body)))
    return out


def info_to_markdown(body: str) -> str:
    body = re.split(r"\n *-{10} Footnotes -{10}\n", body)[0]
    lines = body.split("\n")
    blocks, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    out: list[str] = []
    after_heading = False
    for block in blocks:
        if block[0].startswith("* Menu:"):
            continue
        if len(block) >= 2 and re.fullmatch(r"([*=\-.])\1+", block[1]) and abs(len(block[1]) - len(block[0])) <= 2:
            out.append("#" * _INFO_UNDERLINE[block[1][0]] + " " + _info_inline(block[0].strip()))
            block = block[2:]
            after_heading = True
            if not block:
                continue
        if re.match(r"^\* [^:]+::", block[0]):  # menu entries
            continue
        if re.match(r"^ {0,3}\* \S", block[0]):
            items: list[list[str]] = []
            item: list[str] = []
            for line in block:
                if re.match(r"^ {0,3}\* \S", line):
                    if item:
                        items.append(item)
                    item = [line.strip()[2:]]
                else:
                    item.append(line.strip())
            items.append(item)
            out.append("\n".join("- " + _info_inline(" ".join(i)) for i in items))
        elif (block[0].startswith("   ") and not block[0].startswith("    ") and _filled(
                [block[0].strip()] + block[1:])) or ((after_heading or not block[0].startswith(" ")) and _filled(block)):
            out.append(_info_inline(" ".join(" ".join(block).split())))
        else:
            out.append("\n".join(_dedent_code(block)))
        after_heading = False
    return "\n\n".join(out).strip() + "\n"


# -- reStructuredText tables (kernel, developers-reference) ------------------------------------------
_GRID_BORDER = re.compile(r"^( *)\+([-=]+\+)+ *$")
_SIMPLE_BORDER = re.compile(r"^( *)=+( +=+)+ *$")


def _pipe_table(rows: list[list[str]], header: bool) -> list[str]:
    if not header:
        rows = [[""] * len(rows[0]), *rows]
    cells = [[" ".join(cell.split()).replace("|", "\\|") for cell in row] for row in rows]
    return ["| " + " | ".join(cells[0]) + " |", "| " + " | ".join(["---"] * len(cells[0])) + " |",
            *["| " + " | ".join(row) + " |" for row in cells[1:]]]


def _grid_table(lines: list[str], indent: int) -> list[str] | None:
    """A grid table's lines as a pipe table (None: a cell spans columns or rows)."""
    border = lines[0][indent:]
    bounds = [i for i, c in enumerate(border) if c == "+"]
    rows: list[list[str]] = []
    header, current = False, None
    for line in lines[1:]:
        line = line[indent:]
        if _GRID_BORDER.match(line):
            if [i for i, c in enumerate(line) if c == "+"] != bounds:
                return None
            if current is not None:
                rows.append(current)
            current = None
            header = header or ("=" in line and len(rows) == 1)
            continue
        if any(len(line) <= b or line[b] != "|" for b in bounds):
            return None
        parts = [line[a + 1:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        current = parts if current is None else [f"{x} {y}" for x, y in zip(current, parts, strict=True)]
    return _pipe_table(rows, header) if rows and current is None else None


def _simple_table(lines: list[str], indent: int) -> list[str] | None:
    """A simple table's lines (from its first border to its last) as a pipe table (None: column spans)."""
    spans = [m.span() for m in re.finditer(r"=+", lines[0][indent:])]
    borders = [n for n, line in enumerate(lines) if _SIMPLE_BORDER.match(line)]
    rows: list[list[str]] = []
    for number, line in enumerate(lines):
        if number in borders or not line.strip():
            continue
        text = line[indent:]
        if re.match(r"^ *-+( +-+)* *$", text):
            return None
        starts = [a for a, _ in spans]
        if any(a > 0 and len(text) > a and text[a - 1] != " " for a in starts[1:]):
            return None  # text crosses a column boundary
        parts = [text[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        if rows and not parts[0] and number > borders[1 if len(borders) > 2 else 0]:
            rows[-1] = [f"{x} {y}".strip() for x, y in zip(rows[-1], parts, strict=True)]
        else:
            rows.append(parts)
    header = len(borders) > 2
    return _pipe_table(rows, header) if rows else None


def rst_tables(text: str) -> str:
    """Tabs expanded to 8-column stops (as docutils does), and grid and simple tables made pipe tables (left as
    they are where a cell spans columns)."""
    lines = text.expandtabs(8).split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        grid, simple = _GRID_BORDER.match(line), _SIMPLE_BORDER.match(line)
        border = grid or simple
        if border:
            indent = len(border.group(1))
            end = index + 1
            if grid:
                while end < len(lines) and lines[end].strip() and lines[end][indent:indent + 1] in ("+", "|"):
                    end += 1
            else:
                borders = [index]
                while end < len(lines) and len(borders) < 3:
                    if _SIMPLE_BORDER.match(lines[end]):
                        borders.append(end)
                        if end + 1 >= len(lines) or not lines[end + 1].strip():
                            break
                    end += 1
                end = borders[-1] + 1
            table = (_grid_table if grid else _simple_table)(lines[index:end], indent)
            if table:
                out += ["", *[" " * indent + row for row in table], ""]
                index = end
                continue
        out.append(line)
        index += 1
    return "\n".join(out)


# -- documents ------------------------------------------------------------------------------------
def _split_at(markdown: str, pattern: str) -> list[str]:
    return [part for part in re.split(pattern, markdown) if part.strip()]


def documents(cache: Path):
    """(package, doc, licence, Markdown text) for every document read."""
    for package, (version, arch) in PACKAGES.items():
        root = unpacked(package, version, cache, arch)
        licence = LICENCES.get(package) or licence_of(root, package)
        if package in ("debian-handbook", "harden-doc"):
            folder = root / f"usr/share/doc/{package}/html/en-US"
            for path in sorted(folder.glob("*.html")):
                if path.name not in SKIP:
                    yield package, f"deb:{package}:{path.name}", licence, html_markdown(path.read_text(), **PUBLICAN)
        elif package == "debian-history":
            folder = root / "usr/share/doc/debian-history/docs"
            for path in sorted(folder.glob("*.en.html")):
                if path.name not in ("index.en.html",):
                    yield package, f"deb:{package}:{path.name}", licence, html_markdown(path.read_text())
        elif package == "rust-doc":
            folder = root / "usr/share/doc/rust-doc/html"
            for book in ("book", "edition-guide", "nomicon"):
                for path in sorted((folder / book).rglob("*.html")):
                    name = str(path.relative_to(folder))
                    if path.name in SKIP or name.startswith("book/2018-edition/"):
                        continue
                    yield package, f"deb:{package}:{name}", licence, html_markdown(path.read_text(), **MDBOOK)
        elif package == "linux-doc-6.1":
            folder = root / "usr/share/doc/linux-doc-6.1/Documentation"
            for path in sorted([*folder.rglob("*.rst"), *folder.rglob("*.rst.gz")]):
                name = str(path.relative_to(folder)).removesuffix(".gz")
                if name.split("/")[0] in ("translations", "devicetree", "ABI") or "/" not in name:
                    continue
                raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
                yield package, f"deb:{package}:{name}", licence, rst_to_markdown(rst_tables(raw.decode("utf-8", "replace")))
        elif package in ("developers-reference", "maint-guide", "debian-faq"):  # each section (##) a document
            if package == "developers-reference":
                folder = root / "usr/share/developers-reference/_sources"
                pages = [(p.name, rst_to_markdown(rst_tables(p.read_text()))) for p in sorted(folder.glob("*.rst.txt"))]
            else:
                folder = root / ("usr/share/doc/maint-guide/html" if package == "maint-guide" else
                                 "usr/share/doc/debian/FAQ")
                pages = [(p.name, html_markdown(p.read_text())) for p in sorted(folder.glob("*.en.html"))
                         if p.name not in ("index.en.html", "faqinfo.en.html")]
            for name, text in pages:
                for number, part in enumerate(_split_at(text, r"(?m)^(?=## )")):
                    yield package, f"deb:{package}:{name}:{number}", licence, part
        elif package == "ledger":  # Texinfo's samp: quotes around code
            page = (root / "usr/share/doc/ledger/ledger3.html").read_text(errors="replace")
            text = re.sub(r"‘(`[^`\n]+`)’", r"\1", html_markdown(page, **TEXINFO))
            for number, part in enumerate(_split_at(text, r"(?m)^(?=###? )")):
                yield package, f"deb:{package}:ledger3.html:{number}", licence, part
        elif package == "hledger":
            info = gzip.decompress((root / "usr/share/doc/hledger/hledger.info.gz").read_bytes()).decode()
            for node, text in info_nodes(info):
                yield package, f"deb:{package}:hledger.info:{node}", licence, text


def select(docs: list, unique: NearDuplicates) -> dict[str, list[int]]:
    """The sections kept of each document of one package: numbers and tables first (at most PREFERRED's counts),
    then the other shapes, one section per document and round, up to SECTIONS_PER_PACKAGE."""
    return pick(docs, unique, SECTIONS_PER_PACKAGE, PREFERRED)


def write_corpus(items: list[dict], out: Path) -> dict:
    """build_coherent_corpus's write_corpus, with no time stamp nor file name in the gzip header: a rebuild
    gives the same bytes. Returns the counts by split and shape."""
    with open(out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as fh:
        for item in items:
            fh.write((json.dumps(item, ensure_ascii=False) + "\n").encode())
    counts: dict = defaultdict(Counter)
    for item in items:
        counts[item["split"]][item["shape"]] += 1
    return {k: dict(v) for k, v in sorted(counts.items())}


if __name__ == "__main__":
    build("debprose", BATCH, documents, select, write_corpus)
