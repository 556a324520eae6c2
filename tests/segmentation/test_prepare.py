"""Tests of prepare() on a tiny warehouse: customer measures, bank-wide ranks, clusters, bench."""

import math
import types
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from shared_tables import add_shared

from branchbook import segmentation as sg
from branchbook.period import window

from .rows import S


def _warehouse() -> duckdb.DuckDBPyConnection:
    d = date.fromisoformat
    customers = pd.DataFrame(
        [
            # id, branch, manager, type, opened, closed
            ("C01", "0101", "S01", "individual", "2020-01-15", None),
            ("C02", "0101", "S02", "corporate", "2026-08-10", None),
            ("C03", "0101", None, "individual", "2015-03-01", None),
            ("C04", "0102", "S03", "individual", "2024-10-01", "2026-10-15"),  # closed this month
            ("C05", "0102", "S03", "individual", "2026-10-05", None),  # new this month
            (
                "C06",
                "0102",
                "S03",
                "individual",
                "2026-10-03",
                "2026-10-20",
            ),  # never at a month end
            ("C07", "0101", "S01", "individual", "2019-01-01", "2026-09-30"),  # closed last month
            ("C08", "0102", "S03", "individual", "2023-01-01", None),  # no balances at all
        ],
        columns=[
            "customer_id",
            "branch_id",
            "manager_id",
            "customer_type",
            "opened_on",
            "closed_on",
        ],
    )
    customers["opened_on"] = customers["opened_on"].map(d)
    customers["closed_on"] = customers["closed_on"].map(
        lambda v: d(v) if isinstance(v, str) else None
    )
    customers["name"] = "Name " + customers["customer_id"]
    customers["risk_appetite"] = ["R2", "R3", "R1", "R1", "R2", "R2", "R2", None]
    customers["birth_date"] = [d("1990-10-31"), None, d("1966-11-01"), None, None, None, None, None]
    customers["gender"] = ["F", None, "M", None, None, None, None, None]
    customers["occupation"] = ["clerk", None, "retired", None, None, None, None, None]
    customers["income_band"] = ["5k_10k", None, None, None, None, None, None, None]
    bal = []

    def add(cid, month, deposits, wealth=0.0, products=1):
        bal.append((cid, month, float(deposits), float(wealth), 0.0, products))

    for m in ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]:
        add("C01", m, 600_000)
        add("C03", m, 800_000, products=2)
    add("C01", "2026-09", 500_000, 100_000, 4)
    add("C01", "2026-10", 30_000, 20_000, 3)
    add("C02", "2026-08", 1_000_000)
    add("C02", "2026-09", 6_000_000, products=2)
    add("C02", "2026-10", 5_000_000, 2_000_000, 5)
    add("C03", "2026-09", 800_000, products=2)
    add("C03", "2026-10", 499_999.99, products=2)
    add("C04", "2026-09", 100_000)
    add("C05", "2026-10", 1_000)
    balances = pd.DataFrame(
        bal,
        columns=[
            "customer_id",
            "month",
            "deposits",
            "wealth",
            "loans_outstanding",
            "products_held",
        ],
    )
    txns = pd.DataFrame(
        [
            ("C01", "2026-10-31", 100.0),
            ("C01", "2026-08-03", 200.0),  # first day of the 90-day window
            ("C01", "2026-08-02", 300.0),  # just outside it, inside 12 months
            ("C01", "2025-11-01", 400.0),  # first day of the 12 months
            ("C01", "2025-10-31", 500.0),  # outside the 12 months
            ("C01", "2026-11-01", 999.0),  # after the period: ignored
            ("C03", "2025-12-15", 50.0),
            ("C05", "2026-10-06", 10.0),
        ],
        columns=["customer_id", "txn_date", "amount"],
    )
    txns["txn_date"] = txns["txn_date"].map(d)
    txns["txn_id"] = [f"T{i}" for i in range(len(txns))]
    txns["channel"], txns["direction"] = "mobile", "in"
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "customer_id": ["C01", "C01", "C01", "C03"],
            "branch_id": "0101",
            "product": ["mortgage", "consumer", "consumer", "business"],
        }
    )
    snaps = pd.DataFrame(
        [
            ("L1", "2026-10", 1_000.0, "pass"),
            ("L1", "2026-09", 1_000.0, "pass"),
            ("L2", "2026-10", 500.0, "substandard"),
            ("L2", "2026-09", 500.0, "pass"),
            ("L3", "2026-10", 0.0, "loss"),  # repaid: ignored
            ("L4", "2026-10", 800.0, "doubtful"),
            ("L4", "2026-09", 800.0, "doubtful"),
        ],
        columns=["loan_id", "month", "outstanding", "five_class"],
    )
    snaps["dpd"] = 0
    holdings = pd.DataFrame(
        [
            ("C01", "2026-10", "D01", "deposit", "R1", 1_000.0),
            ("C01", "2026-10", "F02", "fund", "R4", 9_000.0),  # R4 above R2: a mismatch
            ("C01", "2026-10", "F03", "fund", "R5", 0.0),  # no balance: not a holding
            ("C01", "2026-09", "F02", "fund", "R4", 8_000.0),
            ("C03", "2026-10", "D01", "deposit", "R1", 5_000.0),  # R1 for R1: suitable
            ("C04", "2026-09", "W02", "wealth", "R3", 700.0),  # closed in October
            ("C08", "2026-10", "F03", "fund", "R5", 100.0),  # no appetite: not judged
        ],
        columns=["customer_id", "month", "product_id", "product_type", "risk_level", "balance"],
    )
    branches = pd.DataFrame({"branch_id": ["0101", "0102"], "region": ["East", "North"]})
    con = duckdb.connect()
    for name, df in {
        "branches": branches,
        "holdings": holdings,
        "customers": customers,
        "balances": balances,
        "transactions": txns,
        "loans": loans,
        "loan_snapshots": snaps,
    }.items():
        con.register(f"{name}_df", df)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    return con


