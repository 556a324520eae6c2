"""Tests of the satisfaction report's library: hand-computed values on tiny frames."""

from __future__ import annotations

import math
import types
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from branchbook import privacy
from branchbook import satisfaction as sat
from branchbook.params import Rag
from branchbook.satisfaction import Settings

PERIOD = "2026-10"
Z95 = 1.959963984540054  # norm.ppf(0.975)


# --------------------------------------------------------------------------- helpers


def responses(rows, month=PERIOD, branch="A"):
    """Survey responses from (csat, nps) pairs; attributes empty."""
    out = pd.DataFrame(rows, columns=["csat", "nps"])
    out.insert(0, "response_id", [f"R{i}" for i in range(len(out))])
    return out.assign(
        branch_id=branch,
        customer_id=[f"C{i}" for i in range(len(out))],
        month=month,
        channel="counter",
        tier="mass",
        **{a: np.nan for a in sat.ATTRIBUTES},
    )


def monthly(rows):
    """A monthly sums frame; missing count columns are 0."""
    frame = pd.DataFrame(rows)
    for col in sat.MONTHLY_COLUMNS:
        if col not in frame:
            frame[col] = 0
    return frame[list(sat.MONTHLY_COLUMNS)]


def ts(text):
    return pd.Timestamp(text) if text else pd.NaT


def complaints(rows):
    cols = ["complaint_id", "customer_id", "branch_id", "received_at", "first_response_at", "plan_at",
            "resolved_at", "category", "channel", "severity"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("received_at", "first_response_at", "plan_at", "resolved_at"):
        frame[c] = pd.to_datetime(frame[c].map(ts))
    return frame


CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4", "C5"],
        "branch_id": "A",
        "name": ["张三丰", "李四", "王五", "赵六", "Acme Ltd"],
        "opened_on": pd.to_datetime(
            ["2020-01-01", "2021-05-01", "2022-01-01", "2026-11-02", "2019-03-01"]
        ),
        "closed_on": pd.to_datetime([None, None, "2026-10-15", None, "2026-10-31"]),
    }
)


# --------------------------------------------------------------------------- settings


def test_settings_defaults_are_valid_and_accept_whole_numbers():
    s = Settings()
    assert s.first_response_hours == 24.0 and s.plan_hours == 72.0
    assert s.band_bounds == [60.0, 85.0]
    s2 = Settings.model_validate({"plan_hours": 48, "tier_bounds": [10_000, 100_000, 1_000_000]})
    assert s2.plan_hours == 48.0 and s2.tier_bounds == [10_000.0, 100_000.0, 1_000_000.0]
    # what the runner injects (a JSON dump) validates back to the same settings
    assert Settings.model_validate(s.model_dump(mode="json")) == s


@pytest.mark.parametrize(
    "bad",
    [
        {"tier_bounds": [500_000.0, 50_000.0, 6_000_000.0]},
        {"tier_bounds": [50_000.0, 500_000.0]},
        {"band_bounds": [85.0, 60.0]},
        {"band_bounds": [0.0, 60.0]},
        {"backlog_age_days": [30, 7]},
        {"first_response_hours": 0.0},
        {"fdr": 0.9},
        {"score_window_months": "3"},
        {"kpi_status": {"nps": {"good": "high", "green": 10.0, "amber": 30.0}}},
        {"kpi_status": {"speed": {"good": "high", "green": 1.0, "amber": 0.0}}},
        {"unknown_key": 1},
    ],
)
def test_settings_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        Settings.model_validate(bad)


def test_rag_status_both_directions():
    assert sat.Rag is Rag  # the shared thresholds type, as the page's cards expect
    high = sat.Rag(good="high", green=30.0, amber=10.0)
    assert [high.status(v) for v in (30.0, 29.9, 10.0, 9.9)] == ["green", "amber", "amber", "red"]
    low = sat.Rag(good="low", green=0.01, amber=0.02)
    assert [low.status(v) for v in (0.01, 0.015, 0.02, 0.03)] == ["green", "amber", "amber", "red"]
    assert high.status(math.nan) == "none"
    assert sat.rag_status(5.0, {"good": "high", "green": 4, "amber": 2}) == "green"


# --------------------------------------------------------------------------- scores


def test_csat_on_0_100_and_tiers_and_bands():
    assert sat.csat_100(pd.Series([1, 2, 3, 4, 5])).tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    tiers = sat.asset_tier(pd.Series([0.0, 49_999.99, 50_000.0, 500_000.0, 6_000_000.0, np.nan]),
                           bounds=[50_000.0, 500_000.0, 6_000_000.0])  # fmt: skip
    assert tiers.tolist() == ["mass", "mass", "affluent", "wealth", "private", "mass"]
    bands = sat.satisfaction_band(
        pd.Series([59.9, 60.0, 84.9, 85.0, 100.0, np.nan]), bounds=[60.0, 85.0]
    )
    assert bands.tolist()[:5] == ["low", "mid", "mid", "high", "high"]
    assert pd.isna(bands.iloc[5])


def test_scores_csat_both_ways_and_nps():
    # csat 5,4,3,1 -> 100,75,50,0 -> mean 56.25; top-2-box 2/4 = 0.5
    # nps 10,9 promoters, 6 detractor, 8 passive -> (2 - 1) / 4 * 100 = 25
    r = responses([(5, 10), (4, 9), (3, 6), (1, 8)])
    out = sat.scores_by(r, by=None, period=PERIOD, window_months=1)
    row = out.iloc[0]
    assert row["group"] == "all" and row["responses"] == 4
    assert row["csat_mean"] == pytest.approx(56.25)
    assert row["csat_top2"] == pytest.approx(0.5)
    assert row["nps"] == pytest.approx(25.0)
    # Wilson 2/4: centre (0.5 + z^2/8) / (1 + z^2/4) = 0.5; half 0.349961
    assert row["csat_top2_low"] == pytest.approx(0.150039, abs=1e-6)
    assert row["csat_top2_high"] == pytest.approx(0.849961, abs=1e-6)


def test_csat_mean_t_interval_clipped_to_scale():
    # csat 3,4,4,5 -> 50,75,75,100: mean 75, sd = sqrt(1250/3) = 20.412, se = 10.206
    # t(0.975, 3) = 3.182446 -> 75 - 32.4807 = 42.5193; 75 + 32.48 = 107.48 -> clipped to 100
    out = sat.scores_by(
        responses([(3, 9), (4, 9), (4, 9), (5, 9)]), by=None, period=PERIOD, window_months=1
    )
    assert out["csat_mean_low"].iloc[0] == pytest.approx(42.519293, abs=1e-5)
    assert out["csat_mean_high"].iloc[0] == 100.0
    assert out["nps"].iloc[0] == 100.0


def test_wilson_interval_textbook_value():
    # 8 of 10: Wilson 95% = 0.4902 .. 0.9433
    lo, hi = sat.wilson_interval(8, 10)
    assert lo == pytest.approx(0.490162, abs=1e-6) and hi == pytest.approx(0.943318, abs=1e-6)
    lo, hi = sat.wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    lo, hi = sat.wilson_interval(0, 5)  # no success: lower bound exactly 0
    assert lo == pytest.approx(0.0) and 0 < hi < 1


