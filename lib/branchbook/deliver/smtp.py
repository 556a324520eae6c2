"""Sending over SMTP: STARTTLS always, login from the environment, retries with backoff.

The server's host, port and sender address are parameters (``smtp:`` in the access
list); the login is ``BRANCHBOOK_SMTP_USER`` and ``BRANCHBOOK_SMTP_PASSWORD`` from the
environment only, never from ``params/`` (the password's variable name is one that
:mod:`branchbook.redact` masks in every message and log line). A server that does not
offer STARTTLS is refused: reports never cross the network in clear text.

A refused connection, a timeout, a connection dropped mid-message or a temporary (4xx)
answer is retried ``attempts`` times with a doubling pause; a permanent (5xx) answer is
not. What still fails is raised as :class:`SendError` for that one message.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from email.message import EmailMessage

from ..errors import BranchbookError
from ..redact import scrub
from .access import Smtp

USER_VARIABLE = "BRANCHBOOK_SMTP_USER"
PASSWORD_VARIABLE = "BRANCHBOOK_SMTP_PASSWORD"
log = logging.getLogger(__name__)


class SendError(BranchbookError):
    """A message could not be handed to the mail server (after its retries)."""


class Mailer:
    """One connection to the mail server, opened on first use and again after a failure."""

    def __init__(self, settings: Smtp, *, environ=None, sleep=time.sleep):
        self.settings = settings
        self.env = os.environ if environ is None else environ
        self.sleep = sleep
        self.conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.ca_file)
        conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            conn.ehlo()
            if not conn.has_extn("starttls"):
                raise SendError(f"{s.host}:{s.port} does not offer STARTTLS; refusing to send")
            conn.starttls(context=context)
            conn.ehlo()
            user = self.env.get(USER_VARIABLE)
            if user:
                conn.login(user, self.env.get(PASSWORD_VARIABLE, ""))
        except BaseException:
            _close(conn)
            raise
        return conn

    def send(self, msg: EmailMessage) -> None:
        """Hand ``msg`` to the server, retrying what may pass on a second try."""
        s = self.settings
        pause = s.backoff_s
        for attempt in range(1, s.attempts + 1):
            try:
                if self.conn is None:
                    self.conn = self._connect()
                self.conn.send_message(msg)
                return
            except SendError:
                self.close()
                raise
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                why = scrub(_describe(exc), extra=[self.env.get(PASSWORD_VARIABLE, "")])
                if _permanent(exc) or attempt == s.attempts:
                    raise SendError(f"{why} (after {attempt} attempt(s))") from None
                log.warning("mail to %s: %s; retrying in %.1f s", msg["To"], why, pause)
                self.sleep(pause)
                pause *= 2

    def close(self) -> None:
        if self.conn is not None:
            _close(self.conn)
            self.conn = None


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in exc.recipients.values()]
        return max(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _permanent(exc: BaseException) -> bool:
    code = _code(exc)
    return code is not None and 500 <= code < 600


def _describe(exc: BaseException) -> str:
    code = _code(exc)
    # smtplib reports a read that timed out as a closed connection
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "the mail server did not answer in time"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the mail server dropped the connection"
    if isinstance(exc, ConnectionRefusedError):
        return "the mail server refused the connection"
    if code is not None:
        err = getattr(exc, "smtp_error", b"")
        text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
        return f"the mail server answered {code} {text}".strip()
    return f"{type(exc).__name__}: {exc}"
