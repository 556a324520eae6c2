"""Binning and weight of evidence, by hand."""

import math

import numpy as np
import pandas as pd

from branchbook.risk import Scorecard
from branchbook.risk.binning import woe_iv

from .helpers import approx


# -- scorecard: WoE, IV, binning -------------------------------------------------------
def test_woe_iv_of_a_categorical_table():
    # A: 5 rows, 1 bad; B: 3 rows, 2 bad; C: 2 rows, 1 bad. 4 bad, 6 good in all.
    X = pd.DataFrame({"city": list("AAAAABBBCC")})
    y = [1, 0, 0, 0, 0, 1, 1, 0, 1, 0]
    sc = Scorecard(rare_level_share=0.0, min_iv=0.0).fit(X, y)
    t = sc.iv_table().set_index("bin")
    assert t.index.tolist() == ["A", "B", "C"]
    # A: ln((4/6) / (1/4)) = ln(2.6667) = 0.980829; IV (0.6667 - 0.25) * 0.980829 = 0.408679
    assert t.loc["A", "woe"] == approx(0.980829)
    assert t.loc["A", "iv"] == approx(0.408679)
    # B: ln((1/6) / (2/4)) = ln(1/3) = -1.098612; IV (0.1667 - 0.5) * -1.098612 = 0.366204
    assert t.loc["B", "woe"] == approx(-1.098612)
    assert t.loc["B", "iv"] == approx(0.366204)
    # C: ln((1/6) / (1/4)) = ln(2/3) = -0.405465; IV (0.1667 - 0.25) * -0.405465 = 0.033789
    assert t.loc["C", "woe"] == approx(-0.405465)
    assert t.loc["C", "iv"] == approx(0.033789, rel=1e-4)
    assert t["iv"].sum() == approx(0.808672, rel=1e-5)
    assert t.loc["B", "event_rate"] == approx(2 / 3)


def test_rare_levels_merge_into_other_which_takes_unseen_levels():
    X = pd.DataFrame({"city": list("AAAAABBBCC")})
    y = [1, 0, 0, 0, 0, 1, 1, 0, 1, 0]
    # C holds 2 of 10 rows, below 25%: merged into (other), with C's counts (1 bad, 1 good)
    sc = Scorecard(rare_level_share=0.25, min_iv=0.0).fit(X, y)
    t = sc.iv_table().set_index("bin")
    assert t.index.tolist() == ["A", "B", "(other)"]
    assert t.loc["(other)", "woe"] == approx(-0.405465)
    # a level first seen when scoring gets the (other) bin's WoE
    w = sc.transform(pd.DataFrame({"city": ["Z", "C", None]}))["city"]
    assert w.iloc[0] == approx(-0.405465)
    assert w.iloc[1] == approx(-0.405465)
    assert w.iloc[2] == 0.0  # no missing value when fitting: scored as average


def test_numeric_bins_woe_iv_and_zero_count_adjustment():
    # x=1: 3 bad of 4; x=2: 2 bad of 4; x=3: 0 bad of 4 (5 bad, 7 good in all)
    X = pd.DataFrame({"x": [1] * 4 + [2] * 4 + [3] * 4})
    y = [1, 1, 1, 0] + [1, 1, 0, 0] + [0, 0, 0, 0]
    t = Scorecard(min_bin_share=0.05, min_iv=0.0).fit(X, y).iv_table().set_index("bin")
    assert t.index.tolist() == ["< 2", "[2, 3)", ">= 3"]
    # < 2: ln((1/7) / (3/5)) = ln(0.238095) = -1.435085; IV (0.142857 - 0.6) * WoE = 0.656039
    assert t.loc["< 2", "woe"] == approx(-1.435085)
    assert t.loc["< 2", "iv"] == approx(0.656039)
    # [2, 3): ln((2/7) / (2/5)) = ln(0.714286) = -0.336472; IV 0.114286 * 0.336472 = 0.038454
    assert t.loc["[2, 3)", "woe"] == approx(-0.336472)
    assert t.loc["[2, 3)", "iv"] == approx(0.038454, rel=1e-4)
    # >= 3 has no bad: 0.5 added to both counts: ln((4.5/7) / (0.5/5)) = ln(6.428571) = 1.860752
    assert t.loc[">= 3", "woe"] == approx(1.860752)
    assert t.loc[">= 3", "iv"] == approx(1.010123)  # (0.642857 - 0.1) * 1.860752


def test_numeric_bins_are_made_monotone_and_capped():
    # event rates by value 2/3, 1/3, 2/3, 0: not monotone
    X = pd.DataFrame({"x": [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3})
    y = [1, 1, 0] + [1, 0, 0] + [1, 1, 0] + [0, 0, 0]
    t = Scorecard(min_iv=0.0).fit(X, y).iv_table()
    # falling: 2 and 3 merge into 3 of 6 = 0.5, giving 0.667, 0.5, 0 (rising would end in one bin)
    assert t["bin"].tolist() == ["< 2", "[2, 4)", ">= 4"]
    assert t["count"].tolist() == [3, 6, 3]
    assert t["events"].tolist() == [2, 3, 0]
    # at most two bins: the closest rates (0.667 and 0.5) merge
    t2 = Scorecard(max_bins=2, min_iv=0.0).fit(X, y).iv_table()
    assert t2["bin"].tolist() == ["< 4", ">= 4"]
    assert t2["events"].tolist() == [5, 0]


def test_small_bins_merge_and_missing_values_get_their_own_bin():
    X = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, np.nan]})
    y = [1, 1, 1, 0, 1, 0, 0, 0, 1, 0]
    t = Scorecard(min_bin_share=0.3, min_iv=0.0).fit(X, y).iv_table()
    assert t["bin"].iloc[-1] == "(missing)"
    assert t["count"].iloc[-1] == 2 and t["events"].iloc[-1] == 1
    numeric = t.iloc[:-1]
    assert (numeric["count"] >= 3).all()  # 30% of 10 rows
    assert numeric["count"].sum() == 8
    rates = numeric["event_rate"].to_numpy()
    assert np.all(np.diff(rates) <= 0) or np.all(np.diff(rates) >= 0)


def test_a_column_seen_only_missing_scores_values_as_average():
    X = pd.DataFrame({"x": [np.nan] * 4, "g": list("aabb")})
    sc = Scorecard(min_iv=0.0).fit(X, [1, 0, 1, 0])
    t = sc.iv_table()
    assert t.loc[t["feature"] == "x", "bin"].tolist() == ["(missing)"]
    assert sc.transform(pd.DataFrame({"x": [5.0, np.nan], "g": ["a", "a"]})).shape == (2, 0)
    assert sc.bins_["x"].woe_of(pd.Series([5.0, np.nan])).tolist() == [0.0, 0.0]


def test_woe_iv_function_matches_the_table():
    w, iv = woe_iv(np.array([1, 3]), np.array([3, 1]))
    # ln((3/4) / (1/4)) = ln 3
    assert w.tolist() == approx([math.log(3), -math.log(3)])
    assert iv.sum() == approx(math.log(3))  # 0.5 ln3 + 0.5 ln3
