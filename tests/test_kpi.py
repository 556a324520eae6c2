"""Tests of the staff KPI module: every metric on tiny hand-built books."""

from __future__ import annotations

import math
import re
import string
import types
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from branchbook import kpi
from branchbook.i18n import LOCALE_DIR, _flatten

NAN = float("nan")


def approx(x, rel=1e-6, abs=1e-9):
    return pytest.approx(x, rel=rel, abs=abs, nan_ok=True)


# --------------------------------------------------------------------------- settings


def test_default_settings_are_valid_and_budget_neutral():
    s = kpi.Settings()
    assert sum(s.dimension_weights.values()) == approx(1.0)
    # 0.2 x 1.3 + 0.3 x 1.1 + 0.4 x 0.9 + 0.1 x 0.5 = 0.26 + 0.33 + 0.36 + 0.05 = 1.00
    assert kpi.bonus_pool_factor(s.rating_shares, s.bonus_coefficients) == approx(1.0)


@pytest.mark.parametrize(
    "override, message",
    [
        (
            {
                "dimension_weights": {
                    "growth": 0.5,
                    "quality": 0.25,
                    "service": 0.2,
                    "compliance": 0.15,
                }
            },
            "sum to 1",
        ),
        ({"scorecard": {"growth": ["new_customers", "bogus"]}}, "bogus"),
        ({"scorecard": {"growth": ["csat"], "service": ["csat"]}}, "more than once"),
        ({"scorecard": {"growth": []}}, "no KPI"),
        ({"scorecard": {"people": ["csat"]}}, "people"),
        ({"rating_shares": {"A": 0.5, "B": 0.5}}, "every band"),
        ({"rating_shares": {"A": 0.5, "B": 0.5, "C": 0.1, "D": 0.0}}, "sum to 1"),
        ({"bonus_coefficients": {"A": 1.0, "B": 1.2, "C": 0.9, "D": 0.5}}, "not rise"),
        ({"winsor_lower": 0.5, "winsor_upper": 0.4}, "winsor_lower"),
        (
            {"kpi_status": {"npl_ratio": {"good": "low", "green": 0.05, "amber": 0.01}}},
            "green <= amber",
        ),
        ({"min_book_customers": 2.5}, "integer"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_settings_refuse_bad_values(override, message):
    with pytest.raises(ValidationError, match=message):
        kpi.Settings.model_validate(override)


def test_settings_accept_a_partial_scorecard_with_matching_weights():
    s = kpi.Settings.model_validate(
        {
            "scorecard": {"growth": ["net_new_aum"], "quality": ["npl_ratio"]},
            "dimension_weights": {"growth": 0.6, "quality": 0.4},
        }
    )
    assert s.scorecard == {"growth": ["net_new_aum"], "quality": ["npl_ratio"]}


def test_rag_status_both_directions_and_missing():
    high = kpi.Rag(good="high", green=80.0, amber=70.0)
    low = kpi.Rag(good="low", green=0.015, amber=0.03)
    assert [kpi.rag_status(v, high) for v in (80.0, 75.0, 69.9)] == ["green", "amber", "red"]
    assert [kpi.rag_status(v, low) for v in (0.015, 0.02, 0.031)] == ["green", "amber", "red"]
    assert kpi.rag_status(NAN, low) is None


def test_month_helpers():
    assert kpi.month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert kpi.month_bounds("2026-12") == (date(2026, 12, 1), date(2026, 12, 31))
    assert kpi.shift_month("2026-01", -1) == "2025-12"
    assert kpi.shift_month("2026-10", -11) == "2025-11"


# --------------------------------------------------------------------------- KPIs


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
    out = kpi.manager_kpis(book)
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
    assert a["churn_rate"] == 0.2  # 1 / 5
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
        "churn_rate",
        "kyc_complete_rate",
        "aml_open_rate",
    ):
        assert math.isnan(z[col]), col


def test_ratio_scalar_and_series():
    assert kpi.ratio(1.0, 4.0) == 0.25
    assert math.isnan(kpi.ratio(1.0, 0.0))
    out = kpi.ratio(pd.Series([1.0, 2.0, 3.0]), pd.Series([2.0, 0.0, NAN]))
    assert out.tolist() == approx([0.5, NAN, NAN])


def test_attainment_and_capped_mean():
    actuals = pd.DataFrame(
        {
            "staff_id": ["S1", "S2"],
            "month": ["2026-10", "2026-10"],
            "new_customers": [3.0, 0.0],
            "net_new_aum": [80_000.0, -5_000.0],
            "deposit_growth": [10.0, 0.0],
            "loan_growth": [0.0, 0.0],
            "products_per_customer": [2.4, NAN],
        }
    )
    targets = pd.DataFrame(
        {
            "staff_id": ["S1", "S1", "S1", "S2", "S2", "S2", "S3"],
            "month": ["2026-10"] * 7,
            "kpi": [
                "new_customers",
                "net_new_aum",
                "deposit_growth",
                "net_new_aum",
                "products_per_customer",
                "mystery",
                "new_customers",
            ],
            "target": [2.0, 100_000.0, 0.0, 50_000.0, 2.0, 1.0, 1.0],
        }
    )
    out = kpi.attainment(actuals, targets).set_index(["staff_id", "kpi"])
    assert out.loc[("S1", "new_customers"), "attainment"] == 1.5  # 3 / 2
    assert out.loc[("S1", "net_new_aum"), "attainment"] == 0.8  # 80,000 / 100,000
    assert math.isnan(out.loc[("S1", "deposit_growth"), "attainment"])  # target 0: not valid
    assert out.loc[("S2", "net_new_aum"), "attainment"] == -0.1  # -5,000 / 50,000
    assert math.isnan(out.loc[("S2", "products_per_customer"), "attainment"])  # no actual
    assert math.isnan(out.loc[("S3", "new_customers"), "attainment"])  # no manager-month row
    assert ("S2", "mystery") not in out.index  # unknown KPIs are ignored
    assert out["met"].tolist() == [True, False, pd.NA, False, pd.NA, pd.NA]
    mean = kpi.target_attainment(out.reset_index(), cap=1.2).set_index("staff_id")[
        "target_attainment"
    ]
    assert mean["S1"] == approx(1.0)  # (min(1.5, 1.2) + 0.8) / 2 = 2.0 / 2
    assert mean["S2"] == approx(0.0)  # -0.1: a result that went backwards counts as 0
    assert "S3" not in mean.index


# --------------------------------------------------------------------------- normalisation


def test_percentile_score_ties_groups_flip_single_and_missing():
    v = pd.Series([10.0, 20.0, 20.0, 40.0, 7.0, NAN])
    g = pd.Series(["p", "p", "p", "p", "s", "s"])
    # group p (n=4): below + half equal -> 10: 0.5/4, 20: 1.5/4 (x2), 40: 3.5/4
    assert kpi.percentile_score(v, g).tolist() == approx([12.5, 50.0, 50.0, 87.5, 50.0, NAN])
    # lower is better: 100 - score; a lone member stays at 50
    assert kpi.percentile_score(v, g, good="low").tolist() == approx(
        [87.5, 50.0, 50.0, 12.5, 50.0, NAN]
    )


def test_winsorise_clips_at_the_1st_and_99th_percentile():
    v = pd.Series([*range(100), 1000], dtype="float64")  # 0..99 and an outlier, 101 values
    w = kpi.winsorise(v, 0.01, 0.99)
    # sorted positions 0..100: q01 at position 1 -> 1.0, q99 at position 99 -> 99.0
    assert w.min() == 1.0 and w.max() == 99.0
    assert w.iloc[50] == 50.0
    assert kpi.winsorise(pd.Series([NAN, NAN])).isna().all()


def test_zscore_score_winsorised_within_grade_with_flip():
    v = pd.Series([1.0, 2.0, 3.0, 5.0, 5.0, 9.0, NAN])
    g = pd.Series(["a", "a", "a", "b", "b", "c", "a"])
    out = kpi.zscore_score(v, g)
    # group a: q01 = 1 + 0.01 x 2 = 1.02, q99 = 2.98 -> [1.02, 2, 2.98]; mean 2,
    # sd = 0.98 x sqrt(2/3) = 0.800167, z = -+1.224745 -> Phi = 0.110335 / 0.889665
    assert out.tolist()[:3] == approx([11.0335, 50.0, 88.9665], rel=1e-4)
    # group b has no spread and group c one member: both score 50; a missing value is NaN
    assert out.tolist()[3:6] == approx([50.0, 50.0, 50.0])
    assert math.isnan(out.iloc[6])
    flipped = kpi.zscore_score(v, g, good="low")
    assert flipped.tolist()[:3] == approx([88.9665, 50.0, 11.0335], rel=1e-4)


def test_zscore_winsorising_tames_an_outlier():
    v = pd.Series([*range(100), 1000], dtype="float64")
    out = kpi.zscore_score(v)
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
    out = kpi.normalise(frame, ["net_new_aum", "npl_ratio"])
    # seniors: 100 -> 25, 300 -> 75; assistants: 5 -> 75, 1 -> 25
    assert out["score_net_new_aum"].tolist() == approx([25.0, 75.0, 75.0, 25.0])
    # npl lower is better: seniors 0.02 -> 25, 0.01 -> 75; lone assistant with loans -> 50
    assert out["score_npl_ratio"].tolist() == approx([25.0, 75.0, NAN, 50.0])


# --------------------------------------------------------------------------- composite, ranks, ratings


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
    out = kpi.composite(scores, card, w)
    # row 0: quality missing -> (0.5 x 80 + 0.2 x 40) / 0.7 = 48 / 0.7 = 68.5714
    # row 1: service = (40 + 100) / 2 = 70 -> 0.5 x 60 + 0.3 x 20 + 0.2 x 70 = 30 + 6 + 14 = 50
    assert out["composite"].tolist() == approx([68.571429, 50.0, NAN])
    assert out["dim_service"].tolist() == approx([40.0, 70.0, NAN])


def test_rank_within_branch_ties_share_the_best_rank():
    v = pd.Series([70.0, 90.0, 70.0, 50.0, NAN])
    g = pd.Series(["0101", "0101", "0101", "0102", "0102"])
    assert kpi.rank_within(v, g).tolist() == approx([2.0, 1.0, 2.0, 1.0, NAN])


def test_forced_distribution_exact_quotas():
    shares = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    s = pd.Series(np.arange(100.0, 0.0, -10.0))  # 10 distinct scores, best first
    # bands end at rank round(10 x 0.2) = 2, round(10 x 0.5) = 5, round(10 x 0.9) = 9, 10
    assert kpi.forced_ratings(s, shares).tolist() == list("AABBBCCCCD")


def test_forced_distribution_ties_go_to_the_better_band_and_groups_are_separate():
    shares = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    s = pd.Series([90.0, 90.0, 70.0, 60.0, 50.0, 10.0, NAN])
    g = pd.Series(["x"] * 5 + ["y", "y"])
    out = kpi.forced_ratings(s, shares, g)
    # x (n = 5): bands end at round(1.0) = 1, round(2.5) = 3, round(4.5) = 5, 5
    #   ranks 1, 1, 3, 4, 5 -> A, A (tie: 2 A for 1 place), B, C, C
    # y: one rated manager -> A ends at round(0.2) = 0, B at round(0.5) = 1 -> B
    assert out.tolist()[:6] == ["A", "A", "B", "C", "C", "B"]
    assert out.isna().tolist() == [False] * 6 + [True]


def test_forced_distribution_rounds_small_pools_to_the_nearest_manager():
    shares = {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    # n = 7: bands end at round(1.4) = 1, round(3.5) = 4, round(6.3) = 6, 7
    assert kpi.forced_ratings(pd.Series(np.arange(7.0, 0.0, -1.0)), shares).tolist() == list(
        "ABBBCCD"
    )
    # n = 1: A ends at round(0.2) = 0, B at round(0.5) = 1: a lone manager is B
    assert kpi.forced_ratings(pd.Series([12.0]), shares).tolist() == ["B"]


def test_veto_caps_only_better_ratings_strictly_above_the_limit():
    ratings = pd.Series(["A", "B", "C", "D", "A", pd.NA, "B"], dtype="string")
    npl = pd.Series([0.06, 0.08, 0.5, 0.9, 0.05, 0.9, NAN])
    out = kpi.apply_veto(ratings, npl, limit=0.05, cap="C")
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
    s = kpi.Settings.model_validate(
        {
            "scorecard": {"growth": ["net_new_aum"], "quality": ["npl_ratio"]},
            "dimension_weights": {"growth": 0.5, "quality": 0.5},
        }
    )
    frame = _kpi_frame()
    out = kpi.score_managers(frame, s).set_index("staff_id")
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
    s = kpi.Settings.model_validate(
        {
            "scorecard": {"growth": ["net_new_aum"]},
            "dimension_weights": {"growth": 1.0},
            "normalisation": "zscore",
        }
    )
    out = kpi.score_managers(_kpi_frame(), s).set_index("staff_id")
    # professionals 100..400 are symmetric: the middle two are mirror images around 50
    assert out.loc["S1", "composite"] + out.loc["S2", "composite"] == approx(100.0)
    assert out.loc["S3", "composite"] + out.loc["S4", "composite"] == approx(100.0)


# --------------------------------------------------------------------------- funnel


def test_funnel_limits_at_both_levels():
    lim = kpi.funnel_limits(0.1, [100, 4, 0])
    # n = 100: se = sqrt(0.1 x 0.9 / 100) = 0.03
    # 95%: 0.1 -+ 1.959964 x 0.03 = 0.041201 / 0.158799; 99.8%: 0.1 -+ 3.090232 x 0.03 = 0.007293 / 0.192707
    row = lim.iloc[0]
    assert [row["lo95"], row["hi95"], row["lo998"], row["hi998"]] == approx(
        [0.0412011, 0.1587989, 0.0072930, 0.1927070], rel=1e-5
    )
    # n = 4: se = 0.15; lower limits below 0 are clipped; hi95 = 0.1 + 0.293995 = 0.393995
    row = lim.iloc[1]
    assert row["lo95"] == 0.0 and row["lo998"] == 0.0
    assert row["hi95"] == approx(0.393995, rel=1e-5)
    assert row["hi998"] == approx(0.563535, rel=1e-5)  # 0.1 + 3.090232 x 0.15
    assert lim.iloc[2][["lo95", "hi95"]].isna().all()  # no book: no limits


def test_funnel_position_and_effective_loans():
    rate = pd.Series([0.17, 0.20, 0.10, 0.04, 0.005, NAN])
    n = pd.Series([100.0] * 6)
    # limits at n = 100 (see above): 95% [0.0412, 0.1588], 99.8% [0.0073, 0.1927]
    assert kpi.funnel_position(rate, n, 0.1).tolist() == [
        "above_95",
        "above_998",
        "within",
        "below_95",
        "below_998",
        pd.NA,
    ]
    # (100 + 100)^2 / (100^2 + 100^2) = 2; (300 + 100)^2 / (300^2 + 100^2) = 160,000 / 100,000 = 1.6
    eff = kpi.effective_loans(pd.Series([200.0, 400.0, 0.0]), pd.Series([20_000.0, 100_000.0, 0.0]))
    assert eff.tolist() == approx([2.0, 1.6, 0.0])


def test_funnel_curve_spans_one_to_the_largest_book():
    c = kpi.funnel_curve(0.2, 500)
    assert c["n"].iloc[0] == 1.0 and c["n"].iloc[-1] == approx(500.0)
    assert (c["hi998"] >= c["hi95"]).all()


# --------------------------------------------------------------------------- prepare on a tiny warehouse

PERIOD = "2026-10"


def _d(s: str) -> date:
    return date.fromisoformat(s)


def _tables() -> dict[str, pd.DataFrame]:
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4", "S5"],
            "branch_id": ["0101", "0101", "0102", "0102", "0101"],
            "name": ["王伟", "李娜", "张敏", "刘洋", "陈静"],
            "grade": ["professional", "professional", "professional", "assistant", "senior"],
            "hired_on": [_d("2015-03-01")] * 5,
            "active": [True, True, True, True, False],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "branch_id": ["0101", "0101", "0101", "0101", "0102", "0101"],
            "manager_id": ["S1", "S1", "S1", "S2", "S3", None],
            "customer_type": ["individual"] * 6,
            "opened_on": [
                _d("2020-01-01"),
                _d("2026-10-05"),
                _d("2020-01-01"),
                _d("2020-01-01"),
                _d("2020-01-01"),
                _d("2020-01-01"),
            ],
            "closed_on": [None, None, _d("2026-09-15"), None, None, None],
            "kyc_status": [
                "complete",
                "incomplete",
                "complete",
                "complete",
                "complete",
                "complete",
            ],
        }
    )
    customers["closed_on"] = pd.to_datetime(customers["closed_on"]).dt.date
    bal = [
        ("C1", "2026-08", 100.0, 0.0, 1),
        ("C1", "2026-09", 100.0, 50.0, 1),
        ("C1", "2026-10", 150.0, 50.0, 2),
        ("C2", "2026-10", 20.0, 0.0, 1),
        ("C3", "2026-08", 30.0, 0.0, 1),
        ("C4", "2026-09", 200.0, 0.0, 3),
        ("C4", "2026-10", 180.0, 0.0, 3),
        ("C5", "2026-09", 50.0, 0.0, 1),
        ("C5", "2026-10", 70.0, 0.0, 1),
        ("C6", "2026-10", 999.0, 0.0, 1),
    ]
    balances = pd.DataFrame(
        bal, columns=["customer_id", "month", "deposits", "wealth", "products_held"]
    )
    # customers' loans: C1 1500 from September, C4 300 then 250
    loans_out = {
        ("C1", "2026-09"): 1500.0,
        ("C1", "2026-10"): 1500.0,
        ("C4", "2026-09"): 300.0,
        ("C4", "2026-10"): 250.0,
    }
    balances["loans_outstanding"] = [
        loans_out.get((c, m), 0.0)
        for c, m in zip(balances["customer_id"], balances["month"], strict=True)
    ]
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3"],
            "customer_id": ["C1", "C1", "C4"],
            "branch_id": ["0101"] * 3,
            "manager_id": ["S1", "S1", "S2"],
        }
    )
    snaps = [
        ("L1", "2026-08", 1000.0, "pass"),
        ("L1", "2026-09", 1000.0, "pass"),
        ("L1", "2026-10", 1000.0, "pass"),
        ("L2", "2026-09", 500.0, "special_mention"),
        ("L2", "2026-10", 500.0, "substandard"),
        ("L3", "2026-09", 300.0, "doubtful"),
        ("L3", "2026-10", 300.0, "doubtful"),
    ]
    loan_snapshots = pd.DataFrame(snaps, columns=["loan_id", "month", "outstanding", "five_class"])
    loan_snapshots["dpd"] = 0
    surveys = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R3"],
            "customer_id": ["C1", "C2", "C4"],
            "branch_id": ["0101"] * 3,
            "manager_id": ["S1", None, "S2"],
            "responded_on": [_d("2026-10-03"), _d("2026-10-20"), _d("2026-09-10")],
            "csat": [5, 3, 4],
        }
    )
    complaints = pd.DataFrame(
        {
            "complaint_id": ["K1"],
            "customer_id": ["C1"],
            "branch_id": ["0101"],
            "manager_id": ["S1"],
            "received_at": [datetime(2026, 10, 10, 9, 30)],
        }
    )
    aml_alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2"],
            "customer_id": ["C4", "C1"],
            "raised_on": [_d("2026-09-01"), _d("2026-10-02")],
            "alert_type": ["structuring"] * 2,
            "status": ["open", "closed"],
        }
    )
    targets = pd.DataFrame(
        {
            "staff_id": ["S1", "S1", "S2", "S3"],
            "period": ["2026-10"] * 4,
            "kpi": ["net_new_aum", "new_customers", "deposit_growth", "products_per_customer"],
            "target": [100.0, 1.0, 0.0, 1.0],
        }
    )
    return {
        "staff": staff,
        "customers": customers,
        "balances": balances,
        "loans": loans,
        "loan_snapshots": loan_snapshots,
        "surveys": surveys,
        "complaints": complaints,
        "aml_alerts": aml_alerts,
        "targets": targets,
    }


