"""`pipeline publish` on drafts made by `pipeline run`: into a Hugo site built by the real Hugo binary,
by email through a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS and AUTH too), and to a webhook
on 127.0.0.1 that fails its first tries. Idempotence, the checks gate, dry runs, and bad configuration."""

from __future__ import annotations

import datetime as dt
import email
import json
import shutil
import socket
import subprocess
import sys
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.backends.script import ScriptBackend
from pipeline.cli import main
from pipeline.errors import InputError, PipelineError
from pipeline.progress import Reporter
from pipeline.publish import PublishBlocked, PublishOptions, publish
from pipeline.runner import RunOptions, run_brief

from .conftest import MINIMAL_BRIEF, opener_for

ANSWER = ("Memory comes first for a local model, because the weights and the cache share one pool of "
          "memory. Template text such as {{< youtube abc >}} and {% include x %} stays plain text.")
SECOND = "Second comes the schedule: the nightly job loads the model, writes its sections and exits again."
HUGO = shutil.which("hugo", path=str(Path(sys.executable).parent)) or shutil.which("hugo")


@pytest.fixture
def draft(write_brief, project) -> Path:
    brief = write_brief(MINIMAL_BRIEF)
    backend = ScriptBackend(by_label={"First things": [ANSWER], "Second things": [SECOND]})
    result = run_brief(brief, RunOptions(out_root=project / "output"), Reporter(), opener_for(backend))
    assert result.status == "ok"
    return result.draft_dir


def edit(draft: Path, old: str, new: str) -> None:
    path = draft / "index.md"
    path.write_text(path.read_text().replace(old, new, 1))


# -- Hugo ----------------------------------------------------------------------------------------
@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    (root / "content").mkdir(parents=True)
    (root / "layouts" / "_default").mkdir(parents=True)
    (root / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "Test site"\n'
                                    'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n')
    (root / "layouts" / "_default" / "single.html").write_text("<article><h1>{{ .Title }}</h1>{{ .Content }}</article>")
    (root / "layouts" / "_default" / "list.html").write_text("{{ range .Pages }}{{ .Title }}{{ end }}")
    return root


def hugo_build(site: Path, drafts: bool = False) -> subprocess.CompletedProcess:
    assert HUGO, "the hugo package (a test dependency) installs the binary beside python"
    command = [HUGO, "--source", str(site), "--destination", str(site / "public"), "--quiet"]
    return subprocess.run(command + (["--buildDrafts"] if drafts else []), capture_output=True, text=True, timeout=120)


def rendered(site: Path, slug: str) -> Path:
    return site / "public" / "posts" / slug / "index.html"


def test_final_page_is_rendered_by_hugo_with_template_text_as_text(draft, site):
    done = publish(draft, PublishOptions(f"hugo:{site}", final=True))
    assert done.action == "published" and done.remote == "content/posts/memory-budgets-for-local-models/index.md"
    page = site / done.remote
    assert page.is_file() and "draft: false" in page.read_text()
    build = hugo_build(site)
    assert build.returncode == 0, build.stderr
    slug = page.parent.name
    html = rendered(site, slug).read_text()
    assert "Memory comes first for a local model" in html
    assert "youtube abc" in html and "include x" in html and "<iframe" not in html  # shown, never run
    assert not (site / "content" / "posts" / slug / "run.json").exists()  # the review loop stays home


def test_a_draft_folder_copied_into_a_site_by_hand_publishes_only_the_page(draft, site):
    copied = site / "content" / "posts" / draft.name
    shutil.copytree(draft, copied)
    assert (copied / "run.json").is_file() and (copied / "review.html").is_file()
    refused = hugo_build(site, drafts=True)  # Hugo takes the review pages for content pages and stops: nothing leaks
    assert refused.returncode != 0 and not (site / "public" / "posts").exists()
    config = site / "hugo.toml"
    config.write_text(config.read_text() + "ignoreFiles = ['\\.html$', 'email\\.txt$']\n")  # as the README says
    build = hugo_build(site, drafts=True)
    assert build.returncode == 0, build.stderr
    published = sorted(p.relative_to(site / "public").as_posix() for p in (site / "public").rglob("*") if p.is_file())
    page = [p for p in published if p.startswith("posts/") and p != "posts/index.html"]  # the list page aside
    assert len(page) == 1 and page[0].endswith("/index.html"), published  # no run.json, review.html, email files
    assert "Memory comes first for a local model" in (site / "public" / page[0]).read_text()
    assert not any(p.endswith(("run.json", "review.html")) for p in published)


