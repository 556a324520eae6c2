"""Customer satisfaction and complaints (客户满意度与投诉).

Scores, the branch against the bank, the drivers of satisfaction, complaints and
their service levels, churn and retention by satisfaction band.

Run order: :func:`prepare` once per period for the whole bank (SQL aggregation,
bank-wide tests with the false discovery rate controlled, the bank's driver model,
the bank's retention by band), then, per branch, the notebook calls the pure
functions below on the branch's extract and on the ``bench_`` frames.

Scales used throughout:

* CSAT (1..5) is shown as a mean on 0-100: ``(score - 1) / 4 * 100`` (1 -> 0, 3 -> 50,
  5 -> 100), and as top-2-box: the share of responses scoring 4 or 5.
* NPS is in points from -100 to +100: % promoters (9-10) minus % detractors (0-6).
* Shares are fractions 0..1; money is in the bank's currency; hours are calendar
  hours (nights, weekends and holidays count).
* A zero denominator gives NaN, never 0.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator
from scipy.special import expit

from .params import Rag, Section, check_increasing
from .startup import LazyModule

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings
optimize = LazyModule("scipy.optimize")

REPORT = "satisfaction"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = ("branches", "customers", "balances", "surveys", "complaints")

TIERS = ("mass", "affluent", "wealth", "private")
BANDS = ("low", "mid", "high")
ATTRIBUTES = ("wait_time", "attitude", "professionalism", "explanation", "environment", "digital")
CATEGORIES = ("product", "service", "process", "policy")
SEVERITIES = ("low", "medium", "high")
SURVEY_CHANNELS = ("counter", "mobile", "phone", "online")
SCORE_METRICS = ("csat_mean", "csat_top2", "nps")
KPIS = (
    "csat_mean",
    "csat_top2",
    "nps",
    "complaints_per_1000",
    "sla_first_response",
    "churn_rate",
)
QUADRANTS = ("improve", "maintain", "low_priority", "surplus")
SCORE_COLUMNS = (
    "csat_mean",
    "csat_mean_low",
    "csat_mean_high",
    "csat_sd",
    "csat_top2",
    "csat_top2_low",
    "csat_top2_high",
    "nps",
    "nps_low",
    "nps_high",
)

# Sums kept per branch x month so any window, region or the whole bank can be re-added.
SCORE_SUMS = (
    "responses",
    "csat_n",
    "csat_sum",
    "csat_sumsq",
    "top2",
    "nps_n",
    "promoters",
    "detractors",
)
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
# The bank's driver model is fitted on at most this many responses (fixed seed).
DRIVER_SAMPLE_CAP = 50_000


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


KPI_KINDS = {
    "csat_mean": "num",
    "csat_top2": "pct",
    "nps": "num",
    "complaints_per_1000": "num",
    "sla_first_response": "pct",
    "churn_rate": "pct",
}
"""How each headline KPI is formatted (a formatter name of the text catalogue)."""


def _default_status() -> dict[str, Rag]:
    return {
        "csat_mean": Rag(good="high", green=80.0, amber=70.0),
        "csat_top2": Rag(good="high", green=0.85, amber=0.75),
        "nps": Rag(good="high", green=30.0, amber=10.0),
        "complaints_per_1000": Rag(good="low", green=2.5, amber=4.0),
        "sla_first_response": Rag(good="high", green=0.95, amber=0.85),
        "churn_rate": Rag(good="low", green=0.01, amber=0.02),
    }


class Settings(Section):
    """The ``satisfaction:`` section of the parameter files.

    Float fields accept integers written in YAML (``plan_hours: 72``).
    """

    tier_bounds: list[float] = [50_000.0, 500_000.0, 6_000_000.0]
    """AUM (deposits + wealth) where affluent, wealth and private start (CNY)."""
    score_window_months: int = Field(default=3, ge=1, le=12)
    """Months of responses (ending at the period) behind CSAT, NPS and their tests."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    """Confidence level of every interval."""
    fdr: float = Field(default=0.05, gt=0.0, le=0.5)
    """False discovery rate for the branch-against-bank flags (Benjamini-Hochberg)."""
    min_responses_test: int = Field(default=30, ge=2)
    """A branch with fewer responses in the window is not tested against the bank."""
    driver_min_responses: int = Field(default=100, ge=20)
    """Below this many responses the driver model is not fitted."""
    driver_window_months: int = Field(default=12, ge=1, le=36)
    first_response_hours: float = Field(default=24.0, gt=0.0)
    plan_hours: float = Field(default=72.0, gt=0.0)
    resolved_within_days: int = Field(default=30, ge=1)
    resolution_window_months: int = Field(default=6, ge=1, le=36)
    backlog_age_days: list[int] = [7, 30, 90]
    repeat_window_months: int = Field(default=12, ge=1, le=36)
    repeat_min_complaints: int = Field(default=2, ge=2)
    churn_aum_floor: float = Field(default=1_000.0, ge=0.0)
    """A customer whose AUM stays below this for ``churn_floor_months`` has churned."""
    churn_floor_months: int = Field(default=3, ge=1, le=24)
    retention_months: int = Field(default=6, ge=1, le=24)
    """Follow-up after a survey response when measuring retention by band."""
    retention_cohort_months: int = Field(default=12, ge=1, le=36)
    band_bounds: list[float] = [60.0, 85.0]
    """CSAT 0-100 where the mid and high satisfaction bands start."""
    change_alert_points: float = Field(default=5.0, gt=0.0)
    """A change of CSAT or NPS (points) against last period worth a summary sentence."""
    kpi_status: dict[str, Rag] = Field(default_factory=_default_status)
    """Status thresholds per KPI (units as the KPI: points, shares, per 1,000)."""

    @field_validator("tier_bounds")
    @classmethod
    def _tiers(cls, v: list[float]) -> list[float]:
        if len(v) != 3 or v[0] <= 0:
            raise ValueError(
                f"tier_bounds needs 3 positive amounts (affluent, wealth, private), got {v}"
            )
        _increasing(v)
        return v

    @field_validator("kpi_status")
    @classmethod
    def _status(cls, v: dict[str, Rag]) -> dict[str, Rag]:
        unknown = sorted(set(v) - set(KPIS))
        if unknown:
            raise ValueError(f"unknown KPI(s) {', '.join(unknown)}; allowed: {', '.join(KPIS)}")
        return v

    @field_validator("band_bounds")
    @classmethod
    def _bands(cls, v: list[float]) -> list[float]:
        if len(v) != 2 or not all(0 < x < 100 for x in v):
            raise ValueError(f"band_bounds needs 2 scores between 0 and 100 (mid, high), got {v}")
        _increasing(v)
        return v

    @field_validator("backlog_age_days")
    @classmethod
    def _ages(cls, v: list[int]) -> list[int]:
        if not v or v[0] <= 0:
            raise ValueError(f"backlog_age_days needs positive day counts, got {v}")
        _increasing(v)
        return v


def _increasing(values: list[float]) -> None:
    check_increasing([float(x) for x in values])


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def shift_month(month: str, k: int) -> str:
    """``'2026-10'`` shifted by ``k`` months (negative: earlier)."""
    y, m = (int(x) for x in month.split("-"))
    i = y * 12 + (m - 1) + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _month_index(month: pd.Series) -> pd.Series:
    """Months since year 0 of each ``'YYYY-MM'`` (for month differences)."""
    text = month.astype(str)
    return text.str[:4].astype("int64") * 12 + text.str[5:7].astype("int64") - 1


def _ts(values: pd.Series) -> pd.Series:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return pd.to_datetime(values, format="ISO8601")
    return pd.to_datetime(values)


def _ratio(num: Any, den: Any) -> Any:
    """num / den with NaN where den is 0 or missing."""
    if isinstance(den, pd.Series):
        return num / den.where(den > 0)
    return float(num) / float(den) if den and den > 0 else math.nan


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def _as_of(period_end: Any) -> pd.Timestamp:
    """The end of the period as an exclusive instant: midnight after its last day."""
    return pd.Timestamp(period_end).normalize() + pd.Timedelta(days=1)


def _get(obj: Any, key: str) -> Any:
    return obj[key] if isinstance(obj, Mapping) else getattr(obj, key)


# ---------------------------------------------------------------------------
# Scores and intervals
# ---------------------------------------------------------------------------


def csat_100(score: Any) -> Any:
    """CSAT 1..5 on 0-100: ``(score - 1) / 4 * 100``; missing stays missing."""
    return (score - 1) / 4 * 100


def asset_tier(aum: pd.Series, *, bounds: Sequence[float]) -> pd.Series:
    """Asset tier of each AUM: mass < b0 <= affluent < b1 <= wealth < b2 <= private.

    A missing AUM (no balance recorded) counts as 0, i.e. mass.
    """
    edges = [-np.inf, *bounds, np.inf]
    out = pd.cut(aum.fillna(0.0).astype(float), edges, right=False, labels=list(TIERS))
    return out.astype(str)


def satisfaction_band(score100: pd.Series, *, bounds: Sequence[float]) -> pd.Series:
    """Band of a 0-100 CSAT: low < bounds[0] <= mid < bounds[1] <= high; missing -> NaN."""
    out = pd.cut(
        score100.astype(float), [-np.inf, *bounds, np.inf], right=False, labels=list(BANDS)
    )
    return out.astype(object).where(score100.notna())


def wilson_interval(successes: Any, n: Any, *, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval of a proportion; NaN where ``n`` is 0.

    >>> lo, hi = wilson_interval(8, 10)   # 0.490 .. 0.943
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, x / n, np.nan)
        den = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z / den * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = centre - half, centre + half
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def nps_interval(
    promoters: Any, detractors: Any, n: Any, *, confidence: float = 0.95
) -> tuple[Any, Any, Any]:
    """NPS (points) and its normal-approximation interval, clipped to [-100, 100].

    The variance of ``p_promoter - p_detractor`` over one multinomial sample is
    ``(p_P + p_D - (p_P - p_D)^2) / n``. NaN where ``n`` is 0; with every response
    the same kind the interval collapses to the point.
    """
    p_p, p_d, n = (np.asarray(v, dtype=float) for v in (promoters, detractors, n))
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(n > 0, p_p / n, np.nan)
        pd_ = np.where(n > 0, p_d / n, np.nan)
        nps = (pp - pd_) * 100
        se = np.sqrt(np.maximum(pp + pd_ - (pp - pd_) ** 2, 0) / n) * 100
    lo, hi = np.clip(nps - z * se, -100, 100), np.clip(nps + z * se, -100, 100)
    if nps.ndim == 0:
        return float(nps), float(lo), float(hi)
    return nps, lo, hi


def bh_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), same order as given.

    ``q_(i) = min_{j >= i} m / j * p_(j)`` over the ``m`` p-values that are not NaN,
    capped at 1; a NaN p-value (test not run) stays NaN and does not count in ``m``.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    order = np.argsort(p[ok], kind="mergesort")
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = adj
    q[ok] = out
    return q


def _score_sums(responses: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    csat = pd.to_numeric(responses["csat"], errors="coerce").astype(float)
    nps = pd.to_numeric(responses["nps"], errors="coerce").astype(float)
    c100 = csat_100(csat)
    d = responses[keys].assign(
        responses=1,
        csat_n=csat.notna().astype(int),
        csat_sum=c100.fillna(0.0),
        csat_sumsq=(c100**2).fillna(0.0),
        top2=(csat >= 4).astype(int),
        nps_n=nps.notna().astype(int),
        promoters=(nps >= 9).astype(int),
        detractors=(nps <= 6).astype(int),
    )
    if d.empty:
        return pd.DataFrame(columns=[*keys, *SCORE_SUMS])
    return d.groupby(keys, observed=True, dropna=False)[list(SCORE_SUMS)].sum().reset_index()


def scores_from_sums(sums: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Add CSAT (mean 0-100 with a t interval, top-2-box with Wilson) and NPS (with interval).

    ``sums`` holds the columns of :data:`SCORE_SUMS`. Each score is NaN where it has
    no responses; the mean's interval needs at least 2.
    """
    n = sums["csat_n"].astype(float)
    mean = _ratio(sums["csat_sum"].astype(float), n)
    var = _ratio(sums["csat_sumsq"] - n * mean**2, n - 1).clip(lower=0)
    tcrit = pd.Series(stats.t.ppf(1 - (1 - confidence) / 2, (n - 1).where(n > 1)), index=sums.index)
    half = tcrit * np.sqrt(var / n.where(n > 1))
    lo2, hi2 = wilson_interval(sums["top2"], n, confidence=confidence)
    nps, nlo, nhi = nps_interval(
        sums["promoters"], sums["detractors"], sums["nps_n"], confidence=confidence
    )
    return sums.assign(
        csat_mean=mean,
        csat_mean_low=(mean - half).clip(lower=0),
        csat_mean_high=(mean + half).clip(upper=100),
        csat_sd=np.sqrt(var),
        csat_top2=_ratio(sums["top2"].astype(float), n),
        csat_top2_low=lo2,
        csat_top2_high=hi2,
        nps=nps,
        nps_low=nlo,
        nps_high=nhi,
    )