def make_ctx(tables: dict[str, pd.DataFrame], settings: kpi.Settings, period: str = PERIOD):
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    start, end = kpi.month_bounds(period)
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period=period,
        prev_period=kpi.shift_month(period, -1),
        period_start=start,
        period_end=end,
        months=lambda n: [kpi.shift_month(period, -i) for i in range(n - 1, -1, -1)],
        settings=settings,
    )


SMALL = kpi.Settings.model_validate(
    {
        "trend_months": 2,
        "service_window_months": 1,
        "min_book_customers": 1,
        "scorecard": {"growth": ["net_new_aum"], "quality": ["npl_ratio"]},
        "dimension_weights": {"growth": 0.5, "quality": 0.5},
    }
)


@pytest.fixture(scope="module")
def prepared():
    return kpi.prepare(make_ctx(_tables(), SMALL))


def test_prepare_returns_the_documented_frames(prepared):
    assert set(prepared) == {
        "staff_scorecard",
        "staff_attainment",
        "staff_funnel",
        "bench_branch_kpis",
        "bench_grade",
        "bench_funnel",
    }
    for name, frame in prepared.items():
        if name.startswith("bench_"):
            assert "staff_id" not in frame.columns and "staff_name" not in frame.columns, name
        else:
            assert "branch_id" in frame.columns, name
    sc = prepared["staff_scorecard"]
    # S5 is inactive with no book: dropped; S4 has no customers: shown, not rated
    assert sorted(sc.loc[sc["month"] == PERIOD, "staff_id"]) == ["S1", "S2", "S3", "S4"]
    assert sorted(sc["month"].unique()) == ["2026-09", "2026-10"]


