"""Tests of the segmentation tables, one per section, on hand-built customer rows."""

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from branchbook import privacy
from branchbook import segmentation as sg
from branchbook.page import Page

from .rows import CLOSED, S, bench_rows, empty, frame, kpi_rows, two_groups


def test_cluster_profile_beside_bank_share():
    s = sg.Settings(bank_wide=sg.BankWide(clusters=2))
    c = two_groups()
    clusters = sg.fit_clusters(c, s)
    branch = c.assign(cluster=sg.assign_clusters(c, clusters)).iloc[[0, 1, 3]]  # 1 rich, 2 poor
    got = sg.cluster_profile(sg.classify(branch, s), clusters)
    assert got["customers"].tolist() == [1, 2]
    assert got["customer_share"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert got["bank_share"].tolist() == [0.5, 0.5]
    # AUM 1,000,000 of 1,002,000; 2,000 of 1,002,000
    assert got["aum_share"].tolist() == pytest.approx([1_000_000 / 1_002_000, 2_000 / 1_002_000])
    assert got["median_aum"].tolist() == [1_000_000.0, 1_000.0]
    assert got["mean_txn_90d"].tolist() == [30.0, 0.0]
    assert got["label"].tolist() == ["high_value_active", "low_value_dormant"]
    nobody = sg.cluster_profile(sg.classify(empty(), s), clusters)
    assert nobody["customers"].tolist() == [0, 0] and nobody["customer_share"].isna().all()


def test_tier_summary_counts_and_shares():
    c = sg.classify(
        frame({"aum": 10_000.0}, {"aum": 20_000.0}, {"aum": 100_000.0}, {"aum": 870_000.0}, CLOSED),
        S,
    )
    got = sg.tier_summary(c)
    assert got.index.tolist() == ["mass", "affluent", "wealth", "private"]
    assert got["customers"].tolist() == [2, 1, 1, 0]
    assert got["customer_share"].tolist() == pytest.approx([0.5, 0.25, 0.25, 0.0])  # of 4 open
    assert got["aum"].tolist() == [30_000.0, 100_000.0, 870_000.0, 0.0]
    # of 1,000,000 total: 0.03, 0.10, 0.87, 0
    assert got["aum_share"].tolist() == pytest.approx([0.03, 0.10, 0.87, 0.0])
    assert got["avg_aum"].iloc[:3].tolist() == [15_000.0, 100_000.0, 870_000.0]
    assert pd.isna(got["avg_aum"].iloc[3])


def test_tier_summary_by_activity_level_and_credit():
    c = sg.classify(
        frame(
            {"txn_90d": 0.0, "credit_grade": "no_credit"},
            {"txn_90d": 25.0, "credit_grade": "D", "pct_aum": 100.0, "pct_activity": 100.0},
        ),
        S,
    )
    act = sg.tier_summary(c, "activity_tier")
    assert act["customers"].tolist() == [1, 0, 0, 1]  # dormant, low, medium, high
    assert sg.tier_summary(c, "credit_grade")["customers"].tolist() == [0, 0, 0, 1, 1]
    # composites: 50 (level 3) and 0.35*100 + 0.2*100 + 0.45*50 = 77.5 (level 5)
    assert sg.tier_summary(c, "level")["customers"].tolist() == [0, 0, 1, 0, 1]


def test_type_split_with_only_corporate_customers():
    c = sg.classify(
        frame(
            {"customer_type": "corporate", "aum": 100.0},
            {"customer_type": "corporate", "aum": 300.0},
        ),
        S,
    )
    got = sg.type_split(c)
    assert got.index.tolist() == ["individual", "corporate"]
    assert got["customers"].tolist() == [0, 2]
    assert got["customer_share"].tolist() == [0.0, 1.0]
    assert got["aum_share"].tolist() == [0.0, 1.0]
    assert got.loc["corporate", "avg_aum"] == 200.0 and pd.isna(got.loc["individual", "avg_aum"])


def _moves() -> pd.DataFrame:
    return sg.classify(
        frame(
            {"aum": 40_000.0, "aum_prev": 600_000.0},  # wealth -> mass
            {"aum": 60_000.0, "aum_prev": 40_000.0},  # mass -> affluent
            {"aum": 6_500_000.0, "aum_prev": 7_000_000.0},  # private -> private
            {"aum": 1_000.0, "aum_prev": np.nan, "open_prev": False},  # new -> mass
            {**CLOSED, "aum_prev": 50_000.0},  # affluent -> closed
        ),
        S,
    )


def test_migration_matrix():
    got = _moves().pipe(sg.migration_matrix)
    assert got.index.tolist() == ["mass", "affluent", "wealth", "private", "new"]
    assert got.columns.tolist() == ["mass", "affluent", "wealth", "private", "closed"]
    assert got.loc["wealth", "mass"] == 1
    assert got.loc["mass", "affluent"] == 1
    assert got.loc["private", "private"] == 1
    assert got.loc["new", "mass"] == 1
    assert got.loc["affluent", "closed"] == 1
    assert int(got.to_numpy().sum()) == 5
    assert sg.migration_counts(_moves()) == {
        "upgraded": 1,
        "downgraded": 1,
        "unchanged": 1,
        "new": 1,
        "closed": 1,
    }


def test_action_list_reasons_order_and_columns():
    top = {
        "pct_aum": 100.0,
        "pct_activity": 100.0,
        "pct_products": 100.0,
        "pct_tenure": 100.0,
        "pct_credit": 100.0,
    }
    c = sg.classify(
        frame(
            {"aum": 40_000.0, "aum_prev": 600_000.0, "txn_90d": 5.0},  # slipped
            {"aum": 800_000.0, "aum_prev": 800_000.0, "txn_90d": 0.0},  # dormant wealth
            {"aum": 550_000.0, "aum_prev": 7_000_000.0, "txn_90d": 0.0},  # both
            {"aum": 30_000.0, "aum_prev": 30_000.0, "txn_90d": 0.0, **top},  # dormant 5-star mass
            {"aum": 30_000.0, "aum_prev": 30_000.0, "txn_90d": 0.0},  # dormant 3-star mass: no
            {"aum": 7_000_000.0, "aum_prev": 7_000_000.0, "txn_90d": 10.0},  # fine
            {
                "aum": 9_000_000.0,
                "aum_prev": np.nan,
                "open_prev": False,
                "txn_90d": 0.0,
                "recency_days": np.nan,
            },
        ),
        S,
    )
    got = sg.action_list(c)
    assert got["customer_id"].tolist() == ["C7", "C2", "C3", "C1", "C4"]  # by AUM
    assert got["reason"].tolist() == [
        "dormant_high_value",
        "dormant_high_value",
        "both",
        "slipped_tier",
        "dormant_high_value",
    ]
    assert got.columns.tolist() == [
        "customer_id",
        "manager_id",
        "manager_name",
        "name",
        "reason",
        "next_step",
        "asset_tier",
        "asset_tier_prev",
        "level",
        "activity_tier",
        "aum",
        "aum_prev",
        "recency_days",
    ]
    assert got.loc[2, "asset_tier"] == "wealth" and got.loc[2, "asset_tier_prev"] == "private"
    assert pd.isna(got.loc[0, "recency_days"]) and pd.isna(got.loc[0, "asset_tier_prev"])
    assert sg.action_list(c, limit=2)["customer_id"].tolist() == ["C7", "C2"]
    assert got["next_step"].tolist() == [
        "reactivate",
        "reactivate",
        "visit",
        "review_call",
        "reactivate",
    ]
    # no transactions in the warehouse: no one is known to be dormant, the slipping stay
    quiet = sg.action_list(c, activity=False)
    assert quiet["customer_id"].tolist() == ["C3", "C1"]
    assert quiet["reason"].tolist() == ["slipped_tier", "slipped_tier"]


def test_action_list_names_the_manager_and_keeps_an_unknown_id():
    c = sg.classify(frame({"aum": 40_000.0, "aum_prev": 600_000.0, "txn_90d": 5.0}), S)
    manager = c["manager_id"].iloc[0]
    staff = pd.DataFrame({"staff_id": [manager], "name": ["王小明"]})
    assert sg.action_list(c, staff=staff)["manager_name"].tolist() == ["王小明"]
    other = pd.DataFrame({"staff_id": ["S99999"], "name": ["李四"]})
    assert sg.action_list(c, staff=other)["manager_name"].tolist() == [manager]


def test_rfm_distribution_and_grid():
    c = frame(
        {"r_score": 5.0, "f_score": 1.0, "m_score": 2.0},
        {"r_score": 5.0, "f_score": 1.0, "m_score": 5.0},
        {"r_score": 1.0, "f_score": 3.0, "m_score": 5.0},
        {**CLOSED, "r_score": np.nan},
    )
    dist = sg.rfm_distribution(c)
    assert dist.index.tolist() == [1, 2, 3, 4, 5]
    assert dist["r"].tolist() == [1, 0, 0, 0, 2]
    assert dist["f"].tolist() == [2, 0, 1, 0, 0]
    assert dist["m"].tolist() == [0, 1, 0, 0, 2]
    grid = sg.rfm_grid(c)
    assert grid.index.tolist() == [5, 4, 3, 2, 1] and grid.columns.tolist() == [1, 2, 3, 4, 5]
    assert grid.loc[5, 1] == 2 and grid.loc[1, 3] == 1 and int(grid.to_numpy().sum()) == 3


def test_dormant_high_value_group_and_its_aum_change():
    c = sg.classify(
        frame(
            {"aum": 600_000.0, "aum_prev": 800_000.0, "txn_90d": 0.0},
            {"aum": 7_000_000.0, "aum_prev": 7_000_000.0, "txn_90d": 0.0},
            {"aum": 900_000.0, "aum_prev": np.nan, "open_prev": False, "txn_90d": 0.0},  # new
            {"aum": 900_000.0, "txn_90d": 1.0},  # active
            {"aum": 1_000.0, "txn_90d": 0.0},  # not high value
        ),
        S,
    )
    got = sg.dormant_high_value(c)
    assert got["count"] == 3.0 and got["aum"] == 8_500_000.0
    # customers open at both periods: 7,600,000 now against 7,800,000 last month
    assert got["aum_prev"] == 7_800_000.0
    assert got["aum_change"] == pytest.approx(7_600_000 / 7_800_000 - 1)
    assert sg.kpis(c)["dormant_high_value_share"] == pytest.approx(3 / 4)
    none = sg.dormant_high_value(sg.classify(empty(), S))
    assert none["count"] == 0.0 and math.isnan(none["aum_change"])
    assert math.isnan(sg.kpis(sg.classify(frame({"aum": 10.0}), S))["dormant_high_value_share"])


def test_branch_vs_bank():
    c = kpi_rows()  # mass 3 of 5 = 0.6; wealth 1, private 1
    got = sg.branch_vs_bank(c, bench_rows(), period="2026-10")
    assert got.loc["mass", "branch_share"] == pytest.approx(0.6)
    assert got.loc["mass", "bank_median"] == pytest.approx(0.6)  # median of 0.6, 0.5, 0.7
    assert got.loc["mass", "gap"] == pytest.approx(0.0)
    assert got.loc["mass", "branch_aum_share"] == pytest.approx(52_000 / 7_652_000)
    assert got.loc["mass", "bank_median_aum_share"] == pytest.approx(0.06)
    assert math.isnan(got.loc["wealth", "bank_median"])  # not in this bench
    life = sg.branch_vs_bank(c, bench_rows(), period="2026-10", by="lifecycle")
    assert "branch_aum_share" not in life and life.loc["decline", "bank_median"] == pytest.approx(
        0.1
    )


def test_an_empty_branch_gives_empty_tables_and_nan_never_an_error():
    c = sg.classify(empty(), S)
    assert sg.tier_summary(c)["customers"].tolist() == [0, 0, 0, 0]
    assert sg.tier_summary(c)["customer_share"].isna().all()
    assert sg.type_split(c)["aum_share"].isna().all()
    assert sg.lorenz(sg.open_customers(c)["aum"]).empty
    assert math.isnan(sg.gini(c["aum"])) and math.isnan(sg.top_share(c["aum"]))
    assert int(sg.migration_matrix(c).to_numpy().sum()) == 0
    assert sg.migration_counts(c)["new"] == 0
    assert sg.action_list(c).empty and "reason" in sg.action_list(c)
    assert int(sg.rfm_distribution(c).to_numpy().sum()) == 0
    assert int(sg.rfm_grid(c).to_numpy().sum()) == 0
    k = sg.kpis(c)
    assert (k["customers"], k["aum_total"], k["high_value_customers"]) == (0, 0, 0)
    assert math.isnan(k["top20_share"]) and math.isnan(k["active_share"])
    assert math.isnan(k["dormant_high_value_share"])
    assert sg.branch_vs_bank(c, bench_rows(), period="2026-10")["branch_share"].isna().all()
    table = sg.kpi_table(k, k, bench=bench_rows(), branch_id="0101", period="2026-10", settings=S)
    assert pd.isna(table.set_index("kpi").loc["active_share", "status"])
    assert sg.summary_facts(c, c, bench=bench_rows(), period="2026-10", settings=S) == [
        ("segmentation.summary.no_customers", {})
    ]


# ------------------------------------------------------------------------ total rows


def _tiers() -> pd.DataFrame:
    # mass 10,000 and 20,000; affluent 100,000; wealth 870,000; one closed customer
    return sg.classify(
        frame({"aum": 10_000.0}, {"aum": 20_000.0}, {"aum": 100_000.0}, {"aum": 870_000.0}, CLOSED),
        S,
    )


def test_tier_total_recomputes_every_column_by_its_definition():
    got = sg.tier_total(_tiers(), "asset_tier")
    assert got["customers"] == 4 and got["aum"] == 1_000_000.0
    assert got["customer_share"] == 1.0 and got["aum_share"] == 1.0
    # 1,000,000 / 4 = 250,000; the rows' averages would add up to 15,000 + 100,000 +
    # 870,000 = 985,000
    assert got["avg_aum"] == 250_000.0
    nobody = sg.tier_total(sg.classify(empty(), S), "asset_tier", suppress_below=5)
    assert nobody["customers"] == 0 and nobody["aum"] == 0.0
    assert math.isnan(nobody["customer_share"]) and math.isnan(nobody["avg_aum"])


def test_tier_total_counts_only_the_tables_categories():
    # a lifecycle the table does not list: in no row, so in no total either
    c = _tiers().assign(lifecycle=["mature", "mature", "new", "unheard_of", None])
    got = sg.tier_total(c, "lifecycle")
    assert got["customers"] == 3  # of 4 open customers
    assert got["customer_share"] == pytest.approx(3 / 4)
    assert got["aum"] == 130_000.0 and got["aum_share"] == pytest.approx(0.13)
    assert got["avg_aum"] == pytest.approx(130_000 / 3)


def test_tier_total_is_suppressed_when_the_table_is_a_small_group():
    c = sg.classify(frame({"aum": 7_000_000.0}, {"aum": 8_000_000.0}), S)
    # 2 private customers, limit 5: the one row is hidden and the total would be it
    hidden = sg.tier_total(c, "asset_tier", suppress_below=5)
    assert all(v is privacy.SUPPRESSED for v in hidden.values())
    assert sg.tier_total(c, "asset_tier", suppress_below=2)["customers"] == 2
    assert sg.tier_total(c, "asset_tier")["avg_aum"] == 7_500_000.0


def test_a_suppressed_total_prints_as_a_star():
    c = sg.classify(frame({"aum": 7_000_000.0}, {"aum": 8_000_000.0}), S)
    p = Page(
        report="segmentation",
        locale="en",
        bank_name="Demo Bank",
        branch={},
        period="2026-10",
        data_as_of="2026-10-31",
        live=False,
    )
    cols = {
        "asset_tier": "label:segmentation.values.asset_tier",
        "customers": "int",
        "avg_aum": "money",
    }
    p.table(
        sg.tier_summary(c),
        cols,
        index=True,
        suppress=["customers"],
        total=sg.tier_total(c, "asset_tier", suppress_below=p.suppress_below),
    )
    foot = [th.get_text() for th in BeautifulSoup(p.html(), "html.parser").select("tfoot th")]
    assert foot == ["Total", "*", "*"]


NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "segmentation.py"


def _totalled_tables() -> list[str]:
    """The dimension of every table the notebook prints with a totals row."""
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert "total=True" not in text  # no table sums its columns blindly
    totals = re.findall(r"total=([^\n]*)", text)
    # the bridge tables' totals are whole bridges (sums by definition), tested in test_bridges
    totals = [t for t in totals if not t.startswith("seg.bridge_table_total(")]
    # the suitability table's total is its own (sums and the branch's share), tested in
    # test_suitability
    totals = [t for t in totals if not t.startswith("seg.suitability_total(")]
    totals = [t for t in totals if not t.startswith("seg.penetration_total(")]  # test_cross_sell
    totals = [t for t in totals if not t.startswith("seg.profile_total(")]  # test_profile
    dims = [
        re.fullmatch(r'seg\.tier_total\(cur, "(\w+)", suppress_below=page\.suppress_below\)\)', t)
        for t in totals
    ]
    assert all(dims), totals
    return [m.group(1) for m in dims]


def _mixed() -> pd.DataFrame:
    rows = frame(
        {"aum": 3_000.0, "txn_90d": 0.0, "customer_type": "corporate", "credit_grade": "no_credit"},
        {"aum": 60_000.0, "txn_90d": 2.0, "credit_grade": "B", "tenure_months": 3.0},
        {"aum": 700_000.0, "txn_90d": 30.0, "pct_aum": 100.0, "pct_activity": 100.0},
        {"aum": 7_500_000.0, "txn_90d": 8.0, "customer_type": "corporate", "pct_aum": 90.0},
        {"aum": 45_000.0, "aum_recent_3m": 50.0, "aum_earlier_3m": 100.0, "credit_grade": "D"},
        CLOSED,
    )
    return sg.classify(rows, S)


def test_every_totals_row_of_the_report_matches_its_definition():
    dims = _totalled_tables()
    assert dims == [
        "customer_type",
        "asset_tier",
        "activity_tier",
        "credit_grade",
        "level",
        "lifecycle",
    ]
    c = _mixed()
    open_ = sg.open_customers(c)
    for dim in dims:
        table, total = sg.tier_summary(c, dim), sg.tier_total(c, dim)
        assert total["customers"] == table["customers"].sum() == 5, dim
        assert total["aum"] == pytest.approx(table["aum"].sum()), dim
        assert total["aum"] == pytest.approx(8_308_000.0), dim
        assert total["customer_share"] == pytest.approx(total["customers"] / len(open_)), dim
        assert total["aum_share"] == pytest.approx(total["aum"] / open_["aum"].sum()), dim
        assert total["avg_aum"] == pytest.approx(8_308_000.0 / 5), dim
