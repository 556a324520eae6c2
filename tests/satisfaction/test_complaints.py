"""Complaint rates, SLA, resolution times, backlog, repeat complainants."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from branchbook import privacy
from branchbook import satisfaction as sat
from branchbook.satisfaction.complaints import monthly_complaints

from .frames import (
    CUSTOMERS,
    OCT,
    PERIOD,
    complaints,
    resolution_complaints,
    sla_complaints,
)


def test_sla_compliance_at_24h_and_72h_inclusive():
    out = sat.sla_compliance(sla_complaints(), **OCT, first_response_hours=24.0, plan_hours=72.0)
    out = out.set_index("sla")
    fr = out.loc["first_response"]
    # met: K1; breached: K2 (24 h + 1 s), K4 (50 h, none), K5 (none by 31 Oct); pending: K3
    assert (fr["received"], fr["met"], fr["breached"], fr["pending"]) == (5, 1, 3, 1)
    assert fr["compliance"] == pytest.approx(0.25)
    plan = out.loc["plan"]
    # met: K1 (72 h exactly); breached: K2, K5; pending: K3 (12 h), K4 (50 h < 72 h)
    assert (plan["met"], plan["breached"], plan["pending"]) == (1, 2, 2)
    assert plan["compliance"] == pytest.approx(1 / 3)


def test_monthly_complaints_match_sla_compliance():
    c = sla_complaints()
    m = monthly_complaints(c, first_response_hours=24.0, plan_hours=72.0).set_index("month")
    fr = sat.sla_compliance(c, **OCT, first_response_hours=24.0, plan_hours=72.0).set_index("sla")
    assert m.at[PERIOD, "complaints"] == 5
    assert (
        m.at[PERIOD, "fr_met"] / m.at[PERIOD, "fr_assessed"]
        == fr.at["first_response", "compliance"]
    )
    assert m.at[PERIOD, "plan_met"] / m.at[PERIOD, "plan_assessed"] == fr.at["plan", "compliance"]
    # September's complaint is judged as at 30 Sep 24:00, when it was 1 minute old with no
    # response yet: pending, so not assessed (its response 1 h later counts in no month)
    assert m.at["2026-09", "complaints"] == 1 and m.at["2026-09", "fr_assessed"] == 0


def test_complaint_rates_per_1000_by_category_and_channel():
    # open at 31 Oct: C1, C2 (C3 closed 15 Oct, C4 opens in Nov, C5 closed 31 Oct) -> 2 customers
    out = sat.complaint_rates(sla_complaints(), CUSTOMERS, **OCT).set_index("group")
    assert out.index.tolist() == ["product", "service", "process", "policy", "all"]
    assert out["complaints"].tolist() == [2, 1, 1, 1, 5]
    assert out.at["product", "per_1000"] == pytest.approx(1000.0)  # 2 / 2 * 1000
    assert out.at["all", "per_1000"] == pytest.approx(2500.0)
    assert out.at["product", "share"] == pytest.approx(0.4)
    ch = sat.complaint_rates(sla_complaints(), CUSTOMERS, **OCT, by="channel").set_index("group")
    assert ch["complaints"].to_dict() == {"counter": 2, "online": 1, "phone": 2, "all": 5}


def test_resolution_median_and_p90_count_open_complaints():
    out = sat.resolution_times(resolution_complaints(), period_end=date(2026, 10, 31), window_months=1,
                               within_days=3)  # fmt: skip
    # Kaplan-Meier on 1e 2e 3e 4c 5e 10c: S(1) = 5/6, S(2) = 5/6*4/5 = 4/6, S(3) = 4/6*3/4 = 0.5
    # -> median 3 days (ignoring open cases would give 2.5); S(5) = 0.5*1/2 = 0.25 never <= 0.1 -> p90 NaN
    assert out["median_days"] == pytest.approx(3.0)
    assert math.isnan(out["p90_days"])
    assert (out["complaints"], out["resolved"], out["open"]) == (6, 4, 2)
    # all 6 received by 29 Oct 00:00 (3 days before the end); resolved within 3 days: R1, R2, R3 (exactly 3)
    assert out["matured"] == 6 and out["resolved_within_share"] == pytest.approx(0.5)
    month30 = sat.resolution_times(resolution_complaints(), period_end=date(2026, 10, 31), window_months=1,
                                   within_days=30)  # fmt: skip
    # only R1, R2 are 30 days old by the end (received on or before 2 Oct): both resolved in time
    assert month30["matured"] == 2 and month30["resolved_within_share"] == 1.0


def test_km_quantile_reaches_p90_when_all_resolved():
    # 10 resolved cases at 1..10 days: S(9) = 0.1 -> p90 = 9; median S(5) = 0.5 -> 5
    d = np.arange(1, 11)
    assert sat.km_quantile(d, np.ones(10, bool), 0.9) == 9.0
    assert sat.km_quantile(d, np.ones(10, bool), 0.5) == 5.0
    assert math.isnan(sat.km_quantile([], [], 0.5))


def test_open_backlog_ages_and_buckets():
    c = complaints(
        [
            ("B1", "C1", "A", "2026-10-25 00:00", "2026-10-25 01:00", None, None, "service", "counter", "low"),  # 7 days
            ("B2", "C2", "A", "2026-10-24 00:00", None, None, None, "product", "phone", "high"),  # 8 days
            ("B3", "C5", "A", "2026-07-01 00:00", None, None, None, "policy", "phone", "high"),  # 123 days
            ("B4", "C1", "A", "2026-10-01 00:00", None, None, "2026-10-20", "policy", "phone", "low"),  # resolved
            ("B5", "C2", "A", "2026-11-02 00:00", None, None, None, "policy", "phone", "low"),  # after the period
        ]
    )  # fmt: skip
    b = sat.open_backlog(c, CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90])
    assert b["complaint_id"].tolist() == ["B3", "B2", "B1"]
    assert b["age_days"].tolist() == [123, 8, 7]
    assert b["age_bucket"].tolist() == ["gt_90", "le_30", "le_7"]
    # the full name is kept for the page to mask (a column called ``name``)
    assert b["name"].tolist() == ["Acme Ltd", "李四", "张三丰"]
    assert privacy.mask_frame(b)["name"].tolist() == ["Ac*** Ltd", "李*", "张**"]
    assert b["responded"].tolist() == [False, False, True]
    by_age = sat.backlog_by_age(b, age_bounds=[7, 30, 90]).set_index("age_bucket")
    assert by_age["open"].tolist() == [1, 1, 0, 1] and by_age.at["gt_90", "high"] == 1


def test_repeat_complainants_keep_the_name_for_the_page_to_mask():
    c = complaints(
        [
            ("P1", "C1", "A", "2026-10-01 09:00", None, None, None, "service", "counter", "low"),
            ("P2", "C1", "A", "2026-06-01 09:00", None, None, "2026-06-05", "service", "counter", "low"),
            ("P3", "C1", "A", "2026-01-01 09:00", None, None, "2026-01-05", "product", "counter", "low"),
            ("P4", "C2", "A", "2026-10-02 09:00", None, None, None, "policy", "phone", "low"),
            ("P5", "C2", "A", "2025-09-01 09:00", None, None, None, "policy", "phone", "low"),  # outside 12 months
        ]
    )  # fmt: skip
    r = sat.repeat_complainants(
        c, CUSTOMERS, period_end=date(2026, 10, 31), window_months=12, min_complaints=2
    )
    assert r["customer_id"].tolist() == ["C1"] and r["name"].tolist() == ["张三丰"]
    assert privacy.mask_frame(r)["name"].tolist() == ["张**"]
    row = r.iloc[0]
    assert (row["complaints"], row["service"], row["product"], row["open"]) == (3, 2, 1, 1)
    assert row["last_received"] == pd.Timestamp("2026-10-01 09:00")


def test_branch_with_no_complaints():
    none = complaints([])
    rates = sat.complaint_rates(none, CUSTOMERS, **OCT)
    assert (
        rates["complaints"].sum() == 0
        and (rates["per_1000"] == 0).all()
        and rates["share"].isna().all()
    )
    sla = sat.sla_compliance(none, **OCT, first_response_hours=24.0, plan_hours=72.0)
    assert sla["received"].tolist() == [0, 0] and sla["compliance"].isna().all()
    res = sat.resolution_times(none, period_end=date(2026, 10, 31), window_months=6, within_days=30)
    assert (
        res["complaints"] == 0
        and math.isnan(res["median_days"])
        and math.isnan(res["resolved_within_share"])
    )
    assert sat.open_backlog(
        none, CUSTOMERS, period_end=date(2026, 10, 31), age_bounds=[7, 30, 90]
    ).empty
    by_age = sat.backlog_by_age(sat.open_backlog(none, CUSTOMERS, period_end=date(2026, 10, 31),
                                                 age_bounds=[7, 30, 90]), age_bounds=[7, 30, 90])  # fmt: skip
    assert by_age["open"].tolist() == [0, 0, 0, 0]
    assert sat.repeat_complainants(none, CUSTOMERS, period_end=date(2026, 10, 31), window_months=12,
                                   min_complaints=2).empty  # fmt: skip
    no_customers = sat.complaint_rates(none, CUSTOMERS.iloc[0:0], **OCT)
    assert no_customers["per_1000"].isna().all()


def test_km_quantile_is_the_library_curve_read_at_or_below():
    from statsmodels.duration.survfunc import SurvfuncRight

    rng = np.random.default_rng(3)
    for _ in range(20):
        days = np.round(rng.exponential(8.0, 60), 1) + 0.05 * rng.random(60)  # no ties
        done = rng.random(60) < 0.8
        curve = SurvfuncRight(days, done.astype(float))
        for q in (0.5, 0.9):
            ours = sat.km_quantile(days, done, q)
            # the curve never sits exactly on 1 - q here, so both conventions agree
            assert ours == pytest.approx(curve.quantile(q)) or (
                math.isnan(ours) and math.isnan(curve.quantile(q))
            )
    # where it does sit on 1 - q (S(3) = 0.5 below), the library takes the next event
    # time (5) and the usual definition, kept here, the time it gets there (3)
    d = np.array([1.0, 2, 3, 4, 5, 10])
    e = np.array([1, 1, 1, 0, 1, 0], bool)
    assert (
        sat.km_quantile(d, e, 0.5) == 3.0 and SurvfuncRight(d, e.astype(float)).quantile(0.5) == 5.0
    )
