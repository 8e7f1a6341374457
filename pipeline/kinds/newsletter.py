"""A weekly newsletter: one ISO week's feeds and operating data, a news pick stage, prose checked
against the data (numbers) and the feeds (links), email renditions, and the last completed week
remembered for catch-up. Pure apart from gathering (sources) and the state file (after_write)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..assemble import DraftSection, assemble_newsletter
from ..backends import Backend
from ..blocks import block_environment
from ..checks.numbers import NumberAudit, flatten_numbers, known_values, number_audit
from ..checks.prose import Reference, check_prose
from ..checks.repetition import markdown_sections, previous_issue_findings
from ..config import Brief, LoadedBrief, Section
from ..config.load import key_line
from ..errors import InputError
from ..generate import SectionResult, Task, generate
from ..manifest import section_record
from ..progress import Reporter
from ..prompts import SectionPrompt, render_template
from ..sources import Gathered, Week, gather
from ..sources.feeds import FeedResult
from ..state import last_completed_week, record_completed_week
from ..weeks import MAX_CATCH_UP_WEEKS, parse_week, week_key, week_to_build, week_window, weeks_to_build, zone
from .base import Kind, Situation, Stages, Verified, with_repetition
from .news import NewsPicks, fallback_finding, model_addressed_findings, newest, parse_picks, pick_messages, pick_schema

log = logging.getLogger("pipeline")

MAX_PREVIOUS_ISSUES = 12  # a quarter of weekly issues: what a reader may remember
_WEEK_FOLDER = re.compile(r"^\d{4}-W\d{2}$")


@dataclass
class NewsletterSources(Gathered):
    """The week's sources, and the prose of earlier issues in the output folder: (week, text), newest first."""

    previous: list[tuple[str, str]] = field(default_factory=list)


