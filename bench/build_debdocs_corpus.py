"""Build bench/corpus/coherent_debdocs.jsonl.gz: coherent sections of Debian documentation packages.

A fifth coherent set, built blind (the detector was never tuned on it), of real technical text nobody on
this project wrote, from Debian 12 (bookworm) documentation packages that are not installed on the build
machine, chosen for the text closest to a technical blog post: release notes with version numbers, FAQs,
tutorials and HOWTOs with commands and code, tables. Each package is fetched with `apt-get download
PKG=VERSION` (the versions are pinned in PACKAGES) and unpacked with `dpkg-deb -x`:
- perl-doc 5.36.0 (licence GPL-1+ or Artistic): the POD pages of /usr/share/perl/5.36.0/pod/: the
  perl5*delta release notes, perlfaq1-9, the tutorials (perlretut, perlootut, perlpacktut, perlperf,
  perlsec, ...) and the reference pages;
- git-doc 2.39.5 (GPL-2): the AsciiDoc sources (*.txt) of /usr/share/doc/git-doc/: the user manual, gitfaq,
  the tutorials, howto/*, technical/* and the git-*(1) manual pages (git's own release notes are in the
  `git` package, which is installed here and partly in coherent_real.jsonl.gz: not used);
- nodejs-doc 18.20.4 (Expat): the Markdown API documentation of Node.js, /usr/share/doc/nodejs/api/*.md;
- debian-reference-en 2.100 (GPL-2+): the Debian Reference (DocBook HTML, one page a chapter), each
  section (n.m) of a chapter one document: commands, and tables of packages with popcon and size figures;
- postgresql-doc-15 15.20 (PostgreSQL): the PostgreSQL 15 manual (DocBook HTML, one page a section):
  tutorial, performance tips, release notes, reference pages, tables of types, functions and settings;
- sqlite3-doc 3.40.1 (public-domain): the SQLite documentation (hand-written HTML) and its release logs.
The licence is the `Files: *` stanza's of each package's /usr/share/doc/<pkg>/copyright, recorded per item.

Conversion to the Markdown a draft is written in, by this script (nothing needs installing):
- POD: =head1-4 as #-####, verbatim paragraphs (consecutive ones merged) as fenced code blocks, `=item *`
  and `=item 1.` as list items holding their first paragraph (tight lists), other `=item TEXT` as a bold
  line, C<> and F<> as `code`, B<> as **bold**, I<> as *italic*, E<> as the character, L<> as perldoc shows
  it (`"open" in perlfunc`; a URL as [text](url)); X<>, Z<>, =for, =begin/=end and =encoding dropped;
- AsciiDoc: titles (underlined or `== x`) as #-#####, listing and literal blocks (`----`, `....`, an
  indented paragraph) and [verse] synopses as fenced code, labelled lists (`term::`) as a bold term line
  then its text, `*`/`.` lists as `-`/`1.` items, `|===` tables as Markdown tables, NOTE: as **Note:**,
  linkgit:git-x[1] as git-x(1), link:x[text] as text, a URL with text as [text](url), <<id>> as the
  title it points at, attribute references ({litdd} as --, ...) resolved; comments, include::,
  ifdef::/endif::, attribute entries, anchors, block attributes, passthrough blocks and the e-mail header
  of a few howtos dropped;
- Markdown (Node.js): bench/build_npm_corpus.py's draft_like (HTML comments such as `<!-- YAML added:
  v8.3.0 -->`, HTML lines, badges and images dropped); reference-style links `[text][]`/`[text][ref]`
  made inline [text](url) and the link definitions at the end of each page dropped;
- HTML (DocBook's and SQLite's): h1-h6 as #-######, p as a paragraph (its line breaks kept), pre as a
  fenced code block, ul/ol as lists, dl as a bold term line then its text, tables as Markdown tables
  (PostgreSQL's one-column function tables as a bold title and a list), note/tip/warning/caution boxes
  as **Note:** ... , code as `code`, em as *italic*, strong as **bold**, sup as ^x, links as their text;
  navigation, tables of contents, index terms, images, SVG syntax diagrams, forms, SQLite's site menu
  and its "This page last modified" footer dropped.
Generated pages are skipped: perltoc, perlmodlib, perluniprops (tables made by mktables); git's
cmds-*.txt, howto-index.txt, technical/api-index*.txt; PostgreSQL's keyword, error-code and SQL-feature
tables (made by scripts from data files); SQLite's indexes, cross-reference and requirements pages, and its
changes.html (the release logs again, in one page: the per-release pages are read).

Rules, as for the other sets: sections are cut by bench/build_coherent_corpus.py's rules (150-600 words, at
headings, then blank lines, never inside a fence) and get its shapes; its near-duplicate filter drops
anything sharing over half its 6-word shingles with a section of the older coherent sets or one kept
before. At most 6 sections per document. Table and numbers sections (the rarest shapes) are taken first,
all of them up to that cap; then the other shapes, one section per document and round (documents in the
order of a hash of their name, each document's sections in order), until the package has 330 sections,
so that a package of 1,000 pages (PostgreSQL, SQLite) weighs as much as one of 60 (Node.js) and many of
its pages contribute. Split by a hash of the source document (`split_of(doc)`): calibration 50%, held-out
25%, reserve 25%. Every item carries `batch: "debian-docs"`; `source` is `debian-<package>`. The .deb
files are kept in --cache/debs/ and unpacked in --cache/root/<package>/, so a rebuild reads the same files
without the network (the pinned versions may leave the archive; a cache keeps them).
Usage: python bench/build_debdocs_corpus.py [--cache DIR] [--out FILE] [--dump DIR]"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import re
import subprocess
import textwrap
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from build_coherent_corpus import ROOT, NearDuplicates, sections_of, shape_of, split_of, write_corpus
from build_npm_corpus import draft_like
from collapse import coherent_items

PACKAGES = {"perl-doc": "5.36.0-7+deb12u4", "git-doc": "1:2.39.5-0+deb12u3", "nodejs-doc": "18.20.4+dfsg-1~deb12u3",
            "debian-reference-en": "2.100", "postgresql-doc-15": "15.20-0+deb12u1", "sqlite3-doc": "3.40.1-2+deb12u2"}
SECTIONS_PER_DOC = 6
SECTIONS_PER_PACKAGE = 330  # the other shapes fill a package up to this, after its tables and numbers
PREFERRED_SHAPES = ("table", "numbers")
BATCH = "debian-docs"
SKIP = {"perltoc.pod", "perlmodlib.pod", "perluniprops.pod", "howto-index.txt", "api-index.txt", "api-index-skel.txt",
        "index.html", "bookindex.html", "legalnotice.html", "keyword_index.html", "sitemap.html", "toc.html",
        "docs.html", "capi3ref.html", "changes.html", "chronology.html", "oldnews.html", "news.html",
        "requirements.html", "sql-keywords-appendix.html", "errcodes-appendix.html", "features-sql-standard.html",
        "unsupported-features-sql-standard.html"}


# -- packages ---------------------------------------------------------------------------------
def unpacked(package: str, version: str, cache: Path, arch: str = "all") -> Path:
    """The package's files, unpacked under cache/root/<package>/ (downloaded into cache/debs/ once)."""
    debs, root = cache / "debs", cache / "root" / package
    debs.mkdir(parents=True, exist_ok=True)
    name = f"{package}_{version.replace(':', '%3a')}_{arch}.deb"
    if not (debs / name).exists():
        subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=debs, check=True)
    if not root.exists():
        partial = root.with_name(root.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        subprocess.run(["dpkg-deb", "-x", str(debs / name), str(partial)], check=True)
        partial.rename(root)
    return root


def licence_of(root: Path, package: str) -> str:
    """The licence of the `Files: *` stanza of the package's Debian copyright file."""
    text = (root / "usr/share/doc" / package / "copyright").read_text(errors="replace")
    for stanza in re.split(r"\n\s*\n", text):
        if re.search(r"(?m)^Files: *\*\s*$", stanza):
            found = re.search(r"(?m)^License: *(\S.*)$", stanza)
            if found:
                return found.group(1).strip()
    raise ValueError(f"no `Files: *` licence in {package}'s copyright")


# -- POD ----------------------------------------------------------------------------------------
_POD_CODES = set("IBCLEFSXZ")
_ITEM = re.compile(r"^ *(- |\d+\. )")  # a list item as pod_to_markdown writes it


def _pod_entity(name: str) -> str:
    named = {"lt": "<", "gt": ">", "verbar": "|", "sol": "/"}
    if name in named:
        return named[name]
    if re.fullmatch(r"0x[0-9a-fA-F]+", name):
        return chr(int(name, 16))
    if re.fullmatch(r"0[0-7]*", name):
        return chr(int(name, 8)) if name != "0" else ""
    if name.isdigit():
        return chr(int(name))
    found = html.unescape(f"&{name};")
    return found if found != f"&{name};" else name


def _pod_parse(text: str, i: int, close: str | None, in_code: bool) -> tuple[str, str, int]:
    """Parse formatting codes from text[i:] up to `close` ('>' or a run of >'s after whitespace, None: to
    the end); returns (rendered, raw, index after the closing brackets)."""
    out: list[str] = []
    start = i
    while i < len(text):
        if close == ">" and text[i] == ">":
            return "".join(out), text[start:i], i + 1
        if close and close != ">":
            found = re.compile(r"\s+" + re.escape(close)).match(text, i)
            if found:
                return "".join(out), text[start:i], found.end()
        opener = re.compile(r"([A-Z])<(?:(<+)(\s+))?").match(text, i)
        if opener and opener.group(1) in _POD_CODES:
            letter = opener.group(1)
            inner_close = ">" if not opener.group(2) else ">" * (len(opener.group(2)) + 1)
            rendered, raw, i = _pod_parse(text, opener.end(), inner_close, in_code or letter in "CF")
            out.append(_pod_render(letter, rendered, raw, in_code))
            continue
        out.append(text[i])
        i += 1
    return "".join(out), text[start:i], i


def _pod_link(raw: str) -> str:
    label, _, target = raw.partition("|") if "|" in raw else ("", "", raw)
    label, target = pod_inline(label).strip(), target.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*:[^:\s]\S*$", target):  # a URL
        return f"[{label}]({target})" if label else target
    if label:
        return label
    name, slash, section = target.partition("/")
    if not slash and target.startswith('"'):
        name, section = "", target
    section = pod_inline(section.strip().strip('"'))
    name = pod_inline(name.strip())
    if section and name:
        return f'"{section}" in {name}'
    return f'"{section}"' if section else name


def _pod_render(letter: str, rendered: str, raw: str, in_code: bool) -> str:
    if letter in "XZ":
        return ""
    if letter == "E":
        return _pod_entity(raw.strip())
    if letter == "S":
        return rendered
    if letter == "L":
        return _pod_link(raw)
    if in_code:
        return rendered
    if letter in "CF":
        tick = "``" if "`" in rendered else "`"
        pad = " " if tick == "``" else ""
        return f"{tick}{pad}{rendered}{pad}{tick}" if rendered.strip() else rendered
    mark = "**" if letter == "B" else "*"
    return f"{mark}{rendered}{mark}" if rendered.strip() else rendered


def pod_inline(text: str) -> str:
    return _pod_parse(text, 0, None, False)[0]


def _bold(text: str) -> str:
    return text if "**" in text else f"**{text}**"


def _dedent_code(lines: list[str]) -> list[str]:
    body = textwrap.dedent("\n".join(line.expandtabs(8) for line in lines)).strip("\n").split("\n")
    return ["```", *[line.rstrip() for line in body], "```"]


def pod_to_markdown(pod: str) -> str:
    paragraphs = [p.strip("\n") for p in re.split(r"\n(?:[ \t]*\n)+", pod.replace("\r\n", "\n"))]
    out: list[str] = []
    lists: list[str] = []  # open =over blocks: "bullet", "number", "text", "" (no item yet)
    in_pod, skipping, verbatim, marker = False, None, [], None

    def flush_verbatim():
        nonlocal verbatim
        if verbatim:
            out.append("\n".join(_dedent_code("\n\n".join(verbatim).split("\n"))))
            verbatim = []

    for paragraph in paragraphs:
        if not paragraph.strip():
            continue
        command = re.match(r"^=(\w+)\s*(.*)$", paragraph, re.S)
        if command:
            name, rest = command.group(1), command.group(2).strip()
            in_pod = name != "cut"
            if skipping:
                if name == "end" and rest.split()[:1] == [skipping]:
                    skipping = None
                continue
            flush_verbatim()
            if name.startswith("head") and name[4:].isdigit():
                out.append("#" * int(name[4:]) + " " + " ".join(pod_inline(rest).split()))
            elif name == "over":
                lists.append("")
            elif name == "back" and lists:
                lists.pop()
            elif name == "item":
                kind = "bullet" if rest.startswith("*") else "number" if re.match(r"^\d+\.?(\s|$)", rest) else "text"
                if lists:
                    lists[-1] = kind
                indent = "  " * max(len([x for x in lists if x in ("bullet", "number")]) - 1, 0)
                if kind == "bullet":
                    marker, text = indent + "- ", rest[1:].strip()
                elif kind == "number":
                    number = re.match(r"^(\d+)", rest).group(1)
                    marker, text = f"{indent}{number}. ", re.sub(r"^\d+\.?\s*", "", rest)
                else:
                    marker, text = None, rest
                    out.append(_bold(" ".join(pod_inline(text).split())))
                    continue
                if text:
                    out.append(marker + pod_inline(text))
                    marker = None
            elif name == "begin":
                skipping = rest.split()[0] if rest else "?"
            # =for, =encoding, =pod, =cut and anything else: dropped
            continue
        if not in_pod or skipping:
            continue
        if paragraph[:1] in (" ", "\t"):
            verbatim.append(paragraph)
            continue
        flush_verbatim()
        text = pod_inline(paragraph.rstrip())
        if marker is not None:
            text = marker + text
            marker = None
        out.append(text)
    flush_verbatim()
    joined = ""
    for number, paragraph in enumerate(out):
        tight = number and _ITEM.match(paragraph) and _ITEM.match(out[number - 1].split("\n")[0])
        joined += ("\n" if tight else "\n\n") + paragraph
    return joined.strip() + "\n"


# -- AsciiDoc -----------------------------------------------------------------------------------
_ADOC_LEVEL = {"=": 1, "-": 2, "~": 3, "^": 4, "+": 5}
_ADOC_UNDERLINE = re.compile(r"^([=\-~^+])\1+\s*$")
_ADOC_DELIMITER = re.compile(r"^(-{4,}|\.{4,}|={4,}|\*{4,}|_{4,}|\+{4,}|/{4,})\s*$")
_ADOC_ONE_LINE_TITLE = re.compile(r"^(={1,5}) +(\S.*?)(?: +=+)?\s*$")
_ADOC_SKIP_LINE = re.compile(r"^(include|ifdef|ifndef|ifeval|endif)::.*$|^:[\w-]+!?:.*$|^//.*$|^\[\[[^\]]*\]\]\s*$")
_ADOC_ATTRIBUTE = re.compile(r"^\[([^\[\]]*)\]\s*$")
_ADOC_LABEL = re.compile(r"^(\s*)(\S.*?)(:{2,4}|;;)(?:\s+(\S.*))?\s*$")
_ADOC_LIST = re.compile(r"^\s*(\*{1,5}|-|\.{1,5}|\d+\.)\s+(\S.*)$")
_ADOC_ADMONITION = re.compile(r"^(NOTE|TIP|IMPORTANT|WARNING|CAUTION):\s+")
_ADOC_HEADER = re.compile(r"^(Date|From|Subject|Abstract|Content-type|Message-ID|To|Cc|In-Reply-To|References):")
_ADOC_ATTRIBUTES = {"litdd": "--", "tilde": "~", "caret": "^", "asterisk": "*", "plus": "+", "empty": "",
                    "sp": " ", "nbsp": " ", "apostrophe": "'", "startsb": "[", "endsb": "]", "backslash": "\\",
                    "vbar": "|", "amp": "&", "lt": "<", "gt": ">", "two-colons": "::", "two-semicolons": ";;",
                    "cpp": "C++", "backtick": "`"}


def adoc_attributes(line: str) -> str:
    return re.sub(r"\{([\w-]+)\}", lambda m: _ADOC_ATTRIBUTES.get(m.group(1), m.group(0)), line)


def adoc_inline(line: str, titles: dict[str, str] | None = None) -> str:
    """AsciiDoc inline markup as Markdown; `titles`: anchor id -> the title it marks, for <<id>> links."""
    titles = titles or {}
    line = adoc_attributes(line)
    line = re.sub(r"\[\[[^\[\]]+\]\]", "", line)  # an inline anchor
    line = re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), line)
    line = re.sub(r"linkgit:([\w.-]+)\[(\d)\]", r"\1(\2)", line)
    line = re.sub(r"link:([^\[\s]+)\[([^\]]*)\]", lambda m: m.group(2) or m.group(1), line)
    line = re.sub(r"((?:https?|ftp|mailto):[^\s\[\]]+)\[([^\]]*)\]",
                  lambda m: f"[{m.group(2)}]({m.group(1)})" if m.group(2) else m.group(1), line)
    line = re.sub(r"<<([^,>]+),\s*([^>]+)>>", r"\2", line)
    line = re.sub(r"<<([^>]+)>>", lambda m: titles.get(m.group(1), m.group(1).replace("-", " ")), line)
    line = re.sub(r"\(\(\((.*?)\)\)\)", "", line)
    line = re.sub(r"\(\((.*?)\)\)", r"\1", line)
    line = re.sub(r"indexterm2?:\[[^\]]*\]", "", line)
    line = re.sub(r"pass:\w*\[(.*?)\]", r"\1", line)
    line = re.sub(r"\+\+\+(.*?)\+\+\+", r"\1", line)
    return re.sub(r"\s\+$", "", line)  # a hard line break


