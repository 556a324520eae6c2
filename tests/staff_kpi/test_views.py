"""The tables of the branch's managers."""

from __future__ import annotations

import math

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    NAN,
    PERIOD,
    SMALL,
    _branch,
    approx,
)


def test_notebook_tables(prepared):
    d = _branch(prepared)
    mt = staff_kpi.manager_table(d["staff_scorecard"], month=PERIOD)
    assert mt["staff_id"].tolist() == ["S1", "S2"] and list(mt.columns) == list(
        staff_kpi.MANAGER_COLUMNS
    )
    at = staff_kpi.attainment_table(
        d["staff_attainment"], d["staff_scorecard"], month=PERIOD
    ).set_index("staff_id")
    assert at.loc["S1", "targets"] == 2 and at.loc["S1", "met"] == 1
    assert at.loc["S2", "targets"] == 0 and at.loc["S2", "met"] == 0
    st = staff_kpi.scorecard_table(
        d["staff_scorecard"], month=PERIOD, dimensions=["growth", "quality"]
    )
    assert st["staff_id"].tolist() == ["S1", "S2"]
    dist = staff_kpi.rating_distribution(
        d["staff_scorecard"], month=PERIOD, shares=SMALL.rating_shares
    )
    assert dist["count"].tolist() == [0, 0, 2, 0] and dist["share"].tolist() == [0.0, 0.0, 1.0, 0.0]
    design = staff_kpi.scorecard_design(SMALL)
    assert design[["dimension", "kpi", "direction"]].values.tolist() == [
        ["growth", "net_new_aum", "high"],
        ["quality", "npl_ratio", "low"],
    ]
    tr = staff_kpi.trend(d["staff_scorecard"], d["bench_grade"], month=PERIOD, months=2)
    s1 = tr[tr["staff_id"] == "S1"]
    assert s1["month"].tolist() == ["2026-09", "2026-10"]
    assert s1["grade_median"].iloc[-1] == approx(50.0)
    inc = staff_kpi.incentive_table(
        d["staff_scorecard"], month=PERIOD, coefficients=SMALL.bonus_coefficients
    )
    assert inc["bonus_coefficient"].tolist() == [0.9, 0.9]  # both C
    pts = staff_kpi.funnel_points(d["staff_funnel"], metric="npl_ratio")
    assert set(pts["staff_id"]) == {"S1", "S2"}
    assert staff_kpi.funnel_p0(d["bench_funnel"], metric="npl_ratio", month=PERIOD) == approx(4 / 9)
    assert math.isnan(staff_kpi.funnel_p0(d["bench_funnel"], metric="npl_ratio", month="1999-01"))


def test_incentive_pool_factor():
    # 0.5 x 2 + 0.5 x 1 + 0 + 0 = 1.5
    assert (
        staff_kpi.bonus_pool_factor(
            {"A": 0.5, "B": 0.5, "C": 0.0, "D": 0.0}, {"A": 2.0, "B": 1.0, "C": 1.0, "D": 0.0}
        )
        == 1.5
    )


def test_veto_table_lists_every_book_above_the_limit(prepared):
    sc = _branch(prepared)["staff_scorecard"]
    v = staff_kpi.veto_table(sc, month=PERIOD, limit=0.05)
    # S2 NPL 100% (already C: not lowered), S1 33% (A capped at C)
    assert v["staff_id"].tolist() == ["S2", "S1"]
    assert v[["rating_raw", "rating", "veto"]].values.tolist() == [
        ["C", "C", False],
        ["A", "C", True],
    ]
    assert staff_kpi.veto_table(sc, month=PERIOD, limit=1.0).empty  # nobody strictly above 100%


def test_score_matrix_and_composite_bars_best_first(prepared):
    sc = _branch(prepared)["staff_scorecard"]
    m = staff_kpi.score_matrix(sc, month=PERIOD, kpis=staff_kpi.scorecard_kpis(SMALL))
    # see test_prepare_scorecard_ranks_ratings_and_veto: growth 83.33 / 16.67, npl 75 / 25
    assert list(m.index) == ["net_new_aum", "npl_ratio"] and list(m.columns) == ["王伟", "李娜"]
    assert m.values.ravel().tolist() == approx([83.333333, 16.666667, 75.0, 25.0])
    assert staff_kpi.score_matrix(sc, month=PERIOD, kpis=["net_new_aum"], grade="senior").empty
    bars = staff_kpi.composite_bars(sc, month=PERIOD)
    assert list(bars.index) == ["王伟", "李娜"]
    assert bars["composite"].tolist() == approx([79.166667, 20.833333])