def test_nps_interval():
    # 50 promoters, 20 detractors of 100: NPS 30; var = (0.5 + 0.2 - 0.3^2) / 100 = 0.0061
    # se = 0.078102 -> 7.8102 points; half = 1.959964 * 7.8102 = 15.3078
    nps, lo, hi = sat.nps_interval(50, 20, 100)
    assert nps == pytest.approx(30.0)
    assert lo == pytest.approx(14.692192, abs=1e-5) and hi == pytest.approx(45.307808, abs=1e-5)
    nps, lo, hi = sat.nps_interval(0, 0, 0)
    assert math.isnan(nps) and math.isnan(lo)
    nps, lo, hi = sat.nps_interval(4, 0, 4)  # all promoters: +100, interval collapses
    assert (nps, lo, hi) == (100.0, 100.0, 100.0)


def test_scores_by_channel_and_tier_with_suppression():
    r = responses([(5, 10), (4, 9), (2, 3)]).assign(
        channel=["mobile", "mobile", "counter"], tier=["mass", "wealth", "wealth"]
    )
    by_tier = sat.scores_by(r, by="tier", period=PERIOD, window_months=1, min_responses=2)
    assert by_tier["group"].tolist() == ["mass", "affluent", "wealth", "private", "all"]
    assert by_tier["responses"].tolist() == [1, 0, 2, 0, 3]
    # mass (1 response) and the empty tiers are suppressed below 2 responses
    assert by_tier["suppressed"].tolist() == [True, True, False, True, False]
    assert math.isnan(by_tier["csat_mean"].iloc[0])
    # wealth: csat 4, 2 -> 75, 25 -> mean 50; nps 9, 3 -> (1 - 1) / 2 = 0
    assert by_tier["csat_mean"].iloc[2] == pytest.approx(50.0)
    assert by_tier["nps"].iloc[2] == pytest.approx(0.0)
    by_channel = sat.scores_by(r, by="channel", period=PERIOD, window_months=1)
    assert by_channel["group"].tolist() == ["counter", "mobile", "all"]
    assert by_channel["csat_top2"].tolist() == pytest.approx([0.0, 1.0, 2 / 3])


def test_scores_vs_bank_adds_the_whole_bank_per_group():
    own = sat.scores_by(responses([(5, 10), (3, 5)]), by="channel", period=PERIOD, window_months=1)
    bank = pd.concat(
        [
            pd.DataFrame({"group": ["counter", "all"], "csat_mean": [60.0, 55.0],
                          "csat_top2": [0.5, 0.4], "nps": [10.0, 5.0]}).assign(dimension="channel"),
            pd.DataFrame({"group": ["counter"], "csat_mean": [1.0], "csat_top2": [0.0],
                          "nps": [0.0]}).assign(dimension="tier"),
        ]
    )  # fmt: skip
    out = sat.scores_vs_bank(own, bank, dimension="channel").set_index("group")
    assert out.at["counter", "csat_mean"] == 75.0  # (100 + 50) / 2
    assert out.at["counter", "bank_all_csat_mean"] == 60.0 and out.at["all", "bank_all_nps"] == 5.0
    none = sat.scores_vs_bank(own, bank.iloc[0:0], dimension="channel")
    assert none["bank_all_csat_mean"].isna().all() and len(none) == len(own)


def test_cohort_months_end_a_full_horizon_before_the_period():
    assert sat.cohort_months("2026-10", horizon_months=6, cohort_months=12) == (
        "2025-05",
        "2026-04",
    )
    assert sat.cohort_months("2026-10", horizon_months=2, cohort_months=1) == ("2026-08", "2026-08")


def test_scores_window_excludes_older_and_later_months():
    r = pd.concat(
        [responses([(5, 10)], month="2026-08"), responses([(1, 0)], month="2026-09"),
         responses([(3, 7)], month="2026-11")]
    )  # fmt: skip
    out = sat.scores_by(r, by=None, period=PERIOD, window_months=2)  # Sep and Oct only
    assert out["responses"].iloc[0] == 1 and out["csat_mean"].iloc[0] == 0.0


def test_branch_with_no_surveys():
    empty = responses([]).iloc[0:0]
    out = sat.scores_by(empty, by="channel", period=PERIOD, window_months=3)
    assert out["group"].tolist() == ["all"] and out["responses"].tolist() == [0]
    assert math.isnan(out["csat_mean"].iloc[0]) and math.isnan(out["nps"].iloc[0])
    d = sat.drivers(empty, period=PERIOD, window_months=12, min_responses=100)
    assert d.status == "too_few" and d.responses == 0 and d.action is None
    assert d.table["attribute"].tolist() == list(sat.ATTRIBUTES)


# --------------------------------------------------------------------------- BH and tests


def test_bh_adjust_small_list():
    # sorted p: 0.01, 0.03, 0.04, 0.20 (m = 4) -> 0.01*4/1 = 0.04, 0.03*4/2 = 0.06,
    # 0.04*4/3 = 0.05333, 0.20*4/4 = 0.20; running minimum from the top: 0.04, 0.05333, 0.05333, 0.20
    q = sat.bh_adjust([0.01, np.nan, 0.04, 0.03, 0.20])
    assert q[0] == pytest.approx(0.04)
    assert math.isnan(q[1])
    assert q[2] == pytest.approx(0.053333, abs=1e-6) and q[3] == pytest.approx(0.053333, abs=1e-6)
    assert q[4] == pytest.approx(0.20)
    assert np.isnan(sat.bh_adjust([np.nan])).all() and len(sat.bh_adjust([])) == 0
    # the same as statsmodels' implementation
    from statsmodels.stats.multitest import multipletests

    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]
    assert sat.bh_adjust(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])


def _three_branches():
    # A: mean 80 sd 20, top2 90/100, P 50 D 20; B and C: mean 70 sd 20, top2 75/100, P 30 D 30
    # csat_sumsq = (n - 1) * sd^2 + n * mean^2: A 99*400 + 100*6400 = 679600; B, C 529600
    base = {"month": PERIOD, "responses": 100, "csat_n": 100, "nps_n": 100}
    return monthly(
        [
            {**base, "branch_id": "A", "csat_sum": 8000.0, "csat_sumsq": 679600.0, "top2": 90,
             "promoters": 50, "detractors": 20},
            {**base, "branch_id": "B", "csat_sum": 7000.0, "csat_sumsq": 529600.0, "top2": 75,
             "promoters": 30, "detractors": 30},
            {**base, "branch_id": "C", "csat_sum": 7000.0, "csat_sumsq": 529600.0, "top2": 75,
             "promoters": 30, "detractors": 30},
        ]
    )  # fmt: skip


