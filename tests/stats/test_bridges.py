"""Bridges by hand: stock, rate/mix and balance migration on frames of a few rows."""

import math

import numpy as np
import pandas as pd
import pytest

from branchbook.stats import (
    STOCK_COLUMNS,
    balance_migration,
    largest_driver,
    rate_mix,
    rate_mix_by,
    rate_mix_total,
    residual,
    stock_bridge,
    stock_total,
)

NA = np.nan

# five customers: kept and grew, kept and fell, left, joined, moved up a tier
CUSTOMERS = pd.DataFrame(
    {
        "aum_prev": [100.0, 80.0, 30.0, NA, 40.0],
        "aum": [130.0, 50.0, NA, 20.0, 60.0],
        "tier_prev": ["a", "a", "a", None, "a"],
        "tier": ["a", "a", None, "a", "b"],
        "manager": ["m1", "m1", "m2", "m2", "m2"],
    }
)


def test_stock_bridge_total_by_hand():
    row = stock_bridge(CUSTOMERS, opening="aum_prev", closing="aum").loc["total"]
    # opening 250; new 20; growth 30 + 20; decline -30; lost -30; closing 260
    assert row.tolist() == [250.0, 20.0, 50.0, -30.0, -30.0, 0.0, 0.0, 260.0]
    assert residual(row) == 0.0


def test_stock_bridge_by_a_segment_that_changes():
    b = stock_bridge(
        CUSTOMERS, opening="aum_prev", closing="aum", by="tier", by_opening="tier_prev"
    )
    assert b.loc["a"].tolist() == [250.0, 20.0, 30.0, -30.0, -30.0, 0.0, -40.0, 200.0]
    # tier b did not exist last month: it appears through the customer who moved up
    assert b.loc["b"].tolist() == [0.0, 0.0, 20.0, 0.0, 0.0, 40.0, 0.0, 60.0]
    assert (residual(b).abs() < 1e-9).all()
    total = stock_total(b)
    assert total["moved_in"] + total["moved_out"] == 0.0
    assert total["closing"] == 260.0


def test_stock_bridge_by_manager_adds_up_to_the_branch():
    b = stock_bridge(CUSTOMERS, opening="aum_prev", closing="aum", by="manager")
    assert b.loc["m1"].tolist() == [180.0, 0.0, 30.0, -30.0, 0.0, 0.0, 0.0, 180.0]
    assert b.loc["m2"].tolist() == [70.0, 20.0, 20.0, 0.0, -30.0, 0.0, 0.0, 80.0]
    total = stock_bridge(CUSTOMERS, opening="aum_prev", closing="aum").loc["total"]
    pd.testing.assert_series_equal(stock_total(b), total, check_names=False)


def test_stock_bridge_of_a_count():
    counts = CUSTOMERS.assign(
        n_prev=CUSTOMERS["aum_prev"].notna().astype(float).where(CUSTOMERS["aum_prev"].notna()),
        n=CUSTOMERS["aum"].notna().astype(float).where(CUSTOMERS["aum"].notna()),
    )
    row = stock_bridge(counts, opening="n_prev", closing="n").loc["total"]
    assert row[["opening", "new", "growth", "decline", "lost", "closing"]].tolist() == [
        4.0,
        1.0,
        0.0,
        0.0,
        -1.0,
        4.0,
    ]


def test_stock_bridge_with_an_empty_prior_period_is_all_new():
    f = pd.DataFrame({"a0": [NA, NA], "a1": [5.0, 7.0], "s": ["x", "y"]})
    b = stock_bridge(f, opening="a0", closing="a1", by="s", order=["x", "y", "z"])
    assert b["new"].tolist() == [5.0, 7.0, 0.0]
    assert b["opening"].sum() == 0.0
    assert b.loc["z"].tolist() == [0.0] * len(STOCK_COLUMNS)


def test_stock_bridge_of_nobody_is_zero():
    f = pd.DataFrame({"a0": [], "a1": [], "s": []})
    b = stock_bridge(f, opening="a0", closing="a1", by="s", order=["x"])
    assert b.loc["x"].tolist() == [0.0] * len(STOCK_COLUMNS)
    assert stock_bridge(f, opening="a0", closing="a1").loc["total", "closing"] == 0.0


