"""Frames shaped for the page."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from branchbook import satisfaction as sat

from .frames import (
    PERIOD,
    responses,
    simulated_survey,
    three_branches,
)


def test_scores_vs_bank_adds_the_whole_bank_per_group():
    own = sat.scores_by(responses([(5, 10), (3, 5)]), by="channel", period=PERIOD, window_months=1)
    bank = pd.concat(
        [
            pd.DataFrame({"group": ["counter", "all"], "csat_mean": [60.0, 55.0],
                          "csat_top2": [0.5, 0.4], "nps": [10.0, 5.0]}).assign(dimension="channel"),
            pd.DataFrame({"group": ["counter"], "csat_mean": [1.0], "csat_top2": [0.0],
                          "nps": [0.0]}).assign(dimension="tier"),
        ]
    )  # fmt: skip
    out = sat.scores_vs_bank(own, bank, dimension="channel").set_index("group")
    assert out.at["counter", "csat_mean"] == 80.0  # (100 + 60) / 2
    assert out.at["counter", "bank_all_csat_mean"] == 60.0 and out.at["all", "bank_all_nps"] == 5.0
    none = sat.scores_vs_bank(own, bank.iloc[0:0], dimension="channel")
    assert none["bank_all_csat_mean"].isna().all() and len(none) == len(own)


def test_in_points_puts_the_share_on_0_100():
    t = sat.branch_vs_bank(sat.branch_tests(three_branches(), period=PERIOD, window_months=1),
                           branch_id="A")  # fmt: skip
    p = sat.in_points(t).set_index("metric")
    raw = t.set_index("metric")
    for col in ("value", "ci_low", "ci_high", "rest_value", "diff"):
        assert p.at["csat_top2", col] == pytest.approx(raw.at["csat_top2", col] * 100)
        assert p.at["nps", col] == raw.at["nps", col]
    assert p.at["csat_top2", "p_value"] == raw.at["csat_top2", "p_value"]


def test_ipa_points_and_quadrant_lines():
    frame, _ = simulated_survey()
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    t = d.table.set_index("attribute")
    # the quadrant lines are the means over the fitted attributes
    assert d.importance_cut == pytest.approx(t["coef"].mean())
    assert d.performance_cut == pytest.approx(t["performance"].mean())
    pts = sat.ipa_points(d)
    assert pts["attribute"].tolist() == list(sat.ATTRIBUTES)
    assert pts.loc[pts["action"], "attribute"].tolist() == ["attitude"]
    upper_left = (pts["coef"] >= d.importance_cut) & (pts["performance"] < d.performance_cut)
    assert (pts["action"] == upper_left).all()
    # nothing fitted: no points, no lines
    few = sat.drivers(frame.iloc[:50], period=PERIOD, window_months=12, min_responses=100)
    assert sat.ipa_points(few).empty and math.isnan(few.importance_cut)
    assert math.isnan(few.performance_cut)


def test_repeat_complainants_as_an_action_list_name_the_manager_and_a_next_step():
    repeat = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "open": [1, 0, 0]})
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "manager_id": ["S1", "S2", None]})
    staff = pd.DataFrame({"staff_id": ["S1"], "name": ["王小明"]})
    out = sat.repeat_actions(repeat, customers, staff)
    assert out["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert out["manager_name"].tolist() == ["王小明", "S2", ""]
    assert out["next_step"].tolist() == ["call_back", "review", "review"]
