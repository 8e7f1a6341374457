"""Hugo (and any static-site folder): the draft as a page bundle, `<site>/content/<kind>/<slug>/index.md`
(or the target's `path`), YAML front matter in Hugo's keys, `draft:` as asked. A page published once
stays at its path: an edited draft, even with a new slug, overwrites it instead of adding a second page."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import PipelineError
from ..writer import write_whole
from .config import HugoTarget
from .content import DraftContent, Plan, digest

FRONT_MATTER_KEYS = ("title", "date", "slug", "description", "tags", "author", "week")


def page_text(content: DraftContent, draft: bool) -> str:
    meta = {key: content.meta[key] for key in FRONT_MATTER_KEYS if content.meta.get(key) not in (None, "", [])}
    meta["draft"] = draft
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n" + content.body


def page_path(target: HugoTarget, content: DraftContent, previous: dict | None) -> Path:
    site = Path(target.site).resolve()
    if not (site / "content").is_dir() and not any(site.glob("hugo.*")) and not any(site.glob("config.*")):
        raise PipelineError(f"{site} does not look like a site (no content/ folder, no hugo.toml or config file)",
                            hint="point the target at the site's root folder")
    if previous and previous.get("remote"):
        return site / previous["remote"]  # where it was published before: updated in place
    relative = Path(target.path.format(kind=content.kind, slug=content.slug))
    path = (site / relative).resolve()
    if site not in path.parents:
        raise PipelineError(f"the page path {relative} leaves the site folder", hint="fix the target's path:")
    return path


def plan(target: HugoTarget, content: DraftContent, previous: dict | None, draft: bool) -> Plan:
    text = page_text(content, draft)
    site = Path(target.site).resolve()
    relative = page_path(target, content, previous).relative_to(site).as_posix()
    return Plan(digest(text), relative, text, f"page {relative} in {site} (draft: {str(draft).lower()})")


def send(target: HugoTarget, plan: Plan, previous: dict | None) -> str:
    path = Path(target.site).resolve() / plan.remote
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, str(plan.payload))
    return plan.remote