def test_rate_mix_by_hand():
    # segment a: 2/100 -> 6/100; segment b: 1/100 -> 1/300 (more weight, lower rate)
    s = lambda *v: pd.Series(v, index=["a", "b"], dtype=float)  # noqa: E731
    rm = rate_mix(s(2, 1), s(100, 100), s(6, 1), s(100, 300))
    # w0 = (.5, .5), w1 = (.25, .75); r0 = (.02, .01), r1 = (.06, 1/300); the whole
    # ratio 3/200 -> 7/400, midpoint 0.01625: the mix is centred on it
    assert rm.loc["a", "rate_effect"] == pytest.approx(0.04 * 0.375)
    assert rm.loc["a", "mix_effect"] == pytest.approx(-0.25 * (0.04 - 0.01625))
    assert rm.loc["b", "rate_effect"] == pytest.approx((1 / 300 - 0.01) * 0.625)
    assert rm.loc["b", "mix_effect"] == pytest.approx(0.25 * ((0.01 + 1 / 300) / 2 - 0.01625))
    r0, r1 = 3 / 200, 7 / 400
    t = rate_mix_total(rm, opening=r0, closing=r1)
    assert t["rate_effect"] + t["mix_effect"] == pytest.approx(r1 - r0, abs=1e-15)
    assert abs(t["residual"]) < 1e-15


def test_rate_mix_does_not_depend_on_the_order_of_the_periods():
    s = lambda *v: pd.Series(v, index=["a", "b", "c"], dtype=float)  # noqa: E731
    n0, d0, n1, d1 = s(3, 1, 4), s(50, 80, 40), s(2, 5, 1), s(70, 60, 20)
    forward = rate_mix(n0, d0, n1, d1)
    backward = rate_mix(n1, d1, n0, d0)
    np.testing.assert_allclose(forward["rate_effect"], -backward["rate_effect"])
    np.testing.assert_allclose(forward["mix_effect"], -backward["mix_effect"])


def test_rate_mix_segment_that_appears_or_disappears_is_all_mix():
    n0 = pd.Series({"a": 2.0, "gone": 4.0})
    d0 = pd.Series({"a": 100.0, "gone": 100.0})
    n1 = pd.Series({"a": 2.0, "new": 9.0})
    d1 = pd.Series({"a": 100.0, "new": 100.0})
    rm = rate_mix(n0, d0, n1, d1)
    # the whole ratio 6/200 -> 11/200, midpoint 0.0425: the mix is centred on it, so the
    # segment that left (4%, below the whole) raised the ratio a little by leaving
    assert rm.loc["gone", "rate_effect"] == 0.0
    assert rm.loc["gone", "mix_effect"] == pytest.approx(-0.5 * (0.04 - 0.0425))
    assert rm.loc["new", "rate_effect"] == 0.0
    assert rm.loc["new", "mix_effect"] == pytest.approx(0.5 * (0.09 - 0.0425))
    assert rm.loc["a", "mix_effect"] == 0.0
    t = rate_mix_total(rm, opening=6 / 200, closing=11 / 200)
    assert abs(t["residual"]) < 1e-15


def test_rate_mix_with_an_empty_prior_period_is_not_defined():
    rm = rate_mix(
        pd.Series(dtype=float),
        pd.Series(dtype=float),
        pd.Series({"a": 1.0}),
        pd.Series({"a": 10.0}),
    )
    assert rm["rate_effect"].isna().all() and rm["mix_effect"].isna().all()
    assert math.isnan(rate_mix_total(rm, opening=math.nan, closing=0.1)["residual"])


def test_rate_mix_by_entity_rows():
    loans = pd.DataFrame(
        {
            "npl0": [0.0, 10.0, 0.0],
            "bal0": [100.0, 50.0, 50.0],
            "npl1": [40.0, 10.0, 0.0],
            "bal1": [80.0, 50.0, 70.0],
            "manager": ["x", "y", "y"],
        }
    )
    rm = rate_mix_by(loans, num=("npl0", "npl1"), den=("bal0", "bal1"), by="manager")
    assert rm.loc["x", "rate_opening"] == 0.0 and rm.loc["x", "rate_closing"] == 0.5
    t = rate_mix_total(rm, opening=10 / 200, closing=50 / 200)
    assert abs(t["residual"]) < 1e-15


