"""Secrets are masked by rule, not by name, wherever text leaves the process.

The rules:

- in a URL, the password of its user part and the value of **every** query parameter
  (``?sslpassword=...``, ``?api_key=...``, ``?sslmode=...``: a driver option may carry a
  secret under any name) become ``***``;
- the value of every environment variable whose name suggests a secret
  (:data:`SECRET_NAME`: ...PASSWORD, ...PASSWD, ...SECRET, ...TOKEN, ...CREDENTIAL,
  ...API_KEY, ...ACCESS_KEY, ...PRIVATE_KEY, ..._KEY, ..._PWD) is replaced by ``***`` wherever it appears in a message, raw or URL-encoded;
- so are the password and query values of the warehouse URL in
  ``BRANCHBOOK_WAREHOUSE_URL``.

:func:`scrub` applies them to any text: the command's messages, every log line (through
:class:`LogFilter`), ``prepare.json`` and the manifest. A secret shorter than four
characters cannot be told from ordinary text; a message that would hold one is withheld.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote, unquote_plus

URL_VARIABLE = "BRANCHBOOK_WAREHOUSE_URL"
SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|_PWD$|_KEY$",
    re.IGNORECASE,
)
#: Names that look like secrets and are not: the shell's working folders.
NOT_SECRET = frozenset({"PWD", "OLDPWD"})
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
MASK = "***"
MIN_SECRET = 4


def mask_url(url: str) -> str:
    """``url`` with the password and every query value replaced by ``***``.

    >>> mask_url("postgresql://ana:s3cret@db.example/bank?sslmode=require&api_key=k1")
    'postgresql://ana:***@db.example/bank?sslmode=***&api_key=***'
    """
    match = _SCHEME.match(url)
    if not match:
        return url
    scheme, rest = match.group(0), url[match.end() :]
    path, sep, query = rest.partition("?")
    at = path.rfind("@")
    if at >= 0 and ":" in path[:at]:
        path = f"{path[:at].split(':', 1)[0]}:{MASK}{path[at:]}"
    if sep:
        query = re.sub(r"(^|[&;])([^=&;]*)=[^&;]*", rf"\1\2={MASK}", query)
    # a driver option written in the path part (key=value;key=value)
    path = re.sub(r"(?i)\b(password|passwd|pwd)=[^&;/]*", rf"\1={MASK}", path)
    return scheme + path + sep + query


def _url_secrets(url: str) -> list[str]:
    match = _SCHEME.match(url)
    rest = url[match.end() :] if match else url
    path, _, query = rest.partition("?")
    out = []
    at = path.rfind("@")
    if at >= 0 and ":" in path[:at]:
        out.append(path[:at].split(":", 1)[1])
    out += re.findall(r"(?:^|[&;])[^=&;]*=([^&;]*)", query)
    out += re.findall(r"(?i)\b(?:password|passwd|pwd)=([^&;/]*)", path)
    return out


def is_secret_name(name: str) -> bool:
    """Whether an environment variable's name suggests it holds a secret."""
    return name not in NOT_SECRET and bool(SECRET_NAME.search(name))


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every secret known to this process, in each form it may be written in."""
    env = os.environ if environ is None else environ
    raw = [v for k, v in env.items() if is_secret_name(k) and v]
    url = env.get(URL_VARIABLE, "")
    if url:
        raw += _url_secrets(url)
    forms = set()
    for value in raw:
        for form in (value, unquote(value), unquote_plus(value), quote(value, safe="")):
            if form:
                forms.add(form)
    return sorted(forms, key=len, reverse=True)


def scrub(text: str, *, extra: list[str] | tuple[str, ...] = (), environ=None) -> str:
    """``text`` with every URL masked and every known secret replaced by ``***``."""
    if not text:
        return text
    text = _URL.sub(lambda m: mask_url(m.group(0)), text)
    secrets = [*secret_values(environ), *(s for v in extra for s in (v, unquote(v)) if s)]
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret in text:
            if len(secret) < MIN_SECRET:
                return "(details withheld: they could reveal a secret)"
            text = text.replace(secret, MASK)
    return text


class LogFilter(logging.Filter):
    """Scrubs every log record's message (and its exception text) before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own handling
            return True
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Put :class:`LogFilter` on every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, LogFilter) for f in handler.filters):
            handler.addFilter(LogFilter())
