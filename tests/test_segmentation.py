"""Tests of the segmentation report's library: hand-built frames, hand-computed values."""

import math
import types
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from branchbook import i18n
from branchbook import segmentation as sg

S = sg.Settings()

# One row of segmentation_customers as prepare() returns it; tests override what matters.
BASE = {
    "branch_id": "0101",
    "manager_id": "S01",
    "name": "Wang Fang",
    "customer_type": "individual",
    "open_now": True,
    "open_prev": True,
    "tenure_months": 24.0,
    "deposits": 100_000.0,
    "wealth": 0.0,
    "aum": 100_000.0,
    "products_held": 2.0,
    "aum_prev": 100_000.0,
    "products_held_prev": 2.0,
    "aum_recent_3m": 100_000.0,
    "aum_earlier_3m": 100_000.0,
    "aum_recent_3m_prev": 100_000.0,
    "aum_earlier_3m_prev": 100_000.0,
    "txn_90d": 10.0,
    "txn_90d_prev": 10.0,
    "recency_days": 5.0,
    "recency_days_prev": 5.0,
    "frequency_12m": 40.0,
    "monetary_12m": 1_000.0,
    "credit_grade": "A",
    "credit_grade_prev": "A",
    "pct_aum": 50.0,
    "pct_activity": 50.0,
    "pct_products": 50.0,
    "pct_tenure": 50.0,
    "pct_credit": 50.0,
    "r_score": 3.0,
    "f_score": 3.0,
    "m_score": 3.0,
    "cluster": 1,
    "cluster_label": "mid_value_active",
}


def frame(*rows: dict) -> pd.DataFrame:
    """Customer rows C1, C2, ... from BASE plus each row's overrides."""
    recs = [{"customer_id": f"C{i + 1}", **BASE, **r} for i, r in enumerate(rows)]
    df = pd.DataFrame(recs, columns=["customer_id", *BASE])
    return df.astype({"cluster": "Int64"})


CLOSED = {"open_now": False, "aum": np.nan, "txn_90d": np.nan, "deposits": np.nan}


def empty() -> pd.DataFrame:
    return frame({}).iloc[0:0]


def months(period: str, n: int) -> list[str]:
    y, m = (int(p) for p in period.split("-"))
    out = [(y * 12 + m - 1 - i) for i in range(n)]
    return [f"{v // 12:04d}-{v % 12 + 1:02d}" for v in reversed(out)]


# ------------------------------------------------------------------------ settings


def test_default_settings_are_valid_and_documented_defaults():
    assert S.asset_tiers.affluent == 50_000.0 and S.asset_tiers.private == 6_000_000.0
    assert (S.activity_tiers.low, S.activity_tiers.medium, S.activity_tiers.high) == (1, 6, 21)
    assert math.isclose(sum(S.weights.model_dump().values()), 1.0)
    assert S.level_cutoffs == [30.0, 45.0, 60.0, 75.0]
    assert set(S.kpi_status) <= set(sg.KPI_NAMES)


