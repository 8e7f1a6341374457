"""Sectional generation: one capped, streamed call per section, watched for collapse while it
streams, reasoning stripped, retried up a ladder of safer settings, every attempt recorded.

Sections are independent (the shared system prompt is their only common input), so
`generate_sections` is the single place a batched implementation will slot in."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

from tenacity import Retrying, retry_if_result, stop_after_attempt

from .backends import Backend, Chat, Delta, GenerationStats
from .checks.collapse import CollapseDetector, Verdict
from .checks.findings import ATTENTION, INFO, Finding
from .checks.section import check_section
from .checks.text import trim_to_sentence
from .config import SamplingSettings
from .progress import Reporter
from .prompts import SectionPrompt
from .thinking import prompt_opens_think, split_thinking


@dataclass(frozen=True)
class Rung:
    """One step of the retry ladder: each is safer (and shorter) than the one before."""

    name: str
    penalties: bool = False  # repetition/presence penalties over the whole section
    cap_factor: float = 1.0
    split: bool = False  # write the section as two halves, the second continuing the first


LADDER = (
    Rung("as configured"),
    Rung("new seed, penalties over the whole section", penalties=True),
    Rung("smaller cap", penalties=True, cap_factor=0.6),
    Rung("split in two", penalties=True, split=True),
)
SAFER_PENALTIES = {"repetition_penalty": 1.15, "presence_penalty": 0.3}


@dataclass
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
    findings: list[Finding]
    collapse: Verdict | None = None
    tokens_after_onset: int | None = None  # tokens generated between collapse onset and the abort

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
        """The last usable attempt, else the one that kept the most clean text."""
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


@dataclass
class Streamed:
    """What one backend call produced, watched by the collapse detector."""

    raw: str
    visible: str
    finish_reason: str
    stats: GenerationStats
    collapse: Verdict | None
    tokens_after_onset: int | None


def derive_seed(base: int, section: int, attempt: int) -> int:
    """A different, reproducible seed for every section and retry."""
    digest = hashlib.sha256(f"{base}:{section}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def rung_settings(settings: SamplingSettings, rung: Rung) -> dict:
    """The overrides a rung applies; penalties only ever get stronger."""
    changes = {}
    if rung.penalties:
        for key, value in SAFER_PENALTIES.items():
            if (getattr(settings, key) or 0) < value:
                changes[key] = value
    if rung.cap_factor != 1.0 or rung.split:
        changes["max_tokens"] = max(16, int(settings.max_tokens * (0.5 if rung.split else rung.cap_factor)))
    return changes


class VisibleText:
    """Tracks the reasoning-free text while raw output streams, for the detector."""

    def __init__(self, markers: tuple[str, str], starts_inside: bool):
        self.markers, self.starts_inside = markers, starts_inside
        self.raw = ""
        self.visible = ""

    def add(self, delta: str) -> tuple[str, bool]:
        """Returns (new visible text, whether earlier visible text was retracted)."""
        self.raw += delta
        visible = split_thinking(self.raw, self.markers, self.starts_inside).visible
        grew = visible.startswith(self.visible)
        added = visible[len(self.visible):] if grew else visible
        self.visible = visible
        return added, not grew


class NoDetector:
    """Stands in when a stage sets `collapse_watch: false`."""

    def feed(self, text: str, tokens: int = 0) -> Verdict:
        return Verdict()

    def finish(self) -> Verdict:
        return Verdict()


class Watch:
    """One sequence while it streams: its reasoning-free text and its collapse detector."""

    def __init__(self, markers: tuple[str, str], starts_inside: bool, collapse_watch: bool):
        self.text = VisibleText(markers, starts_inside)
        self.new_detector = CollapseDetector if collapse_watch else NoDetector
        self.detector = self.new_detector()
        self.checkpoints: list[tuple[int, int]] = []  # (visible chars, tokens so far)
        self.tokens = 0

    def add(self, delta: Delta) -> bool:
        """Take one streamed piece; True once the visible text has collapsed."""
        added, retracted = self.text.add(delta.text)
        if retracted:
            self.detector = self.new_detector()  # a late </think> turned earlier "visible" text into reasoning
            added = self.text.visible
        spent, self.tokens = delta.generation_tokens - self.tokens, delta.generation_tokens
        self.checkpoints.append((len(self.text.visible), self.tokens))
        return self.detector.feed(added, spent).detected

    def result(self, finish_reason: str, stats: GenerationStats) -> Streamed:
        verdict = self.detector.finish()
        if not verdict.detected:
            return Streamed(self.text.raw, self.text.visible, finish_reason, stats, None, None)
        after = self.tokens - tokens_at(self.checkpoints, verdict.onset)
        return Streamed(self.text.raw, self.text.visible, finish_reason, stats, verdict, after)


def new_watch(backend: Backend, chat: Chat, rendered: str) -> Watch:
    markers = backend.think_markers
    return Watch(markers, prompt_opens_think(rendered, markers), chat.settings.collapse_watch)


def stream_watched(backend: Backend, chat: Chat, rendered: str, prompt: SectionPrompt, reporter: Reporter) -> Streamed:
    """Stream one call; stop it the moment the detector sees collapse in the visible text."""
    watch, stream = new_watch(backend, chat, rendered), backend.stream(chat)
    for delta in stream:
        collapsed = watch.add(delta)
        reporter.tokens(prompt, delta.generation_tokens)
        if delta.finish_reason:
            return watch.result(delta.finish_reason, delta.stats)
        if collapsed:
            stream.close()  # stops generation at once: the backend records its stats on close
            return watch.result("collapse", backend.last_stats)
    return watch.result("stop", backend.last_stats)


def tokens_at(checkpoints: list[tuple[int, int]], offset: int) -> int:
    for chars, tokens in checkpoints:
        if chars > offset:
            return tokens
    return checkpoints[-1][1] if checkpoints else 0


def kept_text(streamed: Streamed, markers: tuple[str, str], starts_inside: bool) -> tuple[str, list[Finding]]:
    """What of a generation may reach the draft, and what was removed on the way."""
    split = split_thinking(streamed.raw, markers, starts_inside)
    findings = []
    if split.reasoning or split.markers:
        detail = " (unclosed)" if split.unclosed else " (no opening marker)" if split.stray_close else ""
        findings.append(Finding("reasoning_removed", INFO, f"removed {len(split.reasoning)} characters of reasoning{detail}"))
    text = streamed.visible
    if streamed.collapse:
        onset = streamed.collapse.onset
        text = trim_to_sentence(text[:onset])
        findings.append(Finding("collapse", ATTENTION, f"{streamed.collapse.signal} from character {onset}; "
                                                       f"cut back to the last sentence before it"))
    elif streamed.finish_reason == "length" and text:
        trimmed = trim_to_sentence(text)
        findings.append(Finding("cap_trimmed", INFO, f"hit max_tokens; cut back to the last complete sentence "
                                                   f"({len(text) - len(trimmed)} characters dropped)"))
        text = trimmed
    return text, findings


def half_prompts(prompt: SectionPrompt, settings: SamplingSettings) -> tuple[SectionPrompt, Callable[[str], SectionPrompt]]:
    """The split rung: the first half as its own call, then a continuation that sees it."""
    half = max(prompt.target_words // 2, 10)
    system, user = prompt.messages[0], prompt.messages[-1]
    first = dataclasses.replace(prompt, settings=settings, target_words=half, messages=(
        system, {"role": "user", "content": f"{user['content']}\nWrite only the first half: about {half} words."}))

    def second(first_text: str) -> SectionPrompt:
        return dataclasses.replace(first, messages=(
            system, first.messages[1], {"role": "assistant", "content": first_text},
            {"role": "user", "content": f"Continue the section with the second half, about {half} words. "
                                        "Do not repeat what you wrote."}))

    return first, second


def rung_for(number: int) -> Rung:
    return LADDER[min(number, len(LADDER)) - 1]  # attempts past the ladder stay on its last rung


def attempt_chat(prompt: SectionPrompt, number: int) -> tuple[Chat, dict]:
    """The call for this attempt: the rung's setting changes and a seed of its own."""
    changes = rung_settings(prompt.settings, rung_for(number))
    seed = derive_seed(prompt.settings.seed, prompt.index, number)
    return Chat(prompt.messages, prompt.settings.model_copy(update=changes), seed), changes


