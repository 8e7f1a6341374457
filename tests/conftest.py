"""Shared fixtures: a throwaway project folder (briefs/, templates/, output/) and a scripted backend."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import shutil
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.backends.script import ScriptBackend

REPO = Path(__file__).resolve().parent.parent

# A shell starts background jobs (a CI run among them) with SIGINT ignored, and children inherit that:
# Ctrl-C as a terminal delivers it is what the interrupt tests send, to this process and to children.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

MINIMAL_BRIEF = """\
title: Memory budgets for local models
date: 2026-11-23
description: A short test post.
tags: [mlx, testing]
model: builtin:smollm2  # tests hand in a scripted backend instead
research: |
  The Mac has 64 GB of memory.
facts:
  total_memory_gb: 64
stages:
  draft:
    max_tokens: 60
    seed: 1
sections:
  - heading: First things
    instruction: Say what comes first.
    words: 20
  - heading: Second things
    instruction: Say what comes second.
    words: 20
"""


SCRIPTED_WORDS = 20  # scripted answers are a sentence or two: a target this low keeps them from being "short"


EXAMPLE_WEEK = "2026-W16"  # the week of the saved feed snapshots in briefs/feeds/


def pin_example_week(text: str) -> str:
    """The example weekly builds the week its feeds and data were saved for, whatever today is."""
    return text.replace("\ntimezone:", f"\nweek: {EXAMPLE_WEEK}\ntimezone:", 1)


def copy_examples(project: Path, *names: str, feeds: bool = False) -> Path:
    """The repository's example briefs (and data) in a temp project, section targets lowered to
    SCRIPTED_WORDS; returns the first one's path."""
    for name in names:
        text = (REPO / "briefs" / name).read_text()
        if name.endswith(".yaml"):
            text = re.sub(r"(?m)^(\s+words:) \d+", rf"\1 {SCRIPTED_WORDS}", text)
        if name == "weekly.yaml":
            text = pin_example_week(text)
        (project / "briefs" / name).write_text(text)
    if feeds:
        shutil.copytree(REPO / "briefs" / "feeds", project / "briefs" / "feeds", dirs_exist_ok=True)
    return project / "briefs" / names[0]


def copy_shipped_templates(folder: Path) -> None:
    """The shipped templates as a project keeps them (what `pipeline init` writes): post templates in
    templates/, newsletter templates in templates/newsletter/."""
    shutil.copytree(REPO / "pipeline" / "templates" / "post", folder)
    shutil.copytree(REPO / "pipeline" / "templates" / "newsletter", folder / "newsletter")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the repository's templates and an empty output/."""
    copy_shipped_templates(tmp_path / "templates")
    (tmp_path / "briefs").mkdir()
    (tmp_path / "output").mkdir()
    return tmp_path


@pytest.fixture
def write_brief(project: Path):
    def write(text: str = MINIMAL_BRIEF, name: str = "post.yaml") -> Path:
        path = project / "briefs" / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def fake() -> ScriptBackend:
    return ScriptBackend()


def opener_for(backend):
    """A backend_opener for run_brief / the CLI that hands out one prepared backend."""
    return lambda model, memory: backend


def load_bench(name: str):
    """A script from bench/ as a module (the fuzz tests run small versions of the benchmarks)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


_SIGNAL = signal.signal  # tests that stub signal.signal (the CLI's) can still set an alarm


@contextlib.contextmanager
def fails_after(seconds: float):
    """What would wait forever (a read of a pipe) fails the test instead of hanging the suite."""
    def expire(signum, frame):
        raise TimeoutError(f"still waiting after {seconds} s")
    previous = _SIGNAL(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _SIGNAL(signal.SIGALRM, previous)
