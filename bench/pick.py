"""News pick on the embedded model, constrained decoding against prompt + validation + repair, side
by side on the same weeks. Prints one JSON object.

The weeks' news is real text nobody here wrote, with real dates: the Debian changelog entries of the
packages installed on this machine (/usr/share/doc/*/changelog.Debian.gz), grouped by ISO week, each
week written as RSS bytes and parsed by the pipeline's own feed parser (feedparser). Each week's pick
runs through the real generation path (`generate`, the structured ladder: one repair, then the newest
items), once with the backend's schema constraint and once without.

Per condition: picks usable on the first attempt, picks that refer only to existing items, fallbacks,
attempts, wall time per pick; for the constrained one, the time spent in the grammar and mask against
the decode time (mask_share) and decode tok/s of both.
Usage: python bench/pick.py [--weeks 12] [--items 8] [--max-items 3] [--out FILE.json]"""

from __future__ import annotations

import argparse
import dataclasses
import email.utils
import gzip
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path
from xml.sax.saxutils import escape

from common import emit

from pipeline.config import MemorySettings, SamplingSettings
from pipeline.generate import Task, generate
from pipeline.kinds.news import parse_picks, pick_messages, pick_schema
from pipeline.progress import Reporter
from pipeline.prompts import SectionPrompt
from pipeline.sources.feeds import FeedLimits, parse

_HEADER = re.compile(r"^(\S+) \(([^)]+)\) [^;]+;")
_TRAILER = re.compile(r"^ -- .+?  (.+)$")
INSTRUCTION = "Pick the package updates a self-hosting reader should know about this week."


