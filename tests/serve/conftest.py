"""A published folder (the delivery tests' fake one) and an access list with logins."""

from __future__ import annotations

import pytest
from deliver.helpers import ORG, publish

from branchbook.serve.passwords import hash_password

PASSWORDS = {
    "li.wei": "branch-pass-0101",
    "anna.north": "region-pass-north",
    "audit": "audit-pass-all",
}

ACCESS = """\
portal:
  identity_header: X-Remote-User
  trusted_proxies: [10.0.0.5]
  login: true
people:
  - id: li.wei
    name: Li Wei
    email: li.wei@bank.example
    units: [branch:0101]
    password_hash: "{li.wei}"
  - id: anna.north
    name: Anna North
    email: anna@bank.example
    units: [region:North]
    reports: [risk]
    password_hash: "{anna.north}"
  - id: audit
    name: Internal Audit
    email: audit@bank.example
    units: [bank]
    password_hash: "{audit}"
"""


@pytest.fixture(scope="session")
def hashes():
    return {k: hash_password(v, n=2**10) for k, v in PASSWORDS.items()}


@pytest.fixture
def site(tmp_path, hashes):
    """``(reports, params, access_log)`` for a portal."""
    publish(tmp_path / "reports")
    (tmp_path / "reports" / "2026-10" / "index.html").write_text("all branches MARK-0102")
    params = tmp_path / "params"
    params.mkdir()
    text = ACCESS
    for k, v in hashes.items():
        text = text.replace("{" + k + "}", v)
    (params / "access.yaml").write_text(text)
    return tmp_path / "reports", params, tmp_path / "access.log"


__all__ = ["ORG", "PASSWORDS"]
