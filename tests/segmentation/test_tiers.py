"""Tests of a customer's classification: tiers, composite score and level, lifecycle, bank-wide ranks."""

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import segmentation as sg

from .rows import CLOSED, S, frame


def test_asset_tier_lower_bounds_are_inclusive():
    aum = pd.Series([0, 49_999.99, 50_000, 499_999.99, 500_000, 5_999_999.99, 6_000_000, np.nan])
    got = sg.asset_tier(aum, S.asset_tiers)
    assert got.iloc[:7].tolist() == [
        "mass",
        "mass",
        "affluent",
        "affluent",
        "wealth",
        "wealth",
        "private",
    ]
    assert pd.isna(got.iloc[7])


def test_asset_tier_follows_the_branch_thresholds():
    tiers = sg.AssetTiers(affluent=10_000.0, wealth=20_000.0, private=30_000.0)
    assert sg.asset_tier(pd.Series([9_999.0, 10_000.0, 25_000.0, 30_000.0]), tiers).tolist() == [
        "mass",
        "affluent",
        "wealth",
        "private",
    ]


def test_activity_tier_edges():
    got = sg.activity_tier(pd.Series([0, 1, 5, 6, 20, 21, 300, np.nan]), S.activity_tiers)
    assert got.iloc[:7].tolist() == ["dormant", "low", "low", "medium", "medium", "high", "high"]
    assert pd.isna(got.iloc[7])


def test_composite_score_and_level():
    c = frame(
        {
            "pct_aum": 100.0,
            "pct_activity": 50.0,
            "pct_products": 25.0,
            "pct_tenure": 75.0,
            "pct_credit": 50.0,
        }
    )
    # 0.35*100 + 0.20*50 + 0.15*25 + 0.10*75 + 0.20*50 = 35 + 10 + 3.75 + 7.5 + 10 = 66.25
    assert sg.composite_score(c, S.weights).iloc[0] == pytest.approx(66.25)
    only_aum = sg.CompositeWeights(aum=1.0, activity=0.0, products=0.0, tenure=0.0, credit=0.0)
    assert sg.composite_score(c, only_aum).iloc[0] == pytest.approx(100.0)
    out = sg.classify(c, S)
    assert out["composite"].iloc[0] == pytest.approx(66.25)
    assert out["level"].iloc[0] == 4  # 60 <= 66.25 < 75


def test_composite_level_edges():
    score = pd.Series([0.0, 29.99, 30.0, 45.0, 59.99, 60.0, 75.0, 100.0, np.nan])
    got = sg.composite_level(score, S.level_cutoffs)
    assert got.iloc[:8].tolist() == [1, 1, 2, 3, 3, 4, 5, 5]
    assert got.isna().iloc[8]


def test_aum_trend_ratio_and_edges():
    got = sg.aum_trend(
        pd.Series([110.0, 5.0, 0.0, 100.0, 100.0]), pd.Series([100.0, 0.0, 0.0, np.nan, 200.0])
    )
    assert got.iloc[0] == pytest.approx(1.1)  # 110 / 100
    assert got.iloc[1] == math.inf  # AUM from nothing
    assert pd.isna(got.iloc[2]) and pd.isna(got.iloc[3])
    assert got.iloc[4] == pytest.approx(0.5)


def test_lifecycle_rules_in_order_and_at_their_edges():
    c = frame(
        {"tenure_months": 5.0, "txn_90d": 0.0, "aum": 0.0},  # new beats dormant
        {"tenure_months": 6.0, "txn_90d": 0.0, "aum": 9_999.99},  # dormant
        {"tenure_months": 6.0, "txn_90d": 0.0, "aum": 10_000.0},  # AUM at the floor: mature
        {"aum_recent_3m": 110.0, "aum_earlier_3m": 100.0},  # trend 1.10: growth
        {"aum_recent_3m": 109.99, "aum_earlier_3m": 100.0},  # 1.0999: mature
        {"aum_recent_3m": 90.0, "aum_earlier_3m": 100.0},  # 0.90: decline
        {"aum_recent_3m": 100.0, "aum_earlier_3m": np.nan},  # no trend: mature
        {"aum_recent_3m": 5.0, "aum_earlier_3m": 0.0},  # from nothing: growth
        CLOSED,
    )
    got = sg.lifecycle_stage(c, S)
    assert got.iloc[:8].tolist() == [
        "new",
        "dormant",
        "mature",
        "growth",
        "mature",
        "decline",
        "mature",
        "growth",
    ]
    assert pd.isna(got.iloc[8])