def _adoc_table(lines: list[str], attribute: str) -> list[str]:
    cells = [cell.strip() for line in lines for cell in line.split("|")[1:]]
    columns = re.search(r'cols="([^"]*)"', attribute)
    width = len(columns.group(1).split(",")) if columns else len(lines[0].split("|")) - 1 if lines else 0
    if width < 1 or not cells or len(cells) % width:
        return list(lines)
    rows = [cells[i:i + width] for i in range(0, len(cells), width)]
    right = [c.strip().startswith(">") for c in columns.group(1).split(",")] if columns else [False] * width
    align = ["---:" if r else "---" for r in right]
    return ["| " + " | ".join(adoc_inline(c) for c in row) + " |" for row in rows[:1]] + \
           ["| " + " | ".join(align) + " |"] + \
           ["| " + " | ".join(adoc_inline(c) for c in row) + " |" for row in rows[1:]]


def adoc_to_markdown(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines) and (_ADOC_HEADER.match(lines[index]) or (index and lines[index].startswith(" ")
                                                                         and _ADOC_HEADER.match(lines[0]))):
        index += 1  # the e-mail header some howtos start with
    attribute, after_label, blank_before, blocks = "", False, True, []
    titles = {}  # anchor id -> the title (or first line) after it
    for number, line in enumerate(lines):
        anchor = re.match(r"^\[\[([^\],]+)(?:,\s*([^\]]+))?\]\]\s*$", line)
        if anchor:
            after = next((n for n in lines[number + 1:number + 4] if n.strip() and not n.startswith("[")), "")
            titles[anchor.group(1)] = anchor.group(2) or re.sub(r"^=+\s+|\s+=+$", "", after.strip())
    inline = lambda text: adoc_inline(text, titles)  # noqa: E731

    def emit(line: str) -> None:
        nonlocal blank_before
        out.append(line)
        blank_before = not line.strip()

    def emit_code(block: list[str]) -> None:
        """A literal block, set off by blank lines, its common indentation removed."""
        if out and out[-1].strip():
            emit("")
        for code_line in _dedent_code(block):
            emit(code_line)
        emit("")

    while index < len(lines):
        line = lines[index].expandtabs(8).rstrip()
        following = lines[index + 1].rstrip() if index + 1 < len(lines) else ""
        index += 1
        if _ADOC_SKIP_LINE.match(line):
            continue
        if not line.strip():
            emit("")
            continue
        underline = _ADOC_UNDERLINE.match(following)
        if (underline and not _ADOC_DELIMITER.match(line) and abs(len(following) - len(line)) <= 2
                and not _ADOC_LIST.match(line) and blank_before):
            emit("#" * _ADOC_LEVEL[following[0]] + " " + inline(line.strip()))
            emit("")
            index += 1
            attribute, after_label = "", False
            continue
        one_line = _ADOC_ONE_LINE_TITLE.match(line)
        if one_line and blank_before:
            emit("#" * len(one_line.group(1)) + " " + inline(one_line.group(2)))
            attribute, after_label = "", False
            continue
        delimiter = _ADOC_DELIMITER.match(line)
        if delimiter:
            char = line[0]
            if blocks and blocks[-1] == char:  # the end of an example, sidebar or quote block
                blocks.pop()
                emit("")
                continue
            end = next((e for e in range(index, len(lines)) if lines[e].rstrip() and
                        re.fullmatch(re.escape(char) + "{4,}", lines[e].rstrip())), len(lines))
            body = lines[index:end]
            index = end + 1
            if char in "-.":
                language = attribute.split(",")[1].strip() if attribute.startswith("source,") else ""
                if out and out[-1].strip():
                    emit("")
                code = _dedent_code(body)
                code[0] += language
                for code_line in code:
                    emit(code_line)
                emit("")
            elif char in "=*_":  # example, sidebar, quote: their text is kept
                index = index - len(body) - 1
                blocks.append(char)
                emit("")
                if attribute in ("NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"):
                    emit(f"**{attribute.title()}:**")
            # comment (////) and passthrough (++++) blocks are dropped
            attribute, after_label = "", False
            continue
        if line.startswith("|==="):
            end = next((e for e in range(index, len(lines)) if lines[e].startswith("|===")), len(lines))
            table = [row for row in lines[index:end] if row.strip()]
            index = end + 1
            for row in _adoc_table(table, attribute):
                emit(row)
            emit("")
            attribute = ""
            continue
        if line.strip() in ("--", "+"):  # open block, list continuation
            emit("")
            continue
        found_attribute = _ADOC_ATTRIBUTE.match(line)
        if found_attribute and blank_before:
            attribute = found_attribute.group(1)
            continue
        if re.match(r"^\.[A-Za-z`'\"]", line) and blank_before:  # a block title
            emit(f"**{inline(line[1:].strip())}**")
            continue
        if (line.startswith(" ") and not after_label and blank_before and not _ADOC_LIST.match(line)
                and not _ADOC_LABEL.match(line)):  # an indented paragraph: a literal block, to the next blank line
            literal = [line]
            while index < len(lines) and lines[index].strip():
                literal.append(lines[index].expandtabs(8).rstrip())
                index += 1
            emit_code(literal)
            attribute = ""
            continue
        paragraph = [line]
        while index < len(lines) and lines[index].strip() and not _ADOC_SKIP_LINE.match(lines[index]) \
                and lines[index].strip() not in ("+", "--") and not _ADOC_DELIMITER.match(lines[index].rstrip()) \
                and not _ADOC_LABEL.match(lines[index]) and not _ADOC_LIST.match(lines[index]) \
                and not lines[index].startswith("|==="):
            paragraph.append(lines[index].expandtabs(8).rstrip())
            index += 1
        if attribute == "verse":
            emit_code([re.sub(r"'([^']+)'", r"\1", adoc_attributes(p)) for p in paragraph])
            attribute = ""
            continue
        label = _ADOC_LABEL.match(line)
        if label and not line.startswith(" " * 8) and "::" not in label.group(2).strip()[-1:]:
            emit(_bold(inline(label.group(2).strip())))
            body = [label.group(4)] if label.group(4) else []
            body += [p.strip() for p in paragraph[1:]]
            if body:
                emit("\n".join(inline(b) for b in body))
            after_label, attribute = True, ""
            continue
        listed = _ADOC_LIST.match(line)
        if listed:
            mark = listed.group(1)
            depth = len(mark) - 1 if mark[0] in "*." else 0
            bullet = "1." if mark[0] == "." or mark[0].isdigit() else "-"
            rest = [inline(p.strip()) for p in paragraph[1:]]
            emit("\n".join(["  " * depth + f"{bullet} {inline(listed.group(2))}", *rest]))
            after_label, attribute = False, ""
            continue
        if line.startswith(" ") and not after_label:  # an indented paragraph: a literal block
            emit_code(paragraph)
            attribute = ""
            continue
        text = "\n".join(inline(p.strip()) for p in paragraph)
        admonition = _ADOC_ADMONITION.match(text)
        if admonition:
            text = f"**{admonition.group(1).title()}:** " + text[admonition.end():]
        emit(text)
        attribute = ""
        after_label = after_label and line.startswith(" ")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