def _window(responses: pd.DataFrame, period: str, window_months: int) -> pd.DataFrame:
    first = shift_month(period, -(window_months - 1))
    month = responses["month"].astype(str)
    return responses[(month >= first) & (month <= period)]


def scores_by(
    responses: pd.DataFrame,
    *,
    by: Literal["channel", "tier"] | None,
    period: str,
    window_months: int,
    confidence: float = 0.95,
    min_responses: int = 0,
) -> pd.DataFrame:
    """CSAT and NPS over the window, per survey channel or asset tier, plus ``all``.

    One row per group (every tier is listed, channels as seen, known ones first),
    then ``group == "all"``. Columns: ``group``, the sums of :data:`SCORE_SUMS` and the
    scores of :func:`scores_from_sums`, ``suppressed`` (fewer than ``min_responses``
    responses: scores blanked, counts kept). ``by=None`` gives the ``all`` row only.
    """
    win = _window(responses, period, window_months)
    total = _score_sums(win.assign(group="all"), ["group"])
    if total.empty:
        total = pd.DataFrame([{"group": "all", **dict.fromkeys(SCORE_SUMS, 0)}])
    parts = []
    if by is not None:
        per = _score_sums(win.assign(group=win[by].astype(str)), ["group"])
        known = list(TIERS) if by == "tier" else list(SURVEY_CHANNELS)
        seen = sorted(set(per["group"]) - set(known))
        order = (
            known + seen if by == "tier" else [c for c in known if c in set(per["group"])] + seen
        )
        per = per.set_index("group").reindex(order, fill_value=0).reset_index()
        parts.append(per)
    out = pd.concat([*parts, total], ignore_index=True)
    for col in SCORE_SUMS:
        out[col] = out[col].astype(float if col in ("csat_sum", "csat_sumsq") else "int64")
    out = scores_from_sums(out, confidence=confidence)
    small = out["responses"] < min_responses
    out.loc[small, list(SCORE_COLUMNS)] = np.nan
    return out.assign(suppressed=small)


