"""The KPI declarations, the monthly KPI frame, KPI cards and trend."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from branchbook import metrics
from branchbook import satisfaction as sat
from branchbook.metrics import Metric, cards
from branchbook.metrics.thresholds import as_rag
from branchbook.period import shift_month
from branchbook.satisfaction import Settings

from .frames import (
    PERIOD,
    monthly,
    one_branch_months,
)


def test_the_six_cards_are_declared_once_with_their_direction():
    assert sat.KEYS == ("csat_mean", "csat_top2", "nps", "complaints_per_1000",
                        "sla_first_response", "churn_rate")  # fmt: skip
    assert metrics.of_report("satisfaction") == sat.METRICS
    assert [m.key for m in sat.METRICS if m.headline] == ["csat_mean"]  # the index's column
    assert cards.kinds(sat.METRICS) == {"csat_mean": "num", "csat_top2": "pct", "nps": "num",
                                        "complaints_per_1000": "num", "sla_first_response": "pct",
                                        "churn_rate": "pct"}  # fmt: skip
    # the default status rules point the same way as the declarations
    rules = Settings().kpi_status
    assert {k: as_rag(rules[k]).good for k in sat.KEYS} == {m.key: m.good for m in sat.METRICS}
    # declaring the same key again, differently, is refused
    with pytest.raises(ValueError, match="declared twice"):
        metrics.declare(Metric("churn_rate", "staff_kpi", "pct", "low"))


def test_status_of_a_card_is_the_shared_rule():
    rules = Settings().kpi_status
    # csat_mean: green >= 85, amber >= 75; churn_rate (low is good): green <= 0.01, amber <= 0.02
    assert [cards.status(v, rules["csat_mean"]) for v in (85.0, 84.9, 75.0, 74.9)] == [
        "green", "amber", "amber", "red"]  # fmt: skip
    assert [cards.status(v, rules["churn_rate"]) for v in (0.01, 0.015, 0.02, 0.03)] == [
        "green", "amber", "amber", "red"]  # fmt: skip
    assert cards.status(math.nan, rules["nps"]) is None


def test_each_card_is_its_compute_function_over_the_monthly_sums():
    m = one_branch_months()
    kf = sat.kpi_frame(m, window_months=1).set_index("month")
    sep = m[m["month"] == "2026-09"].fillna(0).reset_index(drop=True)  # a month as prepared
    for metric in sat.METRICS:
        assert metric.compute(sep).iloc[0] == pytest.approx(kf.at["2026-09", metric.key]), (
            metric.key
        )
    # Sep by hand: csat 50, 0 -> 25; top2 0; nps (0 - 2) / 2 -> -100; 1 / 2000 * 1000 = 0.5;
    # first response 1 / 1; churn 10 / 1000
    assert [kf.at["2026-09", k] for k in sat.KEYS] == pytest.approx(
        [25.0, 0.0, -100.0, 0.5, 1.0, 0.01]
    )


def test_kpis_over_a_rolling_window():
    m = one_branch_months()
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
    t = sat.kpi_table(m, branch_id="A", period=PERIOD, window_months=1,
                      kpi_status=Settings().kpi_status).set_index("kpi")  # fmt: skip
    churn = t.loc["churn_rate"]
    # A 0.01, B 0.03, C 0.02 -> median 0.02; low is good: A first of 3; 0.01 <= green 0.01
    assert churn["value"] == pytest.approx(0.01) and churn["bank_median"] == pytest.approx(0.02)
    assert churn["rank"] == 1 and churn["branches"] == 3 and churn["status"] == "green"
    assert churn["previous"] == pytest.approx(0.03) and churn["change"] == pytest.approx(-0.02)
    assert pd.isna(t.loc["nps", "status"]) and pd.isna(t.loc["nps", "rank"])


def test_trend_has_twelve_months_and_bank_median():
    rows = [{"branch_id": b, "month": shift_month(PERIOD, -k), "at_risk": 100, "churned": c}
            for k in range(14) for b, c in (("A", 1), ("B", 3), ("C", 4))]  # fmt: skip
    tr = sat.trend(monthly(rows), branch_id="A", period=PERIOD, window_months=3)
    assert len(tr) == 12 and tr["month"].iloc[0] == "2025-11" and tr["month"].iloc[-1] == PERIOD
    assert tr["churn_rate"].tolist() == pytest.approx([0.01] * 12)
    assert tr["bank_churn_rate"].tolist() == pytest.approx([0.03] * 12)
    bank = sat.trend(monthly(rows), branch_id=None, period=PERIOD, window_months=3)
    assert bank["churn_rate"].iloc[-1] == pytest.approx(8 / 300)  # all branches summed
