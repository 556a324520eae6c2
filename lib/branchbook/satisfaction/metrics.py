"""The report's six KPI cards, declared once, and the monthly frame they are read from.

Each card is a :class:`branchbook.metrics.Metric` whose ``compute`` is the one function
that defines it over the monthly sums (``bench_satisfaction_monthly``): the KPI cards,
their bank medians and ranks, the trend, the index's headline (``csat_mean``) and the
definitions appendix all read these declarations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..metrics import Metric, cards, declare, league
from ..period import Period
from .complaints import complaints_per_1000, sla_first_response, sla_plan
from .retention import churn_rate
from .scores import (
    SCORE_COLUMNS,
    SCORE_METRICS,
    SCORE_SUMS,
    csat_mean,
    csat_top2,
    nps,
    scores_from_sums,
)
from .settings import REPORT

METRICS: tuple[Metric, ...] = declare(
    Metric("csat_mean", REPORT, "num", "high", csat_mean, headline=True),
    Metric("csat_top2", REPORT, "pct", "high", csat_top2),
    Metric("nps", REPORT, "num", "high", nps),
    Metric("complaints_per_1000", REPORT, "num", "low", complaints_per_1000),
    Metric("sla_first_response", REPORT, "pct", "high", sla_first_response),
    Metric("churn_rate", REPORT, "pct", "low", churn_rate),
)
"""The KPI cards, in the order they are shown. CSAT and NPS are computed over the
scoring window ending at each month, the others over the month itself."""

KEYS: tuple[str, ...] = tuple(m.key for m in METRICS)

MONTHLY_COLUMNS = (
    "branch_id",
    "month",
    *SCORE_SUMS,
    "complaints",
    "customers",
    "fr_assessed",
    "fr_met",
    "plan_assessed",
    "plan_met",
    "at_risk",
    "churned",
)
"""Sums per branch x month, so any window, region or the whole bank can be re-added."""


def _complete_months(monthly: pd.DataFrame) -> pd.DataFrame:
    months = sorted(monthly["month"].astype(str).unique())
    if not months:
        return monthly.iloc[0:0]
    first, last = Period.parse(months[0]), Period.parse(months[-1])
    all_months = [str(first.shift(k)) for k in range(last.months_since(first) + 1)]
    grid = pd.MultiIndex.from_product(
        [sorted(monthly["branch_id"].astype(str).unique()), all_months],
        names=["branch_id", "month"],
    )
    m = monthly.assign(
        branch_id=monthly["branch_id"].astype(str), month=monthly["month"].astype(str)
    )
    m = m.set_index(["branch_id", "month"]).reindex(columns=list(MONTHLY_COLUMNS[2:]), fill_value=0)
    return m.reindex(grid, fill_value=0).fillna(0).reset_index()


def kpi_frame(
    monthly: pd.DataFrame, *, window_months: int, confidence: float = 0.95
) -> pd.DataFrame:
    """Headline KPIs per branch x month from the monthly sums (``bench_satisfaction_monthly``).

    CSAT and NPS use the responses of the ``window_months`` months ending at each
    month (NaN until that many months are present); complaints, SLA and churn are
    that month's own. Missing months count as months with nothing recorded.
    Columns: ``branch_id``, ``month``, ``window_responses`` and the :data:`KEYS` plus
    the score intervals, ``complaints`` and ``sla_plan``.
    """
    m = _complete_months(monthly).sort_values(["branch_id", "month"])
    if m.empty:
        return pd.DataFrame(columns=["branch_id", "month", "window_responses", *KEYS])
    rolled = m.groupby("branch_id")[list(SCORE_SUMS)].transform(
        lambda s: s.rolling(window_months, min_periods=window_months).sum()
    )
    sc = scores_from_sums(rolled, confidence=confidence)
    value = {k.key: k.compute(rolled if k.key in SCORE_METRICS else m) for k in METRICS}
    return pd.DataFrame(
        {
            "branch_id": m["branch_id"],
            "month": m["month"],
            "window_responses": rolled["responses"],
            **{c: value.get(c, sc[c]) for c in SCORE_COLUMNS if c != "csat_sd"},
            "complaints": m["complaints"],
            "complaints_per_1000": value["complaints_per_1000"],
            "sla_first_response": value["sla_first_response"],
            "sla_plan": sla_plan(m),
            "churn_rate": value["churn_rate"],
        }
    ).reset_index(drop=True)


def _scope(monthly: pd.DataFrame, branch_id: str | Sequence[str] | None) -> pd.DataFrame:
    """The branch's rows, or several branches / the whole bank summed into one 'scope'."""
    if isinstance(branch_id, str):
        return monthly[monthly["branch_id"].astype(str) == branch_id]
    rows = (
        monthly
        if branch_id is None
        else monthly[monthly["branch_id"].astype(str).isin(list(branch_id))]
    )
    num = [c for c in MONTHLY_COLUMNS[2:] if c in rows.columns]
    return rows.groupby("month", as_index=False)[num].sum().assign(branch_id="scope")


