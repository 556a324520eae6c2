"""The shared building blocks: one asset tier, one CSAT scale, one closing rule, each
checked against values worked out by hand (and the SQL against the pandas)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from branchbook.metrics import models, shared
from branchbook.params import AssetTiers


def test_asset_tier_by_hand():
    aum = pd.Series([0.0, 49_999.99, 50_000.0, 499_999.99, 500_000.0, 5_999_999.0, 6e6, np.nan])
    got = models.asset_tier(aum, AssetTiers())
    assert got.tolist()[:7] == [
        "mass", "mass", "affluent", "affluent", "wealth", "wealth", "private",
    ]  # fmt: skip
    assert pd.isna(got.iloc[7])  # unknown stays unknown; no balance is passed as 0 (mass)
    small = AssetTiers(affluent=10.0, wealth=20.0, private=30.0)
    assert models.asset_tier(pd.Series([9.0, 10.0, 25.0, 31.0]), small).tolist() == [
        "mass", "affluent", "wealth", "private",
    ]  # fmt: skip


def test_csat_100_by_hand():
    # 1 -> 0, 2 -> 30, 3 -> 60 (neutral where the neutral band starts), 4 -> 85, 5 -> 100
    got = models.csat_100(pd.Series([1, 2, 3, 4, 5, None, 0, 6]))
    assert got.tolist()[:5] == [0.0, 30.0, 60.0, 85.0, 100.0]
    assert got.iloc[5:].isna().all()
    # mean of the answers 3, 4, 5, 5 on the scale: (60 + 85 + 100 + 100) / 4 = 86.25
    assert models.csat_100(pd.Series([3, 4, 5, 5])).mean() == pytest.approx(86.25)


@pytest.mark.parametrize("scale", [models.CSAT_SCALE, (0.0, 25.0, 50.0, 75.0, 100.0)])
def test_csat_sql_is_the_pandas_rule(scale):
    answers = pd.DataFrame({"csat": pd.array([1, 2, 3, 4, 5, None, 7], dtype="Int64")})
    con = duckdb.connect()
    con.register("s", answers)
    sql = f"SELECT {models.csat_100_sql('csat', scale=scale)} AS v FROM s"
    got = con.execute(sql).df()["v"]
    want = models.csat_100(answers["csat"], scale=scale)
    pd.testing.assert_series_equal(got.astype(float), want, check_names=False)
    with pytest.raises(ValueError, match="5 values"):
        models.csat_100_sql("csat", scale=[0, 50, 100])


@pytest.mark.parametrize("tiers", [AssetTiers(), AssetTiers(affluent=10, wealth=20, private=30)])
def test_asset_tier_sql_is_the_pandas_rule(tiers):
    edges = [tiers.affluent, tiers.wealth, tiers.private]
    aum = pd.DataFrame({"aum": [0.0, *[e - 0.01 for e in edges], *edges, 1e12, None]})
    con = duckdb.connect()
    con.register("b", aum)
    got = con.execute(f"SELECT {models.asset_tier_sql('aum', tiers)} AS t FROM b").df()["t"]
    want = models.asset_tier(aum["aum"], tiers)
    assert got.tolist()[:-1] == want.tolist()[:-1]
    assert got.isna().iloc[-1] and want.isna().iloc[-1]


def test_closed_and_open_at_a_day():
    d = dt.date
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "opened_on": [d(2020, 1, 1), d(2020, 1, 1), d(2020, 1, 1), d(2026, 11, 1)],
            "closed_on": [None, d(2026, 10, 31), d(2026, 11, 1), None],
        }
    )
    con = duckdb.connect()
    con.register("c", customers)
    day = "DATE '2026-10-31'"
    got = con.execute(
        f"SELECT customer_id, {models.closed_by_sql(day)} AS closed, "
        f"{models.open_at_sql(day)} AS open FROM c ORDER BY customer_id"
    ).df()
    # B closed on the day itself: closed by its end; C a day later: still open; D not yet opened
    assert got["closed"].tolist() == [False, True, False, False]
    assert got["open"].tolist() == [True, False, True, False]


def test_tier_aum_is_the_period_end_aum_of_an_open_customer_else_the_last_known():
    d = dt.date
    customers = pd.DataFrame(
        {
            "customer_id": ["OPEN", "NOROW", "GONE", "NEVER"],
            "branch_id": ["0101"] * 4,
            "manager_id": ["M1"] * 4,
            "opened_on": [d(2020, 1, 1)] * 4,
            "closed_on": [None, None, d(2026, 9, 15), None],
        }
    )
    balances = pd.DataFrame(
        {
            "customer_id": ["OPEN", "OPEN", "NOROW", "GONE", "GONE"],
            "month": ["2026-09", "2026-10", "2026-09", "2026-08", "2026-09"],
            "deposits": [1.0, 40_000.0, 70_000.0, 5.0, 600_000.0],
            "wealth": [0.0, 20_000.0, 0.0, 0.0, None],
            "loans_outstanding": [0.0] * 5,
            "products_held": [1] * 5,
        }
    )
    con = duckdb.connect()
    con.register("customers", customers)
    con.register("balances", balances)
    con.execute(  # the shared table the rule reads (its AUM basis)
        f"CREATE TEMP TABLE customer_month AS {shared.customer_month_sql(AssetTiers())}",
        {"period": "2026-10"},
    )
    sql = models.tier_aum_sql("SELECT customer_id FROM customers") + " ORDER BY customer_id"
    got = con.execute(sql, {"period": "2026-10", "period_end": d(2026, 10, 31)}).df()
    # GONE closed in September: its last month, 600,000 (a missing part counts 0);
    # NEVER had no balance row: 0; NOROW is open without an October row: 0 (not September's);
    # OPEN: October's 40,000 + 20,000
    assert got.set_index("customer_id")["aum"].to_dict() == {
        "GONE": 600_000.0, "NEVER": 0.0, "NOROW": 0.0, "OPEN": 60_000.0,
    }  # fmt: skip


def test_npl_is_substandard_doubtful_or_loss():
    frame = pd.DataFrame({"five_class": [*models.FIVE_CLASSES, None]})
    con = duckdb.connect()
    con.register("s", frame)
    got = con.execute(f"SELECT {models.npl_sql('five_class')} AS npl FROM s").df()["npl"]
    assert got.tolist() == [False, False, True, True, True, False]  # unclassed: not NPL