def test_prepare_kpis_per_manager(prepared):
    sc = prepared["staff_scorecard"]
    oct_ = sc[sc["month"] == PERIOD].set_index("staff_id")
    s1, s2, s3, s4 = (oct_.loc[s] for s in ("S1", "S2", "S3", "S4"))
    assert s1["n_customers"] == 2  # C1, C2 (C3 closed in September)
    assert s1["new_customers"] == 1  # C2 opened 5 Oct
    assert s1["net_new_aum"] == 70.0  # (150 + 50 + 20) - (100 + 50)
    assert s1["deposit_growth"] == 70.0  # (150 + 20) - 100
    assert s1["loan_growth"] == 0.0  # C1 1500 - 1500
    assert s1["products_per_customer"] == 1.5  # (2 + 1) / 2
    assert s1["npl_ratio"] == approx(1 / 3)  # L2 500 substandard / 1500
    assert s1["new_npl"] == 500.0  # L2 special mention in Sep -> substandard in Oct
    assert s1["new_npl_rate"] == approx(1 / 3)
    assert s1["csat"] == 75.0  # R1 5 -> 100, R2 3 -> 50 (no manager on survey: customer's); mean 75
    assert s1["complaint_rate"] == 500.0  # 1 complaint / 2 customers x 1000
    assert s1["churn_rate"] == 0.5  # base C1, C3 open on 2025-11-01; C3 closed 2026-09-15
    assert s1["kyc_complete_rate"] == 0.5  # C1 complete, C2 incomplete
    assert s1["aml_open_rate"] == 0.0  # A2 is closed
    assert (
        s2["net_new_aum"] == -20.0 and s2["npl_ratio"] == 1.0 and s2["new_npl"] == 0.0
    )  # L3 NPL since Sep
    assert math.isnan(s2["csat"])  # R3 is in September, outside the 1-month window
    assert s2["aml_open_rate"] == 1000.0  # A1 open / 1 customer x 1000
    assert s3["net_new_aum"] == 20.0 and math.isnan(s3["npl_ratio"])  # no loans
    assert s4["n_customers"] == 0 and not s4["rated"] and math.isnan(s4["composite"])
    sep = sc[sc["month"] == "2026-09"].set_index("staff_id")
    assert sep.loc["S1", "net_new_aum"] == 20.0  # 150 - (100 + 30)
    assert sep.loc["S1", "loan_growth"] == 1500.0  # C1 1500 - 0 (C3 had none)
    assert oct_.loc["S2", "loan_growth"] == -50.0  # C4 250 - 300
    assert sep.loc["S2", "csat"] == 75.0  # R3: 4 -> 75