def scores_vs_bank(scores: pd.DataFrame, groups: pd.DataFrame, *, dimension: str) -> pd.DataFrame:
    """The branch's scores per group (:func:`scores_by`) beside the whole bank's.

    ``groups`` is ``bench_satisfaction_groups`` (the bank's :func:`scores_by` per
    ``dimension``, same window). Adds ``bank_all_csat_mean``, ``bank_all_csat_top2`` and
    ``bank_all_nps``: the scores of every response of the bank in that group (NaN for
    a group the bank has no responses in).
    """
    metrics = list(SCORE_METRICS)
    bank = groups[groups["dimension"] == dimension].set_index("group")[metrics]
    bank = bank.rename(columns={m: f"bank_all_{m}" for m in metrics})
    return scores.merge(bank, left_on="group", right_index=True, how="left")


# ---------------------------------------------------------------------------
# Monthly KPIs, trend, branch against bank
# ---------------------------------------------------------------------------


def _complete_months(monthly: pd.DataFrame) -> pd.DataFrame:
    months = sorted(monthly["month"].astype(str).unique())
    if not months:
        return monthly.iloc[0:0]
    idx = _month_index(pd.Series([months[0], months[-1]]))
    all_months = [shift_month(months[0], k) for k in range(int(idx.iloc[1] - idx.iloc[0]) + 1)]
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
    Columns: ``branch_id``, ``month``, ``window_responses`` and the :data:`KPIS` plus
    the score intervals and ``sla_plan``.
    """
    m = _complete_months(monthly).sort_values(["branch_id", "month"])
    if m.empty:
        return pd.DataFrame(columns=["branch_id", "month", "window_responses", *KPIS])
    rolled = m.groupby("branch_id")[list(SCORE_SUMS)].transform(
        lambda s: s.rolling(window_months, min_periods=window_months).sum()
    )
    sc = scores_from_sums(rolled, confidence=confidence)
    return pd.DataFrame(
        {
            "branch_id": m["branch_id"],
            "month": m["month"],
            "window_responses": rolled["responses"],
            **{c: sc[c] for c in SCORE_COLUMNS if c != "csat_sd"},
            "complaints": m["complaints"],
            "complaints_per_1000": _ratio(
                m["complaints"].astype(float), m["customers"].astype(float)
            )
            * 1000,
            "sla_first_response": _ratio(m["fr_met"].astype(float), m["fr_assessed"].astype(float)),
            "sla_plan": _ratio(m["plan_met"].astype(float), m["plan_assessed"].astype(float)),
            "churn_rate": _ratio(m["churned"].astype(float), m["at_risk"].astype(float)),
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
        return dict.fromkeys(KPIS, math.nan)
    return {k: float(row[k].iloc[0]) for k in KPIS}


def rag_status(value: float, rule: Any) -> str | None:
    """``"green"``, ``"amber"`` or ``"red"`` for ``value`` under a :class:`Rag` (or its dict); None if NaN."""
    if rule is None or value is None or not math.isfinite(value):
        return None
    good, green, amber = _get(rule, "good"), float(_get(rule, "green")), float(_get(rule, "amber"))
    if good == "high":
        return "green" if value >= green else "amber" if value >= amber else "red"
    return "green" if value <= green else "amber" if value <= amber else "red"


def kpi_table(
    monthly: pd.DataFrame,
    *,
    branch_id: str,
    period: str,
    prev_period: str,
    window_months: int,
    kpi_status: Mapping[str, Any],
) -> pd.DataFrame:
    """KPI cards: one row per KPI with value, previous, change, bank median, rank and status.

    ``bank_median`` is the median over branches that have a value; ``rank`` is 1 for
    the best branch (direction from ``kpi_status``; high is good when a KPI has no
    rule), ``ranked`` the branches with a value. ``change`` is value - previous in the
    KPI's own unit (points for CSAT and NPS, share points for shares).
    """
    kf = kpi_frame(monthly, window_months=window_months)
    now, prev = kf[kf["month"] == period], kf[kf["month"] == prev_period]
    rows = []
    for k in KPIS:
        rule = kpi_status.get(k)
        high = rule is None or _get(rule, "good") == "high"
        vals = now.set_index("branch_id")[k].dropna()
        value = float(vals.get(branch_id, math.nan))
        p = prev.loc[prev["branch_id"] == branch_id, k]
        previous = float(p.iloc[0]) if len(p) else math.nan
        rank = (
            float(vals.rank(ascending=not high, method="min")[branch_id])
            if branch_id in vals.index
            else math.nan
        )
        rows.append(
            {
                "kpi": k,
                "value": value,
                "previous": previous,
                "change": value - previous,
                "bank_median": float(vals.median()) if len(vals) else math.nan,
                "rank": rank,
                "ranked": len(vals),
                "status": rag_status(value, rule),
            }
        )
    return pd.DataFrame(rows)


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
    first = shift_month(period, -(months - 1))
    own = kpi_frame(_scope(monthly, branch_id), window_months=window_months, confidence=confidence)
    bank = kpi_frame(monthly, window_months=window_months).groupby("month")[list(KPIS)].median()
    own = own[(own["month"] >= first) & (own["month"] <= period)].drop(columns="branch_id")
    bank = bank.add_prefix("bank_").reset_index()
    return own.merge(bank, on="month", how="left").reset_index(drop=True)


def _window_sums(monthly: pd.DataFrame, period: str, window_months: int) -> pd.DataFrame:
    first = shift_month(period, -(window_months - 1))
    m = monthly[(monthly["month"].astype(str) >= first) & (monthly["month"].astype(str) <= period)]
    return m.groupby(m["branch_id"].astype(str))[list(SCORE_SUMS)].sum()


def branch_tests(
    monthly: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    confidence: float = 0.95,
    min_responses: int = 30,
    fdr: float = 0.05,
) -> pd.DataFrame:
    """Every branch against the rest of the bank on CSAT mean, top-2-box and NPS.

    Window: the ``window_months`` months ending at ``period``. Tests (two-sided):
    Welch's t-test for the 0-100 mean, the pooled two-proportion z-test for
    top-2-box, a z-test on the NPS difference with each side's multinomial variance.
    Branches with fewer than ``min_responses`` responses (or a rest below it) are not
    tested (p NaN). The p-values of each metric across branches are adjusted by
    Benjamini-Hochberg; ``significant`` means q <= ``fdr``.

    One row per branch x metric: ``n``, ``value``, ``ci_low``/``ci_high`` (t, Wilson
    or normal), ``rest_n``, ``rest_value``, ``rest_ci_low``/``rest_ci_high``,
    ``bank_value`` (all branches), ``diff`` (branch - rest), ``p_value``,
    ``q_value``, ``significant`` and ``direction`` (above / below / in_line).
    """
    cols = [
        "branch_id",
        "metric",
        "n",
        "value",
        "ci_low",
        "ci_high",
        "rest_n",
        "rest_value",
        "rest_ci_low",
        "rest_ci_high",
        "bank_value",
        "diff",
        "p_value",
        "q_value",
        "significant",
        "direction",
    ]
    own = _window_sums(monthly, period, window_months)
    if own.empty:
        return pd.DataFrame(columns=cols)
    rest = own.sum() - own
    a = scores_from_sums(own, confidence=confidence)
    b = scores_from_sums(rest, confidence=confidence)
    bank = scores_from_sums(own.sum().to_frame().T, confidence=confidence).iloc[0]
    frames = []
    for metric in SCORE_METRICS:
        n_key = "nps_n" if metric == "nps" else "csat_n"
        n1, n2 = a[n_key].astype(float), b[n_key].astype(float)
        if metric == "csat_mean":
            p = _welch_p(a["csat_mean"], a["csat_sd"], n1, b["csat_mean"], b["csat_sd"], n2)
        elif metric == "csat_top2":
            p = _two_prop_p(a["top2"], n1, b["top2"], n2)
        else:
            p = _nps_p(a, b)
        p = p.where((n1 >= min_responses) & (n2 >= min_responses))
        q = pd.Series(bh_adjust(p.to_numpy()), index=p.index)
        diff = a[metric] - b[metric]
        sig = (q <= fdr).fillna(False)
        frames.append(
            pd.DataFrame(
                {
                    "branch_id": own.index,
                    "metric": metric,
                    "n": n1.astype(int),
                    "value": a[metric],
                    "ci_low": a[f"{metric}_low"],
                    "ci_high": a[f"{metric}_high"],
                    "rest_n": n2.astype(int),
                    "rest_value": b[metric],
                    "rest_ci_low": b[f"{metric}_low"],
                    "rest_ci_high": b[f"{metric}_high"],
                    "bank_value": float(bank[metric]),
                    "diff": diff,
                    "p_value": p,
                    "q_value": q,
                    "significant": sig.astype(bool),
                    "direction": np.where(
                        sig & (diff > 0), "above", np.where(sig & (diff < 0), "below", "in_line")
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[cols]


def _welch_p(m1, s1, n1, m2, s2, n2) -> pd.Series:
    out = []
    for v in zip(m1, s1, n1, m2, s2, n2, strict=True):
        if any(pd.isna(x) for x in v) or v[2] < 2 or v[5] < 2:
            out.append(math.nan)
        elif v[1] == 0 and v[4] == 0:
            out.append(1.0 if v[0] == v[3] else 0.0)
        else:
            out.append(float(stats.ttest_ind_from_stats(*v, equal_var=False).pvalue))
    return pd.Series(out, index=m1.index)


def _two_prop_p(x1, n1, x2, n2) -> pd.Series:
    p1, p2 = _ratio(x1.astype(float), n1), _ratio(x2.astype(float), n2)
    pool = _ratio((x1 + x2).astype(float), n1 + n2)
    se = np.sqrt(pool * (1 - pool) * (1 / n1.where(n1 > 0) + 1 / n2.where(n2 > 0)))
    z = (p1 - p2) / se.where(se > 0)
    p = pd.Series(2 * stats.norm.sf(np.abs(z)), index=x1.index)
    return p.where(se != 0, np.where(p1 == p2, 1.0, 0.0)).where(p1.notna() & p2.notna())


def _nps_p(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    def var(s):
        n = s["nps_n"].astype(float)
        pp, pd_ = _ratio(s["promoters"].astype(float), n), _ratio(s["detractors"].astype(float), n)
        return (pp + pd_ - (pp - pd_) ** 2) / n.where(n > 0) * 100**2

    se = np.sqrt(var(a) + var(b))
    diff = a["nps"] - b["nps"]
    p = pd.Series(2 * stats.norm.sf(np.abs(diff / se.where(se > 0))), index=a.index)
    return p.where(se != 0, np.where(diff == 0, 1.0, 0.0)).where(diff.notna())


def branch_vs_bank(tests: pd.DataFrame, *, branch_id: str) -> pd.DataFrame:
    """The branch's rows of ``bench_satisfaction_tests`` in metric order (empty if none)."""
    own = tests[tests["branch_id"].astype(str) == branch_id]
    order = {m: i for i, m in enumerate(SCORE_METRICS)}
    return own.sort_values("metric", key=lambda s: s.map(order)).reset_index(drop=True)