def _ctx(con, settings=S):
    add_shared(con, "2026-10", settings)
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period="2026-10",
        prev_period="2026-09",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        months=lambda n: window("2026-10", n),
        settings=settings,
    )


@pytest.fixture(scope="module")
def prepared():
    return sg.prepare(_ctx(_warehouse()))


def test_prepare_returns_the_named_frames(prepared):
    assert set(prepared) == {
        "segmentation_customers",
        "bench_segmentation",
        "bench_segmentation_clusters",
        "bench_segmentation_scopes",
        "segmentation_bridge",
        "segmentation_suitability",
        "bench_segmentation_penetration",
        "segmentation_clv_mix",
    }
    c = prepared["segmentation_customers"]
    assert c["customer_id"].tolist() == [
        "C01",
        "C02",
        "C03",
        "C04",
        "C05",
        "C08",
    ]  # C06, C07 never open
    assert c["open_now"].tolist() == [True, True, True, False, True, True]
    assert c["open_prev"].tolist() == [True, True, True, True, False, True]
    assert {"branch_id", "manager_id", "name", "cluster", "cluster_label", "r_score"} <= set(
        c.columns
    )


def test_prepare_lists_each_customers_products_for_the_lifetime_value(prepared):
    mix = prepared["segmentation_clv_mix"]
    got = {(r.customer_id, r.product): r.balance for r in mix.itertuples()}
    # the holdings of the period with a balance, and the loans outstanding by product
    # (L3 is repaid); September's rows are not read
    assert got == {
        ("C01", "consumer"): 500.0,
        ("C01", "deposit"): 1_000.0,
        ("C01", "fund"): 9_000.0,
        ("C01", "mortgage"): 1_000.0,
        ("C03", "business"): 800.0,
        ("C03", "deposit"): 5_000.0,
        ("C08", "fund"): 100.0,
    }
    assert set(mix["branch_id"]) <= {"0101", "0102"}


