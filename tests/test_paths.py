"""pipeline.paths: every cache and output location computed in one place, without touching the disk."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_path

from pipeline import paths


def test_cache_root_honours_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    assert paths.cache_root() == tmp_path / "cache"
    assert paths.models_cache_dir() == tmp_path / "cache" / "models"
    assert paths.feed_cache_dir() == tmp_path / "cache" / "feeds"
    assert not (tmp_path / "cache").exists()  # computing a path creates nothing


def test_cache_root_defaults_to_the_users_cache_folder(monkeypatch):
    monkeypatch.delenv("PIPELINE_CACHE_DIR", raising=False)
    assert paths.cache_root() == user_cache_path("pipeline")


def test_output_locations_are_joined_not_resolved(tmp_path):
    out = tmp_path / "not-yet" / "output"
    assert paths.state_dir(out) == out / ".pipeline"
    assert paths.draft_dir(out, "newsletters", "2026-W16") == out / "newsletters" / "2026-W16"
    assert paths.draft_dir(Path("output"), "posts", "x") == Path("output/posts/x")  # stays relative
    assert not out.exists()
