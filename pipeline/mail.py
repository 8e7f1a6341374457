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
    """Plain text: headings underlined, links as 'text (url)', emphasis and code marks dropped."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", body_markdown)
    text = re.sub(r"\[([^\]]+)\]\((\S+?)\)", _text_link, text)
    text = re.sub(r"<[A-Za-z/!?][^<>]*>", "", text)  # no markup survives in the text part
    text = re.sub(r"(?m)^#{1,6}\s*(.+)$", lambda m: f"{m.group(1)}\n{'-' * len(m.group(1))}", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?m)^>\s?", "", text)
    text = _MARKDOWN_ESCAPE.sub(r"\1", text)  # readers see "enable_thinking", not "enable\_thinking"
    return inert(f"{title}\n{'=' * len(title)}\n\n{text.strip()}\n")  # mail services run Liquid too


_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()<>#+!|~.-])")
