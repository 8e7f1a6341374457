"""Feed fuzzing: hostile bytes through `parse` and the per-item cleaning must never raise, and
nothing hostile may reach an item. Prints one JSON object.

Cases: every file of feedparser's own test corpus (its sdist's tests/illformed, tests/encoding,
tests/entities, tests/wellformed/sanitize) as is, plus N deterministic mutants of the repo's saved
feeds (briefs/feeds/*.xml, tests/fuzz_corpus/*) and of corpus files: hostile character references,
flipped and inserted bytes, truncation, duplicated tags, swapped encodings in the XML declaration,
<script>, javascript:/data:/vbscript: links, bidi controls, huge numbers. Items are re-dated into
a fixed week and selected, as a build would.

A crash is any exception escaping parse or select_week. A hostile output is an item field with
<script, a link that is not http(s) or holds javascript:/data:/vbscript:, a control or bidi
character, or a lone surrogate (it would crash UTF-8 writing later).

Get the corpus:  pip download --no-deps --no-binary :all: feedparser==6.0.14 -d /tmp/fp
                 tar xzf /tmp/fp/feedparser-6.0.14.tar.gz -C /tmp/fp
Usage: python bench/feed_fuzz.py [--corpus /tmp/fp/feedparser-6.0.14/tests] [--cases 3000] [--seed 9]"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import feedparser

from pipeline.sources.feeds import FeedItem, FeedLimits, FeedResult, parse, select_week

REPO = Path(__file__).resolve().parent.parent
CORPUS_DIRS = ("illformed", "encoding", "entities", "wellformed/sanitize")
WEEK_START = dt.datetime(2026, 4, 13, tzinfo=dt.UTC)  # 2026-W16, the example brief's week
WEEK_END = WEEK_START + dt.timedelta(days=7)
LIMITS = FeedLimits()

# -- mutations: (bytes, rng) -> bytes ---------------------------------------------------------------
HOSTILE_REFS = [b"&#xD800;", b"&#xDFFF;", b"&#xdbff;&#xdc00;", b"&#x110000;", b"&#99999999999999999999;",
                b"&#55296;", b"&#1114112;", b"&#" + b"9" * 5000 + b";", b"&#x" + b"F" * 300 + b";", b"&#0;",
                b"&#x1B;", b"&#x202E;", b"&#xFEFF;", b"&amp;#xD800;", b"&#x;", b"&#;", b"&#x0000000000D800;",
                b"&#-1;", b"&#x7F;", b"&#x85;", b"&#xE0041;"]
HOSTILE_LINKS = [b"javascript:alert(1)", b" JaVaScRiPt:alert(1)", b"java&#x09;script:alert(1)",
                 b"&#106;avascript:alert(1)", b"jav&#x0A;ascript:alert(1)", b"\x01javascript:alert(1)",
                 b"data:text/html;base64,PHNjcmlwdD4=", b"DATA:text/html,<script>x</script>", b"vbscript:msgbox(1)",
                 b"&lt;script&gt;", b"//evil.example/x", b"http://[::1", b"https://ok.example/\xed\xa0\x80",
                 b"https://ok.example/&#xD800;", b"javascript&#58;alert(1)", b"file:///etc/passwd"]
SCRIPTS = [b"<script>alert(1)</script>", b"&lt;script&gt;alert(1)&lt;/script&gt;",
           b"<![CDATA[<script>alert(1)</script>]]>", b"&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
           b"<scr<script>ipt>alert(1)</script>", b"&lt;SCRIPT SRC=//evil.example/x.js&gt;&lt;/SCRIPT&gt;",
           b"<img src=x onerror=alert(1)>", b"<svg><script>alert(1)</script></svg>", b"&#60;script&#62;x"]
BIDI = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u061c", "\ufeff", "\u200b",
        "\U000e0041", "\x85", "\x1b[31m", "\x00", "\x7f"]
ENCODINGS = [b"utf-16", b"utf-16le", b"utf-32", b"iso-8859-1", b"shift_jis", b"utf-\xff8", b"", b"x" * 300,
             b"cp037", b"utf-7", b"bogus", b"koi8-r", b"\xc3\xa9", b"utf-8\x00", b"gb18030", b"big5", b"UTF-8"]
HUGE = [b"99999999999999999999", b"9" * 400, b"Wed, 31 Dec 99999 23:59:59 GMT", b"-99999999999",
        b"1e308", b"Sat, 01 Jan 0000 00:00:00 GMT", b"2026-13-45T99:99:99Z", b"9999-12-31T23:59:59+99:99"]
_TAG = re.compile(rb"<(item|entry|title|link|description|summary|content|guid|id|pubDate|updated)\b[^>]*>.*?</\1>",
                  re.DOTALL)
_TEXT_SPOT = re.compile(rb">[^<]")
_LINK = re.compile(rb"(<link>)(.*?)(</link>)|(href=\")([^\"]*)(\")", re.DOTALL)
_DECL_ENCODING = re.compile(rb"encoding=[\"'][^\"']*[\"']")
_DATE = re.compile(rb"(<(?:pubDate|published|updated|dc:date)>)(.*?)(</)", re.DOTALL)


def text_spot(body: bytes, rng: random.Random) -> int:
    spots = [m.start() + 1 for m in _TEXT_SPOT.finditer(body)]
    return rng.choice(spots) if spots else rng.randrange(len(body) + 1)


def insert_at_text(body: bytes, rng: random.Random, what: bytes) -> bytes:
    at = text_spot(body, rng)
    return body[:at] + what + body[at:]


def hostile_ref(body: bytes, rng: random.Random) -> bytes:
    return insert_at_text(body, rng, rng.choice(HOSTILE_REFS))


def flip_bytes(body: bytes, rng: random.Random) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 8)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def insert_bytes(body: bytes, rng: random.Random) -> bytes:
    junk = rng.choice([b"\x00", b"\xff\xfe", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x1b",
                       bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))])
    at = rng.randrange(len(body) + 1)
    return body[:at] + junk + body[at:]


def truncate(body: bytes, rng: random.Random) -> bytes:
    return body[: rng.randrange(len(body) + 1)]


def duplicate_tag(body: bytes, rng: random.Random) -> bytes:
    tags = list(_TAG.finditer(body))
    if not tags:
        return body + body[: rng.randrange(len(body) + 1)]
    tag = rng.choice(tags)
    return body[: tag.end()] + tag.group(0) * rng.randint(1, 3) + body[tag.end():]


def swap_encoding(body: bytes, rng: random.Random) -> bytes:
    encoding = b'encoding="' + rng.choice(ENCODINGS) + b'"'
    if _DECL_ENCODING.search(body[:200]):
        return _DECL_ENCODING.sub(lambda _: encoding, body, count=1)
    return b'<?xml version="1.0" ' + encoding + b"?>\n" + body


def insert_script(body: bytes, rng: random.Random) -> bytes:
    return insert_at_text(body, rng, rng.choice(SCRIPTS))


def hostile_link(body: bytes, rng: random.Random) -> bytes:
    links = list(_LINK.finditer(body))
    evil = rng.choice(HOSTILE_LINKS)
    if not links:
        return insert_at_text(body, rng, b"<link>" + evil + b"</link>")
    link = rng.choice(links)
    start, end = (link.start(2), link.end(2)) if link.group(1) else (link.start(5), link.end(5))
    return body[:start] + evil + body[end:]


def bidi(body: bytes, rng: random.Random) -> bytes:
    return insert_at_text(body, rng, "".join(rng.choices(BIDI, k=rng.randint(1, 4))).encode("utf-8"))


def huge_number(body: bytes, rng: random.Random) -> bytes:
    dates = list(_DATE.finditer(body))
    value = rng.choice(HUGE)
    if not dates:
        return insert_at_text(body, rng, value)
    date = rng.choice(dates)
    return body[: date.start(2)] + value + body[date.end(2):]


MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    f.__name__: f for f in (hostile_ref, flip_bytes, insert_bytes, truncate, duplicate_tag, swap_encoding,
                            insert_script, hostile_link, bidi, huge_number)}


def mutate(body: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """One to three mutations in a row: single ones are found fast, pairs find what they hide."""
    names = rng.choices(list(MUTATIONS), k=rng.choice((1, 1, 2, 3)))
    for name in names:
        body = MUTATIONS[name](body, rng)
    return body, names


# -- the cases ----------------------------------------------------------------------------------------
def saved_feeds() -> list[Path]:
    return sorted((REPO / "briefs" / "feeds").glob("*.xml")) + sorted((REPO / "tests" / "fuzz_corpus").glob("*"))


def corpus_files(corpus: Path | None) -> list[Path]:
    if corpus is None:
        return []
    return sorted(p for d in CORPUS_DIRS for p in (corpus / d).rglob("*") if p.is_file())


def cases(corpus: Path | None, mutants: int, seed: int) -> Iterator[tuple[str, str, bytes]]:
    """(source, how, bytes): the corpus as is, then mutants, half of saved feeds and half of corpus files."""
    files = corpus_files(corpus)
    for path in files:
        yield source_of(path, corpus), "as_is", path.read_bytes()
    rng, saved = random.Random(seed), saved_feeds()
    for n in range(mutants):
        path = rng.choice(files) if files and n % 2 else rng.choice(saved)
        body, names = mutate(path.read_bytes(), rng)
        yield source_of(path, corpus), "+".join(names), body


def source_of(path: Path, corpus: Path | None) -> str:
    if corpus is not None and path.is_relative_to(corpus):
        return "corpus/" + next(d for d in CORPUS_DIRS if path.is_relative_to(corpus / d))
    return "saved/" + path.name


# -- one case ------------------------------------------------------------------------------------------
def hostile_reasons(item: FeedItem) -> list[str]:
    reasons = []
    for name in ("title", "summary", "link", "guid"):
        value = getattr(item, name) or ""
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            reasons.append(f"{name}: lone surrogate")
        if "<script" in value.lower():
            reasons.append(f"{name}: <script")
        if bad := {unicodedata.category(ch) for ch in value} & {"Cc", "Cf", "Cs"}:
            reasons.append(f"{name}: control, format or surrogate characters {sorted(bad)}")
    link = (item.link or "").lower()
    if item.link and (not re.match(r"https?://", link) or any(s in link for s in ("javascript:", "data:", "vbscript:"))):
        reasons.append(f"link: {item.link[:60]!r}")
    return reasons


def redate(items: list[FeedItem]) -> list[FeedItem]:
    """Every item inside the fixed week, so all of them would reach the draft."""
    return [dataclasses.replace(item, published=WEEK_START + dt.timedelta(minutes=i)) for i, item in enumerate(items)]


def run_case(body: bytes) -> tuple[str, list[FeedItem], list[str]]:
    """(status, selected items, hostile reasons); exceptions escape to the caller: they are crashes."""
    status, _, items = parse(body, "fuzz", LIMITS)
    selection = select_week([FeedResult("fuzz", "https://fuzz.example/", status, items=redate(items))],
                            WEEK_START, WEEK_END, WEEK_END)
    return status, selection.items, [r for item in selection.items for r in hostile_reasons(item)]


def fuzz(corpus: Path | None, mutants: int, seed: int, examples: int = 5) -> dict:
    started = time.monotonic()
    totals: Counter[str] = Counter()
    per_source: dict[str, Counter[str]] = defaultdict(Counter)
    per_mutation: dict[str, Counter[str]] = defaultdict(Counter)
    statuses: Counter[str] = Counter()
    found: list[dict] = []
    slowest = (0.0, "")
    for source, how, body in cases(corpus, mutants, seed):
        case_started = time.monotonic()
        outcome = "ok"
        try:
            status, items, reasons = run_case(body)
            statuses[status] += 1
            totals["items"] += len(items)
            if reasons:
                outcome = "hostile"
                found.append({"source": source, "how": how, "reasons": reasons[:3]})
        except Exception as exc:  # the point of the exercise: count, keep going
            outcome = "crash"
            found.append({"source": source, "how": how, "crash": f"{type(exc).__name__}: {str(exc)[:160]}"})
        took = time.monotonic() - case_started
        slowest = max(slowest, (took, f"{source} {how}"))
        totals["cases"] += 1
        totals[outcome] += 1
        per_source[source.split("/")[0] + "/" + source.split("/")[1] if source.startswith("corpus") else source].update(
            ["cases", outcome])
        for name in how.split("+"):
            per_mutation[name].update(["cases", outcome])
    return {
        "feedparser": feedparser.__version__, "seed": seed, "mutants": mutants, "corpus": str(corpus) if corpus else None,
        "cases": totals["cases"], "crashes": totals["crash"], "hostile_outputs": totals["hostile"],
        "items_checked": totals["items"], "statuses": dict(statuses),
        "per_source": {k: dict(v) for k, v in sorted(per_source.items())},
        "per_mutation": {k: dict(v) for k, v in sorted(per_mutation.items())},
        "slowest_case_s": round(slowest[0], 3), "slowest_case": slowest[1],
        "examples": found[:examples], "seconds": round(time.monotonic() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="feedparser's tests/ folder (from its sdist)")
    parser.add_argument("--cases", type=int, default=3000, help="mutants on top of the corpus files")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    print(json.dumps(fuzz(args.corpus, args.cases, args.seed), indent=2))


if __name__ == "__main__":
    main()