def run_attempt(backend: Backend, prompt: SectionPrompt, rendered: str, number: int, reporter: Reporter) -> Attempt:
    rung, (chat, changes) = rung_for(number), attempt_chat(prompt, number)
    reporter.attempt_started(prompt, number)
    if rung.split:
        return split_attempt(backend, prompt, chat.settings, changes, number, rung, chat.seed, reporter)
    streamed = stream_watched(backend, chat, rendered, prompt, reporter)
    return make_attempt(backend, streamed, rendered, prompt, number, rung, chat.seed, changes)


def make_attempt(backend, streamed: Streamed, rendered: str, prompt: SectionPrompt, number: int, rung: Rung,
                 seed: int, changes: dict) -> Attempt:
    text, findings = kept_text(streamed, backend.think_markers, prompt_opens_think(rendered, backend.think_markers))
    if not streamed.collapse:
        findings += check_section(text, prompt.target_words, backend.think_markers)
    elif not text.strip():
        findings.append(Finding("empty", ATTENTION, "no clean text before the collapse"))
    return Attempt(number, rung.name, seed, changes, streamed.finish_reason, streamed.raw, text,
                   len(streamed.raw) - len(streamed.visible), streamed.stats, findings,
                   streamed.collapse, streamed.tokens_after_onset)


