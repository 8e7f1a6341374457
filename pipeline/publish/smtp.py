"""SMTP: the draft as a multipart email (plain text + HTML) to the target's recipients: a newsletter
as its email renditions, a post as a review copy. Credentials come from environment variables or the
OS keyring, never from a file.

No duplicate sends: the transaction goes step by step, and only a failure before the message is handed
over (connect, TLS, login, MAIL, RCPT) is retried; one during or after DATA is reported as "may have
been delivered", not retried. A refused recipient stops the send before DATA, so nobody gets it and a
fixed address can be published again. The Message-ID is derived from the content, so the same draft
always carries the same id; an edited draft's email says which one it supersedes."""

from __future__ import annotations

import os
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from ..errors import PipelineError
from .config import SMTPTarget
from .content import DraftContent, Plan, digest

KEYRING_SERVICE = "pipeline-smtp"


class _BeforeData(Exception):
    """Failed before the message was handed over: safe to try again."""


def plan(target: SMTPTarget, content: DraftContent, previous: dict | None, draft: bool) -> Plan:
    text = content.email_text or content.body
    html = content.email_html or f"<!doctype html><html><body><h1>{content.title}</h1>\n{content.html}</body></html>"
    subject = ("Review copy: " if content.kind == "posts" else "") + content.title
    sha = digest(subject, text, html, ",".join(target.recipients), target.sender)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"], message["To"] = target.sender, ", ".join(target.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{sha[:32]}@pipeline.invalid>"  # short enough never to be folded
    if previous and previous.get("remote") and previous["remote"] != message["Message-ID"]:
        message["References"] = message["Supersedes"] = previous["remote"]
    message.set_content(text, cte="quoted-printable")  # SMTP caps lines at 998 bytes; paragraphs are longer
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return Plan(sha, message["Message-ID"], message,
                f"email {subject!r} to {', '.join(target.recipients)} via {target.host}:{target.port}")


def send(target: SMTPTarget, plan: Plan, previous: dict | None) -> str:
    message = plan.payload
    assert isinstance(message, EmailMessage)
    login = credentials(target)
    try:
        session = _handed_to_data(target, login)
    except _BeforeData as exc:
        raise PipelineError(f"could not send through {target.host}:{target.port} (4 tries): {exc}",
                            hint="nothing was sent; check the server, then publish again") from None
    try:
        code, reply = session.data(message.as_bytes(policy=policy.SMTP))  # CRLF: smtplib leaves bytes as they are
    except (smtplib.SMTPException, OSError) as exc:
        raise PipelineError(f"{target.host}:{target.port} failed while taking the message ({exc}): it may or may "
                            "not have been delivered", hint="check a recipient's inbox before publishing again") from None
    finally:
        _quit(session)
    if code != 250:  # refused as a whole after the data went over (size, content): not delivered
        raise PipelineError(f"{target.host}:{target.port} refused the message: {code} {reply.decode(errors='replace')}",
                            hint="nothing was delivered; see the server's reason")
    return plan.remote


@retry(retry=retry_if_exception_type(_BeforeData), stop=stop_after_attempt(4),
       wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
def _handed_to_data(target: SMTPTarget, login: tuple[str, str] | None) -> smtplib.SMTP:
    """Connect, secure, log in, MAIL and RCPT for every recipient; returns the session ready for DATA."""
    session: smtplib.SMTP | None = None
    try:
        context = ssl.create_default_context(cafile=target.ca_file)
        if target.security == "tls":
            session = smtplib.SMTP_SSL(target.host, target.port, timeout=target.timeout_s, context=context)
        else:
            session = smtplib.SMTP(target.host, target.port, timeout=target.timeout_s)
        session.ehlo()
        if target.security == "starttls":
            session.starttls(context=context)
            session.ehlo()
        if login:
            session.login(*login)
        code, reply = session.mail(target.sender)
        if code != 250:
            raise _refusal_or_retry(code, reply, f"sender {target.sender}")
        for recipient in target.recipients:
            code, reply = session.rcpt(recipient)
            if code not in (250, 251):
                raise _refusal_or_retry(code, reply, f"recipient {recipient}")
        return session
    except _BeforeData:
        _quit(session)
        raise
    except smtplib.SMTPNotSupportedError as exc:
        _quit(session)
        raise PipelineError(f"{target.host}:{target.port}: {exc}",
                            hint="set the target's security: to what the server offers (starttls, tls or none)") from None
    except smtplib.SMTPAuthenticationError as exc:
        _quit(session)
        raise PipelineError(f"{target.host} refused the login ({exc.smtp_code})",
                            hint="check the username and password variables (or the keyring entry)") from None
    except PipelineError:
        _quit(session)
        raise
    except (smtplib.SMTPException, OSError) as exc:
        _quit(session)
        raise _BeforeData(f"{type(exc).__name__}: {exc}") from exc


def _refusal_or_retry(code: int, reply: bytes, what: str) -> Exception:
    text = reply.decode(errors="replace")
    if 400 <= code < 500:
        return _BeforeData(f"{what}: {code} {text}")  # temporary: try again
    return PipelineError(f"the server refused {what}: {code} {text}; nothing was sent",
                         hint="fix the address in the target (or --recipient), then publish again")


def _quit(session: smtplib.SMTP | None) -> None:
    if session is None:
        return
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def credentials(target: SMTPTarget) -> tuple[str, str] | None:
    """(user, password) from the environment, the password else from the OS keyring; None: no login."""
    if not target.username_env:
        return None
    user = os.environ.get(target.username_env)
    if not user:
        raise PipelineError(f"{target.username_env} is not set (the SMTP login name)",
                            hint=f"export {target.username_env}=you@example.com")
    password = os.environ.get(target.password_env) or _keyring_password(target.host, user)
    if not password:
        raise PipelineError(f"no SMTP password: {target.password_env} is not set and the keyring has none",
                            hint=f"export {target.password_env}=..., or: keyring set {KEYRING_SERVICE}:{target.host} {user}")
    return user, password


def _keyring_password(host: str, user: str) -> str | None:
    try:
        import keyring

        return keyring.get_password(f"{KEYRING_SERVICE}:{host}", user)
    except Exception:  # no keyring installed, or no backend on this machine (a headless Linux box)
        return None