# -- Markdown (Node.js) ---------------------------------------------------------------------------
_LINK_DEFINITION = re.compile(r"^\[([^\]]+)\]:\s*(\S+)\s*$", re.M)


def node_markdown(text: str) -> str:
    """draft_like, with reference-style links made inline and the link definitions dropped."""
    text = draft_like(text)
    targets = {m.group(1).lower(): m.group(2) for m in _LINK_DEFINITION.finditer(text)}
    text = _LINK_DEFINITION.sub("", text)

    def inline(m: re.Match) -> str:
        label, ref = m.group(1), m.group(2)
        target = targets.get((ref or label).lower())
        return f"[{label}]({target})" if target else m.group(0)

    out, inside = [], False
    for line in text.split("\n"):
        if re.match(r"^\s*(```|~~~)", line):
            inside = not inside
        elif not inside:
            line = re.sub(r"\[((?:[^\[\]]|\[[^\[\]]*\])+)\]\[([^\]]*)\]", inline, line)
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


# -- DocBook HTML (Debian Reference, PostgreSQL) ---------------------------------------------------
_VOID = {"br", "img", "hr", "col", "meta", "link", "input", "area", "base", "wbr", "param"}
_SKIP_CLASSES = {"navheader", "navfooter", "toc", "indexterm", "footnote-anchor", "mediaobject", "figure-contents",
                 "nosearch", "fancy_toc"}  # (the last two: SQLite's site menu and tables of contents)
