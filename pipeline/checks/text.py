"""Text primitives every check shares: where sentences and clauses end, what a list marker looks
like, word counts, trimming to a sentence, and markdown turned into safe HTML. Pure.

The patterns are built from one set of characters each, so the trimmer, the mid-sentence check,
the number audit and the collapse detector cannot drift apart on what a sentence end is."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import markdown
import nh3

SENTENCE_PUNCTUATION = ".!?…"
CLAUSE_PUNCTUATION = SENTENCE_PUNCTUATION + ":;"  # the collapse detector also counts clause ends
CLOSERS = "\"'”’)]*_"  # closing quotes and brackets, markdown emphasis: "stop." and **Done.** end too
LIST_NUMBER = r"\d+[.)]"  # "2." or "2)" opening a numbered list item


def _end_of(punctuation: str) -> str:
    return f"[{re.escape(punctuation)}][{re.escape(CLOSERS)}]*"


# A sentence ends at its punctuation (and closers) followed by whitespace or the end of the text.
SENTENCE_END = re.compile(_end_of(SENTENCE_PUNCTUATION) + r"(?=\s|$)")
_CLAUSE_END_WORD = re.compile(_end_of(CLAUSE_PUNCTUATION) + "$")  # on one whitespace-free word
_LIST_NUMBER_AT_LINE_START = re.compile(rf"(?m)^\s*{LIST_NUMBER}")
_LIST_NUMBER_ITEM = re.compile(rf"(?m)^\s*({LIST_NUMBER})\s")  # the marker, then the item's text
_LIST_NUMBER_WORD = re.compile(rf"^{LIST_NUMBER}$")
_LIST_ITEM_LINE = re.compile(rf"^(?:[-*+]|{LIST_NUMBER})\s")
_WORD = re.compile(r"\b[\w'’-]+\b")
_MARKDOWN_EXTENSIONS = ["extra", "sane_lists"]


def ends_clause(word: str) -> bool:
    """A whitespace-free word ending a sentence or a clause: 'done.', 'this:', 'it;', '**so.**'."""
    return bool(_CLAUSE_END_WORD.search(word))


def is_list_number(word: str) -> bool:
    """'11.' or '3)' as a word of its own: a numbered list item's marker."""
    return bool(_LIST_NUMBER_WORD.match(word))


def list_number_starts(text: str) -> set[int]:
    """Offsets of the digits of every '3. ' marker opening a numbered list item."""
    return {m.start(1) for m in _LIST_NUMBER_ITEM.finditer(text)}


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def last_sentence_end(text: str) -> int | None:
    # "2." opening a numbered list item is not the end of a sentence.
    numbers = {m.end() for m in _LIST_NUMBER_AT_LINE_START.finditer(text)}
    ends = [m.end() for m in SENTENCE_END.finditer(text) if m.end() not in numbers]
    return ends[-1] if ends else None


def trim_to_sentence(text: str) -> str:
    """Cut text back to its last complete sentence ('' when there is none)."""
    end = last_sentence_end(text)
    return text[:end].rstrip() if end else ""


# What may close a finished section without continuing its last sentence: an HTML comment, a footnote mark
# ("…in practice.[^1]"), an emoji ("See you next week. 👋").
_TRAILING_EXTRA = re.compile(r"(?:<!--.*?-->|\[\^[^\]\s]+\])\s*\Z", re.DOTALL)
_NOT_A_SENTENCE = re.compile(r"^(?:!?\[[^\]]*\]\([^)]*\)|<?https?://\S+?>?|<[^>]+>)$")  # an image, a link, a URL or a tag alone
# A list item may end without a full stop ("- 64 GB for the model"), but not on a word that cannot end a phrase
# ("- Set the cap to 512 so the"). Prepositions can ("where the value came from"), so they are not among them.
_DANGLING = re.compile(r"(?:[,:(]|\b(?:a|an|the|to|and|or|but|nor|whether|because|than|my|your|its|their|our))[\s*_]*$")