def test_classify_adds_columns_and_does_not_change_its_input():
    c = frame({"aum": 50_000.0, "aum_prev": 600_000.0, "txn_90d": 0.0}, CLOSED)
    before = c.copy()
    out = sg.classify(c, S)
    pd.testing.assert_frame_equal(c, before)
    assert out["asset_tier"].iloc[0] == "affluent" and out["asset_tier_prev"].iloc[0] == "wealth"
    assert out["activity_tier"].iloc[0] == "dormant"
    assert pd.isna(out["asset_tier"].iloc[1]) and pd.isna(out["composite"].iloc[1])
    assert out["asset_tier_prev"].iloc[1] == "affluent"  # 100,000 last month


def test_previous_shows_the_rows_as_of_last_period():
    c = frame(
        {
            "aum": 50_000.0,
            "aum_prev": 600_000.0,
            "txn_90d": 2.0,
            "txn_90d_prev": 0.0,
            "credit_grade": "C",
        }
    )
    before = c.copy()
    p = sg.previous(c)
    pd.testing.assert_frame_equal(c, before)
    row = p.iloc[0]
    assert (row["aum"], row["txn_90d"], row["credit_grade"], row["tenure_months"]) == (
        600_000.0,
        0.0,
        "A",
        23.0,
    )
    assert not row["open_prev"] and pd.isna(row["aum_prev"])
    assert pd.isna(row["pct_aum"]) and pd.isna(row["r_score"]) and pd.isna(row["cluster"])
    out = sg.classify(p, S)
    assert out["asset_tier"].iloc[0] == "wealth" and out["activity_tier"].iloc[0] == "dormant"
    assert pd.isna(out["level"].iloc[0])  # no bank-wide ranks for last period


def test_percentile_rank_average_ties():
    assert sg.percentile_rank(pd.Series([0.0, 0.0, 5.0])).tolist() == pytest.approx(
        [50.0, 50.0, 100.0]
    )
    # ranks 1 and 2 of the 2 known values: 100 * 1/2, 100 * 2/2
    got = sg.percentile_rank(pd.Series([10.0, np.nan, 30.0]))
    assert got.iloc[0] == 50.0 and pd.isna(got.iloc[1]) and got.iloc[2] == 100.0


def test_quintile_score_distinct_ties_and_single():
    assert sg.quintile_score(pd.Series([10, 20, 30, 40, 50])).tolist() == [1, 2, 3, 4, 5]
    # four ties share ranks 1-4 (average 2.5): ceil(5 * 2.5/5) = 3; the top value: 5
    assert sg.quintile_score(pd.Series([1, 1, 1, 1, 2])).tolist() == [3, 3, 3, 3, 5]
    assert sg.quintile_score(pd.Series([7.0])).tolist() == [5]


def test_rfm_scores_rank_active_customers_and_give_1_to_the_rest():
    c = frame(
        {"recency_days": 1.0, "frequency_12m": 10.0, "monetary_12m": 500.0},
        {"recency_days": 10.0, "frequency_12m": 5.0, "monetary_12m": 1_000.0},
        {"recency_days": np.nan, "frequency_12m": 0.0, "monetary_12m": 0.0},  # no transaction
        {**CLOSED, "frequency_12m": 3.0},
    )
    got = sg.rfm_scores(c)
    # two active customers: the better gets ceil(5 * 2/2) = 5, the other ceil(5 * 1/2) = 3
    assert got.iloc[0].tolist() == [5.0, 5.0, 3.0]
    assert got.iloc[1].tolist() == [3.0, 3.0, 5.0]
    assert got.iloc[2].tolist() == [1.0, 1.0, 1.0]
    assert got.iloc[3].isna().all()


def test_credit_score_orders_the_five_classes_and_keeps_no_credit_neutral():
    worst = pd.Series(["pass", "special_mention", "substandard", "doubtful", "loss", None])
    got = sg.credit_score(worst, S.bank_wide.credit_points)
    # pass 100 > special mention 37.5 > substandard 25 > doubtful 12.5 > loss 0; no loan 50
    assert got.tolist() == [100.0, 37.5, 25.0, 12.5, 0.0, 50.0]
    # no loan is neither the best record (pass) nor a bad one
    assert got.iloc[4] < got.iloc[5] < got.iloc[0]
    mine = sg.CreditPoints.model_validate({"pass": 90, "no_credit": 90})
    assert sg.credit_score(worst, mine).tolist() == [90.0, 37.5, 25.0, 12.5, 0.0, 90.0]


def test_special_mention_and_loss_no_longer_score_alike():
    common = {"pct_aum": 50.0, "pct_activity": 50.0, "pct_products": 50.0, "pct_tenure": 50.0}
    points = sg.credit_score(
        pd.Series(["pass", "special_mention", "loss", None]), S.bank_wide.credit_points
    )
    c = frame(*({**common, "pct_credit": p} for p in points))
    got = sg.composite_score(c, S.weights).tolist()
    # 0.8 * 50 = 40 from the four ranks, plus 0.2 x the credit points
    assert got == pytest.approx([60.0, 47.5, 40.0, 50.0])