_ADMONITIONS = {"note", "tip", "warning", "caution", "important"}
_IMPLIED_END = {**dict.fromkeys(("p", "div", "pre", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                                 "blockquote", "hr"), ("p",)),
                "li": ("li", "p"), "dt": ("dt", "dd", "p"), "dd": ("dt", "dd", "p"), "tr": ("tr", "td", "th", "p"),
                "td": ("td", "th", "p"), "th": ("td", "th", "p")}
_BOUNDARY = {"ul", "ol", "dl", "table", "tr", "td", "th", "li", "dd", "dt", "div", "blockquote", "pre", "body"}
_BLOCKS = {"p", "div", "pre", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr",
           "dt", "dd", "li"}


class _Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.children = tag, attrs, []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        closes = _IMPLIED_END.get(tag, ())  # hand-written HTML leaves <p>, <li>, <td> ... open
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag in closes:
                del self.stack[depth:]
                break
            if self.stack[depth].tag in _BOUNDARY:
                break
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def _skipped(node: _Node) -> bool:
    return (node.tag in ("head", "script", "style", "img", "object", "form", "select", "button", "svg")
            or bool(node.classes & _SKIP_CLASSES)
            or (node.tag == "table" and node.attrs.get("summary", "").startswith("Navigation")))


def _inline(node, code: bool = False) -> str:
    if isinstance(node, str):
        return node
    if _skipped(node):
        return ""
    if node.tag == "br":
        return "\n"
    inner = "".join(_inline(child, code or node.tag in ("code", "tt", "kbd", "samp")) for child in node.children)
    if node.tag == "a" and inner.strip() == "§":  # PostgreSQL release notes: a link to the commit
        return ""
    if node.tag == "sup" and inner.strip() and not inner.strip().startswith("["):  # 2<sup>48</sup>, not a footnote
        return "^" + inner.strip()
    if code or not inner.strip():
        return inner
    if node.tag in ("code", "tt", "kbd", "samp"):
        inner = " ".join(inner.split())
        return f"``{inner}``" if "`" in inner else f"`{inner}`"
    mark = "*" if node.tag in ("em", "i", "cite") else "**" if node.tag in ("strong", "b") else ""
    if mark:  # the markers hug the text; the spaces around it stay outside
        lead, trail = inner[:len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()):]
        if mark == "**" and "**" in inner:  # bold within bold: <b><strong>x</strong> y</b>
            return inner
        return f"{lead}{mark}{inner.strip()}{mark}{trail}"
    return inner


