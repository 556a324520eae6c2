"""An access list, and a real SMTP server on localhost (STARTTLS, login)."""

from __future__ import annotations

import ssl
import subprocess
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from .helpers import free_port

USER, PASSWORD = "reports-robot", "s3cret-smtp-pass"


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
