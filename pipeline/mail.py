"""Email renditions of a newsletter: email-safe HTML (table layout, inline CSS, ~600 px, no
scripts, no images at all) and a plain-text alternative. Pure."""

from __future__ import annotations

import html
import re

from .checks.text import inert, markdown_html

EMAIL_TAGS = {"p", "h2", "h3", "a", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "br",
              "table", "thead", "tbody", "tr", "th", "td"}  # no img: feed images are remote and track readers
STYLES = {
    "p": "margin:0 0 14px 0;font-size:16px;line-height:1.5;color:#1f2328;",
    "h2": "margin:28px 0 10px 0;font-size:20px;line-height:1.3;color:#1f2328;",
    "h3": "margin:20px 0 8px 0;font-size:17px;color:#1f2328;",
    "a": "color:#0b57d0;text-decoration:underline;",
    "ul": "margin:0 0 14px 20px;padding:0;", "ol": "margin:0 0 14px 20px;padding:0;",
    "li": "margin:0 0 6px 0;font-size:16px;line-height:1.5;color:#1f2328;",
    "blockquote": "margin:0 0 14px 0;padding:8px 12px;border-left:3px solid #d0d7de;color:#57606a;",
    "code": "font-family:Menlo,Consolas,monospace;font-size:14px;",
    "pre": "background:#f6f8fa;padding:10px;font-size:13px;overflow:auto;",
    "table": "border-collapse:collapse;margin:0 0 14px 0;",
    "th": "border:1px solid #d0d7de;padding:6px 10px;text-align:left;font-size:14px;",
    "td": "border:1px solid #d0d7de;padding:6px 10px;font-size:14px;",
}


def inline_styles(fragment: str) -> str:
    """Email clients drop <style> blocks: every tag carries its own style attribute."""
    def styled(match: re.Match) -> str:
        tag, rest = match.group(1), match.group(2)
        style = STYLES.get(tag)
        return f"<{tag}{rest} style=\"{style}\">" if style else match.group(0)
    return re.sub(r"<(\w+)((?:\s[^>]*)?)>", styled, fragment)


def email_html(title: str, preheader: str, body_markdown: str) -> str:
    body = inert(markdown_html(body_markdown, tags=EMAIL_TAGS, url_schemes={"http", "https", "mailto"},
                               link_rel="noopener noreferrer"))  # mail services run Liquid in bodies
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n</head>\n"
        "<body style=\"margin:0;padding:0;background:#f3f4f6;\">\n"
        f"<div style=\"display:none;max-height:0;overflow:hidden;\">{html.escape(preheader)}</div>\n"
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
        "style=\"background:#f3f4f6;\"><tr><td align=\"center\" style=\"padding:24px 12px;\">\n"
        "<table role=\"presentation\" width=\"600\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" "
        "style=\"width:600px;max-width:100%;background:#ffffff;\"><tr><td style=\"padding:24px 28px;"
        "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;\">\n"
        f"<h1 style=\"margin:0 0 16px 0;font-size:24px;color:#1f2328;\">{html.escape(title)}</h1>\n"
        f"{inline_styles(body)}\n"
        "</td></tr></table>\n</td></tr></table>\n</body>\n</html>\n"
    )


def _text_link(match: re.Match) -> str:
    label, url = match.group(1), match.group(2)
    return f"{label} ({url})" if url.startswith(("http://", "https://", "mailto:")) else label


def email_text(title: str, body_markdown: str) -> str:
    """Plain text: headings underlined, links as 'text (url)', emphasis and code marks dropped, markdown
    escapes undone outside code (inside code a backslash is the reader's own)."""
    text, codes = _set_code_aside(body_markdown.replace("\x00", ""))
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\((\S+?)\)", _text_link, text)
    text = re.sub(r"<((?:https?|mailto):[^<>\s]+)>", r"\1", text)  # an autolink is its URL
    text = re.sub(r"<[A-Za-z/!?][^<>]*>", "", text)  # no markup survives in the text part
    text = re.sub(r"(?m)^#{1,6}\s*(.+)$", lambda m: f"{m.group(1)}\n{'-' * len(_plain(m.group(1), codes))}", text)
    text = re.sub(r"(?m)^>\s?", "", text)
    text = _plain(text, codes)
    return inert(f"{title}\n{'=' * len(title)}\n\n{text.strip()}\n")  # mail services run Liquid too


_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()<>#+!|~.:-])")
# A fenced block (its lines, fences dropped) or a code span (its text, backticks dropped), as CommonMark reads them.
_CODE = re.compile(r"(?ms)^ {0,3}(`{3,}|~{3,})[^\n]*\n(.*?)^ {0,3}\1[`~]*[ \t]*$"
                   r"|(?<![`\\])(`+)(?!`)(.+?)(?<!`)\3(?!`)")


def _plain(text: str, codes: list[str]) -> str:
    """Emphasis marks dropped, escapes undone (readers see "enable_thinking", not "enable\\_thinking"),
    the code set aside put back."""
    text = _MARKDOWN_ESCAPE.sub(r"\1", re.sub(r"(?<!\\)(\*\*|__)", "", text))
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _set_code_aside(text: str) -> tuple[str, list[str]]:
    """Code replaced by numbered placeholders, so the plain-text rewrites never touch it."""
    codes: list[str] = []

    def aside(match: re.Match) -> str:
        codes.append(match.group(2).rstrip("\n") if match.group(1) else match.group(4).strip())
        return f"\x00{len(codes) - 1}\x00"
    return _CODE.sub(aside, text), codes
