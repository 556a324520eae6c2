"""CSAT on 0-100 and top-2-box, NPS, intervals, scores by group: hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat
from branchbook.params import AssetTiers

from .frames import (
    PERIOD,
    responses,
)


def test_csat_on_0_100_and_tiers_and_bands():
    assert sat.csat_100(pd.Series([1, 2, 3, 4, 5])).tolist() == [0.0, 30.0, 60.0, 85.0, 100.0]
    # missing, or not an answer of the scale: missing
    assert sat.csat_100(pd.Series([np.nan, 0, 6, 2.5])).isna().all()
    # the bank's one tier rule (prepare gives a respondent without a balance AUM 0: mass)
    tiers = sat.asset_tier(pd.Series([0.0, 49_999.99, 50_000.0, 500_000.0, 6_000_000.0, np.nan]),
                           AssetTiers())  # fmt: skip
    assert tiers.tolist()[:5] == ["mass", "mass", "affluent", "wealth", "private"]
    assert pd.isna(tiers.iloc[5])
    bands = sat.satisfaction_band(
        pd.Series([59.9, 60.0, 84.9, 85.0, 100.0, np.nan]), bounds=[60.0, 85.0]
    )
    assert bands.tolist()[:5] == ["low", "mid", "mid", "high", "high"]
    assert pd.isna(bands.iloc[5])


def test_scores_csat_both_ways_and_nps():
    # csat 5,4,3,1 -> 100,85,60,0 -> mean 61.25; top-2-box 2/4 = 0.5
    # nps 10,9 promoters, 6 detractor, 8 passive -> (2 - 1) / 4 * 100 = 25
    r = responses([(5, 10), (4, 9), (3, 6), (1, 8)])
    out = sat.scores_by(r, by=None, period=PERIOD, window_months=1)
    row = out.iloc[0]
    assert row["group"] == "all" and row["responses"] == 4
    assert row["csat_mean"] == pytest.approx(61.25)
    assert row["csat_top2"] == pytest.approx(0.5)
    assert row["nps"] == pytest.approx(25.0)
    # Wilson 2/4: centre (0.5 + z^2/8) / (1 + z^2/4) = 0.5; half 0.349961
    assert row["csat_top2_low"] == pytest.approx(0.150039, abs=1e-6)
    assert row["csat_top2_high"] == pytest.approx(0.849961, abs=1e-6)


def test_csat_mean_t_interval_clipped_to_scale():
    # csat 3,4,4,5 -> 60,85,85,100: mean 82.5, sd = sqrt(825/3) = 16.5831, se = 8.29156
    # t(0.975, 3) = 3.182446 -> 82.5 - 26.3875 = 56.1125; 82.5 + 26.39 = 108.89 -> clipped to 100
    out = sat.scores_by(
        responses([(3, 9), (4, 9), (4, 9), (5, 9)]), by=None, period=PERIOD, window_months=1
    )
    assert out["csat_mean_low"].iloc[0] == pytest.approx(56.112549, abs=1e-5)
    assert out["csat_mean_high"].iloc[0] == 100.0
    assert out["nps"].iloc[0] == 100.0


def test_wilson_interval_textbook_value():
    # 8 of 10: Wilson 95% = 0.4902 .. 0.9433
    lo, hi = sat.wilson_interval(8, 10)
    assert lo == pytest.approx(0.490162, abs=1e-6) and hi == pytest.approx(0.943318, abs=1e-6)
    lo, hi = sat.wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    lo, hi = sat.wilson_interval(0, 5)  # no success: lower bound exactly 0
    assert lo == pytest.approx(0.0) and 0 < hi < 1


def test_nps_interval():
    # 50 promoters, 20 detractors of 100: NPS 30; var = (0.5 + 0.2 - 0.3^2) / 100 = 0.0061
    # se = 0.078102 -> 7.8102 points; half = 1.959964 * 7.8102 = 15.3078
    nps, lo, hi = sat.nps_interval(50, 20, 100)
    assert nps == pytest.approx(30.0)
    assert lo == pytest.approx(14.692192, abs=1e-5) and hi == pytest.approx(45.307808, abs=1e-5)
    nps, lo, hi = sat.nps_interval(0, 0, 0)
    assert math.isnan(nps) and math.isnan(lo)
    nps, lo, hi = sat.nps_interval(4, 0, 4)  # all promoters: +100, interval collapses
    assert (nps, lo, hi) == (100.0, 100.0, 100.0)


def test_scores_by_channel_and_tier_with_suppression():
    r = responses([(5, 10), (4, 9), (2, 3)]).assign(
        channel=["mobile", "mobile", "counter"], tier=["mass", "wealth", "wealth"]
    )
    by_tier = sat.scores_by(r, by="tier", period=PERIOD, window_months=1, min_responses=2)
    assert by_tier["group"].tolist() == ["mass", "affluent", "wealth", "private", "all"]
    assert by_tier["responses"].tolist() == [1, 0, 2, 0, 3]
    # mass (1 response) and the empty tiers are suppressed below 2 responses
    assert by_tier["suppressed"].tolist() == [True, True, False, True, False]
    assert math.isnan(by_tier["csat_mean"].iloc[0])
    # wealth: csat 4, 2 -> 85, 30 -> mean 57.5; nps 9, 3 -> (1 - 1) / 2 = 0
    assert by_tier["csat_mean"].iloc[2] == pytest.approx(57.5)
    assert by_tier["nps"].iloc[2] == pytest.approx(0.0)
    by_channel = sat.scores_by(r, by="channel", period=PERIOD, window_months=1)
    assert by_channel["group"].tolist() == ["counter", "mobile", "all"]
    assert by_channel["csat_top2"].tolist() == pytest.approx([0.0, 1.0, 2 / 3])


def test_scores_window_excludes_older_and_later_months():
    r = pd.concat(
        [responses([(5, 10)], month="2026-08"), responses([(1, 0)], month="2026-09"),
         responses([(3, 7)], month="2026-11")]
    )  # fmt: skip
    out = sat.scores_by(r, by=None, period=PERIOD, window_months=2)  # Sep and Oct only
    assert out["responses"].iloc[0] == 1 and out["csat_mean"].iloc[0] == 0.0


def test_branch_with_no_surveys():
    empty = responses([]).iloc[0:0]
    out = sat.scores_by(empty, by="channel", period=PERIOD, window_months=3)
    assert out["group"].tolist() == ["all"] and out["responses"].tolist() == [0]
    assert math.isnan(out["csat_mean"].iloc[0]) and math.isnan(out["nps"].iloc[0])
    d = sat.drivers(empty, period=PERIOD, window_months=12, min_responses=100)
    assert d.status == "too_few" and d.responses == 0 and d.action is None
    assert d.table["attribute"].tolist() == list(sat.ATTRIBUTES)


def test_a_neutral_answer_is_neutral_and_the_map_is_a_parameter():
    answers = pd.Series([1, 2, 3, 4, 5])
    bands = sat.satisfaction_band(sat.csat_100(answers), bounds=[60.0, 85.0])
    assert bands.tolist() == ["low", "low", "mid", "high", "high"]
    # the bands agree with top-2-box: satisfied means answering 4 or 5
    assert (bands == "high").tolist() == (answers >= 4).tolist()
    # the old linear map (s - 1) / 4 put the neutral 3 at 50, i.e. among the dissatisfied
    linear = sat.csat_100(answers, scale=[0, 25, 50, 75, 100])
    assert sat.satisfaction_band(linear, bounds=[60.0, 85.0]).tolist()[2] == "low"
    # the map reaches the scores: csat 3, 4 -> 50, 75 on the linear map: mean 62.5
    r = responses([(3, 8), (4, 8)])
    out = sat.scores_by(r, by=None, period=PERIOD, window_months=1, scale=[0, 25, 50, 75, 100])
    assert out["csat_mean"].iloc[0] == pytest.approx(62.5)
    assert sat.scores_by(r, by=None, period=PERIOD, window_months=1)["csat_mean"].iloc[0] == 72.5
