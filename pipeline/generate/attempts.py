"""Attempts and their results: what the model is asked to write (a Task), how one watched call
becomes an Attempt (reasoning removed, collapse cut, cap trimmed, checked or parsed), and a
section's result, whose chosen attempt is fixed when the section finishes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..backends import GenerationStats
from ..checks.chatter import trim_chatter
from ..checks.collapse import Verdict
from ..checks.findings import ATTENTION, INFO, Finding
from ..checks.section import check_section
from ..checks.text import trim_to_sentence
from ..checks.tokens import collapse_of
from ..prompts import SectionPrompt
from ..thinking import prompt_opens_think, split_thinking
from .ladder import PROSE_LADDER, STRUCTURED_LADDER, Plan, Rung
from .watch import Streamed

Parser = Callable[[str], Any]  # a structured stage's answer -> value; ValueError says what is wrong


@dataclass(frozen=True)
class Task:
    """One piece the model writes: a prose section, or a structured stage's answer (`parse` set)."""

    prompt: SectionPrompt
    rendered: str  # the prompt after the chat template, applied once
    parse: Parser | None = None
    schema: dict | None = None  # the structured answer's JSON schema: decoding is held to it where the backend can

    @property
    def ladder(self) -> tuple[Rung, ...]:
        return STRUCTURED_LADDER if self.parse else PROSE_LADDER


@dataclass(frozen=True)
class Attempt:
    number: int
    rung: str
    seed: int
    settings: dict  # what this attempt changed from the section's settings
    finish_reason: str  # stop, length, or collapse (stopped early by the detector)
    raw_text: str
    kept_text: str
    reasoning_chars: int
    stats: GenerationStats
    findings: tuple[Finding, ...]
    collapse: Verdict | None = None
    tokens_after_onset: int | None = None  # tokens generated between collapse onset and the abort
    value: Any = None  # a structured stage's parsed answer
    error: str | None = None  # why a structured answer could not be used (shown to the model on repair)
    constrained: bool = False  # decoded under the stage's JSON schema

    @property
    def usable(self) -> bool:
        return not any(f.severity == ATTENTION for f in self.findings)

    @property
    def too_short(self) -> bool:
        return any(f.code == "short" for f in self.findings)


@dataclass(frozen=True)
class SectionResult:
    """A finished section: its attempts, the one chosen for the draft, and findings added later
    by verification (which never change the choice)."""

    task: Task
    attempts: tuple[Attempt, ...]
    chosen_number: int
    added_findings: tuple[Finding, ...] = ()
    from_cache: bool = False  # kept by an earlier, interrupted run of the same prompt, model and settings

    @property
    def prompt(self) -> SectionPrompt:
        return self.task.prompt

    @property
    def rendered_prompt(self) -> str:
        return self.task.rendered

    @property
    def chosen(self) -> Attempt:
        return self.attempts[self.chosen_number - 1]

    @property
    def text(self) -> str:
        return self.chosen.kept_text

    @property
    def findings(self) -> list[Finding]:
        return [*self.chosen.findings, *self.added_findings]

    @property
    def needs_attention(self) -> bool:
        return any(f.severity == ATTENTION for f in self.findings)

    def with_findings(self, findings: list[Finding]) -> SectionResult:
        return dataclasses.replace(self, added_findings=self.added_findings + tuple(findings))


def finish(task: Task, attempts: list[Attempt]) -> SectionResult:
    """Choose once: the last usable attempt, else the one that kept the most clean text."""
    usable = [a for a in attempts if a.usable]
    chosen = usable[-1] if usable else max(attempts, key=lambda a: len(a.kept_text))
    return SectionResult(task, tuple(attempts), chosen.number)


def kept_text(streamed: Streamed, markers: tuple[str, str], starts_inside: bool,
              trim: bool) -> tuple[str, list[Finding]]:
    """What of a generation may reach the draft, and what was removed on the way."""
    split = split_thinking(streamed.raw, markers, starts_inside)
    findings = []
    if split.reasoning or split.markers:
        detail = " (unclosed)" if split.unclosed else " (no opening marker)" if split.stray_close else ""
        findings.append(Finding("reasoning_removed", INFO, f"removed {len(split.reasoning)} characters of reasoning{detail}"))
    text = streamed.visible
    if streamed.collapse and streamed.collapse.onset is not None:
        onset = streamed.collapse.onset
        text = trim_to_sentence(text[:onset])
        findings.append(Finding("collapse", ATTENTION, f"{streamed.collapse.signal} from character {onset}; "
                                                       f"cut back to the last sentence before it"))
    elif streamed.finish_reason == "length" and text and trim:
        trimmed = trim_to_sentence(text)
        findings.append(Finding("cap_trimmed", INFO, f"hit max_tokens; cut back to the last complete sentence "
                                                   f"({len(text) - len(trimmed)} characters dropped)"))
        text = trimmed
    return text, findings


