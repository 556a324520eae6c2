"""Messages, the published folder, the log and alerts, without a mail server."""

import json

from branchbook.deliver import access, alerts, messages, published
from branchbook.deliver.log import DeliveryLog, write_atomic

from .conftest import write_access
from .helpers import ORG, PERIOD, publish


def _setup(tmp_path, **kw):
    write_access(tmp_path / "params", limit=kw.pop("limit", 5.0))
    publish(tmp_path / "reports", **kw)
    acl = access.load(tmp_path / "params", ORG)
    return acl, published.read(tmp_path / "reports", PERIOD)


def test_summary_sentences_come_from_the_html():
    html = "<div class='bb-summary'><ul><li>One <b>bold</b>.</li><li>Two<br>lines</li></ul></div>"
    assert published.summary_sentences(html) == ["One bold.", "Twolines"]
    assert published.summary_sentences("<p>no summary</p>") == []


def test_a_message_in_the_persons_locale_with_headline_summary_and_pdfs(tmp_path):
    acl, pub = _setup(tmp_path)
    person = acl.people["li.wei"]
    items = [pub.items["0101/risk"], pub.items["0101/staff_kpi"]]
    msg = messages.build(person, items, pub, sender=acl.smtp.sender, delivery=acl.delivery)
    assert msg["Subject"] == "分支机构报告 · 2026年10月 · 0101"
    body = msg.get_body(("plain",)).get_content()
    assert "李伟，您好" in body and "NPL ratio MARK-0101：1.2%（达标）" in body
    assert "Sentence of MARK-0101 risk." in body
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert names == ["2026-10-0101-risk.pdf", "2026-10-0101-staff_kpi.pdf"]
    assert "X-Branchbook-Correction" not in msg


def test_above_the_size_limit_links_replace_attachments(tmp_path):
    acl, pub = _setup(tmp_path, limit=0.003, pdf_bytes=2000)
    person = acl.people["li.wei"]
    items = [pub.items["0101/risk"], pub.items["0101/staff_kpi"]]
    msg = messages.build(person, items, pub, sender=acl.smtp.sender, delivery=acl.delivery)
    assert list(msg.iter_attachments()) == []
    body = msg.get_body(("plain",)).get_content()
    assert "https://reports.bank.example/2026-10/0101/risk.pdf" in body


def test_a_correction_names_the_changed_numbers(tmp_path):
    acl, pub = _setup(tmp_path)
    person = acl.people["anna.north"]
    item = pub.items["0201/risk"]
    previous = {item.key: {"checksum": "old", "headline": {"npl_ratio": "0.9%"}}}
    msg = messages.build(
        person, [item], pub, sender=acl.smtp.sender, delivery=acl.delivery, previous=previous
    )
    assert msg["Subject"].startswith("Corrected: ")
    body = msg.get_body(("plain",)).get_content()
    assert "0201 · NPL ratio MARK-0201: 0.9% → 1.2%" in body


def test_the_checksum_follows_the_data_not_the_run(tmp_path):
    _, pub = _setup(tmp_path)
    first = pub.checksum(pub.items["0101/risk"])
    _, again = _setup(tmp_path, run_id="r2")  # the same data run again
    assert again.checksum(again.items["0101/risk"]) == first
    assert (tmp_path / "reports/2026-10/0101/risk.pdf").read_bytes().count(b"r2") == 1
    _, changed = _setup(tmp_path, npl={"0101": 0.02})
    assert changed.checksum(changed.items["0101/risk"]) != first
    assert changed.checksum(changed.items["0102/risk"]) == pub.checksum(pub.items["0102/risk"])


def test_alerts_for_red_and_thresholds_reach_only_those_responsible(tmp_path):
    acl, pub = _setup(tmp_path, npl={"0201": 0.028, "0102": 0.05})
    found = alerts.find(pub, acl)
    keys = sorted(a.key for a in found)
    # 0201 crosses the risk threshold (above 2.5%) but is not red; 0102 is red in both
    assert keys == ["0102/risk/npl_ratio", "0102/staff_kpi/npl_ratio", "0201/risk/npl_ratio"]
    assert [a.key for a in alerts.for_person(acl.people["anna.north"], found, acl)] == [
        "0201/risk/npl_ratio"
    ]
    assert alerts.for_person(acl.people["li.wei"], found, acl) == []
    assert alerts.for_person(acl.people["audit"], found, acl) == []  # did not ask
    msg = alerts.build(
        acl.people["anna.north"],
        alerts.for_person(acl.people["anna.north"], found, acl),
        pub,
        access=acl,
    )
    body = msg.get_body(("plain",)).get_content()
    assert "is 2.8%: above the alert threshold of 2.5%" in body
    assert "https://reports.bank.example/2026-10/0201/risk.html" in body


def test_the_log_is_written_atomically_and_read_back(tmp_path):
    log = DeliveryLog(tmp_path)
    log.record("a", {"0101/risk": {"checksum": "c"}}, message_id="<m>", correction=False)
    log.record_alert("a|0101/risk/npl_ratio", message_id="<n>")
    again = DeliveryLog(tmp_path)
    assert again.delivered("a") == {"0101/risk": {"checksum": "c"}}
    assert again.alerted("a|0101/risk/npl_ratio")
    assert [p.name for p in tmp_path.iterdir()] == ["delivery.json"]
    write_atomic(tmp_path / "x.json", json.dumps({"k": 1}))
    assert json.loads((tmp_path / "x.json").read_text()) == {"k": 1}