def test_prepare_customer_measures(prepared):
    c = prepared["segmentation_customers"].set_index("customer_id")
    # tenure: calendar months from opening month to 2026-10
    assert c["tenure_months"].tolist() == [81.0, 2.0, 139.0, 24.0, 0.0, 45.0]
    assert c.loc["C01", "aum"] == 50_000.0 and c.loc["C01", "aum_prev"] == 600_000.0
    assert c.loc["C02", "aum"] == 7_000_000.0 and c.loc["C08", "aum"] == 0.0
    assert pd.isna(c.loc["C04", "aum"]) and c.loc["C04", "aum_prev"] == 100_000.0
    assert pd.isna(c.loc["C05", "aum_prev"])
    assert c.loc["C01", "products_held"] == 3.0 and c.loc["C01", "products_held_prev"] == 4.0
    # 3-month averages: (600,000 + 600,000 + 50,000) / 3 against 600,000
    assert c.loc["C01", "aum_recent_3m"] == pytest.approx(1_250_000 / 3)
    assert c.loc["C01", "aum_earlier_3m"] == pytest.approx(600_000)
    assert pd.isna(c.loc["C02", "aum_earlier_3m"])
    # C01: 90 days = 2026-08-03..2026-10-31 -> 2; 12 months from 2025-11-01 -> 4 for 1,000
    assert (
        c.loc["C01", "txn_90d"],
        c.loc["C01", "frequency_12m"],
        c.loc["C01", "monetary_12m"],
    ) == (2.0, 4.0, 1_000.0)
    assert c.loc["C01", "recency_days"] == 0.0
    # last period: 2026-07-03..2026-09-30 holds 08-02 and 08-03; last one 58 days before 09-30
    assert c.loc["C01", "txn_90d_prev"] == 2.0 and c.loc["C01", "recency_days_prev"] == 58.0
    assert c.loc["C03", "recency_days"] == 320.0  # 16 days of Dec 2025 + 304 of 2026
    assert c.loc["C02", "txn_90d"] == 0.0 and pd.isna(c.loc["C02", "recency_days"])
    assert c.loc["C05", "recency_days"] == 25.0
    assert c["credit_grade"].tolist()[:3] == ["C", "no_credit", "D"]
    assert c.loc["C01", "credit_grade_prev"] == "A"


def test_prepare_bank_wide_ranks_and_rfm(prepared):
    c = prepared["segmentation_customers"].set_index("customer_id").drop("C04")  # C04 not open
    order = ["C01", "C02", "C03", "C05", "C08"]
    # AUM 50,000 / 7,000,000 / 499,999.99 / 1,000 / 0 -> ranks 3, 5, 4, 2, 1 of 5
    assert c.loc[order, "pct_aum"].tolist() == pytest.approx([60.0, 100.0, 80.0, 40.0, 20.0])
    # 90-day counts 2 / 0 / 0 / 1 / 0: three zeros share rank 2 -> 40
    assert c.loc[order, "pct_activity"].tolist() == pytest.approx([100.0, 40.0, 40.0, 80.0, 40.0])
    # worst loans outstanding: C01 substandard (its repaid loss loan is ignored), C03
    # doubtful; C02, C05, C08 have none -> points 25, 50, 12.5, 50, 50 (not ranked)
    five = c.loc[order, "five_class"]
    assert five.iloc[[0, 2]].tolist() == ["substandard", "doubtful"] and pd.isna(five.iloc[1])
    assert c.loc[order, "pct_credit"].tolist() == [25.0, 50.0, 12.5, 50.0, 50.0]
    assert pd.isna(
        prepared["segmentation_customers"].set_index("customer_id").loc["C04", "pct_aum"]
    )
    # RFM among C01 (0 days, 4, 1,000), C03 (320, 1, 50), C05 (25, 1, 10)
    assert c.loc[order, "r_score"].tolist() == [5.0, 1.0, 2.0, 4.0, 1.0]
    assert c.loc[order, "f_score"].tolist() == [5.0, 1.0, 3.0, 3.0, 1.0]
    assert c.loc[order, "m_score"].tolist() == [5.0, 1.0, 4.0, 2.0, 1.0]
    out = sg.classify(c.reset_index(), S).set_index("customer_id")
    # C01: .35*60 + .2*100 + .15*80 + .1*80 + .2*25 = 66 (products rank 4, tenure rank 4)
    assert out.loc["C01", "composite"] == pytest.approx(66.0)
    assert out.loc["C01", "lifecycle"] == "decline"  # 416,667 / 600,000 = 0.69
    assert out.loc["C02", "lifecycle"] == "new"
    assert out.loc["C08", "lifecycle"] == "dormant"  # no transactions, AUM 0


def test_prepare_clusters(prepared):
    clusters = prepared["bench_segmentation_clusters"]
    c = prepared["segmentation_customers"].set_index("customer_id")
    assert len(clusters) == 5 and clusters["customers"].sum() == 5  # five distinct customers
    assert c.loc["C02", "cluster"] == 1 and c.loc["C02", "cluster_label"] == "high_value_dormant"
    assert c.drop("C04")["cluster"].nunique() == 5 and pd.isna(c.loc["C04", "cluster"])
    again = sg.assign_clusters(prepared["segmentation_customers"], clusters)
    assert again.tolist()[:3] == c["cluster"].tolist()[:3]