def in_points(tests: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`branch_tests` with the share (top-2-box) put on 0-100, so one
    number format fits every row of a table: its values, intervals and ``diff`` are
    multiplied by 100 (percent; ``diff`` in percentage points). CSAT and NPS rows are
    already in points and are returned as they are; p- and q-values are untouched.
    """
    cols = [c for c in ("value", "ci_low", "ci_high", "rest_value", "rest_ci_low", "rest_ci_high",
                        "bank_value", "diff") if c in tests.columns]  # fmt: skip
    out = tests.copy()
    share = out["metric"] == "csat_top2"
    out.loc[share, cols] = out.loc[share, cols].astype(float) * 100
    return out


# ---------------------------------------------------------------------------
# Drivers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Drivers:
    """The driver model's outcome.

    ``status``: ``fitted``; ``too_few`` (fewer than ``min_responses`` responses with a
    CSAT: nothing fitted, say so); ``no_variation`` (one CSAT level only or no rated
    attribute); ``failed`` (the optimiser did not converge). ``table`` always lists
    every attribute with its rating counts and performance; coefficients only when
    fitted.
    """

    status: str
    responses: int
    min_responses: int
    table: pd.DataFrame = field(repr=False)

    @property
    def action(self) -> str | None:
        """The most important attribute in the ``improve`` quadrant, if any."""
        t = self.table[self.table["quadrant"] == "improve"]
        return None if t.empty else str(t.sort_values("coef", ascending=False)["attribute"].iloc[0])

    @property
    def importance_cut(self) -> float:
        """Where the quadrants split on importance: the mean coefficient of the fitted attributes."""
        return _quadrant_cuts(self.table)[0]

    @property
    def performance_cut(self) -> float:
        """Where the quadrants split on performance: the mean rating of the fitted attributes."""
        return _quadrant_cuts(self.table)[1]


def _quadrant_cuts(table: pd.DataFrame) -> tuple[float, float]:
    """Mean importance and mean performance over the fitted attributes; NaN with none fitted."""
    fitted = table["coef"].notna()
    if not fitted.any():
        return math.nan, math.nan
    return float(table.loc[fitted, "coef"].mean()), float(table.loc[fitted, "performance"].mean())


def ipa_points(result: Drivers) -> pd.DataFrame:
    """The importance x performance chart's points: one row per fitted attribute.

    Columns: ``attribute``, ``performance`` (mean rating 1-5), ``coef`` (importance),
    ``quadrant`` and ``action`` (True in the ``improve`` quadrant: rated below the
    average and more important than the average). Empty when nothing was fitted.
    """
    t = result.table
    t = t[t["coef"].notna()]
    return (
        t[["attribute", "performance", "coef", "quadrant"]]
        .assign(action=t["quadrant"].eq("improve").astype(bool))
        .reset_index(drop=True)
    )


def drivers(
    responses: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    min_responses: int,
    confidence: float = 0.95,
    max_responses: int | None = None,
) -> Drivers:
    """Ordered logit (logit link) of CSAT 1..5 on the six attribute ratings.

    Window: responses of the ``window_months`` months ending at ``period`` that have a
    CSAT. Missing ratings are not dropped: each is replaced by the attribute's mean
    and an indicator "rating missing" enters the model (identical indicators are kept
    once), so every response counts; ``missing`` reports how many were filled. An
    attribute never rated, or rated the same by everyone, is left out (coef NaN).

    Importance = the coefficient: change in the log-odds of a higher CSAT per rating
    point (all attributes share the 1-5 scale). Performance = mean rating (1-5, rated
    responses only). Quadrant against the means over the fitted attributes:
    ``improve`` (importance >= mean, performance < mean: act here), ``maintain``,
    ``low_priority`` (both below), ``surplus`` (importance below, performance above).
    ``max_responses`` fits a fixed-seed random sample of that size (bank-wide use).
    """
    win = _window(responses, period, window_months)
    y = pd.to_numeric(win["csat"], errors="coerce")
    win = win[y.notna()]
    y = y[y.notna()].astype(int)
    if max_responses is not None and len(win) > max_responses:
        keep = np.sort(np.random.default_rng(0).choice(len(win), max_responses, replace=False))
        win, y = win.iloc[keep], y.iloc[keep]
    n = len(win)
    rows = []
    for attr in ATTRIBUTES:
        x = (
            pd.to_numeric(win[attr], errors="coerce").astype(float)
            if attr in win
            else pd.Series(np.nan, index=win.index)
        )
        rows.append(
            {
                "attribute": attr,
                "rated": int(x.notna().sum()),
                "missing": int(x.isna().sum()),
                "performance": float(x.mean()) if x.notna().any() else math.nan,
                "usable": bool(x.notna().any() and x.nunique() > 1),
            }
        )
    table = pd.DataFrame(rows)
    for c in ("coef", "std_err", "p_value", "ci_low", "ci_high", "odds_ratio"):
        table[c] = math.nan
    table["quadrant"] = None
    if n < min_responses:
        return Drivers("too_few", n, min_responses, table.drop(columns="usable"))
    usable = table.loc[table["usable"], "attribute"].tolist()
    if y.nunique() < 2 or not usable:
        return Drivers("no_variation", n, min_responses, table.drop(columns="usable"))
    X = pd.DataFrame(index=win.index)
    flags: list[pd.Series] = []
    for attr in usable:
        x = pd.to_numeric(win[attr], errors="coerce").astype(float)
        X[attr] = x.fillna(x.mean())
        miss = x.isna().astype(float)
        if 0 < miss.sum() < n and not any(miss.equals(f) for f in flags):
            flags.append(miss)
            X[f"{attr}_missing"] = miss
    fit = _fit_ordered_logit(y, X)
    if fit is None:
        return Drivers("failed", n, min_responses, table.drop(columns="usable"))
    z = _z(confidence)
    params, bse, pvalues = fit
    t = table.set_index("attribute")
    t.loc[usable, "coef"] = params[usable].to_numpy()
    t.loc[usable, "std_err"] = bse[usable].to_numpy()
    t.loc[usable, "p_value"] = pvalues[usable].to_numpy()
    t["ci_low"], t["ci_high"] = t["coef"] - z * t["std_err"], t["coef"] + z * t["std_err"]
    t["odds_ratio"] = np.exp(t["coef"])
    fitted = t["coef"].notna()
    imp_cut, perf_cut = _quadrant_cuts(t)
    hi_imp, hi_perf = t["coef"] >= imp_cut, t["performance"] >= perf_cut
    quad = np.select(
        [hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
        ["improve", "maintain", "low_priority"],
        "surplus",
    )
    t["quadrant"] = pd.Series(quad, index=t.index).where(fitted)
    return Drivers("fitted", n, min_responses, t.drop(columns="usable").reset_index())


def _fit_ordered_logit(y: pd.Series, X: pd.DataFrame):
    """Fit statsmodels' ``OrderedModel`` (logit link); None if it does not converge.

    ``OrderedModel`` differentiates numerically, which is slow on thousands of
    responses, so the optimum is first found with the analytic gradient of the same
    likelihood (same parameters: slopes, first cut-off, log increments of the others)
    and handed to ``OrderedModel`` as its start; it then confirms the optimum and
    gives the standard errors.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel  # slow import: only when fitting

    endog = pd.Series(pd.Categorical(y, categories=sorted(y.unique()), ordered=True), index=y.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = OrderedModel(endog, X, distr="logit")
            codes = np.asarray(model.endog, dtype=int)
            warm = optimize.minimize(
                _ologit_nll,
                model.start_params,
                args=(np.asarray(X, dtype=float), codes, model.k_levels),
                jac=True,
                method="BFGS",
                options={"maxiter": 1000, "gtol": 1e-8},
            )
            start = warm.x if np.all(np.isfinite(warm.x)) else model.start_params
            res = model.fit(start_params=start, method="bfgs", disp=False, maxiter=2000)
        except (np.linalg.LinAlgError, ValueError):
            return None
    if not res.mle_retvals.get("converged", False) or not np.all(np.isfinite(res.params)):
        return None
    return res.params, res.bse, res.pvalues


def _ologit_nll(theta: np.ndarray, x: np.ndarray, codes: np.ndarray, k_levels: int):
    """Negative log-likelihood of the ordered logit and its gradient (OrderedModel's parameters)."""
    p = x.shape[1]
    beta, c0, logd = theta[:p], theta[p], theta[p + 1 :]
    cuts = np.concatenate(
        ([-np.inf], c0 + np.concatenate(([0.0], np.exp(logd))).cumsum(), [np.inf])
    )
    eta = x @ beta
    fu, fl = expit(cuts[codes + 1] - eta), expit(cuts[codes] - eta)
    prob = np.clip(fu - fl, 1e-300, None)
    du, dl = fu * (1 - fu) / prob, fl * (1 - fl) / prob
    grad_beta = x.T @ (dl - du)
    # d loglike / d cut_j for the inner cut-offs j = 1..k-1
    g_cut = np.bincount(codes + 1, du, k_levels + 1) - np.bincount(codes, dl, k_levels + 1)
    g_cut = g_cut[1:k_levels]
    # cut_j = c0 + sum_{i < j} exp(logd_i): each log increment moves every later cut-off
    g_logd = np.exp(logd) * g_cut[::-1].cumsum()[::-1][1:]
    grad = np.concatenate((grad_beta, [g_cut.sum()], g_logd))
    return -float(np.log(prob).sum()), -grad


# ---------------------------------------------------------------------------
# Complaints
# ---------------------------------------------------------------------------


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
                "compliance": _ratio(met, met + breached),
            }
        )
    return pd.DataFrame(rows)


