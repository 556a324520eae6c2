"""Complaints per 1,000 customers by asset tier, from the satisfaction bridge rows."""

import math

import pandas as pd
import pytest

from branchbook import satisfaction as sat


def bridge() -> pd.DataFrame:
    rows = [
        # month, segment, complaints x 1000, customers
        ("2026-10", "mass", 6000.0, 2000.0),
        ("2026-10", "affluent", 1000.0, 500.0),
        ("2026-10", "wealth", 0.0, 100.0),
        ("2026-09", "mass", 2000.0, 1900.0),
        ("2025-12", "mass", 9000.0, 1800.0),
    ]
    out = pd.DataFrame(rows, columns=["month", "segment", "num", "den"])
    extra = pd.DataFrame(
        [("2026-10", "csat_mean", "tier", "mass", 80.0, 1.0)],
        columns=["month", "measure", "dimension", "segment", "num", "den"],
    )
    out = out.assign(measure="complaints_per_1000", dimension="tier", branch_id="0101")
    return pd.concat([out, extra.assign(branch_id="0101")], ignore_index=True)


def test_rates_per_tier_with_last_month_beside():
    got = sat.complaints_by_tier(bridge(), period="2026-10")
    assert got.index.tolist() == ["mass", "affluent", "wealth", "private"]
    assert got["customers"].tolist() == [2000, 500, 100, 0]
    assert got["complaints"].tolist() == [6, 1, 0, 0]
    assert got["per_1000"].tolist()[:3] == [3.0, 2.0, 0.0]  # a true zero, not missing
    assert math.isnan(got.loc["private", "per_1000"])
    assert got.loc["mass", "per_1000_prev"] == pytest.approx(2000 / 1900)
    assert math.isnan(got.loc["affluent", "per_1000_prev"])  # no customers then
    total = sat.complaints_by_tier_total(bridge(), period="2026-10")
    assert total == {"customers": 2600.0, "complaints": 7.0,
                     "per_1000": pytest.approx(7000 / 2600),
                     "per_1000_prev": pytest.approx(2000 / 1900)}  # fmt: skip


def test_the_tiers_add_up_to_the_branch_and_match_the_warehouse(small_bank):
    """The complaints of the month by their customer's tier then, and the customers
    open at the month's end by tier, recomputed from the warehouse (AUM on the average
    daily basis, the bank's default thresholds); the total equals the card's rate."""
    import duckdb

    period = max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2")
    prepared = small_bank / "build" / period / "prepared"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    tier = """CASE WHEN aum >= 6000000 THEN 'private' WHEN aum >= 500000 THEN 'wealth'
                   WHEN aum >= 50000 THEN 'affluent' ELSE 'mass' END"""
    aum = "coalesce(b.deposits_avg, b.deposits, 0) + coalesce(b.wealth_avg, b.wealth, 0)"
    end = pd.Period(period, "M").end_time.date()
    for branch in ("0101", "0102"):
        rows = pd.read_parquet(prepared / "extracts" / branch / "satisfaction_bridge.parquet")
        got = sat.complaints_by_tier(rows, period=period)
        base = (
            con.execute(
                f"""SELECT {tier} AS tier, count(*) AS n FROM (
                  SELECT coalesce({aum}, 0) AS aum FROM customers c
                  LEFT JOIN balances b ON b.customer_id = c.customer_id AND b.month = $m
                  WHERE c.branch_id = $b AND c.opened_on <= $end
                    AND (c.closed_on IS NULL OR c.closed_on > $end)) GROUP BY 1""",
                {"m": period, "b": branch, "end": end},
            )
            .df()
            .set_index("tier")["n"]
        )
        made = (
            con.execute(
                f"""SELECT {tier} AS tier, count(*) AS n FROM (
                  SELECT coalesce({aum}, 0) AS aum FROM complaints k
                  LEFT JOIN balances b ON b.customer_id = k.customer_id
                       AND b.month = strftime(k.received_at, '%Y-%m')
                  WHERE k.branch_id = $b AND strftime(k.received_at, '%Y-%m') = $m) GROUP BY 1""",
                {"m": period, "b": branch},
            )
            .df()
            .set_index("tier")["n"]
        )
        for t in got.index:
            assert got.loc[t, "customers"] == base.get(t, 0), (branch, t)
            assert got.loc[t, "complaints"] == made.get(t, 0), (branch, t)
        total = sat.complaints_by_tier_total(rows, period=period)
        assert total["complaints"] == made.sum() and total["customers"] == base.sum()
