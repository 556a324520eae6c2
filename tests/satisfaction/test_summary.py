"""Summary facts, definitions and the catalogue keys the report names."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat
from branchbook.satisfaction import Settings

from .frames import (
    CUSTOMERS,
    OCT,
    PERIOD,
    complaints,
    monthly,
    responses,
    simulated_survey,
    sla_complaints,
    survey_cohort,
    survey_window_frame,
    three_branches,
)


def test_summary_facts_pick_what_matters():
    kpi_rows = pd.DataFrame(
        {
            "kpi": list(sat.KEYS),
            "value": [70.0, 0.6, 12.0, 1.5, 0.5, 0.01],
            "previous": [72.0, 0.62, 20.0, 1.0, 0.7, 0.01],
            "change": [-2.0, -0.02, -8.0, 0.5, -0.2, 0.0],
            "bank_median": [75.0, 0.7, 25.0, 1.0, 0.9, 0.01],
        }
    )
    tests = pd.DataFrame(
        {"metric": ["csat_mean", "nps"], "value": [70.0, 12.0], "rest_value": [75.0, 25.0],
         "p_value": [0.04, 0.001], "q_value": [0.06, 0.003], "significant": [False, True],
         "direction": ["in_line", "below"]}
    )  # fmt: skip
    frame, _ = simulated_survey(n=400)
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    sla = sat.sla_compliance(sla_complaints(), **OCT, first_response_hours=24.0, plan_hours=72.0)
    backlog = sat.open_backlog(
        sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90]
    )
    retention = sat.retention_by_band(survey_cohort(), horizon_months=6, band_bounds=[60.0, 85.0])
    nps = {"nps": 12.0, "previous": 20.0, "change": -8.0, "p_value": 0.01, "months": 3}
    facts = sat.summary_facts(kpi_rows=kpi_rows, tests=tests, drivers_result=d, sla=sla, backlog=backlog,
                              retention=retention, window_responses=250, change_alert_points=5.0,
                              nps_change=nps)  # fmt: skip
    keys = [k for k, _ in facts]
    assert 3 <= len(facts) <= 6
    assert keys[:5] == [
        "satisfaction.summary.scores",
        "satisfaction.summary.vs_bank.nps_below",
        "satisfaction.summary.nps_down",
        "satisfaction.summary.complaints",
        f"satisfaction.summary.driver_action.{d.action}",
    ]
    values = dict(facts)
    assert values["satisfaction.summary.nps_down"] == {
        "nps": 12.0, "previous": 20.0, "change": 8.0, "months": 3, "p": "p = 0.010"}  # fmt: skip
    # the same fall with a large p-value is said to be not significant, not a fall
    again = dict(sat.summary_facts(kpi_rows=kpi_rows, tests=tests, drivers_result=d, sla=sla,
                                   backlog=backlog, retention=retention, window_responses=250,
                                   change_alert_points=5.0, nps_change={**nps, "p_value": 0.3}))  # fmt: skip
    assert "satisfaction.summary.nps_down" not in again
    assert again["satisfaction.summary.nps_change_not_shown"]["p"] == "p = 0.300"
    # a small change is not mentioned, significant or not
    small = dict(sat.summary_facts(kpi_rows=kpi_rows, tests=tests, drivers_result=d, sla=sla,
                                   backlog=backlog, retention=retention, window_responses=250,
                                   change_alert_points=10.0, nps_change=nps))  # fmt: skip
    assert not any(k.endswith(("nps_up", "nps_down", "nps_change_not_shown")) for k in small)
    assert values["satisfaction.summary.complaints"]["sla_first_response"] == pytest.approx(0.25)


def test_summary_facts_for_a_branch_with_no_surveys_and_no_complaints():
    kpi_rows = pd.DataFrame({"kpi": list(sat.KEYS), "value": np.nan, "previous": np.nan, "change": np.nan,
                             "bank_median": np.nan})  # fmt: skip
    empty = responses([]).iloc[0:0]
    d = sat.drivers(empty, period=PERIOD, window_months=12, min_responses=100)
    sla = sat.sla_compliance(complaints([]), **OCT, first_response_hours=24.0, plan_hours=72.0)
    facts = sat.summary_facts(
        kpi_rows=kpi_rows, tests=sat.branch_tests(monthly([]), period=PERIOD, window_months=1),
        drivers_result=d, sla=sla, backlog=complaints([]).iloc[0:0],
        retention=sat.retention_by_band(survey_cohort().iloc[0:0], horizon_months=6, band_bounds=[60.0, 85.0]),
        window_responses=0, change_alert_points=5.0,
    )  # fmt: skip
    assert [k for k, _ in facts] == [
        "satisfaction.summary.no_surveys",
        "satisfaction.summary.no_complaints",
        "satisfaction.summary.drivers_too_few",
    ]


def test_definitions_point_into_the_catalogue():
    assert all(v == f"satisfaction.definitions.{k}" for k, v in sat.DEFINITIONS.items())
    assert set(sat.KEYS) <= set(sat.DEFINITIONS)


def test_catalogue_covers_facts_kpis_definitions_and_columns():
    from branchbook import i18n

    frame, _ = simulated_survey(n=400)
    d = sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    values = {"csat_mean": 70.0, "csat_top2": 0.6, "nps": 12.0, "responses": 250, "bank_nps": 20.0,
              "value": 1.0, "bank": 2.0, "q_value": 0.01, "previous": 5.0, "change": 7.0,
              "complaints": 3, "per_1000": 1.2, "sla_first_response": 0.9, "sla_plan": 0.8,
              "minimum": 100, "importance": 1.1, "performance": 3.2, "open": 2, "oldest_days": 40,
              "over_30": 1, "band_retention": 0.8, "high_retention": 0.9, "risk_ratio": 2.0, "p": "p = 0.012"}  # fmt: skip
    keys = ["scores", "no_surveys", "vs_bank.in_line", "nps_up", "nps_down", "nps_change_not_shown",
            "no_complaints",
            "complaints", "backlog", "drivers_too_few", "driver_no_fall"]  # fmt: skip
    keys += [f"vs_bank.{m}_{d}" for m in sat.SCORE_METRICS for d in ("above", "below")]
    keys += [f"driver_action.{a}" for a in sat.ATTRIBUTES]
    keys += [f"driver_focus.n{k}" for k in (1, 2, 3)]
    keys += [
        f"retention_{r}.{b}" for r in ("holds", "not_shown", "reversed") for b in ("low", "mid")
    ]
    for i in (1, 2, 3):
        values.update({f"a{i}": "x", f"a{i}_prior": 4.0, f"a{i}_now": 3.0, f"a{i}_p": "p = 0.01"})
    values["months"] = 3
    tables = [
        sat.scores_by(responses([(5, 10)]), by="tier", period=PERIOD, window_months=1),
        sat.kpi_table(three_branches(), branch_id="A", period=PERIOD, window_months=1,
                      kpi_status=Settings().kpi_status),
        sat.attribute_change(survey_window_frame(), period=PERIOD, window_months=1),
        sat.trend(three_branches(), branch_id="A", period=PERIOD, window_months=1),
        sat.branch_tests(three_branches(), period=PERIOD, window_months=1),
        d.table,
        sat.sla_compliance(sla_complaints(), **OCT, first_response_hours=24.0, plan_hours=72.0),
        sat.complaint_rates(sla_complaints(), CUSTOMERS, **OCT),
        sat.open_backlog(sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90]),
        sat.backlog_by_age(sat.open_backlog(sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31),
                                            age_bounds=[7, 30, 90]), age_bounds=[7, 30, 90]),
        sat.repeat_complainants(sla_complaints(), CUSTOMERS, period_end=date(2026, 10, 31),
                                window_months=12, min_complaints=2),
        sat.retention_by_band(survey_cohort(), horizon_months=6, band_bounds=[60.0, 85.0]),
        sat.retention_curve(survey_cohort(), horizon_months=6, band_bounds=[60.0, 85.0]),
    ]  # fmt: skip
    internal = {"branch_id", "csat_sum", "csat_sumsq"}  # working sums, never shown
    columns = {c for t in tables for c in t.columns} - internal
    for locale in ("en", "zh-CN"):
        for key in keys:
            assert i18n.t(f"satisfaction.summary.{key}", locale, **values)
        for k in sat.KEYS:
            assert i18n.has(f"satisfaction.kpis.{k}", locale)
        for metric, key in sat.DEFINITIONS.items():
            assert i18n.has(key, locale) and i18n.has(f"satisfaction.terms.{metric}", locale)
        for col in columns:
            assert i18n.has(f"satisfaction.columns.{col}", locale), col
        for group, codes in {"tier": sat.TIERS, "band": sat.BANDS, "attribute": sat.ATTRIBUTES,
                             "quadrant": sat.QUADRANTS, "category": sat.CATEGORIES,
                             "metric": sat.SCORE_METRICS, "kpi": sat.KEYS}.items():  # fmt: skip
            for code in codes:
                assert i18n.has(f"satisfaction.values.{group}.{code}", locale), (group, code)


def test_notebook_texts_are_in_both_catalogues():
    """Every catalogue key the notebook names (sections, notes, empty, charts, captions) exists."""
    import re
    from pathlib import Path

    from branchbook import i18n

    src = (Path(__file__).resolve().parents[2] / "notebooks" / "satisfaction.py").read_text("utf-8")
    keys = {f"satisfaction.sections.{k}.title" for k in re.findall(r'page\.section\("(\w+)"', src)}
    keys |= {f"satisfaction.empty.{k}" for k in re.findall(r'page\.empty\("(\w+)"', src)}
    keys |= set(re.findall(r'page\.note\("([\w.]+)"', src))
    keys |= {f"satisfaction.{k}" for k in re.findall(r'page\.rt\("([\w.]+)"', src)}
    keys |= {
        f"satisfaction.charts.{k}.title"
        for k in re.findall(r'page\.(?:bar|line)_chart\(\s*"(\w+)"', src)
    }
    keys |= {f"satisfaction.{p}" for p in re.findall(r'"label:satisfaction\.([\w.]+)"', src)}
    assert len(keys) > 30
    for locale in ("en", "zh-CN"):
        missing = sorted(
            k
            for k in keys
            if not i18n.has(k, locale)
            and not any(c.startswith(k + ".") for c in i18n.catalogue(locale))
        )
        assert missing == [], (locale, missing)


def test_functions_do_not_mutate_their_inputs():
    frame, _ = simulated_survey(n=300)
    c, m, cohort = sla_complaints(), three_branches(), survey_cohort()
    before = [x.copy() for x in (frame, c, m, cohort, CUSTOMERS)]
    sat.scores_by(frame.assign(channel="counter", tier="mass"), by="tier", period=PERIOD,
                  window_months=1)  # fmt: skip
    sat.drivers(frame, period=PERIOD, window_months=12, min_responses=100)
    sat.kpi_table(m, branch_id="A", period=PERIOD, window_months=1,
                  kpi_status=Settings().kpi_status)  # fmt: skip
    sat.branch_tests(m, period=PERIOD, window_months=1)
    sat.sla_compliance(c, **OCT, first_response_hours=24.0, plan_hours=72.0)
    sat.open_backlog(c, CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90])
    sat.repeat_complainants(c, CUSTOMERS, period_end=date(2026, 10, 31), window_months=12,
                            min_complaints=2)  # fmt: skip
    sat.retention_by_band(cohort, horizon_months=6, band_bounds=[60.0, 85.0])
    for old, new in zip(before, (frame, c, m, cohort, CUSTOMERS), strict=True):
        pd.testing.assert_frame_equal(old, new)


def _retention_fact(low, high, p_value, mid_p=np.nan):
    """The retention fact of a bank whose low band churns ``low`` and high band ``high``."""
    retention = pd.DataFrame(
        {"band": ["low", "mid", "high"], "customers": [100, 100, 100],
         "retention": [1 - low, 0.8, 1 - high], "risk_ratio": [low / high, 2.0, 1.0],
         "p_value": [p_value, mid_p, np.nan]}
    )  # fmt: skip
    kpi_rows = pd.DataFrame({"kpi": list(sat.KEYS), "value": np.nan, "previous": np.nan,
                             "change": np.nan, "bank_median": np.nan})  # fmt: skip
    empty = responses([]).iloc[0:0]
    facts = sat.summary_facts(
        kpi_rows=kpi_rows, tests=sat.branch_tests(monthly([]), period=PERIOD, window_months=1),
        drivers_result=sat.drivers(empty, period=PERIOD, window_months=3, min_responses=100),
        sla=sat.sla_compliance(complaints([]), **OCT, first_response_hours=24.0, plan_hours=72.0),
        backlog=complaints([]).iloc[0:0], retention=retention, window_responses=0,
        change_alert_points=5.0,
    )  # fmt: skip
    return [(k, v) for k, v in facts if ".retention_" in k][0]


def test_retention_is_a_finding_only_when_its_test_is_significant():
    # p-values doubled for the two bands compared (Bonferroni): 0.0004 -> 0.0008
    key, values = _retention_fact(0.30, 0.10, 0.0004)
    assert key == "satisfaction.summary.retention_holds.low" and values["p"] == "p < 0.001"
    assert values["risk_ratio"] == pytest.approx(3.0) and values["band_retention"] == 0.7
    # the same ratio with a large p-value is not stated as a finding: 0.2 -> 0.4
    key, values = _retention_fact(0.30, 0.10, 0.2)
    assert key == "satisfaction.summary.retention_not_shown.low" and values["p"] == "p = 0.400"
    # 0.03 alone would pass 0.05, but not once adjusted for the two bands (0.06)
    key, _ = _retention_fact(0.30, 0.10, 0.03)
    assert key == "satisfaction.summary.retention_not_shown.low"
    # the neutral band's significant difference is a finding when the dissatisfied one's is not
    key, values = _retention_fact(0.30, 0.10, 0.2, mid_p=0.001)
    assert key == "satisfaction.summary.retention_holds.mid" and values["p"] == "p = 0.002"
    assert values["band_retention"] == 0.8 and values["risk_ratio"] == 2.0
    # significant, the other way round: said as it is
    key, _ = _retention_fact(0.05, 0.10, 0.01)
    assert key == "satisfaction.summary.retention_reversed.low"
    # no test (NaN): never a finding
    key, values = _retention_fact(0.30, 0.10, np.nan)
    assert key == "satisfaction.summary.retention_not_shown.low" and values["p"] == "p n/a"


def test_a_difference_from_the_bank_is_worded_by_its_adjusted_p_value():
    from branchbook import i18n
    from branchbook.satisfaction.summary import p_text

    assert [p_text(p) for p in (0.0004, 0.001, 0.0123, 0.5)] == [
        "p < 0.001", "p = 0.001", "p = 0.012", "p = 0.500"]  # fmt: skip
    kpi_rows = pd.DataFrame({"kpi": list(sat.KEYS), "value": [70.0, 0.6, 12.0, 1.5, 0.5, 0.01],
                             "previous": np.nan, "change": np.nan, "bank_median": 75.0})  # fmt: skip
    tests = pd.DataFrame({"metric": ["nps"], "value": [12.0], "rest_value": [25.0],
                          "p_value": [0.001], "q_value": [0.003], "significant": [True],
                          "direction": ["below"]})  # fmt: skip
    empty = responses([]).iloc[0:0]
    facts = dict(sat.summary_facts(
        kpi_rows=kpi_rows, tests=tests,
        drivers_result=sat.drivers(empty, period=PERIOD, window_months=3, min_responses=100),
        sla=sat.sla_compliance(complaints([]), **OCT, first_response_hours=24.0, plan_hours=72.0),
        backlog=complaints([]).iloc[0:0], retention=sat.retention_by_band(
            survey_cohort().iloc[0:0], horizon_months=6, band_bounds=[60.0, 85.0]),
        window_responses=250, change_alert_points=5.0,
    ))  # fmt: skip
    values = facts["satisfaction.summary.vs_bank.nps_below"]
    assert values["p"] == "p = 0.003"  # shown in the methods appendix's test table
    for locale in ("en", "zh-CN"):
        text = i18n.t("satisfaction.summary.vs_bank.nps_below", locale, **values)
        assert "p = " not in text and (("significantly below" in text) or ("显著低于" in text))


def test_the_churn_list_is_worded_by_whether_its_probabilities_are_shown():
    from branchbook import i18n

    kpi_rows = pd.DataFrame({"kpi": list(sat.KEYS), "value": np.nan, "previous": np.nan, "change": np.nan,
                             "bank_median": np.nan})  # fmt: skip
    empty = responses([]).iloc[0:0]
    common = dict(
        kpi_rows=kpi_rows, tests=sat.branch_tests(monthly([]), period=PERIOD, window_months=1),
        drivers_result=sat.drivers(empty, period=PERIOD, window_months=12, min_responses=100),
        sla=sat.sla_compliance(complaints([]), **OCT, first_response_hours=24.0, plan_hours=72.0),
        backlog=complaints([]).iloc[0:0],
        retention=sat.retention_by_band(survey_cohort().iloc[0:0], horizon_months=6, band_bounds=[60.0, 85.0]),
        window_responses=0, change_alert_points=5.0, churn_months=3,
    )  # fmt: skip
    watch = pd.DataFrame(
        {"aum": [1e6, 2e6], "manager_name": ["Li", "Wang"], "probability": [0.2, 0.1]}
    )
    calibrated = dict(sat.summary_facts(**common, churn_watch=watch))
    assert "satisfaction.summary.churn_watch" in calibrated
    ranked = dict(sat.summary_facts(**common, churn_watch=watch.assign(probability=np.nan)))
    assert "satisfaction.summary.churn_watch" not in ranked
    values = ranked["satisfaction.summary.churn_watch_ranked"]
    assert values["customers"] == 2
    for locale in ("en", "zh-CN"):
        said = i18n.t("satisfaction.summary.churn_watch_ranked", locale, **values)
        assert "3" in said and ("not shown" in said or "不予显示" in said)