def test_score_names_follow_the_matrix_and_name_the_branch_across_branches(prepared):
    """One row per column of the score matrix, in its order; the branch only when the
    managers work in more than one (named where a name is given, else its id)."""
    sc = prepared["staff_scorecard"]
    kpis = staff_kpi.scorecard_kpis(SMALL)
    for grade in staff_kpi.grades(sc, month=PERIOD):
        names = staff_kpi.score_names(
            sc, month=PERIOD, grade=grade, branches={"0101": "城东 (0101)"}
        )
        matrix = staff_kpi.score_matrix(sc, month=PERIOD, kpis=kpis, grade=grade)
        assert names["staff_name"].tolist() == list(matrix.columns)
    everyone = staff_kpi.score_names(sc, month=PERIOD, branches={"0101": "城东 (0101)"})
    assert list(everyone.columns) == ["staff_name", "branch"]
    assert set(everyone["branch"]) == {"城东 (0101)", "0102"}
    one = staff_kpi.score_names(_branch(prepared)["staff_scorecard"], month=PERIOD)
    assert one.to_dict("list") == {"staff_name": ["王伟", "李娜"]}


def test_grades_in_house_order_rated_or_all(prepared):
    sc = prepared["staff_scorecard"]
    b2 = sc[sc["branch_id"] == "0102"]  # S3 professional rated, S4 assistant without customers
    assert staff_kpi.grades(b2, month=PERIOD) == ["professional"]
    assert staff_kpi.grades(b2, month=PERIOD, rated=False) == ["assistant", "professional"]
    assert staff_kpi.grades(sc.iloc[0:0], month=PERIOD) == []


def test_labels_fall_back_to_the_id_and_tell_namesakes_apart():
    f = pd.DataFrame(
        {"staff_id": ["S1", "S2", "S3", "S4"], "staff_name": ["王伟", "王伟", None, "李娜"]}
    )
    assert staff_kpi.views._label(f).tolist() == ["王伟 (S1)", "王伟 (S2)", "S3", "李娜"]


def test_bonus_scale_and_incentive_order():
    scale = staff_kpi.bonus_scale(
        staff_kpi.Settings().rating_shares, staff_kpi.Settings().bonus_coefficients
    )
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
    inc = staff_kpi.incentive_table(
        sc, month=PERIOD, coefficients=staff_kpi.Settings().bonus_coefficients
    )
    assert inc["staff_id"].tolist() == ["S3", "S1", "S4", "S2"]  # A, C, C, not rated
    assert inc["rating"].tolist() == ["A", "C", "C", "none"]
    assert inc["bonus_coefficient"].tolist() == approx([1.3, 0.9, 0.9, NAN])


def test_scorecard_table_ranks_across_a_region_or_the_bank():
    """At a scope the rank is over all its managers, not within each one's branch."""
    sc = pd.DataFrame(
        {
            "month": [PERIOD] * 4,
            "branch_id": ["1", "1", "2", "2"],
            "staff_id": ["A", "B", "C", "D"],
            "staff_name": ["a", "b", "c", "d"],
            "grade": ["senior"] * 4,
            "rated": [True, True, True, False],
            "dim_growth": [50.0, 40.0, 60.0, NAN],
            "composite": [50.0, 40.0, 60.0, NAN],
            "rank_in_branch": [1.0, 2.0, 1.0, NAN],
            "bank_percentile": [50.0, 25.0, 75.0, NAN],
            "rating_raw": ["B", "C", "A", None],
            "veto": [False] * 4,
            "rating": ["B", "C", "A", None],
        }
    )
    own = staff_kpi.scorecard_table(sc, month=PERIOD, dimensions=["growth"])
    assert own.set_index("staff_id")["rank_in_branch"].tolist()[:3] == [1.0, 1.0, 2.0]
    across = staff_kpi.scorecard_table(sc, month=PERIOD, dimensions=["growth"], across=True)
    assert across["staff_id"].tolist() == ["C", "A", "B", "D"]
    assert across["rank_in_branch"].tolist()[:3] == [1.0, 2.0, 3.0]
    assert math.isnan(across["rank_in_branch"].iloc[3])  # not rated: no rank