def test_branch_tests_against_rest_of_bank_with_bh():
    t = sat.branch_tests(_three_branches(), period=PERIOD, window_months=1, min_responses=30)
    top2 = t[t["metric"] == "csat_top2"].set_index("branch_id")
    # A vs rest (B+C): 0.90 vs 150/200 = 0.75, pooled 240/300 = 0.8,
    # se = sqrt(0.8*0.2*(1/100 + 1/200)) = 0.0489898, z = 0.15 / se = 3.061862, p = 0.0021996
    assert top2.at["A", "p_value"] == pytest.approx(0.0021996, abs=1e-6)
    # B vs rest (A+C): 0.75 vs 165/200 = 0.825, pooled 0.8, z = -0.075/0.0489898 = -1.530931, p = 0.125786
    assert top2.at["B", "p_value"] == pytest.approx(0.125786, abs=1e-5)
    # BH over 3: A 0.0022*3 = 0.0066; B, C 0.125786*3/3 = 0.125786
    assert top2.at["A", "q_value"] == pytest.approx(0.0065989, abs=1e-6)
    assert top2.at["C", "q_value"] == pytest.approx(0.125786, abs=1e-5)
    assert top2.at["A", "direction"] == "above" and bool(top2.at["A", "significant"])
    assert top2.at["B", "direction"] == "in_line" and not bool(top2.at["B", "significant"])
    # Wilson interval of A's top-2-box and the whole bank's value 240/300
    assert top2.at["A", "ci_low"] == pytest.approx(sat.wilson_interval(90, 100)[0])
    assert top2.at["A", "bank_value"] == pytest.approx(0.8)
    nps = t[t["metric"] == "nps"].set_index("branch_id")
    # A: NPS 30, var 61 (points^2); rest P 60 D 60 of 200: NPS 0, var (0.6 - 0)/200 * 1e4 = 30
    # z = 30 / sqrt(91) = 3.144855 -> p = 0.0016618
    assert nps.at["A", "value"] == pytest.approx(30.0)
    assert nps.at["A", "rest_value"] == pytest.approx(0.0)
    assert nps.at["A", "p_value"] == pytest.approx(0.0016618, abs=1e-6)
    mean = t[t["metric"] == "csat_mean"].set_index("branch_id")
    # A: 80 (sd 20, n 100) vs rest 70 (sd sqrt(79200/199) = 19.9499, n 200): Welch
    from scipy import stats

    expected = stats.ttest_ind_from_stats(
        80, 20, 100, 70, math.sqrt(79200 / 199), 200, equal_var=False
    )
    assert mean.at["A", "p_value"] == pytest.approx(expected.pvalue)
    assert mean.at["A", "diff"] == pytest.approx(10.0)
    assert sat.branch_vs_bank(t, branch_id="A")["metric"].tolist() == [
        "csat_mean",
        "csat_top2",
        "nps",
    ]


def test_in_points_puts_the_share_on_0_100():
    t = sat.branch_vs_bank(sat.branch_tests(_three_branches(), period=PERIOD, window_months=1),
                           branch_id="A")  # fmt: skip
    p = sat.in_points(t).set_index("metric")
    raw = t.set_index("metric")
    for col in ("value", "ci_low", "ci_high", "rest_value", "diff"):
        assert p.at["csat_top2", col] == pytest.approx(raw.at["csat_top2", col] * 100)
        assert p.at["nps", col] == raw.at["nps", col]
    assert p.at["csat_top2", "p_value"] == raw.at["csat_top2", "p_value"]


def test_branch_tests_skip_small_branches():
    t = sat.branch_tests(_three_branches(), period=PERIOD, window_months=1, min_responses=101)
    assert t["p_value"].isna().all() and not t["significant"].any()
    assert sat.branch_tests(monthly([]), period=PERIOD, window_months=1).empty


# --------------------------------------------------------------------------- monthly KPIs


def _one_branch_months():
    return monthly(
        [
            # Aug: csat 5, 4 -> 100 + 75; nps 10, 8 -> 1 promoter
            {"branch_id": "A", "month": "2026-08", "responses": 2, "csat_n": 2, "csat_sum": 175.0,
             "csat_sumsq": 15625.0, "top2": 2, "nps_n": 2, "promoters": 1},
            # Sep: csat 3, 1 -> 50 + 0; nps 5, 2 -> 2 detractors
            {"branch_id": "A", "month": "2026-09", "responses": 2, "csat_n": 2, "csat_sum": 50.0,
             "csat_sumsq": 2500.0, "nps_n": 2, "detractors": 2, "complaints": 1, "customers": 2000,
             "fr_assessed": 1, "fr_met": 1, "at_risk": 1000, "churned": 10},
            # Oct: no survey; 3 complaints of 2000 customers, 1 of 2 assessed met; 15 of 1000 churned
            {"branch_id": "A", "month": "2026-10", "complaints": 3, "customers": 2000,
             "fr_assessed": 2, "fr_met": 1, "plan_assessed": 0, "at_risk": 1000, "churned": 15},
        ]
    )  # fmt: skip


def test_kpis_over_a_rolling_window():
    m = _one_branch_months()
    now = sat.kpis(m, period=PERIOD, window_months=2, branch_id="A")
    # Sep + Oct window: csat 50, 0 -> mean 25, top2 0, nps (0 - 2)/2 = -100
    assert now["csat_mean"] == pytest.approx(25.0)
    assert now["csat_top2"] == 0.0 and now["nps"] == pytest.approx(-100.0)
    assert now["complaints_per_1000"] == pytest.approx(1.5)  # 3 / 2000 * 1000
    assert now["sla_first_response"] == pytest.approx(0.5)  # 1 / 2
    assert now["churn_rate"] == pytest.approx(0.015)  # 15 / 1000
    prev = sat.kpis(m, period="2026-09", window_months=2, branch_id="A")
    # Aug + Sep: (175 + 50) / 4 = 56.25, top2 2/4, nps (1 - 2)/4 = -25
    assert prev["csat_mean"] == pytest.approx(56.25) and prev["csat_top2"] == pytest.approx(0.5)
    assert prev["nps"] == pytest.approx(-25.0)
    first = sat.kpis(m, period="2026-08", window_months=2, branch_id="A")
    assert math.isnan(first["csat_mean"])  # the window needs two months
    missing = sat.kpis(m, period="2027-01", window_months=2, branch_id="A")
    assert all(math.isnan(v) for v in missing.values())


def test_kpis_zero_denominators_are_nan():
    m = monthly([{"branch_id": "A", "month": PERIOD}])
    k = sat.kpis(m, period=PERIOD, window_months=1, branch_id="A")
    assert all(math.isnan(v) for v in k.values())


def test_kpi_table_bank_median_rank_and_status():
    m = monthly(
        [
            {"branch_id": "A", "month": "2026-09", "at_risk": 100, "churned": 3},
            {"branch_id": "A", "month": PERIOD, "at_risk": 100, "churned": 1},
            {"branch_id": "B", "month": PERIOD, "at_risk": 100, "churned": 3},
            {"branch_id": "C", "month": PERIOD, "at_risk": 100, "churned": 2},
        ]
    )
    t = sat.kpi_table(m, branch_id="A", period=PERIOD, prev_period="2026-09", window_months=1,
                      kpi_status=Settings().kpi_status).set_index("kpi")  # fmt: skip
    churn = t.loc["churn_rate"]
    # A 0.01, B 0.03, C 0.02 -> median 0.02; low is good: A first of 3; 0.01 <= green 0.01
    assert churn["value"] == pytest.approx(0.01) and churn["bank_median"] == pytest.approx(0.02)
    assert churn["rank"] == 1 and churn["ranked"] == 3 and churn["status"] == "green"
    assert churn["previous"] == pytest.approx(0.03) and churn["change"] == pytest.approx(-0.02)
    assert pd.isna(t.loc["nps", "status"]) and t.loc["nps", "ranked"] == 0


def test_trend_has_twelve_months_and_bank_median():
    rows = [{"branch_id": b, "month": sat.shift_month(PERIOD, -k), "at_risk": 100, "churned": c}
            for k in range(14) for b, c in (("A", 1), ("B", 3), ("C", 4))]  # fmt: skip
    tr = sat.trend(monthly(rows), branch_id="A", period=PERIOD, window_months=3)
    assert len(tr) == 12 and tr["month"].iloc[0] == "2025-11" and tr["month"].iloc[-1] == PERIOD
    assert tr["churn_rate"].tolist() == pytest.approx([0.01] * 12)
    assert tr["bank_churn_rate"].tolist() == pytest.approx([0.03] * 12)
    bank = sat.trend(monthly(rows), branch_id=None, period=PERIOD, window_months=3)
    assert bank["churn_rate"].iloc[-1] == pytest.approx(8 / 300)  # all branches summed


# --------------------------------------------------------------------------- drivers


