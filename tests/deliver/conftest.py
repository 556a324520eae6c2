"""A fake published period, an access list, and a real SMTP server on localhost.

The published folder is hand-built (the delivery reads only the manifest and the
files): three branches in two regions, two reports each, and in every file and
headline a marker naming its branch (``MARK-0101``), so a test can check that no
message carries another branch's data.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import subprocess
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from branchbook.deliver.access import Org

PERIOD = "2026-10"
ORG = Org({"0101": "East", "0102": "East", "0201": "North"})
REPORTS = ("risk", "staff_kpi")
USER, PASSWORD = "reports-robot", "s3cret-smtp-pass"


def publish(root: Path, *, npl: dict[str, float] | None = None, pdf_bytes: int = 2000) -> Path:
    """Write ``root/2026-10`` with a manifest, HTML and PDF per branch and report."""
    folder = root / PERIOD
    entries = {}
    for branch in ORG.regions:
        for report in REPORTS:
            (folder / branch).mkdir(parents=True, exist_ok=True)
            value = (npl or {}).get(branch, 0.012)
            html = (
                f"<html><body><h1>MARK-{branch} {report}</h1><section class='bb-summary'>"
                f"<h2>Summary</h2><ul><li>Sentence of MARK-{branch} {report}.</li>"
                f"<li>NPL is {value:.1%}<br>here.</li></ul></section></body></html>"
            )
            pdf = f"%PDF-1.4 MARK-{branch} {report} ".encode().ljust(pdf_bytes, b"x")
            outputs = {}
            for fmt, data in (("html", html.encode()), ("pdf", pdf)):
                rel = f"{branch}/{report}.{fmt}"
                (folder / rel).write_bytes(data)
                outputs[fmt] = {
                    "path": rel,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data),
                }
            status = "red" if value > 0.03 else "green"
            entries[f"{branch}/{report}"] = {
                "branch_id": branch,
                "report": report,
                "status": "ok",
                "outputs": outputs,
                "headline": {
                    "npl_ratio": {
                        "label": f"NPL ratio MARK-{branch}",
                        "status": status,
                        "text": f"{value:.1%}",
                        "value": value,
                    }
                },
            }
    manifest = {"period": PERIOD, "run_id": "r1", "reports": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


ACCESS = """\
smtp:
  host: 127.0.0.1
  port: {port}
  sender: reports@bank.example
  ca_file: {ca}
  timeout_s: 5
  attempts: {attempts}
  backoff_s: 0
delivery:
  portal_url: https://reports.bank.example/
  attach_limit_mb: {limit}
  thresholds:
    risk.npl_ratio:
      above: 0.025
people:
  - id: li.wei
    name: 李伟
    email: li.wei@bank.example
    locale: zh-CN
    units: [branch:0101]
    alerts: true
  - id: anna.north
    name: Anna North
    email: anna@bank.example
    locale: en
    units: [region:North]
    reports: [risk]
    alerts: true
  - id: audit
    name: Internal Audit
    email: audit@bank.example
    units: [bank]
    formats: [pdf, html]
"""


def write_access(params: Path, *, port=25, ca="null", attempts=2, limit=5.0) -> Path:
    params.mkdir(parents=True, exist_ok=True)
    path = params / "access.yaml"
    path.write_text(ACCESS.format(port=port, ca=ca, attempts=attempts, limit=limit))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the test's own mail server)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Inbox:
    """What the server received: one parsed message per envelope, with its recipients."""

    def __init__(self):
        self.messages = []
        self.fail = []  # per DATA command: None (accept), "451", "554" or "drop"
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        action = self.fail.pop(0) if self.fail else None
        if action == "drop":
            server.transport.close()
            return "451 dropped"
        if action:
            return f"{action} not now"
        msg = BytesParser(policy=policy.default).parsebytes(envelope.content)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def by_recipient(self, address):
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
def smtp_server(tls_files):
    """A real SMTP server on localhost: STARTTLS required, login required."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = tls_files
    inbox = Inbox()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        inbox.logins.append(auth_data.login)
        return AuthResult(success=ok)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


def parse(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())
