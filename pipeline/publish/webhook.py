"""Webhook: the draft as one JSON POST (front matter, markdown, HTML) with an `Idempotency-Key`
header, retried with back-off on connection errors, timeouts, 429 and 5xx; the same content always
carries the same key, so a receiver can drop a retry it already took. A receiver that answers with
`{"id": ...}` gets that id back on the next publish of the draft (`"id"` in the payload): update it
in place."""

from __future__ import annotations

import json
import os

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from ..errors import PipelineError
from .config import WebhookTarget
from .content import DraftContent, Plan, digest


class _TryAgain(Exception):
    pass


def plan(target: WebhookTarget, content: DraftContent, previous: dict | None, draft: bool) -> Plan:
    remote = str((previous or {}).get("remote") or "")
    payload = {"key": f"{content.kind}/{content.folder.name}", "id": remote or None,
               "draft": draft, "title": content.title, "slug": content.slug, "front_matter": content.meta,
               "markdown": content.body, "html": content.html}
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    content_only = json.dumps({**payload, "id": None}, ensure_ascii=False, sort_keys=True, default=str)
    return Plan(digest(content_only), remote, body, f"POST {target.url} ({len(body)} bytes, draft: {str(draft).lower()})")


def send(target: WebhookTarget, plan: Plan, previous: dict | None) -> str:
    headers = {"Content-Type": "application/json", "Idempotency-Key": plan.sha256}
    if target.token_env:
        token = os.environ.get(target.token_env)
        if not token:
            raise PipelineError(f"the webhook's token variable {target.token_env} is not set",
                                hint=f"export {target.token_env}=... before publishing")
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = _post(target, str(plan.payload), headers)
    except _TryAgain as exc:
        raise PipelineError(f"webhook {target.url} failed 4 times: {exc}",
                            hint="nothing is recorded as published; run publish again when the receiver is up") from None
    if response.status_code >= 400:
        raise PipelineError(f"webhook {target.url} refused the draft ({response.status_code}): {response.text[:300]}",
                            hint="check the receiver's logs and the target's URL and token")
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    remote = answer.get("id") if isinstance(answer, dict) else None
    return str(remote) if remote is not None else (previous or {}).get("remote") or plan.sha256[:16]


@retry(retry=retry_if_exception_type(_TryAgain), stop=stop_after_attempt(4),
       wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
def _post(target: WebhookTarget, body: str, headers: dict) -> requests.Response:
    try:
        response = requests.post(target.url, data=body.encode(), headers=headers, timeout=target.timeout_s)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _TryAgain(type(exc).__name__) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise _TryAgain(f"{response.status_code} {response.text[:100]}")
    return response