def _is_block(node) -> bool:
    return not isinstance(node, str) and not _skipped(node) and (
        node.tag in _BLOCKS or any(_is_block(child) for child in node.children))


def _paragraph(parts: list) -> str:
    text = "".join(_inline(part) for part in parts)
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _cell(node: _Node) -> str:
    return " ".join(" ".join(_blocks(node)).split()).replace("|", "\\|")


def _table(node: _Node) -> list[str]:
    rows = []
    for row in (n for n in _walk(node) if n.tag == "tr"):
        cells = [c for c in row.children if not isinstance(c, str) and c.tag in ("td", "th")]
        rows.append([_cell(c) for c in cells])
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    if width == 1 and len(rows) == 1:  # a box around a paragraph
        return [rows[0][0].replace("\\|", "|")]
    if width == 1:  # PostgreSQL's function tables: one column, a signature, a description and examples per row
        return [_bold(rows[0][0]), "\n".join("- " + r[0].replace("\\|", "|") for r in rows[1:])]
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(r) + " |" for r in rows]
    return ["\n".join([lines[0], "| " + " | ".join(["---"] * width) + " |", *lines[1:]])]


def _walk(node: _Node):
    for child in node.children:
        if isinstance(child, _Node):
            yield child
            if child.tag != "table":
                yield from _walk(child)


