"""Branch against the rest of the bank, Benjamini-Hochberg: hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat

from .frames import (
    PERIOD,
    monthly,
    three_branches,
)


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


def test_branch_tests_against_rest_of_bank_with_bh():
    t = sat.branch_tests(three_branches(), period=PERIOD, window_months=1, min_responses=30)
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


def test_branch_tests_skip_small_branches():
    t = sat.branch_tests(three_branches(), period=PERIOD, window_months=1, min_responses=101)
    assert t["p_value"].isna().all() and not t["significant"].any()
    assert sat.branch_tests(monthly([]), period=PERIOD, window_months=1).empty


def test_two_proportion_test_without_variance():
    from branchbook.satisfaction.compare import _two_prop_p

    s = lambda *v: pd.Series(v, dtype=float)  # noqa: E731
    p = _two_prop_p(s(0, 5, 3, 1), s(10, 5, 0, 4), s(0, 10, 2, 2), s(20, 10, 4, 4))
    # both none / both all: no variance, equal shares -> 1; no answers on a side -> NaN
    assert p.iloc[0] == 1.0 and p.iloc[1] == 1.0 and math.isnan(p.iloc[2])
    # 1/4 vs 2/4: pooled 3/8, se = sqrt(3/8 * 5/8 * (1/4 + 1/4)) = 0.342327, z = -0.730297
    assert p.iloc[3] == pytest.approx(0.465209, abs=1e-6)


def test_nps_change_against_the_previous_window_by_hand():
    m = monthly(
        [
            {"branch_id": "A", "month": "2026-09", "nps_n": 100, "promoters": 30, "detractors": 30},
            {"branch_id": "A", "month": PERIOD, "nps_n": 100, "promoters": 50, "detractors": 20},
            {"branch_id": "B", "month": PERIOD, "nps_n": 100, "promoters": 0, "detractors": 90},
        ]
    )
    out = sat.nps_change(m, branch_id="A", period=PERIOD, window_months=1)
    # Oct 50 - 20 = +30 (variance (0.5 + 0.2 - 0.09) / 100 * 1e4 = 61) against Sep 0
    # (variance 0.6 / 100 * 1e4 = 60): se = sqrt(121) = 11, z = 30 / 11 -> p = 0.0063860
    assert (out["nps"], out["previous"], out["change"], out["months"]) == (30.0, 0.0, 30.0, 1)
    assert out["p_value"] == pytest.approx(0.0063860, abs=1e-6)
    # two-month windows: Sep + Oct against Jul + Aug, which have no answers: no test
    two = sat.nps_change(m, branch_id="A", period=PERIOD, window_months=2)
    assert two["nps"] == pytest.approx(15.0) and math.isnan(two["previous"])
    assert math.isnan(two["p_value"])
    none = sat.nps_change(m, branch_id="C", period=PERIOD, window_months=1)
    assert math.isnan(none["nps"]) and math.isnan(none["p_value"])
