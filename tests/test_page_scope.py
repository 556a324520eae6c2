"""A page written for a region or the bank: its title names the scope, its cards'
benchmark is the bank's value (a region) or none (the bank), its league tables, and the
bank's action lists counted per region, branch and reason with no customer row."""

from __future__ import annotations

import pandas as pd
import pytest
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
    p.suppress_below = 1  # no group too small here: the counting alone (suppression below)
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


def bank_list(locale: str = "en") -> page_mod.Page:
    """The bank's page with one list: 0101 has 6 rows of 5 customers, 0102 3 rows of
    2 customers and 0201 7 rows of 7 customers, all for one reason."""
    ids = ["C1", "C2", "C3", "C4", "C5", "C5", "C6", "C6", "C7"] + [f"N{i}" for i in range(7)]
    df = pd.DataFrame(
        {"customer_id": ids, "name": ["张三"] * len(ids), "reason": ["dormant_high_value"] * len(ids),
         "aum": [100.0] * len(ids)}
    )  # fmt: skip
    cols = {"customer_id": "text", "name": "text", "reason": "label:segmentation.values.reason",
            "aum": "money"}  # fmt: skip
    p = make("bank", locale)
    branch = {i: "0101" for i in ids[:6]} | {"C6": "0102", "C7": "0102"}
    p.customer_branch = branch | {i: "0201" for i in ids[9:]}
    p.branch_region = {"0101": "East", "0102": "East", "0201": "North"}
    p.branch_names = {"0101": "Lujiazui (0101)", "0102": "Bund (0102)", "0201": "North One (0201)"}
    p.action_table("customers_to_contact", df, cols, shown=10)
    return p


def test_the_banks_list_hides_a_group_of_fewer_customers_than_the_limit():
    p = bank_list()
    soup = BeautifulSoup(p.html(), "html.parser")
    table = soup.select("table")[-1]
    body = {
        tr.select("td")[1].get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
        for tr in table.select("tbody tr")
    }
    # Bund: 2 customers (< 5) hidden; Lujiazui, 5 customers, hidden with it (else the
    # total would give Bund's count back); North One, 7 customers, shown
    assert body["Bund (0102)"][3:] == ["*", "*"]
    assert body["Lujiazui (0101)"][3:] == ["*", "*"]
    assert body["North One (0201)"][3] == "7"
    total = [th.get_text(strip=True) for th in table.select("tfoot th")]
    assert total[3] == "16"  # the total counts every row
    rule = "Rows built from fewer than 5 customers show * for their count and amounts"
    assert rule in text(p)
    rows = p.actions["customers_to_contact"]["rows"]
    cols = p.actions["customers_to_contact"]["columns"]
    got = {r[cols.index("branch")]: r for r in rows}
    assert got["Bund (0102)"][cols.index("rows")] == "*" and got["Bund (0102)"][-1] == "*"
    assert got["North One (0201)"][cols.index("rows")] == 7
    assert got["North One (0201)"][cols.index("aum")] == 700.0


def test_the_banks_list_states_its_rule_in_chinese_and_keeps_it_with_nothing_hidden():
    assert "涉及客户少于 5 户的行，其条数和金额以 * 显示" in text(bank_list("zh-CN"))
    p = bank_list()
    q = make("bank")
    q.customer_branch, q.branch_region = p.customer_branch, p.branch_region
    q.suppress_below = 2
    df = pd.DataFrame({"customer_id": ["N0", "N1"], "reason": ["slipped_tier"] * 2})
    q.action_table("customers_to_contact", df, {"customer_id": "text", "reason": "text"}, shown=5)
    assert "fewer than 2 customers" in text(q) and "*" not in text(q).replace("show *", "")


@pytest.mark.slow
def test_the_demo_banks_risk_report_hides_its_small_groups(small_bank, tmp_path):
    """The risk report of a demo bank, run at the bank's scope as the runner runs it:
    its action lists are counted per region, branch and next step; every group shown
    holds at least ``suppress_below`` customers (so at least as many rows), the groups
    hidden (never one alone) show * for every number in the workbook's rows and on the
    page, and the rule is under each list."""
    import os

    import papermill as pm

    from branchbook.output.html import notebook_to_html
    from branchbook.reports import NOTEBOOK_DIR

    os.environ["BRANCHBOOK_ROOT"] = str(small_bank)
    try:
        out = pm.execute_notebook(
            str(NOTEBOOK_DIR / "risk.ipynb"),
            str(tmp_path / "out.ipynb"),
            parameters={"branch_id": "", "scope": "bank", "period": "2026-10", "locale": "en",
                        "build_dir": str(small_bank / "build")},
            cwd=str(NOTEBOOK_DIR), kernel_name="python3", progress_bar=False,
        )  # fmt: skip
    finally:
        del os.environ["BRANCHBOOK_ROOT"]
    page, meta = notebook_to_html(out)
    lists = meta["actions"]
    assert set(lists) == {"borrowers_to_review", "revaluations_overdue"}
    hidden = 0
    for name, table in lists.items():
        cols = table["columns"]
        assert cols[:2] == ["region", "branch"] and "customer_id" not in cols, name
        numbers = [c for c, k in zip(cols, table["kinds"], strict=True) if k in ("int", "money")]
        for row in table["rows"]:
            cells = dict(zip(cols, row, strict=True))
            if cells["rows"] == "*":
                hidden += 1
                assert all(cells[c] == "*" for c in numbers), (name, row)
            else:
                assert cells["rows"] >= 5, (name, row)  # 5 customers at least: 5 rows
        assert sum(1 for r in table["rows"] if r[cols.index("rows")] == "*") != 1, name
    assert hidden > 0  # the demo bank has groups that small
    soup = BeautifulSoup(page, "html.parser")
    rule = "Rows built from fewer than 5 customers show * for their count and amounts"
    assert soup.get_text(" ").count(rule) == len(lists)
    assert soup.select("td.bb-suppressed")
