"""Domain filter sets are opt-in per brief (`filters: [trading]`); formatting filters are always there."""

from __future__ import annotations

import shutil
from typing import get_args

import pytest

from pipeline.blocks import block_environment
from pipeline.config import Brief, load_brief
from pipeline.filters import FILTER_SETS, filter_set_of, filters_for

from .conftest import REPO


@pytest.fixture
def weekly(project):
    for name in ("weekly.yaml", "weekly-data.json"):
        shutil.copy(REPO / "briefs" / name, project / "briefs" / name)
    return project / "briefs" / "weekly.yaml"


def test_the_registry_and_the_brief_schema_name_the_same_sets():
    (literal,) = get_args(Brief.model_fields["filters"].annotation)
    assert set(get_args(literal)) == set(FILTER_SETS)


def test_formatting_filters_are_there_for_every_brief_and_trading_only_when_named():
    assert {"signed", "number", "percent", "md_escape", "md_url"} <= set(filters_for([]))
    assert "trade_stats" not in filters_for([]) and "trade_stats" in filters_for(["trading"])
    assert filter_set_of("worst_pair") == "trading" and filter_set_of("md_escape") is None


def test_the_example_newsletter_opts_in(weekly):
    loaded = load_brief(weekly)
    assert loaded.brief.filters == ["trading"]
    assert "failure_clusters" in block_environment(loaded).filters