def test_prepare_bench(prepared):
    b = prepared["bench_segmentation"].set_index(["branch_id", "period"])
    assert sorted(b.index) == [
        ("0101", "2026-09"),
        ("0101", "2026-10"),
        ("0102", "2026-09"),
        ("0102", "2026-10"),
    ]
    now = b.loc[("0101", "2026-10")]
    assert now["customers"] == 3.0 and now["aum_total"] == pytest.approx(7_549_999.99)
    assert now["top20_share"] == pytest.approx(7_000_000 / 7_549_999.99)
    assert now["active_share"] == pytest.approx(1 / 3)
    assert (now["high_value_customers"], now["dormant_high_value"]) == (1.0, 1.0)
    assert now["dormant_high_value_share"] == 1.0
    assert now["share_asset_tier_affluent"] == pytest.approx(2 / 3)  # 50,000 and 499,999.99
    assert now["share_customer_type_corporate"] == pytest.approx(1 / 3)
    assert now["aum_share_asset_tier_private"] == pytest.approx(7_000_000 / 7_549_999.99)
    before = b.loc[("0101", "2026-09")]
    # 600,000 wealth, 6,000,000 private (at the bound), 800,000 wealth; only C01 active
    assert before["aum_total"] == 7_400_000.0
    assert (before["high_value_customers"], before["dormant_high_value"]) == (3.0, 2.0)
    assert before["dormant_high_value_share"] == pytest.approx(2 / 3)
    assert pd.isna(before["share_level_5"])  # levels are known for the period only
    other = b.loc[("0102", "2026-10")]
    assert (
        other["customers"],
        other["aum_total"],
        other["top20_share"],
        other["active_share"],
    ) == (2.0, 1_000.0, 1.0, 0.5)
    assert b.loc[("0102", "2026-09"), "active_share"] == 0.0


def test_prepare_keeps_the_counts_a_share_card_is_pooled_from(prepared):
    b = prepared["bench_segmentation"].set_index(["branch_id", "period"])
    # C01 (R1 deposit, R4 fund for R2) and C03 (R1 for R1) hold products; C01 mismatched
    now = b.loc[("0101", "2026-10")]
    assert (now["suitability_holders"], now["suitability_mismatches"]) == (2.0, 1.0)
    assert now["suitability_mismatch_share"] == 0.5
    # C08's fund is not judged (no appetite): no holder in 0102
    assert b.loc[("0102", "2026-10"), "suitability_holders"] == 0.0
    assert b.loc[("0101", "2026-09"), "suitability_holders"] == 1.0  # C01's fund


def test_prepare_measures_the_top20_share_on_each_scopes_pooled_customers(prepared):
    m = prepared["bench_segmentation_scopes"].set_index(["scope", "period"])["top20_share"]
    assert sorted(m.index) == [
        (s, p) for s in ("bank", "region:East", "region:North") for p in ("2026-09", "2026-10")
    ]
    # October: 0101 (East) holds C01, C02, C03 (7,549,999.99, the largest 7,000,000); 0102
    # (North) C05 (1,000) and C08 (0); the bank's five customers: its top one, C02
    assert m[("region:East", "2026-10")] == pytest.approx(7_000_000 / 7_549_999.99)
    assert m[("region:North", "2026-10")] == 1.0
    assert m[("bank", "2026-10")] == pytest.approx(7_000_000 / 7_550_999.99)
    # September: East's 600,000, 6,000,000 and 800,000
    assert m[("region:East", "2026-09")] == pytest.approx(6_000_000 / 7_400_000)


def test_bridge_customers_reach_back_to_the_end_of_last_year(prepared):
    b = prepared["segmentation_bridge"].set_index("customer_id")
    # C07 closed at the end of September: lost since the start of the year, not this month
    assert b.loc["C07", ["open_now", "open_prev", "open_year"]].tolist() == [False, False, True]
    assert "C06" not in b.index  # never open at a month end
    assert b.loc["C05", ["open_now", "open_prev", "open_year"]].tolist() == [True, False, False]
    assert np.isnan(b.loc["C05", "aum_prev"]) and np.isnan(b.loc["C05", "aum_year"])
    c = prepared["segmentation_customers"].set_index("customer_id")
    both = c.index.intersection(b.index)
    pd.testing.assert_series_equal(b.loc[both, "aum"], c.loc[both, "aum"])
    pd.testing.assert_series_equal(b.loc[both, "aum_prev"], c.loc[both, "aum_prev"])
    pd.testing.assert_series_equal(b.loc[both, "deposits"], c.loc[both, "deposits"])
    assert (b["deposits_year"] <= b["aum_year"]).where(b["open_year"], True).all()


