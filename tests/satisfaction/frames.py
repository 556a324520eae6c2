"""Tiny hand-built frames shared by the satisfaction tests."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from branchbook import satisfaction as sat

PERIOD = "2026-10"


Z95 = 1.959963984540054  # norm.ppf(0.975)


def responses(rows, month=PERIOD, branch="A"):
    """Survey responses from (csat, nps) pairs; attributes empty."""
    out = pd.DataFrame(rows, columns=["csat", "nps"])
    out.insert(0, "response_id", [f"R{i}" for i in range(len(out))])
    return out.assign(
        branch_id=branch,
        customer_id=[f"C{i}" for i in range(len(out))],
        month=month,
        channel="counter",
        tier="mass",
        **{a: np.nan for a in sat.ATTRIBUTES},
    )


def monthly(rows):
    """A monthly sums frame; missing count columns are 0."""
    frame = pd.DataFrame(rows)
    for col in sat.MONTHLY_COLUMNS:
        if col not in frame:
            frame[col] = 0
    return frame[list(sat.MONTHLY_COLUMNS)]


def ts(text):
    return pd.Timestamp(text) if text else pd.NaT


def complaints(rows):
    cols = ["complaint_id", "customer_id", "branch_id", "received_at", "first_response_at", "plan_at",
            "resolved_at", "category", "channel", "severity"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("received_at", "first_response_at", "plan_at", "resolved_at"):
        frame[c] = pd.to_datetime(frame[c].map(ts))
    return frame


CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["C1", "C2", "C3", "C4", "C5"],
        "branch_id": "A",
        "name": ["张三丰", "李四", "王五", "赵六", "Acme Ltd"],
        "opened_on": pd.to_datetime(
            ["2020-01-01", "2021-05-01", "2022-01-01", "2026-11-02", "2019-03-01"]
        ),
        "closed_on": pd.to_datetime([None, None, "2026-10-15", None, "2026-10-31"]),
    }
)


def three_branches():
    # A: mean 80 sd 20, top2 90/100, P 50 D 20; B and C: mean 70 sd 20, top2 75/100, P 30 D 30
    # csat_sumsq = (n - 1) * sd^2 + n * mean^2: A 99*400 + 100*6400 = 679600; B, C 529600
    base = {"month": PERIOD, "responses": 100, "csat_n": 100, "nps_n": 100}
    return monthly(
        [
            {**base, "branch_id": "A", "csat_sum": 8000.0, "csat_sumsq": 679600.0, "top2": 90,
             "promoters": 50, "detractors": 20},
            {**base, "branch_id": "B", "csat_sum": 7000.0, "csat_sumsq": 529600.0, "top2": 75,
             "promoters": 30, "detractors": 30},
            {**base, "branch_id": "C", "csat_sum": 7000.0, "csat_sumsq": 529600.0, "top2": 75,
             "promoters": 30, "detractors": 30},
        ]
    )  # fmt: skip


def one_branch_months():
    return monthly(
        [
            # Aug: csat 5, 4 -> 100 + 75; nps 10, 8 -> 1 promoter
            {"branch_id": "A", "month": "2026-08", "responses": 2, "csat_n": 2, "csat_sum": 175.0,
             "csat_sumsq": 15625.0, "top2": 2, "nps_n": 2, "promoters": 1},
            # Sep: csat 3, 1 -> 50 + 0; nps 5, 2 -> 2 detractors
            {"branch_id": "A", "month": "2026-09", "responses": 2, "csat_n": 2, "csat_sum": 50.0,
             "csat_sumsq": 2500.0, "nps_n": 2, "detractors": 2, "complaints": 1, "customers": 2000,
             "fr_assessed": 1, "fr_met": 1, "at_risk": 1000, "churned": 10},
            # Oct: no survey; 3 complaints of 2000 customers, 1 of 2 assessed met; 15 of 1000 churned
            {"branch_id": "A", "month": "2026-10", "complaints": 3, "customers": 2000,
             "fr_assessed": 2, "fr_met": 1, "plan_assessed": 0, "at_risk": 1000, "churned": 15},
        ]
    )  # fmt: skip


def simulated_survey(n=1500, seed=7):
    """Responses whose CSAT follows an ordered logit with planted effects."""
    rng = np.random.default_rng(seed)
    planted = {"attitude": 1.2, "wait_time": 0.9, "professionalism": 0.6, "explanation": 0.35,
               "environment": 0.15, "digital": 0.0}  # fmt: skip
    common = rng.normal(size=n)  # ratings are correlated, as in real surveys
    ratings = {}
    for attr in sat.ATTRIBUTES:
        centre = 2.4 if attr == "attitude" else 3.5  # attitude rated poorly
        ratings[attr] = np.clip(np.round(centre + 0.6 * common + rng.normal(size=n)), 1, 5)
    latent = sum(planted[a] * (ratings[a] - 3) for a in sat.ATTRIBUTES) + rng.logistic(size=n)
    csat = np.digitize(latent, [-2.5, -1.0, 0.5, 2.0]) + 1
    frame = pd.DataFrame(ratings).assign(csat=csat, nps=np.clip(csat * 2, 0, 10), month=PERIOD)
    # digital is skipped by 30% of respondents, wait time by 10%
    frame.loc[rng.random(n) < 0.3, "digital"] = np.nan
    frame.loc[rng.random(n) < 0.1, "wait_time"] = np.nan
    return frame, planted


OCT = {"period_start": date(2026, 10, 1), "period_end": date(2026, 10, 31)}


def sla_complaints():
    return complaints(
        [
            # exactly 24 h to first response and exactly 72 h to the plan: both met
            ("K1", "C1", "A", "2026-10-05 09:00", "2026-10-06 09:00", "2026-10-08 09:00", "2026-10-09", "service", "counter", "low"),
            # one second late on both
            ("K2", "C2", "A", "2026-10-05 09:00", "2026-10-06 09:00:01", "2026-10-08 09:00:01", None, "product", "phone", "high"),
            # no response yet, 12 h old at the period's end: pending on both
            ("K3", "C2", "A", "2026-10-31 12:00", None, None, None, "product", "online", "medium"),
            # no response, 50 h old: first response breached, plan still pending
            ("K4", "C1", "A", "2026-10-29 22:00", None, None, None, "policy", "phone", "low"),
            # responded after the period's end: as at 31 Oct it had no response -> breached
            ("K5", "C5", "A", "2026-10-02 08:00", "2026-11-03 08:00", "2026-11-03 08:00", None, "process", "counter", "medium"),
            # September: not in October's figures
            ("K6", "C1", "A", "2026-09-30 23:59", "2026-10-01 01:00", "2026-10-01 02:00", "2026-10-02", "service", "counter", "low"),
        ]
    )  # fmt: skip


def resolution_complaints():
    rows = [
        ("R1", "C1", "2026-10-01 00:00", "2026-10-02 00:00"),  # 1 day
        ("R2", "C1", "2026-10-01 00:00", "2026-10-03 00:00"),  # 2 days
        ("R3", "C2", "2026-10-05 00:00", "2026-10-08 00:00"),  # 3 days
        ("R4", "C2", "2026-10-28 00:00", None),  # open: 4 days old on 1 Nov 00:00
        ("R5", "C3", "2026-10-10 00:00", "2026-10-15 00:00"),  # 5 days
        # resolved after the period, so open at its end: 10 days old
        ("R6", "C3", "2026-10-22 00:00", "2026-11-05 00:00"),
    ]
    return complaints(
        [(k, c, "A", r, r, r, res, "service", "counter", "low") for k, c, r, res in rows]
    )


def survey_cohort():
    # high (answers 4-5): 10 customers, 1 churned; mid (3): 10, 2 churned; low (1-2): 10,
    # 5 churned within 6 months; one more low customer churned in month 7 (outside the
    # horizon: retained)
    rows = (
        [(5, 3.0)] + [(5, np.nan)] * 5 + [(4, np.nan)] * 4
        + [(3, 1.0), (3, 6.0)] + [(3, np.nan)] * 8
        + [(2, 2.0)] * 3 + [(1, 5.0)] * 2 + [(2, np.nan)] * 4 + [(1, 7.0)]
    )  # fmt: skip
    return pd.DataFrame(rows, columns=["csat", "months_to_churn"]).assign(branch_id="A")


def survey_window_frame():
    """Four responses in September and four in October, with hand-picked ratings."""
    ratings = {
        "attitude": ([4, 5, 4, 5], [2, 3, 2, 3]),
        "wait_time": ([4, 5, 4, 5], [4, 4, 3, 4]),
        "professionalism": ([4, 5, 4, 5], [2, 3, 2, 3]),
        "explanation": ([2, 3, 2, 3], [4, 5, 4, 5]),
        "environment": ([np.nan] * 4, [np.nan] * 4),
        "digital": ([4, 4, 3, 4], [3, 3, 3, 4]),
    }
    frame = pd.DataFrame({a: before + now for a, (before, now) in ratings.items()})
    return frame.assign(
        month=["2026-09"] * 4 + [PERIOD] * 4, csat=[4, 5, 4, 5, 2, 3, 2, 3], nps=8, branch_id="A"
    )
