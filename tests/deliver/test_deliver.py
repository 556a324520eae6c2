"""Delivery end to end through a real SMTP server on localhost (STARTTLS and login).

Every branch's files and headline carry a marker (``MARK-0101``): each message
received is checked for the markers of branches its recipient may not see.
"""

import re
import smtplib

import pytest

from branchbook.deliver import deliver
from branchbook.deliver.access import Smtp
from branchbook.deliver.smtp import PASSWORD_VARIABLE, USER_VARIABLE, Mailer, SendError
from branchbook.errors import ParamsError

from .conftest import PASSWORD, USER, parse
from .helpers import ORG, PERIOD, free_port, publish, write_access

pytestmark = pytest.mark.slow

SEES = {"li.wei@bank.example": {"0101"}, "anna@bank.example": {"0201"}}


@pytest.fixture
def login(monkeypatch):
    monkeypatch.setenv(USER_VARIABLE, USER)
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)


def _run(tmp_path, server, **kw):
    write_access(
        tmp_path / "params",
        port=server.port if server else free_port(),
        ca=kw.pop("ca"),
        attempts=kw.pop("attempts", 2),
    )
    return deliver(
        PERIOD, reports_dir=tmp_path / "reports", params_dir=tmp_path / "params", org=ORG, **kw
    )


def _everything(msg) -> str:
    parts = [str(msg["Subject"])]
    for part in msg.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts)


def test_each_person_gets_their_reports_once_and_nothing_else(
    tmp_path, smtp_server, tls_files, login
):
    publish(tmp_path / "reports")
    result = _run(tmp_path, smtp_server, ca=tls_files[0])
    assert result.exit_code == 0 and not result.failed
    assert smtp_server.logins == [USER.encode()]
    assert len(smtp_server.messages) == 3
    for rcpt, msg in smtp_server.messages:
        [address] = rcpt
        seen = set(re.findall(r"MARK-(\d{4})", _everything(msg)))
        allowed = SEES.get(address, set(ORG.regions))
        assert seen == allowed, (address, seen)
    [zh] = smtp_server.by_recipient("li.wei@bank.example")
    assert zh["Subject"] == "分支机构报告 · 2026年10月 · 0101"
    assert zh["Content-Language"] == "zh-CN"
    assert [a.get_filename() for a in zh.iter_attachments()] == [
        "2026-10-0101-risk.pdf",
        "2026-10-0101-staff_kpi.pdf",
    ]
    [en] = smtp_server.by_recipient("anna@bank.example")
    assert en["Subject"] == "Branch reports · Oct 2026 · North"
    assert [a.get_filename() for a in en.iter_attachments()] == ["2026-10-0201-risk.pdf"]
    [audit] = smtp_server.by_recipient("audit@bank.example")
    assert len(list(audit.iter_attachments())) == 12  # 3 branches x 2 reports x pdf, html

    # a rerun sends nothing already delivered, nor does running the period again
    publish(tmp_path / "reports", run_id="r2")
    again = _run(tmp_path, smtp_server, ca=tls_files[0])
    assert again.sent == [] and len(smtp_server.messages) == 3


def test_a_changed_report_is_sent_again_as_a_correction(tmp_path, smtp_server, tls_files, login):
    publish(tmp_path / "reports")
    _run(tmp_path, smtp_server, ca=tls_files[0])
    smtp_server.messages.clear()
    publish(tmp_path / "reports", npl={"0101": 0.02})  # data corrected, 0101 rerun
    result = _run(tmp_path, smtp_server, ca=tls_files[0])
    assert sorted(r.split(":")[0] for r in result.sent) == ["audit", "li.wei"]
    [zh] = smtp_server.by_recipient("li.wei@bank.example")
    assert zh["Subject"].startswith("【更正版】")
    assert zh["X-Branchbook-Correction"] == "yes"
    body = zh.get_body(("plain",)).get_content()
    assert "1.2% → 2.0%" in body
    [audit] = smtp_server.by_recipient("audit@bank.example")
    assert audit["Subject"].startswith("Corrected: ")
    assert set(re.findall(r"MARK-(\d{4})", _everything(audit))) == {"0101"}


def test_alerts_once_per_kpi_and_period(tmp_path, smtp_server, tls_files, login):
    publish(tmp_path / "reports", npl={"0201": 0.05})
    _run(tmp_path, smtp_server, ca=tls_files[0])
    alerts = [m for _, m in smtp_server.messages if m["Subject"].startswith("Alert")]
    assert [m["To"].addresses[0].addr_spec for m in alerts] == ["anna@bank.example"]
    assert "NPL ratio MARK-0201" in alerts[0]["Subject"]
    smtp_server.messages.clear()
    _run(tmp_path, smtp_server, ca=tls_files[0])
    assert smtp_server.messages == []