def kpis(
    monthly: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    branch_id: str | Sequence[str] | None = None,
) -> dict[str, float]:
    """The headline KPIs of one branch (or of several summed, or the whole bank) at ``period``.

    ``csat_mean`` 0-100, ``csat_top2`` share, ``nps`` points (window of
    ``window_months``); ``complaints_per_1000`` customers open at month end,
    ``sla_first_response`` share and ``churn_rate`` share, for the month itself. Same
    definitions as the per-branch rows of :func:`kpi_frame`. NaN where there is no data.
    """
    kf = kpi_frame(_scope(monthly, branch_id), window_months=window_months)
    row = kf[kf["month"] == period]
    if row.empty:
        return dict.fromkeys(KEYS, math.nan)
    return {k: float(row[k].iloc[0]) for k in KEYS}


def kpi_table(
    monthly: pd.DataFrame,
    *,
    branch_id: str,
    period: str,
    window_months: int,
    kpi_status: Mapping[str, Any],
) -> pd.DataFrame:
    """KPI cards (:func:`branchbook.metrics.cards.card_frame`): one row per declared KPI
    with value, previous (last month), change, bank median, rank, status and the value
    at the start of the year (end of last December; NaN beyond the monthly frame).

    ``bank_median`` is the median over the branches that have a value; ``rank`` is 1
    for the best branch in the KPI's good direction. ``change`` is value - previous in
    the KPI's own unit (points for CSAT and NPS, share points for shares).
    """
    kf = kpi_frame(monthly, window_months=window_months)
    prev_period = str(Period.parse(period).prev)

    def row(month: str) -> dict[str, float]:
        r = kf[(kf["month"] == month) & (kf["branch_id"] == branch_id)]
        return {k: float(r[k].iloc[0]) for k in KEYS} if len(r) else {}

    return cards.card_frame(
        METRICS,
        row(period),
        row(prev_period),
        year_start=row(cards.year_start_period(period)),
        bench=kf,
        unit_id=branch_id,
        period=period,
        rag=kpi_status,
        period_col="month",
    )