class Newsletter(Kind):
    name = "newsletter"
    folder = "newsletters"
    dated_by_week = True

    def gather(self, loaded: LoadedBrief, situation: Situation) -> NewsletterSources:
        week = resolve_week(loaded.brief, situation.week, situation.now)
        gathered = gather(loaded, week, situation.offline, situation.now)
        previous = previous_issues(situation.out_root / self.folder, week.key, prose_headings(loaded.brief)) \
            if situation.out_root else []
        return NewsletterSources(**{f.name: getattr(gathered, f.name) for f in dataclasses.fields(Gathered)},
                                 previous=previous)

    def context(self, loaded: LoadedBrief, sources: Gathered) -> dict:
        scope = {d.name: "whole history" if d.whole_history else "week" for d in loaded.brief.sources.data}
        return {"week": week_context(sources.week), "data": sources.data, "data_scope": scope,
                "feeds": [f.record() for f in sources.feeds]}

    def key(self, loaded: LoadedBrief, sources: Gathered) -> str:
        return sources.week.key

    def dry_stages(self, loaded: LoadedBrief, sources: Gathered, context: dict) -> Stages:
        picks = {index: NewsPicks([], "none") for index, _ in news_sections(loaded.brief)}
        return Stages(news_blocks(loaded, picks, context), [], picks)

    def run_stages(self, backend: Backend, loaded: LoadedBrief, sources: Gathered, context: dict,
                   reporter: Reporter) -> Stages:
        items, sections = sources.selection.items, news_sections(loaded.brief)
        tasks = [pick_task(backend, loaded.brief, index, items) for index, _ in sections] if items else []
        results = {r.prompt.index: r for r in generate(backend, tasks, reporter)}
        picks = {index: picks_from(results.get(index), items, section.max_items) for index, section in sections}
        return Stages(news_blocks(loaded, picks, context), list(results.values()), picks)

    def verify(self, loaded: LoadedBrief, sources: Gathered, blocks: dict[int, str], sections: list[SectionResult],
               stages: Stages, strict: bool) -> Verified:
        """Numbers in model prose must come from the data; links must come from the feeds; sentences must
        not repeat another section's or an earlier issue's."""
        known = known_values(reference_text(loaded, sources, blocks))
        links = allowed_links(sources)
        strict = strict or loaded.brief.unverified_numbers == "attention"  # newsletters default to info
        reasons = " ".join(p.reason for picks in stages.data.values() for p in picks.picks)
        previous = getattr(sources, "previous", [])
        checked = with_repetition([s.with_findings(check_prose(s.text, known, links, strict)
                                                   + previous_issue_findings(s.text, previous)) for s in sections])
        audit = number_audit([s.text for s in sections] + [reasons], known)
        news = [f for index, picks in stages.data.items()
                for f in fallback_finding(loaded.brief.sections[index].heading, picks)]
        listed = [p for picks in stages.data.values() for p in picks.picks]
        news += model_addressed_findings(sources.selection.items, listed) if stages.data else []
        return Verified(checked, check_prose(reasons, known, links, strict) + news, audit,
                        Reference(known, links, strict))

    def assemble(self, loaded: LoadedBrief, sources: Gathered, sections: list[DraftSection], model: str,
                 run_id: str) -> dict[str, str]:
        week = sources.week
        return assemble_newsletter(loaded.brief, sections, model, run_id, week.key, week.start.date())

    def record(self, loaded: LoadedBrief, sources: Gathered, stages: Stages, verified: Verified) -> NewsletterRecord:
        return NewsletterRecord(loaded, sources, stages, verified)

    def after_write(self, out_root: Path, brief_path: Path, sources: Gathered) -> None:
        record_completed_week(out_root, brief_path, sources.week.key)

    def missed(self, out_root: Path, brief_path: Path, loaded: LoadedBrief, situation: Situation) -> list[str]:
        """Weeks between the last completed one and this one that have no draft yet."""
        brief = loaded.brief
        if situation.week or brief.week:
            return []
        target = week_to_build(situation.now, zone(brief.timezone), brief.covers)
        weeks, left_out = weeks_to_build(last_completed_week(out_root, brief_path), target)
        if left_out:
            log.warning("%d older missed week(s) of %s are not built (catch-up builds the last %d); build them with "
                        "--week", left_out, brief_path, MAX_CATCH_UP_WEEKS)
        return [week_key(*w) for w in weeks[:-1] if not (out_root / self.folder / week_key(*w)).exists()]

    def schedule_note(self, loaded: LoadedBrief, next_run: dt.datetime) -> str:
        brief = loaded.brief
        if brief.week:
            raise InputError(
                f"{loaded.path}:{key_line(loaded.path, 'week')}: the brief pins `week: {brief.week}`: every scheduled "
                "run would build that same week, and all but the first would fail with 'draft exists'",
                hint=f"delete the line: each run then builds the {'last completed' if brief.covers == 'last' else 'current'}"
                     " week; build one week by hand with `pipeline run BRIEF --week YYYY-Www`")
        week = resolve_week(brief, None, next_run)
        return f"the next run, {next_run:%a %Y-%m-%d %H:%M}, builds {week.key} (covers: {brief.covers})"

    def summary(self, loaded: LoadedBrief, sources: Gathered, prose: int, stages: Stages) -> str:
        sections, news = loaded.brief.sections, len(stages.data)
        fed = sum(len(f.items) for f in sources.feeds)
        return (f"{len(sections)} sections: {prose} written by the model, {news} news, "
                f"{len(sections) - prose - news} from data; stages: {', '.join(loaded.brief.stages)}; "
                f"week {sources.week.key}: {len(sources.selection.items)} of {fed} feed items in the week, offline")


def prose_headings(brief: Brief) -> set[str]:
    return {section.heading for section in brief.sections if section.type == "prose"}


def previous_issues(folder: Path, key: str, headings: set[str]) -> list[tuple[str, str]]:
    """The model-written prose of the issues before week `key` in the output folder, newest first: the
    sections its run.json lists as prose (or, without one, this brief's prose headings) from index.md."""
    try:
        weeks = sorted((p.name for p in folder.iterdir() if _WEEK_FOLDER.match(p.name) and p.name < key), reverse=True)
    except OSError:  # no newsletters yet
        return []
    issues = []
    for week in weeks[:MAX_PREVIOUS_ISSUES]:
        try:
            markdown = (folder / week / "index.md").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        wanted = issue_headings(folder / week, headings)
        prose = [text for heading, text in markdown_sections(markdown) if heading in wanted]
        if prose:
            issues.append((week, "\n\n".join(prose)))
    return issues


def issue_headings(draft: Path, fallback: set[str]) -> set[str]:
    """The headings of an earlier issue's prose sections, as its run.json records them."""
    try:
        manifest = json.loads((draft / "run.json").read_text(encoding="utf-8"))
        return {section["heading"] for section in manifest["sections"]}
    except (OSError, ValueError, KeyError, TypeError):
        return fallback


def resolve_week(brief: Brief, override: str | None, now: dt.datetime) -> Week:
    tz = zone(brief.timezone)
    chosen = override or brief.week
    year, number = parse_week(chosen) if chosen else week_to_build(now, tz, brief.covers)
    start, end = week_window(year, number, tz)
    return Week(week_key(year, number), start, end)


