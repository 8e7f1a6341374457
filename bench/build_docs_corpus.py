"""Build bench/corpus/coherent_pydocs.jsonl.gz: coherent sections from the Python 3.11 documentation.

A second coherent set, built after the detector was tuned, to measure false alarms on text closer to
a technical blog post than changelogs are: the "What's New" articles (benchmarks, version numbers,
code), the HOWTOs, the tutorial, the FAQ and the library reference. The source is Debian's
`python3.11-doc` package (`apt-get install python3.11-doc`), whose HTML build ships the reST sources
under /usr/share/doc/python3.11/html/_sources/. Each page is converted to the Markdown a draft is
written in (headings, inline code, fenced code blocks, links; directives that render as boxes become
a bold label and their text), cut into 150-600-word sections as bench/build_coherent_corpus.py cuts
documents (same rules, same shapes, same duplicate filter), and split by a hash of the page:
calibration 50%, held-out 25%, reserve 25%. Every item carries `batch: "python-docs"`, so
bench/collapse.py reports its held-out and reserve parts on their own, never mixed into the older
figures. Licence: PSF-2.0 (the documentation's own, /usr/share/doc/python3.11/copyright).
Usage: python bench/build_docs_corpus.py [--out bench/corpus/coherent_pydocs.jsonl.gz]"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from build_coherent_corpus import ROOT, NearDuplicates, sections_of, shape_of, split_of, write_corpus

SOURCES = Path("/usr/share/doc/python3.11/html/_sources")
SECTIONS_PER_PAGE = 10  # more than for changelogs: a "What's New" article is many posts' worth of topics
SKIP = {"license.rst.txt", "copyright.rst.txt", "contents.rst.txt", "bugs.rst.txt", "about.rst.txt"}

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.])\1{2,}\s*$")
_ROLE = re.compile(r":[\w:.-]+:`(?:[^`<]*<([^`>]+)>|~?!?([^`]+))`")
_LINK = re.compile(r"`([^`<]+?)\s*<(https?://[^>]+)>`__?")
_REF = re.compile(r"`([^`]+)`__?")
_LITERAL = re.compile(r"``(.+?)``")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::\s*(.*)$")
_COMMENT_OR_TARGET = re.compile(r"^\s*\.\.(\s+_[^:]+:.*|\s+\[[^]]+\].*|\s*$|\s+[^\w\s].*|\s+(?![\w:-]+::)\S.*)$")
_FIELD = re.compile(r"^:(\w[\w ]*):\s+(.*)$")
_NUMBERED_ROLE = re.compile(r":(pep|PEP|rfc|issue|gh|source):`([^`]+)`")
_ROLE_PREFIX = {"pep": "PEP ", "PEP": "PEP ", "rfc": "RFC ", "issue": "bpo-", "gh": "gh-", "source": ""}
_CODE_DIRECTIVES = {"code-block", "sourcecode", "code", "doctest", "testcode", "testoutput", "productionlist",
                    "highlight-python"}
_DROP_DIRECTIVES = {"index", "toctree", "module", "moduleauthor", "sectionauthor", "highlight", "testsetup",
                    "testcleanup", "currentmodule", "only", "raw", "include", "literalinclude", "image", "figure",
                    "tabularcolumns", "audit-event", "impl-detail", "availability", "opcode", "cmdoption",
                    "program", "envvar", "describe", "glossary", "c:macro", "c:type", "c:var", "c:member",
                    "c:function", "c:struct"}
_LABELS = {"note": "Note", "warning": "Warning", "seealso": "See also", "versionadded": "New in version",
           "versionchanged": "Changed in version", "deprecated": "Deprecated since version", "tip": "Tip",
           "important": "Important", "caution": "Caution", "attention": "Attention", "admonition": ""}


def inline(line: str) -> str:
    """reST inline markup as Markdown: roles and literals as `code`, external links as [text](url)."""
    line = _LINK.sub(lambda m: f"[{m.group(1)}]({m.group(2)})", line)
    line = _NUMBERED_ROLE.sub(lambda m: _ROLE_PREFIX[m.group(1)] + m.group(2).split("#")[0], line)
    line = _ROLE.sub(lambda m: f"`{(m.group(1) or m.group(2)).strip()}`", line)
    line = _LITERAL.sub(lambda m: f"`{m.group(1)}`", line)
    line = _REF.sub(lambda m: m.group(1), line)
    return re.sub(r" ?\[#?[\w-]*\]_", "", line).replace("\\ ", "")


def indented_block(lines: list[str], start: int, indent: int) -> tuple[list[str], int]:
    """The lines from `start` indented deeper than `indent` (blank lines included), dedented; and where they end."""
    body, index = [], start
    while index < len(lines) and (not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent):
        body.append(lines[index])
        index += 1
    while body and not body[-1].strip():
        body.pop()
        index -= 1
    depth = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
    return [line[depth:] for line in body], index


def fence(body: list[str], language: str = "") -> list[str]:
    body = [line for line in body if not line.lstrip().startswith(":")] if body and body[0].lstrip().startswith(":") else body
    while body and not body[0].strip():
        body.pop(0)
    return [f"```{language}", *body, "```"] if body else []


def to_markdown(text: str) -> str:
    lines = text.replace("\t", "    ").split("\n")
    out: list[str] = []
    levels: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        nxt = lines[index + 1] if index + 1 < len(lines) else ""
        if _UNDERLINE.match(line) and nxt.strip() and index + 2 < len(lines) and _UNDERLINE.match(lines[index + 2]):
            index += 1  # an overline: the title and its underline follow
            continue
        if line.strip() and not line.startswith(" ") and _UNDERLINE.match(nxt) and len(nxt.strip()) >= len(line.strip()) - 2:
            mark = nxt.strip()[0]
            if mark not in levels:
                levels.append(mark)
            out.append("#" * min(levels.index(mark) + 1, 4) + " " + inline(line.strip()))
            index += 2
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            indent, name, argument = len(directive.group(1)), directive.group(2), directive.group(3).strip()
            body, index = indented_block(lines, index + 1, indent)
            pad = " " * indent
            if name in _CODE_DIRECTIVES:
                out += [pad + code for code in fence(body, argument if name in {"code-block", "sourcecode", "code"} else "")]
            elif name in _LABELS:
                label = " ".join(filter(None, [_LABELS[name], argument]))
                converted = to_markdown("\n".join(body)).split("\n") if body else []
                out += [pad + (f"**{label}:** " if label else "") + (converted[0] if converted else "")]
                out += [pad + rest for rest in converted[1:]]
            elif name in {"function", "method", "class", "attribute", "data", "exception", "decorator",
                          "classmethod", "staticmethod", "coroutinefunction", "coroutinemethod", "abstractmethod",
                          "decoratormethod", "property", "pdbcommand"}:
                out += [pad + f"`{argument}`", ""] + [pad + rest for rest in to_markdown("\n".join(body)).split("\n")]
            elif name in {"table", "list-table", "csv-table", "rubric", "topic", "sidebar", "container", "centered"}:
                out += [pad + f"**{inline(argument)}**", ""] if argument else []
                out += [pad + rest for rest in to_markdown("\n".join(body)).split("\n")]
            # everything else (index, toctree, module, ...) renders as nothing a reader sees
            continue
        if _COMMENT_OR_TARGET.match(line):
            _, index = indented_block(lines, index + 1, len(line) - len(line.lstrip()))
            continue
        field = _FIELD.match(line)
        if field and (not out or not out[-1].strip() or out[-1].startswith("**")):
            out.append(f"**{field.group(1)}:** {inline(field.group(2))}")
            index += 1
            continue
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            indent = len(line) - len(line.lstrip())
            head = line.rstrip()[:-2].rstrip()
            out.append(inline(head + (":" if head.strip() and not head.endswith(":") else "")) if head.strip() else "")
            start = index + 1
            while start < len(lines) and not lines[start].strip():
                start += 1
            if start < len(lines) and len(lines[start]) - len(lines[start].lstrip()) > indent:
                body, index = indented_block(lines, start, indent)
                out += [""] + fence(body)
            else:
                index += 1
            continue
        if line.lstrip().startswith(">>> ") and (not out or not out[-1].startswith("```")):
            indent = len(line) - len(line.lstrip())
            body = []
            while index < len(lines) and lines[index].strip() and len(lines[index]) - len(lines[index].lstrip()) >= indent:
                body.append(lines[index][indent:])
                index += 1
            out += fence(body)
            continue
        out.append(inline(line))
        index += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


def pages():
    for path in sorted(SOURCES.rglob("*.rst.txt")):
        rel = path.relative_to(SOURCES)
        if path.name in SKIP or rel.parts[0] in {"includes"}:
            continue
        yield str(rel).removesuffix(".rst.txt"), to_markdown(path.read_text(errors="replace"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "corpus" / "coherent_pydocs.jsonl.gz")
    parser.add_argument("--show", help="print one page as converted (e.g. whatsnew/3.11) and stop")
    args = parser.parse_args()
    if not SOURCES.exists():
        raise SystemExit(f"{SOURCES} is missing: apt-get install python3.11-doc")
    if args.show:
        print(to_markdown((SOURCES / f"{args.show}.rst.txt").read_text()))
        return
    items, unique = [], NearDuplicates()
    for page, text in pages():
        kept = 0
        for number, section in enumerate(sections_of(text)):
            if kept >= SECTIONS_PER_PAGE:
                break
            if not unique.admit(section):
                continue
            kept += 1
            items.append({"id": f"pydocs:{page}#{number}", "label": "coherent", "shape": shape_of(section),
                          "source": "python-docs", "package": "python3.11-doc", "doc": f"pydocs:{page}",
                          "licence": "PSF-2.0", "split": split_of(page), "batch": "python-docs", "onset": None,
                          "text": section})
    print(json.dumps({"sections": len(items), "pages": len({i["doc"] for i in items}),
                      "by_split_and_shape": write_corpus(items, args.out)}, indent=1))


if __name__ == "__main__":
    main()
