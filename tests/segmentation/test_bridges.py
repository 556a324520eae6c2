"""Customers and AUM bridges by asset tier, by hand; and against the warehouse."""

import numpy as np
import pandas as pd
import pytest

from branchbook import segmentation as sg
from branchbook.stats import residual

from .rows import S

NA = np.nan

# defaults: mass < 50k <= affluent < 500k <= wealth < 6m <= private
ROWS = pd.DataFrame(
    {
        "customer_id": ["A", "B", "C", "D", "E"],
        "manager_id": ["S1", "S1", "S2", "S2", "S2"],
        # A grows inside affluent, B falls from wealth to affluent, C is lost, D is new,
        # E joined in February (not open at the end of last year)
        "open_now": [True, True, False, True, True],
        "open_prev": [True, True, True, False, True],
        "open_year": [True, True, True, False, False],
        "aum": [120_000.0, 300_000.0, NA, 10_000.0, 40_000.0],
        "aum_prev": [100_000.0, 600_000.0, 20_000.0, NA, 40_000.0],
        "aum_year": [90_000.0, 700_000.0, 25_000.0, NA, NA],
        # deposits, the AUM's deposit part: A's fall while its AUM grows
        "deposits": [70_000.0, 100_000.0, NA, 10_000.0, 40_000.0],
        "deposits_prev": [80_000.0, 100_000.0, 20_000.0, NA, 40_000.0],
        "deposits_year": [90_000.0, 200_000.0, 25_000.0, NA, NA],
    }
)


def test_aum_bridge_against_last_month_by_hand():
    b = sg.tier_bridge(ROWS, S, base="month")
    assert list(b.index) == ["mass", "affluent", "wealth", "private"]
    assert b.loc["mass"].tolist() == [60_000.0, 10_000.0, 0.0, 0.0, -20_000.0, 0.0, 0.0, 50_000.0]
    assert b.loc["affluent"].tolist() == [
        100_000.0,
        0.0,
        20_000.0,
        -300_000.0,
        0.0,
        600_000.0,
        0.0,
        420_000.0,
    ]
    assert b.loc["wealth"].tolist() == [600_000.0, 0, 0, 0, 0, 0, -600_000.0, 0.0]
    assert b.loc["private"].tolist() == [0.0] * 8
    assert (residual(b).abs() < 1e-6).all()
    whole = sg.bridge_total(ROWS, S, base="month")
    assert whole[["opening", "new", "growth", "decline", "lost", "closing"]].tolist() == [
        760_000.0,
        10_000.0,
        20_000.0,
        -300_000.0,
        -20_000.0,
        470_000.0,
    ]
    assert whole["moved_in"] + whole["moved_out"] == 0.0


def test_deposits_bridge_by_the_tiers_of_aum_by_hand():
    b = sg.tier_bridge(ROWS, S, base="month", measure="deposits")
    # mass: C's 20k and E's 40k; D new with 10k, C lost
    assert b.loc["mass"].tolist() == [60_000.0, 10_000.0, 0.0, 0.0, -20_000.0, 0.0, 0.0, 50_000.0]
    # affluent: A's deposits fall 10k; B's AUM fell to affluent and brings its 100k along
    assert b.loc["affluent"].tolist() == [
        80_000.0, 0.0, 0.0, -10_000.0, 0.0, 100_000.0, 0.0, 170_000.0,
    ]  # fmt: skip
    assert b.loc["wealth"].tolist() == [100_000.0, 0, 0, 0, 0, 0, -100_000.0, 0.0]
    assert (residual(b).abs() < 1e-6).all()
    whole = sg.bridge_total(ROWS, S, base="year", measure="deposits")
    # year: A 90k -> 70k, B 200k -> 100k (wealth -> affluent), C lost, D and E new
    assert whole[["opening", "new", "growth", "decline", "lost", "closing"]].tolist() == [
        315_000.0, 50_000.0, 0.0, -120_000.0, -25_000.0, 220_000.0,
    ]  # fmt: skip
    t = sg.bridge_table(ROWS, S, base="month", measure="deposits")
    assert t["customers"].tolist() == [2.0, 2.0, 0.0, 0.0] and t["closing"].sum() == 220_000.0
    with pytest.raises(ValueError, match="`measure` is expected to be one of"):
        sg.tier_bridge(ROWS, S, base="month", measure="loans")


def test_bridges_against_the_start_of_the_year():
    whole = sg.bridge_total(ROWS, S, base="year")
    # E joined after the year end: new, as D
    assert whole["new"] == 50_000.0 and whole["lost"] == -25_000.0
    assert whole["opening"] == 815_000.0 and whole["closing"] == 470_000.0
    count = sg.bridge_total(ROWS, S, base="year", measure="customers")
    assert count[["opening", "new", "lost", "closing"]].tolist() == [3.0, 2.0, -1.0, 4.0]
    assert residual(count) == 0.0


def test_bridge_table_carries_the_customers_for_suppression():
    t = sg.bridge_table(ROWS, S, base="month")
    assert t["customers"].tolist() == [2.0, 2.0, 0.0, 0.0]
    assert t.columns[0] == "customers"


