"""The published folder: manifest items, summary sentences, checksums."""

from branchbook.deliver import published

from .helpers import setup_period


def test_summary_sentences_come_from_the_html():
    html = "<div class='bb-summary'><ul><li>One <b>bold</b>.</li><li>Two<br>lines</li></ul></div>"
    assert published.summary_sentences(html) == ["One bold.", "Twolines"]
    assert published.summary_sentences("<p>no summary</p>") == []


def test_the_checksum_follows_the_data_not_the_run(tmp_path):
    _, pub = setup_period(tmp_path)
    first = pub.checksum(pub.items["0101/risk"])
    _, again = setup_period(tmp_path, run_id="r2")  # the same data run again
    assert again.checksum(again.items["0101/risk"]) == first
    assert (tmp_path / "reports/2026-10/0101/risk.pdf").read_bytes().count(b"r2") == 1
    _, changed = setup_period(tmp_path, npl={"0101": 0.02})
    assert changed.checksum(changed.items["0101/risk"]) != first
    assert changed.checksum(changed.items["0102/risk"]) == pub.checksum(pub.items["0102/risk"])


def test_a_report_in_two_locales_is_one_item_whose_checksum_is_its_own_locales(tmp_path):
    from .helpers import PERIOD, publish

    publish(tmp_path / "one")
    publish(tmp_path / "two", english=True)
    one = published.read(tmp_path / "one", PERIOD)
    two = published.read(tmp_path / "two", PERIOD)
    assert sorted(two.items) == sorted(one.items)  # 0101/risk, not 0101/risk.en
    item = two.items["0101/risk"]
    assert two.file(item, "pdf", "en").name == "risk.en.pdf"
    assert two.file(item, "pdf").name == two.file(item, "pdf", "zh-CN").name == "risk.pdf"
    assert two.summary(item, "en")[0] == "English sentence of MARK-0101 risk."
    # adding a locale is no correction of what was delivered
    assert two.checksum(item) == one.checksum(one.items["0101/risk"])


def test_a_branch_pack_is_read_with_the_reports_it_holds(tmp_path):
    _, pub = setup_period(tmp_path, packs=True)
    pack = pub.packs["0101"]
    assert pack.reports == ("risk", "staff_kpi") and pack.pdf["path"] == "0101/pack.pdf"
    _, pub = setup_period(tmp_path / "none")
    assert pub.packs == {}
