"""Messages: locale, headline, summary, attachments or links, corrections."""

from branchbook.deliver import messages

from .helpers import setup_period


def test_a_message_in_the_persons_locale_with_headline_summary_and_pdfs(tmp_path):
    acl, pub = setup_period(tmp_path)
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
    acl, pub = setup_period(tmp_path, limit=0.003, pdf_bytes=2000)
    person = acl.people["li.wei"]
    items = [pub.items["0101/risk"], pub.items["0101/staff_kpi"]]
    msg = messages.build(person, items, pub, sender=acl.smtp.sender, delivery=acl.delivery)
    assert list(msg.iter_attachments()) == []
    body = msg.get_body(("plain",)).get_content()
    assert "https://reports.bank.example/2026-10/0101/risk.pdf" in body


def test_a_correction_names_the_changed_numbers(tmp_path):
    acl, pub = setup_period(tmp_path)
    person = acl.people["anna.north"]
    item = pub.items["0201/risk"]
    previous = {item.key: {"checksum": "old", "headline": {"npl_ratio": "0.9%"}}}
    msg = messages.build(
        person, [item], pub, sender=acl.smtp.sender, delivery=acl.delivery, previous=previous
    )
    assert msg["Subject"].startswith("Corrected: ")
    body = msg.get_body(("plain",)).get_content()
    assert "0201 · NPL ratio MARK-0201: 0.9% → 1.2%" in body


def test_a_report_published_in_the_persons_locale_is_sent_in_it(tmp_path):
    acl, pub = setup_period(tmp_path, english=True)
    anna, li = acl.people["anna.north"], acl.people["li.wei"]
    item = pub.items["0201/risk"]
    assert sorted(item.locales) == ["en", "zh-CN"] and item.locale == "zh-CN"
    msg = messages.build(anna, [item], pub, sender=acl.smtp.sender, delivery=acl.delivery)
    assert [p.get_filename() for p in msg.iter_attachments()] == ["2026-10-0201-risk.en.pdf"]
    body = msg.get_body(("plain",)).get_content()
    assert "English sentence of MARK-0201 risk." in body
    # the branch's own locale for a zh-CN reader, under the name it always had
    items = [pub.items["0101/risk"]]
    msg = messages.build(li, items, pub, sender=acl.smtp.sender, delivery=acl.delivery)
    assert [p.get_filename() for p in msg.iter_attachments()] == ["2026-10-0101-risk.pdf"]
    assert "English" not in msg.get_body(("plain",)).get_content()


def test_links_point_at_the_file_in_the_persons_locale(tmp_path):
    acl, pub = setup_period(tmp_path, limit=0.001, english=True)
    anna = acl.people["anna.north"]
    msg = messages.build(
        anna, [pub.items["0201/risk"]], pub, sender=acl.smtp.sender, delivery=acl.delivery
    )
    body = msg.get_body(("plain",)).get_content()
    assert "https://reports.bank.example/2026-10/0201/risk.en.pdf" in body
    assert "0201/risk.pdf" not in body


def test_the_branch_pack_is_linked_not_attached(tmp_path):
    acl, pub = setup_period(tmp_path, packs=True)
    person = acl.people["li.wei"]
    items = [pub.items["0101/risk"], pub.items["0101/staff_kpi"]]
    msg = messages.build(person, items, pub, sender=acl.smtp.sender, delivery=acl.delivery)
    body = msg.get_body(("plain",)).get_content()
    assert "0101 网点报告合订本" in body
    assert "https://reports.bank.example/2026-10/0101/pack.pdf" in body
    assert "pack" not in " ".join(p.get_filename() for p in msg.iter_attachments())
    # a message without every report of the pack (a correction of one) does not link it
    msg = messages.build(person, items[:1], pub, sender=acl.smtp.sender, delivery=acl.delivery)
    assert "pack.pdf" not in msg.get_body(("plain",)).get_content()