def test_default_is_a_hugo_draft_that_only_builds_with_drafts(draft, site):
    done = publish(draft, PublishOptions(f"hugo:{site}"))
    slug = (site / done.remote).parent.name
    assert "draft: true" in (site / done.remote).read_text()
    assert hugo_build(site).returncode == 0 and not rendered(site, slug).exists()
    assert hugo_build(site, drafts=True).returncode == 0 and rendered(site, slug).exists()


def test_a_reviewers_edit_cannot_bring_back_shortcodes_or_dangerous_links(draft, site):
    edit(draft, "Memory comes first", "{{< figure src=x >}} [click](javascript:alert(1)) Memory comes first")
    with pytest.raises(PublishBlocked, match="need attention"):  # the checks gate sees the link
        publish(draft, PublishOptions(f"hugo:{site}", final=True))
    assert not any((site / "content").rglob("index.md"))  # nothing was published
    done = publish(draft, PublishOptions(f"hugo:{site}", final=True, ignore_findings=True))
    build = hugo_build(site)
    assert build.returncode == 0, build.stderr  # an unknown shortcode that ran would fail the build
    html = rendered(site, (site / done.remote).parent.name).read_text()
    assert "figure src=x" in html and "javascript:" not in html and "click" in html


def test_publishing_again_is_idempotent_and_an_edit_updates_in_place(draft, site):
    options = PublishOptions(f"hugo:{site}", final=True)
    first = publish(draft, options)
    again = publish(draft, options)
    assert again.action == "unchanged" and "nothing to do" in again.summary
    edit(draft, "Memory comes first", "Memory, first of all, comes first")
    preview = publish(draft, PublishOptions(f"hugo:{site}", final=True, dry_run=True))
    assert preview.action == "would update" and "first of all" not in (site / first.remote).read_text()
    edit(draft, "title: Memory budgets for local models", "title: Memory budgets, revised")
    updated = publish(draft, options)
    assert updated.action == "updated" and updated.remote == first.remote
    assert "first of all" in (site / first.remote).read_text()
    assert len(list((site / "content").rglob("index.md"))) == 1
    record = json.loads((draft / "published.json").read_text())[f"hugo:{site}"]
    assert len(record["history"]) == 1 and record["history"][0]["sha256"] != record["sha256"]


def test_review_pages_show_where_a_draft_was_published(draft, site, project):
    runner = CliRunner()
    result = runner.invoke(main, ["publish", str(draft), "--to", f"hugo:{site}"])
    assert result.exit_code == 0, result.output
    assert "published: page content/posts/" in result.output
    index = (project / "output" / "index.html").read_text()
    assert f"hugo:{site}" in index.split('class="published">')[1].split("</td>")[0]
    assert 'id="published"' in (draft / "review.html").read_text()


# -- configuration ---------------------------------------------------------------------------------
def test_configured_targets_are_validated_with_their_line(draft, tmp_path):
    config = tmp_path / "pipeline.yaml"
    config.write_text("publish:\n  blog:\n    type: hugo\n    site: site\n    layout: x\n")
    with pytest.raises(InputError, match=r"pipeline\.yaml:5:5.*layout"):
        publish(draft, PublishOptions("blog", config=config))
    config.write_text("publish:\n  mail:\n    type: smtp\n    host: h\n    sender: nobody\n    recipients: []\n")
    with pytest.raises(InputError, match=r"pipeline\.yaml:5:13.*sender") as caught:
        publish(draft, PublishOptions("mail", config=config))
    assert "recipients" in str(caught.value)