def test_prepare_scorecard_ranks_ratings_and_veto(prepared):
    sc = prepared["staff_scorecard"]
    oct_ = sc[sc["month"] == PERIOD].set_index("staff_id")
    # growth among professionals S1 70, S2 -20, S3 20 -> 83.33, 16.67, 50
    # npl (lower better) S1 1/3 -> 75, S2 1.0 -> 25, S3 none
    # composite S1 (83.33 + 75) / 2 = 79.17, S2 (16.67 + 25) / 2 = 20.83, S3 50 (growth only)
    assert oct_.loc[["S1", "S2", "S3"], "composite"].tolist() == approx(
        [79.166667, 20.833333, 50.0]
    )
    assert oct_.loc[["S1", "S2", "S3"], "rank_in_branch"].tolist() == [1.0, 2.0, 1.0]
    # n = 3: positions 0, 1/3, 2/3 -> S1 A, S3 B, S2 C; S1's NPL 33% > 5% caps A at C
    assert oct_.loc[["S1", "S2", "S3"], "rating_raw"].tolist() == ["A", "C", "B"]
    assert oct_.loc[["S1", "S2", "S3"], "rating"].tolist() == ["C", "C", "B"]
    assert oct_.loc[["S1", "S2", "S3"], "veto"].tolist() == [True, False, False]