def _list(node: _Node, depth: int) -> list[str]:
    items = []
    for number, item in enumerate((c for c in node.children if isinstance(c, _Node) and c.tag == "li"), start=1):
        marker = "  " * depth + (f"{number}. " if node.tag == "ol" else "- ")
        blocks = _blocks(item, depth + 1)
        if blocks and not blocks[0].startswith("```"):
            blocks[0] = marker + blocks[0]
        else:
            blocks.insert(0, marker.rstrip())
        items.append(blocks)
    if all(len(b) == 1 and "\n\n" not in b[0] for b in items):
        return ["\n".join(b[0] for b in items)] if items else []
    return [block for blocks in items for block in blocks]


def _blocks(node: _Node, depth: int = 0) -> list[str]:
    """A block element's content as Markdown blocks."""
    out: list[str] = []
    run: list = []

    def flush():
        text = _paragraph(run)
        if text:
            out.append(text)
        run.clear()

    for child in node.children:
        if not _is_block(child):
            if isinstance(child, str) or not _skipped(child):
                run.append(child)
            continue
        flush()
        tag = child.tag
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            title = " ".join(_inline(child).split())
            if title:
                out.append("#" * int(tag[1]) + " " + title)
        elif tag == "pre":
            body = child.text().strip("\n")
            out.append("\n".join(_dedent_code(body.split("\n"))))
        elif tag in ("ul", "ol"):
            out.extend(_list(child, depth))
        elif tag == "dt":
            term = " ".join(_inline(child).split())
            if term:
                out.append(_bold(term))
        elif tag == "table" and child.attrs.get("summary", "").lower() in _ADMONITIONS:
            cells = [n for n in _walk(child) if n.tag == "td" and not any(
                isinstance(g, _Node) and g.tag == "img" for g in n.children)]
            inner = [b for cell in cells for b in _blocks(cell, depth)]
            if inner:
                inner[0] = f"**{child.attrs['summary'].title()}:** " + inner[0]
            out.extend(inner)
        elif tag == "table":
            out.extend(_table(child))
        elif tag == "div" and child.classes & _ADMONITIONS and not any(
                isinstance(c, _Node) and c.tag == "table" for c in child.children):
            label = (child.classes & _ADMONITIONS).pop().title()
            inner = [b for b in _blocks(child, depth) if b.strip("# ").lower() != label.lower()]
            if inner:
                inner[0] = f"**{label}:** " + inner[0]
            out.extend(inner)
        elif tag != "hr":
            out.extend(_blocks(child, depth))
    flush()
    return out


