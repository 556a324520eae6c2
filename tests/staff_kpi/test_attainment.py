"""Attainment of targets and its views."""

from __future__ import annotations

import math

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    NAN,
    PERIOD,
    _branch,
    approx,
)


def test_attainment_and_capped_mean():
    actuals = pd.DataFrame(
        {
            "staff_id": ["S1", "S2"],
            "month": ["2026-10", "2026-10"],
            "new_customers": [3.0, 0.0],
            "net_new_aum": [80_000.0, -5_000.0],
            "deposit_growth": [10.0, 0.0],
            "loan_growth": [0.0, 0.0],
            "products_per_customer": [2.4, NAN],
        }
    )
    targets = pd.DataFrame(
        {
            "staff_id": ["S1", "S1", "S1", "S2", "S2", "S2", "S3"],
            "month": ["2026-10"] * 7,
            "kpi": [
                "new_customers",
                "net_new_aum",
                "deposit_growth",
                "net_new_aum",
                "products_per_customer",
                "mystery",
                "new_customers",
            ],
            "target": [2.0, 100_000.0, 0.0, 50_000.0, 2.0, 1.0, 1.0],
        }
    )
    out = staff_kpi.attainment(actuals, targets).set_index(["staff_id", "kpi"])
    assert out.loc[("S1", "new_customers"), "attainment"] == 1.5  # 3 / 2
    assert out.loc[("S1", "net_new_aum"), "attainment"] == 0.8  # 80,000 / 100,000
    assert math.isnan(out.loc[("S1", "deposit_growth"), "attainment"])  # target 0: not valid
    assert out.loc[("S2", "net_new_aum"), "attainment"] == -0.1  # -5,000 / 50,000
    assert math.isnan(out.loc[("S2", "products_per_customer"), "attainment"])  # no actual
    assert math.isnan(out.loc[("S3", "new_customers"), "attainment"])  # no manager-month row
    assert ("S2", "mystery") not in out.index  # unknown KPIs are ignored
    assert out["met"].tolist() == [True, False, pd.NA, False, pd.NA, pd.NA]
    mean = staff_kpi.target_attainment(out.reset_index(), cap=1.2).set_index("staff_id")[
        "target_attainment"
    ]
    assert mean["S1"] == approx(1.0)  # (min(1.5, 1.2) + 0.8) / 2 = 2.0 / 2
    assert mean["S2"] == approx(0.0)  # -0.1: a result that went backwards counts as 0
    assert "S3" not in mean.index


def test_attainment_bars_and_table_carry_the_capped_mean(prepared):
    b = _branch(prepared)
    at = staff_kpi.attainment_table(b["staff_attainment"], b["staff_scorecard"], month=PERIOD)
    s1 = at.set_index("staff_id").loc["S1"]
    assert s1["target_attainment"] == approx(0.85)  # (0.7 + 1.0) / 2
    bars = staff_kpi.attainment_bars(at)
    assert list(bars.index) == ["王伟"]  # S2 has no valid target
    assert bars["target_attainment"].tolist() == approx([0.85])