def _simulated_survey(n=1500, seed=7):
    """Responses whose CSAT follows an ordered logit with planted effects."""
    rng = np.random.default_rng(seed)
    planted = {"attitude": 1.2, "wait_time": 0.9, "professionalism": 0.6, "explanation": 0.35,
               "environment": 0.15, "digital": 0.0}  # fmt: skip
    common = rng.normal(size=n)  # ratings are correlated, as in real surveys
    ratings = {}
    for attr in sat.ATTRIBUTES:
        centre = 2.4 if attr == "attitude" else 3.5  # attitude rated poorly
        ratings[attr] = np.clip(np.round(centre + 0.6 * common + rng.normal(size=n)), 1, 5)
    latent = sum(planted[a] * (ratings[a] - 3) for a in sat.ATTRIBUTES) + rng.logistic(size=n)
    csat = np.digitize(latent, [-2.5, -1.0, 0.5, 2.0]) + 1
    frame = pd.DataFrame(ratings).assign(csat=csat, nps=np.clip(csat * 2, 0, 10), month=PERIOD)
    # digital is skipped by 30% of respondents, wait time by 10%
    frame.loc[rng.random(n) < 0.3, "digital"] = np.nan
    frame.loc[rng.random(n) < 0.1, "wait_time"] = np.nan
    return frame, planted


def test_drivers_rank_planted_effects():
    frame, planted = _simulated_survey()
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    assert d.status == "fitted" and d.responses == 1500  # nobody dropped for a missing rating
    t = d.table.set_index("attribute")
    ranked = t["coef"].sort_values(ascending=False).index.tolist()
    assert ranked == sorted(planted, key=planted.get, reverse=True)
    assert t.at["digital", "missing"] == int(frame["digital"].isna().sum())
    assert t.at["digital", "rated"] + t.at["digital", "missing"] == 1500
    # attitude: the most important and the worst rated -> the quadrant to act on
    assert t.at["attitude", "quadrant"] == "improve" and d.action == "attitude"
    assert t.at["attitude", "performance"] == pytest.approx(frame["attitude"].mean())
    assert t.at["attitude", "odds_ratio"] == pytest.approx(math.exp(t.at["attitude", "coef"]))
    assert t.at["attitude", "ci_low"] < t.at["attitude", "coef"] < t.at["attitude", "ci_high"]


def test_ipa_points_and_quadrant_lines():
    frame, _ = _simulated_survey()
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    t = d.table.set_index("attribute")
    # the quadrant lines are the means over the fitted attributes
    assert d.importance_cut == pytest.approx(t["coef"].mean())
    assert d.performance_cut == pytest.approx(t["performance"].mean())
    pts = sat.ipa_points(d)
    assert pts["attribute"].tolist() == list(sat.ATTRIBUTES)
    assert pts.loc[pts["action"], "attribute"].tolist() == ["attitude"]
    upper_left = (pts["coef"] >= d.importance_cut) & (pts["performance"] < d.performance_cut)
    assert (pts["action"] == upper_left).all()
    # nothing fitted: no points, no lines
    few = sat.drivers(frame.iloc[:50], period=PERIOD, window_months=12, min_responses=100)
    assert sat.ipa_points(few).empty and math.isnan(few.importance_cut)
    assert math.isnan(few.performance_cut)


def test_drivers_below_minimum_say_so_and_one_level_is_no_variation():
    frame, _ = _simulated_survey(n=60)
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    assert d.status == "too_few" and d.responses == 60 and d.min_responses == 100
    assert d.table["coef"].isna().all() and d.table["performance"].notna().all()
    flat = frame.assign(csat=4)
    assert (
        sat.drivers(flat, period=PERIOD, window_months=12, min_responses=20).status
        == "no_variation"
    )


def test_drivers_leave_out_an_attribute_nobody_rated():
    frame, _ = _simulated_survey(n=400)
    d = sat.drivers(
        frame.assign(digital=np.nan), period=PERIOD, window_months=12, min_responses=100
    )
    t = d.table.set_index("attribute")
    assert (
        d.status == "fitted"
        and math.isnan(t.at["digital", "coef"])
        and t.at["digital", "rated"] == 0
    )
    assert pd.isna(t.at["digital", "quadrant"]) and t["coef"].drop("digital").notna().all()


# --------------------------------------------------------------------------- complaints


OCT = {"period_start": date(2026, 10, 1), "period_end": date(2026, 10, 31)}


def _sla_complaints():
    return complaints(
        [
            # exactly 24 h to first response and exactly 72 h to the plan: both met
            ("K1", "C1", "A", "2026-10-05 09:00", "2026-10-06 09:00", "2026-10-08 09:00", "2026-10-09", "service", "counter", "low"),
            # one second late on both
            ("K2", "C2", "A", "2026-10-05 09:00", "2026-10-06 09:00:01", "2026-10-08 09:00:01", None, "product", "phone", "high"),
            # no response yet, 12 h old at the period's end: pending on both
            ("K3", "C2", "A", "2026-10-31 12:00", None, None, None, "product", "online", "medium"),
            # no response, 50 h old: first response breached, plan still pending
            ("K4", "C1", "A", "2026-10-29 22:00", None, None, None, "policy", "phone", "low"),
            # responded after the period's end: as at 31 Oct it had no response -> breached
            ("K5", "C5", "A", "2026-10-02 08:00", "2026-11-03 08:00", "2026-11-03 08:00", None, "process", "counter", "medium"),
            # September: not in October's figures
            ("K6", "C1", "A", "2026-09-30 23:59", "2026-10-01 01:00", "2026-10-01 02:00", "2026-10-02", "service", "counter", "low"),
        ]
    )  # fmt: skip


def test_sla_compliance_at_24h_and_72h_inclusive():
    out = sat.sla_compliance(_sla_complaints(), **OCT, first_response_hours=24.0, plan_hours=72.0)
    out = out.set_index("sla")
    fr = out.loc["first_response"]
    # met: K1; breached: K2 (24 h + 1 s), K4 (50 h, none), K5 (none by 31 Oct); pending: K3
    assert (fr["received"], fr["met"], fr["breached"], fr["pending"]) == (5, 1, 3, 1)
    assert fr["compliance"] == pytest.approx(0.25)
    plan = out.loc["plan"]
    # met: K1 (72 h exactly); breached: K2, K5; pending: K3 (12 h), K4 (50 h < 72 h)
    assert (plan["met"], plan["breached"], plan["pending"]) == (1, 2, 2)
    assert plan["compliance"] == pytest.approx(1 / 3)


def test_monthly_complaints_match_sla_compliance():
    c = _sla_complaints()
    m = sat._monthly_complaints(c, first_response_hours=24.0, plan_hours=72.0).set_index("month")
    fr = sat.sla_compliance(c, **OCT, first_response_hours=24.0, plan_hours=72.0).set_index("sla")
    assert m.at[PERIOD, "complaints"] == 5
    assert (
        m.at[PERIOD, "fr_met"] / m.at[PERIOD, "fr_assessed"]
        == fr.at["first_response", "compliance"]
    )
    assert m.at[PERIOD, "plan_met"] / m.at[PERIOD, "plan_assessed"] == fr.at["plan", "compliance"]
    # September's complaint is judged as at 30 Sep 24:00, when it was 1 minute old with no
    # response yet: pending, so not assessed (its response 1 h later counts in no month)
    assert m.at["2026-09", "complaints"] == 1 and m.at["2026-09", "fr_assessed"] == 0