def test_settings_accept_whole_numbers_for_floats_and_refuse_floats_for_ints():
    s = sg.Settings.model_validate(
        {"asset_tiers": {"affluent": 10000, "wealth": 100000, "private": 1000000}}
    )
    assert s.asset_tiers.affluent == 10_000.0
    with pytest.raises(ValidationError):
        sg.Settings.model_validate({"activity_tiers": {"low": 1.5}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weights": {"aum": 0.5}}, "sum to 1"),
        ({"asset_tiers": {"wealth": 40_000.0}}, "strictly increase"),
        ({"activity_tiers": {"medium": 30}}, "strictly increase"),
        ({"level_cutoffs": [10.0, 20.0, 30.0]}, "expected 4 cut-offs"),
        ({"level_cutoffs": [10.0, 20.0, 30.0, 100.0]}, "between 0 and 100"),
        ({"level_cutoffs": [10.0, 30.0, 20.0, 40.0]}, "strictly increase"),
        ({"kpi_status": {"nps": {"good": "high", "green": 1.0, "amber": 0.5}}}, "unknown KPI"),
        (
            {"kpi_status": {"active_share": {"good": "high", "green": 0.3, "amber": 0.5}}},
            "green >= amber",
        ),
        ({"lifecycle": {"decline_ratio": 1.2}}, "less than 1"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_settings_refuse_bad_values(data, message):
    with pytest.raises(ValidationError, match=message):
        sg.Settings.model_validate(data)


def test_rag_status_both_directions_and_edges():
    high = sg.Rag(good="high", green=0.6, amber=0.4)
    low = sg.Rag(good="low", green=0.8, amber=0.9)
    assert [sg.rag_status(v, high) for v in (0.6, 0.59, 0.4, 0.39)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    assert [sg.rag_status(v, low) for v in (0.8, 0.81, 0.9, 0.91)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    assert sg.rag_status(math.nan, high) is None
    assert sg.rag_status(0.5, None) is None


# -------------------------------------------------------------------- classification


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


# ------------------------------------------------------------------ bank-wide measures


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


def test_credit_quality_points_and_no_credit():
    g = pd.Series(["A", "B", "C", "D", "no_credit"])
    assert sg.credit_quality(g, "A").tolist() == [4.0, 3.0, 2.0, 1.0, 4.0]
    assert sg.credit_quality(g, "C").tolist() == [4.0, 3.0, 2.0, 1.0, 2.0]


def test_kmeans_finds_separated_groups_deterministically():
    x = np.array([[0.0, 0.0], [0.0, 0.1], [10.0, 10.0], [10.0, 10.1]])
    c = sg.kmeans(x, 2, seed=7)
    got = sorted(map(tuple, np.round(c, 6)))
    assert got == [(0.0, 0.05), (10.0, 10.05)]
    np.testing.assert_array_equal(c, sg.kmeans(x, 2, seed=7))
    assert len(sg.kmeans(np.ones((3, 2)), 3, seed=1)) == 1  # one distinct row: one centre
    assert sg.kmeans(np.empty((0, 2)), 3, seed=1).shape == (0, 2)


def test_cluster_label_and_trait_edges():
    assert sg.cluster_label(500_000.0, 6.0, S) == "high_value_active"
    assert sg.cluster_label(499_999.99, 5.99, S) == "mid_value_occasional"
    assert sg.cluster_label(50_000.0, 1.0, S) == "mid_value_occasional"
    assert sg.cluster_label(49_999.0, 0.5, S) == "low_value_dormant"
    assert set(sg.CLUSTER_LABELS) >= {"high_value_active", "low_value_dormant"}
    assert sg.cluster_trait(0.4, -0.4) == "typical"
    assert sg.cluster_trait(0.5, -0.5) == "many_products"  # tie: products first
    assert sg.cluster_trait(0.6, 0.7) == "long_tenure"
    assert sg.cluster_trait(-0.8, 0.7) == "few_products"
    assert sg.cluster_trait(0.1, -0.9) == "short_tenure"


def _two_groups() -> pd.DataFrame:
    rich = {"aum": 1_000_000.0, "txn_90d": 30.0, "products_held": 5.0, "tenure_months": 100.0}
    poor = {"aum": 1_000.0, "txn_90d": 0.0, "products_held": 1.0, "tenure_months": 3.0}
    return frame(rich, poor, rich, poor, {**rich, "aum": 1_100_000.0}, poor, CLOSED)


def test_fit_and_assign_clusters():
    s = sg.Settings(bank_wide=sg.BankWide(clusters=2))
    c = _two_groups()
    clusters = sg.fit_clusters(c, s)
    assert clusters["cluster"].tolist() == [1, 2]  # numbered by falling centre AUM
    assert clusters["label"].tolist() == ["high_value_active", "low_value_dormant"]
    # products 5 vs 1 (mean 3, sd 2): z = +1 / -1; tenure z also +1 / -1: tie -> products
    assert clusters["trait"].tolist() == ["many_products", "few_products"]
    assert clusters["customers"].tolist() == [3, 3]
    assert clusters["customer_share"].tolist() == [0.5, 0.5]
    assert clusters["centre_products"].tolist() == pytest.approx([5.0, 1.0])
    assert clusters["centre_tenure"].tolist() == pytest.approx([100.0, 3.0])
    got = sg.assign_clusters(c, clusters)
    assert got.iloc[:6].tolist() == [1, 2, 1, 2, 1, 2]
    assert got.isna().iloc[6]
    pd.testing.assert_frame_equal(clusters, sg.fit_clusters(c, s))  # same seed, same fit


def test_cluster_profile_beside_bank_share():
    s = sg.Settings(bank_wide=sg.BankWide(clusters=2))
    c = _two_groups()
    clusters = sg.fit_clusters(c, s)
    branch = c.assign(cluster=sg.assign_clusters(c, clusters)).iloc[[0, 1, 3]]  # 1 rich, 2 poor
    got = sg.cluster_profile(sg.classify(branch, s), clusters)
    assert got["customers"].tolist() == [1, 2]
    assert got["customer_share"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert got["bank_share"].tolist() == [0.5, 0.5]
    # AUM 1,000,000 of 1,002,000; 2,000 of 1,002,000
    assert got["aum_share"].tolist() == pytest.approx([1_000_000 / 1_002_000, 2_000 / 1_002_000])
    assert got["median_aum"].tolist() == [1_000_000.0, 1_000.0]
    assert got["mean_txn_90d"].tolist() == [30.0, 0.0]
    assert got["label"].tolist() == ["high_value_active", "low_value_dormant"]
    nobody = sg.cluster_profile(sg.classify(empty(), s), clusters)
    assert nobody["customers"].tolist() == [0, 0] and nobody["customer_share"].isna().all()


# --------------------------------------------------------------------------- tables


def test_tier_summary_counts_and_shares():
    c = sg.classify(
        frame({"aum": 10_000.0}, {"aum": 20_000.0}, {"aum": 100_000.0}, {"aum": 870_000.0}, CLOSED),
        S,
    )
    got = sg.tier_summary(c)
    assert got.index.tolist() == ["mass", "affluent", "wealth", "private"]
    assert got["customers"].tolist() == [2, 1, 1, 0]
    assert got["customer_share"].tolist() == pytest.approx([0.5, 0.25, 0.25, 0.0])  # of 4 open
    assert got["aum"].tolist() == [30_000.0, 100_000.0, 870_000.0, 0.0]
    # of 1,000,000 total: 0.03, 0.10, 0.87, 0
    assert got["aum_share"].tolist() == pytest.approx([0.03, 0.10, 0.87, 0.0])
    assert got["avg_aum"].iloc[:3].tolist() == [15_000.0, 100_000.0, 870_000.0]
    assert pd.isna(got["avg_aum"].iloc[3])


def test_tier_summary_by_activity_level_and_credit():
    c = sg.classify(
        frame(
            {"txn_90d": 0.0, "credit_grade": "no_credit"},
            {"txn_90d": 25.0, "credit_grade": "D", "pct_aum": 100.0, "pct_activity": 100.0},
        ),
        S,
    )
    act = sg.tier_summary(c, "activity_tier")
    assert act["customers"].tolist() == [1, 0, 0, 1]  # dormant, low, medium, high
    assert sg.tier_summary(c, "credit_grade")["customers"].tolist() == [0, 0, 0, 1, 1]
    # composites: 50 (level 3) and 0.35*100 + 0.2*100 + 0.45*50 = 77.5 (level 5)
    assert sg.tier_summary(c, "level")["customers"].tolist() == [0, 0, 1, 0, 1]


def test_type_split_with_only_corporate_customers():
    c = sg.classify(
        frame(
            {"customer_type": "corporate", "aum": 100.0},
            {"customer_type": "corporate", "aum": 300.0},
        ),
        S,
    )
    got = sg.type_split(c)
    assert got.index.tolist() == ["individual", "corporate"]
    assert got["customers"].tolist() == [0, 2]
    assert got["customer_share"].tolist() == [0.0, 1.0]
    assert got["aum_share"].tolist() == [0.0, 1.0]
    assert got.loc["corporate", "avg_aum"] == 200.0 and pd.isna(got.loc["individual", "avg_aum"])


def test_lorenz_points_interpolation_and_edges():
    got = sg.lorenz(pd.Series([40.0, 10.0, 30.0, 20.0]))
    assert got["customer_share"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    # cumulative 0, 10, 30, 60, 100 of 100
    assert got["aum_share"].tolist() == pytest.approx([0.0, 0.1, 0.3, 0.6, 1.0])
    small = sg.lorenz(pd.Series([40.0, 10.0, 30.0, 20.0]), points=3)
    assert small["customer_share"].tolist() == [0.0, 0.5, 1.0]
    assert small["aum_share"].tolist() == pytest.approx([0.0, 0.3, 1.0])
    assert sg.lorenz(pd.Series([], dtype=float)).empty
    assert sg.lorenz(pd.Series([0.0, 0.0]))["aum_share"].isna().all()


def test_top_share_rounds_customers_up():
    assert sg.top_share(pd.Series([10.0, 20.0, 30.0, 40.0])) == pytest.approx(
        0.4
    )  # ceil(0.8)=1: 40/100
    assert sg.top_share(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])) == pytest.approx(
        5 / 15
    )  # ceil(1.0)=1
    assert sg.top_share(pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])) == pytest.approx(
        11 / 21
    )  # 2: 6+5
    assert sg.top_share(pd.Series([5.0])) == 1.0
    assert math.isnan(sg.top_share(pd.Series([], dtype=float)))
    assert math.isnan(sg.top_share(pd.Series([0.0, 0.0])))


def test_gini_values_and_edges():
    assert sg.gini(pd.Series([1.0, 1.0, 1.0, 1.0])) == pytest.approx(0.0)
    # x = 0,0,0,10: 2*(4*10)/(4*10) - 5/4 = 0.75
    assert sg.gini(pd.Series([10.0, 0.0, 0.0, 0.0])) == pytest.approx(0.75)
    # x = 10,20,30,40: sum(i*x) = 10+40+90+160 = 300; 2*300/(4*100) - 5/4 = 0.25
    assert sg.gini(pd.Series([40.0, 10.0, 30.0, 20.0])) == pytest.approx(0.25)
    assert sg.gini(pd.Series([7.0])) == 0.0
    assert math.isnan(sg.gini(pd.Series([], dtype=float)))
    assert math.isnan(sg.gini(pd.Series([0.0, 0.0])))


def _moves() -> pd.DataFrame:
    return sg.classify(
        frame(
            {"aum": 40_000.0, "aum_prev": 600_000.0},  # wealth -> mass
            {"aum": 60_000.0, "aum_prev": 40_000.0},  # mass -> affluent
            {"aum": 6_500_000.0, "aum_prev": 7_000_000.0},  # private -> private
            {"aum": 1_000.0, "aum_prev": np.nan, "open_prev": False},  # new -> mass
            {**CLOSED, "aum_prev": 50_000.0},  # affluent -> closed
        ),
        S,
    )


def test_migration_matrix():
    got = _moves().pipe(sg.migration_matrix)
    assert got.index.tolist() == ["mass", "affluent", "wealth", "private", "new"]
    assert got.columns.tolist() == ["mass", "affluent", "wealth", "private", "closed"]
    assert got.loc["wealth", "mass"] == 1
    assert got.loc["mass", "affluent"] == 1
    assert got.loc["private", "private"] == 1
    assert got.loc["new", "mass"] == 1
    assert got.loc["affluent", "closed"] == 1
    assert int(got.to_numpy().sum()) == 5
    assert sg.migration_counts(_moves()) == {
        "upgraded": 1,
        "downgraded": 1,
        "unchanged": 1,
        "new": 1,
        "closed": 1,
    }


def test_action_list_reasons_order_and_columns():
    top = {
        "pct_aum": 100.0,
        "pct_activity": 100.0,
        "pct_products": 100.0,
        "pct_tenure": 100.0,
        "pct_credit": 100.0,
    }
    c = sg.classify(
        frame(
            {"aum": 40_000.0, "aum_prev": 600_000.0, "txn_90d": 5.0},  # slipped
            {"aum": 800_000.0, "aum_prev": 800_000.0, "txn_90d": 0.0},  # dormant wealth
            {"aum": 550_000.0, "aum_prev": 7_000_000.0, "txn_90d": 0.0},  # both
            {"aum": 30_000.0, "aum_prev": 30_000.0, "txn_90d": 0.0, **top},  # dormant 5-star mass
            {"aum": 30_000.0, "aum_prev": 30_000.0, "txn_90d": 0.0},  # dormant 3-star mass: no
            {"aum": 7_000_000.0, "aum_prev": 7_000_000.0, "txn_90d": 10.0},  # fine
            {
                "aum": 9_000_000.0,
                "aum_prev": np.nan,
                "open_prev": False,
                "txn_90d": 0.0,
                "recency_days": np.nan,
            },
        ),
        S,
    )
    got = sg.action_list(c)
    assert got["customer_id"].tolist() == ["C7", "C2", "C3", "C1", "C4"]  # by AUM
    assert got["reason"].tolist() == [
        "dormant_high_value",
        "dormant_high_value",
        "both",
        "slipped_tier",
        "dormant_high_value",
    ]
    assert got.columns.tolist() == [
        "customer_id",
        "manager_id",
        "name",
        "reason",
        "asset_tier",
        "asset_tier_prev",
        "level",
        "activity_tier",
        "aum",
        "aum_prev",
        "recency_days",
    ]
    assert got.loc[2, "asset_tier"] == "wealth" and got.loc[2, "asset_tier_prev"] == "private"
    assert pd.isna(got.loc[0, "recency_days"]) and pd.isna(got.loc[0, "asset_tier_prev"])
    assert sg.action_list(c, limit=2)["customer_id"].tolist() == ["C7", "C2"]


def test_rfm_distribution_and_grid():
    c = frame(
        {"r_score": 5.0, "f_score": 1.0, "m_score": 2.0},
        {"r_score": 5.0, "f_score": 1.0, "m_score": 5.0},
        {"r_score": 1.0, "f_score": 3.0, "m_score": 5.0},
        {**CLOSED, "r_score": np.nan},
    )
    dist = sg.rfm_distribution(c)
    assert dist.index.tolist() == [1, 2, 3, 4, 5]
    assert dist["r"].tolist() == [1, 0, 0, 0, 2]
    assert dist["f"].tolist() == [2, 0, 1, 0, 0]
    assert dist["m"].tolist() == [0, 1, 0, 0, 2]
    grid = sg.rfm_grid(c)
    assert grid.index.tolist() == [5, 4, 3, 2, 1] and grid.columns.tolist() == [1, 2, 3, 4, 5]
    assert grid.loc[5, 1] == 2 and grid.loc[1, 3] == 1 and int(grid.to_numpy().sum()) == 3


# ----------------------------------------------------------------- KPIs and benchmark


def _kpi_rows() -> pd.DataFrame:
    return sg.classify(
        frame(
            {"aum": 7_000_000.0, "txn_90d": 0.0},  # private, dormant
            {"aum": 600_000.0, "txn_90d": 3.0},  # wealth, low
            {"aum": 40_000.0, "txn_90d": 25.0},  # mass, high
            {"aum": 10_000.0, "txn_90d": 0.0},  # mass, dormant
            {"aum": 2_000.0, "txn_90d": 8.0},  # mass, medium
            CLOSED,
        ),
        S,
    )


def test_kpis():
    got = sg.kpis(_kpi_rows())
    assert set(got) == set(sg.KPI_NAMES)
    assert got["customers"] == 5.0
    assert got["aum_total"] == 7_652_000.0  # 7,000,000 + 600,000 + 40,000 + 10,000 + 2,000
    assert got["top20_share"] == pytest.approx(7_000_000 / 7_652_000)  # ceil(0.2*5) = 1 customer
    assert got["active_share"] == pytest.approx(0.6)  # 3 of 5 not dormant
    assert got["high_value_customers"] == 2.0
    assert got["dormant_high_value_share"] == 0.5  # 1 of the 2 high-value customers


def test_dormant_high_value_group_and_its_aum_change():
    c = sg.classify(
        frame(
            {"aum": 600_000.0, "aum_prev": 800_000.0, "txn_90d": 0.0},
            {"aum": 7_000_000.0, "aum_prev": 7_000_000.0, "txn_90d": 0.0},
            {"aum": 900_000.0, "aum_prev": np.nan, "open_prev": False, "txn_90d": 0.0},  # new
            {"aum": 900_000.0, "txn_90d": 1.0},  # active
            {"aum": 1_000.0, "txn_90d": 0.0},  # not high value
        ),
        S,
    )
    got = sg.dormant_high_value(c)
    assert got["count"] == 3.0 and got["aum"] == 8_500_000.0
    # customers open at both periods: 7,600,000 now against 7,800,000 last month
    assert got["aum_prev"] == 7_800_000.0
    assert got["aum_change"] == pytest.approx(7_600_000 / 7_800_000 - 1)
    assert sg.kpis(c)["dormant_high_value_share"] == pytest.approx(3 / 4)
    none = sg.dormant_high_value(sg.classify(empty(), S))
    assert none["count"] == 0.0 and math.isnan(none["aum_change"])
    assert math.isnan(sg.kpis(sg.classify(frame({"aum": 10.0}), S))["dormant_high_value_share"])


def _bench() -> pd.DataFrame:
    rows = []
    for bid, customers, active, top20, mass, decline in [
        ("0101", 5.0, 0.6, 0.9, 0.6, 0.0),
        ("0102", 10.0, 0.5, 0.8, 0.5, 0.1),
        ("0103", 2.0, 0.9, 0.7, 0.7, 0.2),
    ]:
        rows.append(
            {
                "branch_id": bid,
                "period": "2026-10",
                "customers": customers,
                "aum_total": 1e6,
                "top20_share": top20,
                "active_share": active,
                "high_value_customers": 1.0,
                "dormant_high_value_share": 0.2,
                "share_asset_tier_mass": mass,
                "aum_share_asset_tier_mass": mass / 10,
                "share_lifecycle_decline": decline,
            }
        )
    rows.append({**rows[0], "period": "2026-09", "active_share": 0.1})
    return pd.DataFrame(rows)


def test_bank_median_uses_the_period_only():
    assert sg.bank_median(_bench(), "active_share", "2026-10") == 0.6  # median of 0.6, 0.5, 0.9
    assert sg.bank_median(_bench(), "active_share", "2026-09") == 0.1
    assert math.isnan(sg.bank_median(_bench(), "active_share", "2020-01"))
    assert math.isnan(sg.bank_median(_bench(), "no_such_column", "2026-10"))


def test_branch_vs_bank():
    c = _kpi_rows()  # mass 3 of 5 = 0.6; wealth 1, private 1
    got = sg.branch_vs_bank(c, _bench(), period="2026-10")
    assert got.loc["mass", "branch_share"] == pytest.approx(0.6)
    assert got.loc["mass", "bank_median"] == pytest.approx(0.6)  # median of 0.6, 0.5, 0.7
    assert got.loc["mass", "gap"] == pytest.approx(0.0)
    assert got.loc["mass", "branch_aum_share"] == pytest.approx(52_000 / 7_652_000)
    assert got.loc["mass", "bank_median_aum_share"] == pytest.approx(0.06)
    assert math.isnan(got.loc["wealth", "bank_median"])  # not in this bench
    life = sg.branch_vs_bank(c, _bench(), period="2026-10", by="lifecycle")
    assert "branch_aum_share" not in life and life.loc["decline", "bank_median"] == pytest.approx(
        0.1
    )


def test_kpi_table_change_median_rank_status():
    now = {**sg.kpis(_kpi_rows())}
    before = {**now, "customers": 4.0, "active_share": 0.5}
    got = sg.kpi_table(
        now, before, bench=_bench(), branch_id="0101", period="2026-10", settings=S
    ).set_index("kpi")
    assert got.index.tolist() == list(sg.KPI_NAMES)
    assert got.loc["customers", "change"] == 1.0 and got.loc[
        "customers", "change_rel"
    ] == pytest.approx(0.25)
    assert got.loc["active_share", "change"] == pytest.approx(0.1)
    assert got.loc["customers", "bank_median"] == 5.0  # median of 5, 10, 2
    # customers 5 against the other branches 10 and 2: one better -> rank 2 of 3
    assert (got.loc["customers", "rank"], got.loc["customers", "branches"]) == (2.0, 3.0)
    # active share 0.6 against 0.5 and 0.9 (higher is better): rank 2
    assert got.loc["active_share", "rank"] == 2.0
    # top-20 share 0.915 against 0.8 and 0.7 (lower is better): rank 3
    assert got.loc["top20_share", "rank"] == 3.0
    assert got.loc["top20_share", "status"] == "red"  # 0.915 > amber 0.90
    assert got.loc["active_share", "status"] == "green"  # 0.6 >= green 0.60
    assert got.loc["dormant_high_value_share", "status"] == "red"  # 0.5 > amber 0.25
    assert pd.isna(got.loc["customers", "status"])  # no thresholds


def test_summary_facts_for_a_branch_with_problems():
    rows = frame(
        {
            "aum": 7_000_000.0,
            "aum_prev": 7_000_000.0,
            "txn_90d": 0.0,
            "txn_90d_prev": 5.0,
        },  # dormant private
        {"aum": 40_000.0, "aum_prev": 600_000.0, "txn_90d": 3.0},  # wealth -> mass
        {"aum": 60_000.0, "aum_prev": 60_000.0},
        {"aum": 100_000.0, "aum_prev": 100_000.0},
        {"aum": 1_000.0, "aum_prev": np.nan, "open_prev": False, "txn_90d": 1.0},  # new
    )
    now, before = sg.classify(rows, S), sg.classify(sg.previous(rows), S)
    facts = sg.summary_facts(now, before, bench=_bench(), period="2026-10", settings=S)
    keys = [k for k, _ in facts]
    assert keys == [
        "segmentation.summary.overview",
        "segmentation.summary.dormant_high_value_above_bank",
        "segmentation.summary.tier_slippage",
        "segmentation.summary.aum_concentration",
        "segmentation.summary.active_above_bank",
    ]
    v = dict(facts)
    # 5 customers now, 4 before; AUM 7,201,000 now, 7,760,000 before
    assert v[keys[0]]["customers"] == 5.0
    assert v[keys[0]]["customers_change"] == pytest.approx(0.25)
    assert v[keys[0]]["aum_change"] == pytest.approx(7_201_000 / 7_760_000 - 1)
    # the one high-value customer is dormant: share 1.0 against the median 0.2
    assert v[keys[1]] == {
        "count": 1.0,
        "aum": 7e6,
        "aum_change": 0.0,
        "share": 1.0,
        "bank_median": 0.2,
    }
    assert v[keys[2]] == {"downgraded": 1, "upgraded": 0}
    assert v[keys[3]]["top20_share"] == pytest.approx(7_000_000 / 7_201_000)
    assert v[keys[3]]["bank_median"] == pytest.approx(0.8)
    # active 4 of 5 = 0.8 against the median 0.6: 0.2 >= fact_gap 0.05
    assert v[keys[4]] == {"active_share": pytest.approx(0.8), "bank_median": pytest.approx(0.6)}


def test_summary_facts_for_a_quiet_branch_and_a_first_period():
    rows = frame(
        {"aum": 600_000.0, "aum_prev": 600_000.0, "txn_90d": 2.0},
        {"aum": 400_000.0, "aum_prev": 400_000.0},
    )
    bench = _bench().assign(active_share=1.0)
    facts = sg.summary_facts(
        sg.classify(rows, S),
        sg.classify(sg.previous(rows), S),
        bench=bench,
        period="2026-10",
        settings=S,
    )
    assert [k for k, _ in facts] == [
        "segmentation.summary.overview",
        "segmentation.summary.aum_concentration",
        "segmentation.summary.high_value",
    ]
    assert facts[0][1]["aum_change"] == 0.0
    assert facts[2][1] == {"count": 1.0, "aum_share": pytest.approx(0.6)}  # 600,000 of 1,000,000
    first = rows.assign(open_prev=False)
    facts = sg.summary_facts(
        sg.classify(first, S),
        sg.classify(sg.previous(first), S),
        bench=bench,
        period="2026-10",
        settings=S,
    )
    assert facts[0] == (
        "segmentation.summary.overview_first_period",
        {"customers": 2.0, "aum": 1_000_000.0},
    )


def test_decline_share_above_bank_is_a_fact():
    rows = frame({"aum_recent_3m": 50.0, "aum_earlier_3m": 100.0}, {})  # one of two in decline
    facts = sg.summary_facts(
        sg.classify(rows, S),
        sg.classify(sg.previous(rows), S),
        bench=_bench(),
        period="2026-10",
        settings=S,
    )
    got = dict(facts)["segmentation.summary.decline_above_bank"]
    assert got == {"decline_share": 0.5, "bank_median": pytest.approx(0.1)}


def test_an_empty_branch_gives_empty_tables_and_nan_never_an_error():
    c = sg.classify(empty(), S)
    assert sg.tier_summary(c)["customers"].tolist() == [0, 0, 0, 0]
    assert sg.tier_summary(c)["customer_share"].isna().all()
    assert sg.type_split(c)["aum_share"].isna().all()
    assert sg.lorenz(sg.open_customers(c)["aum"]).empty
    assert math.isnan(sg.gini(c["aum"])) and math.isnan(sg.top_share(c["aum"]))
    assert int(sg.migration_matrix(c).to_numpy().sum()) == 0
    assert sg.migration_counts(c)["new"] == 0
    assert sg.action_list(c).empty and "reason" in sg.action_list(c)
    assert int(sg.rfm_distribution(c).to_numpy().sum()) == 0
    assert int(sg.rfm_grid(c).to_numpy().sum()) == 0
    k = sg.kpis(c)
    assert (k["customers"], k["aum_total"], k["high_value_customers"]) == (0, 0, 0)
    assert math.isnan(k["top20_share"]) and math.isnan(k["active_share"])
    assert math.isnan(k["dormant_high_value_share"])
    assert sg.branch_vs_bank(c, _bench(), period="2026-10")["branch_share"].isna().all()
    table = sg.kpi_table(k, k, bench=_bench(), branch_id="0101", period="2026-10", settings=S)
    assert pd.isna(table.set_index("kpi").loc["active_share", "status"])
    assert sg.summary_facts(c, c, bench=_bench(), period="2026-10", settings=S) == [
        ("segmentation.summary.no_customers", {})
    ]


# ------------------------------------------------------------------------- catalogue


def test_every_key_the_module_names_exists_in_both_catalogues():
    keys = list(sg.DEFINITIONS.values())
    keys += [f"segmentation.kpis.{k}" for k in sg.KPI_NAMES]
    for dim, cats in sg.DIMENSIONS.items():
        keys += [f"segmentation.values.{dim}.{c}" for c in cats]
    keys += [f"segmentation.values.cluster.{c}" for c in sg.CLUSTER_LABELS]
    keys += [f"segmentation.values.cluster_trait.{c}" for c in sg.CLUSTER_TRAITS]
    keys += [f"segmentation.values.reason.{c}" for c in sg.ACTION_REASONS]
    keys += ["segmentation.values.asset_tier.new", "segmentation.values.asset_tier.closed"]
    for locale in ("en", "zh-CN"):
        missing = [k for k in keys if not i18n.has(k, locale)]
        assert missing == [], locale


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_summary_sentences_render(locale):
    values = {
        "customers": 1234.0,
        "customers_change": 0.05,
        "aum": 8.3e8,
        "aum_change": math.nan,
        "count": 3.0,
        "downgraded": 4,
        "upgraded": 1,
        "top20_share": 0.81,
        "bank_median": 0.78,
        "active_share": 0.6,
        "decline_share": 0.2,
        "aum_share": 0.4,
        "share": 0.3,
    }
    keys = [k for k in i18n.catalogue(locale) if k.startswith("segmentation.summary.")]
    assert len(keys) == 12
    for key in keys:
        assert "{" not in i18n.t(key, locale, **values)


# --------------------------------------------------------------------------- prepare


def _warehouse() -> duckdb.DuckDBPyConnection:
    d = date.fromisoformat
    customers = pd.DataFrame(
        [
            # id, branch, manager, type, opened, closed
            ("C01", "0101", "S01", "individual", "2020-01-15", None),
            ("C02", "0101", "S02", "corporate", "2026-08-10", None),
            ("C03", "0101", None, "individual", "2015-03-01", None),
            ("C04", "0102", "S03", "individual", "2024-10-01", "2026-10-15"),  # closed this month
            ("C05", "0102", "S03", "individual", "2026-10-05", None),  # new this month
            (
                "C06",
                "0102",
                "S03",
                "individual",
                "2026-10-03",
                "2026-10-20",
            ),  # never at a month end
            ("C07", "0101", "S01", "individual", "2019-01-01", "2026-09-30"),  # closed last month
            ("C08", "0102", "S03", "individual", "2023-01-01", None),  # no balances at all
        ],
        columns=[
            "customer_id",
            "branch_id",
            "manager_id",
            "customer_type",
            "opened_on",
            "closed_on",
        ],
    )
    customers["opened_on"] = customers["opened_on"].map(d)
    customers["closed_on"] = customers["closed_on"].map(
        lambda v: d(v) if isinstance(v, str) else None
    )
    customers["name"] = "Name " + customers["customer_id"]
    bal = []

    def add(cid, month, deposits, wealth=0.0, products=1):
        bal.append((cid, month, float(deposits), float(wealth), 0.0, products))

    for m in ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]:
        add("C01", m, 600_000)
        add("C03", m, 800_000, products=2)
    add("C01", "2026-09", 500_000, 100_000, 4)
    add("C01", "2026-10", 30_000, 20_000, 3)
    add("C02", "2026-08", 1_000_000)
    add("C02", "2026-09", 6_000_000, products=2)
    add("C02", "2026-10", 5_000_000, 2_000_000, 5)
    add("C03", "2026-09", 800_000, products=2)
    add("C03", "2026-10", 499_999.99, products=2)
    add("C04", "2026-09", 100_000)
    add("C05", "2026-10", 1_000)
    balances = pd.DataFrame(
        bal,
        columns=[
            "customer_id",
            "month",
            "deposits",
            "wealth",
            "loans_outstanding",
            "products_held",
        ],
    )
    txns = pd.DataFrame(
        [
            ("C01", "2026-10-31", 100.0),
            ("C01", "2026-08-03", 200.0),  # first day of the 90-day window
            ("C01", "2026-08-02", 300.0),  # just outside it, inside 12 months
            ("C01", "2025-11-01", 400.0),  # first day of the 12 months
            ("C01", "2025-10-31", 500.0),  # outside the 12 months
            ("C01", "2026-11-01", 999.0),  # after the period: ignored
            ("C03", "2025-12-15", 50.0),
            ("C05", "2026-10-06", 10.0),
        ],
        columns=["customer_id", "txn_date", "amount"],
    )
    txns["txn_date"] = txns["txn_date"].map(d)
    txns["txn_id"] = [f"T{i}" for i in range(len(txns))]
    txns["channel"], txns["direction"] = "mobile", "in"
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "customer_id": ["C01", "C01", "C01", "C03"],
            "branch_id": "0101",
        }
    )
    snaps = pd.DataFrame(
        [
            ("L1", "2026-10", 1_000.0, "pass"),
            ("L1", "2026-09", 1_000.0, "pass"),
            ("L2", "2026-10", 500.0, "substandard"),
            ("L2", "2026-09", 500.0, "pass"),
            ("L3", "2026-10", 0.0, "loss"),  # repaid: ignored
            ("L4", "2026-10", 800.0, "doubtful"),
            ("L4", "2026-09", 800.0, "doubtful"),
        ],
        columns=["loan_id", "month", "outstanding", "five_class"],
    )
    snaps["dpd"] = 0
    con = duckdb.connect()
    for name, df in {
        "customers": customers,
        "balances": balances,
        "transactions": txns,
        "loans": loans,
        "loan_snapshots": snaps,
    }.items():
        con.register(f"{name}_df", df)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    return con


