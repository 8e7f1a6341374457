"""Sections → markdown page bundle (YAML front matter + body) and sanitized HTML. Pure."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import yaml

from .checks.links import neutralise_links
from .checks.markup import defuse_html
from .checks.text import inert, markdown_html
from .config import Brief
from .mail import email_html, email_text


@dataclass(frozen=True)
class DraftSection:
    heading: str
    text: str
    review_notes: tuple[str, ...] = ()  # shown to the reviewer inside the draft
    raw: bool = False  # a block our own templates rendered: kept exactly as it is


@dataclass(frozen=True)
class Draft:
    kind: str  # folder under output/: "posts" (the kind's folder)
    key: str  # folder name: "<YYYY-MM-DD>-<slug>" (the kind's key)
    files: dict[str, str]  # file name -> content


def front_matter(brief: Brief, model: str, run_id: str) -> dict:
    return {
        "title": brief.title,
        "date": brief.post_date().isoformat(),
        "slug": brief.post_slug(),
        "tags": list(brief.tags),
        "description": brief.description,
        "draft": True,  # a person flips this after review
        **({"author": brief.author} if brief.author else {}),
        "model": model,
        "run_id": run_id,
        # The folder is a Hugo page bundle: copied into a site as it is, its other files (run.json with every
        # prompt and raw output, the review pages) must not be published beside the page.
        "build": {"publishResources": False},
    }


# CommonMark's fences: a backtick fence's info string has no backtick ("```js```" is inline code), and
# only a line of the same character, at least as long and with nothing after it, closes one.
_FENCE = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_TOP_HEADING = re.compile(r"^ {0,3}#{1,2}(?=\s|$)")  # markdown allows up to 3 spaces before '#'
_SCRIPT_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE)
# "<b>", "</p>", "<!-- -->"; a plain "a < b" is left alone, and so are autolinks (<https://...>, <a@b.org>)
_RAW_TAG = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.\-]*:[^\s<>]*>|[^\s<>@]+@[^\s<>]+>)[A-Za-z/!?][^<>]*>")
# A code span closes with a run of as many backticks; an escaped backtick (\`) opens none.
_CODE_SPAN = re.compile(r"((?<![`\\])(`+)(?!`).*?(?<!`)\2(?!`))", re.DOTALL)


def tidy_section(heading: str, text: str) -> str:
    """Demote the model's own headings below ours (##); a repeat of ours was cut, and recorded, with the chatter."""
    return "\n".join(tidy_lines(text.strip().splitlines())).strip()


def strip_raw_html(line: str) -> str:
    """Model text is untrusted: raw HTML in index.md would reach any site generator that renders it.
    Tags go (script and style with their content); code spans keep theirs."""
    parts = _CODE_SPAN.split(line)  # text, span, its backticks, text, ...
    return "".join(part if i % 3 == 1 else _without_tags(part) for i, part in enumerate(parts) if i % 3 != 2)


def _without_tags(text: str) -> str:
    """Until none is left: removing "<script>" from "<scr<script>ipt>" leaves a new one."""
    while (stripped := _RAW_TAG.sub("", _SCRIPT_BLOCK.sub("", text))) != text:
        text = stripped
    return text


def tidy_lines(lines: list[str]) -> list[str]:
    """Outside code fences: # and ## become ### (ours is ##) and raw HTML is removed.
    Inside fences, '# ' starts a shell comment and '<' is literal."""
    demoted: list[str] = []
    fence: str | None = None
    for line in lines:
        marker = _FENCE.match(line)
        if marker and fence is None:
            fence = marker.group(1)
        elif fence is None:
            line = strip_raw_html(_TOP_HEADING.sub("###", line))
        elif marker and line.strip() == fence[0] * len(line.strip()) and len(line.strip()) >= len(fence):
            fence = None
        demoted.append(line)
    return demoted


def section_markdown(section: DraftSection) -> str:
    text = section.text.strip() if section.raw else tidy_section(section.heading, section.text)
    parts = [f"## {section.heading}", text]
    # A note may quote model text (a repeated sentence, an echo): it is tidied like the text it quotes.
    parts += [f"> **Needs attention:** {strip_raw_html(' '.join(note.split()))}" for note in section.review_notes]
    return "\n\n".join(part for part in parts if part)


def markdown_body(sections: list[DraftSection]) -> str:
    """Every section in order, inert for site generators: no link may run code, no template syntax runs."""
    return inert(defuse_html(neutralise_links("\n\n".join(section_markdown(s) for s in sections))))


def markdown_page(meta: dict, body: str) -> str:
    header = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n{body}\n"


def html_page(title: str, body_markdown: str) -> str:
    body = inert(markdown_html(body_markdown))  # model text is untrusted
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<article>\n<h1>{html.escape(title)}</h1>\n"
        f"{body}\n</article>\n</body>\n</html>\n"
    )


def assemble_post(brief: Brief, sections: list[DraftSection], model: str, run_id: str) -> dict[str, str]:
    meta = front_matter(brief, model, run_id)
    body = markdown_body(sections)
    return {"index.md": markdown_page(meta, body), "index.html": html_page(brief.title, body)}


def assemble_newsletter(brief: Brief, sections: list[DraftSection], model: str, run_id: str,
                        week: str, week_start: dt.date) -> dict[str, str]:
    title = f"{brief.title} · {week}"
    meta = {**front_matter(brief, model, run_id), "title": title, "date": week_start.isoformat(),
            "slug": week.lower(), "week": week}
    body = markdown_body(sections)
    return {"index.md": markdown_page(meta, body), "index.html": html_page(title, body),
            "email.html": email_html(title, brief.description or title, body), "email.txt": email_text(title, body)}
