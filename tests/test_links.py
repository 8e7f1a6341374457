"""Links and numbers in model prose traced to the sources: the findings newsletter.check_prose reports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.checks.findings import ATTENTION, INFO
from pipeline.checks.links import foreign_links, foreign_links_finding, links_in
from pipeline.checks.numbers import unverified_numbers_finding


def test_foreign_links_are_sorted_once_each_and_stop_at_markdown_brackets():
    prose = "See [x](https://b.example/2) and https://a.example/1 then https://b.example/2 again."
    assert foreign_links(prose, set()) == ["https://a.example/1", "https://b.example/2"]
    assert foreign_links(prose, {"https://b.example/2"}) == ["https://a.example/1"]


def test_foreign_links_finding_is_attention_and_none_when_all_are_sources():
    finding = foreign_links_finding("Read https://made.up/x now.", {"https://real.source/a"})
    assert finding.code == "foreign_link" and finding.severity == ATTENTION
    assert finding.message == "links not in the sources: https://made.up/x"
    assert foreign_links_finding("Read https://real.source/a now.", {"https://real.source/a"}) is None


def test_unverified_numbers_finding_severity_follows_strict():
    known = {(Decimal(46), None)}
    assert unverified_numbers_finding("We closed 46 trades.", known, strict=True) is None
    relaxed = unverified_numbers_finding("We closed 47 trades.", known, strict=False)
    assert relaxed.code == "unverified_number" and relaxed.severity == INFO and relaxed.message.endswith(": 47")
    assert unverified_numbers_finding("We closed 47 trades.", known, strict=True).severity == ATTENTION


@pytest.mark.parametrize("prose", [
    "Read https://docs.example.org/guide.",  # the sentence's full stop is not the link's
    "Read **https://docs.example.org/guide**, then _https://docs.example.org/guide_.",
    "Read [the guide](HTTPS://Docs.Example.org/guide/) or https://docs.example.org/guide?utm_source=feed#top.",
    "Read `https://docs.example.org/guide` there.",
])
def test_a_brief_link_written_another_way_is_no_foreign_link(prose):
    assert foreign_links(prose, links_in("See https://docs.example.org/guide.")) == []


def test_another_page_of_the_same_site_is_foreign():
    assert foreign_links("See https://docs.example.org/other.", {"https://docs.example.org/guide"}) == [
        "https://docs.example.org/other"]
