"""Per-manager KPIs and the scorecard: scores, composite, ranks, forced ratings, veto."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    NAN,
    approx,
)


def _book(**cols) -> pd.DataFrame:
    base = dict.fromkeys(
        [
            "n_customers",
            "aum",
            "aum_prev",
            "deposits",
            "deposits_prev",
            "products_held",
            "new_customers",
            "book_outstanding",
            "loans",
            "loans_prev",
            "npl_outstanding",
            "new_npl",
            "outstanding_sq",
            "n_surveys",
            "csat_points",
            "n_complaints",
            "churn_base",
            "churned",
            "kyc_complete",
            "aml_open",
        ],
        0.0,
    )
    return pd.DataFrame([{**base, **c} for c in cols.get("rows", [])])


def test_manager_kpis_on_a_tiny_book_and_a_manager_without_customers():
    book = _book(
        rows=[
            dict(
                n_customers=4,
                aum=1000.0,
                aum_prev=800.0,
                deposits=600.0,
                deposits_prev=650.0,
                products_held=10,
                new_customers=1,
                book_outstanding=2000.0,
                loans=900.0,
                loans_prev=1000.0,
                npl_outstanding=100.0,
                new_npl=40.0,
                n_surveys=2,
                csat_points=150.0,
                n_complaints=1,
                churn_base=5,
                churned=1,
                kyc_complete=3,
                aml_open=2,
            ),
            dict(),  # a manager with no customers and no loans
        ]
    )
    before = book.copy()
    out = staff_kpi.manager_kpis(book)
    pd.testing.assert_frame_equal(book, before)  # input untouched
    a, z = out.iloc[0], out.iloc[1]
    assert a["net_new_aum"] == 200.0  # 1000 - 800
    assert a["aum_growth"] == approx(0.25)  # 200 / 800
    assert a["deposit_growth"] == -50.0  # 600 - 650
    assert a["loan_growth"] == -100.0  # customers' loans 900 - 1000
    assert a["products_per_customer"] == 2.5  # 10 / 4
    assert a["npl_ratio"] == 0.05  # 100 / 2000
    assert a["new_npl_rate"] == 0.02  # 40 / 2000
    assert a["csat"] == 75.0  # 150 points / 2 responses
    assert a["complaint_rate"] == 250.0  # 1 / 4 customers x 1000
    assert a["closure_rate"] == 0.2  # 1 / 5
    assert a["kyc_complete_rate"] == 0.75  # 3 / 4
    assert a["aml_open_rate"] == 500.0  # 2 / 4 x 1000
    # no customers: counts and growth are 0, every ratio is NaN
    assert z["net_new_aum"] == 0.0 and z["deposit_growth"] == 0.0 and z["loan_growth"] == 0.0
    for col in (
        "aum_growth",
        "products_per_customer",
        "npl_ratio",
        "new_npl_rate",
        "csat",
        "complaint_rate",
        "closure_rate",
        "kyc_complete_rate",
        "aml_open_rate",
    ):
        assert math.isnan(z[col]), col


def test_percentile_score_ties_groups_flip_single_and_missing():
    v = pd.Series([10.0, 20.0, 20.0, 40.0, 7.0, NAN])
    g = pd.Series(["p", "p", "p", "p", "s", "s"])
    # group p (n=4): below + half equal -> 10: 0.5/4, 20: 1.5/4 (x2), 40: 3.5/4
    assert staff_kpi.percentile_score(v, g).tolist() == approx([12.5, 50.0, 50.0, 87.5, 50.0, NAN])
    # lower is better: 100 - score; a lone member stays at 50
    assert staff_kpi.percentile_score(v, g, good="low").tolist() == approx(
        [87.5, 50.0, 50.0, 12.5, 50.0, NAN]
    )


def test_winsorise_clips_at_the_1st_and_99th_percentile():
    v = pd.Series([*range(100), 1000], dtype="float64")  # 0..99 and an outlier, 101 values
    w = staff_kpi.winsorise(v, 0.01, 0.99)
    # sorted positions 0..100: q01 at position 1 -> 1.0, q99 at position 99 -> 99.0
    assert w.min() == 1.0 and w.max() == 99.0
    assert w.iloc[50] == 50.0
    assert staff_kpi.winsorise(pd.Series([NAN, NAN])).isna().all()


def test_zscore_score_winsorised_within_grade_with_flip():
    v = pd.Series([1.0, 2.0, 3.0, 5.0, 5.0, 9.0, NAN])
    g = pd.Series(["a", "a", "a", "b", "b", "c", "a"])
    out = staff_kpi.zscore_score(v, g)
    # group a: q01 = 1 + 0.01 x 2 = 1.02, q99 = 2.98 -> [1.02, 2, 2.98]; mean 2,
    # sd = 0.98 x sqrt(2/3) = 0.800167, z = -+1.224745 -> Phi = 0.110335 / 0.889665
    assert out.tolist()[:3] == approx([11.0335, 50.0, 88.9665], rel=1e-4)
    # group b has no spread and group c one member: both score 50; a missing value is NaN
    assert out.tolist()[3:6] == approx([50.0, 50.0, 50.0])
    assert math.isnan(out.iloc[6])
    flipped = staff_kpi.zscore_score(v, g, good="low")
    assert flipped.tolist()[:3] == approx([88.9665, 50.0, 11.0335], rel=1e-4)


def test_zscore_winsorising_tames_an_outlier():
    v = pd.Series([*range(100), 1000], dtype="float64")
    out = staff_kpi.zscore_score(v)
    # after clipping the outlier sits at 99, the same score as the next value (99)
    assert out.iloc[100] == approx(out.iloc[99])
    assert out.iloc[100] < 99.0


def test_normalise_scores_within_month_and_grade():
    frame = pd.DataFrame(
        {
            "month": ["2026-10"] * 4,
            "grade": ["senior", "senior", "assistant", "assistant"],
            "net_new_aum": [100.0, 300.0, 5.0, 1.0],
            "npl_ratio": [0.02, 0.01, NAN, 0.5],
        }
    )
    out = staff_kpi.normalise(frame, ["net_new_aum", "npl_ratio"])
    # seniors: 100 -> 25, 300 -> 75; assistants: 5 -> 75, 1 -> 25
    assert out["score_net_new_aum"].tolist() == approx([25.0, 75.0, 75.0, 25.0])
    # npl lower is better: seniors 0.02 -> 25, 0.01 -> 75; lone assistant with loans -> 50
    assert out["score_npl_ratio"].tolist() == approx([25.0, 75.0, NAN, 50.0])


def test_composite_reweights_missing_dimensions():
    scores = pd.DataFrame(
        {
            "score_a": [80.0, 60.0, NAN],
            "score_b": [NAN, 20.0, NAN],
            "score_c": [40.0, 40.0, NAN],
            "score_d": [NAN, 100.0, NAN],
        }
    )
    card = {"growth": ["a"], "quality": ["b"], "service": ["c", "d"]}
    w = {"growth": 0.5, "quality": 0.3, "service": 0.2}
    out = staff_kpi.composite(scores, card, w)
    # row 0: quality missing -> (0.5 x 80 + 0.2 x 40) / 0.7 = 48 / 0.7 = 68.5714
    # row 1: service = (40 + 100) / 2 = 70 -> 0.5 x 60 + 0.3 x 20 + 0.2 x 70 = 30 + 6 + 14 = 50
    assert out["composite"].tolist() == approx([68.571429, 50.0, NAN])
    assert out["dim_service"].tolist() == approx([40.0, 70.0, NAN])


def test_rank_within_branch_ties_share_the_best_rank():
    v = pd.Series([70.0, 90.0, 70.0, 50.0, NAN])
    g = pd.Series(["0101", "0101", "0101", "0102", "0102"])
    assert staff_kpi.rank_within(v, g).tolist() == approx([2.0, 1.0, 2.0, 1.0, NAN])


def test_forced_distribution_exact_quotas():
    shares = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    s = pd.Series(np.arange(100.0, 0.0, -10.0))  # 10 distinct scores, best first
    # bands end at rank round(10 x 0.2) = 2, round(10 x 0.5) = 5, round(10 x 0.9) = 9, 10
    assert staff_kpi.forced_ratings(s, shares).tolist() == list("AABBBCCCCD")


def test_forced_distribution_ties_go_to_the_better_band_and_groups_are_separate():
    shares = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    s = pd.Series([90.0, 90.0, 70.0, 60.0, 50.0, 10.0, NAN])
    g = pd.Series(["x"] * 5 + ["y", "y"])
    out = staff_kpi.forced_ratings(s, shares, g)
    # x (n = 5): bands end at round(1.0) = 1, round(2.5) = 3, round(4.5) = 5, 5
    #   ranks 1, 1, 3, 4, 5 -> A, A (tie: 2 A for 1 place), B, C, C
    # y: one rated manager -> A ends at round(0.2) = 0, B at round(0.5) = 1 -> B
    assert out.tolist()[:6] == ["A", "A", "B", "C", "C", "B"]
    assert out.isna().tolist() == [False] * 6 + [True]


def test_forced_distribution_rounds_small_pools_to_the_nearest_manager():
    shares = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    # n = 7: bands end at round(1.4) = 1, round(3.5) = 4, round(6.3) = 6, 7
    assert staff_kpi.forced_ratings(pd.Series(np.arange(7.0, 0.0, -1.0)), shares).tolist() == list(
        "ABBBCCD"
    )
    # n = 1: A ends at round(0.2) = 0, B at round(0.5) = 1: a lone manager is B
    assert staff_kpi.forced_ratings(pd.Series([12.0]), shares).tolist() == ["B"]


def test_veto_caps_only_better_ratings_strictly_above_the_limit():
    ratings = pd.Series(["A", "B", "C", "D", "A", pd.NA, "B"], dtype="string")
    npl = pd.Series([0.06, 0.08, 0.5, 0.9, 0.05, 0.9, NAN])
    out = staff_kpi.apply_veto(ratings, npl, limit=0.05, cap="C")
    # A, B above 5% -> C; C, D kept; exactly 5% is not above; unrated stays; no loan book never vetoes
    assert out.tolist() == ["C", "C", "C", "D", "A", pd.NA, "B"]


def _kpi_frame() -> pd.DataFrame:
    """Four professionals in two branches (0102 has one) and one assistant too small to rate."""
    return pd.DataFrame(
        {
            "branch_id": ["0101", "0101", "0101", "0102", "0102"],
            "staff_id": ["S1", "S2", "S3", "S4", "S5"],
            "grade": ["professional", "professional", "professional", "professional", "assistant"],
            "month": ["2026-10"] * 5,
            "rated": [True, True, True, True, False],
            "net_new_aum": [400.0, 100.0, 300.0, 200.0, 0.0],
            "npl_ratio": [0.10, 0.01, NAN, 0.02, NAN],
        }
    )


def test_score_managers_end_to_end_on_a_tiny_bank():
    s = staff_kpi.Settings.model_validate(
        {
            "scorecard": {"growth": ["net_new_aum"], "quality": ["npl_ratio"]},
            "dimension_weights": {"growth": 0.5, "quality": 0.5},
        }
    )
    frame = _kpi_frame()
    out = staff_kpi.score_managers(frame, s).set_index("staff_id")
    # growth percentiles among 4 professionals: 100 -> 12.5, 200 -> 37.5, 300 -> 62.5, 400 -> 87.5
    # npl (lower better) among the 3 with loans: 0.01 -> 83.33, 0.02 -> 50, 0.10 -> 16.67
    # composite: S1 (87.5 + 16.667) / 2 = 52.083, S2 (12.5 + 83.333) / 2 = 47.917,
    # S3 growth only = 62.5, S4 (37.5 + 50) / 2 = 43.75
    assert out.loc[["S1", "S2", "S3", "S4"], "composite"].tolist() == approx(
        [52.083333, 47.916667, 62.5, 43.75]
    )
    assert math.isnan(out.loc["S5", "composite"]) and pd.isna(out.loc["S5", "rating"])
    # rank in branch 0101: S3 1, S1 2, S2 3; 0102 has one rated manager -> 1
    assert out.loc[["S1", "S2", "S3", "S4"], "rank_in_branch"].tolist() == [2.0, 3.0, 1.0, 1.0]
    # bank percentile of composite among 4 rated: S4 12.5, S2 37.5, S1 62.5, S3 87.5
    assert out.loc[["S1", "S2", "S3", "S4"], "bank_percentile"].tolist() == approx(
        [62.5, 37.5, 87.5, 12.5]
    )
    # forced distribution among 4 professionals: positions 0, .25, .5, .75 -> S3 A, S1 B, S2 C, S4 C
    assert out.loc[["S1", "S2", "S3", "S4"], "rating_raw"].tolist() == ["B", "C", "A", "C"]
    # veto: S1's NPL 10% > 5% caps B at C
    assert out.loc[["S1", "S2", "S3", "S4"], "rating"].tolist() == ["C", "C", "A", "C"]
    assert out["veto"].tolist() == [True, False, False, False, False]
    pd.testing.assert_frame_equal(frame, _kpi_frame())  # input untouched


def test_score_managers_zscore_method_runs_within_grade():
    s = staff_kpi.Settings.model_validate(
        {
            "scorecard": {"growth": ["net_new_aum"]},
            "dimension_weights": {"growth": 1.0},
            "normalisation": "zscore",
        }
    )
    out = staff_kpi.score_managers(_kpi_frame(), s).set_index("staff_id")
    # professionals 100..400 are symmetric: the middle two are mirror images around 50
    assert out.loc["S1", "composite"] + out.loc["S2", "composite"] == approx(100.0)
    assert out.loc["S3", "composite"] + out.loc["S4", "composite"] == approx(100.0)