def _ctx(con, settings=S):
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period="2026-10",
        prev_period="2026-09",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        months=lambda n: months("2026-10", n),
        settings=settings,
    )


@pytest.fixture(scope="module")
def prepared():
    return sg.prepare(_ctx(_warehouse()))


def test_prepare_returns_the_named_frames(prepared):
    assert set(prepared) == {
        "segmentation_customers",
        "bench_segmentation",
        "bench_segmentation_clusters",
    }
    c = prepared["segmentation_customers"]
    assert c["customer_id"].tolist() == [
        "C01",
        "C02",
        "C03",
        "C04",
        "C05",
        "C08",
    ]  # C06, C07 never open
    assert c["open_now"].tolist() == [True, True, True, False, True, True]
    assert c["open_prev"].tolist() == [True, True, True, True, False, True]
    assert {"branch_id", "manager_id", "name", "cluster", "cluster_label", "r_score"} <= set(
        c.columns
    )


def test_prepare_customer_measures(prepared):
    c = prepared["segmentation_customers"].set_index("customer_id")
    # tenure: calendar months from opening month to 2026-10
    assert c["tenure_months"].tolist() == [81.0, 2.0, 139.0, 24.0, 0.0, 45.0]
    assert c.loc["C01", "aum"] == 50_000.0 and c.loc["C01", "aum_prev"] == 600_000.0
    assert c.loc["C02", "aum"] == 7_000_000.0 and c.loc["C08", "aum"] == 0.0
    assert pd.isna(c.loc["C04", "aum"]) and c.loc["C04", "aum_prev"] == 100_000.0
    assert pd.isna(c.loc["C05", "aum_prev"])
    assert c.loc["C01", "products_held"] == 3.0 and c.loc["C01", "products_held_prev"] == 4.0
    # 3-month averages: (600,000 + 600,000 + 50,000) / 3 against 600,000
    assert c.loc["C01", "aum_recent_3m"] == pytest.approx(1_250_000 / 3)
    assert c.loc["C01", "aum_earlier_3m"] == pytest.approx(600_000)
    assert pd.isna(c.loc["C02", "aum_earlier_3m"])
    # C01: 90 days = 2026-08-03..2026-10-31 -> 2; 12 months from 2025-11-01 -> 4 for 1,000
    assert (
        c.loc["C01", "txn_90d"],
        c.loc["C01", "frequency_12m"],
        c.loc["C01", "monetary_12m"],
    ) == (2.0, 4.0, 1_000.0)
    assert c.loc["C01", "recency_days"] == 0.0
    # last period: 2026-07-03..2026-09-30 holds 08-02 and 08-03; last one 58 days before 09-30
    assert c.loc["C01", "txn_90d_prev"] == 2.0 and c.loc["C01", "recency_days_prev"] == 58.0
    assert c.loc["C03", "recency_days"] == 320.0  # 16 days of Dec 2025 + 304 of 2026
    assert c.loc["C02", "txn_90d"] == 0.0 and pd.isna(c.loc["C02", "recency_days"])
    assert c.loc["C05", "recency_days"] == 25.0
    assert c["credit_grade"].tolist()[:3] == ["C", "no_credit", "D"]
    assert c.loc["C01", "credit_grade_prev"] == "A"