def split_attempt(backend, prompt, settings, changes, number, rung, seed, reporter) -> Attempt:
    first_prompt, continuation = half_prompts(prompt, settings)
    parts = []
    for part_prompt in (first_prompt, None):
        part_prompt = part_prompt or continuation(parts[0].kept_text)
        rendered = backend.chat_prompt(part_prompt.messages, settings.enable_thinking)
        streamed = stream_watched(backend, Chat(part_prompt.messages, settings, seed + len(parts)), rendered, part_prompt, reporter)
        parts.append(make_attempt(backend, streamed, rendered, part_prompt, number, rung, seed, changes))
        if not parts[-1].usable:
            break
    return join_parts(parts, prompt, backend.think_markers)


TEXT_CHECKS = {"empty", "think_leak", "mid_sentence", "short", "long"}  # re-judged on the joined text


def join_parts(parts: list[Attempt], prompt: SectionPrompt, markers: tuple[str, str]) -> Attempt:
    first, last = parts[0], parts[-1]
    text = "\n\n".join(p.kept_text for p in parts if p.kept_text)
    findings = [f for p in parts for f in p.findings if f.code not in TEXT_CHECKS]
    findings += check_section(text, prompt.target_words, markers)
    stats = GenerationStats(
        prompt_tokens=sum(p.stats.prompt_tokens for p in parts),
        generation_tokens=sum(p.stats.generation_tokens for p in parts),
        wall_s=sum(p.stats.wall_s for p in parts),
        peak_memory_gb=max(p.stats.peak_memory_gb for p in parts),
        active_memory_gb=last.stats.active_memory_gb, cache_memory_gb=last.stats.cache_memory_gb,
        prefix_tokens_reused=first.stats.prefix_tokens_reused,
    )
    stats.generation_tps = stats.generation_tokens / stats.wall_s if stats.wall_s else 0.0
    return Attempt(first.number, first.rung, first.seed, {**first.settings, "split": True}, last.finish_reason,
                   "\n\n".join(p.raw_text for p in parts), text, sum(p.reasoning_chars for p in parts), stats,
                   findings, last.collapse, last.tokens_after_onset)


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