def test_unknown_target_lists_the_configured_ones(draft, tmp_path):
    config = tmp_path / "pipeline.yaml"
    config.write_text("publish:\n  blog:\n    type: hugo\n    site: site\n")
    result = CliRunner().invoke(main, ["publish", str(draft), "--to", "blg", "--config", str(config)])
    assert result.exit_code == 1 and "unknown publish target 'blg'" in result.output and "blog" in result.output


def test_a_folder_that_is_not_a_draft_is_refused(tmp_path, site):
    with pytest.raises(InputError, match="no run.json here, so not a draft folder"):
        publish(tmp_path, PublishOptions(f"hugo:{site}"))


# -- SMTP --------------------------------------------------------------------------------------------
class Inbox:
    """aiosmtpd handler: keeps every message; refuses bad@ recipients; can hang up on the first MAIL."""

    def __init__(self, hang_up_first: bool = False):
        self.messages: list[email.message.EmailMessage] = []
        self.hang_up_first, self.mails = hang_up_first, 0

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        self.mails += 1
        if self.hang_up_first and self.mails == 1:
            return "421 4.3.2 service shutting down, try later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address.startswith("bad@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    started = []

    def start(handler: Inbox, **options):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def smtp_config(tmp_path: Path, port: int, **extra) -> Path:
    lines = {"type": "smtp", "host": "127.0.0.1", "port": port, "security": "none", "sender": "me@example.org",
             "recipients": ["reader@example.org"], **extra}
    import yaml

    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"publish": {"mail": lines}}))
    return path


def test_review_copy_is_a_multipart_email_sent_once(draft, tmp_path, smtp_server):
    inbox = Inbox()
    config = smtp_config(tmp_path, smtp_server(inbox))
    first = publish(draft, PublishOptions("mail", config=config))
    again = publish(draft, PublishOptions("mail", config=config))
    assert first.action == "published" and again.action == "unchanged" and len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["Subject"] == "Review copy: Memory budgets for local models"
    assert message["Message-ID"] == first.remote and message["To"] == "reader@example.org"
    assert "Memory comes first" in message.get_body(("plain",)).get_content()
    assert "<h2>First things</h2>" in message.get_body(("html",)).get_content()


def test_refused_recipient_sends_nothing_and_says_who(draft, tmp_path, smtp_server):
    inbox = Inbox()
    config = smtp_config(tmp_path, smtp_server(inbox), recipients=["reader@example.org", "bad@example.org"])
    with pytest.raises(PipelineError, match="refused recipient bad@example.org: 550.*nothing was sent"):
        publish(draft, PublishOptions("mail", config=config))
    assert inbox.messages == [] and not (draft / "published.json").exists()


def test_dropped_connection_is_retried_without_a_duplicate(draft, tmp_path, smtp_server):
    inbox = Inbox(hang_up_first=True)
    config = smtp_config(tmp_path, smtp_server(inbox))
    done = publish(draft, PublishOptions("mail", config=config))
    assert done.action == "published" and inbox.mails == 2 and len(inbox.messages) == 1


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_login_with_credentials_from_the_environment(draft, tmp_path, smtp_server, monkeypatch):
    import ssl

    from aiosmtpd.smtp import AuthResult

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        login, password = (v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password))
        logins.append((login, password))
        return AuthResult(success=password == "s3cret", handled=False)  # handled=False: aiosmtpd answers 535

    inbox = Inbox()
    port = smtp_server(inbox, tls_context=context, require_starttls=True, authenticator=authenticator,
                       auth_require_tls=True)
    config = smtp_config(tmp_path, port, security="starttls", ca_file=str(cert), username_env="TEST_SMTP_USER",
                         password_env="TEST_SMTP_PASSWORD")
    monkeypatch.setenv("TEST_SMTP_USER", "me@example.org")
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    with pytest.raises(PipelineError, match="refused the login"):
        publish(draft, PublishOptions("mail", config=config))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    assert publish(draft, PublishOptions("mail", config=config)).action == "published"
    assert logins[-1] == ("me@example.org", "s3cret") and len(inbox.messages) == 1
    monkeypatch.delenv("TEST_SMTP_PASSWORD")
    edit(draft, "Memory comes first", "Memory still comes first")
    with pytest.raises(PipelineError, match="no SMTP password"):
        publish(draft, PublishOptions("mail", config=config))


