"""The card declarations, branch and bank KPIs, and the KPI cards."""

from __future__ import annotations

import math

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    NAN,
    PERIOD,
    SMALL,
    _branch,
    approx,
)


def test_prepare_bench_branch_kpis_match_kpis(prepared):
    bench = prepared["bench_branch_kpis"].set_index(["branch_id", "month"])
    b = bench.loc[("0101", PERIOD)]
    assert b["n_managers"] == 2 and b["n_rated"] == 2
    assert b["composite_mean"] == approx(50.0)  # (79.17 + 20.83) / 2
    assert b["targets_met_share"] == 0.5  # S1: 1 of 2 valid targets met; S2's target 0 ignored
    assert b["managed_aum_growth"] == approx(50 / 350)  # (220 + 180) - (150 + 200) over 350
    assert b["managed_npl_ratio"] == approx(800 / 1800)
    # S1's answers 5 and 3 on the bank's one scale: (100 + 60) / 2; S2 none in the window
    assert b["managed_csat"] == 80.0
    assert b["managed_closure_rate"] == approx(1 / 3)  # S1 1 of 2, S2 0 of 1
    sc, att = prepared["staff_scorecard"], prepared["staff_attainment"]
    mine = staff_kpi.kpis(
        sc[sc["branch_id"] == "0101"], att[att["branch_id"] == "0101"], month=PERIOD
    )
    assert mine == approx(b[list(staff_kpi.CARD_KEYS)].to_dict())
    grade = prepared["bench_grade"].set_index(["month", "grade"]).loc[(PERIOD, "professional")]
    assert grade["n_rated"] == 3 and grade["composite_median"] == approx(50.0)
    assert (grade["n_B"], grade["n_C"]) == (1, 2)


def test_prepare_keeps_the_sums_so_the_bank_pools_to_its_own_cards(prepared):
    """The bench's sums by hand for 0101, and the bank's value pooled from every
    branch's sums equal to the cards computed on all the bank's managers at once."""
    bench = prepared["bench_branch_kpis"]
    b = bench.set_index(["branch_id", "month"]).loc[("0101", PERIOD)]
    assert (b["aum"], b["aum_prev"]) == (400.0, 350.0)  # 220 + 180, 150 + 200
    assert (b["npl"], b["book"]) == (800.0, 1800.0)
    assert (b["met_n"], b["valid_n"]) == (1.0, 2.0)
    assert (b["csat_points"], b["n_surveys"]) == (160.0, 2.0)
    sc, att = prepared["staff_scorecard"], prepared["staff_attainment"]
    whole = staff_kpi.kpis(sc, att, month=PERIOD)
    assert staff_kpi.bank_values(bench, period=PERIOD) == approx(whole)


def test_kpi_cards_change_bank_median_and_status(prepared):
    d = _branch(prepared)
    cards = staff_kpi.kpi_cards(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["bench_branch_kpis"],
        branch_id="0101",
        period=PERIOD,
        prev_period="2026-09",
        status=SMALL.kpi_status,
    ).set_index("kpi")
    assert list(cards.index) == list(staff_kpi.CARD_KEYS)
    # AUM growth: Sep (150 + 200) vs Aug (130 + 0) = 220 / 130 = 1.6923; Oct 0.142857
    assert cards.loc["managed_aum_growth", "previous"] == approx(220 / 130)
    assert cards.loc["managed_aum_growth", "change"] == approx(50 / 350 - 220 / 130)
    # bank median of composite_mean over branches 0101 (50) and 0102 (50 - S3 alone)
    assert cards.loc["composite_mean", "bank_median"] == approx(50.0)
    assert cards.loc["managed_npl_ratio", "status"] == "red"  # 44% > 3%
    assert cards.loc["managed_csat", "status"] == "amber"  # 75 <= 80 < 85
    # rank among the two branches: 0102's S3 has no loans, so 0101 is alone on NPL
    assert cards.loc["composite_mean", "branches"] == 2.0
    assert cards.loc["targets_met_share", "status"] == "amber"  # 0.5 between 0.4 and 0.6


def test_an_empty_branch_gives_nan_kpis_and_empty_tables(prepared):
    d = {k: (v.iloc[0:0] if not k.startswith("bench_") else v) for k, v in prepared.items()}
    assert all(
        math.isnan(v)
        for v in staff_kpi.kpis(d["staff_scorecard"], d["staff_attainment"], month=PERIOD).values()
    )
    assert staff_kpi.manager_table(d["staff_scorecard"], month=PERIOD).empty
    assert staff_kpi.attainment_table(
        d["staff_attainment"], d["staff_scorecard"], month=PERIOD
    ).empty
    assert staff_kpi.rating_distribution(
        d["staff_scorecard"], month=PERIOD, shares=SMALL.rating_shares
    )["count"].tolist() == [0, 0, 0, 0]
    cards = staff_kpi.kpi_cards(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["bench_branch_kpis"],
        branch_id="0101",
        period=PERIOD,
        prev_period="2026-09",
        status=SMALL.kpi_status,
    )
    assert cards["status"].isna().all() and cards["bank_median"].notna().all()
    facts = staff_kpi.summary_facts(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["staff_funnel"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=0.05,
    )
    assert facts == [("staff_kpi.summary.no_rated", {"n_managers": 0})]


def test_cards_are_declared_once_in_the_catalogue_with_one_headline():
    from branchbook import metrics

    assert [m.key for m in metrics.of_report("staff_kpi")] == list(staff_kpi.CARD_KEYS)
    assert [m.key for m in staff_kpi.CARDS if m.headline] == ["composite_mean"]
    assert metrics.get("managed_npl_ratio").good == "low"
    # what the staff report measures is over managed books only: its own keys, so the
    # risk report's npl_ratio and the satisfaction report's churn_rate stay theirs
    assert not {"npl_ratio", "churn_rate", "csat_mean"} & set(staff_kpi.CARD_KEYS)
    assert {m.key: m.kind for m in staff_kpi.CARDS}["managed_closure_rate"] == "pct"
    for m in staff_kpi.CARDS:
        assert staff_kpi.DEFINITIONS[m.key] == m.definition_key


def test_each_card_is_its_declaration_over_pooled_sums():
    sums = pd.DataFrame(
        {
            "comp_sum": [150.0, 0.0],
            "comp_n": [3.0, 0.0],
            "met_n": [1.0, NAN],
            "valid_n": [4.0, NAN],
            "aum": [110.0, 0.0],
            "aum_prev": [100.0, 0.0],
            "npl": [3.0, 0.0],
            "book": [200.0, 0.0],
            "csat_points": [150.0, 0.0],
            "n_surveys": [2.0, 0.0],
            "churned": [1.0, 0.0],
            "churn_base": [8.0, 0.0],
        }
    )
    want = {
        "composite_mean": 50.0,  # 150 / 3
        "targets_met_share": 0.25,  # 1 of 4
        "managed_aum_growth": 0.1,  # (110 - 100) / 100
        "managed_npl_ratio": 0.015,  # 3 / 200
        "managed_csat": 75.0,  # 150 / 2
        "managed_closure_rate": 0.125,  # 1 / 8
    }
    for m in staff_kpi.CARDS:
        got = m.compute(sums)
        assert got.iloc[0] == approx(want[m.key]) and math.isnan(got.iloc[1]), m.key
