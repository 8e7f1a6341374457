"""Build bench/corpus/coherent_numbers9.jsonl.gz: coherent sections of numbers-heavy Debian documentation.

A ninth coherent set, built blind (the detector was never run on it), aimed again at the rarest shape, `numbers`
(12%+ of the words hold a digit, not mostly code, tables or lists), after the eighth set found almost none in
explanatory manuals: here release histories and operating notes, where nearly every paragraph carries a date, a
version, a UTC offset, a ticket or CVE number, an address or a size. The sources are six Debian 12 (bookworm) main
packages that no other set uses, fetched with `apt-get download PKG=VERSION` (versions pinned in PACKAGES) and
unpacked with `dpkg-deb -x` (bench/build_debdocs_corpus.py's `unpacked`); none is installed on the build machine
but tzdata (2025b there; coherent_real.jsonl.gz holds 3 sections of that version's NEWS, and the near-duplicate
filter below keeps those out):
- tzdata 2026f-0+deb12u1 (public-domain): the tz database's NEWS (usr/share/doc/tzdata/changelog.gz, 1992-2026:
  changes to past and future timestamps, UTC offsets, transition dates, code changes), one document a year of
  releases;
- erlang-doc 1:25.2.3+dfsg-1+deb12u4 (Apache-2.0): the release notes of the Erlang/OTP applications and ERTS
  (lib/*/doc/html/notes.html and erts-*/doc/html/notes.html: each change with its OTP-nnnnn and GH-nnnn
  identifiers), one document a release series of an application (SSL 10.8, 10.8.1, ... 10.8.7 together);
- kea-doc 2.2.0-6 (MPL-2.0): the Kea ChangeLog (usr/share/doc/kea-doc/changelog.gz, from BIND 10 in 2010 to Kea
  2.2.0: numbered entries with Trac/GitLab numbers), one document a release, and the Kea Administrator Reference
  Manual (html/arm/*.html), each ## section a document;
- bind9-doc 1:9.18.49-1~deb12u3 (its `Files: *` licence, MPL-2.0 and ISC and BSD-2-clause and BSD-3-clause): the
  BIND 9 changelog (arm/changelog.html.gz, 9.0.0b2 to 9.18.49), one document a release, and the other BIND 9 ARM
  pages (configuration, DNSSEC guide, release notes, manual pages, ...), each ## section a document;
- wireshark-doc 4.0.17-0+deb12u3 (GPL-2+): the Wireshark User's and Developer's Guides (DocBook HTML, chunked),
  each page a document;
- geographiclib-doc 2.1.2-1 (Expat): the GeographicLib documentation's pages (geodesics, projections, geoids,
  gravity and magnetic models, the utilities' manual pages); not the Doxygen API reference (class, namespace,
  file and source pages) nor the two pages of series coefficients (geodseries30, tmseries30).
Looked at but not used (too few numbers-heavy sections under the corpus rules, or not prose): haproxy-doc,
postfix-doc, fio, chrony, squid-common, varnish, rrdtool, exim4-doc-html, exim4-base, knot-doc, sysstat, gnuplot-doc,
homebank-data, grisbi-common, dpdk-doc, ns3-doc, libvirt-doc, drbd-doc, wsjtx-doc, tlf, gpsd, apcupsd-doc,
gpsbabel-doc, lame-doc, openocd, avr-libc (its numbers are the line numbers of header listings), imagemagick-6-doc
(a commit-style changelog), rsyslog-doc, dovecot-core, bpfcc-tools and bpftrace (tool output), systemtap-doc,
cryptsetup, smokeping, avrdude-doc, ghostscript-doc, pgbackrest-doc, tor, golang-1.19-doc, llvm-15-doc, ghc-doc,
xorg-docs, python-ipython-doc, gnutls-doc, knot-resolver-doc, mutt, qemu-system-common, dnsmasq-base,
isc-dhcp-server, gromacs-data (its numbers are references and LaTeX), frr-doc, bird2-doc, nova-doc,
python-scrapy-doc, kicad-doc-en, installation-guide-amd64, astronomical-almanac, emacs-common (NEWS), xterm,
debian-policy, shorewall-doc, openvswitch-doc, tinc, debian-edu-doc-en, tomcat10-docs, python-sklearn-doc,
python-astropy-doc, zsh-common (commit-style ChangeLogs), glibc-source (the tz database's source files of its
timezone/ directory: their commentary gave 13 numbers-heavy sections, the rest is Rule/Zone tables).
The licence is the `Files: *` stanza's of each package's Debian copyright file (build_debdocs_corpus's
`licence_of`); recorded per item.

Conversion to Markdown:
- plain text (the tz NEWS, the Kea ChangeLog, BIND's older changelog): by this script. Blocks are cut at blank
  lines, tabs expanded; a release line ("Release 2026f - 2026-10-27 ...", "Kea 2.2.0 (stable) released on July 27,
  2022", "--- 9.18.28 released ---") as ##; in the tz NEWS a lone two-space-indented "Changes ..." or "Briefly:"
  line as ###, the one-line summaries under "Briefly:" as `- ` items; a ChangeLog entry ("2045.<tab>[build]<tab>
  tmark" or "6280.<tab>[bug]<tab>Fix ...") as the line "2045. [build] tmark" followed by its text; text dedented
  with its line breaks kept (as build_debdocs_corpus's HTML converter keeps those of a <p>), `-`/`*` items as `- `
  items nested by indentation, a block of two or more lines of aligned columns (a before/after table) fenced from
  its first row on. BIND's "[placeholder]" entries (numbers reserved, never written) and Kea's legend are dropped;
- HTML: build_debdocs_corpus.py's converter (imported, not copied): Sphinx pages (Kea, BIND) by
  build_numdocs_corpus's `sphinx_markdown` (role="main", without permalinks and the previous/next bar); Erlang's
  pages from their id="content" element, without the footer and the heading links (the left navigation with its
  list of every version is outside it); Doxygen pages (GeographicLib) from id="doc-content", without the navigation
  path and footer (Doxygen's double-escaped &nbsp; made a no-break space; the LaTeX of MathJax formulas stays as
  written); DocBook pages (Wireshark) by `docbook_to_markdown`. BIND's changelog page: its releases since 9.18.29
  as Sphinx wrote them, its older ones (one literal block a release) as plain text above.
Skipped: index, search and 404 pages.

Rules, as for the fifth to eighth sets: sections are cut by bench/build_coherent_corpus.py's rules (150-600 words,
at headings, then blank lines, never inside a fence; fences of over 500 words split first) and get its shapes; its
near-duplicate filter drops anything sharing over half its 6-word shingles with a section of the older coherent
sets or one kept before. At most 6 sections per document. Numbers-heavy sections are taken first (documents in the
order of a hash of their name, up to the cap per document), at most 400 a package, then tables, at most 20 a
package; then the other shapes, one section per document and round, each document's sections with the largest
share of words holding a digit first, until the package has 120 sections counting the numbers-heavy ones
(build_numprose_corpus.select, imported: the eighth set's caps and order). Split by a hash of the source
document (`split_of(doc)`): calibration 50%, held-out 25%, reserve 25%.
Every item carries `batch: "numbers-9"`; `source` is `debian-<package>`.
The .deb files are kept in --cache/debs/ and unpacked in --cache/root/<package>/, so a rebuild reads the same
files without the network; the gzip header holds no time stamp, so a rebuild gives the same bytes.
Usage: python bench/build_numbers9_corpus.py [--cache DIR] [--out FILE] [--dump DIR]"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from build_debdocs_corpus import _dedent_code, build, docbook_to_markdown, licence_of, unpacked
from build_debprose_corpus import _split_at, write_corpus
from build_numdocs_corpus import page_markdown, sphinx_markdown
from build_numprose_corpus import select  # the eighth set's caps and order: numbers-heavy first

PACKAGES = {"tzdata": ("2026f-0+deb12u1", "all"), "erlang-doc": ("1:25.2.3+dfsg-1+deb12u4", "all"),
            "kea-doc": ("2.2.0-6", "all"), "bind9-doc": ("1:9.18.49-1~deb12u3", "all"),
            "wireshark-doc": ("4.0.17-0+deb12u3", "all"),
            "geographiclib-doc": ("2.1.2-1", "all")}
LICENCES: dict[str, str] = {}
BATCH = "numbers-9"
SKIP = {"index.html", "genindex.html", "search.html", "404.html"}


# -- plain text: the tz database's NEWS, Kea's ChangeLog ---------------------------------------------
_COLUMNS = re.compile(r"[^\s.?!:;)] {2,}\S|\S\t+\S")  # aligned columns (not the two spaces after a sentence)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _text_block(block: list[str]) -> list[str]:
    """A block of indented plain text as Markdown blocks: aligned columns as fenced code; otherwise paragraphs
    (dedented, line breaks kept) and `-`/`*` items as `- ` items, nested by their indentation."""
    columns = [n for n, line in enumerate(block) if len(_COLUMNS.findall(line.strip())) >= 2]
    if len(columns) >= 2:  # a table: fenced from its first row (or the indented line before it) on
        start = columns[0] - 1 if columns[0] and _indent(block[columns[0] - 1]) > _indent(block[0]) else columns[0]
        return [*_text_block(block[:start]), "\n".join(_dedent_code(block[start:]))] if start else \
            ["\n".join(_dedent_code(block))]
    base = min(_indent(line) for line in block)
    out: list[str] = []
    for line in block:
        text, depth = line.strip(), (_indent(line) - base) // 2
        item = re.match(r"^[-*] +(\S.*)$", text)
        if item:
            out.append("  " * min(depth, 2) + "- " + item.group(1))
        elif out and re.match(r"^ *- ", out[-1].split("\n")[-1]) and _indent(line) > base:
            out[-1] += "\n" + "  " * min(depth, 2) + text  # an item's next line
        elif out and not re.match(r"^ *- ", out[-1].split("\n")[-1]):
            out[-1] += "\n" + text
        else:
            out.append(text)
    return ["\n".join(out)]


def _blocks_of(text: str) -> list[list[str]]:
    blocks, current = [], []
    for line in text.expandtabs(8).split("\n") + [""]:
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    return blocks


def tz_news(text: str) -> list[tuple[str, str]]:
    """(release, Markdown) for each release of the tz database's NEWS: "Release 2026f - date" as ##, a lone
    two-space-indented line ("Changes to future timestamps", "Briefly:") as ###, the lines under "Briefly:"
    as items, the rest as _text_block does."""
    releases: list[tuple[str, list[str]]] = []
    for block in _blocks_of(text):
        head = block[0]
        if head.startswith("Release "):
            releases.append((head.split()[1], ["## " + head.strip()]))
            block = block[1:]
        if not releases or not block:
            continue  # the title, "News for the tz database"
        out = releases[-1][1]
        if _indent(block[0]) <= 2 and re.match(r"^ *(Briefly:|Changes\b)", block[0]) and (
                len(block) == 1 or _indent(block[1]) > _indent(block[0])):
            out.append("### " + block[0].strip())
            rest = block[1:]
            if rest and block[0].strip() == "Briefly:":
                out.append("\n".join("- " + line.strip() for line in rest))
                continue
            block = rest
        if block:
            out.extend(_text_block(block))
    return [(name, "\n\n".join(parts) + "\n") for name, parts in releases]


def isc_changelog(text: str) -> list[tuple[str, str]]:
    """(release, Markdown) for each release of an ISC ChangeLog (Kea's): "Kea 2.2.0 (stable) released on
    July 27, 2022" as ##; each entry ("2045.<tab>[build]<tab><tab>tmark" then its tab-indented text) as a
    line "2045. [build] tmark" followed by its text, dedented (line breaks kept; aligned columns fenced).
    The legend after the oldest release is dropped."""
    releases: list[tuple[str, list[str]]] = []
    for block in _blocks_of(text):
        head = block[0]
        release = re.match(r"^(\S.*) released on |^ *--- (\S+) released ---$", head)
        if release:
            name = release.group(1) or release.group(2)
            releases.append((name, ["## " + (head.strip() if release.group(1) else f"{name} released")]))
            block = block[1:]
        if not releases or not block or head.startswith(("For complete code", "LEGEND", "[", "*:")):
            continue
        if re.fullmatch(r"\d+\.\s+\[placeholder\]", block[0]):
            continue  # a number reserved for an entry never written
        entry = re.match(r"^(\d+\.)\s+(\[[^\]]+\])\s+(.*)$", block[0])
        out = releases[-1][1]
        if entry:
            body = _text_block(block[1:]) if block[1:] else []
            out.append("\n".join([f"{entry.group(1)} {entry.group(2)} {entry.group(3)}".strip(), *body]))
        else:
            out.extend(_text_block(block))
    return [(name, "\n\n".join(parts) + "\n") for name, parts in releases if len(parts) > 1]


def bind_changelog(markdown: str) -> list[tuple[str, str]]:
    """(release, Markdown) for each release of BIND 9's changelog page: the releases since 9.18.29 (## BIND
    9.18.49 ...) as Sphinx wrote them; the older ones, a plain ISC ChangeLog in one literal block a release
    ("--- 9.18.28 released ---" then its entries), as isc_changelog does."""
    new, old = [], []
    for number, piece in enumerate(re.split(r"(?ms)^```[^\n]*\n(.*?)^```$", markdown)):
        if number % 2 and re.search(r"(?m)^ *--- \S+ released ---$", piece):
            old.append(piece)
        else:
            new.append(f"```\n{piece}```" if number % 2 else piece)
    releases = [(part.split("\n")[0].removeprefix("## ").strip(), part)
                for part in _split_at("".join(new), r"(?m)^(?=## )") if part.startswith("## ")]
    return releases + isc_changelog("\n\n".join(old))


# -- HTML -----------------------------------------------------------------------------------------
def erlang_markdown(page: str) -> str:
    """An Erlang/OTP documentation page: its id="content" element, without the footer and the heading links."""
    return page_markdown(page, lambda n: n.attrs.get("id") == "content",
                         lambda n: bool(n.classes & {"footer", "title-anchors"}))


def doxygen_markdown(page: str) -> str:
    """A Doxygen page (GeographicLib): its id="doc-content" element, without the navigation path and footer."""
    return page_markdown(page.replace("&amp;nbsp;", "&#160;"), lambda n: n.attrs.get("id") == "doc-content",
                         lambda n: n.attrs.get("id") in ("nav-path", "MSearchSelectWindow", "MSearchResultsWindow")
                         or bool(n.classes & {"navpath", "footer", "ttc"}))


def grouped(parts: list[tuple[str, str]], key) -> list[tuple[str, str]]:
    """The (name, text) parts with the same key(name) joined, in order, into one document (key, text)."""
    out: dict[str, list[str]] = {}
    for name, text in parts:
        out.setdefault(key(name), []).append(text)
    return [(name, "\n".join(texts)) for name, texts in out.items()]


def tz_year(release: str) -> str:
    """The year of a tz release: 2026f -> 2026, code95e -> 1995, 93g -> 1993."""
    digits = re.search(r"\d+", release).group(0)  # type: ignore[union-attr]
    return digits if len(digits) == 4 else "19" + digits


def otp_series(version: str) -> str:
    """An Erlang/OTP application's release series: 10.8.7 -> 10.8."""
    return ".".join(version.split(".")[:2])