def trend(
    monthly: pd.DataFrame,
    *,
    branch_id: str | Sequence[str] | None,
    period: str,
    window_months: int,
    months: int = 12,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The last ``months`` months of KPIs for the scope, with the bank median of each.

    One row per month (oldest first): the columns of :func:`kpi_frame` and
    ``bank_<kpi>`` = median over branches that month.
    """
    first = str(Period.parse(period).shift(-(months - 1)))
    own = kpi_frame(_scope(monthly, branch_id), window_months=window_months, confidence=confidence)
    bank = kpi_frame(monthly, window_months=window_months).groupby("month")[list(KEYS)].median()
    own = own[(own["month"] >= first) & (own["month"] <= period)].drop(columns="branch_id")
    bank = bank.add_prefix("bank_").reset_index()
    return own.merge(bank, on="month", how="left").reset_index(drop=True)


def unit_kpis(bench, settings=None) -> pd.DataFrame:
    """Every declared KPI per branch and period from prepare's monthly sums (``branch_id``,
    ``period``, one column per key), with the unit's own score window: what the index
    and head-office views read."""
    window = settings.score_window_months if settings is not None else 3
    frame = kpi_frame(bench("bench_satisfaction_monthly"), window_months=window)
    return frame.rename(columns={"month": "period"})[["branch_id", "period", *KEYS]]


def league_values(
    units: Mapping[str, str], *, monthly: pd.DataFrame, window_months: int
) -> pd.DataFrame:
    """Mean CSAT per unit and month for the league tables
    (:mod:`branchbook.metrics.league`): the monthly sums of its branches
    (``bench_satisfaction_monthly``) pooled, then the score over the window as for a
    branch (:func:`kpi_frame`). A mean score: no funnel. Columns ``unit, period, value``."""
    frame = _pooled_frame(monthly, units, window_months=window_months)
    return frame.rename(columns={"csat_mean": "value"})[["unit", "period", "value"]]


def pooled_kpis(bench, units: Mapping[str, str], settings=None) -> pd.DataFrame:
    """Every card of each unit of ``units`` (branch -> unit: a region, the bank) per
    month: its branches' monthly sums (``bench_satisfaction_monthly``; ``bench``: name
    -> frame, as :func:`unit_kpis`) added, then scored as a branch's are
    (:func:`kpi_frame`, over the ``settings``' score window, 3 months without), so a
    mean CSAT is over the unit's responses, never a mean of its branches' means.
    Columns ``unit, period`` and :data:`KEYS`."""
    window = settings.score_window_months if settings is not None else 3
    frame = _pooled_frame(bench("bench_satisfaction_monthly"), units, window_months=window)
    return frame[["unit", "period", *KEYS]]


def _pooled_frame(
    monthly: pd.DataFrame, units: Mapping[str, str], *, window_months: int
) -> pd.DataFrame:
    num = [c for c in MONTHLY_COLUMNS[2:] if c in monthly.columns]
    sums = league.pool(monthly, units, sums=num, period_col="month")
    frame = kpi_frame(sums.rename(columns={"unit": "branch_id"}), window_months=window_months)
    return frame.rename(columns={"branch_id": "unit", "month": "period"})


def pooled_monthly(monthly: pd.DataFrame, members: Sequence[str], *, unit: str) -> pd.DataFrame:
    """The monthly sums of ``members`` added into one unit named ``unit``, and those of
    every other branch into one named ``rest`` (none when ``members`` is the whole
    bank): a region's or the bank's own rows, to test against the rest of the bank
    (:func:`~.compare.branch_tests`) and to read its NPS change from."""
    inside = monthly["branch_id"].astype(str).isin(list(members))
    parts = [_scope(monthly[inside], None).assign(branch_id=unit)]
    if (~inside).any():
        parts.append(_scope(monthly[~inside], None).assign(branch_id="rest"))
    return pd.concat(parts, ignore_index=True)


def scope_kpi_table(
    monthly: pd.DataFrame,
    *,
    members: Sequence[str],
    period: str,
    window_months: int,
    kpi_status: Mapping[str, Any],
) -> pd.DataFrame:
    """:func:`kpi_table` for a region or the bank (``members``): its values, last month
    and start of year from its branches' monthly sums pooled, the bank median over the
    branches as for a branch (its cards replace it: :func:`branchbook.metrics.cards.at_scope`)."""
    own = kpi_frame(_scope(monthly, list(members)), window_months=window_months)

    def row(month: str) -> dict[str, float]:
        r = own[own["month"] == month]
        return {k: float(r[k].iloc[0]) for k in KEYS} if len(r) else {}

    return cards.card_frame(
        METRICS,
        row(period),
        row(str(Period.parse(period).prev)),
        year_start=row(cards.year_start_period(period)),
        bench=kpi_frame(monthly, window_months=window_months),
        unit_id="scope",
        period=period,
        rag=kpi_status,
        period_col="month",
    )