def test_prepare_bank_wide_ranks_and_rfm(prepared):
    c = prepared["segmentation_customers"].set_index("customer_id").drop("C04")  # C04 not open
    order = ["C01", "C02", "C03", "C05", "C08"]
    # AUM 50,000 / 7,000,000 / 499,999.99 / 1,000 / 0 -> ranks 3, 5, 4, 2, 1 of 5
    assert c.loc[order, "pct_aum"].tolist() == pytest.approx([60.0, 100.0, 80.0, 40.0, 20.0])
    # 90-day counts 2 / 0 / 0 / 1 / 0: three zeros share rank 2 -> 40
    assert c.loc[order, "pct_activity"].tolist() == pytest.approx([100.0, 40.0, 40.0, 80.0, 40.0])
    # credit points C=2, no_credit=A=4, D=1, 4, 4 -> ranks 2, 4, 1, 4, 4
    assert c.loc[order, "pct_credit"].tolist() == pytest.approx([40.0, 80.0, 20.0, 80.0, 80.0])
    assert pd.isna(
        prepared["segmentation_customers"].set_index("customer_id").loc["C04", "pct_aum"]
    )
    # RFM among C01 (0 days, 4, 1,000), C03 (320, 1, 50), C05 (25, 1, 10)
    assert c.loc[order, "r_score"].tolist() == [5.0, 1.0, 2.0, 4.0, 1.0]
    assert c.loc[order, "f_score"].tolist() == [5.0, 1.0, 3.0, 3.0, 1.0]
    assert c.loc[order, "m_score"].tolist() == [5.0, 1.0, 4.0, 2.0, 1.0]
    out = sg.classify(c.reset_index(), S).set_index("customer_id")
    # C01: .35*60 + .2*100 + .15*80 + .1*80 + .2*40 = 69 (products rank 4, tenure rank 4)
    assert out.loc["C01", "composite"] == pytest.approx(69.0)
    assert out.loc["C01", "lifecycle"] == "decline"  # 416,667 / 600,000 = 0.69
    assert out.loc["C02", "lifecycle"] == "new"
    assert out.loc["C08", "lifecycle"] == "dormant"  # no transactions, AUM 0