def test_prepare_attainment_and_funnel(prepared):
    att = prepared["staff_attainment"].set_index(["staff_id", "kpi"])
    assert att.loc[("S1", "net_new_aum"), "attainment"] == 0.7  # 70 / 100
    assert att.loc[("S1", "new_customers"), "attainment"] == 1.0  # 1 / 1
    assert math.isnan(att.loc[("S2", "deposit_growth"), "attainment"])  # target 0
    assert att.loc[("S3", "products_per_customer"), "branch_id"] == "0102"
    fun = prepared["staff_funnel"].set_index(["metric", "staff_id"])
    # NPL: p0 = (500 + 300) / (1500 + 300) = 0.4444; S1 n = 1500^2 / (1000^2 + 500^2) = 1.8
    assert fun.loc[("npl_ratio", "S1"), "n"] == approx(1.8)
    assert fun.loc[("npl_ratio", "S1"), "p0"] == approx(4 / 9)
    assert ("npl_ratio", "S3") not in fun.index  # no loan book
    # churn: p0 = 1 / (2 + 1 + 1) = 0.25 (S1 base 2, S2 1, S3 1)
    assert fun.loc[("churn_rate", "S2"), "p0"] == 0.25
    assert fun.loc[("churn_rate", "S1"), "position"] == "within"  # 0.5 on n = 2 is noise
    bf = prepared["bench_funnel"].set_index("metric")
    assert bf.loc["churn_rate", "events"] == 1.0 and bf.loc["churn_rate", "n_total"] == 4.0


def test_prepare_bench_branch_kpis_match_kpis(prepared):
    bench = prepared["bench_branch_kpis"].set_index(["branch_id", "month"])
    b = bench.loc[("0101", PERIOD)]
    assert b["n_managers"] == 2 and b["n_rated"] == 2
    assert b["composite_mean"] == approx(50.0)  # (79.17 + 20.83) / 2
    assert b["targets_met_share"] == 0.5  # S1: 1 of 2 valid targets met; S2's target 0 ignored
    assert b["aum_growth"] == approx(50 / 350)  # (220 + 180) - (150 + 200) over 350
    assert b["npl_ratio"] == approx(800 / 1800)
    assert b["csat"] == 75.0  # S1 150 points / 2 responses; S2 none in the window
    assert b["churn_rate"] == approx(1 / 3)  # S1 1 of 2, S2 0 of 1
    sc, att = prepared["staff_scorecard"], prepared["staff_attainment"]
    mine = kpi.kpis(sc[sc["branch_id"] == "0101"], att[att["branch_id"] == "0101"], month=PERIOD)
    assert mine == approx(b[list(kpi.HEADLINE)].to_dict())
    grade = prepared["bench_grade"].set_index(["month", "grade"]).loc[(PERIOD, "professional")]
    assert grade["n_rated"] == 3 and grade["composite_median"] == approx(50.0)
    assert (grade["n_B"], grade["n_C"]) == (1, 2)


