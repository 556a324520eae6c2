"""Secrets masked by rule: URL passwords and query values, variables named like secrets."""

import logging

import pytest

from branchbook import redact


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql://ana:s3cret@db/bank", "postgresql://ana:***@db/bank"),
        (
            "postgresql://ana@db/bank?sslmode=require&sslpassword=ssl-9876&api_key=k-1234",
            "postgresql://ana@db/bank?sslmode=***&sslpassword=***&api_key=***",
        ),
        ("mssql+pyodbc://u:p%40ss@dsn;PWD=x9y8z7", "mssql+pyodbc://u:***@dsn;PWD=***"),
        ("/data/bank.duckdb", "/data/bank.duckdb"),
    ],
)
def test_mask_url(url, masked):
    assert redact.mask_url(url) == masked


def test_environment_secrets_are_scrubbed_in_any_form():
    env = {
        "BANK_DB_TOKEN": "tok/4242+secret",
        "SMTP_PASSWORD": "hunter2-hunter2",
        "MY_API_KEY": "ak-777777",
        "PWD": "/home/analyst",  # the working folder is not a secret
        "HOME": "/home/analyst",
        "BRANCHBOOK_WAREHOUSE_URL": "postgresql://u:dbpass-5150@h/db?sslpassword=sslpw-6060",
    }
    text = (
        "cannot open /srv/tok/4242+secret/w.duckdb (tok%2F4242%2Bsecret); login hunter2-hunter2; "
        "key ak-777777; dbpass-5150 and sslpw-6060 in /home/analyst"
    )
    clean = redact.scrub(text, environ=env)
    for secret in (
        "tok/4242+secret",
        "tok%2F4242%2Bsecret",
        "hunter2",
        "ak-777777",
        "dbpass",
        "sslpw",
    ):
        assert secret not in clean
    assert "/home/analyst" in clean and clean.count("***") == 6


def test_a_secret_too_short_to_find_withholds_the_message():
    assert "withheld" in redact.scrub("user ab logged in", environ={"X_PASSWORD": "ab"})


def test_log_lines_are_scrubbed(caplog, monkeypatch):
    monkeypatch.setenv("REPORT_SMTP_PASSWORD", "p4ssw0rd-xyz")
    logger = logging.getLogger("branchbook.test_redact")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        redact.install_log_filter(logger)
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            1,
            "login %s to %s",
            ("p4ssw0rd-xyz", "smtp://u:pw9@h?x=1"),
            None,
        )
        assert handler.filters[0].filter(record)
        assert record.getMessage() == "login *** to smtp://u:***@h?x=***"
    finally:
        logger.removeHandler(handler)


@pytest.mark.slow
def test_the_command_never_prints_a_secret(tmp_path):
    """A secret in a variable named like one, reaching an error through a path, and
    secrets in every query parameter of a URL that cannot be read."""
    import os
    import subprocess
    import sys

    token = "tok-31337-topsecret"
    env = {**os.environ, "BANK_EXPORT_TOKEN": token}
    env.pop("BRANCHBOOK_WAREHOUSE_URL", None)
    runs = [
        ["validate", "--warehouse", str(tmp_path / token / "w.duckdb")],
        [
            "validate",
            "--warehouse",
            "postgresql://u@127.0.0.1:1/db?sslpassword=ssl-24680&api_key=ak-13579",
        ],
    ]
    for args in runs:
        proc = subprocess.run(
            [sys.executable, "-m", "branchbook.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 2, out
        assert "***" in out
        assert not any(s in out for s in (token, "ssl-24680", "ak-13579")), out