def test_a_failing_server_is_retried_then_reported_and_the_rest_delivered(
    tmp_path, smtp_server, tls_files, login
):
    publish(tmp_path / "reports")
    # li.wei: dropped mid-message, then accepted on the retry; anna: refused twice
    smtp_server.fail = ["drop", None, "451", "451"]
    result = _run(tmp_path, smtp_server, ca=tls_files[0], attempts=2)
    assert list(result.failed) == ["anna.north"]
    assert "451" in result.failed["anna.north"] and "2 attempt" in result.failed["anna.north"]
    assert result.exit_code == 1
    got = sorted(r[0] for r, _ in smtp_server.messages)
    assert got == ["audit@bank.example", "li.wei@bank.example"]
    # the next run delivers only what is missing
    smtp_server.messages.clear()
    assert _run(tmp_path, smtp_server, ca=tls_files[0]).exit_code == 0
    assert [r[0] for r, _ in smtp_server.messages] == ["anna@bank.example"]


def test_a_refused_connection_fails_every_recipient_without_the_password(
    tmp_path, tls_files, login
):
    publish(tmp_path / "reports")
    result = _run(tmp_path, None, ca=tls_files[0], attempts=2)
    assert sorted(result.failed) == ["anna.north", "audit", "li.wei"]
    assert all("refused the connection" in why for why in result.failed.values())
    assert PASSWORD not in repr(result)


def test_a_server_without_starttls_is_refused(tmp_path):
    from aiosmtpd.controller import Controller

    from .conftest import Inbox

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = Mailer(Smtp(host="127.0.0.1", port=port, attempts=1), environ={})
        with pytest.raises(SendError, match="does not offer STARTTLS"):
            mailer.send(smtplib.email.message.EmailMessage())
    finally:
        controller.stop()


def test_dry_run_writes_messages_and_records_nothing(tmp_path):
    publish(tmp_path / "reports")
    outbox = tmp_path / "outbox"
    result = _run(tmp_path, None, ca="null", dry_run=True, outbox=outbox, only=["anna.north"])
    assert [p.name for p in result.written] == ["anna.north.reports.eml"]
    msg = parse(result.written[0])
    assert msg["Subject"] == "Branch reports · Oct 2026 · North"
    assert not (tmp_path / "reports" / PERIOD / "delivery.json").exists()


def test_an_unknown_recipient_is_refused_before_anything_is_sent(tmp_path):
    publish(tmp_path / "reports")
    with pytest.raises(ParamsError, match="no person with id 'bob'"):
        _run(tmp_path, None, ca="null", only=["bob"])


def test_a_server_that_never_answers_times_out_and_is_reported(tmp_path, tls_files, login):
    import socket

    publish(tmp_path / "reports")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never says a word
    try:
        params = tmp_path / "params"
        write_access(params, port=silent.getsockname()[1], ca=tls_files[0], attempts=2)
        path = params / "access.yaml"
        path.write_text(path.read_text().replace("timeout_s: 5", "timeout_s: 0.3"))
        result = deliver(
            PERIOD, reports_dir=tmp_path / "reports", params_dir=params, org=ORG, only=["audit"]
        )
    finally:
        silent.close()
    assert result.exit_code == 1
    assert "did not answer in time (after 2 attempt(s))" in result.failed["audit"]


def test_region_and_bank_reports_reach_only_who_covers_them(
    tmp_path, smtp_server, tls_files, login
):
    """The region head receives the region's report, head office the bank's and every
    region's; the branch manager neither (they hold other branches' figures)."""
    publish(tmp_path / "reports", scopes=True)
    result = _run(tmp_path, smtp_server, ca=tls_files[0])
    assert result.exit_code == 0 and len(smtp_server.messages) == 3
    seen = {
        rcpt[0]: set(re.findall(r"MARK-(bank|region-\w+|\d{4})", _everything(msg)))
        for rcpt, msg in smtp_server.messages
    }
    assert seen["li.wei@bank.example"] == {"0101"}
    assert seen["anna@bank.example"] == {"0201", "region-North"}
    assert seen["audit@bank.example"] == {
        "0101",
        "0102",
        "0201",
        "region-East",
        "region-North",
        "bank",
    }
    [en] = smtp_server.by_recipient("anna@bank.example")
    assert [a.get_filename() for a in en.iter_attachments()] == [
        "2026-10-0201-risk.pdf",
        "2026-10-region-North-risk.pdf",
    ]
