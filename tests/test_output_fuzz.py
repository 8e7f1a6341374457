"""Whole newsletter builds from mutated feeds and hostile model text, kept small and seeded: no build
may crash and no output may hold anything that runs (bench/output_fuzz.py is the long version)."""

from __future__ import annotations

from .conftest import load_bench

output_fuzz = load_bench("output_fuzz")


def test_the_checker_sees_what_would_run():
    assert output_fuzz.source_problems("a {{< x >}} b") and output_fuzz.source_problems('<p onclick="x">')
    assert output_fuzz.executable_html('<img src="x">')
    assert output_fuzz.executable_html('<a href="jav&#x09;ascript:x">')
    assert output_fuzz.source_problems("{\u200b{< x >}}") == []
    assert output_fuzz.executable_html('<a href="https://ok.example">ok</a>') == []


def test_mutated_feeds_and_hostile_prose_never_crash_a_build_or_reach_an_output(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    result = output_fuzz.fuzz(builds=25, seed=11)
    assert result["crashes"] == 0 and result["builds_with_executable_output"] == 0, result["examples"]
