"""prepare() on a tiny warehouse: the bank-wide frames."""

from __future__ import annotations

import math

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    PERIOD,
    SMALL,
    _tables,
    approx,
    make_ctx,
)


def test_prepare_returns_the_documented_frames(prepared):
    assert set(prepared) == {
        "staff_scorecard",
        "staff_attainment",
        "staff_funnel",
        "bench_branch_kpis",
        "bench_grade",
        "bench_funnel",
        "bench_staff_history",
        "staff_bridge",
        "staff_originations",
    }
    for name, frame in prepared.items():
        if name.startswith("bench_"):
            assert "staff_id" not in frame.columns and "staff_name" not in frame.columns, name
        else:
            assert "branch_id" in frame.columns, name
    sc = prepared["staff_scorecard"]
    # S5 is inactive with no book: dropped; S4 has no customers: shown, not rated
    assert sorted(sc.loc[sc["month"] == PERIOD, "staff_id"]) == ["S1", "S2", "S3", "S4"]
    # the trend window (2 months) and last December, the cards' start of the year
    assert sorted(sc["month"].unique()) == ["2025-12", "2026-09", "2026-10"]


def test_commission_counts_a_loan_booked_at_another_branch(prepared):
    """S1 of 0101 originated L2 (booked at 0101) and L4 (for a customer of 0102, booked
    there) in October: both earn commission in 0101's report, where a branch's loans
    extract would have held L2 only."""
    o = prepared["staff_originations"]
    assert sorted(o["loan_id"]) == ["L2", "L4"]
    assert set(o["branch_id"]) == {"0101"} and set(o["manager_id"]) == {"S1"}
    sc = prepared["staff_scorecard"]
    pay = staff_kpi.pay_table(
        sc[sc["branch_id"] == "0101"],
        o[o["branch_id"] == "0101"],
        period=PERIOD,
        settings=SMALL.development,
        coefficients=SMALL.bonus_coefficients,
    ).set_index("staff_id")
    # 500 consumer x 0.2% + 2,000 business x 0.1%
    assert pay.loc["S1", "commission"] == approx(1.0 + 2.0)
    assert pay.loc["S2", "commission"] == 0.0


def test_prepare_kpis_per_manager(prepared):
    sc = prepared["staff_scorecard"]
    oct_ = sc[sc["month"] == PERIOD].set_index("staff_id")
    s1, s2, s3, s4 = (oct_.loc[s] for s in ("S1", "S2", "S3", "S4"))
    assert s1["n_customers"] == 2  # C1, C2 (C3 closed in September)
    assert s1["new_customers"] == 1  # C2 opened 5 Oct
    assert s1["net_new_aum"] == 70.0  # (150 + 50 + 20) - (100 + 50)
    assert s1["deposit_growth"] == 70.0  # (150 + 20) - 100
    assert s1["loan_growth"] == 0.0  # C1 1500 - 1500
    assert s1["products_per_customer"] == 1.5  # (2 + 1) / 2
    assert s1["npl_ratio"] == approx(1 / 3)  # L2 500 substandard / 1500
    assert s1["new_npl"] == 500.0  # L2 special mention in Sep -> substandard in Oct
    assert s1["new_npl_rate"] == approx(1 / 3)
    # R1 5 -> 100, R2 3 -> 60 (no manager on survey: customer's) on the bank's one scale
    assert s1["csat"] == 80.0
    assert s1["complaint_rate"] == 500.0  # 1 complaint / 2 customers x 1000
    assert s1["closure_rate"] == 0.5  # base C1, C3 open on 2025-11-01; C3 closed 2026-09-15
    assert s1["kyc_complete_rate"] == 0.5  # C1 complete, C2 incomplete
    assert s1["aml_open_rate"] == 0.0  # A2 is closed
    assert (
        s2["net_new_aum"] == -20.0 and s2["npl_ratio"] == 1.0 and s2["new_npl"] == 0.0
    )  # L3 NPL since Sep
    assert math.isnan(s2["csat"])  # R3 is in September, outside the 1-month window
    assert s2["aml_open_rate"] == 1000.0  # A1 open / 1 customer x 1000
    assert s3["net_new_aum"] == 20.0 and math.isnan(s3["npl_ratio"])  # no loans
    assert s4["n_customers"] == 0 and not s4["rated"] and math.isnan(s4["composite"])
    sep = sc[sc["month"] == "2026-09"].set_index("staff_id")
    assert sep.loc["S1", "net_new_aum"] == 20.0  # 150 - (100 + 30)
    assert sep.loc["S1", "loan_growth"] == 1500.0  # C1 1500 - 0 (C3 had none)
    assert oct_.loc["S2", "loan_growth"] == -50.0  # C4 250 - 300
    assert sep.loc["S2", "csat"] == 85.0  # R3: 4 -> 85


