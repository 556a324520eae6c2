"""The driver model: planted effects recovered, too few responses said so."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat

from .frames import (
    PERIOD,
    simulated_survey,
)


def test_drivers_rank_planted_effects():
    frame, planted = simulated_survey()
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    assert d.status == "fitted" and d.responses == 1500  # nobody dropped for a missing rating
    t = d.table.set_index("attribute")
    ranked = t["coef"].sort_values(ascending=False).index.tolist()
    assert ranked == sorted(planted, key=planted.get, reverse=True)
    assert t.at["digital", "missing"] == int(frame["digital"].isna().sum())
    assert t.at["digital", "rated"] + t.at["digital", "missing"] == 1500
    # attitude: the most important and the worst rated -> the quadrant to act on
    assert t.at["attitude", "quadrant"] == "improve" and d.action == "attitude"
    assert t.at["attitude", "performance"] == pytest.approx(frame["attitude"].mean())
    assert t.at["attitude", "odds_ratio"] == pytest.approx(math.exp(t.at["attitude", "coef"]))
    assert t.at["attitude", "ci_low"] < t.at["attitude", "coef"] < t.at["attitude", "ci_high"]


def test_drivers_below_minimum_say_so_and_one_level_is_no_variation():
    frame, _ = simulated_survey(n=60)
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    assert d.status == "too_few" and d.responses == 60 and d.min_responses == 100
    assert d.table["coef"].isna().all() and d.table["performance"].notna().all()
    flat = frame.assign(csat=4)
    assert (
        sat.drivers(flat, period=PERIOD, window_months=12, min_responses=20).status
        == "no_variation"
    )


def test_drivers_leave_out_an_attribute_nobody_rated():
    frame, _ = simulated_survey(n=400)
    d = sat.drivers(
        frame.assign(digital=np.nan), period=PERIOD, window_months=12, min_responses=100
    )
    t = d.table.set_index("attribute")
    assert (
        d.status == "fitted"
        and math.isnan(t.at["digital", "coef"])
        and t.at["digital", "rated"] == 0
    )
    assert pd.isna(t.at["digital", "quadrant"]) and t["coef"].drop("digital").notna().all()
