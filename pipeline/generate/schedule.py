"""Scheduling: rounds of attempts over the one retry policy, sequential or batched.

Sequential rounds hold one attempt, and a retry goes first in line, so a section finishes before
the next begins. Batched rounds decode up to `max_batch` attempts together; a sequence that
collapses leaves its batch at once and its retry joins the next round."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from ..backends import Backend, Delta, Request
from ..progress import Reporter
from ..prompts import SectionPrompt
from ..thinking import prompt_opens_think
from .attempts import Attempt, SectionResult, Task, finish, half_prompts, join_parts, judge, repair_messages, schema_for
from .cache import SectionCache
from .ladder import Plan, next_plan
from .watch import Streamed, Watch, watch_stream


@dataclass
class Pending:
    """A section's attempts so far and its next plan, waiting for a round."""

    position: int  # in the task list: results come back in that order
    task: Task
    plan: Plan
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True)
class GenerationRun:
    sections: list[SectionResult]
    shared_prefix_tokens: int  # prefilled once and reused by every call
    prefix_s: float  # time spent prefilling it
    decode_s: float = 0.0  # wall time of the sections' calls (batched calls overlap: not the sum of their times)


def generate_sections(backend: Backend, prompts: list[SectionPrompt], reporter: Reporter,
                      batched: bool = False, max_batch: int = 8, cache: SectionCache | None = None) -> GenerationRun:
    """The prose sections: each prompt rendered once, their shared prefix prefilled once; sections an
    interrupted run finished come from the cache."""
    tasks = [Task(p, backend.render(p.messages, p.enable_thinking)) for p in prompts]
    cached = {n: hit for n, t in enumerate(tasks) if cache and (hit := cache.get(t))}
    for hit in cached.values():
        reporter.section_finished(hit)
    todo = [t for n, t in enumerate(tasks) if n not in cached]
    if not todo:  # every section came from data, feeds, the brief itself or the cache
        return GenerationRun([cached[n] for n in range(len(tasks))], 0, 0.0)
    started = time.perf_counter()
    # The prefix of every section's prompt, cached ones too: the rest then decode exactly as in a whole run.
    reporter.note(f"prefilling the prompt prefix shared by {len(tasks)} section{'s' if len(tasks) != 1 else ''}")
    shared = backend.share_prefix([t.rendered for t in tasks])
    prefix_s = time.perf_counter() - started
    reporter.note(f"shared prefix: {shared} tokens in {prefix_s:.1f}s")
    done = iter(generate(backend, todo, reporter, batched and len(todo) > 1, max_batch, cache))
    decode_s = time.perf_counter() - started - prefix_s
    return GenerationRun([cached[n] if n in cached else next(done) for n in range(len(tasks))], shared, prefix_s,
                         decode_s)


def generate(backend: Backend, tasks: list[Task], reporter: Reporter, batched: bool = False,
             max_batch: int = 8, cache: SectionCache | None = None) -> list[SectionResult]:
    """Every task to a result, in rounds, each attempt planned by the one retry policy."""
    results: dict[int, SectionResult] = {}
    waiting = deque(Pending(position, t, first_plan(t)) for position, t in enumerate(tasks))
    while waiting:
        round_ = [waiting.popleft() for _ in range(min(max_batch if batched else 1, len(waiting)))]
        for pending, attempt in zip(round_, run_round(backend, round_, reporter, batched), strict=True):
            pending.attempts.append(attempt)
            plan = next_plan(pending.task.ladder, pending.task.prompt.settings, pending.task.prompt.index, pending.attempts)
            if plan is None:
                results[pending.position] = finish(pending.task, pending.attempts)
                reporter.section_finished(results[pending.position])
                if cache:
                    cache.put(results[pending.position])
            elif batched:
                waiting.append(Pending(pending.position, pending.task, plan, pending.attempts))
            else:
                waiting.appendleft(Pending(pending.position, pending.task, plan, pending.attempts))
    return [results[position] for position in range(len(tasks))]


def first_plan(task: Task) -> Plan:
    plan = next_plan(task.ladder, task.prompt.settings, task.prompt.index, [])
    assert plan is not None  # a task with no attempts always has a first one
    return plan


