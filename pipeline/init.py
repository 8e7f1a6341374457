"""`pipeline init [DIR]`: a working project to start from, as `hugo new site` makes one: a ten-line first
brief, a weekly newsletter brief, editable copies of the shipped templates and a .gitignore. Existing
files are never overwritten: they are listed as kept."""

from __future__ import annotations

from pathlib import Path

from .prompts import SHIPPED_TEMPLATES

FIRST_BRIEF = """\
title: What I learned running a local model for a month
description: Notes from a month of writing with a model on my own machine.
model: builtin:smollm2   # the small embedded model; for real posts, your MLX folder, e.g. ~/models/Qwen3-30B-A3B-4bit
research: |
  - Everything the post may say goes here: notes, numbers, names. The model is told to use them and invent nothing.
sections:
  - {heading: Why I started, instruction: Explain why I moved my drafting to a local model., words: 120}
  - {heading: What surprised me, instruction: Describe the biggest surprise of the month using the notes., words: 150}
  - {heading: What I would do differently, instruction: Give two concrete changes for next month., words: 120}
"""

WEEKLY_BRIEF = """\
# A weekly newsletter: prose from the model, news picked from your feeds. Schedule it with
#   pipeline schedule briefs/weekly.yaml --at "mon 07:00"
kind: newsletter
title: My weekly notes
description: What happened this week, and the news that mattered.
model: builtin:smollm2
timezone: UTC            # the ISO week is taken in this zone
covers: last             # a Monday build covers the whole week before it
sources:
  feeds:                 # RSS or Atom; a feed that fails uses its last good copy
    - {name: Python Insider, url: "https://blog.python.org/feeds/posts/default?alt=rss", max_items: 10}
stages:
  draft: {max_tokens: 300}
  pick: {enable_thinking: false, temperature: 0.2, max_tokens: 400, attempts: 2}   # JSON: thinking off
sections:
  - {heading: This week, instruction: Summarise the week in three sentences for a reader in a hurry., words: 80}
  - {heading: News that mattered, type: news, stage: pick, max_items: 3,
     instruction: Pick the items a Python developer should read and say why in one line each.}
"""

GITIGNORE = """\
# drafts, review pages and run state (locks, the resume cache): rebuilt by pipeline, not source
output/
"""


# The prompt templates every project edits; the trading example's block templates stay shipped.
EDITABLE = {"post": ("system.md.j2", "section.md.j2"), "newsletter": ("system.md.j2", "section.md.j2", "news.md.j2")}


def project_files(folder: Path) -> dict[Path, str]:
    """Every file a new project gets, by path."""
    files = {folder / "briefs" / "first.yaml": FIRST_BRIEF, folder / "briefs" / "weekly.yaml": WEEKLY_BRIEF,
             folder / ".gitignore": GITIGNORE}
    for kind, target in (("post", folder / "templates"), ("newsletter", folder / "templates" / "newsletter")):
        for name in EDITABLE[kind]:
            files[target / name] = (SHIPPED_TEMPLATES / kind / name).read_text()
    return files


def write_project(folder: Path) -> tuple[list[Path], list[Path]]:
    """(written, kept): a file that already exists is left as it is."""
    written, kept = [], []
    for path, text in project_files(folder).items():
        if path.exists():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written, kept
