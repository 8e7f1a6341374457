"""End-to-end output fuzz: mutated feeds (bench/feed_fuzz.py's mutations of the saved snapshots) and
hostile model text go through whole newsletter builds (the example week, offline, the scripted backend).
Counts builds that crash and outputs that hold anything a site generator, browser or mail service would
run: template syntax ({{, {%, kramdown's {: and {::), tags that run or on* handlers in any source, and, in
the pages as rendered (python-markdown and CommonMark), such tags and unsafe href/src.

    python bench/output_fuzz.py --builds 300 --seed 5    # prints one JSON object
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import markdown
from markdown_it import MarkdownIt

from pipeline.backends.script import ScriptBackend
from pipeline.checks.links import is_unsafe_link
from pipeline.progress import Reporter
from pipeline.runner import RunOptions, run_brief

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))  # its sibling: the feed mutations

import feed_fuzz  # noqa: E402

HOSTILE_TEXT = [
    "{{< youtube x >}}", "{{% notice %}}", "{% include secrets %}", "{{ site.github }}", "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">', "[a](javascript:alert(1))", "[b](JaVaScRiPt:x)", "[c](java&#115;cript:x)",
    "<data:text/html,x>", "[d]: vbscript:x", "<iframe src=https://evil.example></iframe>", "\ud800", "`{{< x >}}`",
]
TEMPLATE_SYNTAX = ("{{", "{%", "{::")  # what Hugo and Jekyll run in a page's source, code blocks included
_KRAMDOWN_ATTRIBUTES = re.compile(r"\{:[^}\n]*=")  # {: onclick="..."} after a paragraph or a span
_TAG = re.compile(r"<[a-zA-Z][^>]*>")
_SOURCE_TAG = re.compile(r"(?<!\\)<[a-zA-Z](?:\"[^\"]*\"|'[^']*'|[^\"'<>])*>?")  # '\\<' is text in every markdown
_URL_ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def executable_html(page: str) -> list[str]:
    """Tags that run code, event handlers, and href/src values with a scheme that runs code."""
    found = []
    for tag in _TAG.findall(page):
        if re.match(r"<(script|iframe|object|embed|img)\b", tag, re.IGNORECASE) or re.search(r"\son\w+\s*=", tag, re.I):
            found.append(tag)
        found += [url for url in _URL_ATTRIBUTE.findall(tag) if is_unsafe_link(url)]
    return found


def source_problems(source: str) -> list[str]:
    """In a page's source, whoever parses it: template syntax, and any unescaped tag that would run,
    code spans and fences included (a parser may not see the code where we do)."""
    found = [bit for bit in TEMPLATE_SYNTAX if bit in source] + _KRAMDOWN_ATTRIBUTES.findall(source)
    for tag in _SOURCE_TAG.findall(source):
        if re.match(r"<(script|iframe|object|embed|svg)\b", tag, re.I) or re.search(r"\bon\w+\s*=", tag, re.I):
            found.append(tag)
        found += [url for url in _URL_ATTRIBUTE.findall(tag) if is_unsafe_link(url)]
    return found


def commonmark(body: str) -> str:
    """A CommonMark parser as Hugo (goldmark, unsafe on) and kramdown treat raw HTML and links: kept."""
    parser = MarkdownIt("commonmark", {"html": True})
    parser.validateLink = lambda url: True  # kramdown checks no link; we must not rely on the renderer
    return parser.render(body)


def rendered(index_md: str) -> dict[str, str]:
    """index.md as site generators render it: python-markdown and a CommonMark parser."""
    body = index_md.split("---\n", 2)[2]
    return {"index.md (python-markdown)": markdown.markdown(body, extensions=["extra"]),
            "index.md (CommonMark)": commonmark(body)}


def outputs_problems(draft: Path) -> list[str]:
    """Every output file's source (the manifest aside: it keeps raw model text as JSON, nothing renders
    it), then the pages as browsers see them: index.md rendered two ways, index.html, email.html."""
    problems = [f"{p.name}: {bit}" for p in sorted(draft.iterdir()) if p.name != "run.json"
                for bit in source_problems(p.read_text(encoding="utf-8"))]
    pages = {**rendered((draft / "index.md").read_text()), "index.html": (draft / "index.html").read_text()}
    if (draft / "email.html").exists():
        pages["email.html"] = (draft / "email.html").read_text()
    return problems + [f"{name}: {bit[:60]}" for name, page in pages.items() for bit in executable_html(page)]


def project(root: Path) -> Path:
    shutil.copytree(REPO / "briefs" / "feeds", root / "briefs" / "feeds")
    for name in ("weekly.yaml", "weekly-data.json"):
        shutil.copy(REPO / "briefs" / name, root / "briefs" / name)
    return root / "briefs" / "weekly.yaml"


def build(root: Path, brief: Path, feeds: dict[str, bytes], rng: random.Random) -> Path:
    for name, body in feeds.items():
        (root / "briefs" / "feeds" / name).write_bytes(body)
    hostile = " ".join(rng.sample(HOSTILE_TEXT, 3))
    pick = json.dumps({"picks": [{"id": 1, "reason": f"Matters {hostile}"}, {"id": 2, "reason": "Also."}]})
    prose = f"The week was quiet. {hostile} We adjust the stops. That is the lesson."
    backend = ScriptBackend(by_label={"News that mattered": [pick]}, default=prose)
    options = RunOptions(out_root=root / "output", offline=True, force=True, week="2026-W16")  # the snapshots' week
    return run_brief(brief, options, Reporter(), lambda model, memory: backend).draft_dir


def fuzz(builds: int, seed: int) -> dict:
    rng, started = random.Random(seed), time.monotonic()
    originals = {p.name: p.read_bytes() for p in sorted((REPO / "briefs" / "feeds").glob("*.xml"))}
    crashes, hostile, examples = 0, 0, []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "briefs").mkdir()
        brief = project(root)
        for _ in range(builds):
            feeds = {name: feed_fuzz.mutate(body, rng)[0] for name, body in originals.items()}
            try:
                problems = outputs_problems(build(root, brief, feeds, rng))
            except Exception as exc:  # the point: count crashes and go on
                crashes += 1
                examples.append(f"crash: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            hostile += bool(problems)
            examples += problems[:2]
    return {"benchmark": "output_fuzz", "seed": seed, "builds": builds, "crashes": crashes,
            "builds_with_executable_output": hostile, "examples": examples[:8],
            "seconds": round(time.monotonic() - started, 1),
            "command": f"python bench/output_fuzz.py --builds {builds} --seed {seed}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(fuzz(args.builds, args.seed), indent=2))


if __name__ == "__main__":
    main()
