"""Fuzzing feeds, kept small and deterministic: a fixed seed's mutants of the saved feeds and the
hand-picked hostile samples in tests/fuzz_corpus/ go through parse and the week's selection with
bench/feed_fuzz.py's mutations and checks. No exception may escape and nothing hostile may reach an
item. (The full run over feedparser's own corpus is bench/feed_fuzz.py; its result is in bench/results/.)"""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.sources.feeds import FeedItem

from .conftest import REPO, load_bench

SAMPLES = REPO / "tests" / "fuzz_corpus"


feed_fuzz = load_bench("feed_fuzz")


def test_mutants_of_the_saved_feeds_never_crash_or_leak():
    report = feed_fuzz.fuzz(None, mutants=400, seed=20261125)
    assert report["cases"] == 400
    assert report["crashes"] == 0 and report["hostile_outputs"] == 0, report["examples"]
    assert set(report["per_mutation"]) == set(feed_fuzz.MUTATIONS)  # every mutation was tried
    assert {s.split("/")[0] for s in report["per_source"]} == {"saved"}
    assert report["items_checked"] > 400  # items did reach the week's selection
    assert report["seconds"] < 10


def test_the_mutants_are_deterministic():
    first = [body for _, _, body in feed_fuzz.cases(None, 30, 7)]
    assert first == [body for _, _, body in feed_fuzz.cases(None, 30, 7)]
    assert first != [body for _, _, body in feed_fuzz.cases(None, 30, 8)]


@pytest.mark.parametrize("name, status, guids", [
    ("charrefs.xml", "parse_warning", ["c1", "c2"]),
    ("bad-encoding-name.xml", "parse_error", []),
    ("nul-encoding-name.xml", "parse_error", []),
    ("utf16-surrogate.xml", "parse_error", []),
    ("hostile-links.xml", "parse_warning", ["h1", "h2", "h3", "h4", "h5"]),
])
def test_hostile_samples(name, status, guids):
    body = (SAMPLES / name).read_bytes()
    assert len(body) < 2048
    got, items, reasons = feed_fuzz.run_case(body)
    assert got == status and reasons == []
    assert sorted(i.guid for i in items) == guids
    if name == "hostile-links.xml":
        assert [i.link for i in sorted(items, key=lambda i: i.guid)] == [None] * 4 + ["https://fuzz.example/ok"]


def test_the_samples_are_all_listed():
    assert {p.name for p in SAMPLES.iterdir()} == {"charrefs.xml", "bad-encoding-name.xml", "nul-encoding-name.xml",
                                                   "utf16-surrogate.xml", "hostile-links.xml"}


def test_the_checks_would_notice():
    """The harness itself: a hostile item is reported, and an exception is counted as a crash."""
    def bad(**fields) -> FeedItem:
        base = {"source": "s", "title": "t", "link": "https://ok.example/", "summary": "", "guid": None,
                "published": dt.datetime(2026, 4, 14, tzinfo=dt.UTC)}
        return FeedItem(**{**base, **fields})

    assert feed_fuzz.hostile_reasons(bad()) == []
    for fields in ({"title": "a\ud800"}, {"summary": "<SCRIPT>x"}, {"title": "rtl\u202e"}, {"guid": "bell\x07"},
                   {"link": "javascript:alert(1)"}, {"link": "https://ok.example/?u=data:x"}, {"link": "ftp://x.example/"}):
        assert feed_fuzz.hostile_reasons(bad(**fields)), fields


def test_a_crash_is_counted(monkeypatch):
    def explode(body, name, limits):
        raise OverflowError("boom")

    monkeypatch.setattr(feed_fuzz, "parse", explode)
    report = feed_fuzz.fuzz(None, mutants=5, seed=1)
    assert report["crashes"] == 5 and report["examples"][0]["crash"] == "OverflowError: boom"
