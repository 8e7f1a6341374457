"""Review pages: `output/index.html` lists every draft, newest first, and each draft folder gets a
`review.html`: the draft as it will read, each section's findings where the section is, its attempts,
thinking flag, the number check, and a newsletter's feeds and picks. Static HTML that works from
file:// with no request leaving the page (a strict CSP); everything from models, feeds and run.json is
escaped, and the draft's own markdown is rendered through the same sanitizer as index.html.
Reads run.json and index.md; builds strings (the writer writes them)."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from .checks.findings import ATTENTION
from .checks.text import FRONT_MATTER, REVIEW_NOTE, inert, markdown_html
from .kinds import KINDS
from .publish.record import read_record
from .writer import write_whole

log = logging.getLogger("pipeline")

_SECTION_HEADING = re.compile(r"(?m)^## (.+?)[ \t]*$")
_TAG = re.compile(r"(<[^>]+>)")
STATUS_LABEL = {"ok": "ok", "needs_attention": "needs attention", "failed": "failed"}


@dataclass
class DraftRow:
    """One draft as the index lists it."""

    folder: str  # relative to the output root, e.g. posts/2026-11-25-my-post
    kind: str
    title: str
    when: str  # a post's date, a newsletter's week
    status: str
    started_at: str
    attention: Counter = field(default_factory=Counter)  # finding code -> count, needing attention
    info: Counter = field(default_factory=Counter)
    model: str = ""
    tokens_out: int = 0
    total_s: float = 0.0
    edited: bool | None = None  # index.md changed since the run wrote it (None: the run did not record it)
    approved: bool = False  # front matter `draft: false`: a person flipped it for publishing
    published: dict = field(default_factory=dict)  # target -> when it was last sent there (published.json)

    def as_dict(self) -> dict:
        return {**asdict(self), "attention": dict(self.attention), "info": dict(self.info)}


# -- reading -------------------------------------------------------------------------------------
def draft_folders(out_root: Path) -> list[Path]:
    folders = []
    for kind in KINDS.values():
        base = out_root / kind.folder
        if base.is_dir():
            folders += [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")
                        and (p / "run.json").is_file()]
    return folders


def read_draft(folder: Path) -> tuple[dict, str] | None:
    """(run.json, index.md), or None for a folder whose files cannot be read (it is left out, not fatal)."""
    try:
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        markdown = (folder / "index.md").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return None
    return (manifest, markdown) if isinstance(manifest, dict) else None


def front_matter(markdown: str) -> dict:
    match = FRONT_MATTER.match(markdown)
    try:
        meta = yaml.safe_load(match.group(1)) if match else {}
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draft_row(folder: Path, out_root: Path) -> DraftRow | None:
    read = read_draft(folder)
    if read is None:
        return None
    manifest, markdown = read
    meta = front_matter(markdown)
    sources = manifest["sources"] if isinstance(manifest.get("sources"), dict) else {}
    findings = [f for s in sections_of(manifest) for f in s.get("findings", []) if isinstance(f, dict)]
    recorded = (manifest.get("files_sha256") or {}).get("index.md")
    totals = manifest.get("totals") or {}
    return DraftRow(
        folder=folder.relative_to(out_root).as_posix(), kind=str(manifest.get("kind") or "post"),
        title=str(meta.get("title") or folder.name), when=str((sources.get("week") or {}).get("key") or meta.get("date") or ""),
        status=str(manifest.get("status") or "unknown"), started_at=str(manifest.get("started_at") or ""),
        attention=Counter(f.get("code") for f in findings if f.get("severity") == ATTENTION),
        info=Counter(f.get("code") for f in findings if f.get("severity") != ATTENTION),
        model=str((manifest.get("model") or {}).get("spec") or ""), tokens_out=int(totals.get("tokens_out") or 0),
        total_s=float(totals.get("total_s") or 0.0), edited=None if recorded is None else recorded != sha256(markdown),
        approved=meta.get("draft") is False,
        published={name: str(sent.get("at", "")) for name, sent in read_record(folder).items() if isinstance(sent, dict)})


def sections_of(manifest: dict) -> list[dict]:
    sections = manifest.get("sections")
    return [s for s in sections if isinstance(s, dict)] if isinstance(sections, list) else []


def draft_rows(out_root: Path) -> list[DraftRow]:
    rows = [row for folder in draft_folders(out_root) if (row := draft_row(folder, out_root))]
    return sorted(rows, key=lambda r: (r.started_at, r.folder), reverse=True)


# -- pages ---------------------------------------------------------------------------------------
CSS = """
:root { color-scheme: light dark; --fg: #1d1d1f; --muted: #6e6e73; --bg: #fbfbfa; --card: #fff; --line: #e3e3e0;
  --warn: #b54708; --warn-bg: #fff4e5; --ok: #1a7f37; --ok-bg: #eaf7ee; --bad: #b42318; --bad-bg: #fdecea; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececec; --muted: #a1a1a6; --bg: #161617; --card: #1f1f21;
  --line: #333336; --warn: #f5a524; --warn-bg: #33260f; --ok: #4ac26b; --ok-bg: #12281a; --bad: #ff6b5e; --bad-bg: #3a1512; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 17px/1.6 Charter, "Iowan Old Style", Georgia, serif; }
main { max-width: 50rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem; }
main.wide { max-width: 72rem; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0 0 .4rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.meta, .small, table, .badge, nav { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
.meta { color: var(--muted); font-size: .9rem; margin-bottom: 1.5rem; }
.small { font-size: .85rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
a { color: inherit; text-underline-offset: 2px; }
.badge { display: inline-block; font-size: .75rem; font-weight: 600; padding: .1rem .5rem; border-radius: 999px;
  background: var(--line); margin: 0 .25rem .2rem 0; white-space: nowrap; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.needs_attention, .badge.attention { background: var(--warn-bg); color: var(--warn); }
.badge.failed { background: var(--bad-bg); color: var(--bad); }
section.draft { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .2rem 1.4rem 1rem;
  margin: 1.2rem 0; }
section.draft.needs_attention { border-left: 4px solid var(--warn); }
.finding { font-family: -apple-system, "Segoe UI", Roboto, sans-serif; font-size: .88rem; border-radius: 8px;
  padding: .55rem .8rem; margin: .6rem 0; background: var(--line); }
.finding.attention { background: var(--warn-bg); }
.finding code { font-size: .8rem; }
mark { background: var(--warn-bg); color: var(--warn); padding: 0 .15rem; border-radius: 3px; }
details { margin: .6rem 0; font-size: .9rem; }
summary { cursor: pointer; color: var(--muted); font-family: -apple-system, "Segoe UI", Roboto, sans-serif; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--bg); border: 1px solid var(--line);
  border-radius: 6px; padding: .6rem; font-size: .8rem; }
blockquote { margin: .8rem 0; padding-left: 1rem; border-left: 3px solid var(--line); color: var(--muted); }
"""


WIDE = ' class="wide"'


def page(title: str, body: str, wide: bool = False) -> str:
    """A whole page: inline style allowed by its hash, nothing else may load or run. The draft folder is a
    page bundle a site generator may copy, so template syntax in the body is made inert like index.html's."""
    body = inert(body)
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'sha256-{digest}'; img-src data:; base-uri 'none'; form-action 'none'")
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<main{WIDE if wide else ''}>\n{body}\n</main>\n</body>\n</html>\n")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def badge(text: str, css: str = "") -> str:
    return f'<span class="badge {esc(css)}">{esc(text)}</span>'


def counts_html(counts: Counter, css: str) -> str:
    return "".join(badge(f"{code} ×{n}" if n > 1 else str(code), css) for code, n in sorted(counts.items()))


def index_page(rows: list[DraftRow]) -> str:
    head = ("<tr><th>draft</th><th>kind</th><th>date / week</th><th>status</th><th>findings</th><th>model</th>"
            "<th>tokens</th><th>time</th><th>edited</th><th>front matter</th><th>published</th></tr>")
    body = "\n".join(
        f'<tr data-folder="{esc(r.folder)}" data-status="{esc(r.status)}">'
        f'<td><a href="{esc(r.folder)}/review.html">{esc(r.title)}</a><div class="small">{esc(r.folder)}</div></td>'
        f"<td>{esc(r.kind)}</td><td>{esc(r.when)}</td><td>{badge(STATUS_LABEL.get(r.status, r.status), r.status)}</td>"
        f'<td class="findings">{counts_html(r.attention, "attention")}{counts_html(r.info, "")}</td>'
        f"<td>{esc(r.model)}</td><td>{r.tokens_out}</td><td>{r.total_s:.1f} s</td>"
        f"<td>{'yes' if r.edited else 'no' if r.edited is False else '?'}</td>"
        f"<td>{'draft: false' if r.approved else 'draft: true'}</td>"
        f'<td class="published">{esc(", ".join(sorted(r.published))) or "no"}</td></tr>' for r in rows)
    waiting = sum(r.status != "ok" for r in rows)
    summary = f"{len(rows)} draft(s), {waiting} needing a look" if rows else "no drafts yet: run <code>pipeline run BRIEF</code>"
    table = f'<table id="drafts">\n<thead>{head}</thead>\n<tbody>\n{body}\n</tbody>\n</table>'
    return page("Drafts for review", f'<h1>Drafts for review</h1>\n<p class="meta">{summary}</p>\n{table}', wide=True)


def review_page(folder: Path, manifest: dict, markdown: str) -> str:
    meta = front_matter(markdown)
    title = str(meta.get("title") or folder.name)
    recorded = {s.get("heading"): s for s in sections_of(manifest)}
    parts = _SECTION_HEADING.split(FRONT_MATTER.sub("", markdown, count=1))
    blocks = [f'<section class="draft"><div class="body">{markdown_html(parts[0])}</div></section>'] if parts[0].strip() else []
    for k in range(1, len(parts), 2):
        heading, text = parts[k].replace("\u200b", "").strip(), parts[k + 1]
        blocks.append(section_block(heading, text, recorded.get(heading)))
    status = str(manifest.get("status") or "unknown")
    totals = manifest.get("totals") or {}
    header = (f"<h1>{esc(title)}</h1>\n<p class=\"meta\">{badge(STATUS_LABEL.get(status, status), status)} "
              f"{esc(manifest.get('kind') or 'post')} · model {esc((manifest.get('model') or {}).get('spec', ''))} · "
              f"{esc(totals.get('tokens_out', 0))} tokens in {esc(totals.get('generation_s', 0))} s · run "
              f"{esc(manifest.get('run_id', ''))} · <a href=\"index.md\">index.md</a> · <a href=\"index.html\">index.html</a> · "
              f"<a href=\"../../index.html\">all drafts</a></p>")
    return page(f"Review: {title}", header + "\n" + published_block(folder) + "\n".join(blocks) + "\n" + checks_block(manifest))


def earlier(entry: dict) -> str:
    history = entry.get("history") or []
    return f" · {len(history)} earlier" if history else ""


def published_block(folder: Path) -> str:
    """Where this draft was published, from published.json (nothing when it never was)."""
    sent = [(name, entry) for name, entry in read_record(folder).items() if isinstance(entry, dict)]
    if not sent:
        return ""
    rows = "".join(f'<li data-target="{esc(name)}">{esc(name)} ({esc(e.get("type"))}): {esc(e.get("remote"))} · '
                   f'{esc(e.get("at"))} · draft: {esc(str(e.get("draft")).lower())}{earlier(e)}</li>' for name, e in sent)
    return f'<section class="checks" id="published"><h2>Published</h2><ul>{rows}</ul></section>\n'



def section_block(heading: str, text: str, recorded: dict | None) -> str:
    """The section as it reads, its findings where it is, and (for model prose) how it was written."""
    if recorded is None:
        return (f'<section class="draft"><h2>{esc(heading)}</h2>{markdown_html(text)}'
                '<p class="small">from data or the brief</p></section>')
    findings = [f for f in recorded.get("findings", []) if isinstance(f, dict)]
    unverified = [m for f in findings if f.get("code") == "unverified_number" for m in numbers_in(f.get("message", ""))]
    body = mark_numbers(markdown_html(without_notes(text)), unverified)
    status = str(recorded.get("status") or "ok")
    thinking = "thinking on" if recorded.get("enable_thinking") else "thinking off"
    notes = "".join(finding_html(f) for f in findings)
    return (f'<section class="draft {esc(status)}" data-heading="{esc(heading)}"><h2>{esc(heading)}</h2>'
            f'<p class="small">{badge(STATUS_LABEL.get(status, status), status)}{badge(thinking)}'
            f"{badge(str(recorded.get('stage', '')))}{badge(target_label(recorded))}</p>"
            f'<div class="body">{body}</div>{notes}{attempts_block(recorded)}</section>')


def target_label(recorded: dict) -> str:
    return f"target {recorded.get('target_words', 0)} words"


def finding_html(finding: dict) -> str:
    severity = "attention" if finding.get("severity") == ATTENTION else "info"
    code = esc(finding.get("code", ""))
    return (f'<div class="finding {severity}" data-code="{code}"><code>{code}</code> '
            f'{badge(severity, severity)} {esc(finding.get("message", ""))}</div>')


def attempts_block(recorded: dict) -> str:
    attempts = [a for a in recorded.get("attempts", []) if isinstance(a, dict)]
    rows = "".join(
        f"<tr><td>{esc(a.get('number'))}</td><td>{esc(a.get('rung'))}</td><td>{esc(a.get('finish_reason'))}</td>"
        f"<td>{esc(a.get('tokens_out'))}</td><td>{esc(a.get('tok_s'))}</td><td>{esc(a.get('wall_s'))}</td>"
        f"<td>{esc(', '.join(str(f.get('code')) for f in a.get('findings', []) if isinstance(f, dict)))}</td></tr>"
        + (f'<tr><td></td><td colspan="6"><details><summary>cut at the collapse ({esc((a.get("collapse") or {}).get("signal"))}, '
           f"character {esc((a.get('collapse') or {}).get('onset'))}): what the model wrote</summary>"
           f"<pre>{esc(a.get('raw_text', ''))}</pre></details></td></tr>" if a.get("collapse") else "")
        for a in attempts)
    return (f"<details><summary>{len(attempts)} attempt(s)</summary><table><thead><tr><th>#</th><th>rung</th>"
            f"<th>finish</th><th>tokens</th><th>tok/s</th><th>s</th><th>findings</th></tr></thead><tbody>{rows}"
            "</tbody></table></details>")


def checks_block(manifest: dict) -> str:
    """The number check and, for a newsletter, the feeds and the items picked."""
    checks = manifest.get("checks") or {}
    parts = []
    if checks:
        known = checks.get("known_numbers") or []
        parts.append(f"<h2>What the prose was checked against</h2><p class=\"small\">{len(known)} numbers from the brief, "
                     f"data and feeds (unverified numbers: {esc(checks.get('unverified_numbers'))}); "
                     f"{len(checks.get('allowed_links') or [])} allowed links.</p>"
                     f"<details><summary>known numbers</summary>"
                     f"<p class=\"small\">{esc(', '.join(map(str, known)))}</p></details>")
    sources = manifest["sources"] if isinstance(manifest.get("sources"), dict) else {}
    audit = sources.get("number_audit")
    if isinstance(audit, dict):
        parts.append(f"<p class=\"small\">Number check: {esc(audit.get('verified'))} of {esc(audit.get('numbers'))} "
                     f"numbers verified; unverified: {esc(', '.join(map(str, audit.get('unverified') or [])) or 'none')}</p>")
    feeds = [f for f in sources.get("feeds") or [] if isinstance(f, dict)]
    if feeds:
        rows = "".join(f"<tr><td>{esc(f.get('name'))}</td><td>{feed_badge(f)}</td><td>{esc(f.get('items'))}</td>"
                       f"<td>{esc(f.get('detail') or '')}</td></tr>" for f in feeds)
        parts.append(f"<h2>Feeds</h2><table id=\"feeds\"><thead><tr><th>feed</th><th>status</th><th>items</th><th>detail</th>"
                     f"</tr></thead><tbody>{rows}</tbody></table>")
    for news in [n for n in sources.get("news") or [] if isinstance(n, dict)]:
        picked = [p for p in news.get("picked") or [] if isinstance(p, dict)]
        items = "".join(f"<li>{esc(p.get('title'))} <span class=\"small\">({esc(p.get('source') or '')})</span> — "
                        f"{esc(p.get('reason') or '')}</li>" for p in picked)
        parts.append(f"<h3>Picked for {esc(news.get('heading'))} ({esc(news.get('method'))})</h3><ul>{items}</ul>"
                     + attempts_block(news))
    return "\n".join(parts)


def feed_badge(feed: dict) -> str:
    return badge(str(feed.get("status")), "ok" if feed.get("status") == "ok" else "attention")


_NUMBER_LIST = re.compile(r":\s*(.+)$")


def numbers_in(message: str) -> list[str]:
    """The numbers an unverified_number finding lists ("...: 17, 12")."""
    match = _NUMBER_LIST.search(message)
    return [n.strip() for n in match.group(1).split(",")] if match else []


def mark_numbers(body_html: str, numbers: list[str]) -> str:
    """<mark> each unverified number where it stands, in text only (never inside a tag)."""
    if not numbers:
        return body_html
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(html.escape(n)) for n in set(numbers)) + r")(?![\w])")
    return "".join(part if part.startswith("<") else pattern.sub(r"<mark>\1</mark>", part) for part in _TAG.split(body_html))




def without_notes(text: str) -> str:
    """The run's notes are shown as findings beside the text, not twice."""
    return REVIEW_NOTE.sub("", text)


# -- the terminal and JSON ----------------------------------------------------------------------
def review_lines(rows: list[DraftRow]) -> list[str]:
    if not rows:
        return ["no drafts yet"]
    lines = []
    for r in rows:
        flags = ", ".join(f"{code}×{n}" if n > 1 else str(code) for code, n in sorted(r.attention.items()))
        lines.append(f"{STATUS_LABEL.get(r.status, r.status):<16} {r.when:<11} {r.kind:<10} {r.folder}"
                     + (f"  [{flags}]" if flags else "") + ("  (edited)" if r.edited else ""))
    return lines


def write_index(out_root: Path) -> Path:
    """output/index.html, rebuilt from every draft's run.json."""
    index = out_root / "index.html"
    write_whole(index, index_page(draft_rows(out_root)))
    return index


def refresh_index(out_root: Path) -> None:
    """After a run: the draft is written whatever happens to the index (a warning says why it is stale)."""
    try:
        write_index(out_root)
    except OSError as exc:
        log.warning("could not rebuild %s: %s; run `pipeline review` to try again", out_root / "index.html", exc)


def write_review_page(folder: Path) -> None:
    """One draft's review.html, from its files as they are now (a reviewer's edits, what was published)."""
    if (read := read_draft(folder)) is not None:
        write_whole(folder / "review.html", review_page(folder, *read))


def write_review_pages(out_root: Path) -> tuple[Path, list[DraftRow]]:
    """Every draft's review.html, then the index."""
    for folder in draft_folders(out_root):
        write_review_page(folder)
    return write_index(out_root), draft_rows(out_root)


def review_json(rows: list[DraftRow], index: Path) -> dict:
    return {"index": str(index), "drafts": [r.as_dict() for r in rows]}
