"""Funnel limits, positions and the managers named outside them."""

from __future__ import annotations

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    NAN,
    approx,
)


def test_funnel_limits_at_both_levels():
    lim = staff_kpi.funnel_limits(0.1, [100, 4, 0])
    # n = 100: se = sqrt(0.1 x 0.9 / 100) = 0.03
    # 95%: 0.1 -+ 1.959964 x 0.03 = 0.041201 / 0.158799; 99.8%: 0.1 -+ 3.090232 x 0.03 = 0.007293 / 0.192707
    row = lim.iloc[0]
    assert [row["lo95"], row["hi95"], row["lo998"], row["hi998"]] == approx(
        [0.0412011, 0.1587989, 0.0072930, 0.1927070], rel=1e-5
    )
    # n = 4: se = 0.15; lower limits below 0 are clipped; hi95 = 0.1 + 0.293995 = 0.393995
    row = lim.iloc[1]
    assert row["lo95"] == 0.0 and row["lo998"] == 0.0
    assert row["hi95"] == approx(0.393995, rel=1e-5)
    assert row["hi998"] == approx(0.563535, rel=1e-5)  # 0.1 + 3.090232 x 0.15
    assert lim.iloc[2][["lo95", "hi95"]].isna().all()  # no book: no limits


def test_funnel_position_and_effective_loans():
    rate = pd.Series([0.17, 0.20, 0.10, 0.04, 0.005, NAN])
    n = pd.Series([100.0] * 6)
    # limits at n = 100 (see above): 95% [0.0412, 0.1588], 99.8% [0.0073, 0.1927]
    assert staff_kpi.funnel_position(rate, n, 0.1).tolist() == [
        "above_95",
        "above_998",
        "within",
        "below_95",
        "below_998",
        pd.NA,
    ]
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
            "metric": ["churn_rate", "npl_ratio", "npl_ratio", "churn_rate"],
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