def judge(streamed: Streamed, task: Task, rendered: str, plan: Plan, markers: tuple[str, str],
          constrained: bool = False) -> Attempt:
    """A watched call as an attempt: prose is checked as text, a structured answer is parsed."""
    structured = task.parse is not None
    text, findings = kept_text(streamed, markers, prompt_opens_think(rendered, markers), trim=not structured)
    value, error = None, None
    if structured and not streamed.collapse:
        value, error = parse_answer(task.parse, text)
        findings += [Finding("unusable_answer", ATTENTION, error)] if error else []
    elif not streamed.collapse:
        text, trimmed = trim_chatter_finding(text, task.prompt)
        text, read = read_unwatched(text, task.prompt.language, streamed.watched)
        findings += trimmed + read + check_section(text, task.prompt.target_words, markers)
    elif not text.strip():
        findings.append(Finding("empty", ATTENTION, "no clean text before the collapse"))
    if streamed.finish_reason == "dropped":
        findings.append(Finding("stream_dropped", ATTENTION, "the server's stream broke off before the section ended"))
    if plan.settings.enable_thinking and plan.settings.thinking_budget and streamed.stats.thinking_budget_hit is None:
        findings.append(Finding("thinking_budget_not_enforced", INFO, "this backend or model cannot close a think "
                                "block (think markers that are not single tokens, or a server), so reasoning was not "
                                "cut at thinking_budget (max_tokens still held)"))
    return Attempt(plan.number, plan.rung.name, plan.seed, plan.changes, streamed.finish_reason, streamed.raw, text,
                   len(streamed.raw) - len(streamed.visible), streamed.stats, tuple(findings),
                   streamed.collapse, streamed.tokens_after_onset, value, error, constrained)


def read_unwatched(text: str, language: str, watched: bool) -> tuple[str, list[Finding]]:
    """Text no model judged while it streamed (`watched` false: a backend without probabilities, a section too long to
    read as it grew): only text signals watched it (in another language, not even English's salad signals), and they
    miss salad shaped like real text, so the embedded model reads it as `pipeline check` does; a salad is cut back
    as a streamed one is."""
    if watched or not text.strip():
        return text, []
    verdict = collapse_of(text, read=True, language=language)
    if not verdict.detected or verdict.onset is None:
        return text, []
    return trim_to_sentence(text[:verdict.onset]), [Finding(
        "collapse", ATTENTION, f"{verdict.signal} from character {verdict.onset}, found by the embedded model reading "
        f"the text (this backend streams no probabilities); cut back to the last sentence before it")]


def trim_chatter_finding(text: str, prompt: SectionPrompt) -> tuple[str, list[Finding]]:
    """Prose only: a preamble, a repeated heading, echoed instructions and a closing offer are not the
    section's content (cut at the ends, flagged inside)."""
    trimmed = trim_chatter(text, prompt.heading, [m["content"] for m in prompt.messages if m["role"] != "assistant"])
    findings = []
    if trimmed.removed:
        findings.append(Finding("chatter_trimmed", INFO, "removed: " + " / ".join(repr(r) for r in trimmed.removed)))
    if trimmed.echoed:
        findings.append(Finding("prompt_echo", ATTENTION, "the prompt's instructions repeated in the text: "
                                + " / ".join(repr(e) for e in trimmed.echoed) + "; delete them"))
    return trimmed.text, findings


def schema_for(task: Task, plan: Plan, constrained: bool) -> dict | None:
    """The schema to decode under: where the backend can hold it, and only with thinking off (a grammar
    from the first token would forbid the think block; parsed output is not reasoned, see DESIGN.md)."""
    return task.schema if constrained and not plan.settings.enable_thinking else None


def parse_answer(parse: Parser | None, text: str) -> tuple[Any, str | None]:
    try:
        return (parse(text) if parse else text), None
    except ValueError as exc:
        return None, str(exc)


def repair_messages(task: Task, previous: Attempt) -> tuple[dict, ...]:
    """The structured stage's retry: its own answer, why it was unusable, and the request again."""
    return task.prompt.messages[:2] + (
        {"role": "assistant", "content": previous.kept_text},
        {"role": "user", "content": f"That answer was not usable: {previous.error or 'it collapsed'}. "
                                    "Answer again with the JSON only."})


def half_prompts(prompt: SectionPrompt, plan: Plan) -> tuple[SectionPrompt, Callable[[str], SectionPrompt]]:
    """The split rung: the first half as its own call, then a continuation that sees it."""
    half = max(prompt.target_words // 2, 10)
    system, user = prompt.messages[0], prompt.messages[-1]
    first = dataclasses.replace(prompt, settings=plan.settings, target_words=half, messages=(
        system, {"role": "user", "content": f"{user['content']}\nWrite only the first half: about {half} words."}))

    def second(first_text: str) -> SectionPrompt:
        return dataclasses.replace(first, messages=(
            system, first.messages[1], {"role": "assistant", "content": first_text},
            {"role": "user", "content": f"Continue the section with the second half, about {half} words. "
                                        "Do not repeat what you wrote."}))

    return first, second


TEXT_CHECKS = {"empty", "think_leak", "mid_sentence", "short", "long"}  # re-judged on the joined text


def join_parts(parts: list[Attempt], prompt: SectionPrompt, markers: tuple[str, str]) -> Attempt:
    first, last = parts[0], parts[-1]
    text = "\n\n".join(p.kept_text for p in parts if p.kept_text)
    findings = [f for p in parts for f in p.findings if f.code not in TEXT_CHECKS]
    findings += check_section(text, prompt.target_words, markers)
    wall_s = sum(p.stats.wall_s for p in parts)
    tokens = sum(p.stats.generation_tokens for p in parts)
    stats = GenerationStats(
        prompt_tokens=sum(p.stats.prompt_tokens for p in parts), generation_tokens=tokens, wall_s=wall_s,
        generation_tps=tokens / wall_s if wall_s else 0.0, peak_memory_gb=max(p.stats.peak_memory_gb for p in parts),
        active_memory_gb=last.stats.active_memory_gb, cache_memory_gb=last.stats.cache_memory_gb,
        prefix_tokens_reused=first.stats.prefix_tokens_reused,
    )
    return Attempt(first.number, first.rung, first.seed, {**first.settings, "split": True}, last.finish_reason,
                   "\n\n".join(p.raw_text for p in parts), text, sum(p.reasoning_chars for p in parts), stats,
                   tuple(findings), last.collapse, last.tokens_after_onset)
