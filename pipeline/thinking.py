"""Remove reasoning text using the tokenizer's think markers. Nothing between them reaches a draft."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .checks.text import FENCED_CODE


@dataclass(frozen=True)
class SplitText:
    visible: str
    reasoning: str
    unclosed: bool  # reasoning never ended (usually the token cap hit mid-thought)
    stray_close: bool  # a close marker with no opening: the prompt opened the think block
    markers: int  # think markers seen in the output (an empty block still counts)


def prompt_opens_think(prompt: str, markers: tuple[str, str]) -> bool:
    """Some chat templates end the prompt with an open think marker when thinking is on."""
    open_marker, close_marker = markers
    tail = prompt.rstrip()
    return tail.rfind(open_marker) > tail.rfind(close_marker)


def split_thinking(raw: str, markers: tuple[str, str], starts_inside: bool = False) -> SplitText:
    """Parse raw model output into visible and reasoning parts.

    Rules: `<think>…</think>` blocks (empty or not) are reasoning; an unclosed `<think>` makes the
    rest reasoning; a `</think>` with no opener makes everything before it reasoning. A marker the
    visible text shows as code (`` `<think>` ``, a fenced transcript) is content, not a block."""
    open_marker, close_marker = markers
    visible: list[str] = []
    reasoning: list[str] = []
    inside, unclosed, stray = starts_inside, False, False
    pos, marker_count = 0, 0
    while pos < len(raw):
        if inside:
            end = raw.find(close_marker, pos)
            if end < 0:
                reasoning.append(raw[pos:])
                unclosed = True
                break
            reasoning.append(raw[pos:end])
            inside, pos, marker_count = False, end + len(close_marker), marker_count + 1
            continue
        next_open, next_close = raw.find(open_marker, pos), raw.find(close_marker, pos)
        found = [at for at in (next_open, next_close) if at >= 0]
        if not found:
            visible.append(raw[pos:])
            break
        at = min(found)
        marker = close_marker if at == next_close and (next_open < 0 or next_close < next_open) else open_marker
        if in_code("".join(visible) + raw[pos:at]):
            visible.append(raw[pos:at + len(marker)])
            pos = at + len(marker)
            continue
        marker_count += 1
        if marker == close_marker:  # a stray close: what came before it was reasoning the template had opened
            reasoning.append("".join(visible) + raw[pos:at])
            visible, stray, pos = [], True, at + len(close_marker)
            continue
        visible.append(raw[pos:at])
        inside, pos = True, at + len(open_marker)
    return SplitText("".join(visible).strip(), "".join(reasoning).strip(), unclosed, stray, marker_count)


_BACKTICK_RUN = re.compile(r"`+")


def in_code(before: str) -> bool:
    """Whether text that follows `before` is inside a fenced block never closed or an open inline code span."""
    fences = list(FENCED_CODE.finditer(before))
    if fences and fences[-1].group("closed") is None:
        return True
    return len(_BACKTICK_RUN.findall(before.rpartition("\n")[2])) % 2 == 1


TRANSITION = "\n\nI have thought enough; time to write the answer.\n"  # eases a model out of a cut-off thought


@dataclass
class ThinkingBudget:
    """Counts reasoning tokens as they are generated and says when the think block must be closed
    for the model: after `budget` of them, still inside. Backends feed it each generated piece
    (a token, or a scripted word) as opens/closes flags, and force the close themselves."""

    budget: int
    inside: bool = False  # the prompt may have opened the block already
    reasoning_tokens: int = 0
    hit: bool = False  # the budget ran out and the block was closed for the model
    closed: bool = False

    def saw(self, opens: bool, closes: bool) -> None:
        if closes:
            self.inside, self.closed = False, True
        elif opens and not self.closed:
            self.inside = True
        elif self.inside:
            self.reasoning_tokens += 1

    @property
    def must_close(self) -> bool:
        return self.inside and self.reasoning_tokens >= self.budget

    def cap(self, max_tokens: int, forced: int) -> int:
        """The call's cap: the answer keeps all of `max_tokens`; reasoning and the forced close come on top."""
        return max_tokens + self.budget + forced + 1  # +1: the opening marker
