"""Report blocks: escaped, masked, suppressed, formatted per locale, from the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from branchbook import page as page_mod
from branchbook.params import Rag

BRANCH = {"branch_id": "0101", "name": "Pudong <b>Lujiazui</b>", "name_zh": "浦东陆家嘴支行", "region": "East"}


def make(locale="en", **kw) -> page_mod.Page:
    return page_mod.Page(report="segmentation", locale=locale, bank_name="Demo Bank", branch=BRANCH,
                         period="2026-10", data_as_of="2026-10-31", live=False, **kw)


def html_of(p: page_mod.Page) -> BeautifulSoup:
    return BeautifulSoup(p.html(), "html.parser")


def test_title_block_in_each_locale():
    p = make("zh-CN")
    p.title()
    text = html_of(p).get_text()
    assert "客户分类与分级" in text and "浦东陆家嘴支行" in text and "华东" in text
    assert "2026年10月" in text and "2026年10月31日" in text
    en = make("en")
    en.title()
    # the branch name from the data is escaped, not markup
    assert "Pudong &lt;b&gt;Lujiazui&lt;/b&gt;" in en.html()
    assert not html_of(en).find("b")


def test_table_formats_masks_and_totals():
    df = pd.DataFrame({
        "name": ["张三丰", "<script>alert(1)</script>"],
        "asset_tier": ["mass", "private"],
        "customers": [120, 40],
        "aum": [1_234_567.0, -56_000.0],
        "aum_share": [0.75, 0.25],
    })
    p = make("zh-CN")
    p.table(df, {"name": "text", "asset_tier": "label:segmentation.values.asset_tier",
                 "customers": "int", "aum": "money", "aum_share": "pct"}, total=True)
    soup = html_of(p)
    cells = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    assert cells[0] == ["张**", "大众客户", "120", "123.5万元", "75.0%"]
    assert cells[1][0].startswith("<") and set(cells[1][0][1:]) == {"*"}  # masked and escaped
    assert not soup.find("script")
    assert soup.select("td.neg")[0].get_text() == "-5.6万元"
    total = [th.get_text() for th in soup.select("tfoot th")]
    assert total == ["合计", "", "160", "117.9万元", ""]  # 1,234,567 - 56,000 = 1,178,567
    heads = [th.get_text() for th in soup.select("thead th")]
    assert heads[2] == "客户数"
    assert soup.select("thead th")[2]["class"] == ["num"]


def test_small_counts_suppressed_with_a_complement():
    df = pd.DataFrame({"asset_tier": ["mass", "affluent", "wealth", "private"], "customers": [120, 3, 40, 9],
                       "customer_share": [120 / 172, 3 / 172, 40 / 172, 9 / 172], "aum": [9e6, 2e5, 4e6, 8e5]})
    p = make("en", suppress_below=5)
    p.table(df, {"asset_tier": "text", "customers": "int", "customer_share": "pct", "aum": "money"},
            suppress=["customers"], total=True)
    soup = html_of(p)
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    # 3 < 5 is hidden with its whole row (its share would give it back); 9 is the
    # complement, so 172 - 120 - 40 cannot be split between the two.
    assert rows == [["mass", "120", "69.8%", "CNY 9.00m"], ["affluent", "*", "*", "*"],
                    ["wealth", "40", "23.3%", "CNY 4.00m"], ["private", "*", "*", "*"]]
    assert [th.get_text() for th in soup.select("tfoot th")][1] == "172"
    assert "fewer than 5 customers" in soup.select_one(".bb-suppressed-note").get_text()


def test_long_tables_move_to_the_appendix():
    df = pd.DataFrame({"customers": range(30)})
    p = make("en")
    p.section("asset_tiers")
    p.table(df, {"customers": "int"}, max_rows=10)
    body = html_of(p)
    assert len(body.select("tbody tr")) == 10
    assert "first 10 of 30 rows" in body.get_text()
    p.appendix()
    appendix = BeautifulSoup(p.blocks[-1], "html.parser")
    assert len(appendix.select("tbody tr")) == 30
    assert appendix.find("h3").get_text() == "Asset tiers"


def test_empty_table_says_so():
    p = make("en")
    p.table(pd.DataFrame({"customers": []}), {"customers": "int"})
    assert "No rows for this branch." in html_of(p).get_text()


def test_missing_column_is_named():
    with pytest.raises(KeyError, match="aum"):
        make().table(pd.DataFrame({"x": [1]}), {"aum": "money"})


@pytest.mark.parametrize(
    "value, prev, kind, expected",
    [
        (0.30, 0.25, "pct", "+5.0 pp"),
        (110, 100, "int", "+10.0%"),
        (2_000_000, 2_500_000, "money", "-20.0%"),
        (-6.92, 7.8, "num", "-14.7"),  # NPS: points, not -188.7%
        (5, 0, "int", ""),
    ],
)
def test_kpi_change_reads_in_the_right_unit(value, prev, kind, expected):
    assert page_mod.kpi_change(value, prev, kind, "en") == expected


def test_kpi_cards_status_rule_and_headline():
    rag = {"active_share": Rag(good="high", green=0.6, amber=0.4)}
    cards = page_mod.cards({"customers": 3016.0, "active_share": 0.5}, kinds={"customers": "int", "active_share": "pct"},
                           prev={"customers": 3000.0, "active_share": 0.55}, bank={"active_share": 0.7}, rag=rag)
    assert [c.status for c in cards] == ["none", "amber"]
    p = make("en")
    p.kpi_cards(cards)
    soup = html_of(p)
    amber = soup.select_one(".bb-kpi.bb-amber")
    assert amber.select_one(".bb-kpi-value").get_text() == "50.0%"
    assert "-5.0 pp" in amber.get_text() and "70.0%" in amber.get_text()
    assert "Green ≥ 60.0%" in amber.get_text()
    assert p.headline["customers"]["value"] == 3016.0 and p.headline["active_share"]["status"] == "amber"


def test_summary_sentences_from_facts():
    p = make("en")
    p.summary([("segmentation.summary.high_value", {"count": 262, "aum_share": 0.704})])
    assert html_of(p).select_one(".bb-summary li").get_text() == (
        "262 high-value customers (wealth and private tiers) hold 70.4% of the branch's AUM."
    )


def test_section_heading_ids_and_definitions():
    p = make("zh-CN")
    p.section("asset_tiers")
    p.definitions({"gini": "segmentation.definitions.gini"})
    soup = html_of(p)
    assert soup.find("h2", id="sec-asset_tiers").get_text() == "资产等级"
    assert soup.select_one(".bb-definitions dt").get_text() == "基尼系数"


def test_missing_translation_fails_loudly():
    from branchbook.i18n import MissingText

    with pytest.raises(MissingText):
        make("zh-CN").section("no_such_section")