def test_balance_migration_by_hand():
    loans = pd.DataFrame(
        {
            "c0": ["pass", "pass", "substandard", None, "doubtful"],
            "c1": ["pass", "substandard", None, "pass", "loss"],
            "b0": [100.0, 50.0, 30.0, NA, 20.0],
            "b1": [90.0, 60.0, NA, 40.0, 20.0],
            "how": [None, None, "written_off", None, None],
        }
    )
    classes = ["pass", "substandard", "doubtful", "loss"]
    m = balance_migration(
        loans,
        state_opening="c0",
        state_closing="c1",
        opening="b0",
        closing="b1",
        states=classes,
        exit="how",
    )
    assert m.loc["pass", "pass"] == 90.0 and m.loc["pass", "repaid"] == 10.0
    assert m.loc["pass", "substandard"] == 50.0 and m.loc["new", "substandard"] == 10.0
    assert m.loc["substandard", "written_off"] == 30.0
    assert m.loc["new", "pass"] == 40.0 and m.loc["doubtful", "loss"] == 20.0
    # rows add up to the opening balances, columns to the closing ones
    assert m.loc[classes].sum(axis=1).tolist() == [150.0, 30.0, 20.0, 0.0]
    assert m[classes].sum().tolist() == [130.0, 60.0, 0.0, 20.0]


def test_largest_driver_follows_the_direction_of_the_change():
    b = stock_bridge(CUSTOMERS, opening="aum_prev", closing="aum", by="manager")
    assert largest_driver(b) == ("m1", "growth", 30.0)
    s = lambda *v: pd.Series(v, index=["a", "b"], dtype=float)  # noqa: E731
    rm = rate_mix(s(2, 1), s(100, 100), s(6, 1), s(100, 300))
    assert largest_driver(rm, parts=("rate_effect", "mix_effect"))[:2] == ("a", "rate_effect")
    flat = stock_bridge(
        CUSTOMERS.assign(aum=CUSTOMERS["aum_prev"]), opening="aum_prev", closing="aum"
    )
    assert largest_driver(flat) is None


def test_rate_mix_by_in_a_given_order_shows_absent_segments_as_zero():
    loans = pd.DataFrame(
        {"n0": [1.0, 2.0], "d0": [10.0, 10.0], "n1": [1.0, 4.0], "d1": [10.0, 10.0],
         "product": ["mortgage", "consumer"]}
    )  # fmt: skip
    rm = rate_mix_by(loans, num=("n0", "n1"), den=("d0", "d1"), by="product",
                     order=["consumer", "mortgage", "business"])  # fmt: skip
    assert list(rm.index) == ["consumer", "mortgage", "business"]
    assert rm.loc["business", ["weight_opening", "contribution"]].tolist() == [0.0, 0.0]
    assert math.isnan(rm.loc["business", "rate_opening"])
    assert rm["contribution"].sum() == pytest.approx(0.25 - 0.15)
    empty = rate_mix_by(loans.assign(d0=0.0, n0=0.0), num=("n0", "n1"), den=("d0", "d1"),
                        by="product", order=["consumer", "business"])  # fmt: skip
    assert empty["contribution"].isna().all()


def test_balance_migration_of_an_empty_book_is_zero():
    f = pd.DataFrame({"c0": [], "c1": [], "b0": [], "b1": []}, dtype=object)
    m = balance_migration(
        f, state_opening="c0", state_closing="c1", opening="b0", closing="b1", states=["pass"]
    )
    assert m.to_numpy().sum() == 0.0 and list(m.index) == ["pass", "new"]


def test_balance_migration_with_the_exits_a_bank_records():
    loans = pd.DataFrame(
        {
            "c0": ["pass", "substandard", "pass", "pass"],
            "c1": [None, None, None, "pass"],
            "b0": [10.0, 30.0, 5.0, 50.0],
            "b1": [NA, NA, NA, 45.0],
            "how": ["restructured", "written_off", "unknown", None],
        }
    )
    m = balance_migration(
        loans, state_opening="c0", state_closing="c1", opening="b0", closing="b1",
        states=["pass", "substandard"], exit="how", exits=["repaid", "written_off", "restructured"],
    )  # fmt: skip
    assert list(m.columns) == ["pass", "substandard", "repaid", "written_off", "restructured"]
    assert m.loc["pass", "restructured"] == 10.0 and m.loc["substandard", "written_off"] == 30.0
    # an exit outside the list, and a fall of a loan still on the book, go to the first
    assert m.loc["pass", "repaid"] == 5.0 + 5.0