def test_ad_hoc_smtp_target_needs_a_recipient(draft, smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    with pytest.raises(PipelineError, match="needs at least one --recipient"):
        publish(draft, PublishOptions(f"smtp://127.0.0.1:{port}"))
    done = publish(draft, PublishOptions(f"smtp://127.0.0.1:{port}", recipients=("x@example.org",)))
    assert done.action == "published" and inbox.messages[0]["To"] == "x@example.org"


# -- webhook -----------------------------------------------------------------------------------------
class Receiver(BaseHTTPRequestHandler):
    """Answers 503 to the first `failures` posts, then 201 with an id; keeps what it received."""

    failures, posts = 0, []  # type: ignore[var-annotated]

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).posts.append((self.headers["Idempotency-Key"], body))
        if len(type(self).posts) <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": body["id"] or "post-17"}).encode())

    def log_message(self, *args):
        pass


def test_webhook_retries_with_one_idempotency_key_and_updates_by_id(draft):
    Receiver.failures, Receiver.posts = 2, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"webhook:http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        done = publish(draft, PublishOptions(url))
        assert done.action == "published" and done.remote == "post-17"
        keys = {key for key, _ in Receiver.posts}
        assert len(Receiver.posts) == 3 and len(keys) == 1  # two 503s, then taken: the same key each time
        body = Receiver.posts[-1][1]
        assert body["draft"] is True and body["front_matter"]["title"] == "Memory budgets for local models"
        assert "Memory comes first" in body["markdown"] and "<h2>First things</h2>" in body["html"]
        assert publish(draft, PublishOptions(url)).action == "unchanged" and len(Receiver.posts) == 3
        edit(draft, "Memory comes first", "Memory, really, comes first")
        assert publish(draft, PublishOptions(url)).action == "updated"
        assert Receiver.posts[-1][1]["id"] == "post-17" and Receiver.posts[-1][0] not in keys
    finally:
        server.shutdown()


def test_webhook_down_for_good_records_nothing(draft):
    Receiver.failures, Receiver.posts = 99, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(PipelineError, match="failed 4 times"):
            publish(draft, PublishOptions(f"webhook:http://127.0.0.1:{server.server_address[1]}/hook"))
    finally:
        server.shutdown()
    assert not (draft / "published.json").exists()


def test_newsletter_goes_out_as_its_email_renditions(project, tmp_path, smtp_server, monkeypatch):
    from .conftest import copy_examples
    from .test_newsletter import INSIGHT, PICK

    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    brief = copy_examples(project, "weekly.yaml", "weekly-data.json", feeds=True)
    fake = ScriptBackend([PICK, INSIGHT])
    result = run_brief(brief, RunOptions(out_root=project / "output", offline=True), Reporter(), opener_for(fake))
    inbox = Inbox()
    config = smtp_config(tmp_path, smtp_server(inbox), recipients=["list@example.org"])
    done = publish(result.draft_dir, PublishOptions("mail", config=config, ignore_findings=result.status != "ok"))
    assert done.action == "published"
    message = inbox.messages[0]
    assert not message["Subject"].startswith("Review copy")
    received = {kind: message.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("plain", "html")}
    assert received["plain"] == (result.draft_dir / "email.txt").read_text()  # SMTP's CRLF aside, as written
    assert received["html"] == (result.draft_dir / "email.html").read_text()


def test_a_folder_that_is_not_a_site_is_refused(draft, tmp_path):
    with pytest.raises(PipelineError, match="does not look like a site"):
        publish(draft, PublishOptions(f"hugo:{tmp_path / 'nowhere'}"))
    assert not (draft / "published.json").exists()