def test_prepare_with_default_settings_and_no_customers_for_a_branch():
    tables = _tables()
    out = kpi.prepare(make_ctx(tables, kpi.Settings()))
    sc = out["staff_scorecard"]
    assert sc["month"].nunique() == 12
    assert not sc["rated"].any()  # nobody holds the default 10 customers
    facts = kpi.summary_facts(
        sc[sc["branch_id"] == "0102"],
        out["staff_attainment"],
        out["staff_funnel"],
        out["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=0.05,
    )
    assert facts[0][0] == "staff_kpi.summary.no_rated"


# --------------------------------------------------------------------------- notebook API


def _branch(prepared, branch="0101"):
    return {
        k: (v[v["branch_id"] == branch] if not k.startswith("bench_") else v)
        for k, v in prepared.items()
    }


def test_notebook_tables(prepared):
    d = _branch(prepared)
    mt = kpi.manager_table(d["staff_scorecard"], month=PERIOD)
    assert mt["staff_id"].tolist() == ["S1", "S2"] and list(mt.columns) == list(kpi.MANAGER_COLUMNS)
    at = kpi.attainment_table(d["staff_attainment"], d["staff_scorecard"], month=PERIOD).set_index(
        "staff_id"
    )
    assert at.loc["S1", "targets"] == 2 and at.loc["S1", "met"] == 1
    assert at.loc["S2", "targets"] == 0 and at.loc["S2", "met"] == 0
    st = kpi.scorecard_table(d["staff_scorecard"], month=PERIOD, dimensions=["growth", "quality"])
    assert st["staff_id"].tolist() == ["S1", "S2"]
    dist = kpi.rating_distribution(d["staff_scorecard"], month=PERIOD, shares=SMALL.rating_shares)
    assert dist["count"].tolist() == [0, 0, 2, 0] and dist["share"].tolist() == [0.0, 0.0, 1.0, 0.0]
    design = kpi.scorecard_design(SMALL)
    assert design[["dimension", "kpi", "direction"]].values.tolist() == [
        ["growth", "net_new_aum", "high"],
        ["quality", "npl_ratio", "low"],
    ]
    tr = kpi.trend(d["staff_scorecard"], d["bench_grade"])
    s1 = tr[tr["staff_id"] == "S1"]
    assert s1["month"].tolist() == ["2026-09", "2026-10"]
    assert s1["grade_median"].iloc[-1] == approx(50.0)
    inc = kpi.incentive_table(
        d["staff_scorecard"], month=PERIOD, coefficients=SMALL.bonus_coefficients
    )
    assert inc["bonus_coefficient"].tolist() == [0.9, 0.9]  # both C
    pts = kpi.funnel_points(d["staff_funnel"], metric="npl_ratio")
    assert set(pts["staff_id"]) == {"S1", "S2"}
    assert kpi.funnel_p0(d["bench_funnel"], metric="npl_ratio", month=PERIOD) == approx(4 / 9)
    assert math.isnan(kpi.funnel_p0(d["bench_funnel"], metric="npl_ratio", month="1999-01"))


def test_kpi_cards_change_bank_median_and_status(prepared):
    d = _branch(prepared)
    cards = kpi.kpi_cards(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        status=SMALL.kpi_status,
    ).set_index("kpi")
    assert list(cards.index) == list(kpi.HEADLINE)
    # AUM growth: Sep (150 + 200) vs Aug (130 + 0) = 220 / 130 = 1.6923; Oct 0.142857
    assert cards.loc["aum_growth", "previous"] == approx(220 / 130)
    assert cards.loc["aum_growth", "change"] == approx(50 / 350 - 220 / 130)
    # bank median of composite_mean over branches 0101 (50) and 0102 (50 - S3 alone)
    assert cards.loc["composite_mean", "bank_median"] == approx(50.0)
    assert cards.loc["npl_ratio", "status"] == "red"  # 44% > 3%
    assert cards.loc["csat", "status"] == "amber"  # 70 <= 75 < 80
    assert cards.loc["targets_met_share", "status"] == "amber"  # 0.5 between 0.4 and 0.6


def test_summary_facts_pick_the_veto_and_known_keys(prepared):
    d = _branch(prepared)
    facts = kpi.summary_facts(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["staff_funnel"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=SMALL.npl_veto_limit,
    )
    keys = [k for k, _ in facts]
    assert 3 <= len(facts) <= 6
    assert keys[0] == "staff_kpi.summary.composite"
    veto = dict(facts)["staff_kpi.summary.veto"]
    assert veto == {"n": 1, "names": "王伟", "limit": 0.05}
    assert dict(facts)["staff_kpi.summary.top_manager"] == {
        "name": "王伟",
        "composite": approx(79.166667),
        "rating": "C",
        "met": 1,
        "targets": 2,
    }
    # S2's only target is 0 (not valid): no target counted
    assert dict(facts)["staff_kpi.summary.bottom_manager"] == {
        "name": "李娜",
        "composite": approx(20.833333),
        "rating": "C",
        "met": 0,
        "targets": 0,
    }
    # composite, veto, ratings, top, bottom, targets met: the sixth is kept, nothing beyond
    assert keys == [
        "staff_kpi.summary.composite",
        "staff_kpi.summary.veto",
        "staff_kpi.summary.ratings",
        "staff_kpi.summary.top_manager",
        "staff_kpi.summary.bottom_manager",
        "staff_kpi.summary.targets_met",
    ]
    for key, values in facts:
        for loc in ("en", "zh-CN"):
            assert set(values) >= _placeholders(_catalogue(loc)[key]), (loc, key)


def test_names_are_joined_by_script():
    f = pd.DataFrame({"staff_id": ["S1", "S2", "S3"], "staff_name": ["王伟", "李娜", None]})
    assert kpi._names(f.iloc[:2]) == "王伟、李娜"
    assert kpi._names(f) == "王伟, 李娜, S3"  # a missing name falls back to the staff id


def test_incentive_pool_factor():
    # 0.5 x 2 + 0.5 x 1 + 0 + 0 = 1.5
    assert (
        kpi.bonus_pool_factor(
            {"A": 0.5, "B": 0.5, "C": 0.0, "D": 0.0}, {"A": 2.0, "B": 1.0, "C": 1.0, "D": 0.0}
        )
        == 1.5
    )


def test_kpi_status_is_the_shared_rag_and_a_file_may_change_one_kpi():
    from branchbook.params import Rag

    s = kpi.Settings.model_validate(
        {"kpi_status": {"csat": {"good": "high", "green": 90.0, "amber": 85.0}}}
    )
    assert isinstance(s.kpi_status["csat"], Rag) and s.kpi_status["csat"].green == 90.0
    assert s.kpi_status["npl_ratio"] == kpi.DEFAULT_STATUS["npl_ratio"]  # default kept
    assert s.kpi_status["csat"].status(87.0) == "amber"
    with pytest.raises(ValidationError, match="bogus"):
        kpi.Settings.model_validate(
            {"kpi_status": {"bogus": {"good": "high", "green": 1.0, "amber": 0.0}}}
        )
    assert set(kpi.KPI_FORMATS) == set(kpi.HEADLINE) == set(kpi.DEFAULT_STATUS)
    # the settings survive the JSON round trip the runner makes into the notebook
    again = kpi.Settings.model_validate(s.model_dump(mode="json"))
    assert again.kpi_status == s.kpi_status


def test_veto_table_lists_every_book_above_the_limit(prepared):
    sc = _branch(prepared)["staff_scorecard"]
    v = kpi.veto_table(sc, month=PERIOD, limit=0.05)
    # S2 NPL 100% (already C: not lowered), S1 33% (A capped at C)
    assert v["staff_id"].tolist() == ["S2", "S1"]
    assert v[["rating_raw", "rating", "veto"]].values.tolist() == [
        ["C", "C", False],
        ["A", "C", True],
    ]
    assert kpi.veto_table(sc, month=PERIOD, limit=1.0).empty  # nobody strictly above 100%


def test_score_matrix_and_composite_bars_best_first(prepared):
    sc = _branch(prepared)["staff_scorecard"]
    m = kpi.score_matrix(sc, month=PERIOD, kpis=kpi.scorecard_kpis(SMALL))
    # see test_prepare_scorecard_ranks_ratings_and_veto: growth 83.33 / 16.67, npl 75 / 25
    assert list(m.index) == ["net_new_aum", "npl_ratio"] and list(m.columns) == ["王伟", "李娜"]
    assert m.values.ravel().tolist() == approx([83.333333, 16.666667, 75.0, 25.0])
    assert kpi.score_matrix(sc, month=PERIOD, kpis=["net_new_aum"], grade="senior").empty
    bars = kpi.composite_bars(sc, month=PERIOD)
    assert list(bars.index) == ["王伟", "李娜"]
    assert bars["composite"].tolist() == approx([79.166667, 20.833333])


def test_grades_in_house_order_rated_or_all(prepared):
    sc = prepared["staff_scorecard"]
    b2 = sc[sc["branch_id"] == "0102"]  # S3 professional rated, S4 assistant without customers
    assert kpi.grades(b2, month=PERIOD) == ["professional"]
    assert kpi.grades(b2, month=PERIOD, rated=False) == ["assistant", "professional"]
    assert kpi.grades(sc.iloc[0:0], month=PERIOD) == []


def test_labels_fall_back_to_the_id_and_tell_namesakes_apart():
    f = pd.DataFrame(
        {"staff_id": ["S1", "S2", "S3", "S4"], "staff_name": ["王伟", "王伟", None, "李娜"]}
    )
    assert kpi._label(f).tolist() == ["王伟 (S1)", "王伟 (S2)", "S3", "李娜"]


def test_trend_lines_table_and_panels(prepared):
    b = _branch(prepared)
    history = kpi.trend(b["staff_scorecard"], b["bench_grade"])
    lines = kpi.trend_lines(history, grade="professional")
    # September: growth S1 20 / S2 200 / S3 50 -> 16.67 / 83.33 (S3 50); NPL S1 0 -> 75, S2 1.0 -> 25
    # S1 (16.67 + 75) / 2 = 45.83, S2 (83.33 + 25) / 2 = 54.17; October see above
    assert list(lines.index) == ["2026-09", "2026-10"]
    assert list(lines.columns) == ["王伟", "grade_median", "李娜"]  # best now, then the median
    assert lines["王伟"].tolist() == approx([45.833333, 79.166667])
    assert lines["grade_median"].tolist() == approx([50.0, 50.0])
    t = kpi.trend_table(history, month=PERIOD).set_index("staff_id")
    assert t.loc["S1", ["composite_start", "change", "gap_to_grade"]].tolist() == approx(
        [45.833333, 33.333333, 29.166667]
    )
    assert t.loc["S2", "change"] == approx(-33.333333) and t.loc["S2", "months_rated"] == 2
    panels = kpi.trend_panels(history, month=PERIOD, size=1)
    assert [p[:4] for p in panels] == [("professional", 1, 1, 2), ("professional", 2, 2, 2)]
    assert list(panels[1][4].columns) == ["李娜", "grade_median"]
    assert kpi.trend_panels(history.iloc[0:0], month=PERIOD) == []


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
    panels = kpi.trend_panels(pd.DataFrame(rows), month=PERIOD, size=5)
    # 7 managers, at most 5 a chart: 4 and 3, best first (S6 has the highest composite)
    assert [p[1:4] for p in panels] == [(1, 4, 7), (5, 7, 7)]
    assert list(panels[0][4].columns) == ["M6", "grade_median", "M5", "M4", "M3"]


def test_attainment_bars_and_table_carry_the_capped_mean(prepared):
    b = _branch(prepared)
    at = kpi.attainment_table(b["staff_attainment"], b["staff_scorecard"], month=PERIOD)
    s1 = at.set_index("staff_id").loc["S1"]
    assert s1["target_attainment"] == approx(0.85)  # (0.7 + 1.0) / 2
    bars = kpi.attainment_bars(at)
    assert list(bars.index) == ["王伟"]  # S2 has no valid target
    assert bars["target_attainment"].tolist() == approx([0.85])


def test_funnel_band_spans_the_points_and_funnel_outside_names_them():
    pts = pd.DataFrame({"n": [2.0, 10.0, 0.0]})
    band = kpi.funnel_band(pts, 0.2)
    assert band["n"].iloc[0] == approx(1.6) and band["n"].iloc[-1] == approx(12.0)
    assert kpi.funnel_band(pd.DataFrame({"n": [0.5]}), 0.2)["n"].iloc[0] == 1.0  # never below 1
    assert kpi.funnel_band(pd.DataFrame({"n": []}), 0.2).empty
    assert kpi.funnel_curve(0.2, 50, n_min=10)["n"].iloc[0] == approx(10.0)
    funnel = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4"],
            "staff_name": ["A", "B", "C", "D"],
            "metric": ["churn_rate", "npl_ratio", "npl_ratio", "churn_rate"],
            "n": [100.0, 50.0, 80.0, 120.0],
            "rate": [0.3, 0.2, 0.3, 0.1],
            "p0": [0.1, 0.05, 0.05, 0.1],
            "position": ["above_998", "above_998", "above_95", "within"],
            "outside": [True, True, True, False],
        }
    )
    out = kpi.funnel_outside(funnel)
    assert out["staff_id"].tolist() == ["S3", "S2", "S1"]  # NPL first, highest rate first
    assert kpi.funnel_outside(funnel.iloc[0:0]).empty