def test_prepare_scorecard_ranks_ratings_and_veto(prepared):
    sc = prepared["staff_scorecard"]
    oct_ = sc[sc["month"] == PERIOD].set_index("staff_id")
    # growth among professionals S1 70, S2 -20, S3 20 -> 83.33, 16.67, 50
    # npl (lower better) S1 1/3 -> 75, S2 1.0 -> 25, S3 none
    # composite S1 (83.33 + 75) / 2 = 79.17, S2 (16.67 + 25) / 2 = 20.83, S3 50 (growth only)
    assert oct_.loc[["S1", "S2", "S3"], "composite"].tolist() == approx(
        [79.166667, 20.833333, 50.0]
    )
    assert oct_.loc[["S1", "S2", "S3"], "rank_in_branch"].tolist() == [1.0, 2.0, 1.0]
    # n = 3: positions 0, 1/3, 2/3 -> S1 A, S3 B, S2 C; S1's NPL 33% > 5% caps A at C
    assert oct_.loc[["S1", "S2", "S3"], "rating_raw"].tolist() == ["A", "C", "B"]
    assert oct_.loc[["S1", "S2", "S3"], "rating"].tolist() == ["C", "C", "B"]
    assert oct_.loc[["S1", "S2", "S3"], "veto"].tolist() == [True, False, False]


def test_prepare_attainment_and_funnel(prepared):
    att = prepared["staff_attainment"].set_index(["staff_id", "kpi"])
    assert att.loc[("S1", "net_new_aum"), "attainment"] == 0.7  # 70 / 100
    assert att.loc[("S1", "new_customers"), "attainment"] == 1.0  # 1 / 1
    assert math.isnan(att.loc[("S2", "deposit_growth"), "attainment"])  # target 0
    assert att.loc[("S3", "products_per_customer"), "branch_id"] == "0102"
    fun = prepared["staff_funnel"].set_index(["metric", "staff_id"])
    # NPL: p0 = (500 + 300) / (1500 + 300) = 0.4444; S1 n = 1500^2 / (1000^2 + 500^2) = 1.8
    assert fun.loc[("npl_ratio", "S1"), "n"] == approx(1.8)
    assert fun.loc[("npl_ratio", "S1"), "p0"] == approx(4 / 9)
    assert ("npl_ratio", "S3") not in fun.index  # no loan book
    # churn: p0 = 1 / (2 + 1 + 1) = 0.25 (S1 base 2, S2 1, S3 1)
    assert fun.loc[("closure_rate", "S2"), "p0"] == 0.25
    assert fun.loc[("closure_rate", "S1"), "position"] == "within"  # 0.5 on n = 2 is noise
    bf = prepared["bench_funnel"].set_index("metric")
    assert bf.loc["closure_rate", "events"] == 1.0 and bf.loc["closure_rate", "n_total"] == 4.0


