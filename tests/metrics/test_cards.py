"""KPI cards from declarations, by hand on a three-branch bench."""

import math

import pandas as pd

from branchbook.metrics import Metric, ratio
from branchbook.metrics.cards import (
    bank_median,
    card_frame,
    months_to_year_start,
    status,
    unit_values,
    year_start_period,
)
from branchbook.params import Rag

NPL = Metric("test_npl", "test_report", "pct", "low")
CUSTOMERS = Metric("test_customers", "test_report", "int", "high")

BENCH = pd.DataFrame(
    {
        "branch_id": ["a", "b", "c", "a"],
        "period": ["2026-10", "2026-10", "2026-10", "2026-09"],
        "test_npl": [0.02, 0.01, 0.04, 0.03],
        "test_customers": [100.0, 300.0, 200.0, 90.0],
    }
)


def test_card_frame_by_hand():
    rag = {"test_npl": Rag(good="low", green=0.015, amber=0.03)}
    cards = card_frame(
        [NPL, CUSTOMERS],
        {"test_npl": 0.02, "test_customers": 100.0},
        {"test_npl": 0.03, "test_customers": 90.0},
        bench=BENCH,
        unit_id="a",
        period="2026-10",
        rag=rag,
    ).set_index("kpi")
    npl, cust = cards.loc["test_npl"], cards.loc["test_customers"]
    assert math.isclose(npl["change"], -0.01)
    assert npl["bank_median"] == 0.02  # median of 0.02, 0.01, 0.04
    assert npl["rank"] == 2.0  # b (0.01) is better; c is worse
    assert npl["branches"] == 3.0
    assert npl["status"] == "amber"
    assert cust["rank"] == 3.0  # b and c have more customers
    assert math.isclose(cust["change_rel"], 10 / 90)
    assert not isinstance(cust["status"], str)  # no rule: no colour


def test_missing_value_has_no_rank_and_no_colour():
    rag = {"test_npl": {"good": "low", "green": 0.015, "amber": 0.03}}
    cards = card_frame(
        [NPL], {}, {}, bench=BENCH, unit_id="a", period="2026-10", rag=rag
    ).set_index("kpi")
    assert math.isnan(cards.loc["test_npl", "rank"])
    assert not isinstance(cards.loc["test_npl", "status"], str)


def test_status_rule_both_directions():
    high = Rag(good="high", green=80, amber=70)
    assert [status(v, high) for v in (85, 80, 75, 69.9)] == ["green", "green", "amber", "red"]
    low = {"good": "low", "green": 0.01, "amber": 0.02}
    assert [status(v, low) for v in (0.005, 0.015, 0.03)] == ["green", "amber", "red"]
    assert status(float("nan"), high) is None and status(1.0, None) is None


def test_bank_median_of_a_period():
    assert bank_median(BENCH, "test_customers", "2026-10") == 200.0
    assert math.isnan(bank_median(BENCH, "nope", "2026-10"))
    assert math.isnan(bank_median(None, "test_customers", "2026-10"))


def test_ratio_rules():
    assert ratio(1, 4) == 0.25
    assert math.isnan(ratio(1, 0)) and math.isnan(ratio(None, 3)) and math.isnan(ratio(2, None))
    s = ratio(pd.Series([1.0, 2.0]), pd.Series([2.0, 0.0]))
    assert s.iloc[0] == 0.5 and math.isnan(s.iloc[1])


def test_ratio_of_a_series_and_a_number():
    s = ratio(pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"]), 4)
    assert list(s) == [0.25, 0.5, 0.75] and list(s.index) == ["a", "b", "c"]
    t = ratio(6, pd.Series([2.0, 0.0, 3.0]))
    assert t.iloc[0] == 3.0 and math.isnan(t.iloc[1]) and t.iloc[2] == 2.0


def test_change_against_the_start_of_the_year():
    """比年初: the value at the end of last December and the change since, beside the
    month's; not available (a warehouse that starts later) is NaN, never 0."""
    cards = card_frame(
        [NPL, CUSTOMERS],
        {"test_npl": 0.02, "test_customers": 100.0},
        {"test_npl": 0.03, "test_customers": 90.0},
        bench=BENCH,
        unit_id="a",
        period="2026-10",
        year_start={"test_npl": 0.025},
    ).set_index("kpi")
    assert math.isclose(cards.loc["test_npl", "year_start"], 0.025)
    assert math.isclose(cards.loc["test_npl", "change_ytd"], -0.005)
    assert math.isnan(cards.loc["test_customers", "year_start"])
    assert math.isnan(cards.loc["test_customers", "change_ytd"])
    no_year = card_frame([NPL], {"test_npl": 0.02}, {}, bench=BENCH, unit_id="a", period="2026-10")
    assert math.isnan(no_year["year_start"].iloc[0])


def test_year_start_is_last_december_read_from_the_bench():
    assert year_start_period("2026-10") == "2025-12"
    assert year_start_period("2027-01") == "2026-12"  # January: the month before
    bench = pd.concat(
        [BENCH, pd.DataFrame({"branch_id": ["a"], "period": ["2025-12"], "test_npl": [0.05],
                              "test_customers": [80.0]})],
        ignore_index=True,
    )  # fmt: skip
    assert unit_values(bench, "a", "2025-12") == {"test_npl": 0.05, "test_customers": 80.0}
    assert unit_values(bench, "b", "2025-12") == {}  # no row: not available
    assert unit_values(None, "a", "2025-12") == {}


def test_a_window_reaches_last_december_only_when_it_must():
    # 12 months end at the period: Jan-Dec in December, so one more for last December
    assert months_to_year_start("2026-12", 12) == 13
    assert [months_to_year_start(f"2026-{m:02d}", 12) for m in range(1, 12)] == [12] * 11
    # a short window: back to last December (January: last month, 2 months)
    assert months_to_year_start("2027-01", 1) == 2
    assert months_to_year_start("2026-10", 3) == 11  # 2025-12 .. 2026-10
    assert months_to_year_start("2026-12", 24) == 24  # already reaches it
