"""Checks on one finished section's kept text: empty, leaked chat or reasoning markers, cut
mid-sentence, far off its target length. No I/O, no model: usable on any text."""

from __future__ import annotations

import re
from functools import lru_cache

from .findings import ATTENTION, INFO, Finding
from .links import unsafe_links_finding
from .markup import dangerous_tags
from .reasoning import reasoning_sentences
from .text import CODE, TEMPLATE_OPENER, blanked, ends_mid_sentence, quote, word_count

DEFAULT_THINK_MARKERS = ("<think>", "</think>")
SHORT_SHARE = 0.4  # below this share of the target's words a section is "short"
CHAT_SPECIAL_TOKENS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|assistant|>")


def _marker_pattern(marker: str) -> str:
    # A tag's closing '>' is optional: a bare "<think" or "</think" is a leak too.
    return re.escape(marker[:-1]) + ">?" if marker.endswith(">") and len(marker) > 1 else re.escape(marker)


@lru_cache(maxsize=16)
def leak_pattern(markers: tuple[str, str]) -> re.Pattern:
    """The tokenizer's think markers and the chat special tokens, as one pattern."""
    think = [_marker_pattern(marker) for marker in dict.fromkeys(markers) if marker]
    return re.compile("|".join(think + [re.escape(token) for token in CHAT_SPECIAL_TOKENS]))


def think_leaks(text: str, markers: tuple[str, str] = DEFAULT_THINK_MARKERS) -> list[str]:
    """Markers left in the prose; in code (`<think>`, a fenced chat transcript) they are what a post about
    reasoning models shows, not a leak."""
    return sorted(set(leak_pattern(tuple(markers)).findall(blanked(text, CODE))))


# A form's blank the model left for someone to fill ("[Your Name]", "[My Date]", "[Insert link]"): not a markdown link
# ("[Your Name](url)", "[x][ref]", "[label]:") and not in code. Names of macros and options ("[HAVE_W32_SYSTEM]",
# "[URL]" in a usage line) are left alone: real changelogs and manuals write them so.
_PLACEHOLDER = re.compile(r"(?<![!\]\[\\])\[((?:Your|My|Her|His|Their|Insert|Enter|Company|Client|Product|Author|Name|"
                          r"Date|Brand|City|Location)\b[^\]\n]{0,40})\](?![(\[:])")
_DEFINED = re.compile(r"(?m)^\s*\[([^\]\n]+)\]:")


def placeholders(text: str) -> list[str]:
    prose = blanked(text, CODE)
    defined = set(_DEFINED.findall(prose))
    return list(dict.fromkeys(m.group(0) for m in _PLACEHOLDER.finditer(prose) if m.group(1) not in defined))


def markup_findings(text: str) -> list[Finding]:
    """What a site generator would execute: unsafe links need a look (and are removed from the draft);
    template syntax and raw HTML are neutralised in the draft and noted."""
    findings = [f for f in [unsafe_links_finding(text)] if f]
    if TEMPLATE_OPENER.search(text):  # the same pattern inert() breaks
        findings.append(Finding("template_syntax", INFO, "Hugo/Liquid/kramdown syntax ({{, {% or {:) made inert in index.md"))
    if dangerous_tags(text):
        findings.append(Finding("raw_html", INFO,
                                "raw HTML that runs code (scripts, event handlers) removed or made inert in the draft"))
    return findings


def check_section(text: str, target_words: int, markers: tuple[str, str] = DEFAULT_THINK_MARKERS) -> list[Finding]:
    """Findings for a finished section's kept text; `markers` are the backend's think markers."""
    findings = []
    if not text.strip():
        return [Finding("empty", ATTENTION, "no usable text was generated")]
    leaks = think_leaks(text, markers)
    if leaks:
        findings.append(Finding("think_leak", ATTENTION, f"chat or reasoning markers in the text: {', '.join(leaks)}"))
    if reasoning := reasoning_sentences(text):
        more = f" and {len(reasoning) - 1} more sentence(s)" if len(reasoning) > 1 else ""
        findings.append(Finding("reasoning", ATTENTION, f"the model's reasoning about the task, written as text without "
                                                        f"think markers: {quote(reasoning[0])}{more}; delete the "
                                                        "reasoning, keep the section"))
    if ends_mid_sentence(text):
        findings.append(Finding("mid_sentence", ATTENTION, "the text ends in the middle of a sentence"))
    findings += markup_findings(text)
    if blanks := placeholders(text):
        findings.append(Finding("placeholder", ATTENTION, f"blanks left to fill in: {', '.join(blanks[:6])}; write what "
                                                          "they stand for, or delete them"))
    words = word_count(text)
    if words < SHORT_SHARE * target_words:  # a fragment, not a section: worth a retry, then a reviewer's look
        findings.append(Finding("short", ATTENTION, f"{words} words, target {target_words}: far too short; "
                                                    "retried, then kept for review — expand or cut the section"))
    elif words > 2.0 * target_words:
        findings.append(Finding("long", INFO, f"{words} words, target {target_words}"))
    return findings