def test_prepare_with_default_settings_and_no_customers_for_a_branch():
    tables = _tables()
    out = staff_kpi.prepare(make_ctx(tables, staff_kpi.Settings()))
    sc = out["staff_scorecard"]
    assert sc["month"].nunique() == 12
    assert not sc["rated"].any()  # nobody holds the default 10 customers
    facts = staff_kpi.summary_facts(
        sc[sc["branch_id"] == "0102"],
        out["staff_attainment"],
        out["staff_funnel"],
        out["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=0.05,
    )
    assert facts[0][0] == "staff_kpi.summary.no_rated"


def test_prepare_judges_attainment_on_the_year_to_date_before_the_trend_window():
    tables = _tables()
    extra = pd.DataFrame(
        {"staff_id": ["S1"], "period": ["2026-08"], "kpi": ["net_new_aum"], "target": [100.0]}
    )
    tables["targets"] = pd.concat([tables["targets"], extra], ignore_index=True)
    out = staff_kpi.prepare(make_ctx(tables, SMALL))  # trend window: September, October
    att = out["staff_attainment"].set_index(["staff_id", "kpi", "month"])
    assert sorted(out["staff_attainment"]["month"].unique()) == ["2026-10"]
    aum = att.loc[("S1", "net_new_aum", PERIOD)]
    # S1's AUM: July 0, August C1 100 + C3 30 = 130, September 150, October 200 + C2 20 = 220;
    # August's target (outside the window) counts: (130 + 70) / (100 + 100); the month 70 / 100
    assert aum["attainment"] == approx(0.7)
    assert (aum["ytd_actual"], aum["ytd_target"]) == (200.0, 200.0)
    assert aum["ytd_attainment"] == 1.0 and aum["met"]


def test_compliance_figures_use_the_status_each_month_had():
    """With dated history, a past month's KYC completeness and open alerts are those of
    its end: A2 (C1, raised 2 Oct) closed on 3 November was open at the end of October;
    A1 (C4, raised 1 Sep) closed on 20 October was open in September only; C1's KYC
    expired on 1 October, so it was complete in September only."""
    t = _tables()
    t["aml_alerts"] = t["aml_alerts"].assign(
        status="closed",
        closed_on=[pd.Timestamp("2026-10-20").date(), pd.Timestamp("2026-11-03").date()],
    )
    t["kyc_history"] = pd.DataFrame(
        {
            "customer_id": ["C1", "C1", "C2", "C4"],
            "valid_from": pd.to_datetime(
                ["2020-01-01", "2026-10-01", "2026-10-05", "2020-01-01"]
            ).date,
            "kyc_status": ["complete", "expired", "incomplete", "complete"],
        }
    )
    out = staff_kpi.prepare(make_ctx(t, SMALL))
    assert out["bench_staff_history"].iloc[0].to_dict() == {
        "alerts_dated": True,
        "kyc_dated": True,
        "close_reasons": False,
        "undrawn": False,
        "collateral_dated": False,
    }
    sc = out["staff_scorecard"].set_index(["staff_id", "month"])
    assert sc.loc[("S1", "2026-10"), "aml_open_rate"] == 500.0  # A2 / 2 customers x 1000
    assert sc.loc[("S2", "2026-10"), "aml_open_rate"] == 0.0  # A1 closed on 20 Oct
    assert sc.loc[("S2", "2026-09"), "aml_open_rate"] == 1000.0
    assert sc.loc[("S1", "2026-10"), "kyc_complete_rate"] == 0.0  # C1 expired, C2 incomplete
    assert sc.loc[("S1", "2026-09"), "kyc_complete_rate"] == 1.0  # C1 (and C3) complete then
    # without the history: today's status for every month (the fixture's figures)
    base = staff_kpi.prepare(make_ctx(_tables(), SMALL))
    assert not base["bench_staff_history"].iloc[0].any()
    assert (
        base["staff_scorecard"]
        .set_index(["staff_id", "month"])
        .loc[("S2", "2026-10"), "aml_open_rate"]
        == 1000.0
    )


def test_staff_bridge_adds_up_to_the_scorecard(prepared):
    """Every manager's bridge ends at the scorecard's sums of the period and opens at
    last month's, and opening + parts = closing for every bridge."""
    from branchbook.stats import residual

    b = prepared["staff_bridge"]
    assert (residual(b).abs() < 1e-6).all()
    sc = prepared["staff_scorecard"].set_index(["staff_id", "month"])
    stocks = {"aum": "aum", "loans": "loans", "book": "book_outstanding", "npl": "npl_outstanding"}
    m = b[b["base"] == "month"]
    for stock, col in stocks.items():
        rows = m[m["stock"] == stock].set_index("staff_id")
        for staff, row in rows.iterrows():
            if (staff, PERIOD) in sc.index:
                assert row["closing"] == approx(sc.loc[(staff, PERIOD), col]), (stock, staff)
            if (staff, "2026-09") in sc.index:
                assert row["opening"] == approx(sc.loc[(staff, "2026-09"), col]), (stock, staff)


def test_managed_aum_reads_the_average_daily_balance_where_the_warehouse_has_it():
    """With deposits_avg / wealth_avg the managers' AUM, net new AUM, deposit growth and
    their bridges read the month's average daily balance; loans stay month end."""
    tables = _tables()
    bal = tables["balances"]
    # every average daily balance is 80% of its month end, by hand
    tables["balances"] = bal.assign(
        deposits_avg=bal["deposits"] * 0.8, wealth_avg=bal["wealth"] * 0.8
    )
    out = staff_kpi.prepare(make_ctx(tables, SMALL))
    oct_ = out["staff_scorecard"].set_index(["staff_id", "month"])
    assert oct_.loc[("S1", PERIOD), "net_new_aum"] == approx(0.8 * 70.0)
    assert oct_.loc[("S1", PERIOD), "deposit_growth"] == approx(0.8 * 70.0)
    assert oct_.loc[("S1", PERIOD), "loan_growth"] == 0.0  # loans: month end as before
    b = out["staff_bridge"]
    aum = b[(b["base"] == "month") & (b["stock"] == "aum")].set_index("staff_id")
    assert aum.loc["S1", "closing"] == approx(oct_.loc[("S1", PERIOD), "aum"])
    # the bank's month_end basis reads the month ends again
    on_end = staff_kpi.prepare(
        make_ctx(tables, SMALL.model_copy(update={"balance_basis": "month_end"}))
    )
    sc = on_end["staff_scorecard"].set_index(["staff_id", "month"])
    assert sc.loc[("S1", PERIOD), "net_new_aum"] == 70.0


def test_a_managers_book_is_the_customers_open_at_the_month_end():
    """The book is the customers open at the month's end, whatever the balance rows say:
    C7 (S2) closed on 20 October keeps a balance row for October and is out of S2's
    October book (its customers, AUM and products); C8 (S3), open all along, has no
    October balance row and is in S3's book at AUM 0. The segmentation report counts
    them so (its open customers), and the bridge closes at the book's AUM."""
    t = _tables()
    t["customers"] = pd.concat(
        [
            t["customers"],
            pd.DataFrame(
                {
                    "customer_id": ["C7", "C8"],
                    "branch_id": ["0101", "0102"],
                    "manager_id": ["S2", "S3"],
                    "customer_type": ["individual"] * 2,
                    "opened_on": [pd.Timestamp("2020-01-01").date()] * 2,
                    "closed_on": [pd.Timestamp("2026-10-20").date(), None],
                    "kyc_status": ["complete"] * 2,
                }
            ),
        ],
        ignore_index=True,
    )
    rows = [("C7", "2026-09", 40.0), ("C7", "2026-10", 500.0), ("C8", "2026-09", 10.0)]
    extra = pd.DataFrame(rows, columns=["customer_id", "month", "deposits"])
    extra = extra.assign(wealth=0.0, products_held=1, loans_outstanding=0.0)
    t["balances"] = pd.concat([t["balances"], extra], ignore_index=True)
    out = staff_kpi.prepare(make_ctx(t, SMALL))
    sc = out["staff_scorecard"].set_index(["staff_id", "month"])
    s2, s3 = sc.loc[("S2", PERIOD)], sc.loc[("S3", PERIOD)]
    assert s2["n_customers"] == 1  # C4; C7 closed on 20 October
    assert s2["aum"] == 180.0 and s2["products_held"] == 3  # C4's
    assert s2["net_new_aum"] == 180.0 - (200.0 + 40.0)  # C7 left the book in October
    assert sc.loc[("S2", "2026-09"), "n_customers"] == 2  # C4, C7
    assert s3["n_customers"] == 2  # C5 and C8, without a balance row
    assert s3["aum"] == 70.0 and s3["products_per_customer"] == 0.5
    b = out["staff_bridge"]
    aum = b[(b["base"] == "month") & (b["stock"] == "aum")].set_index("staff_id")
    assert aum.loc["S2", "closing"] == approx(s2["aum"])
    assert aum.loc["S2", "opening"] == approx(240.0)
