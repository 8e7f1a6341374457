"""Sectional generation: one capped, streamed call per section, reasoning stripped, retried when
the kept text is unusable, every attempt recorded.

Sections are independent (the shared system prompt is their only common input), so
`generate_sections` is the single place a batched implementation will slot in."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from tenacity import Retrying, retry_if_result, stop_after_attempt

from .backends import Backend, Chat, GenerationStats
from .progress import Reporter
from .prompts import SectionPrompt
from .quality import ATTENTION, INFO, Finding, check_section, trim_to_sentence
from .thinking import prompt_opens_think, split_thinking


@dataclass
class Attempt:
    number: int
    seed: int
    finish_reason: str
    raw_text: str
    kept_text: str
    reasoning_chars: int
    stats: GenerationStats
    findings: list[Finding]

    @property
    def usable(self) -> bool:
        return not any(f.severity == ATTENTION for f in self.findings)


@dataclass
class SectionResult:
    prompt: SectionPrompt
    rendered_prompt: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def chosen(self) -> Attempt:
        """The last usable attempt, else the one that kept the most text."""
        usable = [a for a in self.attempts if a.usable]
        return usable[-1] if usable else max(self.attempts, key=lambda a: len(a.kept_text))

    @property
    def text(self) -> str:
        return self.chosen.kept_text

    @property
    def findings(self) -> list[Finding]:
        return self.chosen.findings

    @property
    def needs_attention(self) -> bool:
        return not self.chosen.usable




def derive_seed(base: int, section: int, attempt: int) -> int:
    """A different, reproducible seed for every section and retry."""
    digest = hashlib.sha256(f"{base}:{section}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def run_attempt(backend: Backend, prompt: SectionPrompt, rendered: str, number: int, reporter: Reporter) -> Attempt:
    seed = derive_seed(prompt.settings.seed, prompt.index, number)
    chat = Chat(prompt.messages, prompt.settings, seed)
    pieces, final = [], None
    reporter.attempt_started(prompt, number)
    for delta in backend.stream(chat):
        pieces.append(delta.text)
        reporter.tokens(prompt, delta.generation_tokens)
        final = delta
    raw = "".join(pieces)
    kept, findings = keep_text(raw, final.finish_reason, backend.think_markers, prompt_opens_think(rendered, backend.think_markers))
    findings += check_section(kept, prompt.target_words)
    return Attempt(number, seed, final.finish_reason, raw, kept, len(raw) - len(kept), final.stats or GenerationStats(), findings)


def keep_text(raw: str, finish_reason: str, markers: tuple[str, str], starts_inside: bool) -> tuple[str, list[Finding]]:
    """What of a raw generation may reach the draft, and what was removed on the way."""
    split = split_thinking(raw, markers, starts_inside)
    findings = []
    if split.reasoning or split.markers:
        detail = " (unclosed)" if split.unclosed else " (no opening marker)" if split.stray_close else ""
        findings.append(Finding("reasoning_removed", INFO, f"removed {len(split.reasoning)} characters of reasoning{detail}"))
    text = split.visible
    if finish_reason == "length" and text:
        trimmed = trim_to_sentence(text)
        findings.append(Finding("cap_trimmed", INFO, f"hit max_tokens; cut back to the last complete sentence "
                                                   f"({len(text) - len(trimmed)} characters dropped)"))
        text = trimmed
    return text, findings


def generate_section(backend: Backend, prompt: SectionPrompt, rendered: str, reporter: Reporter) -> SectionResult:
    result = SectionResult(prompt, rendered)

    def attempt_once() -> Attempt:
        attempt = run_attempt(backend, prompt, result.rendered_prompt, len(result.attempts) + 1, reporter)
        result.attempts.append(attempt)
        return attempt

    Retrying(
        stop=stop_after_attempt(prompt.settings.attempts),
        retry=retry_if_result(lambda attempt: not attempt.usable),  # errors (memory, model) are not retried
        retry_error_callback=lambda state: state.outcome.result(),  # out of attempts: keep what we have
    )(attempt_once)
    reporter.section_finished(result)
    return result


@dataclass
class GenerationRun:
    sections: list[SectionResult]
    shared_prefix_tokens: int  # prefilled once and reused by every call
    prefix_s: float  # time spent prefilling it


def generate_sections(backend: Backend, prompts: list[SectionPrompt], reporter: Reporter) -> GenerationRun:
    rendered = [backend.chat_prompt(p.messages, p.enable_thinking) for p in prompts]
    started = time.perf_counter()
    reporter.note(f"prefilling the prompt prefix shared by {len(prompts)} sections")
    shared = backend.share_prefix(rendered)
    prefix_s = time.perf_counter() - started
    reporter.note(f"shared prefix: {shared} tokens in {prefix_s:.1f}s")
    sections = [generate_section(backend, p, text, reporter) for p, text in zip(prompts, rendered)]
    return GenerationRun(sections, shared, prefix_s)
