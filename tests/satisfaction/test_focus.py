"""What to fix first: the recent window against the one before it, weighted by importance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat

from .frames import PERIOD, survey_window_frame

IMPORTANCE = pd.Series(
    {"attitude": 1.5, "wait_time": 2.0, "professionalism": -0.2, "explanation": 1.0,
     "environment": 1.0, "digital": 1.0}
)  # fmt: skip


def test_change_against_the_previous_window_by_hand():
    ch = sat.attribute_change(survey_window_frame(), period=PERIOD, window_months=1,
                              importance=IMPORTANCE).set_index("attribute")  # fmt: skip
    att = ch.loc["attitude"]
    # Sep 4,5,4,5 (4.5) -> Oct 2,3,2,3 (2.5): change -2; Welch t = -2 / sqrt(1/12 + 1/12)
    # = -4.898979 on 6 df -> p = 0.0027137; priority 1.5 x 2 = 3
    assert (att["n_prior"], att["n"]) == (4, 4)
    assert att["performance_prior"] == 4.5 and att["performance"] == 2.5 and att["change"] == -2.0
    assert att["p_value"] == pytest.approx(0.0027137, abs=1e-6)
    assert att["priority"] == pytest.approx(3.0)
    # BH over the 5 attributes tested (environment is not rated): the three at p = 0.0027137
    # share rank 3: 0.0027137 * 5 / 3 = 0.0045228; wait time 0.098140 * 5 / 4 = 0.122675
    assert att["q_value"] == pytest.approx(0.0045228, abs=1e-6)
    wait = ch.loc["wait_time"]  # 4.5 -> 3.75: Welch p = 0.098140
    assert wait["change"] == -0.75 and wait["q_value"] == pytest.approx(0.122675, abs=1e-5)
    assert wait["priority"] == pytest.approx(1.5)
    # a rise, a negative importance and an attribute nobody rated give no priority
    assert ch.at["explanation", "change"] == 2.0 and ch.at["explanation", "priority"] == 0.0
    assert ch.at["professionalism", "priority"] == 0.0
    env = ch.loc["environment"]
    assert env["n"] == 0 and math.isnan(env["performance"]) and math.isnan(env["p_value"])
    # only a significant fall is named: attitude; wait time fell more by importance x fall
    # weight than digital, but its q = 0.12 is above 0.05
    assert sat.focus_rows(ch.reset_index())["attribute"].tolist() == ["attitude"]


def test_focus_follows_the_false_discovery_rate_and_the_cap():
    frame = survey_window_frame()
    loose = sat.attribute_change(frame, period=PERIOD, window_months=1, importance=IMPORTANCE,
                                 fdr=0.15)  # fmt: skip
    # with q <= 0.15 wait time's fall counts too; priority orders them: 3.0, then 1.5
    assert sat.focus_rows(loose)["attribute"].tolist() == ["attitude", "wait_time"]
    capped = sat.attribute_change(frame, period=PERIOD, window_months=1, importance=IMPORTANCE,
                                  fdr=0.15, max_focus=1)  # fmt: skip
    assert sat.focus_rows(capped)["attribute"].tolist() == ["attitude"]
    # no importance (the bank's model not fitted): changes shown, nothing named
    none = sat.attribute_change(frame, period=PERIOD, window_months=1)
    assert none["priority"].isna().all() and not none["focus"].any()
    assert none["change"].notna().sum() == 5


def test_bank_importance_only_from_a_fitted_model():
    table = pd.DataFrame({"attribute": ["attitude", "wait_time"], "coef": [1.2, 0.8]})
    assert sat.bank_importance(table.assign(status="fitted")).to_dict() == {
        "attitude": 1.2, "wait_time": 0.8}  # fmt: skip
    assert sat.bank_importance(table.assign(status="too_few", coef=np.nan)).empty


def test_summary_names_what_to_fix_first_with_its_significance():
    from branchbook import i18n

    ch = sat.attribute_change(survey_window_frame(), period=PERIOD, window_months=1,
                              importance=IMPORTANCE, fdr=0.15)  # fmt: skip
    kpi_rows = pd.DataFrame({"kpi": list(sat.KEYS), "value": np.nan, "previous": np.nan,
                             "change": np.nan, "bank_median": np.nan})  # fmt: skip
    frame = survey_window_frame()
    facts = dict(sat.summary_facts(
        kpi_rows=kpi_rows, tests=pd.DataFrame(columns=["significant", "p_value"]),
        drivers_result=sat.drivers(frame, period=PERIOD, window_months=1, min_responses=100),
        sla=pd.DataFrame(columns=["sla", "received"]), backlog=frame.iloc[0:0],
        retention=pd.DataFrame(columns=["band", "customers"]), window_responses=0,
        change_alert_points=5.0, attribute_changes=ch, change_months=1,
        attribute_labels={"attitude": "Staff attitude", "wait_time": "Waiting time"},
    ))  # fmt: skip
    values = facts["satisfaction.summary.driver_focus.n2"]
    assert values["a1"] == "Staff attitude" and values["a2"] == "Waiting time"
    assert (values["a1_prior"], values["a1_now"], values["a1_p"]) == (4.5, 2.5, "p = 0.005")
    assert values["a2_p"] == "p = 0.123"
    for locale in ("en", "zh-CN"):
        text = i18n.t("satisfaction.summary.driver_focus.n2", locale, **values)
        # the sentence names what fell and says it is significant; the adjusted p-values
        # stay in the methods appendix, not in the words a manager reads
        assert "Staff attitude" in text and "p = " not in text
        assert ("significant" in text) if locale == "en" else ("显著" in text)


@pytest.mark.slow
def test_the_demo_planted_decline_is_named(tmp_path):
    """The demo's satisfaction story (branch 0201: attitude, waiting time and expertise
    rated a little worse each month for six months) is what the report says to fix."""
    from branchbook import demo
    from branchbook.warehouse import open_warehouse

    con = open_warehouse(demo.build(tmp_path / "w.duckdb", branches=12, customers=30_000,
                                    months=12))  # fmt: skip
    branch = demo.STORIES["satisfaction_drop"]["branch_id"]
    responses = con.execute("SELECT *, strftime(responded_on, '%Y-%m') AS month FROM surveys").df()
    period = responses["month"].max()
    bank = sat.drivers(responses, period=period, window_months=3, min_responses=100)
    importance = sat.bank_importance(bank.table.assign(status=bank.status))
    change = sat.attribute_change(responses[responses["branch_id"] == branch], period=period,
                                  window_months=3, importance=importance)  # fmt: skip
    named = sat.focus_rows(change)["attribute"].tolist()
    assert sorted(named) == ["attitude", "professionalism", "wait_time"]
    # each named fall is significant and real: the recent ratings are lower
    first = change.set_index("attribute").loc[named]
    assert (first["q_value"] <= 0.05).all() and (first["change"] < -0.3).all()