def test_bonus_scale_and_incentive_order():
    scale = kpi.bonus_scale(kpi.Settings().rating_shares, kpi.Settings().bonus_coefficients)
    assert scale.values.tolist() == [
        ["A", 0.2, 1.3],
        ["B", 0.3, 1.1],
        ["C", 0.4, 0.9],
        ["D", 0.1, 0.5],
    ]
    sc = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4"],
            "staff_name": ["a", "b", "c", "d"],
            "grade": ["senior"] * 4,
            "month": [PERIOD] * 4,
            "rating": pd.array(["C", None, "A", "C"], dtype="string"),
        }
    )
    inc = kpi.incentive_table(sc, month=PERIOD, coefficients=kpi.Settings().bonus_coefficients)
    assert inc["staff_id"].tolist() == ["S3", "S1", "S4", "S2"]  # A, C, C, not rated
    assert inc["rating"].tolist() == ["A", "C", "C", "none"]
    assert inc["bonus_coefficient"].tolist() == approx([1.3, 0.9, 0.9, NAN])


# --------------------------------------------------------------------------- the notebook on edge cases

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "staff_kpi.py"


def _run_notebook(monkeypatch, prepared, branch, locale, settings=SMALL):
    """Run the notebook's code cells on the tiny bank's frames, without a kernel."""
    import jupytext

    from branchbook import context
    from branchbook.page import Page

    frames = {
        k: (v if k.startswith("bench_") else v[v["branch_id"] == branch])
        for k, v in prepared.items()
    }
    data = types.SimpleNamespace(period=PERIOD, table=frames.__getitem__, bench=frames.__getitem__)
    page = Page(
        report="staff_kpi",
        locale=locale,
        bank_name="Bank",
        period=PERIOD,
        branch={"branch_id": branch, "name": "Branch"},
        live=False,
    )
    rc = context.ReportContext("staff_kpi", data, settings, None, page)
    monkeypatch.setattr(context, "open_report", lambda *a, **k: rc)
    ns: dict = {}
    for cell in jupytext.read(NOTEBOOK).cells:
        if cell.cell_type == "code":
            exec(cell.source, ns)  # noqa: S102 - our own notebook
    return page.html()


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_notebook_runs_on_a_branch_of_two_managers(monkeypatch, prepared, locale):
    html = _run_notebook(monkeypatch, prepared, "0101", locale)
    for key in ("managers", "attainment", "scorecard", "scores", "ratings", "funnel", "trend"):
        assert f'id="sec-{key}"' in html
    assert "王伟" in html and "bb-provenance" in html
    assert "staff_kpi." not in html  # no raw catalogue key reaches the reader
    if locale == "zh-CN":
        assert "Rating" not in html and "Composite" not in html