def run_round(backend: Backend, round_: list[Pending], reporter: Reporter, batched: bool) -> list[Attempt]:
    """One round: split attempts (two dependent calls) run alone, the rest decode together."""
    together = [p for p in round_ if batched and not p.plan.rung.split]
    attempts = dict(zip(map(id, together), decode_together(backend, together, reporter), strict=True))
    for pending in round_:
        if id(pending) not in attempts:
            attempts[id(pending)] = run_alone(backend, pending, reporter)
    return [attempts[id(p)] for p in round_]


def run_alone(backend: Backend, pending: Pending, reporter: Reporter) -> Attempt:
    task, plan = pending.task, pending.plan
    reporter.attempt_started(task.prompt, plan.number)
    if plan.rung.split:
        return split_attempt(backend, task, plan, reporter)
    rendered = attempt_prompt(backend, pending)
    return call(backend, task, rendered, plan, reporter)


def attempt_prompt(backend: Backend, pending: Pending) -> str:
    """The task's own prompt, or (a structured stage's repair) one that shows the last answer."""
    task, plan = pending.task, pending.plan
    if not (plan.rung.repair and pending.attempts):
        return task.rendered
    return backend.render(repair_messages(task, pending.attempts[-1]), plan.settings.enable_thinking)


def call(backend: Backend, task: Task, rendered: str, plan: Plan, reporter: Reporter, seed: int | None = None) -> Attempt:
    schema = schema_for(task, plan, backend.capabilities.constrained)
    request = Request(rendered, plan.settings, plan.seed if seed is None else seed, task.prompt.heading, schema)
    watch = new_watch(backend, rendered, plan, task.prompt.language)
    streamed = watch_stream(backend.stream(request), watch, lambda n: reporter.tokens(task.prompt, n))
    return judge(streamed, task, rendered, plan, backend.capabilities.think_markers, schema is not None)


def new_watch(backend: Backend, rendered: str, plan: Plan, language: str) -> Watch:
    markers = backend.capabilities.think_markers
    return Watch(markers, prompt_opens_think(rendered, markers), plan.settings.collapse_watch, language)


def split_attempt(backend: Backend, task: Task, plan: Plan, reporter: Reporter) -> Attempt:
    """The split rung: the first half, then (if it was usable) a continuation that sees it."""
    first_prompt, continuation = half_prompts(task.prompt, plan)
    parts: list[Attempt] = []
    for half in (0, 1):
        part_prompt = continuation(parts[0].kept_text) if half else first_prompt
        rendered = backend.render(part_prompt.messages, plan.settings.enable_thinking)
        parts.append(call(backend, Task(part_prompt, rendered), rendered, plan, reporter, seed=plan.seed + half))
        if not parts[-1].usable:
            break
    return join_parts(parts, task.prompt, backend.capabilities.think_markers)


def decode_together(backend: Backend, batch: list[Pending], reporter: Reporter) -> list[Attempt]:
    if not batch:
        return []
    rendered = [attempt_prompt(backend, p) for p in batch]
    for pending in batch:
        reporter.attempt_started(pending.task.prompt, pending.plan.number)
    watches = [new_watch(backend, text, p.plan, p.task.prompt.language) for text, p in zip(rendered, batch, strict=True)]
    schemas = [schema_for(p.task, p.plan, backend.capabilities.constrained) for p in batch]
    requests = [Request(text, p.plan.settings, p.plan.seed, p.task.prompt.heading, schema)
                for text, p, schema in zip(rendered, batch, schemas, strict=True)]
    ended: dict[int, Delta] = {}
    stream = backend.stream_batch(requests)
    for index, delta in stream:
        if index in ended:
            continue
        collapsed = watches[index].add(delta)
        reporter.tokens(batch[index].task.prompt, delta.generation_tokens)
        if delta.finish_reason:
            ended[index] = delta
        elif collapsed:
            ended[index] = Delta("", delta.generation_tokens, "collapse", stream.stop(index).stats)  # the rest go on
    return [judge(batch_result(watches[i], ended.get(i)), p.task, rendered[i], p.plan,
                  backend.capabilities.think_markers, schemas[i] is not None) for i, p in enumerate(batch)]


def batch_result(watch: Watch, final: Delta | None) -> Streamed:
    if final is None:
        return watch.result("stop", None)
    return watch.result(final.finish_reason or "stop", final.stats)
