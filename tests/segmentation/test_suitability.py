"""Suitability (适当性管理): products held above the customer's risk appetite."""

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import coverage
from branchbook import segmentation as sg

from .rows import CLOSED, S, frame


def test_a_product_above_the_appetite_is_a_mismatch_and_a_missing_value_is_not_judged():
    appetite = pd.Series(["R2", "R4", "R3", None, "R1"])
    level = pd.Series(["R4", "R2", "R3", "R5", None])
    assert sg.is_mismatch(appetite, level).tolist() == [True, False, False, False, False]


def rows() -> pd.DataFrame:
    """Five customers: two with unsuitable products (one of them twice), one holder
    without, one without any holding, one closed with an unsuitable product."""
    return sg.classify(
        frame(
            {
                "manager_id": "S01",
                "holdings": 2.0,
                "mismatches": 1.0,
                "mismatch_balance": 50_000.0,
                "holdings_prev": 2.0,
                "mismatches_prev": 0.0,
            },  # fmt: skip
            {"manager_id": "S01", "holdings": 1.0},
            {"manager_id": "S02", "holdings": 0.0},
            {
                "manager_id": None,
                "holdings": 3.0,
                "mismatches": 2.0,
                "mismatch_balance": 7_000.0,
                "holdings_prev": 3.0,
                "mismatches_prev": 2.0,
                "mismatch_balance_prev": 6_000.0,
            },  # fmt: skip
            {
                **CLOSED,
                "holdings": np.nan,
                "mismatches": np.nan,
                "mismatch_balance": np.nan,
                "holdings_prev": 1.0,
                "mismatches_prev": 1.0,
            },  # fmt: skip
        ),
        S,
    )


def test_the_kpis_count_open_customers_and_share_of_holders():
    got = sg.kpis(rows())
    assert got["suitability_mismatches"] == 2.0  # C1 and C4; C5 is closed
    assert got["suitability_mismatch_share"] == pytest.approx(2 / 3)  # of C1, C2, C4
    before = sg.kpis(sg.classify(sg.previous(rows()), S))
    # last month: C4 and C5 (open then, 1 mismatch) of the holders C1, C4, C5
    assert before["suitability_mismatches"] == 2.0
    assert before["suitability_mismatch_share"] == pytest.approx(2 / 3)


def test_nobody_holding_a_product_gives_no_share():
    r = sg.classify(frame({}, {}), S)
    assert sg.kpis(r)["suitability_mismatches"] == 0.0
    assert math.isnan(sg.kpis(r)["suitability_mismatch_share"])
    assert sg.suitability_by_manager(r).empty


def test_by_manager_counts_customers_holdings_and_balance():
    staff = pd.DataFrame({"staff_id": ["S01", "S02"], "name": ["Li Wei", "Zhao Min"]})
    got = sg.suitability_by_manager(rows(), staff=staff, unassigned="(none)")
    assert got["manager_name"].tolist() == ["(none)", "Li Wei"]  # 1 of 1 before 1 of 2
    assert got["holders"].tolist() == [1.0, 2.0]
    assert got["mismatched"].tolist() == [1.0, 1.0]
    assert got["mismatch_share"].tolist() == [1.0, 0.5]
    assert got["mismatches"].tolist() == [2.0, 1.0]
    assert got["mismatch_balance"].tolist() == [7_000.0, 50_000.0]
    total = sg.suitability_total(rows())
    assert total == {"holders": 3.0, "mismatched": 2.0, "mismatch_share": pytest.approx(2 / 3),
                     "mismatches": 3.0, "mismatch_balance": 57_000.0}  # fmt: skip


def test_the_call_list_is_by_manager_widest_gap_then_largest_balance():
    holdings = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "branch_id": ["0101"] * 4,
            "manager_id": ["S02", "S01", None, "S01"],
            "name": ["张伟", "李娜", "王芳", "赵敏"],
            "risk_appetite": ["R2", "R3", "R1", "R1"],
            "product_id": ["F03", "W03", "F03", "W01"],
            "product_type": ["fund", "wealth", "fund", "wealth"],
            "risk_level": ["R5", "R4", "R5", "R2"],
            "balance": [10.0, 500.0, 99.0, 20.0],
        }
    )
    got = sg.suitability_list(holdings, staff=pd.DataFrame({"staff_id": ["S01"], "name": ["Li"]}))
    assert got["customer_id"].tolist() == ["C2", "C4", "C1", "C3"]
    assert got["manager_name"].tolist() == ["Li", "Li", "S02", "-"]
    assert got["levels_above"].tolist() == [1.0, 1.0, 3.0, 4.0]


def test_without_holdings_or_appetite_the_section_and_cards_are_not_recorded():
    from branchbook.contract import TABLES

    for table, cols in (("holdings", None), ("customers", {"risk_appetite"})):
        found = {name: set(t.names) for name, t in TABLES.items()}
        if cols is None:
            del found[table]
        else:
            found[table] -= cols
        cov = coverage.verdict(found, ("segmentation", "risk", "satisfaction", "staff_kpi"))
        assert cov.produced("segmentation") and not cov.shows("segmentation.suitability")
        assert "suitability" in cov.hidden_sections("segmentation")
        assert "segmentation.summary.suitability" in cov.hidden_facts("segmentation")
        keys = {"suitability_mismatches", "suitability_mismatch_share", "customers"}
        assert cov.not_recorded(keys) == keys - {"customers"}