def test_bridge_facts_name_the_largest_driver_and_never_a_customer():
    labels = []

    def label(prefix, code):
        labels.append((prefix, code))
        return f"<{code}>"

    facts = sg.bridge_facts(ROWS, S, label=label)
    # customers: 4 last month (C lost, D new), 4 now: no change, no sentence
    assert [k for k, _ in facts] == [
        "segmentation.summary.bridge_aum_total",
        "segmentation.summary.bridge_deposits",
    ]
    aum = facts[0][1]
    assert aum["part"] == "<decline>" and aum["tier"] == "<affluent>"
    assert aum["amount"] == -300_000.0 and aum["change"] == -290_000.0
    dep = facts[1][1]  # 240k -> 220k: C's lost 20k is the largest fall
    assert dep["part"] == "<lost>" and dep["tier"] == "<mass>" and dep["amount"] == -20_000.0
    assert not any(code in ("A", "B", "C", "D", "E") for _, code in labels)


def test_no_bridge_fact_below_the_threshold_or_without_an_opening():
    still = ROWS.assign(
        aum=ROWS["aum_prev"], deposits=ROWS["deposits_prev"], open_now=ROWS["open_prev"]
    )
    assert sg.bridge_facts(still, S, label=lambda p, c: c) == []
    first = ROWS.assign(open_prev=False, aum_prev=NA)
    assert sg.bridge_facts(first, S, label=lambda p, c: c) == []
    assert sg.bridge_total(first, S, base="month")["new"] == 470_000.0


def test_unknown_base_is_named():
    with pytest.raises(ValueError, match="'quarter'"):
        sg.tier_bridge(ROWS, S, base="quarter")


@pytest.mark.slow
def test_every_bridge_adds_up_and_matches_the_warehouse(small_bank):
    """For every branch, both bases and both measures: opening + parts = closing, and
    opening and closing equal the customers and AUM (on the default balance basis,
    average daily) recomputed from the warehouse."""
    import duckdb

    from branchbook.period import Period

    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    extracts = small_bank / "build" / str(period) / "prepared" / "extracts"
    frames = sorted(extracts.glob("*/segmentation_bridge.parquet"))
    assert len(frames) == 2, "prepare wrote no segmentation_bridge per branch"
    rows = {f.parent.name: pd.read_parquet(f) for f in frames}  # one folder per branch
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)

    def truth(month: Period) -> pd.DataFrame:
        return (
            con.execute(
                """SELECT c.branch_id, count(*) AS customers,
                      coalesce(sum(coalesce(b.deposits_avg, b.deposits, 0)
                                   + coalesce(b.wealth_avg, b.wealth, 0)), 0) AS aum,
                      coalesce(sum(coalesce(b.deposits_avg, b.deposits, 0)), 0) AS deposits
               FROM customers c LEFT JOIN balances b
                 ON b.customer_id = c.customer_id AND b.month = $m
               WHERE c.opened_on <= $end AND (c.closed_on IS NULL OR c.closed_on > $end)
               GROUP BY c.branch_id""",
                {"m": str(month), "end": month.end},
            )
            .df()
            .set_index("branch_id")
        )

    ends = {"month": period.prev, "year": period.year_start.prev}
    now = truth(period)
    for branch, g in rows.items():
        for base, month in ends.items():
            then = truth(month)
            for measure, col in (
                ("customers", "customers"),
                ("aum_total", "aum"),
                ("deposits", "deposits"),
            ):
                b = sg.tier_bridge(g, S, base=base, measure=measure)
                assert (residual(b).abs() < 0.005).all()
                whole = sg.bridge_total(g, S, base=base, measure=measure)
                assert whole["opening"] == pytest.approx(then.loc[branch, col], abs=0.005)
                assert whole["closing"] == pytest.approx(now.loc[branch, col], abs=0.005)
                assert abs(residual(whole)) < 0.005


def test_bridge_table_total_is_the_whole_bridge_and_hides_a_small_branch():
    from branchbook import privacy

    total = sg.bridge_table_total(ROWS, S, base="month")
    assert total["customers"] == 4.0 and total["closing"] == 470_000.0
    assert total["moved_in"] + total["moved_out"] == 0.0
    hidden = sg.bridge_table_total(ROWS, S, base="month", suppress_below=5)
    assert set(hidden.values()) == {privacy.SUPPRESSED}


def test_the_bridge_cut_by_manager_adds_up_to_the_whole():
    by = sg.manager_bridge(ROWS, S, base="month")
    assert by.loc["S1", ["opening", "growth", "decline", "closing"]].tolist() == [
        700_000.0,
        20_000.0,
        -300_000.0,
        420_000.0,
    ]
    assert by.loc["S2", ["new", "lost"]].tolist() == [10_000.0, -20_000.0]
    whole = sg.bridge_total(ROWS, S, base="month")
    for col in ("opening", "new", "growth", "decline", "lost", "closing"):
        assert by[col].sum() == whole[col]