def test_complaint_rates_per_1000_by_category_and_channel():
    # open at 31 Oct: C1, C2 (C3 closed 15 Oct, C4 opens in Nov, C5 closed 31 Oct) -> 2 customers
    out = sat.complaint_rates(_sla_complaints(), CUSTOMERS, **OCT).set_index("group")
    assert out.index.tolist() == ["product", "service", "process", "policy", "all"]
    assert out["complaints"].tolist() == [2, 1, 1, 1, 5]
    assert out.at["product", "per_1000"] == pytest.approx(1000.0)  # 2 / 2 * 1000
    assert out.at["all", "per_1000"] == pytest.approx(2500.0)
    assert out.at["product", "share"] == pytest.approx(0.4)
    ch = sat.complaint_rates(_sla_complaints(), CUSTOMERS, **OCT, by="channel").set_index("group")
    assert ch["complaints"].to_dict() == {"counter": 2, "online": 1, "phone": 2, "all": 5}


def _resolution_complaints():
    rows = [
        ("R1", "C1", "2026-10-01 00:00", "2026-10-02 00:00"),  # 1 day
        ("R2", "C1", "2026-10-01 00:00", "2026-10-03 00:00"),  # 2 days
        ("R3", "C2", "2026-10-05 00:00", "2026-10-08 00:00"),  # 3 days
        ("R4", "C2", "2026-10-28 00:00", None),  # open: 4 days old on 1 Nov 00:00
        ("R5", "C3", "2026-10-10 00:00", "2026-10-15 00:00"),  # 5 days
        # resolved after the period, so open at its end: 10 days old
        ("R6", "C3", "2026-10-22 00:00", "2026-11-05 00:00"),
    ]
    return complaints(
        [(k, c, "A", r, r, r, res, "service", "counter", "low") for k, c, r, res in rows]
    )


def test_resolution_median_and_p90_count_open_complaints():
    out = sat.resolution_times(_resolution_complaints(), period_end=date(2026, 10, 31), window_months=1,
                               within_days=3)  # fmt: skip
    # Kaplan-Meier on 1e 2e 3e 4c 5e 10c: S(1) = 5/6, S(2) = 5/6*4/5 = 4/6, S(3) = 4/6*3/4 = 0.5
    # -> median 3 days (ignoring open cases would give 2.5); S(5) = 0.5*1/2 = 0.25 never <= 0.1 -> p90 NaN
    assert out["median_days"] == pytest.approx(3.0)
    assert math.isnan(out["p90_days"])
    assert (out["complaints"], out["resolved"], out["open"]) == (6, 4, 2)
    # all 6 received by 29 Oct 00:00 (3 days before the end); resolved within 3 days: R1, R2, R3 (exactly 3)
    assert out["matured"] == 6 and out["resolved_within_share"] == pytest.approx(0.5)
    month30 = sat.resolution_times(_resolution_complaints(), period_end=date(2026, 10, 31), window_months=1,
                                   within_days=30)  # fmt: skip
    # only R1, R2 are 30 days old by the end (received on or before 2 Oct): both resolved in time
    assert month30["matured"] == 2 and month30["resolved_within_share"] == 1.0


def test_km_quantile_reaches_p90_when_all_resolved():
    # 10 resolved cases at 1..10 days: S(9) = 0.1 -> p90 = 9; median S(5) = 0.5 -> 5
    d = np.arange(1, 11)
    assert sat.km_quantile(d, np.ones(10, bool), 0.9) == 9.0
    assert sat.km_quantile(d, np.ones(10, bool), 0.5) == 5.0
    assert math.isnan(sat.km_quantile([], [], 0.5))


def test_open_backlog_ages_and_buckets():
    c = complaints(
        [
            ("B1", "C1", "A", "2026-10-25 00:00", "2026-10-25 01:00", None, None, "service", "counter", "low"),  # 7 days
            ("B2", "C2", "A", "2026-10-24 00:00", None, None, None, "product", "phone", "high"),  # 8 days
            ("B3", "C5", "A", "2026-07-01 00:00", None, None, None, "policy", "phone", "high"),  # 123 days
            ("B4", "C1", "A", "2026-10-01 00:00", None, None, "2026-10-20", "policy", "phone", "low"),  # resolved
            ("B5", "C2", "A", "2026-11-02 00:00", None, None, None, "policy", "phone", "low"),  # after the period
        ]
    )  # fmt: skip
    b = sat.open_backlog(c, CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90])
    assert b["complaint_id"].tolist() == ["B3", "B2", "B1"]
    assert b["age_days"].tolist() == [123, 8, 7]
    assert b["age_bucket"].tolist() == ["gt_90", "le_30", "le_7"]
    # the full name is kept for the page to mask (a column called ``name``)
    assert b["name"].tolist() == ["Acme Ltd", "李四", "张三丰"]
    assert privacy.mask_frame(b)["name"].tolist() == ["A***", "李*", "张**"]
    assert b["responded"].tolist() == [False, False, True]
    by_age = sat.backlog_by_age(b, age_bounds=[7, 30, 90]).set_index("age_bucket")
    assert by_age["open"].tolist() == [1, 1, 0, 1] and by_age.at["gt_90", "high"] == 1


def test_repeat_complainants_keep_the_name_for_the_page_to_mask():
    c = complaints(
        [
            ("P1", "C1", "A", "2026-10-01 09:00", None, None, None, "service", "counter", "low"),
            ("P2", "C1", "A", "2026-06-01 09:00", None, None, "2026-06-05", "service", "counter", "low"),
            ("P3", "C1", "A", "2026-01-01 09:00", None, None, "2026-01-05", "product", "counter", "low"),
            ("P4", "C2", "A", "2026-10-02 09:00", None, None, None, "policy", "phone", "low"),
            ("P5", "C2", "A", "2025-09-01 09:00", None, None, None, "policy", "phone", "low"),  # outside 12 months
        ]
    )  # fmt: skip
    r = sat.repeat_complainants(
        c, CUSTOMERS, period_end=date(2026, 10, 31), window_months=12, min_complaints=2
    )
    assert r["customer_id"].tolist() == ["C1"] and r["name"].tolist() == ["张三丰"]
    assert privacy.mask_frame(r)["name"].tolist() == ["张**"]
    row = r.iloc[0]
    assert (row["complaints"], row["service"], row["product"], row["open"]) == (3, 2, 1, 1)
    assert row["last_received"] == pd.Timestamp("2026-10-01 09:00")


def test_branch_with_no_complaints():
    none = complaints([])
    rates = sat.complaint_rates(none, CUSTOMERS, **OCT)
    assert (
        rates["complaints"].sum() == 0
        and (rates["per_1000"] == 0).all()
        and rates["share"].isna().all()
    )
    sla = sat.sla_compliance(none, **OCT, first_response_hours=24.0, plan_hours=72.0)
    assert sla["received"].tolist() == [0, 0] and sla["compliance"].isna().all()
    res = sat.resolution_times(none, period_end=date(2026, 10, 31), window_months=6, within_days=30)
    assert (
        res["complaints"] == 0
        and math.isnan(res["median_days"])
        and math.isnan(res["resolved_within_share"])
    )
    assert sat.open_backlog(
        none, CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90]
    ).empty
    by_age = sat.backlog_by_age(sat.open_backlog(none, CUSTOMERS, period_end=date(2026, 10, 31),
                                                 age_bounds=[7, 30, 90]), age_bounds=[7, 30, 90])  # fmt: skip
    assert by_age["open"].tolist() == [0, 0, 0, 0]
    assert sat.repeat_complainants(none, CUSTOMERS, period_end=date(2026, 10, 31), window_months=12,
                                   min_complaints=2).empty  # fmt: skip
    no_customers = sat.complaint_rates(none, CUSTOMERS.iloc[0:0], **OCT)
    assert no_customers["per_1000"].isna().all()


