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