def km_quantile(durations: Any, resolved: Any, q: float) -> float:
    """Kaplan-Meier time by which a share ``q`` is resolved; open cases are censored.

    The smallest duration ``t`` with S(t) <= 1 - q, where S is the product over event
    times of (1 - resolved at t / still open just before t); an open case counts as
    open up to its current age. NaN when the curve never gets that low (more than
    1 - q still open at the longest follow-up) or there are no cases.
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(resolved, dtype=bool)
    if d.size == 0:
        return math.nan
    surv = 1.0
    for t in np.unique(d[e]):
        at_risk = np.sum(d >= t)
        surv *= 1 - np.sum((d == t) & e) / at_risk
        if surv <= 1 - q + 1e-12:
            return float(t)
    return math.nan


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
    start = pd.Timestamp(
        shift_month(pd.Timestamp(period_end).strftime("%Y-%m"), -(window_months - 1)) + "-01"
    )
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
        "resolved_within_share": _ratio(int(within.sum()), int(matured.sum())),
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
    start = pd.Timestamp(
        shift_month(pd.Timestamp(period_end).strftime("%Y-%m"), -(window_months - 1)) + "-01"
    )
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


def _monthly_complaints(
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


# ---------------------------------------------------------------------------
# Churn and retention
# ---------------------------------------------------------------------------


def retention_by_band(
    cohort: pd.DataFrame,
    *,
    horizon_months: int,
    band_bounds: Sequence[float],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Retention ``horizon_months`` after a survey response, by satisfaction band.

    ``cohort``: one row per surveyed customer (``satisfaction_retention_cohort``) with
    ``csat`` (1..5) of their last response and ``months_to_churn`` (months from the
    response month to the first churn, NaN if none). Bands on the 0-100 scale: low
    < ``band_bounds[0]`` <= mid < ``band_bounds[1]`` <= high.

    One row per band: ``customers``, ``churned`` (within the horizon),
    ``retention`` = 1 - churned / customers, ``churn_risk`` = churned / customers,
    ``risk_ratio`` = churn risk / churn risk of the high band (NaN if the high band
    has no churn or no customers), its Katz log interval ``rr_ci_low``/``rr_ci_high``
    (NaN when a churn count is 0), and ``p_value`` of Fisher's exact test against the
    high band.
    """
    band = satisfaction_band(
        csat_100(pd.to_numeric(cohort["csat"], errors="coerce")), bounds=band_bounds
    )
    churned = pd.to_numeric(cohort["months_to_churn"], errors="coerce") <= horizon_months
    d = pd.DataFrame({"band": band, "churned": churned.astype(int)}).dropna(subset=["band"])
    g = (
        d.groupby("band")["churned"]
        .agg(customers="size", churned="sum")
        .reindex(list(BANDS), fill_value=0)
    )
    g = g.astype(int)
    risk = _ratio(g["churned"].astype(float), g["customers"].astype(float))
    ref_n, ref_x = int(g.loc["high", "customers"]), int(g.loc["high", "churned"])
    ref_risk = float(risk["high"])
    z = _z(confidence)
    rr, lo, hi, pv = [], [], [], []
    for b in BANDS:
        n, x = int(g.loc[b, "customers"]), int(g.loc[b, "churned"])
        r = float(risk[b]) / ref_risk if ref_risk > 0 and n > 0 else math.nan
        rr.append(r)
        if x > 0 and ref_x > 0 and n > 0 and b != "high":
            se = math.sqrt(1 / x - 1 / n + 1 / ref_x - 1 / ref_n)
            lo.append(r * math.exp(-z * se))
            hi.append(r * math.exp(z * se))
        else:
            lo.append(math.nan)
            hi.append(math.nan)
        ok = n > 0 and ref_n > 0 and b != "high"
        pv.append(
            float(stats.fisher_exact([[x, n - x], [ref_x, ref_n - ref_x]]).pvalue)
            if ok
            else math.nan
        )
    return pd.DataFrame(
        {
            "band": list(BANDS),
            "customers": g["customers"].to_numpy(),
            "churned": g["churned"].to_numpy(),
            "retention": 1 - risk.to_numpy(),
            "churn_risk": risk.to_numpy(),
            "risk_ratio": rr,
            "rr_ci_low": lo,
            "rr_ci_high": hi,
            "p_value": pv,
        }
    )


