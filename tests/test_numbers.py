"""The number checker: formatting-tolerant, rounding-tolerant, and strict about invented numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipeline.checks.numbers import flatten_numbers, known_values, mentions, unverified

DATA = {"round_trips": 464, "win_rate_pct": 38.1, "realized_pnl": -34.58, "net_return_pct": 20.23,
        "max_drawdown_pct": 3.14, "fees": 1000, "pairs": ["APT/USDT", "ETH/USDT"], "live": True}


@pytest.fixture
def known():
    return known_values(flatten_numbers(DATA), "Scan interval 8 → 12 minutes")


@pytest.mark.parametrize("prose", [
    "We closed 464 round-trips at a 38.1% win rate.",
    "Realized PnL was -34.58 USDT; we lost 34.58 in total.",
    "Net return +20.23%, or about 20.2% rounded, with 3.14% max drawdown.",
    "Fees came to 1,000 USDT.",
    "The scan interval went from 8 to 12 minutes.",
])
def test_numbers_from_the_data_pass_in_any_format(prose, known):
    assert unverified(prose, known) == []


@pytest.mark.parametrize("prose,planted", [
    ("We closed 465 round-trips.", "465"),
    ("The win rate was 41.3%.", "41.3%"),
    ("PnL was -34.5 USDT.", "-34.5"),  # not a rounding of -34.58
    ("Returns hit 21% this week.", "21%"),
    ("We paid 1,200 in fees.", "1,200"),
])
def test_planted_fabricated_numbers_are_flagged(prose, planted, known):
    assert [m.text for m in unverified(prose, known)] == [planted]


def test_list_markers_and_words_with_digits_are_not_numbers():
    text = "1. First item with ETH2 and M1 chips\n2. Second item costs 5 dollars"
    assert [m.text for m in mentions(text)] == ["5"]


def test_mention_values_are_absolute_and_comma_free():
    (m,) = mentions("down −1,234.50%")
    assert m.value == Decimal("1234.50") and m.decimals == 2


FACTS = "At 8-bit the weights take about 35 GB. The Mac has 64 GB of unified memory; decode runs at 18 tok/s."


@pytest.mark.parametrize("prose", [
    "The weights need 35GB, a little over half of the 64 gigabytes.",  # glued and spelled-out units
    "An 8-bit model on a 64GB Mac.",
    "It decodes 18 tokens per second.",
    "Of the 64, 35 go to weights.",  # no unit in the prose: the value is the claim
])
def test_a_number_verifies_with_its_unit_in_any_spelling(prose):
    assert unverified(prose, known_values(FACTS)) == []


@pytest.mark.parametrize(("prose", "invented"), [
    ("It decodes 64 tokens/s.", "64"),  # 64 is in the facts, but as GB
    ("The cache takes 18 GB.", "18"),  # 18 is a speed there
    ("Loading takes 35 minutes.", "35"),
    ("A 16GB machine is enough.", "16"),  # a glued unit makes it a claim, too
])
def test_a_known_value_with_another_unit_is_unverified(prose, invented):
    assert [m.text for m in unverified(prose, known_values(FACTS))] == [invented]


@pytest.mark.parametrize("prose", ["An H100 card.", "The 2nd run.", "On x86 machines.", "A 3D chart.", "See v2.1."])
def test_names_with_digits_are_not_numbers_to_verify(prose):
    assert mentions(prose) == []


def test_a_run_json_record_round_trips_and_an_old_one_still_reads():
    from pipeline.checks.prose import Reference

    reference = Reference(known_values(FACTS), set(), strict=True)
    assert Reference.from_record(reference.as_record()).known == reference.known
    old = Reference.from_record({"known_numbers": ["35", "64"], "unverified_numbers": "attention"})  # before units
    assert unverified("It decodes 64 tokens/s with 35 GB.", old.known) == []  # a bare value verifies any unit


def test_a_data_key_that_names_a_unit_gives_its_number_that_unit():
    known = known_values(flatten_numbers({"os_and_apps_gb": 10, "win_rate_pct": 38.1, "trades": 12}))
    assert unverified("Apps take 10 GB; the win rate was 38.1%; 12 trades.", known) == []
    assert [m.text for m in unverified("It reads 10 bytes a token.", known)] == ["10"]


def test_a_min_key_is_a_minimum_not_minutes():
    known = known_values(flatten_numbers({"memory_min": 3, "wait_minutes": 5}))
    assert unverified("The smallest machine had 3 GB; we waited 5 minutes.", known) == []
    assert [m.text for m in unverified("It used 5 GB.", known)] == ["5"]  # 5 is a number of minutes


# From an adversarial probe of 2026-12-07 (173 cases): each of these was a false flag or a silent pass before.
@pytest.mark.parametrize(("source", "prose"), [
    ("The score is 35.45.", "The score is 35.5."),  # rounded half up, as people round
    ("The file is 2.5 GB.", "The file is about 3 GB."),
    ("1,234 users signed up.", "About 1,200 users signed up."),  # "about" rounds to its last non-zero digit
    ("1,234 users signed up.", "Over 1,000 users signed up."),
    ("1,200 users signed up.", "About 1.2k users signed up."),  # scale words are amounts
    ("Revenue was $1,200,000.", "Revenue was $1.2M."),
    ("Revenue was $1.2 million.", "Revenue was $1,200,000."),
    ("The model has 35B parameters.", "The model has 35 billion parameters."),
    ("win_rate 0.381", "The win rate was 38.1%."),  # a fraction given as a share
    ("Inflation hit 3.5%.", "Inflation hit 3.5 per cent."),
    ("The Mac has 64\u00a0GB.", "The Mac has 64 GB."),  # a non-breaking space holds the unit
    ("Decode runs at 18 tok/s.", "Decode runs at 18 tokens/second, or 18 t/s."),
    ("The delay is 0.5 s.", "The delay is .5 s."),
    ("It requires version 3.11.", "It needs Python 3.11."),  # a reference in the source still gives its number
    ("We have two offices.", "We have 2 offices."),  # a number the source spells out
    ("The job starts at 03:00 on 7 December.", "It starts at 03:00 on Dec 7th."),  # one date, one time
])
def test_the_same_number_written_another_way_passes(source, prose):
    assert unverified(prose, known_values(source)) == []


@pytest.mark.parametrize(("source", "prose", "invented"), [
    ("Revenue was $5 million.", "Revenue was $7.5M.", "7.5"),  # was read as "7"
    ("It runs on 1 GPU.", "Revenue was $1.9M.", "1.9"),  # was read as "1", which "1 GPU" verified
    ("It costs $500.", "The budget is $2000.", "2000"),  # money is no year
    ("Context is 8K tokens.", "Context is 2048 tokens.", "2048"),  # nor is a count of tokens
    ("The weights take 5 GB.", "It uses 5hrs and 45sec and $9bn.", "45"),  # glued units were invisible
    ("The Mac has 64 GB.", "It decodes 64\u00a0tokens/s.", "64"),  # a non-breaking space no longer drops the unit
    ("Each step takes 20 ms.", "Each run has 4 steps of 250 ms.", "250"),  # a count of steps is no reference
    ("About 10 GB for the OS.", "About 11 GB for the OS.", "11"),
    ("The job runs nightly.", "The job runs at 07:00.", "07:00"),  # a time is a claim, once
    ("MLX has three knobs.", "A 3-day cycle.", "3"),  # a spelled-out count verifies "3 knobs", not "3 days"
    ("It shipped in 2025.", "It shipped on 2025-03-14.", "2025-03-14"),
])
def test_an_invented_number_is_flagged_however_it_is_written(source, prose, invented):
    assert invented in [m.text for m in unverified(prose, known_values(source))]


@pytest.mark.parametrize("prose", [
    "Checksums use SHA-256 and files are UTF-8.", "We ran Qwen3-30B-A3B and Llama-3.1-8B.", "The server speaks HTTP/2.",
    "It targets x86-64.", "Dates are ISO 8601; see RFC 9110 and PEP 8.", "The service runs 24/7.",
    "Set `max_tokens=512` here.", "```python\nmodel.generate(max_tokens=512, temp=0.7)\n```",
    "Read [the docs](https://docs.python.org/3.11/) or www.example.com/v2/3.",
    "Serve it on localhost:8080 or 192.168.1.20:11434.",
    "See steps 2 and 3, pages 4-5, stage 2, Appendix 3 and issue 123.", "### 1. Install it\n\n> 2. quoted item",
    "As the footnote says[^1].", "Upgrade to version 3.11.4 now.",
])
def test_names_code_addresses_and_references_are_not_claims(prose):
    assert mentions(prose) == []


# -- found by the second blind set (2026-12-07, seventh session) ---------------------------------------------------
@pytest.mark.parametrize("sources, prose, flagged", [
    # half up at the edge: 12.45 is "12.5", 1,250 "about 1,300", 2.5 GB "about 3 GB"; the lower edge still rounds in
    ("Average speed: 12.45 tok/s.", "Average speed was 12.4 tok/s.", ["12.4"]),
    ("Average speed: 12.45 tok/s.", "Average speed was 12.5 tok/s.", []),
    ("Orders: 1,250 this week.", "About 1,200 orders shipped.", ["1,200"]),
    ("Orders: 1,250 this week.", "About 1,300 orders shipped.", []),
    ("Model file: 2.5 GB.", "The model file is about 2 GB.", ["2"]),
    # a date's year, when the prose writes one; a day without a year matches any year's
    ("Renewal on 2026-12-07.", "Renewal falls on 2025-12-07.", ["2025-12-07"]),
    ("Renewal on 2026-12-07.", "Renewal falls on 7 December 2026, so on 7 December.", []),
    # a clock time before a colon
    ("Nightly sync runs at 02:30.", "Nightly sync kicks off at 02:30:\n\n```\n30 2 * * * sync.sh --retries 5\n```", []),
    # dotted versions are claims, compared whole; after "version" or "v", or a section number, they are not
    ("Python 3.11.4 is installed.", "The runner has Python 3.11.6.", ["3.11.6"]),
    ("Open WebUI 0.5.20 and Ollama 0.5.7.", "We run Open WebUI 0.5.20 with Ollama 0.5.7.", []),
    ("Upgrade notes.", "I moved to version 2.3.1, then v2.4.0; see section 4.2.1.", []),
])
def test_rounding_edges_dated_days_times_and_versions(sources, prose, flagged):
    assert [m.text for m in unverified(prose, known_values(sources))] == flagged
