"""A page written for a region or the bank: its title names the scope, its cards'
benchmark is the bank's value (a region) or none (the bank), its league tables, and the
bank's action lists counted per region, branch and reason with no customer row."""

from __future__ import annotations

import pandas as pd
from bs4 import BeautifulSoup

from branchbook import page as page_mod
from branchbook import risk, segmentation  # noqa: F401  (they declare the metrics)
from branchbook.metrics import league


def make(level: str, locale: str = "en") -> page_mod.Page:
    return page_mod.Page(
        report="segmentation", locale=locale, bank_name="Demo Bank",
        branch={"branch_id": "region-East", "name": "East region (all branches)",
                "name_zh": "华东区域（全部网点）", "region": "East"},
        period="2026-10", data_as_of="2026-10-31", live=False, level=level,
    )  # fmt: skip


def text(p: page_mod.Page) -> str:
    return BeautifulSoup(p.html(), "html.parser").get_text(" ")


def test_the_title_names_the_scope_not_a_branch():
    p = make("region")
    p.title()
    got = text(p)
    assert "Report for" in got and "East region (all branches)" in got
    assert "(region-East)" not in got
    zh = make("region", "zh-CN")
    zh.title()
    assert "报告范围" in text(zh)


def test_the_banks_title_has_no_region_row():
    p = page_mod.Page(
        report="segmentation", locale="en", bank_name="Demo Bank",
        branch={"branch_id": "bank", "name": "Whole bank (all branches)", "region": ""},
        period="2026-10", data_as_of="2026-10-31", live=False, level="bank",
    )  # fmt: skip
    p.title()
    got = text(p)
    assert "Whole bank (all branches)" in got and "Region" not in got
    r = make("region")
    r.title()
    assert "Region" in text(r)


def test_a_regions_card_reads_bank_the_banks_card_has_no_benchmark():
    frame = pd.DataFrame(
        {"kpi": ["customers"], "value": [10.0], "previous": [9.0], "bank_median": [30.0]}
    )
    region = make("region")
    region.kpi_frame(frame, kinds={"customers": "int"})
    assert "Bank: 30" in text(region) and "Bank median" not in text(region)
    unknown = make("region")
    unknown.kpi_frame(frame.assign(bank_median=float("nan")), kinds={"customers": "int"})
    assert "Bank:" not in text(unknown)  # not kept: no line, never a median branch
    bank = make("bank")
    bank.kpi_frame(frame, kinds={"customers": "int"})
    assert "Bank" not in text(bank).replace("Demo Bank", "")


def test_a_league_table_on_the_page_with_names_and_positions():
    v = pd.DataFrame(
        {"unit": ["0101", "0102"], "period": ["2026-10"] * 2, "value": [0.01, 0.2],
         "n": [500.0, 500.0]}
    )  # fmt: skip
    t = league.league_table(v, period="2026-10", good="low", p0=0.105)
    p = make("region")
    p.league("npl_ratio", {"branch": t}, p0=0.105, names={"0101": "Lujiazui (0101)"})
    got = text(p)
    assert "League table: NPL ratio" in got and "Lujiazui (0101)" in got
    assert "NPL ratio by branch, best first" in got
    words = {"within": "Within the limits", "below_998": "Below the 99.8% limit",
             "below_95": "Below the 95% limit", "above_95": "Above the 95% limit",
             "above_998": "Above the 99.8% limit"}  # fmt: skip
    assert all(words[pos] in got for pos in t["position"])
    assert "against this scope's own level (10.5%)" in got
    p = make("region")
    p.league("customers", {"branch": t.assign(position=pd.NA)}, p0=1.0, names={})
    assert "is a count, not a rate" in text(p)
    p = make("branch")
    p.league("customers", {}, p0=1.0, names={})
    assert p.blocks == []  # a branch's report has no league table


def test_the_banks_action_list_is_counted_per_region_branch_and_reason():
    df = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "name": ["张三", "李四", "王五"],
            "reason": ["dormant_high_value", "dormant_high_value", "slipped_tier"],
            "aum": [100.0, 50.0, 10.0],
        }
    )
    cols = {"customer_id": "text", "name": "text", "reason": "label:segmentation.values.reason",
            "aum": "money"}  # fmt: skip
    p = make("bank")
    p.customer_branch = {"C1": "0101", "C2": "0101", "C3": "0201"}
    p.branch_region = {"0101": "East", "0201": "North"}
    p.branch_names = {"0101": "Lujiazui (0101)", "0201": "North One (0201)"}
    p.action_table("customers_to_contact", df, cols, shown=10)
    got = text(p)
    for personal in ("C1", "张", "李", "王"):
        assert personal not in got
    assert "Lujiazui (0101)" in got and "3 rows in all" in got
    rows = p.actions["customers_to_contact"]["rows"]
    assert len(rows) == 2
    first = dict(zip(p.actions["customers_to_contact"]["columns"], rows[0], strict=True))
    assert first["rows"] == 2 and first["aum"] == 150.0