# --------------------------------------------------------------------------- retention


def _cohort():
    # high: 10 customers, 1 churned; mid: 10, 2 churned; low: 10, 5 churned within 6 months;
    # one more low customer churned in month 7 (outside the horizon: retained)
    rows = (
        [(5, 3.0)] + [(5, np.nan)] * 9
        + [(4, 1.0), (4, 6.0)] + [(4, np.nan)] * 8
        + [(2, 2.0)] * 3 + [(1, 5.0)] * 2 + [(3, np.nan)] * 4 + [(3, 7.0)]
    )  # fmt: skip
    return pd.DataFrame(rows, columns=["csat", "months_to_churn"]).assign(branch_id="A")


def test_retention_by_band_and_risk_ratio():
    r = sat.retention_by_band(_cohort(), horizon_months=6, band_bounds=[60.0, 85.0]).set_index(
        "band"
    )
    assert r["customers"].tolist() == [10, 10, 10]
    assert r["churned"].tolist() == [5, 2, 1]
    assert r["retention"].tolist() == pytest.approx([0.5, 0.8, 0.9])
    # low vs high: 0.5 / 0.1 = 5; Katz se = sqrt(1/5 - 1/10 + 1/1 - 1/10) = 1 -> 5 * exp(-+1.959964)
    assert r.at["low", "risk_ratio"] == pytest.approx(5.0)
    assert r.at["low", "rr_ci_low"] == pytest.approx(0.704317, abs=1e-5)
    assert r.at["low", "rr_ci_high"] == pytest.approx(35.495357, abs=1e-4)
    # mid: 0.2 / 0.1 = 2; se = sqrt(1/2 - 1/10 + 1 - 1/10) = sqrt(1.3)
    assert r.at["mid", "risk_ratio"] == pytest.approx(2.0)
    assert r.at["mid", "rr_ci_low"] == pytest.approx(0.214048, abs=1e-5)
    # Fisher exact, [[5, 5], [1, 9]]: p = 0.140867
    assert r.at["low", "p_value"] == pytest.approx(0.140867, abs=1e-5)
    assert r.at["high", "risk_ratio"] == 1.0 and math.isnan(r.at["high", "p_value"])


def test_retention_no_churn_in_high_band_and_empty_cohort():
    c = pd.DataFrame({"csat": [5, 5, 1], "months_to_churn": [np.nan, np.nan, 2.0]})
    r = sat.retention_by_band(c, horizon_months=6, band_bounds=[60.0, 85.0]).set_index("band")
    assert math.isnan(r.at["low", "risk_ratio"])  # the high band has no churn: no ratio
    assert r.at["mid", "customers"] == 0 and math.isnan(r.at["mid", "retention"])
    empty = sat.retention_by_band(c.iloc[0:0], horizon_months=6, band_bounds=[60.0, 85.0])
    assert empty["customers"].tolist() == [0, 0, 0]


def test_retention_curve():
    curve = sat.retention_curve(_cohort(), horizon_months=6, band_bounds=[60.0, 85.0])
    low = curve[curve["band"] == "low"].set_index("months_after")["retained"]
    # low band churn months: 2, 2, 2, 5, 5 (and 7): retained 1.0 until 1, 0.7 at 2-4, 0.5 at 5-6
    assert low.tolist() == pytest.approx([1.0, 1.0, 0.7, 0.7, 0.7, 0.5, 0.5])


# --------------------------------------------------------------------------- summary


def test_summary_facts_pick_what_matters():
    kpi_rows = pd.DataFrame(
        {
            "kpi": list(sat.KPIS),
            "value": [70.0, 0.6, 12.0, 1.5, 0.5, 0.01],
            "previous": [72.0, 0.62, 20.0, 1.0, 0.7, 0.01],
            "change": [-2.0, -0.02, -8.0, 0.5, -0.2, 0.0],
            "bank_median": [75.0, 0.7, 25.0, 1.0, 0.9, 0.01],
        }
    )
    tests = pd.DataFrame(
        {"metric": ["csat_mean", "nps"], "value": [70.0, 12.0], "rest_value": [75.0, 25.0],
         "p_value": [0.04, 0.001], "q_value": [0.06, 0.003], "significant": [False, True],
         "direction": ["in_line", "below"]}
    )  # fmt: skip
    frame, _ = _simulated_survey(n=400)
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    sla = sat.sla_compliance(_sla_complaints(), **OCT, first_response_hours=24.0, plan_hours=72.0)
    backlog = sat.open_backlog(
        _sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90]
    )
    retention = sat.retention_by_band(_cohort(), horizon_months=6, band_bounds=[60.0, 85.0])
    facts = sat.summary_facts(kpi_rows=kpi_rows, tests=tests, drivers_result=d, sla=sla, backlog=backlog,
                              retention=retention, window_responses=250, change_alert_points=5.0)  # fmt: skip
    keys = [k for k, _ in facts]
    assert 3 <= len(facts) <= 6
    assert keys[:5] == [
        "satisfaction.summary.scores",
        "satisfaction.summary.vs_bank.nps_below",
        "satisfaction.summary.nps_down",
        "satisfaction.summary.complaints",
        f"satisfaction.summary.driver_action.{d.action}",
    ]
    values = dict(facts)
    assert values["satisfaction.summary.nps_down"] == {"nps": 12.0, "previous": 20.0, "change": 8.0}
    assert values["satisfaction.summary.complaints"]["sla_first_response"] == pytest.approx(0.25)


def test_summary_facts_for_a_branch_with_no_surveys_and_no_complaints():
    kpi_rows = pd.DataFrame({"kpi": list(sat.KPIS), "value": np.nan, "previous": np.nan, "change": np.nan,
                             "bank_median": np.nan})  # fmt: skip
    empty = responses([]).iloc[0:0]
    d = sat.drivers(empty, period=PERIOD, window_months=12, min_responses=100)
    sla = sat.sla_compliance(complaints([]), **OCT, first_response_hours=24.0, plan_hours=72.0)
    facts = sat.summary_facts(
        kpi_rows=kpi_rows, tests=sat.branch_tests(monthly([]), period=PERIOD, window_months=1),
        drivers_result=d, sla=sla, backlog=complaints([]).iloc[0:0],
        retention=sat.retention_by_band(_cohort().iloc[0:0], horizon_months=6, band_bounds=[60.0, 85.0]),
        window_responses=0, change_alert_points=5.0,
    )  # fmt: skip
    assert [k for k, _ in facts] == [
        "satisfaction.summary.no_surveys",
        "satisfaction.summary.no_complaints",
        "satisfaction.summary.drivers_too_few",
    ]


# --------------------------------------------------------------------------- prepare


