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


def test_a_www_address_without_a_scheme_is_a_link_too():
    # Hugo's goldmark makes "www.…" a link, so an invented one needs the same look as an https one
    prose = "The setup guide is at www.mlx-guide.com/setup, and the FAQ at https://www.mlx-guide.com/faq."
    assert foreign_links(prose, set()) == ["https://www.mlx-guide.com/faq", "www.mlx-guide.com/setup"]
    assert foreign_links(prose, {"https://www.mlx-guide.com/setup", "www.mlx-guide.com/faq"}) == []
    assert links_in("Notes: see www.mlx-guide.com/setup.") == {"www.mlx-guide.com/setup"}
    assert foreign_links("Write to me@www.example.com or read docs.www.example.com.", set()) == []


@pytest.mark.parametrize("local", ["http://127.0.0.1:8080/v1", "http://localhost:8080/v1/models", "http://0.0.0.0:8000",
                                   "http://mac-studio.local:8080/", "http://192.168.1.20/metrics", "http://10.0.0.5:9090",
                                   "http://172.20.0.2/", "http://[::1]:8080/v1"])
def test_the_writers_own_machine_and_network_are_not_foreign_links(local):
    # a post about mlx_lm.server shows where it listens; no reader can follow it and no source lists it
    assert foreign_links(f"Point the client at `{local}` once the server is up.", set()) == []


def test_a_public_address_next_to_a_local_one_is_still_foreign():
    prose = "Point it at http://127.0.0.1:8080/v1, or at https://api.made-up.example/v1 and http://172.32.0.1/."
    assert foreign_links(prose, set()) == ["http://172.32.0.1/", "https://api.made-up.example/v1"]
