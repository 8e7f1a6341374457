"""Build bench/corpus/coherent_numdocs.jsonl.gz: coherent sections of number- and table-heavy Debian documentation.

A seventh coherent set, built blind (the detector was never run on it), of real technical text nobody on this
project wrote, chosen for the text closest to a technical blog post dense with numbers and tables: data frames
and regression reports printed as text, amounts of money, directive tables, version and size figures, with the
prose around them. The sources are eight Debian 12 (bookworm) documentation packages that no other set uses and
that are not installed on the build machine, fetched with `apt-get download PKG=VERSION` (versions pinned in
PACKAGES) and unpacked with `dpkg-deb -x` (bench/build_debdocs_corpus.py's `unpacked`):
- python-pandas-doc 1.5.3+dfsg-2 (BSD-3): the pandas user guide (user_guide/*.html: IPython sessions with the
  DataFrames they print, 10 minutes to pandas, the cookbook, ...) and getting started (getting_started/: the
  intro tutorials, the comparisons with R, SAS, SQL, Stata and spreadsheets, install); not the API reference
  (reference/, generated/), the release notes (whatsnew/) nor the development guide;
- python-scipy-doc 1.10.1-2 (BSD-3-clause): the SciPy tutorial (tutorial/**: optimize, integrate, interpolate,
  signal, linalg, stats, ...), without the one-page formula sheets of each distribution
  (stats/continuous_*.html, stats/discrete_*.html) and the API reference;
- python-statsmodels-doc 0.13.5+dfsg-7 (BSD-3): the example notebooks as rendered
  (examples/notebooks/generated/*.html: regression, GLM, time series; their printed summaries and tables);
- python-xarray-doc 2023.01.0-1.1 (Apache-2.0): the user guide and getting-started guide (the example
  notebooks are not used: Debian built them without their data sets, so every one prints a traceback);
- python-django-doc 3:3.2.25-0+deb12u7 (BSD-3-Clause): the tutorial and introductions (intro/), topic guides
  (topics/), how-tos (howto/) and FAQ (faq/); not the reference (ref/), release notes nor internals;
- apache2-doc 2.4.71-1~deb12u1 (Apache-2.0): the English Apache HTTP Server manual (manual/en/**: guides,
  how-tos, and the module pages with their directive tables);
- gnucash-docs 4.13-1 (GFDL-NIV-1.1+): the English Tutorial and Concepts Guide and Help manual
  (gnucash-guide-en/, gnucash-help-en/: accounts, transactions, loans, investments, with amounts);
- r-doc-html 4.2.2.20221110-2 (the manuals' notice: verbatim and modified copies permitted; the package's
  copyright file has no `Files: *` stanza): the seven R manuals (R-intro, R-data, R-admin, R-lang, R-exts,
  R-ints and the R FAQ, Texinfo HTML, one page each), each section (## and ###) a document, less the title
  and permission notice before the first.
The licence is the `Files: *` stanza's of each package's Debian copyright file (build_debdocs_corpus's
`licence_of`), or the one stated in LICENCES; recorded per item.

Conversion to the Markdown a draft is written in, by build_debdocs_corpus.py's HTML converter (h1-h6 as
#-######, pre as fenced code, lists, definition lists as a bold term line, tables as pipe tables, note boxes as
**Note:**, code as `code`, ...; imported, not copied) applied to the part of each page a reader sees as the text:
- Sphinx (pandas, SciPy, statsmodels, xarray, Django): the element with role="main" (Django's: id="yui-main"),
  without heading permalinks (headerlink), the previous/next bar, footers and the notebooks' [n]: prompts;
  IPython sessions (In [1]: ... Out[1]: ...) and notebook outputs stay as printed; HTML data frames become
  pipe tables;
- the Apache manual: its page-content element, without the language bars, breadcrumbs, "top" links,
  permalinks, the quick-view table of contents and the "Related Modules and Directives" lists; directive
  tables (Description, Syntax, Default, Context, ...) become pipe tables;
- DocBook (GnuCash): the body, as the Debian Reference's is (navigation and tables of contents dropped), with
  its note boxes (an icon and a title in a table) made **Note:** paragraphs and application names (bold
  code in DocBook's style) plain text;
- Texinfo (R): as build_debprose_corpus's Ledger manual (its TEXINFO settings: navigation, tables of contents
  and the index dropped; samp quotes around code removed).
The Sphinx pages are cut into documents at their ## sections (the text before the first is one too), as one
page of a user guide holds many topics (pandas' io.html alone has 22 ## sections, 30,000 words).
Skipped: indexes, search and table-of-contents pages; pandas' list of external tutorials; the Apache manual's
licence, site map, directive indexes and quick reference, the `overrides` index and the "new features" pages
(release notes); GnuCash's title pages, part pages, author lists and the GNU FDL text. Sections whose examples
failed when Debian built the documentation offline (a traceback ending in ModuleNotFoundError, ImportError,
NameError, URLError, HTTPError or FileNotFoundError: an optional module or a download missing) are dropped, and
documents with three or more of them are skipped altogether (what follows such a failure runs on nothing).

Rules, as for the fifth and sixth sets: sections are cut by bench/build_coherent_corpus.py's rules (150-600
words, at headings, then blank lines, never inside a fence; fences of over 500 words split first) and get its
shapes; its near-duplicate filter drops anything sharing over half its 6-word shingles with a section of the
older coherent sets or one kept before. At most 6 sections per document. Numbers-heavy, then table sections
are taken first (documents in the order of a hash of their name, up to the cap per document), at most 80
numbers and 50 table sections a package (PREFERRED); then the other shapes, one section per document and round,
each document's sections with the largest share of words holding a digit first (so prose and code with figures
in them come before those without), until the package has 200 sections (SECTIONS_PER_PACKAGE), so that no
package dominates. Split by a hash of the source document (`split_of(doc)`): calibration 50%, held-out 25%,
reserve 25%. Every item carries `batch: "numbers-docs"`; `source` is `debian-<package>`.
The .deb files are kept in --cache/debs/ and unpacked in --cache/root/<package>/, so a rebuild reads the same
files without the network; the gzip header holds no time stamp, so a rebuild gives the same bytes.
Usage: python bench/build_numdocs_corpus.py [--cache DIR] [--out FILE] [--dump DIR]"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from build_coherent_corpus import NearDuplicates
from build_debdocs_corpus import _ADMONITIONS, _blocks, _Node, _Tree, _walk, build, licence_of, pick, unpacked
from build_debprose_corpus import PREFERRED, TEXINFO, _prune, _split_at, html_markdown, write_corpus

PACKAGES = {"python-pandas-doc": "1.5.3+dfsg-2", "python-scipy-doc": "1.10.1-2",
            "python-statsmodels-doc": "0.13.5+dfsg-7", "python-xarray-doc": "2023.01.0-1.1",
            "python-django-doc": "3:3.2.25-0+deb12u7", "apache2-doc": "2.4.71-1~deb12u1",
            "gnucash-docs": "4.13-1", "r-doc-html": "4.2.2.20221110-2"}
LICENCES = {"r-doc-html": "verbatim and modified copies permitted (the R manuals' notice)"}  # no `Files: *` stanza
SECTIONS_PER_PACKAGE = 200
BATCH = "numbers-docs"
SKIP = {"index.html", "genindex.html", "search.html", "tutorials.html",  # pandas: links to external tutorials
        "license.html", "sitemap.html", "directives.html", "quickreference.html", "overrides.html",
        "new_features_2_0.html", "new_features_2_2.html", "new_features_2_4.html",  # Apache
        "titlepage.html", "authors.html"}  # GnuCash
_FAILED = re.compile(r"^(ModuleNotFoundError|ImportError|NameError|URLError|HTTPError|FileNotFoundError)\b", re.M)


def build_failures(text: str) -> int:
    """How many examples in the text failed when the documentation was built offline."""
    return len(_FAILED.findall(text)) if "Traceback (most recent call last)" in text else 0


# -- HTML -----------------------------------------------------------------------------------------
def _first(node: _Node, match: Callable[[_Node], bool]) -> _Node | None:
    for child in node.children:
        if isinstance(child, _Node):
            if match(child):
                return child
            found = _first(child, match)
            if found:
                return found
    return None


def page_markdown(page: str, root: Callable[[_Node], bool], drop: Callable[[_Node], bool],
                  fix: Callable[[_Node], None] | None = None) -> str:
    """build_debdocs_corpus's HTML conversion of the first element `root` accepts, without the elements `drop`
    accepts (after `fix` has rewritten the tree)."""
    tree = _Tree()
    tree.feed(page)
    _prune(tree.root, drop)
    if fix:
        fix(tree.root)
    top = _first(tree.root, root) or tree.root
    return "\n\n".join(_blocks(top)).strip() + "\n"


SPHINX_DROP = {"headerlink", "prev-next-area", "prompt", "footer", "related", "sphinxsidebar"}


def sphinx_markdown(page: str) -> str:
    return page_markdown(page, lambda n: n.attrs.get("role") == "main" or n.attrs.get("id") == "yui-main",
                         lambda n: bool(n.classes & SPHINX_DROP))


APACHE_DROP = {"toplang", "bottomlang", "top", "up", "permalink", "related"}
APACHE_DROP_IDS = {"page-header", "path", "footer", "quickview", "related"}


def apache_markdown(page: str) -> str:
    return page_markdown(page, lambda n: n.attrs.get("id") == "page-content",
                         lambda n: bool(n.classes & APACHE_DROP) or n.attrs.get("id") in APACHE_DROP_IDS)


def _docbook_fix(node: _Node) -> None:
    """GnuCash's DocBook: a note box (an icon and a title in a table) keeps only its text, so the converter
    makes it a **Note:** paragraph; an application name (<strong class="application"><code>) is plain text."""
    if node.classes & _ADMONITIONS:
        table = next((c for c in node.children if isinstance(c, _Node) and c.tag == "table"), None)
        if table:
            cells = [n for n in _walk(table) if n.tag == "td" and not any(m.tag == "img" for m in _walk(n))]
            node.children = [child for cell in cells for child in cell.children]
    if "application" in node.classes:
        node.tag = "span"
        for inner in _walk(node):
            if inner.tag == "code":
                inner.tag = "span"
    for child in node.children:
        if isinstance(child, _Node):
            _docbook_fix(child)


def docbook_markdown(page: str) -> str:
    return page_markdown(page, lambda n: n.tag == "body", lambda n: False, _docbook_fix)


# -- documents ------------------------------------------------------------------------------------
def _pages(package: str, root: Path) -> tuple[Path, list[Path], Callable[[str], str]]:
    """(the folder names are relative to, the pages read, their converter) of an HTML package."""
    html = root / "usr/share/doc" / package / "html"
    if package == "python-pandas-doc":
        return html, [*sorted((html / "user_guide").glob("*.html")), *sorted((html / "getting_started").rglob("*.html"))], \
            sphinx_markdown
    if package == "python-scipy-doc":
        return html, sorted(p for p in (html / "tutorial").rglob("*.html")
                            if not re.match(r"(continuous|discrete)_", p.name)), sphinx_markdown
    if package == "python-statsmodels-doc":
        return html, sorted((html / "examples/notebooks/generated").glob("*.html")), sphinx_markdown
    if package == "python-xarray-doc":
        return html, sorted([*(html / "user-guide").glob("*.html"), *(html / "getting-started-guide").glob("*.html")]), \
            sphinx_markdown
    if package == "python-django-doc":
        return html, sorted(p for folder in ("intro", "topics", "howto", "faq") for p in (html / folder).rglob("*.html")), \
            sphinx_markdown
    if package == "apache2-doc":
        manual = root / "usr/share/doc/apache2-doc/manual/en"
        return manual, sorted(manual.rglob("*.html")), apache_markdown
    folder = root / "usr/share/doc/gnucash-docs"
    return folder, sorted(p for guide in ("gnucash-guide-en", "gnucash-help-en") for p in (folder / guide).glob("*.html")
                          if not p.name.startswith(("fdl", "part."))), docbook_markdown


def documents(cache: Path):
    """(package, doc, licence, Markdown text) for every document read."""
    for package, version in PACKAGES.items():
        root = unpacked(package, version, cache)
        licence = LICENCES.get(package) or licence_of(root, package)
        if package == "r-doc-html":
            for path in sorted((root / "usr/share/R/doc/manual").glob("*.html")):
                text = re.sub(r"‘(`[^`\n]+`)’", r"\1", html_markdown(path.read_text(errors="replace"), **TEXINFO))
                for number, part in enumerate(_split_at(text, r"(?m)^(?=###? )")):
                    if number:  # 0: the title and the permission notice
                        yield package, f"deb:{package}:{path.name}:{number}", licence, part
            continue
        base, paths, convert = _pages(package, root)
        for path in paths:
            if path.name in SKIP:
                continue
            name, text = str(path.relative_to(base)), convert(path.read_text(errors="replace"))
            parts = _split_at(text, r"(?m)^(?=## )") if convert is sphinx_markdown else [text]
            for number, part in enumerate(parts):
                if build_failures(part) < 3:
                    yield package, f"deb:{package}:{name}" + (f":{number}" if len(parts) > 1 else ""), licence, part


def digit_share(section: str) -> float:
    words = section.split()
    return sum(any(c.isdigit() for c in word) for word in words) / max(1, len(words))


def select(docs: list, unique: NearDuplicates) -> dict[str, list[int]]:
    """The sections kept of each document of one package: numbers and tables first (at most PREFERRED's counts),
    then the other shapes, one section per document and round (its sections with the most figures first), up to
    SECTIONS_PER_PACKAGE. Sections with an example that failed at build time are never taken."""
    return pick(docs, unique, SECTIONS_PER_PACKAGE, PREFERRED,
                usable=lambda sections: [n for n, section in enumerate(sections) if not build_failures(section)],
                first=lambda sections, n: (-digit_share(sections[n]), n))


if __name__ == "__main__":
    build("numdocs", BATCH, documents, select, write_corpus)