def test_prepare_clusters(prepared):
    clusters = prepared["bench_segmentation_clusters"]
    c = prepared["segmentation_customers"].set_index("customer_id")
    assert len(clusters) == 5 and clusters["customers"].sum() == 5  # five distinct customers
    assert c.loc["C02", "cluster"] == 1 and c.loc["C02", "cluster_label"] == "high_value_dormant"
    assert c.drop("C04")["cluster"].nunique() == 5 and pd.isna(c.loc["C04", "cluster"])
    again = sg.assign_clusters(prepared["segmentation_customers"], clusters)
    assert again.tolist()[:3] == c["cluster"].tolist()[:3]


def test_prepare_bench(prepared):
    b = prepared["bench_segmentation"].set_index(["branch_id", "period"])
    assert sorted(b.index) == [
        ("0101", "2026-09"),
        ("0101", "2026-10"),
        ("0102", "2026-09"),
        ("0102", "2026-10"),
    ]
    now = b.loc[("0101", "2026-10")]
    assert now["customers"] == 3.0 and now["aum_total"] == pytest.approx(7_549_999.99)
    assert now["top20_share"] == pytest.approx(7_000_000 / 7_549_999.99)
    assert now["active_share"] == pytest.approx(1 / 3)
    assert (now["high_value_customers"], now["dormant_high_value"]) == (1.0, 1.0)
    assert now["dormant_high_value_share"] == 1.0
    assert now["share_asset_tier_affluent"] == pytest.approx(2 / 3)  # 50,000 and 499,999.99
    assert now["share_customer_type_corporate"] == pytest.approx(1 / 3)
    assert now["aum_share_asset_tier_private"] == pytest.approx(7_000_000 / 7_549_999.99)
    before = b.loc[("0101", "2026-09")]
    # 600,000 wealth, 6,000,000 private (at the bound), 800,000 wealth; only C01 active
    assert before["aum_total"] == 7_400_000.0
    assert (before["high_value_customers"], before["dormant_high_value"]) == (3.0, 2.0)
    assert before["dormant_high_value_share"] == pytest.approx(2 / 3)
    assert pd.isna(before["share_level_5"])  # levels are known for the period only
    other = b.loc[("0102", "2026-10")]
    assert (
        other["customers"],
        other["aum_total"],
        other["top20_share"],
        other["active_share"],
    ) == (2.0, 1_000.0, 1.0, 0.5)
    assert b.loc[("0102", "2026-09"), "active_share"] == 0.0