def docbook_to_markdown(page: str) -> str:
    tree = _Tree()
    tree.feed(page)
    body = next((n for n in _walk(tree.root) if n.tag == "body"), tree.root)
    blocks = [b for b in _blocks(body) if not re.match(r"^\*?This page last modified on ", b)]  # SQLite's footer
    return "\n\n".join(blocks).strip() + "\n"


def short_fences(markdown: str, most: int = 400) -> str:
    """A fenced block of over 500 words split into consecutive fenced blocks of at most `most` words (at line
    ends), so that sections_of, which cuts a block longer than a section at line ends, never cuts inside a fence."""
    out, fence, body = [], None, []
    for line in markdown.split("\n"):
        if fence is None:
            out.append(line)
            if re.match(r"^\s*(```|~~~)", line):
                fence, body = line, []
            continue
        if not re.match(r"^\s*(```|~~~)", line):
            body.append(line)
            continue
        pieces, piece, size, long = [], [], 0, len(" ".join(body).split()) > 500
        for code_line in body:
            if long and piece and size + len(code_line.split()) > most:
                pieces.append(piece)
                piece, size = [], 0
            piece.append(code_line)
            size += len(code_line.split())
        pieces.append(piece)
        for number, piece in enumerate(pieces):
            if number:
                out.extend(["", fence])
            out.extend([*piece, line])
        fence = None
    return "\n".join(out + ([*body] if fence is not None else []))


# -- documents ----------------------------------------------------------------------------------
def documents(cache: Path):
    """(package, doc, licence, Markdown text) for every page read."""
    for package, version in PACKAGES.items():
        root = unpacked(package, version, cache)
        licence = licence_of(root, package)
        if package == "perl-doc":
            paths = sorted((root / "usr/share/perl/5.36.0/pod").glob("*.pod"))
            convert, base = pod_to_markdown, root / "usr/share/perl/5.36.0"
        elif package == "git-doc":
            folder = root / "usr/share/doc/git-doc"
            paths = sorted(p for p in folder.rglob("*.txt") if not p.name.startswith("cmds-"))
            convert, base = adoc_to_markdown, folder
        elif package == "nodejs-doc":
            folder = root / "usr/share/doc/nodejs/api"
            paths = sorted([*folder.glob("*.md"), *folder.glob("*.md.gz")])
            convert, base = node_markdown, folder
        elif package == "debian-reference-en":  # one page a chapter: each of its sections (## n.m) is a document
            folder = root / "usr/share/debian-reference"
            for path in sorted(folder.glob("*.en.html")):
                if path.name == "index.en.html":
                    continue
                chapter = docbook_to_markdown(path.read_text())
                for number, part in enumerate(re.split(r"(?m)^(?=## )", chapter)):
                    yield package, f"deb:{package}:{path.name.split('.')[0]}:{number}", licence, part
            continue
        elif package == "postgresql-doc-15":
            folder = root / "usr/share/doc/postgresql-doc-15/html"
            paths = sorted(folder.glob("*.html"))
            convert, base = docbook_to_markdown, folder
        else:
            folder = root / "usr/share/doc/sqlite3"
            paths = sorted(path for path in folder.rglob("*.html") if not path.name.startswith("doc_"))
            convert, base = docbook_to_markdown, folder
        for path in paths:
            if path.name in SKIP:
                continue
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            name = str(path.relative_to(base)).removesuffix(".gz")
            yield package, f"deb:{package}:{name}", licence, convert(raw.decode("utf-8", "replace"))


