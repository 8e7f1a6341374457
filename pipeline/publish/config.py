"""Publish targets: declared once in the project's `pipeline.yaml` (validated strictly, problems as
FILE:LINE:COL), or given ad hoc on the command line (`hugo:DIR`, `webhook:URL`, `smtp://HOST:PORT`).
Credentials are never written here: only the names of the environment variables that hold them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config.yamlsource import format_problem, load_yaml
from ..errors import InputError, PipelineError

CONFIG_NAME = "pipeline.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HugoTarget(_Strict):
    type: Literal["hugo"]
    site: str = Field(description="The site's folder (relative to pipeline.yaml).")
    path: str = Field("content/{kind}/{slug}/index.md",
                      description="Where the page goes inside the site: {kind} (posts, newsletters), {slug}.")


class SMTPTarget(_Strict):
    type: Literal["smtp"]
    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    username_env: str | None = Field(None, description="Environment variable holding the login name.")
    password_env: str = Field("PIPELINE_SMTP_PASSWORD", description="... and the password (else the OS keyring).")
    ca_file: str | None = Field(None, description="A CA bundle to trust (a private server's certificate).")
    timeout_s: float = Field(30, gt=0, le=600)


class WebhookTarget(_Strict):
    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://\S+$")
    token_env: str | None = Field(None, description="Environment variable holding a bearer token.")
    timeout_s: float = Field(30, gt=0, le=600)


Target = Annotated[HugoTarget | SMTPTarget | WebhookTarget, Field(discriminator="type")]
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class PublishConfig(_Strict):
    publish: dict[str, Target] = Field(default_factory=dict)


def load_config(path: Path) -> PublishConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PublishConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    doc = load_yaml(text, str(path))
    problems = [format_problem(path, where, loc, message) for loc, where, message in doc.problems]
    if not problems:
        try:
            config = PublishConfig.model_validate(doc.data or {})
            problems = [format_problem(path, doc.key_position(("publish", n)), ("publish", n),
                                       "a target's name is lowercase letters, digits, - and _")
                        for n in config.publish if not _NAME.match(n)]
            if not problems:
                return config
        except ValidationError as exc:
            problems = [_problem(path, doc, e) for e in exc.errors()]
    raise InputError(f"invalid {path.name}:\n" + "\n".join(problems),
                     hint="see the README's Publish section for the keys of each target type")


_TYPES: dict[str, type[BaseModel]] = {"hugo": HugoTarget, "smtp": SMTPTarget, "webhook": WebhookTarget}


def _problem(path: Path, doc, error) -> str:
    """FILE:LINE:COL: publish.NAME.KEY: message (pydantic puts the target's type into the path: dropped)."""
    loc = tuple(error["loc"])
    kind = loc[2] if len(loc) > 2 and loc[2] in _TYPES else None
    if kind:
        loc = loc[:2] + loc[3:]
    if error["type"] == "extra_forbidden":
        keys = ", ".join(_TYPES[str(kind)].model_fields) if kind else "publish"
        return format_problem(path, doc.key_position(loc), loc, f"unknown key; this target takes: {keys}")
    return format_problem(path, doc.position(loc), loc, error["msg"])


def resolve_target(to: str, config: PublishConfig, recipients: tuple[str, ...], base: Path) -> tuple[str, Target]:
    """(name, target) for `--to`: a configured name, or an ad-hoc target spelled out."""
    if to in config.publish:
        target = config.publish[to]
    elif to.startswith("hugo:"):
        target = HugoTarget(type="hugo", site=to[5:])
    elif to.startswith("webhook:"):
        target = WebhookTarget(type="webhook", url=to[8:])
    elif match := re.match(r"^(smtps?)://([^:/]+)(?::(\d+))?/?$", to):
        if not recipients:
            raise PipelineError(f"--to {to} needs at least one --recipient")
        scheme, host = match[1], match[2]
        # smtps: TLS from the start; smtp: STARTTLS, except to this machine's own relay (plain).
        security: Literal["starttls", "tls", "none"] = (
            "tls" if scheme == "smtps" else "none" if host in LOOPBACK else "starttls")
        target = SMTPTarget(type="smtp", host=host, port=int(match[3] or (465 if scheme == "smtps" else 587)),
                            security=security, sender=f"pipeline@{host}", recipients=list(recipients))
    else:
        known = ", ".join(sorted(config.publish)) or "none configured"
        raise PipelineError(f"unknown publish target {to!r} (targets in {CONFIG_NAME}: {known})",
                            hint="name a target from pipeline.yaml, or write hugo:SITE_DIR, webhook:URL, smtp://HOST:PORT or smtps://HOST:PORT")
    if isinstance(target, SMTPTarget) and recipients:
        target = target.model_copy(update={"recipients": list(recipients)})
    if isinstance(target, HugoTarget) and not Path(target.site).is_absolute():
        target = target.model_copy(update={"site": str(base / target.site)})
    return to, target