# -- documents ------------------------------------------------------------------------------------
def _read(path: Path) -> str:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", "replace")


def documents(cache: Path):
    """(package, doc, licence, Markdown text) for every document read."""
    for package, (version, arch) in PACKAGES.items():
        root = unpacked(package, version, cache, arch)
        licence = LICENCES.get(package) or licence_of(root, package)
        if package == "tzdata":
            for year, text in grouped(tz_news(_read(root / "usr/share/doc/tzdata/changelog.gz")), tz_year):
                yield package, f"deb:{package}:NEWS:{year}", licence, text
        elif package == "erlang-doc":
            folder = root / "usr/share/doc/erlang-doc"
            for path in sorted(folder.rglob("notes.html")):
                name = str(path.relative_to(folder))
                parts = _split_at(erlang_markdown(path.read_text(errors="replace")), r"(?m)^(?=### )")[1:]  # [0]: the title
                for series, text in grouped([(part.split("\n")[0].split()[-1], part) for part in parts], otp_series):
                    yield package, f"deb:{package}:{name}:{series}", licence, text
        elif package == "kea-doc":
            for release, text in isc_changelog(_read(root / "usr/share/doc/kea-doc/changelog.gz")):
                yield package, f"deb:{package}:ChangeLog:{release}", licence, text
            folder = root / "usr/share/doc/kea/html"
            for path in sorted((folder / "arm").glob("*.html")):
                for number, part in enumerate(_split_at(sphinx_markdown(path.read_text(errors="replace")), r"(?m)^(?=## )")):
                    yield package, f"deb:{package}:{path.relative_to(folder)}:{number}", licence, part
        elif package == "bind9-doc":
            folder = root / "usr/share/doc/bind9-doc/arm"
            for release, text in bind_changelog(sphinx_markdown(_read(folder / "changelog.html.gz"))):
                yield package, f"deb:{package}:changelog:{release}", licence, text
            for path in sorted(folder.glob("*.html")):
                if path.name in SKIP:
                    continue
                for number, part in enumerate(_split_at(sphinx_markdown(path.read_text(errors="replace")), r"(?m)^(?=## )")):
                    yield package, f"deb:{package}:{path.name}:{number}", licence, part
        elif package == "wireshark-doc":
            folder = root / "usr/share/doc/wireshark"
            for guide in ("wsug_html_chunked", "wsdg_html_chunked"):
                for path in sorted((folder / guide).glob("*.html")):
                    if path.name not in SKIP:
                        yield package, f"deb:{package}:{guide}/{path.name}", licence, \
                            docbook_to_markdown(path.read_text(errors="replace"))
        elif package == "geographiclib-doc":
            folder = root / "usr/share/doc/geographiclib/html"
            for path in sorted(folder.glob("*.html")):
                if path.name in SKIP or re.match(r"(class|namespace|struct|dir_|files|globals|functions|hierarchy|"
                                                 r"annotated|pages|.*_8[ch]|.*series\d+)", path.name):
                    continue
                yield package, f"deb:{package}:{path.name}", licence, doxygen_markdown(path.read_text(errors="replace"))


if __name__ == "__main__":
    build("numbers9", BATCH, documents, select, write_corpus)