def converted_pages(documents, dump: Path | None) -> dict[str, list]:
    """package -> [(doc, licence, sections, shapes)] of every converted document (each also written to `dump`)."""
    pages: dict[str, list] = defaultdict(list)
    for package, doc, licence, text in documents:
        if dump:
            target = dump / (doc.replace("/", "+").replace(":", "_").replace(" ", "_") + ".md")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        sections = sections_of(short_fences(text))
        pages[package].append((doc, licence, sections, [shape_of(section) for section in sections]))
    return pages


def items_of(pages: dict[str, list], chosen: dict[str, dict[str, list[int]]], batch: str) -> list[dict]:
    """The chosen sections (package -> doc -> section numbers) as corpus items, in document order."""
    return [{"id": f"{doc}#{number}", "label": "coherent", "shape": shapes[number], "source": f"debian-{package}",
             "package": f"deb:{package}", "doc": doc, "licence": licence, "split": split_of(doc), "batch": batch,
             "onset": None, "text": sections[number]}
            for package, docs in pages.items() for doc, licence, sections, shapes in sorted(docs)
            for number in sorted(chosen[package][doc])]


def summary(pages: dict[str, list], items: list[dict], by_split_and_shape: dict) -> str:
    packages = sorted({i["package"] for i in items})
    return json.dumps({"pages": {p: len(d) for p, d in pages.items()}, "sections": len(items),
                       "documents": len({i["doc"] for i in items}),
                       "by_package_and_shape": {p: Counter(i["shape"] for i in items if i["package"] == p) for p in packages},
                       "by_package_and_split": {p: Counter(i["split"] for i in items if i["package"] == p) for p in packages},
                       "licences": Counter(i["licence"] for i in items), "by_split_and_shape": by_split_and_shape}, indent=1)


def select(docs: list, unique: NearDuplicates) -> dict[str, list[int]]:
    """The sections kept of each page of one package: first every table and numbers section (up to the cap
    per page), then the other shapes, one section per page and round, up to SECTIONS_PER_PACKAGE."""
    return pick(docs, unique, SECTIONS_PER_PACKAGE, {PREFERRED_SHAPES: len(docs) * SECTIONS_PER_DOC})  # every one


def pick(docs: list, unique: NearDuplicates, per_package: int, preferred: dict, usable: Any = None,
         first: Any = None) -> dict[str, list[int]]:
    """Documents in the order of a hash of their name; `preferred`'s shapes first (a shape, or a tuple of shapes
    taken together in document order: at most so many a package), then the others, one section per document and
    round, until the package has `per_package`. `usable(sections)`: the numbers of a document's sections that may
    be taken (default all); `first(sections, number)`: a sort key, the others' order within a document (default
    as written)."""
    docs.sort(key=lambda d: hashlib.sha256(d[0].encode()).hexdigest())
    allowed = {doc: list(range(len(sections))) if usable is None else usable(sections) for doc, _, sections, _ in docs}
    groups = {(kinds,) if isinstance(kinds, str) else kinds: most for kinds, most in preferred.items()}
    chosen: dict[str, list[int]] = defaultdict(list)
    taken = 0
    for kinds, most in groups.items():  # the rarest first
        count = 0
        for doc, _, sections, shapes in docs:
            for number in allowed[doc]:
                if (shapes[number] in kinds and count < most
                        and len(chosen[doc]) < SECTIONS_PER_DOC and unique.admit(sections[number])):
                    chosen[doc].append(number)
                    count += 1
        taken += count
    taken_first = {shape for kinds in groups for shape in kinds}
    rest = {doc: sorted((n for n in allowed[doc] if shapes[n] not in taken_first),
                        key=lambda n: n if first is None else first(sections, n), reverse=True)  # popped from the end
            for doc, _, sections, shapes in docs}
    for _ in range(SECTIONS_PER_DOC):
        for doc, _, sections, _ in docs:
            while rest[doc] and taken < per_package and len(chosen[doc]) < SECTIONS_PER_DOC:
                number = rest[doc].pop()  # the document's next section in that order, past near duplicates
                if unique.admit(sections[number]):
                    chosen[doc].append(number)
                    taken += 1
                    break
    return chosen


def build(name: str, batch: str, documents, select, write) -> None:
    """A Debian set's builder: its command line (--cache, --out, --dump), then pages, selection, corpus."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "pipeline-bench" / name)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / f"coherent_{name}.jsonl.gz")
    parser.add_argument("--dump", type=Path, help="also write each converted page here (to read them)")
    args = parser.parse_args()
    unique = NearDuplicates()
    for item in coherent_items(ROOT / "bench" / "corpus"):  # nothing already in the older sets
        if item.get("batch") != batch:
            unique.admit(item["text"])
    pages = converted_pages(documents(args.cache), args.dump)
    items = items_of(pages, {package: select(docs, unique) for package, docs in pages.items()}, batch)
    print(summary(pages, items, write(items, args.out)))


if __name__ == "__main__":
    build("debdocs", BATCH, documents, select, write_corpus)
