"""Funnel limits, positions and the managers named outside them."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from branchbook import staff_kpi

from .tiny import approx


def test_exact_binomial_limits_on_twenty_loans_at_two_percent():
    # Binomial(20, 0.02) by hand: P(0) = 0.98^20 = 0.667608, P(1) = 20 x 0.02 x 0.98^19 =
    # 0.272493, P(2) = 190 x 0.02^2 x 0.98^18 = 0.052830, P(3) = 1140 x 0.02^3 x 0.98^17 =
    # 0.006469; so P(R >= 3) = 0.007069 and P(R >= 4) = 0.000600
    assert stats.binom.sf(2, 20, 0.02) == approx(0.0070687, rel=1e-4)
    assert stats.binom.sf(3, 20, 0.02) == approx(0.00059968, rel=1e-4)
    row = staff_kpi.funnel_limits(0.02, [20]).iloc[0]
    # 95%: P(R >= 3) < 0.025 <= P(R >= 2): the limit lies between 2 and 3 counts, where
    # the interpolated upper tail is 0.025: 3 - (0.025 - 0.007069) / 0.052830 = 2.66059
    assert row["hi95"] == approx(2.66059 / 20, rel=1e-5)
    # 99.8%: P(R >= 4) < 0.001 <= P(R >= 3): 4 - (0.001 - 0.000600) / 0.006469 = 3.93812
    assert row["hi998"] == approx(3.93812 / 20, rel=1e-5)
    assert row["lo95"] == 0.0 and row["lo998"] == 0.0  # P(R = 0) is far above 0.025
    # three NPLs of twenty: beyond 95% (p = 0.0071 < 0.025), inside 99.8% (0.0071 > 0.001);
    # the normal approximation put 15% above its 99.8% limit of 0.02 + 3.09 x 0.0313 = 11.7%
    rate = pd.Series([2 / 20, 3 / 20, 4 / 20])
    pos = staff_kpi.funnel_position(rate, pd.Series([20.0] * 3), 0.02)
    assert pos.tolist() == ["within", "above_95", "above_998"]


def test_exact_lower_limit_and_the_test_agree_on_whole_counts():
    lim = staff_kpi.funnel_limits(0.1, [100, 0]).iloc[0]
    # Binomial(100, 0.1): F(4) = 0.023711 < 0.025 <= F(5) = 0.057577, P(5) = 0.033866:
    # lo95 = 4 + (0.025 - 0.023711) / 0.033866 = 4.03806 counts
    assert stats.binom.cdf(4, 100, 0.1) == approx(0.0237110, rel=1e-4)
    assert lim["lo95"] == approx(4.03806 / 100, rel=1e-4)
    for r in range(0, 40):  # every whole count: beyond a limit iff its exact tail says so
        pos = staff_kpi.funnel_position(pd.Series([r / 100]), pd.Series([100.0]), 0.1).iloc[0]
        low, high = stats.binom.cdf(r, 100, 0.1), stats.binom.sf(r - 1, 100, 0.1)
        want = (
            "below_998" if low < 0.001 else "below_95" if low < 0.025
            else "above_998" if high < 0.001 else "above_95" if high < 0.025 else "within"
        )  # fmt: skip
        assert pos == want, r
    assert staff_kpi.funnel_limits(0.1, [0]).iloc[0][["lo95", "hi95"]].isna().all()


def test_exact_poisson_limits_for_counts():
    # Poisson(20 x 0.02 = 0.4): P(0) = e^-0.4 = 0.670320, P(1) = 0.268128, P(2) = 0.053626,
    # P(3) = 0.007150; P(R >= 3) = 0.007926, P(R >= 4) = 0.000776
    assert stats.poisson.sf(3, 0.4) == approx(0.00077556, rel=1e-3)
    row = staff_kpi.funnel_limits(0.02, [20], family="poisson").iloc[0]
    assert row["hi95"] == approx((3 - (0.025 - 0.007926) / 0.053626) / 20, rel=1e-4)
    assert row["hi998"] == approx((4 - (0.001 - 0.000776) / 0.007150) / 20, rel=1e-3)


def test_overdispersion_test_and_the_widened_limits():
    # five managers of 100 around 0.2: s = sqrt(0.2 x 0.8 / 100) = 0.04, z = -2 .. 2;
    # winsorised at the 10% / 90% quantiles (-1.6, 1.6): z^2 sums to 7.12, phi = 1.424;
    # chi-squared on 4 df: P(X > 7.12) = e^-3.56 (1 + 3.56) = 0.12968;
    # tau2 = (7.12 - 4) / (5w - w) with w = 1 / 0.0016: 0.78 x 0.0016 = 0.001248
    rate = pd.Series([0.12, 0.16, 0.20, 0.24, 0.28])
    test = staff_kpi.overdispersion(rate, pd.Series([100.0] * 5), 0.2)
    assert test["units"] == 5 and test["phi"] == approx(1.424)
    assert test["p_value"] == approx(0.12968, rel=1e-4) and test["tau2"] == approx(0.001248)
    # not significant at 5%: the limits are not widened
    assert staff_kpi.widening(test, method="additive", alpha=0.05) == {"phi": 1.0, "tau2": 0.0}
    strong = {"phi": 4.0, "p_value": 0.001, "tau2": 0.00098}
    assert staff_kpi.widening(strong, method="multiplicative", alpha=0.05) == {
        "phi": 4.0,
        "tau2": 0.0,
    }
    assert staff_kpi.widening(strong, method="none", alpha=0.05) == {"phi": 1.0, "tau2": 0.0}
    # multiplicative phi = 4: twice as far from p0; additive tau2 = p0 (1 - p0) / 20 at
    # n = 20: sqrt(1 + 1) times as far
    exact = 3.93812 / 20 - 0.02
    assert staff_kpi.funnel_limits(0.02, [20], phi=4.0)["hi998"].iloc[0] == approx(
        0.02 + 2 * exact, rel=1e-5
    )
    assert staff_kpi.funnel_limits(0.02, [20], tau2=0.02 * 0.98 / 20)["hi998"].iloc[0] == approx(
        0.02 + 2**0.5 * exact, rel=1e-5
    )
    few = staff_kpi.overdispersion(pd.Series([0.1]), pd.Series([10.0]), 0.2)
    assert few["units"] == 1 and math.isnan(few["p_value"])


def test_funnel_notes_name_the_widened_funnels():
    bench = pd.DataFrame(
        {
            "month": ["2026-10", "2026-10"],
            "metric": ["npl_ratio", "closure_rate"],
            "phi_test": [3.0, 0.9],
            "tau2_test": [0.0004, 0.0],
            "phi": [1.0, 1.0],
            "tau2": [0.0004, 0.0],
        }
    )
    notes = staff_kpi.funnel_notes(bench, month="2026-10")
    assert notes == [
        ("staff_kpi.notes.funnel_widened.additive.npl_ratio", {"phi": 3.0, "tau": approx(0.02)})
    ]
    assert staff_kpi.funnel_spread(bench, metric="npl_ratio", month="2026-10") == {
        "phi": 1.0,
        "tau2": 0.0004,
    }
    assert staff_kpi.funnel_notes(bench, month="2026-09") == []


def test_effective_loans():
    # (100 + 100)^2 / (100^2 + 100^2) = 2; (300 + 100)^2 / (300^2 + 100^2) = 160,000 / 100,000 = 1.6
    eff = staff_kpi.effective_loans(
        pd.Series([200.0, 400.0, 0.0]), pd.Series([20_000.0, 100_000.0, 0.0])
    )
    assert eff.tolist() == approx([2.0, 1.6, 0.0])


def test_funnel_curve_spans_one_to_the_largest_book():
    c = staff_kpi.funnel_curve(0.2, 500)
    assert c["n"].iloc[0] == 1.0 and c["n"].iloc[-1] == approx(500.0)
    assert (c["hi998"] >= c["hi95"]).all()


def test_funnel_band_spans_the_points_and_funnel_outside_names_them():
    pts = pd.DataFrame({"n": [2.0, 10.0, 0.0]})
    band = staff_kpi.funnel_band(pts, 0.2)
    assert band["n"].iloc[0] == approx(1.6) and band["n"].iloc[-1] == approx(12.0)
    assert (
        staff_kpi.funnel_band(pd.DataFrame({"n": [0.5]}), 0.2)["n"].iloc[0] == 1.0
    )  # never below 1
    assert staff_kpi.funnel_band(pd.DataFrame({"n": []}), 0.2).empty
    assert staff_kpi.funnel_curve(0.2, 50, n_min=10)["n"].iloc[0] == approx(10.0)
    funnel = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4"],
            "staff_name": ["A", "B", "C", "D"],
            "metric": ["closure_rate", "npl_ratio", "npl_ratio", "closure_rate"],
            "n": [100.0, 50.0, 80.0, 120.0],
            "rate": [0.3, 0.2, 0.3, 0.1],
            "p0": [0.1, 0.05, 0.05, 0.1],
            "position": ["above_998", "above_998", "above_95", "within"],
            "outside": [True, True, True, False],
        }
    )
    out = staff_kpi.funnel_outside(funnel)
    assert out["staff_id"].tolist() == ["S3", "S2", "S1"]  # NPL first, highest rate first
    assert staff_kpi.funnel_outside(funnel.iloc[0:0]).empty