def generate_sections(backend: Backend, prompts: list[SectionPrompt], reporter: Reporter,
                      batched: bool = False, max_batch: int = 8) -> GenerationRun:
    rendered = [backend.chat_prompt(p.messages, p.enable_thinking) for p in prompts]
    started = time.perf_counter()
    reporter.note(f"prefilling the prompt prefix shared by {len(prompts)} sections")
    shared = backend.share_prefix(rendered)
    prefix_s = time.perf_counter() - started
    reporter.note(f"shared prefix: {shared} tokens in {prefix_s:.1f}s")
    if batched and len(prompts) > 1:
        sections = generate_batched(backend, prompts, rendered, reporter, max_batch)
    else:
        sections = [generate_section(backend, p, text, reporter) for p, text in zip(prompts, rendered)]
    return GenerationRun(sections, shared, prefix_s)


@dataclass
class Planned:
    """One section's next attempt, waiting for a batch round."""

    result: SectionResult
    number: int

    @property
    def rung(self) -> Rung:
        return rung_for(self.number)


def generate_batched(backend: Backend, prompts: list[SectionPrompt], rendered: list[str], reporter: Reporter,
                     max_batch: int) -> list[SectionResult]:
    """Rounds of batches: every section's first attempt decodes together; a section that collapsed
    is dropped from its batch at once and its retry joins the next round. Attempts stay bounded."""
    results = [SectionResult(p, text) for p, text in zip(prompts, rendered)]
    waiting = [Planned(r, 1) for r in results]
    while waiting:
        batch, waiting = waiting[:max_batch], waiting[max_batch:]
        for planned, attempt in zip(batch, run_round(backend, batch, reporter)):
            planned.result.attempts.append(attempt)
            if not attempt.usable and planned.number < planned.result.prompt.settings.attempts:
                waiting.append(Planned(planned.result, planned.number + 1))
            else:
                reporter.section_finished(planned.result)
    return results


def run_round(backend: Backend, batch: list[Planned], reporter: Reporter) -> list[Attempt]:
    """One batch: split attempts (two dependent calls) run alone, the rest decode together."""
    together = [p for p in batch if not p.rung.split]
    attempts = dict(zip(map(id, together), decode_together(backend, together, reporter)))
    for planned in batch:
        if planned.rung.split:
            prompt = planned.result.prompt
            attempts[id(planned)] = run_attempt(backend, prompt, planned.result.rendered_prompt, planned.number, reporter)
    return [attempts[id(p)] for p in batch]


def decode_together(backend: Backend, batch: list[Planned], reporter: Reporter) -> list[Attempt]:
    if not batch:
        return []
    chats, changes = [], []
    for planned in batch:
        chat, changed = attempt_chat(planned.result.prompt, planned.number)
        chats.append(chat)
        changes.append(changed)
        reporter.attempt_started(planned.result.prompt, planned.number)
    watches = [new_watch(backend, chat, p.result.rendered_prompt) for chat, p in zip(chats, batch)]
    ended: dict[int, tuple[str, GenerationStats]] = {}
    stream = backend.stream_batch(chats)
    for index, delta in stream:
        if index in ended:
            continue
        collapsed = watches[index].add(delta)
        reporter.tokens(batch[index].result.prompt, delta.generation_tokens)
        if delta.finish_reason:
            ended[index] = (delta.finish_reason, delta.stats)
        elif collapsed:
            ended[index] = ("collapse", stream.stop(index))  # the rest of the batch goes on
    return [make_attempt(backend, watches[i].result(*ended.get(i, ("stop", GenerationStats()))),
                         p.result.rendered_prompt, p.result.prompt, p.number, p.rung, chats[i].seed, changes[i])
            for i, p in enumerate(batch)]