def test_tiers_read_the_average_daily_balance_where_the_warehouse_has_it():
    """C03 ends October at 499,999.99 (affluent) but averaged 520,000 over the month
    (wealth); C05, opened on the 5th with 1,000 at the month's end, averaged 300."""
    con = _warehouse()
    con.execute(
        "CREATE OR REPLACE VIEW balances AS SELECT *, "
        "CASE WHEN month = '2026-10' AND customer_id = 'C03' THEN 520000.0 "
        "     WHEN month = '2026-10' AND customer_id = 'C05' THEN 300.0 "
        "     ELSE deposits END AS deposits_avg, wealth AS wealth_avg FROM balances_df"
    )
    on_avg = sg.prepare(_ctx(con))
    c = on_avg["segmentation_customers"].set_index("customer_id")
    assert c.loc["C03", "aum"] == 520_000.0 and c.loc["C05", "aum"] == 300.0
    assert c.loc["C01", "aum"] == 50_000.0  # average = month end: unchanged
    tiers = sg.classify(on_avg["segmentation_customers"], S).set_index("customer_id")
    assert tiers.loc["C03", "asset_tier"] == "wealth"
    bridge = on_avg["segmentation_bridge"].set_index("customer_id")
    assert bridge.loc["C03", "aum"] == 520_000.0  # the bridge closes at the same AUM
    # the same warehouse on the month-end basis (balance_basis: month_end)
    on_end = sg.prepare(_ctx(con, S.model_copy(update={"balance_basis": "month_end"})))
    c = on_end["segmentation_customers"].set_index("customer_id")
    assert c.loc["C03", "aum"] == 499_999.99 and c.loc["C05", "aum"] == 1_000.0
    tiers = sg.classify(on_end["segmentation_customers"], S).set_index("customer_id")
    assert tiers.loc["C03", "asset_tier"] == "affluent"


def test_prepare_counts_the_holdings_above_appetite(prepared):
    c = prepared["segmentation_customers"].set_index("customer_id")
    assert c.loc[["C01", "C02", "C03", "C05", "C08"], "holdings"].tolist() == [2, 0, 1, 0, 0]
    assert math.isnan(c.loc["C04", "holdings"])  # closed at the period's end
    assert c.loc["C01", "mismatches"] == 1.0 and c.loc["C01", "mismatch_balance"] == 9_000.0
    assert c.loc["C04", "mismatches_prev"] == 1.0 and c.loc["C04", "mismatch_balance_prev"] == 700.0
    assert c.loc["C01", "holdings_prev"] == 1.0 and c.loc["C01", "mismatches_prev"] == 1.0
    assert c["mismatches"].fillna(0).sum() == 1.0
    assert c.loc["C01", ["holds_deposit", "holds_fund", "holds_wealth"]].tolist() == [1, 1, 0]
    assert c.loc["C08", "holds_fund"] == 1.0  # held whatever the appetite


def test_prepare_gives_the_age_in_whole_years_not_the_birth_date(prepared):
    c = prepared["segmentation_customers"].set_index("customer_id")
    assert c.loc["C01", "age"] == 36.0  # born 1990-10-31: 36 on 2026-10-31
    assert c.loc["C03", "age"] == 59.0  # 60 only on 2026-11-01
    assert math.isnan(c.loc["C02", "age"])
    assert c.loc["C03", "occupation"] == "retired" and pd.isna(c.loc["C03", "income_band"])
    assert "birth_date" not in c.columns
    listed = prepared["segmentation_suitability"]
    assert listed[["customer_id", "branch_id", "product_id", "risk_appetite", "balance"]].to_dict(
        "records"
    ) == [
        {
            "customer_id": "C01",
            "branch_id": "0101",
            "product_id": "F02",
            "risk_appetite": "R2",
            "balance": 9_000.0,
        }  # fmt: skip
    ]