def cohort_months(period: str, *, horizon_months: int, cohort_months: int) -> tuple[str, str]:
    """First and last response month of the retention cohort: the ``cohort_months``
    months ending ``horizon_months`` before ``period``, so everyone has been followed
    for the whole horizon (``'2026-10'``, 6, 12 -> ``('2025-05', '2026-04')``)."""
    last = shift_month(period, -horizon_months)
    return shift_month(last, -(cohort_months - 1)), last


def retention_curve(
    cohort: pd.DataFrame, *, horizon_months: int, band_bounds: Sequence[float]
) -> pd.DataFrame:
    """Share of each band's cohort not yet churned, 0..``horizon_months`` months after the response.

    Long frame: ``band``, ``months_after``, ``customers``, ``retained`` (share; NaN for
    an empty band).
    """
    band = satisfaction_band(
        csat_100(pd.to_numeric(cohort["csat"], errors="coerce")), bounds=band_bounds
    )
    m = pd.to_numeric(cohort["months_to_churn"], errors="coerce")
    rows = []
    for b in BANDS:
        mb = m[band == b]
        for k in range(horizon_months + 1):
            rows.append(
                {
                    "band": b,
                    "months_after": k,
                    "customers": len(mb),
                    "retained": _ratio(int((~(mb <= k)).sum()), len(mb)),
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# prepare: once per period, the whole bank
# ---------------------------------------------------------------------------

_RESPONSES_SQL = """
WITH last_aum AS (
    SELECT customer_id, arg_max(deposits + wealth, month) AS aum
    FROM balances
    WHERE month <= $period
      AND customer_id IN (SELECT customer_id FROM surveys WHERE responded_on BETWEEN $start AND $end)
    GROUP BY customer_id
)
SELECT s.response_id, s.customer_id, s.branch_id, s.manager_id,
       strftime(s.responded_on, '%Y-%m') AS month, s.responded_on, s.channel,
       s.csat, s.nps, s.wait_time, s.attitude, s.professionalism, s.explanation,
       s.environment, s.digital, coalesce(a.aum, 0.0) AS aum
FROM surveys s
LEFT JOIN last_aum a USING (customer_id)
WHERE s.responded_on BETWEEN $start AND $end
ORDER BY s.branch_id, s.responded_on, s.response_id
"""

_COMPLAINTS_SQL = """
SELECT complaint_id, branch_id, received_at, first_response_at, plan_at
FROM complaints
WHERE received_at >= $start AND received_at < $end
"""

_BASE_SQL = """
WITH mm AS (
    SELECT month, last_day(CAST(month || '-01' AS DATE)) AS mend FROM (SELECT unnest($months) AS month)
)
SELECT c.branch_id, mm.month, count(*) AS customers
FROM customers c
JOIN mm ON c.opened_on <= mm.mend AND (c.closed_on IS NULL OR c.closed_on > mm.mend)
GROUP BY ALL
"""


def _steps_sql(n_low: int, customers: str = "customers") -> str:
    """CTEs ``st`` (one row per balance row) and ``step`` (one row per customer x month at risk).

    Churned at month m: closed on or before m's last day, or AUM (deposits + wealth)
    below ``$floor`` in each of the ``n_low`` balance months ending at m. ``st.active``:
    a balance row in m and not churned at m. ``step``: for every customer active at
    the end of month m - 1 (from ``$first_prev`` on), the row of month m with
    ``churned`` = churned by the end of m. An open customer with no balance row in a
    month is neither at risk nor churned that month. One window pass over the
    balances (the low run ending now and the one ending next month share one sort):
    no customer x month grid, no self-join.
    """
    n = int(n_low)
    nxt = f"{n - 2} PRECEDING" if n >= 2 else "1 FOLLOWING"
    only = (
        ""
        if customers == "customers"
        else f"AND customer_id IN (SELECT customer_id FROM {customers})"
    )
    return f"""
WITH runs AS (
    SELECT customer_id, month,
           count(*) FILTER (WHERE deposits + wealth < $floor) OVER now_ = {n}
               AND count(*) OVER now_ = {n} AS low_now,
           count(*) FILTER (WHERE deposits + wealth < $floor) OVER next_ = {n}
               AND count(*) OVER next_ = {n} AS low_next,
           lead(month) OVER (PARTITION BY customer_id ORDER BY month) AS lead_month
    FROM balances
    WHERE month >= $bal_from AND month <= $period {only}
    WINDOW now_ AS (PARTITION BY customer_id ORDER BY month ROWS BETWEEN {n - 1} PRECEDING AND CURRENT ROW),
           next_ AS (PARTITION BY customer_id ORDER BY month ROWS BETWEEN {nxt} AND 1 FOLLOWING)
),
st AS (
    SELECT r.customer_id, c.branch_id, r.month, r.low_next, r.lead_month, c.closed_on,
           strftime(CAST(r.month || '-01' AS DATE) + INTERVAL 1 MONTH, '%Y-%m') AS next_month,
           NOT r.low_now
               AND (c.closed_on IS NULL OR c.closed_on > last_day(CAST(r.month || '-01' AS DATE)))
               AS active
    FROM runs r
    JOIN {customers} c USING (customer_id)
    WHERE r.month >= $first_prev
),
step AS (
    SELECT customer_id, branch_id, next_month AS month,
           (closed_on IS NOT NULL AND closed_on <= last_day(CAST(next_month || '-01' AS DATE)))
               OR coalesce(lead_month = next_month AND low_next, false) AS churned
    FROM st
    WHERE active AND month < $period
)
"""


_CHURN_SELECT = """
SELECT branch_id, month, count(*) AS at_risk, count(*) FILTER (WHERE churned) AS churned
FROM step
GROUP BY ALL
"""

# Survey respondents of the cohort months, limited first so the balances pass is small.
_COHORT_CUSTOMERS = """(
    SELECT * FROM customers WHERE customer_id IN (
        SELECT customer_id FROM surveys
        WHERE responded_on BETWEEN $c_start AND $c_end AND csat IS NOT NULL))"""

_COHORT_SELECT = """
, resp AS (
    SELECT customer_id, strftime(responded_on, '%Y-%m') AS response_month, csat
    FROM surveys
    WHERE responded_on BETWEEN $c_start AND $c_end AND csat IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY responded_on DESC, response_id DESC) = 1
)
SELECT r.customer_id, s.branch_id, r.response_month, r.csat,
       min(t.month) AS churn_month
FROM resp r
JOIN st s ON s.customer_id = r.customer_id AND s.month = r.response_month AND s.active
LEFT JOIN step t ON t.customer_id = r.customer_id AND t.churned AND t.month > r.response_month
GROUP BY ALL
ORDER BY s.branch_id, r.customer_id
"""


def _month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Bank-wide frames for the satisfaction report (run once per period).

    Cut per branch: ``satisfaction_responses`` (survey responses of the trend and
    driver windows with ``month``, ``aum``, ``tier``), ``satisfaction_retention_cohort``
    (last response of each surveyed customer in the cohort months, ``csat``,
    ``response_month``, ``churn_month``, ``months_to_churn``). Kept whole:
    ``bench_satisfaction_monthly`` (sums per branch x month, :data:`MONTHLY_COLUMNS`),
    ``bench_satisfaction_tests`` (:func:`branch_tests`), ``bench_satisfaction_groups``
    (bank scores by channel and tier), ``bench_satisfaction_drivers`` (bank driver
    model table with ``status``), ``bench_satisfaction_retention`` (bank retention by band).
    """
    s = ctx.settings
    period, w = ctx.period, s.score_window_months
    bench_months = ctx.months(12 + w - 1)
    resp_months = ctx.months(max(12 + w - 1, s.driver_window_months))
    branches = [
        str(b) for b in ctx.sql("SELECT branch_id FROM branches ORDER BY branch_id")["branch_id"]
    ]

    responses = ctx.sql(
        _RESPONSES_SQL, period=period, start=_month_start(resp_months[0]), end=ctx.period_end
    )
    responses = responses.assign(tier=asset_tier(responses["aum"], bounds=s.tier_bounds))
    complaints = ctx.sql(
        _COMPLAINTS_SQL,
        start=dt.datetime.combine(_month_start(bench_months[0]), dt.time()),
        end=dt.datetime.combine(ctx.period_end + dt.timedelta(days=1), dt.time()),
    )
    base = ctx.sql(_BASE_SQL, months=bench_months)
    n_low = s.churn_floor_months
    churn_months = ctx.months(12 + w)  # the bench months and the month before them
    churn = ctx.sql(
        _steps_sql(n_low) + _CHURN_SELECT,
        bal_from=shift_month(churn_months[0], -(n_low - 1)),
        first_prev=churn_months[0],
        period=period,
        floor=float(s.churn_aum_floor),
    )
    h = s.retention_months
    c_first, c_last = cohort_months(
        period, horizon_months=h, cohort_months=s.retention_cohort_months
    )
    cohort = ctx.sql(
        _steps_sql(n_low, _COHORT_CUSTOMERS) + _COHORT_SELECT,
        bal_from=shift_month(c_first, -(n_low - 1)),
        first_prev=c_first,
        period=period,
        floor=float(s.churn_aum_floor),
        c_start=_month_start(c_first),
        c_end=_month_start(shift_month(c_last, 1)) - dt.timedelta(days=1),
    )
    cohort = cohort.assign(
        months_to_churn=(
            _month_index(cohort["churn_month"].fillna(period))
            - _month_index(cohort["response_month"])
        )
        .where(cohort["churn_month"].notna())
        .astype(float)
    )

    monthly = _assemble_monthly(
        branches,
        bench_months,
        _score_sums(responses, ["branch_id", "month"]),
        _monthly_complaints(
            complaints, first_response_hours=s.first_response_hours, plan_hours=s.plan_hours
        ),
        base,
        churn,
    )
    tests = branch_tests(
        monthly,
        period=period,
        window_months=w,
        confidence=s.confidence,
        min_responses=s.min_responses_test,
        fdr=s.fdr,
    )
    groups = pd.concat(
        [
            scores_by(
                responses, by=dim, period=period, window_months=w, confidence=s.confidence
            ).assign(dimension=dim)
            for dim in ("channel", "tier")
        ],
        ignore_index=True,
    )
    bank_drivers = drivers(
        responses,
        period=period,
        window_months=s.driver_window_months,
        min_responses=s.driver_min_responses,
        confidence=s.confidence,
        max_responses=DRIVER_SAMPLE_CAP,
    )
    retention = retention_by_band(
        cohort, horizon_months=h, band_bounds=s.band_bounds, confidence=s.confidence
    )
    return {
        "satisfaction_responses": responses,
        "satisfaction_retention_cohort": cohort,
        "bench_satisfaction_monthly": monthly,
        "bench_satisfaction_tests": tests,
        "bench_satisfaction_groups": groups,
        "bench_satisfaction_drivers": bank_drivers.table.assign(
            status=bank_drivers.status, responses=bank_drivers.responses
        ),
        "bench_satisfaction_retention": retention,
    }


def _assemble_monthly(branches, months, scores, complaints, base, churn) -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([branches, list(months)], names=["branch_id", "month"])
    parts = []
    for frame in (scores, complaints, base, churn):
        f = frame.assign(branch_id=frame["branch_id"].astype(str), month=frame["month"].astype(str))
        parts.append(f.set_index(["branch_id", "month"]))
    out = pd.concat(parts, axis=1).reindex(grid)
    out = out.reindex(columns=list(MONTHLY_COLUMNS[2:])).fillna(0)
    for col in out.columns:
        out[col] = out[col].astype(float if col in ("csat_sum", "csat_sumsq") else "int64")
    return out.reset_index()


# ---------------------------------------------------------------------------
# Summary and definitions
# ---------------------------------------------------------------------------


def summary_facts(
    *,
    kpi_rows: pd.DataFrame,
    tests: pd.DataFrame,
    drivers_result: Drivers,
    sla: pd.DataFrame,
    backlog: pd.DataFrame,
    retention: pd.DataFrame,
    window_responses: int,
    change_alert_points: float,
) -> list[tuple[str, dict]]:
    """Three to six facts for the summary, most important first.

    ``kpi_rows`` from :func:`kpi_table`, ``tests`` from :func:`branch_vs_bank`, ``sla``
    from :func:`sla_compliance`, ``backlog`` from :func:`open_backlog`, ``retention``
    (the bank's) from :func:`retention_by_band`, ``window_responses`` the responses
    behind the scores (``window_responses`` of :func:`trend` at the period; NaN or 0
    gives ``no_surveys``). Always: the scores (or ``no_surveys``) and the complaints
    (or ``no_complaints``); when they apply: the most significant difference from the
    bank (or ``vs_bank.in_line``), an NPS change of at least ``change_alert_points``,
    the attribute to improve first (or ``drivers_too_few``), the open backlog, and
    whether the bank's data show satisfied customers staying longer.
    """
    k = kpi_rows.set_index("kpi")
    facts: list[tuple[str, dict]] = []
    p = "satisfaction.summary."
    if not window_responses > 0:  # none, or NaN: no window to score
        facts.append((p + "no_surveys", {}))
    else:
        facts.append(
            (
                p + "scores",
                {
                    "csat_mean": k.at["csat_mean", "value"],
                    "csat_top2": k.at["csat_top2", "value"],
                    "nps": k.at["nps", "value"],
                    "responses": window_responses,
                    "bank_nps": k.at["nps", "bank_median"],
                },
            )
        )
        sig = tests[tests["significant"].astype(bool)] if len(tests) else tests
        if len(sig):
            top = sig.sort_values("q_value").iloc[0]
            facts.append(
                (
                    f"{p}vs_bank.{top['metric']}_{top['direction']}",
                    {"value": top["value"], "bank": top["rest_value"], "q_value": top["q_value"]},
                )
            )
        elif len(tests) and tests["p_value"].notna().any():
            facts.append(
                (
                    p + "vs_bank.in_line",
                    {"nps": k.at["nps", "value"], "bank_nps": k.at["nps", "bank_median"]},
                )
            )
        change = k.at["nps", "change"]
        if not math.isnan(change) and abs(change) >= change_alert_points:
            facts.append(
                (
                    p + ("nps_up" if change > 0 else "nps_down"),
                    {
                        "nps": k.at["nps", "value"],
                        "previous": k.at["nps", "previous"],
                        "change": abs(change),
                    },
                )
            )
    fr = sla.set_index("sla")
    received = int(fr.at["first_response", "received"]) if len(fr) else 0
    if received == 0:
        facts.append((p + "no_complaints", {}))
    else:
        facts.append(
            (
                p + "complaints",
                {
                    "complaints": received,
                    "per_1000": k.at["complaints_per_1000", "value"],
                    "sla_first_response": fr.at["first_response", "compliance"],
                    "sla_plan": fr.at["plan", "compliance"],
                },
            )
        )
    if drivers_result.status == "too_few":
        facts.append(
            (
                p + "drivers_too_few",
                {"responses": drivers_result.responses, "minimum": drivers_result.min_responses},
            )
        )
    elif drivers_result.action is not None:
        row = drivers_result.table.set_index("attribute").loc[drivers_result.action]
        facts.append(
            (
                f"{p}driver_action.{drivers_result.action}",
                {"importance": row["coef"], "performance": row["performance"]},
            )
        )
    if len(backlog):
        facts.append(
            (
                p + "backlog",
                {
                    "open": len(backlog),
                    "oldest_days": int(backlog["age_days"].max()),
                    "over_30": int((backlog["age_days"] > 30).sum()),
                },
            )
        )
    r = retention.set_index("band")
    if len(r) and r.at["low", "customers"] > 0 and r.at["high", "customers"] > 0:
        holds = r.at["low", "risk_ratio"] > 1 and r.at["low", "p_value"] < 0.05
        facts.append(
            (
                p + ("retention_holds" if holds else "retention_not_shown"),
                {
                    "low_retention": r.at["low", "retention"],
                    "high_retention": r.at["high", "retention"],
                    "risk_ratio": r.at["low", "risk_ratio"],
                },
            )
        )
    return [(key, {n: _plain(v) for n, v in vals.items()}) for key, vals in facts[:6]]


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


_METRICS = (
    "csat_mean",
    "csat_top2",
    "nps",
    "score_interval",
    "branch_vs_bank",
    "driver_importance",
    "driver_performance",
    "driver_quadrant",
    "complaints_per_1000",
    "sla_first_response",
    "sla_plan",
    "resolution_median",
    "resolution_p90",
    "resolved_within",
    "backlog_age",
    "repeat_complainants",
    "churn_rate",
    "retention",
    "risk_ratio",
    "asset_tier",
    "satisfaction_band",
)
DEFINITIONS: dict[str, str] = {m: f"satisfaction.definitions.{m}" for m in _METRICS}