def test_the_summary_says_so_only_when_someone_holds_an_unsuitable_product():
    from .rows import bench_rows

    facts = dict(sg.summary_facts(rows(), sg.classify(sg.previous(rows()), S),
                                  bench=bench_rows(), period="2026-10", settings=S))  # fmt: skip
    assert facts["segmentation.summary.suitability"] == {
        "count": 2.0, "share": pytest.approx(2 / 3), "balance": 57_000.0}  # fmt: skip
    clean = sg.classify(frame({"holdings": 1.0}), S)
    keys = [k for k, _ in sg.summary_facts(clean, clean, bench=bench_rows(), period="2026-10",
                                           settings=S)]  # fmt: skip
    assert "segmentation.summary.suitability" not in keys


# -- against the warehouse --------------------------------------------------------------


def _bank(small_bank):
    import duckdb

    period = max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2")
    extracts = small_bank / "build" / period / "prepared" / "extracts"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    return period, extracts, con


_TRUTH = """
SELECT c.manager_id, count(DISTINCT h.customer_id) AS mismatched, count(*) AS mismatches,
       sum(h.balance) AS mismatch_balance
FROM holdings h JOIN customers c ON c.customer_id = h.customer_id
WHERE c.branch_id = $b AND h.month = $m AND h.balance > 0
  AND CAST(substr(h.risk_level, 2) AS INT) > CAST(substr(c.risk_appetite, 2) AS INT)
  AND c.opened_on <= last_day(CAST($m || '-01' AS DATE))
  AND (c.closed_on IS NULL OR c.closed_on > last_day(CAST($m || '-01' AS DATE)))
GROUP BY c.manager_id
"""


def test_by_manager_and_the_kpis_match_the_warehouse(small_bank):
    """Recomputed by a separate query: per manager the customers, holdings and balance
    above appetite, and the share of holders as the card shows it."""
    period, extracts, con = _bank(small_bank)
    for branch in ("0101", "0102"):
        cur = sg.classify(pd.read_parquet(extracts / branch / "segmentation_customers.parquet"), S)
        got = sg.suitability_by_manager(cur).set_index("manager_id")
        truth = con.execute(_TRUTH, {"b": branch, "m": period}).df()
        truth["manager_id"] = truth["manager_id"].fillna("")
        truth = truth.set_index("manager_id")
        mine = got[got["mismatched"] > 0]
        assert sorted(mine.index) == sorted(truth.index)
        for col in ("mismatched", "mismatches", "mismatch_balance"):
            assert mine[col].to_dict() == pytest.approx(truth[col].astype(float).to_dict()), col
        holders = con.execute(
            """SELECT count(DISTINCT h.customer_id) FROM holdings h JOIN customers c USING (customer_id)
               WHERE c.branch_id = $b AND h.month = $m AND h.balance > 0
                 AND c.risk_appetite IS NOT NULL""",
            {"b": branch, "m": period},
        ).fetchone()[0]
        kpis = sg.kpis(cur)
        assert kpis["suitability_mismatches"] == truth["mismatched"].sum()
        assert kpis["suitability_mismatch_share"] == pytest.approx(
            truth["mismatched"].sum() / holders
        )
        bench = pd.read_parquet(extracts.parent / "bench" / "bench_segmentation.parquet")
        row = bench[(bench["branch_id"] == branch) & (bench["period"] == period)].iloc[0]
        assert row["suitability_mismatch_share"] == pytest.approx(
            kpis["suitability_mismatch_share"]
        )
        listed = pd.read_parquet(extracts / branch / "segmentation_suitability.parquet")
        assert len(listed) == truth["mismatches"].sum()


def test_the_planted_mis_seller_tops_the_first_branch(small_bank):
    """The demo plants R5 fund sales to appetite R1-R2 customers by the first active
    senior manager of the first branch: that manager heads the branch's table, and the
    call list holds those sales."""
    period, extracts, con = _bank(small_bank)
    seller = con.execute(
        "SELECT staff_id FROM staff WHERE branch_id = '0101' AND active AND grade = 'senior' "
        "ORDER BY staff_id LIMIT 1"
    ).fetchone()[0]
    cur = sg.classify(pd.read_parquet(extracts / "0101" / "segmentation_customers.parquet"), S)
    table = sg.suitability_by_manager(cur)
    assert table["manager_id"].iloc[0] == seller
    assert table["mismatched"].iloc[0] >= 2 * table["mismatched"].iloc[1]
    listed = sg.suitability_list(
        pd.read_parquet(extracts / "0101" / "segmentation_suitability.parquet")
    )
    sold = listed[(listed["manager_id"] == seller) & (listed["product_id"] == "F03")]
    assert len(sold) >= 10 and set(sold["risk_appetite"]) <= {"R1", "R2"}


def test_an_empty_branch_has_an_empty_call_list():
    """A branch with no customers: text columns of no rows keep their text dtype, and the
    list is empty rather than an error (the empty-branch run once failed here)."""
    from branchbook.segmentation import suitability

    cols = ["manager_id", "customer_id", "name", "risk_appetite", "product_id",
            "product_type", "risk_level", "balance"]  # fmt: skip
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in cols}).assign(
        balance=pd.Series(dtype=float)
    )
    out = suitability.mismatch_list(empty)
    assert out.empty and "levels_above" in out.columns