def changelog_entries(limit_per_package: int = 40) -> list[dict]:
    """(package, version, date, change lines) for every entry of every installed package's changelog."""
    entries = []
    for path in sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz")):
        try:
            with gzip.open(path, "rt", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        current: dict | None = None
        for line in lines:
            if header := _HEADER.match(line):
                current = {"package": header[1], "version": header[2], "changes": []}
            elif current and line.startswith("  *"):
                current["changes"].append(line[3:].strip())
            elif current and (trailer := _TRAILER.match(line)):
                try:
                    current["date"] = email.utils.parsedate_to_datetime(trailer[1])
                except (TypeError, ValueError):
                    current = None
                    continue
                if current["changes"]:
                    entries.append(current)
                current = None
                if sum(e["package"] == entries[-1]["package"] for e in entries[-limit_per_package:]) >= limit_per_package:
                    break
    return entries


def weekly_feeds(entries: list[dict], weeks: int, items: int) -> list[tuple[str, bytes]]:
    """The most recent weeks holding at least `items` entries, each as one RSS document."""
    by_week: dict[str, list[dict]] = defaultdict(list)
    for entry in entries:
        year, week, _ = entry["date"].isocalendar()
        by_week[f"{year}-W{week:02d}"].append(entry)
    full = sorted((k for k, v in by_week.items() if len(v) >= items), reverse=True)[:weeks]
    return [(key, rss(key, sorted(by_week[key], key=lambda e: e["date"], reverse=True)[:items])) for key in full]


def rss(key: str, entries: list[dict]) -> bytes:
    items = "".join(
        f"<item><title>{escape(e['package'])} {escape(e['version'])}: {escape(e['changes'][0][:120])}</title>"
        f"<link>https://tracker.debian.org/pkg/{escape(e['package'])}</link>"
        f"<guid>{escape(e['package'])}-{escape(e['version'])}</guid>"
        f"<pubDate>{email.utils.format_datetime(e['date'])}</pubDate>"
        f"<description>{escape(' '.join(e['changes'][1:6])[:400])}</description></item>" for e in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Debian uploads {key}</title>'
            f"<link>https://tracker.debian.org/</link><description>Package updates</description>{items}</channel></rss>"
            ).encode()


def pick_task(backend, items: list, max_items: int, settings: SamplingSettings) -> Task:
    messages = pick_messages(items, INSTRUCTION, max_items)
    prompt = SectionPrompt(index=0, heading="News", target_words=0, stage="pick", messages=messages,
                           settings=settings, template="(news pick)")
    return Task(prompt, backend.render(messages, False), parse=lambda text: parse_picks(text, items, max_items),
                schema=pick_schema(len(items), max_items))


def run_condition(backend, weeks: list[tuple[str, list]], max_items: int, settings: SamplingSettings) -> dict:
    rows = []
    for key, items in weeks:
        started = time.perf_counter()
        result = generate(backend, [pick_task(backend, items, max_items, settings)], Reporter())[0]
        first = result.attempts[0]
        chosen = result.chosen if result.chosen.usable else None
        rows.append({
            "week": key, "items": len(items), "first_usable": first.usable, "usable": chosen is not None,
            "attempts": len(result.attempts), "wall_s": round(time.perf_counter() - started, 2),
            "picked": len(chosen.value) if chosen else 0,
            "refers_to_items": bool(chosen) and all(p.item in items for p in chosen.value),
            "tokens": sum(a.stats.generation_tokens for a in result.attempts),
            "decode_s": sum(a.stats.generation_tokens / a.stats.generation_tps for a in result.attempts
                            if a.stats.generation_tps),
            "constraint_s": sum(a.stats.constraint_s for a in result.attempts),
            "first_error": first.error, "first_answer": first.kept_text[:300],
        })
    n, usable = len(rows), [r for r in rows if r["usable"]]
    decode_s, tokens = sum(r["decode_s"] for r in rows), sum(r["tokens"] for r in rows)
    return {
        "weeks": n,
        "first_attempt_usable": sum(r["first_usable"] for r in rows) / n,
        "usable_after_repair": sum(r["usable"] for r in rows) / n,
        "fallback_to_newest": sum(not r["usable"] for r in rows) / n,
        "picks_refer_to_existing_items": sum(r["refers_to_items"] for r in usable) / max(1, len(usable)),
        "attempts_mean": round(statistics.mean(r["attempts"] for r in rows), 2),
        "wall_s_per_pick": {"mean": round(statistics.mean(r["wall_s"] for r in rows), 2),
                            "max": max(r["wall_s"] for r in rows)},
        "decode_tok_s": round(tokens / decode_s, 2) if decode_s else None,
        "mask_share_of_decode": round(sum(r["constraint_s"] for r in rows) / decode_s, 4) if decode_s else None,
        "per_week": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--items", type=int, default=8, help="items in each week's feed")
    parser.add_argument("--max-items", type=int, default=3, help="the news section's max_items")
    parser.add_argument("--model", default="builtin:smollm2")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from pipeline.backends.mlx import MLXBackend

    backend = MLXBackend.load(args.model, MemorySettings())
    limits = FeedLimits()
    weeks = [(key, parse(body, key, limits)[2]) for key, body in
             weekly_feeds(changelog_entries(), args.weeks, args.items)]
    # The example weekly brief's pick stage: thinking off, low temperature, two attempts.
    settings = SamplingSettings(enable_thinking=False, max_tokens=200, temperature=0.2, attempts=2)
    unconstrained = _without_constraint(backend)
    report = {"benchmark": "pick", "model": args.model, "feeds": "Debian changelog entries of installed packages, "
              "one RSS document per ISO week, parsed by pipeline.sources.feeds", "items_per_week": args.items,
              "max_items": args.max_items, "settings": {"temperature": 0.2, "max_tokens": 200, "attempts": 2},
              "constrained": run_condition(backend, weeks, args.max_items, settings),
              "prompt_and_repair": run_condition(unconstrained, weeks, args.max_items, settings)}
    emit(report, args.out)


def _without_constraint(backend):
    """The same loaded model, declaring that it cannot constrain: the prompt + validation + repair path."""
    clone = object.__new__(type(backend))
    clone.__dict__.update(backend.__dict__)
    clone.capabilities = dataclasses.replace(backend.capabilities, constrained=False)
    return clone


if __name__ == "__main__":
    main()
