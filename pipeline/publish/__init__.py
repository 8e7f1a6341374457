"""`pipeline publish DRAFT --to TARGET`: the draft's checks first (a finding that needs attention
blocks, unless --ignore-findings), then the target's plan; the same content again does nothing, an
edited draft updates what was published, and --dry-run says which it would be. What was sent is
recorded in the draft's published.json and shown on the review pages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import EXIT_ATTENTION, PipelineError
from ..recheck import check_draft
from . import hugo, smtp, webhook
from .config import CONFIG_NAME, load_config, resolve_target
from .content import read_content
from .record import Sent, last_sent, now, remember

TARGETS = {"hugo": hugo, "smtp": smtp, "webhook": webhook}


class PublishBlocked(PipelineError):
    exit_code = EXIT_ATTENTION


@dataclass(frozen=True)
class PublishOptions:
    to: str
    final: bool = False  # Hugo's draft: false
    dry_run: bool = False
    ignore_findings: bool = False
    recipients: tuple[str, ...] = ()
    config: Path = Path(CONFIG_NAME)


@dataclass(frozen=True)
class Published:
    target: str
    type: str
    action: str  # published, updated, unchanged, would publish, would update
    remote: str
    summary: str

    def as_dict(self) -> dict:
        return {"target": self.target, "type": self.type, "action": self.action, "remote": self.remote,
                "summary": self.summary}


def publish(folder: Path, options: PublishOptions) -> Published:
    config = load_config(options.config)
    name, target = resolve_target(options.to, config, options.recipients, options.config.resolve().parent)
    gate(folder, options.ignore_findings)
    content = read_content(folder)
    previous = last_sent(folder, name)
    module = TARGETS[target.type]
    plan = module.plan(target, content, previous, draft=not options.final)
    if previous and previous.get("sha256") == plan.sha256:
        return Published(name, target.type, "unchanged", str(previous.get("remote", "")),
                         f"already published to {name} on {previous.get('at')}: nothing to do")
    action = "updated" if previous else "published"
    if options.dry_run:
        return Published(name, target.type, "would update" if previous else "would publish", plan.remote, plan.summary)
    remote = module.send(target, plan, previous)
    remember(folder, Sent(name, target.type, plan.sha256, remote, not options.final, now()))
    return Published(name, target.type, action, remote, plan.summary)


def gate(folder: Path, ignore_findings: bool) -> None:
    """`pipeline check` on the draft as it is now: what a reviewer left flagged is not published."""
    report = check_draft(folder)
    if report.clean or ignore_findings:
        return
    flagged = [f"{s.heading}: {f.code}: {f.message}" for s in report.sections for f in s.findings if f.severity == "attention"]
    raise PublishBlocked(f"{folder}: {len(flagged)} finding(s) need attention, so it was not published:\n  "
                         + "\n  ".join(flagged[:10]),
                         hint="fix them in index.md (pipeline check shows them), or publish anyway with --ignore-findings")
