"""Churn and retention by satisfaction band."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat

from .frames import (
    survey_cohort,
)


def test_cohort_months_end_a_full_horizon_before_the_period():
    assert sat.cohort_months("2026-10", horizon_months=6, cohort_months=12) == (
        "2025-05",
        "2026-04",
    )
    assert sat.cohort_months("2026-10", horizon_months=2, cohort_months=1) == ("2026-08", "2026-08")


def test_retention_by_band_and_risk_ratio():
    r = sat.retention_by_band(
        survey_cohort(), horizon_months=6, band_bounds=[60.0, 85.0]
    ).set_index("band")
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
    curve = sat.retention_curve(survey_cohort(), horizon_months=6, band_bounds=[60.0, 85.0])
    low = curve[curve["band"] == "low"].set_index("months_after")["retained"]
    # low band churn months: 2, 2, 2, 5, 5 (and 7): retained 1.0 until 1, 0.7 at 2-4, 0.5 at 5-6
    assert low.tolist() == pytest.approx([1.0, 1.0, 0.7, 0.7, 0.7, 0.5, 0.5])