def week_context(week: Week) -> dict:
    last_day = (week.end - dt.timedelta(days=1)).date()
    return {"key": week.key, "start_date": week.start.date().isoformat(), "end_date": last_day.isoformat()}


def news_sections(brief: Brief) -> list[tuple[int, Section]]:
    return [(index, section) for index, section in enumerate(brief.sections) if section.type == "news"]


def pick_task(backend: Backend, brief: Brief, index: int, items: list) -> Task:
    """The news pick as a structured stage: JSON out, parsed into picks, repaired when unusable."""
    section = brief.sections[index]
    settings = brief.settings_for(section)
    messages = pick_messages(items, section.instruction or "", section.max_items)
    prompt = SectionPrompt(index=index, heading=section.heading, target_words=0, stage=section.stage,
                           messages=messages, settings=settings, template="(news pick)", language=brief.language)
    return Task(prompt, backend.render(messages, settings.enable_thinking),
                parse=lambda text: parse_picks(text, items, section.max_items),
                schema=pick_schema(len(items), section.max_items))


def picks_from(result: SectionResult | None, items: list, max_items: int) -> NewsPicks:
    """The model's picks, or the newest items when no attempt was usable: never empty while the week has items."""
    if result is None:
        return NewsPicks([], "none")
    if result.chosen.usable:
        return NewsPicks(result.chosen.value, "model", result)
    return NewsPicks(newest(items, max_items), "fallback", result)


def news_blocks(loaded: LoadedBrief, news: dict[int, NewsPicks], context: dict) -> dict[int, str]:
    env = block_environment(loaded)
    blocks = {}
    for index, picks in news.items():
        section = loaded.brief.sections[index]
        rows = [{"title": p.item.title, "link": p.item.link, "source": p.item.source, "reason": p.reason,
                 "published": p.item.published.date().isoformat() if p.item.published else None} for p in picks.picks]
        blocks[index] = render_template(env, section.template or "news.md.j2", {**context, "picks": rows})
    return blocks


def reference_text(loaded: LoadedBrief, gathered: Gathered, blocks: dict[int, str]) -> str:
    """Everything a number in the prose may legitimately come from."""
    items = " ".join(f"{i.title} {i.summary}" for f in gathered.feeds for i in f.items)
    return " ".join([flatten_numbers(gathered.data), flatten_numbers(loaded.brief.facts), loaded.brief.research,
                     items, *blocks.values()])


def allowed_links(gathered: Gathered) -> set[str]:
    return {i.link for f in gathered.feeds for i in f.items if i.link}


@dataclass(frozen=True)
class NewsletterRecord:
    """The week's sources, the news picks and what was checked against them (run.json `sources`)."""

    loaded: LoadedBrief
    gathered: Gathered
    stages: Stages
    verified: Verified

    @property
    def feeds(self) -> list[FeedResult]:
        return self.gathered.feeds

    @property
    def audit(self) -> NumberAudit | None:
        return self.verified.audit

    @property
    def findings(self) -> list:
        return self.verified.findings

    @property
    def news(self) -> list[dict]:
        return [{"heading": self.loaded.brief.sections[i].heading, "method": n.method, "picked": len(n.picks)}
                for i, n in self.stages.data.items()]

    def as_dict(self) -> dict:
        week, selection = self.gathered.week, self.gathered.selection
        return {
            "week": {"key": week.key, "start": week.start.isoformat(), "end": week.end.isoformat(),
                     "timezone": self.loaded.brief.timezone},
            "feeds": [f.record() for f in self.feeds],
            "items": {"in_week": len(selection.items), "duplicates": selection.duplicates, "undated": selection.undated,
                      "future": selection.future, "outside_week": selection.outside_week},
            "data": {name: len(rows) for name, rows in self.gathered.data.items()},
            "news": [news_record(self.loaded.brief.sections[i].heading, n) for i, n in self.stages.data.items()],
            "news_findings": [dataclasses.asdict(f) for f in self.verified.findings],
            "number_audit": dataclasses.asdict(self.audit) if self.audit else None,
        }


def news_record(heading: str, picks: NewsPicks) -> dict:
    """The pick stage recorded like a prose section, plus what was picked."""
    return {"heading": heading, "method": picks.method,
            **(section_record(picks.result) if picks.result else {"attempts": []}),
            "picked": [{"title": p.item.title, "link": p.item.link, "reason": p.reason} for p in picks.picks]}