def _warehouse():
    """Two branches; balances Mar-Oct 2026; churn, cohort, surveys and complaints planted."""
    months = [f"2026-{m:02d}" for m in range(3, 11)]
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "branch_id": ["A", "A", "A", "B", "B", "B"],
            "name": ["张三", "李四", "王五", "赵六", "钱七", "孙八"],
            "opened_on": pd.to_datetime(["2025-01-01"] * 4 + ["2026-10-05", "2025-01-01"]).date,
            "closed_on": pd.to_datetime([None, None, "2026-09-15", None, None, None]).date,
        }
    )
    bal = []
    for m in months:
        bal.append(("C1", m, 100_000.0, 500_000.0))  # AUM 600k: wealth
        # C2: AUM below 1,000 from Sep, so churned in Oct (2 months low)
        bal.append(("C2", m, 5_000.0 if m <= "2026-08" else 500.0, 0.0))
        if m <= "2026-08":
            # C3: closed 15 Sep, so churned in Sep; last AUM 60k: affluent
            bal.append(("C3", m, 60_000.0, 0.0))
        bal.append(("C4", m, 5_000.0, 0.0))
        bal.append(("C6", m, 800.0, 0.0))  # low from the first month: churned in Apr
    bal.append(("C5", "2026-10", 2_000.0, 0.0))
    balances = pd.DataFrame(bal, columns=["customer_id", "month", "deposits", "wealth"]).assign(
        loans_outstanding=0.0, products_held=1
    )
    surveys = pd.DataFrame(
        [
            ("S1", "C1", "A", "2026-06-20", 1, 0),  # before the cohort window
            ("S2", "C1", "A", "2026-07-10", 5, 10),  # cohort: high, retained
            ("S3", "C3", "A", "2026-07-20", 4, 8),  # cohort: mid, churned Sep (2 months later)
            ("S4", "C2", "A", "2026-08-05", 2, 3),  # cohort: low, churned Oct (2 months later)
            ("S5", "C4", "B", "2026-07-01", 5, 10),  # superseded by C4's later answer
            ("S6", "C4", "B", "2026-08-15", 3, 6),  # cohort: low, retained
            ("S7", "C1", "A", "2026-10-03", 5, 10),
            ("S8", "C2", "A", "2026-10-04", 4, 7),
            ("S9", "C4", "B", "2026-10-09", 1, 0),
        ],
        columns=["response_id", "customer_id", "branch_id", "responded_on", "csat", "nps"],
    ).assign(
        manager_id=None,
        channel="counter",
        responded_on=lambda d: pd.to_datetime(d["responded_on"]).dt.date,
    )
    for a in sat.ATTRIBUTES:
        surveys[a] = 4
    compl = complaints(
        [
            ("K1", "C1", "A", "2026-10-05 09:00", "2026-10-06 09:00", "2026-10-08 09:00", "2026-10-10", "service", "counter", "low"),
            ("K2", "C2", "A", "2026-10-20 10:00", "2026-10-21 10:00:01", None, None, "product", "phone", "high"),
            ("K3", "C2", "A", "2026-10-31 20:00", None, None, None, "product", "phone", "low"),
            ("K4", "C1", "A", "2026-09-10 09:00", "2026-09-10 12:00", "2026-09-12 09:00", "2026-09-20", "process", "counter", "low"),
        ]
    )  # fmt: skip
    branches = pd.DataFrame({"branch_id": ["A", "B"], "name": ["A", "B"]})
    con = duckdb.connect()
    for name, frame in {"branches": branches, "customers": customers, "balances": balances,
                        "surveys": surveys, "complaints": compl}.items():  # fmt: skip
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    return con


def _ctx(con, settings):
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period=PERIOD,
        prev_period="2026-09",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        months=lambda n: [sat.shift_month(PERIOD, -k) for k in range(n - 1, -1, -1)],
        settings=settings,
    )


@pytest.fixture(scope="module")
def prepared():
    s = Settings.model_validate(
        {
            "score_window_months": 1,
            "churn_floor_months": 2,
            "retention_months": 2,
            "retention_cohort_months": 2,
        }
    )
    return sat.prepare(_ctx(_warehouse(), s)), s


def test_prepare_returns_the_named_frames(prepared):
    out, _ = prepared
    assert set(out) == {
        "satisfaction_responses", "satisfaction_retention_cohort", "bench_satisfaction_monthly",
        "bench_satisfaction_tests", "bench_satisfaction_groups", "bench_satisfaction_drivers",
        "bench_satisfaction_retention",
    }  # fmt: skip
    m = out["bench_satisfaction_monthly"]
    assert list(m.columns) == list(sat.MONTHLY_COLUMNS)
    assert len(m) == 2 * 12  # every branch x 12 months (window 1 -> 12 + 1 - 1 months)


def test_prepare_tiers_use_aum_at_the_period_or_the_last_month(prepared):
    out, _ = prepared
    r = out["satisfaction_responses"].set_index("response_id")
    assert r.at["S7", "tier"] == "wealth" and r.at["S7", "aum"] == 600_000.0
    # C3 closed in Sep: its tier comes from August's AUM
    assert r.at["S3", "tier"] == "affluent" and r.at["S3", "aum"] == 60_000.0
    assert r.at["S8", "tier"] == "mass" and r.at["S8", "month"] == PERIOD


def test_prepare_kpis_per_branch(prepared):
    out, s = prepared
    m = out["bench_satisfaction_monthly"]
    a = sat.kpis(m, period=PERIOD, window_months=1, branch_id="A")
    # A in Oct: csat 5, 4 -> (100 + 75) / 2 = 87.5, top2 1.0; nps 10, 7 -> (1 - 0) / 2 = +50
    assert (
        a["csat_mean"] == pytest.approx(87.5)
        and a["csat_top2"] == 1.0
        and a["nps"] == pytest.approx(50.0)
    )
    # 3 complaints in Oct, 2 customers open at 31 Oct (C3 closed) -> 1500 per 1000;
    # first response: K1 met (24 h), K2 breached (+1 s), K3 pending -> 1/2
    assert a["complaints_per_1000"] == pytest.approx(1500.0)
    assert a["sla_first_response"] == pytest.approx(0.5)
    # churn Oct: active in Sep C1, C2 -> C2 churned (AUM < 1000 in Sep and Oct) -> 1/2
    assert a["churn_rate"] == pytest.approx(0.5)
    b = sat.kpis(m, period=PERIOD, window_months=1, branch_id="B")
    # B: C4 csat 1 -> 0, nps 0 -> -100; no complaints among 3 customers; C4 active, C6 churned in Apr
    assert b["csat_mean"] == 0.0 and b["nps"] == -100.0
    assert (
        b["complaints_per_1000"] == 0.0
        and math.isnan(b["sla_first_response"])
        and b["churn_rate"] == 0.0
    )
    rows = m.set_index(["branch_id", "month"])
    assert rows.loc[("A", "2026-09"), ["at_risk", "churned"]].tolist() == [3, 1]  # C3 closed in Sep
    assert rows.loc[("B", "2026-04"), ["at_risk", "churned"]].tolist() == [2, 1]  # C6: 2 months low
    # no balances before March: nobody is known to be active in February
    assert rows.loc[("B", "2026-03"), "at_risk"] == 0
    assert rows.loc[("A", "2026-09"), ["complaints", "fr_met", "fr_assessed"]].tolist() == [1, 1, 1]
    bank = sat.kpis(m, period=PERIOD, window_months=1)
    assert bank["churn_rate"] == pytest.approx(1 / 3)  # (1 + 0) / (2 + 1)


