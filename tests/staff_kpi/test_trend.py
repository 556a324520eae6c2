"""Composite over the trend window against the grade median."""

from __future__ import annotations

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    PERIOD,
    _branch,
    approx,
)


def test_trend_lines_table_and_panels(prepared):
    b = _branch(prepared)
    history = staff_kpi.trend(b["staff_scorecard"], b["bench_grade"], month=PERIOD, months=2)
    lines = staff_kpi.trend_lines(history, grade="professional")
    # September: growth S1 20 / S2 200 / S3 50 -> 16.67 / 83.33 (S3 50); NPL S1 0 -> 75, S2 1.0 -> 25
    # S1 (16.67 + 75) / 2 = 45.83, S2 (83.33 + 25) / 2 = 54.17; October see above
    assert list(lines.index) == ["2026-09", "2026-10"]
    assert list(lines.columns) == ["王伟", "grade_median", "李娜"]  # best now, then the median
    assert lines["王伟"].tolist() == approx([45.833333, 79.166667])
    assert lines["grade_median"].tolist() == approx([50.0, 50.0])
    t = staff_kpi.trend_table(history, month=PERIOD).set_index("staff_id")
    assert t.loc["S1", ["composite_start", "change", "gap_to_grade"]].tolist() == approx(
        [45.833333, 33.333333, 29.166667]
    )
    assert t.loc["S2", "change"] == approx(-33.333333) and t.loc["S2", "months_rated"] == 2
    panels = staff_kpi.trend_panels(history, month=PERIOD, size=1)
    assert [p[:4] for p in panels] == [("professional", 1, 1, 2), ("professional", 2, 2, 2)]
    assert list(panels[1][4].columns) == ["李娜", "grade_median"]
    assert staff_kpi.trend_panels(history.iloc[0:0], month=PERIOD) == []


def test_trend_panels_are_nearly_equal():
    rows = [
        {
            "staff_id": f"S{i}",
            "staff_name": f"M{i}",
            "grade": "assistant",
            "month": PERIOD,
            "composite": float(i),
            "rating": "C",
            "grade_median": 3.0,
        }
        for i in range(7)
    ]
    panels = staff_kpi.trend_panels(pd.DataFrame(rows), month=PERIOD, size=5)
    # 7 managers, at most 5 a chart: 4 and 3, best first (S6 has the highest composite)
    assert [p[1:4] for p in panels] == [(1, 4, 7), (5, 7, 7)]
    assert list(panels[0][4].columns) == ["M6", "grade_median", "M5", "M4", "M3"]


def test_trend_keeps_its_window_when_the_scorecard_reaches_back_further(prepared):
    # the scorecard reaches back to last December for the cards' start of the year (the
    # trend window of 2 months does not): the trend shows only its window
    b = _branch(prepared)
    sc = b["staff_scorecard"]
    assert {"2025-12", "2026-09", PERIOD} <= set(sc["month"])
    history = staff_kpi.trend(sc, b["bench_grade"], month=PERIOD, months=2)
    assert sorted(set(history["month"])) == ["2026-09", PERIOD]
    assert len(history) == sc["month"].isin(["2026-09", PERIOD]).sum()
    assert len(staff_kpi.trend(sc, b["bench_grade"])) == len(sc)  # no window: every month
