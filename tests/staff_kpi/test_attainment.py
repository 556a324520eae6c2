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
    met = out["met"].to_dict()
    assert met[("S1", "new_customers")] is True and met[("S1", "net_new_aum")] is False
    assert met[("S2", "net_new_aum")] is False and pd.isna(out.loc[("S1", "deposit_growth"), "met"])
    # one month of targets: the year to date is the month
    assert out["ytd_attainment"].fillna(-1).tolist() == out["attainment"].fillna(-1).tolist()
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


def _months(staff, kpi, months, values):
    return pd.DataFrame({"staff_id": staff, "month": months, "kpi": kpi, "target": values})


def test_year_to_date_sums_the_flows_of_the_months_with_a_target():
    months = ["2025-12", "2026-01", "2026-02", "2026-03"]
    actuals = pd.DataFrame(
        {
            "staff_id": ["S1"] * 4,
            "month": months,
            "net_new_aum": [500.0, -50.0, 350.0, 0.0],
            "new_customers": [9.0, 5.0, 0.0, 2.0],
            "deposit_growth": [0.0] * 4,
            "loan_growth": [0.0] * 4,
            "products_per_customer": [2.0, 2.1, 2.1, 2.3],
        }
    )
    targets = pd.concat(
        [
            _months("S1", "net_new_aum", months, [100.0, 100.0, 100.0, 100.0]),
            _months("S1", "new_customers", months[2:], [1.0, 1.0]),  # none in January
            _months("S1", "products_per_customer", months[1:3], [2.0, 2.2]),
        ]
    )
    out = staff_kpi.attainment(actuals, targets).set_index(["kpi", "month"])
    aum = out.loc["net_new_aum"]
    # January: -50 / 100; February: month 350 / 100, year to date (-50 + 350) / 200 = 1.5;
    # March: month 0, year to date 300 / 300 = 1.0 (met); December 2025 is last year's
    assert aum["attainment"].tolist() == approx([5.0, -0.5, 3.5, 0.0])
    assert aum["ytd_target"].tolist() == [100.0, 100.0, 200.0, 300.0]
    assert aum["ytd_actual"].tolist() == [500.0, -50.0, 300.0, 300.0]
    assert aum["ytd_attainment"].tolist() == approx([5.0, -0.5, 1.5, 1.0])
    assert aum["met"].tolist() == [True, False, True, True]
    # new customers from February only (the first target): 0 / 1, then (0 + 2) / 2
    assert out.loc["new_customers", "ytd_attainment"].tolist() == approx([0.0, 1.0])
    # products per customer is a level: the month's own, 2.1 / 2.0 and 2.1 / 2.2
    assert out.loc["products_per_customer", "ytd_attainment"].tolist() == approx([1.05, 2.1 / 2.2])
    mean = staff_kpi.target_attainment(out.reset_index(), cap=1.5).set_index("month")
    # February: year to date 1.5 (AUM), 0.0 (customers), 0.9545 (products) -> 0.8182
    assert mean.loc["2026-02", "target_attainment"] == approx((1.5 + 0.0 + 2.1 / 2.2) / 3)


def test_a_monthly_target_near_zero_against_the_balance_is_not_shown():
    actuals = pd.DataFrame(
        {
            "staff_id": ["S1", "S2"],
            "month": ["2026-10", "2026-10"],
            "net_new_aum": [-6_000.0, 900.0],
            "deposit_growth": [150.0, 0.0],
            "loan_growth": [0.0, 0.0],
            "new_customers": [0.0, 1.0],
            "products_per_customer": [2.0, 2.0],
            "aum_prev": [20_000.0, 20_000.0],
            "deposits_prev": [5_000.0, 5_000.0],
            "loans_prev": [0.0, 0.0],
        }
    )
    targets = pd.concat(
        [
            _months(["S1", "S2"], "net_new_aum", ["2026-10"] * 2, [100.0, 300.0]),
            _months(
                ["S1", "S1"], ["deposit_growth", "new_customers"], ["2026-10"] * 2, [100.0, 1.0]
            ),
        ]
    )
    out = staff_kpi.attainment(actuals, targets, floor=0.01).set_index(["staff_id", "kpi"])
    # 100 against 20,000 of AUM is 0.5% < 1%: near zero, -6,000% not shown; 300 is 1.5%
    assert out.loc[("S1", "net_new_aum"), "near_zero"]
    assert math.isnan(out.loc[("S1", "net_new_aum"), "attainment"])
    assert out.loc[("S1", "net_new_aum"), "ytd_attainment"] == -60.0  # still judged YTD
    assert out.loc[("S2", "net_new_aum"), "attainment"] == 3.0  # 900 / 300
    assert out.loc[("S1", "deposit_growth"), "attainment"] == 1.5  # 100 is 2% of 5,000
    assert out.loc[("S1", "new_customers"), "attainment"] == 0.0  # counts are never near zero
    table = staff_kpi.monthly_table(
        out.reset_index().assign(month="2026-10"),
        pd.DataFrame({"staff_id": ["S1", "S2"], "staff_name": ["A", "B"], "grade": "senior",
                      "month": "2026-10"}),
        month="2026-10",
    ).set_index("staff_id")  # fmt: skip
    assert table["near_zero"].tolist() == [1, 0]
    assert math.isnan(table.loc["S1", "net_new_aum"]) and table.loc["S2", "net_new_aum"] == 3.0