def _is_emoji_part(char: str) -> bool:
    """A pictograph, or what joins and colours one (a variation selector, a zero-width joiner, a skin tone)."""
    return unicodedata.category(char) == "So" or char in "\ufe0f\u200d\u20e3" or "\U0001f3fb" <= char <= "\U0001f3ff"


def _without_trailing_extras(text: str) -> str:
    while True:
        shorter = _TRAILING_EXTRA.sub("", text).rstrip()
        while shorter and _is_emoji_part(shorter[-1]):
            shorter = shorter[:-1].rstrip()
        if shorter == text:
            return text
        text = shorter


def ends_mid_sentence(text: str) -> bool:
    stripped = _without_trailing_extras(text.rstrip())
    if not stripped:
        return False
    last_line = stripped.splitlines()[-1].strip()
    # Tables, code and headings need not end with a full stop, nor an image or a bare link; "**Note:** ..." is prose.
    if last_line.startswith(("|", "```", "~~~", "#")) or _NOT_A_SENTENCE.match(last_line):
        return False
    if _LIST_ITEM_LINE.match(last_line):
        return bool(_DANGLING.search(last_line))
    return last_sentence_end(stripped) != len(stripped)


def markdown_html(markdown_text: str, tags: set[str] | None = None, url_schemes: set[str] | None = None,
                  link_rel: str | None = None) -> str:
    """Markdown as sanitized HTML: model and feed text is untrusted, so nh3 cleans every rendering."""
    html = markdown.markdown(markdown_text, extensions=_MARKDOWN_EXTENSIONS)
    # Options left out keep nh3's own defaults (link_rel=None would drop its rel="noopener noreferrer").
    options: dict[str, Any] = {"tags": tags, "url_schemes": url_schemes, "link_rel": link_rel}
    return nh3.clean(html, **{name: value for name, value in options.items() if value is not None})


# A fenced code block (to its closing fence, or to the end when it is never closed) and an inline code span (`x`, or
# ``x`` to hold a backtick): code, not prose, to the checks that read prose (numbers, placeholders, headings, repetition)
FENCED_CODE = re.compile(r"(?ms)^ {0,3}(```|~~~).*?(?:(?P<closed>^ {0,3}\1[^\n]*$)|\Z)")
CODE = re.compile(FENCED_CODE.pattern + r"|(?-s:(?P<ticks>`+)[^\n]*?(?<!`)(?P=ticks)(?!`))", re.MULTILINE | re.DOTALL)


QUOTE_CHARS = 80  # how much of a sentence a finding's message quotes


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    return f"“{text if len(text) <= limit else text[:limit].rsplit(' ', 1)[0] + '…'}”"


def blanked(text: str, pattern: re.Pattern) -> str:
    """The matches replaced by as many spaces: offsets still point into the text."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)  # a draft's YAML block; group 1 is the YAML
REVIEW_NOTE = re.compile(r"(?m)^> \*\*Needs attention:\*\*.*(?:\n|\Z)")  # what assemble writes under a section


# Hugo shortcodes and Liquid open with {{ or {%; kramdown (Jekyll) runs {::extensions} and sets any
# attribute, onclick too, with {: name="..."} lists. {:.2f} and the like are left alone.
TEMPLATE_OPENER = re.compile(r"\{(?=[{%]|::|:[^}\n]*=)")
ZERO_WIDTH_SPACE = "\u200b"


def inert(body: str) -> str:
    """index.md is a Hugo/Jekyll page bundle: `{{` and `{%` would run as shortcodes or Liquid, in code
    blocks too, and kramdown's `{:` lists set attributes. A zero-width space after the brace keeps the
    visible text and breaks the syntax; HTML entities would not do, they show as written in code."""
    return TEMPLATE_OPENER.sub("{" + ZERO_WIDTH_SPACE, body)


LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # cannot be written as UTF-8; nh3 raises on them too


def without_surrogates(text: str, replacement: str = "\ufffd") -> str:
    """Text from outside (model output, data, feeds) that can always be written as UTF-8."""
    return LONE_SURROGATE.sub(replacement, text)
