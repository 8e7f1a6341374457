"""Build bench/corpus/coherent_numprose.jsonl.gz: coherent sections of numbers-heavy prose from Debian documentation.

An eighth coherent set, built blind (the detector was never run on it), aimed at the rarest shape, `numbers`
(12%+ of the words hold a digit, not mostly code, tables or lists): explanatory prose dense with figures -
option values and defaults, rates, sizes, frequencies, offsets in milliseconds, voltages, dates, unit
conversions. The sources are five Debian 12 (bookworm) main packages that no other set uses and that are not
installed on the build machine, fetched with `apt-get download PKG=VERSION` (versions pinned in PACKAGES) and
unpacked with `dpkg-deb -x` (bench/build_debdocs_corpus.py's `unpacked`):
- ffmpeg-doc 7:5.1.9-0+deb12u1 (GPL-3+: the Debian copyright file's note on the HTML manual, made with the
  GPL-3+ t2h.pm): the FFmpeg manual (usr/share/doc/ffmpeg/manual/*.html, Texinfo HTML): ffmpeg, ffplay,
  ffprobe, the filters, codecs, formats, protocols, devices, bitstream filters, resampler, scaler and
  utilities manuals, the FAQ, general, platform and NUT pages; not the *-all pages (the same text again), the
  developer, git, FATE and mailing-list pages, the one-paragraph library pages, nor the Doxygen API reference;
- ntpsec-doc 1.2.2+dfsg1-1+deb12u1 (its `Files: *` licence): the NTPsec HTML documentation (AsciiDoc HTML:
  the daemon, its options, the reference clock drivers, the clock discipline, ...);
- nut-doc 2.8.0-7 (GPL-2+, as its copyright file, which has no `Files: *` stanza, states): the Network UPS
  Tools user manual, FAQ, developer guide, packager guide and cables pages (DocBook HTML, chunked);
- units 2.22-2 (GPL-3+): the GNU units manual (usr/share/info/units.info.gz), each Info node a document;
- smartmontools 7.3-1+b1 (its `Files: *` licence): the Bad Block HOWTO (badblockhowto.html, DocBook HTML),
  each ## section a document;
Looked at but not used: chrony 4.3-2+deb12u3 (its FAQ ships only as text rendered from AsciiDoc with tables of
  contents and `?` bullets, which the converters here do not read).
The licence is the `Files: *` stanza's of each package's Debian copyright file (build_debdocs_corpus's
`licence_of`), or the one stated in LICENCES; recorded per item.

Conversion to Markdown by build_debdocs_corpus.py's HTML converter (imported, not copied), on the part of
each page a reader sees as text:
- Texinfo HTML (FFmpeg): build_debprose_corpus's TEXINFO settings (navigation, tables of contents and the
  index dropped) and the "Top" links (pull-right) dropped; samp quotes around code removed; each page cut into
  documents at its ## and ### headings (a chapter's or a filter's section: ffmpeg-filters.html alone has 483);
- AsciiDoc HTML (NTPsec): the element with id="content" (the header, the footer and the table of contents
  dropped); each page a document;
- DocBook HTML (NUT, smartmontools): build_debdocs_corpus's `docbook_to_markdown` (navigation headers and
  footers, tables of contents dropped); NUT's pages are each a document, the Bad Block HOWTO is cut at ##;
- Info (units): build_debprose_corpus's `info_nodes`.
Skipped: index, table-of-contents, 404, copyright/licence and bug-report pages.

Rules, as for the fifth to seventh sets: sections are cut by bench/build_coherent_corpus.py's rules (150-600
words, at headings, then blank lines, never inside a fence; fences of over 500 words split first) and get its
shapes; its near-duplicate filter drops anything sharing over half its 6-word shingles with a section of the
older coherent sets or one kept before. At most 6 sections per document. Numbers-heavy sections are taken
first (documents in the order of a hash of their name, up to the cap per document), at most 400 a package,
then tables, at most 20 a package (PREFERRED); then the other shapes, one section per document and round, each
document's sections with the largest share of words holding a digit first, until the package has 120 sections
(SECTIONS_PER_PACKAGE) counting the numbers-heavy ones, so that the set is mostly numbers-heavy. Split by a
hash of the source document (`split_of(doc)`): calibration 50%, held-out 25%, reserve 25%. Every item carries
`batch: "numbers-prose"`; `source` is `debian-<package>`.
The .deb files are kept in --cache/debs/ and unpacked in --cache/root/<package>/, so a rebuild reads the same
files without the network; the gzip header holds no time stamp, so a rebuild gives the same bytes.
Usage: python bench/build_numprose_corpus.py [--cache DIR] [--out FILE] [--dump DIR]"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from build_coherent_corpus import NearDuplicates
from build_debdocs_corpus import build, docbook_to_markdown, licence_of, pick, unpacked
from build_debprose_corpus import TEXINFO, _split_at, html_markdown, info_nodes, write_corpus
from build_numdocs_corpus import digit_share

PACKAGES = {"ffmpeg-doc": ("7:5.1.9-0+deb12u1", "all"), "ntpsec-doc": ("1.2.2+dfsg1-1+deb12u1", "all"),
            "nut-doc": ("2.8.0-7", "all"), "units": ("2.22-2", "amd64"), "smartmontools": ("7.3-1+b1", "amd64")}
LICENCES = {"ffmpeg-doc": "GPL-3+ (the HTML manual, as its copyright file states)",
            "nut-doc": "GPL-2+"}  # nut-doc's copyright file has no `Files: *` stanza
SECTIONS_PER_PACKAGE = 120
PREFERRED = {"numbers": 400, "table": 20}  # at most this many sections of these shapes a package, taken first
BATCH = "numbers-prose"
FFMPEG_PAGES = ("ffmpeg", "ffplay", "ffprobe", "ffmpeg-filters", "ffmpeg-codecs", "ffmpeg-formats", "ffmpeg-protocols",
                "ffmpeg-devices", "ffmpeg-bitstream-filters", "ffmpeg-resampler", "ffmpeg-scaler", "ffmpeg-utils",
                "faq", "general", "platform", "nut")
SKIP = {"index.html", "404.html", "copyright.html", "bugs.html", "comdex.html", "sitemap.html", "pagesdir.html"}
FFMPEG = {**TEXINFO, "drop_classes": TEXINFO["drop_classes"] | {"pull-right"}}
ASCIIDOC = {"root": "body", "drop_ids": frozenset({"header", "footer", "toc", "footnotes"})}


def documents(cache: Path):
    """(package, doc, licence, Markdown text) for every document read."""
    for package, (version, arch) in PACKAGES.items():
        root = unpacked(package, version, cache, arch)
        licence = LICENCES.get(package) or licence_of(root, package)
        if package == "ffmpeg-doc":
            folder = root / "usr/share/doc/ffmpeg/manual"
            for page in FFMPEG_PAGES:
                text = html_markdown((folder / f"{page}.html").read_text(errors="replace"), **FFMPEG)
                text = re.sub(r"‘(`[^`\n]+`)’", r"\1", text)
                for number, part in enumerate(_split_at(text, r"(?m)^(?=###? )")):
                    yield package, f"deb:{package}:{page}.html:{number}", licence, part
        elif package == "ntpsec-doc":
            for path in sorted((root / "usr/share/doc/ntpsec-doc/html").glob("*.html")):
                if path.name not in SKIP:
                    yield package, f"deb:{package}:{path.name}", licence, html_markdown(path.read_text(errors="replace"),
                                                                                        **ASCIIDOC)
        elif package == "nut-doc":
            folder = root / "usr/share/doc/nut-doc/html"
            for path in sorted(folder.rglob("*.html")):
                if path.name not in SKIP:
                    name = str(path.relative_to(folder))
                    yield package, f"deb:{package}:{name}", licence, docbook_to_markdown(path.read_text(errors="replace"))
        elif package == "units":
            info = gzip.decompress((root / "usr/share/info/units.info.gz").read_bytes()).decode("utf-8", "replace")
            for node, text in info_nodes(info):
                yield package, f"deb:{package}:units.info:{node}", licence, text
        elif package == "smartmontools":
            page = (root / "usr/share/doc/smartmontools/badblockhowto.html").read_text(errors="replace")
            for number, part in enumerate(_split_at(docbook_to_markdown(page), r"(?m)^(?=## )")):
                yield package, f"deb:{package}:badblockhowto.html:{number}", licence, part


def select(docs: list, unique: NearDuplicates) -> dict[str, list[int]]:
    """The sections kept of each document of one package: numbers-heavy, then table sections first (at most
    PREFERRED's counts), then the other shapes, one section per document and round (its sections with the most
    figures first), up to SECTIONS_PER_PACKAGE."""
    return pick(docs, unique, SECTIONS_PER_PACKAGE, PREFERRED, first=lambda sections, n: (-digit_share(sections[n]), n))


if __name__ == "__main__":
    build("numprose", BATCH, documents, select, write_corpus)
