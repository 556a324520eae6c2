"""Complaints: rates per 1,000 customers, SLA compliance, resolution times, the open
backlog and repeat complainants.

Times are calendar hours and days (nights, weekends and holidays count); a period is
judged as at its end, the instant after its last day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..metrics.models import ASSET_TIERS
from ..period import Period

CATEGORIES = ("product", "service", "process", "policy")
SEVERITIES = ("low", "medium", "high")


def _ts(values: pd.Series) -> pd.Series:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return pd.to_datetime(values, format="ISO8601")
    return pd.to_datetime(values)


def _as_of(period_end: Any) -> pd.Timestamp:
    """The end of the period as an exclusive instant: midnight after its last day."""
    return pd.Timestamp(period_end).normalize() + pd.Timedelta(days=1)


def _window_start(period_end: Any, window_months: int) -> pd.Timestamp:
    """The first instant of the ``window_months`` months ending with the month of ``period_end``."""
    month = Period.of(pd.Timestamp(period_end).date())
    return pd.Timestamp(month.shift(-(window_months - 1)).start)


def _open_customers(customers: pd.DataFrame, period_end: Any) -> int:
    end = pd.Timestamp(period_end)
    opened = _ts(customers["opened_on"]) <= end
    closed = _ts(customers["closed_on"])
    return int((opened & (closed.isna() | (closed > end))).sum())


def _received_between(
    complaints: pd.DataFrame, start: pd.Timestamp, as_of: pd.Timestamp
) -> pd.DataFrame:
    r = _ts(complaints["received_at"])
    return complaints[(r >= start) & (r < as_of)]


def complaint_rates(
    complaints: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    period_start: Any,
    period_end: Any,
    by: Literal["category", "channel", "severity"] = "category",
) -> pd.DataFrame:
    """Complaints received in the period per 1,000 customers, by category, channel or severity.

    Customers = customers open at the end of the period (opened on or before its last
    day, not closed by then). One row per group (all categories or severities always
    listed, channels as seen) and ``all``: ``complaints``, ``per_1000`` (NaN with no
    customers), ``share`` of the period's complaints (NaN with none).
    """
    start, as_of = pd.Timestamp(period_start), _as_of(period_end)
    got = _received_between(complaints, start, as_of)
    base = _open_customers(customers, period_end)
    counts = got[by].astype(str).value_counts()
    known = {"category": CATEGORIES, "severity": SEVERITIES}.get(by, ())
    order = list(known) + sorted(set(counts.index) - set(known))
    counts = counts.reindex(order, fill_value=0)
    out = pd.DataFrame({"group": [*order, "all"], "complaints": [*counts.tolist(), len(got)]})
    out["complaints"] = out["complaints"].astype(int)
    return out.assign(
        customers=base,
        per_1000=out["complaints"] / base * 1000 if base > 0 else math.nan,
        share=out["complaints"] / len(got) if len(got) else math.nan,
    )


def complaints_by_tier(bridge: pd.DataFrame, *, period: str) -> pd.DataFrame:
    """Complaints received in ``period`` per 1,000 customers by asset tier, from the
    branch's ``satisfaction_bridge`` rows (measure ``complaints_per_1000``, dimension
    ``tier``): a complaint counts in the tier its customer had in the month it was
    received (the shared customer_month; a customer without a balance then counts in
    the mass tier), the customers are those open at the month's end by their tier then.

    One row per tier (every tier, in order): ``customers``, ``complaints``,
    ``per_1000`` (NaN for a tier without customers) and ``per_1000_prev`` (the same for
    the month before, NaN when that month is not in the rows).
    """
    previous = str(Period.parse(period).prev)
    rows = bridge[(bridge["measure"] == "complaints_per_1000") & (bridge["dimension"] == "tier")]

    def month(m: str) -> pd.DataFrame:
        g = rows[rows["month"].astype(str) == m].groupby("segment")[["num", "den"]].sum()
        return g.reindex(list(ASSET_TIERS)).fillna(0.0)

    now, before = month(period), month(previous)
    out = pd.DataFrame(
        {
            "customers": now["den"].astype("int64"),
            "complaints": (now["num"] / 1000.0).round().astype("int64"),
        },
        index=pd.Index(list(ASSET_TIERS), name="tier"),
    )
    out["per_1000"] = ratio(now["num"], now["den"])
    out["per_1000_prev"] = ratio(before["num"], before["den"])
    return out


def complaints_by_tier_total(bridge: pd.DataFrame, *, period: str) -> dict:
    """The all-tiers row of :func:`complaints_by_tier`: sums, and the rates of the sums
    (the branch's complaints per 1,000 customers of the month)."""
    previous = str(Period.parse(period).prev)
    t = complaints_by_tier(bridge, period=period)
    rows = bridge[(bridge["measure"] == "complaints_per_1000") & (bridge["dimension"] == "tier")]
    prev = rows[rows["month"].astype(str) == previous]
    return {
        "customers": float(t["customers"].sum()),
        "complaints": float(t["complaints"].sum()),
        "per_1000": ratio(float(t["complaints"].sum()) * 1000.0, float(t["customers"].sum())),
        "per_1000_prev": ratio(float(prev["num"].sum()), float(prev["den"].sum())),
    }


def _sla_outcome(
    received: pd.Series, event: pd.Series, limit_hours: float, as_of: Any
) -> pd.Series:
    """1.0 met, 0.0 breached, NaN still pending (no event yet and the clock not run out).

    Met: the event happened before ``as_of`` and within ``limit_hours`` calendar hours
    of receipt, inclusive (exactly 24 h 00 min is met). Breached: later than that, or
    not yet happened with more than ``limit_hours`` gone by ``as_of``.
    """
    limit = pd.Timedelta(hours=limit_hours)
    happened = event.notna() & (event < as_of)
    met = happened & (event - received <= limit)
    late = (happened & (event - received > limit)) | (~happened & (as_of - received > limit))
    return pd.Series(np.where(met, 1.0, np.where(late, 0.0, np.nan)), index=received.index)


def sla_compliance(
    complaints: pd.DataFrame,
    *,
    period_start: Any,
    period_end: Any,
    first_response_hours: float,
    plan_hours: float,
) -> pd.DataFrame:
    """SLA compliance of complaints received in the period, as at the period's end.

    Two rows, ``first_response`` (within ``first_response_hours``) and ``plan``
    (resolution plan within ``plan_hours``), calendar hours, limit inclusive.
    Columns: ``limit_hours``, ``received``, ``assessed`` (met + breached), ``met``,
    ``breached``, ``pending`` (clock still running at the period's end, left out),
    ``compliance`` = met / assessed (NaN with nothing assessed).
    """
    as_of = _as_of(period_end)
    got = _received_between(complaints, pd.Timestamp(period_start), as_of)
    received = _ts(got["received_at"])
    rows = []
    for name, col, hours in (
        ("first_response", "first_response_at", first_response_hours),
        ("plan", "plan_at", plan_hours),
    ):
        o = _sla_outcome(received, _ts(got[col]), hours, as_of)
        met, breached = int((o == 1).sum()), int((o == 0).sum())
        rows.append(
            {
                "sla": name,
                "limit_hours": float(hours),
                "received": len(got),
                "assessed": met + breached,
                "met": met,
                "breached": breached,
                "pending": int(o.isna().sum()),
                "compliance": ratio(met, met + breached),
            }
        )
    return pd.DataFrame(rows)


def km_quantile(durations: Any, resolved: Any, q: float) -> float:
    """Kaplan-Meier time by which a share ``q`` is resolved; open cases are censored.

    The smallest duration ``t`` with S(t) <= 1 - q, where S is the Kaplan-Meier curve
    (statsmodels' ``SurvfuncRight``: the product over event times of 1 - resolved at t
    / still open just before t); an open case counts as open up to its current age.
    NaN when the curve never gets that low (more than 1 - q still open at the longest
    follow-up) or there are no cases. (``SurvfuncRight.quantile`` takes the first time
    strictly below 1 - q, one event later when the curve sits exactly on it; the usual
    definition, kept here, is "at or below".)
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(resolved, dtype=bool)
    if not e.any():
        return math.nan
    from statsmodels.duration.survfunc import SurvfuncRight

    curve = SurvfuncRight(d, e.astype(float))
    reached = curve.surv_times[curve.surv_prob <= 1 - q + 1e-12]
    return float(reached[0]) if len(reached) else math.nan


def resolution_times(
    complaints: pd.DataFrame,
    *,
    period_end: Any,
    window_months: int,
    within_days: int,
) -> dict[str, float]:
    """Resolution time of complaints received in the ``window_months`` months ending at the period.

    Days from receipt to resolution; a complaint still open at the period's end is
    counted as open at its age (censored), not dropped: ``median_days`` and
    ``p90_days`` are Kaplan-Meier estimates (:func:`km_quantile`; NaN = not reached).
    ``resolved_within_share``: of complaints received at least ``within_days`` days
    before the period's end (``matured``), the share resolved within ``within_days``
    days (inclusive). Also ``complaints``, ``resolved`` and ``open`` counts.
    """
    as_of = _as_of(period_end)
    start = _window_start(period_end, window_months)
    got = _received_between(complaints, start, as_of)
    received, resolved_at = _ts(got["received_at"]), _ts(got["resolved_at"])
    done = resolved_at.notna() & (resolved_at < as_of)
    days = ((resolved_at.where(done, as_of) - received) / pd.Timedelta(days=1)).astype(float)
    limit = pd.Timedelta(days=within_days)
    matured = received <= as_of - limit
    within = done & (resolved_at - received <= limit) & matured
    return {
        "complaints": len(got),
        "resolved": int(done.sum()),
        "open": int((~done).sum()),
        "median_days": km_quantile(days, done, 0.5),
        "p90_days": km_quantile(days, done, 0.9),
        "matured": int(matured.sum()),
        "resolved_within_share": ratio(int(within.sum()), int(matured.sum())),
    }


def _age_bucket(age_days: pd.Series, bounds: Sequence[int]) -> pd.Series:
    labels = [f"le_{b}" for b in bounds] + [f"gt_{bounds[-1]}"]
    return pd.cut(age_days, [-np.inf, *bounds, np.inf], right=True, labels=labels).astype(str)


def open_backlog(
    complaints: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    period_end: Any,
    age_bounds: Sequence[int],
) -> pd.DataFrame:
    """Complaints still open at the period's end (received before it, not resolved by then).

    One row per complaint, oldest first: ``complaint_id``, ``customer_id``,
    ``name`` (the customer's name, unmasked: :meth:`branchbook.page.Page.table` masks a
    column called ``name``), ``category``, ``severity``, ``channel``,
    ``received_at``, ``age_days`` (whole days open at the period's end),
    ``age_bucket`` (``le_7`` ... ``gt_90`` by ``age_bounds``, inclusive), ``responded``
    and ``planned`` (first response / plan given).
    """
    as_of = _as_of(period_end)
    received, resolved = _ts(complaints["received_at"]), _ts(complaints["resolved_at"])
    is_open = (received < as_of) & (resolved.isna() | (resolved >= as_of))
    got = complaints[is_open]
    names = (
        customers.set_index("customer_id")["name"] if "name" in customers else pd.Series(dtype=str)
    )
    age = ((as_of - received[is_open]) // pd.Timedelta(days=1)).astype(int)
    out = pd.DataFrame(
        {
            "complaint_id": got["complaint_id"],
            "customer_id": got["customer_id"],
            "name": got["customer_id"].map(names),
            "category": got["category"],
            "severity": got["severity"],
            "channel": got["channel"],
            "received_at": received[is_open],
            "age_days": age,
            "age_bucket": _age_bucket(age, age_bounds),
            "responded": (_ts(got["first_response_at"]) < as_of).fillna(False).astype(bool),
            "planned": (_ts(got["plan_at"]) < as_of).fillna(False).astype(bool),
        }
    )
    return out.sort_values(["age_days", "complaint_id"], ascending=[False, True]).reset_index(
        drop=True
    )


def backlog_by_age(backlog: pd.DataFrame, *, age_bounds: Sequence[int]) -> pd.DataFrame:
    """Open complaints per age bucket (every bucket listed) and severity: ``open``, ``low``, ``medium``, ``high``."""
    labels = [f"le_{b}" for b in age_bounds] + [f"gt_{age_bounds[-1]}"]
    t = pd.crosstab(backlog["age_bucket"], backlog["severity"]) if len(backlog) else pd.DataFrame()
    t = t.reindex(index=labels, columns=list(SEVERITIES), fill_value=0).fillna(0).astype(int)
    t.insert(0, "open", t.sum(axis=1))
    return t.rename_axis(index="age_bucket", columns=None).reset_index()


def repeat_complainants(
    complaints: pd.DataFrame,
    customers: pd.DataFrame,
    *,
    period_end: Any,
    window_months: int,
    min_complaints: int,
) -> pd.DataFrame:
    """Customers with at least ``min_complaints`` complaints received in the window.

    Window: the ``window_months`` months ending at the period. One row per customer,
    most complaints first: ``customer_id``, ``name`` (unmasked; the page masks it),
    ``complaints``, one count per category, ``open`` (still open at the period's
    end), ``last_received``.
    """
    as_of = _as_of(period_end)
    start = _window_start(period_end, window_months)
    got = _received_between(complaints, start, as_of)
    cols = ["customer_id", "name", "complaints", *CATEGORIES, "open", "last_received"]
    if got.empty:
        return pd.DataFrame(columns=cols)
    resolved = _ts(got["resolved_at"])
    d = got.assign(
        _open=(resolved.isna() | (resolved >= as_of)).astype(int),
        _received=_ts(got["received_at"]),
        **{c: (got["category"] == c).astype(int) for c in CATEGORIES},
    )
    g = d.groupby("customer_id").agg(
        complaints=("complaint_id", "size"),
        **{c: (c, "sum") for c in CATEGORIES},
        open=("_open", "sum"),
        last_received=("_received", "max"),
    )
    g = g[g["complaints"] >= min_complaints].reset_index()
    names = (
        customers.set_index("customer_id")["name"] if "name" in customers else pd.Series(dtype=str)
    )
    g.insert(1, "name", g["customer_id"].map(names))
    return g.sort_values(["complaints", "customer_id"], ascending=[False, True])[cols].reset_index(
        drop=True
    )


def monthly_complaints(
    complaints: pd.DataFrame, *, first_response_hours: float, plan_hours: float
) -> pd.DataFrame:
    """Per branch x month received: complaints and SLA outcomes as at that month's end."""
    cols = [
        "branch_id",
        "month",
        "complaints",
        "fr_assessed",
        "fr_met",
        "plan_assessed",
        "plan_met",
    ]
    if complaints.empty:
        return pd.DataFrame(columns=cols)
    received = _ts(complaints["received_at"])
    as_of = received.dt.to_period("M").dt.to_timestamp() + pd.offsets.MonthBegin(1)
    fr = _sla_outcome(received, _ts(complaints["first_response_at"]), first_response_hours, as_of)
    pl = _sla_outcome(received, _ts(complaints["plan_at"]), plan_hours, as_of)
    d = pd.DataFrame(
        {
            "branch_id": complaints["branch_id"].astype(str),
            "month": received.dt.strftime("%Y-%m"),
            "complaints": 1,
            "fr_assessed": fr.notna().astype(int),
            "fr_met": (fr == 1).astype(int),
            "plan_assessed": pl.notna().astype(int),
            "plan_met": (pl == 1).astype(int),
        }
    )
    return d.groupby(["branch_id", "month"], as_index=False).sum()[cols]


def complaints_per_1000(monthly: pd.DataFrame) -> pd.Series:
    """Complaints received in the month per 1,000 customers open at its end (rows of
    monthly sums: ``complaints``, ``customers``); NaN with no customers."""
    return ratio(monthly["complaints"], monthly["customers"]) * 1000


def sla_first_response(monthly: pd.DataFrame) -> pd.Series:
    """Share (0-1) of the month's complaints answered within the first-response limit,
    of those whose clock had run out or been met by the month's end (``fr_met /
    fr_assessed``); NaN with none assessed."""
    return ratio(monthly["fr_met"], monthly["fr_assessed"])


def sla_plan(monthly: pd.DataFrame) -> pd.Series:
    """Share (0-1) of the month's complaints given a resolution plan within the plan
    limit, of those assessed by the month's end; NaN with none assessed."""
    return ratio(monthly["plan_met"], monthly["plan_assessed"])