def test_prepare_cohort_and_bank_retention(prepared):
    out, _ = prepared
    c = out["satisfaction_retention_cohort"].set_index("customer_id")
    assert sorted(c.index) == ["C1", "C2", "C3", "C4"]
    assert c.at["C4", "csat"] == 3 and c.at["C4", "response_month"] == "2026-08"
    assert c.at["C3", "churn_month"] == "2026-09" and c.at["C3", "months_to_churn"] == 2
    assert c.at["C2", "months_to_churn"] == 2 and math.isnan(c.at["C1", "months_to_churn"])
    r = out["bench_satisfaction_retention"].set_index("band")
    # low: C2 (churned), C4 (retained) -> 0.5; mid: C3 churned -> 0; high: C1 retained -> 1
    assert r["retention"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert math.isnan(r.at["low", "risk_ratio"])  # no churn in the high band


def test_prepare_bench_frames_cover_every_branch(prepared):
    out, _ = prepared
    t = out["bench_satisfaction_tests"]
    # too few responses to test anybody
    assert set(t["branch_id"]) == {"A", "B"} and t["p_value"].isna().all()
    g = out["bench_satisfaction_groups"]
    assert set(g["dimension"]) == {"channel", "tier"}
    assert g.loc[(g["dimension"] == "tier") & (g["group"] == "all"), "responses"].iloc[0] == 3
    d = out["bench_satisfaction_drivers"]
    # the driver window is 12 months: all 9 responses, below the minimum of 100
    assert (d["status"] == "too_few").all() and d["responses"].iloc[0] == 9


def test_definitions_point_into_the_catalogue():
    assert all(v == f"satisfaction.definitions.{k}" for k, v in sat.DEFINITIONS.items())
    assert set(sat.KPIS) <= set(sat.DEFINITIONS)


def test_catalogue_covers_facts_kpis_definitions_and_columns():
    from branchbook import i18n

    frame, _ = _simulated_survey(n=400)
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    values = {"csat_mean": 70.0, "csat_top2": 0.6, "nps": 12.0, "responses": 250, "bank_nps": 20.0,
              "value": 1.0, "bank": 2.0, "q_value": 0.01, "previous": 5.0, "change": 7.0,
              "complaints": 3, "per_1000": 1.2, "sla_first_response": 0.9, "sla_plan": 0.8,
              "minimum": 100, "importance": 1.1, "performance": 3.2, "open": 2, "oldest_days": 40,
              "over_30": 1, "low_retention": 0.8, "high_retention": 0.9, "risk_ratio": 2.0}  # fmt: skip
    keys = ["scores", "no_surveys", "vs_bank.in_line", "nps_up", "nps_down", "no_complaints",
            "complaints", "backlog", "drivers_too_few", "retention_holds", "retention_not_shown"]  # fmt: skip
    keys += [f"vs_bank.{m}_{d}" for m in sat.SCORE_METRICS for d in ("above", "below")]
    keys += [f"driver_action.{a}" for a in sat.ATTRIBUTES]
    tables = [
        sat.scores_by(responses([(5, 10)]), by="tier", period=PERIOD, window_months=1),
        sat.kpi_table(_three_branches(), branch_id="A", period=PERIOD, prev_period="2026-09",
                      window_months=1, kpi_status=Settings().kpi_status),
        sat.trend(_three_branches(), branch_id="A", period=PERIOD, window_months=1),
        sat.branch_tests(_three_branches(), period=PERIOD, window_months=1),
        d.table,
        sat.sla_compliance(_sla_complaints(), **OCT, first_response_hours=24.0, plan_hours=72.0),
        sat.complaint_rates(_sla_complaints(), CUSTOMERS, **OCT),
        sat.open_backlog(_sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90]),
        sat.backlog_by_age(sat.open_backlog(_sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31),
                                            age_bounds=[7, 30, 90]), age_bounds=[7, 30, 90]),
        sat.repeat_complainants(_sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31),
                                window_months=12, min_complaints=2),
        sat.retention_by_band(_cohort(), horizon_months=6, band_bounds=[60.0, 85.0]),
        sat.retention_curve(_cohort(), horizon_months=6, band_bounds=[60.0, 85.0]),
    ]  # fmt: skip
    internal = {"branch_id", "csat_sum", "csat_sumsq"}  # working sums, never shown
    columns = {c for t in tables for c in t.columns} - internal
    for locale in ("en", "zh-CN"):
        for key in keys:
            assert i18n.t(f"satisfaction.summary.{key}", locale, **values)
        for k in sat.KPIS:
            assert i18n.has(f"satisfaction.kpis.{k}", locale)
        for metric, key in sat.DEFINITIONS.items():
            assert i18n.has(key, locale) and i18n.has(f"satisfaction.terms.{metric}", locale)
        for col in columns:
            assert i18n.has(f"satisfaction.columns.{col}", locale), col
        for group, codes in {"tier": sat.TIERS, "band": sat.BANDS, "attribute": sat.ATTRIBUTES,
                             "quadrant": sat.QUADRANTS, "category": sat.CATEGORIES,
                             "metric": sat.SCORE_METRICS, "kpi": sat.KPIS}.items():  # fmt: skip
            for code in codes:
                assert i18n.has(f"satisfaction.values.{group}.{code}", locale), (group, code)


def test_prepare_churn_with_a_one_month_floor():
    s = Settings.model_validate({"score_window_months": 1, "churn_floor_months": 1})
    m = sat.prepare(_ctx(_warehouse(), s))["bench_satisfaction_monthly"]
    rows = m.set_index(["branch_id", "month"])
    # one month below the floor is enough: C2 churns in Sep (with C3, closed), not in Oct
    assert rows.loc[("A", "2026-09"), ["at_risk", "churned"]].tolist() == [3, 2]
    assert rows.loc[("A", PERIOD), ["at_risk", "churned"]].tolist() == [1, 0]
    # C6 is below the floor from its first month: never active, so never at risk
    assert rows.loc[("B", "2026-04"), ["at_risk", "churned"]].tolist() == [1, 0]


def test_functions_do_not_mutate_their_inputs():
    frame, _ = _simulated_survey(n=300)
    c, m, cohort = _sla_complaints(), _three_branches(), _cohort()
    before = [x.copy() for x in (frame, c, m, cohort, CUSTOMERS)]
    sat.scores_by(frame.assign(channel="counter", tier="mass"), by="tier", period=PERIOD,
                  window_months=1)  # fmt: skip
    sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    sat.kpi_table(m, branch_id="A", period=PERIOD, prev_period="2026-09", window_months=1,
                  kpi_status=Settings().kpi_status)  # fmt: skip
    sat.branch_tests(m, period=PERIOD, window_months=1)
    sat.sla_compliance(c, **OCT, first_response_hours=24.0, plan_hours=72.0)
    sat.open_backlog(c, CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90])
    sat.repeat_complainants(c, CUSTOMERS, period_end=date(2026, 10, 31), window_months=12,
                            min_complaints=2)  # fmt: skip
    sat.retention_by_band(cohort, horizon_months=6, band_bounds=[60.0, 85.0])
    for old, new in zip(before, (frame, c, m, cohort, CUSTOMERS), strict=True):
        pd.testing.assert_frame_equal(old, new)


def test_notebook_texts_are_in_both_catalogues():
    """Every catalogue key the notebook names (sections, notes, empty, charts, captions) exists."""
    import re
    from pathlib import Path

    from branchbook import i18n

    src = (Path(__file__).resolve().parents[1] / "notebooks" / "satisfaction.py").read_text("utf-8")
    keys = {f"satisfaction.sections.{k}.title" for k in re.findall(r'page\.section\("(\w+)"', src)}
    keys |= {f"satisfaction.empty.{k}" for k in re.findall(r'page\.empty\("(\w+)"', src)}
    keys |= set(re.findall(r'page\.note\("([\w.]+)"', src))
    keys |= {f"satisfaction.{k}" for k in re.findall(r'page\.rt\("([\w.]+)"', src)}
    keys |= {
        f"satisfaction.charts.{k}.title"
        for k in re.findall(r'page\.(?:bar|line)_chart\(\s*"(\w+)"', src)
    }
    keys |= {f"satisfaction.{p}" for p in re.findall(r'"label:satisfaction\.([\w.]+)"', src)}
    assert len(keys) > 30
    for locale in ("en", "zh-CN"):
        missing = sorted(
            k
            for k in keys
            if not i18n.has(k, locale)
            and not any(c.startswith(k + ".") for c in i18n.catalogue(locale))
        )
        assert missing == [], (locale, missing)
