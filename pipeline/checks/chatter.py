"""Assistant chatter around a section: a preamble line ("Sure! Here is your section:") before the
content and an offer or question to the user ("Would you like another section?") after it. Trimmed
only when it stands on its own line at the very start or end, so content is never cut. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREAMBLE = re.compile(
    r"\A\s*(?:(?:sure|certainly|of course|absolutely|okay|ok|great)[!,.]*\s*)?"
    r"(?:here(?:'s|’s| is| are)\s+(?:your|the|a|an|my)?\s*(?:requested\s+|revised\s+|new\s+)?"
    r"(?:section|draft|paragraph|text|content|post|answer|response|introduction|rewrite)\b[^\n]{0,60}"
    r"|(?:sure|certainly|of course|absolutely)[!.]*)\s*:?[ \t]*\n+",
    re.IGNORECASE)
_OFFER = re.compile(
    r"\n[ \t]*\n?[ \t]*((?:would you like|do you want|shall i|should i|let me know|i hope (?:this|that) helps|"
    r"feel free to|what would be|can i help|is there anything|if you(?:'d| would) like)[^\n]{0,200})\s*\Z",
    re.IGNORECASE)


@dataclass(frozen=True)
class Trimmed:
    text: str
    removed: list[str]  # what was cut, for run.json


def trim_chatter(text: str) -> Trimmed:
    removed = []
    if (lead := _PREAMBLE.match(text)) and text[lead.end():].strip():
        removed.append(lead.group().strip())
        text = text[lead.end():]
    if (tail := _OFFER.search(text)) and text[: tail.start()].strip():
        removed.append(tail.group(1).strip())
        text = text[: tail.start()]
    return Trimmed(text.strip() if removed else text, removed)