def test_notebook_runs_on_a_branch_with_one_rated_manager_and_no_loans(monkeypatch, prepared):
    html = _run_notebook(monkeypatch, prepared, "0102", "en")
    assert "no NPL funnel" in html  # S3 has no loan book
    assert "张敏" in html and "刘洋" in html  # S4 shown, though not rated
    assert "staff_kpi." not in html


def test_notebook_runs_on_an_empty_branch(monkeypatch, prepared):
    html = _run_notebook(monkeypatch, prepared, "0999", "en")
    assert "No customer manager holds customers or loans of this branch" in html
    assert "could be rated this month" in html  # the summary
    assert "bb-provenance" in html and "staff_kpi." not in html


# --------------------------------------------------------------------------- catalogue


def _catalogue(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "staff_kpi.yaml").open(encoding="utf-8") as fh:
        return _flatten(yaml.safe_load(fh))


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_catalogues_hold_the_same_keys_and_placeholders():
    en, zh = _catalogue("en"), _catalogue("zh-CN")
    assert set(en) == set(zh)
    assert all(k.startswith("staff_kpi.") for k in en)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(zh[key]), key
        for spec in re.findall(r"\{\w+:(\w+)\}", en[key] + zh[key]):
            assert spec in {
                "pct",
                "money",
                "int",
                "num",
                "text",
                "delta_pct",
                "delta",
                "month",
                "date",
            }


def test_catalogue_covers_definitions_kpis_columns_and_values():
    en = _catalogue("en")
    assert set(kpi.DEFINITIONS.values()) <= set(en)
    assert {f"staff_kpi.kpis.{k}" for k in kpi.HEADLINE} <= set(en)
    assert {f"staff_kpi.columns.{c}" for c in kpi.MANAGER_COLUMNS} <= set(en)
    assert {f"staff_kpi.values.metrics.{k}" for k in kpi.KPIS} <= set(en)
    assert {f"staff_kpi.values.ratings.{r}" for r in kpi.RATINGS} <= set(en)
    assert {f"staff_kpi.values.dimensions.{d}" for d in kpi.DIMENSIONS} <= set(en)
    positions = {"above_998", "above_95", "within", "below_95", "below_998"}
    assert {f"staff_kpi.values.position.{p}" for p in positions} <= set(en)
    assert {f"staff_kpi.summary.funnel_{m}" for m in kpi.FUNNEL_METRICS} <= set(en)


def test_an_empty_branch_gives_nan_kpis_and_empty_tables(prepared):
    d = {k: (v.iloc[0:0] if not k.startswith("bench_") else v) for k, v in prepared.items()}
    assert all(
        math.isnan(v)
        for v in kpi.kpis(d["staff_scorecard"], d["staff_attainment"], month=PERIOD).values()
    )
    assert kpi.manager_table(d["staff_scorecard"], month=PERIOD).empty
    assert kpi.attainment_table(d["staff_attainment"], d["staff_scorecard"], month=PERIOD).empty
    assert kpi.rating_distribution(d["staff_scorecard"], month=PERIOD, shares=SMALL.rating_shares)[
        "count"
    ].tolist() == [0, 0, 0, 0]
    cards = kpi.kpi_cards(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        status=SMALL.kpi_status,
    )
    assert cards["status"].isna().all() and cards["bank_median"].notna().all()
    facts = kpi.summary_facts(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["staff_funnel"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=0.05,
    )
    assert facts == [("staff_kpi.summary.no_rated", {"n_managers": 0})]


def test_notebook_functions_read_the_parquet_extract(prepared, tmp_path):
    # the notebook reads the branch's extract back from Parquet: nullable columns change type
    d = {}
    for name, frame in _branch(prepared).items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        d[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    sc, att = d["staff_scorecard"], d["staff_attainment"]
    assert kpi.kpis(sc, att, month=PERIOD) == approx(
        kpi.kpis(
            _branch(prepared)["staff_scorecard"],
            _branch(prepared)["staff_attainment"],
            month=PERIOD,
        )
    )
    facts = kpi.summary_facts(
        sc,
        att,
        d["staff_funnel"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=0.05,
    )
    assert "staff_kpi.summary.veto" in dict(facts)
    assert kpi.attainment_table(att, sc, month=PERIOD)["met"].tolist() == [1, 0]
    assert kpi.incentive_table(sc, month=PERIOD, coefficients=SMALL.bonus_coefficients)[
        "bonus_coefficient"
    ].tolist() == [0.9, 0.9]
