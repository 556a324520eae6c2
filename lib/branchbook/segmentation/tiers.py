"""A customer's classification: asset and activity tier, composite score and level,
lifecycle stage, and the bank-wide ranks and RFM scores they rest on.

A customer is *open* at a month end when ``opened_on <= month end`` and ``closed_on`` is
empty or later than the month end. Every function takes frames and returns new ones;
inputs are never changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics.models import asset_tier
from .settings import (
    ACTIVITY_TIERS,
    FIVE_CLASSES,
    ActivityTiers,
    CompositeWeights,
    CreditPoints,
    Settings,
)


def _as_float(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _labels(codes: np.ndarray, names: tuple, missing: np.ndarray, index) -> pd.Series:
    out = np.array(names, dtype=object)[np.clip(codes, 0, len(names) - 1)]
    out[missing] = None
    return pd.Series(out, index=index, dtype="str")


def activity_tier(count: pd.Series, tiers: ActivityTiers) -> pd.Series:
    """Activity tier of each 90-day transaction count; NaN stays NaN.

    With the defaults: 0 dormant, 1-5 low, 6-20 medium, 21 or more high.
    """
    c = _as_float(count)
    codes = np.searchsorted([tiers.low, tiers.medium, tiers.high], c, side="right")
    return _labels(codes, ACTIVITY_TIERS, np.isnan(c), count.index)


def composite_score(customers: pd.DataFrame, weights: CompositeWeights) -> pd.Series:
    """Composite score 0-100: weighted average of the bank-wide percentile ranks.

    Uses ``pct_aum``, ``pct_activity``, ``pct_products``, ``pct_tenure`` (see
    :func:`percentile_rank`) and ``pct_credit`` (credit points on the same 0-100 scale,
    see :func:`credit_score`); NaN if any of them is missing (a customer not open at the
    period).
    """
    total = pd.Series(0.0, index=customers.index)
    for name, w in weights.model_dump().items():
        total = total + w * pd.to_numeric(customers[f"pct_{name}"], errors="coerce")
    return total.rename("composite")


def composite_level(score: pd.Series, cutoffs: list[float]) -> pd.Series:
    """Level 1-5 of each composite score: level n+1 from ``cutoffs[n-1]`` (inclusive).

    With the defaults: < 30 level 1, 30 to < 45 level 2, 45 to < 60 level 3, 60 to < 75
    level 4, >= 75 level 5. NaN -> <NA>.
    """
    s = _as_float(score)
    codes = np.searchsorted(cutoffs, s, side="right") + 1
    out = pd.array(codes, dtype="Int64")
    out[np.isnan(s)] = pd.NA
    return pd.Series(out, index=score.index, name="level")


def aum_trend(recent: pd.Series, earlier: pd.Series) -> pd.Series:
    """Ratio of the average AUM of the last 3 month ends to that of the 3 before.

    1.25 means AUM grew by a quarter. Earlier average 0 and recent above 0 -> +inf
    (growth from nothing); both 0 or either missing -> NaN.
    """
    r, e = _as_float(recent), _as_float(earlier)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e > 0, r / e, np.where((e == 0) & (r > 0), np.inf, np.nan))
    return pd.Series(ratio, index=recent.index, name="aum_trend")


def lifecycle_stage(customers: pd.DataFrame, settings: Settings) -> pd.Series:
    """Lifecycle stage of each open customer, by the first rule that applies.

    1. ``new``: tenure below ``lifecycle.new_months`` calendar months;
    2. ``dormant``: activity tier dormant (no transactions in 90 days with the default
       tiers) and AUM below ``lifecycle.dormant_aum_below``;
    3. ``growth``: AUM trend (:func:`aum_trend`) >= ``growth_ratio``;
    4. ``decline``: AUM trend <= ``decline_ratio``;
    5. ``mature``: anything else, including a trend that cannot be measured (NaN).

    Customers not open at the period get NaN.
    """
    lc = settings.lifecycle
    open_ = customers["open_now"].fillna(False).astype(bool).to_numpy()
    tenure = _as_float(customers["tenure_months"])
    aum = _as_float(customers["aum"])
    dormant = (_as_float(customers["txn_90d"]) < settings.activity_tiers.low) & (
        aum < lc.dormant_aum_below
    )
    trend = aum_trend(customers["aum_recent_3m"], customers["aum_earlier_3m"]).to_numpy()
    stage = np.select(
        [tenure < lc.new_months, dormant, trend >= lc.growth_ratio, trend <= lc.decline_ratio],
        ["new", "dormant", "growth", "decline"],
        default="mature",
    ).astype(object)
    stage[~open_] = None
    return pd.Series(stage, index=customers.index, name="lifecycle", dtype="str")


def classify(customers: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The customer rows with their classification added, by ``settings``' thresholds.

    Adds ``asset_tier`` and ``asset_tier_prev`` (NaN when not open then),
    ``activity_tier``, ``aum_trend``, ``composite`` (0-100), ``level`` (1-5) and
    ``lifecycle``. ``credit_grade``, RFM scores and ``cluster`` come from
    :func:`prepare` unchanged. Works on :func:`previous` rows too.
    """
    open_now = customers["open_now"].fillna(False).astype(bool)
    open_prev = customers["open_prev"].fillna(False).astype(bool)
    composite = composite_score(customers, settings.weights).where(open_now)
    return customers.assign(
        asset_tier=asset_tier(customers["aum"].where(open_now), settings.asset_tiers),
        asset_tier_prev=asset_tier(customers["aum_prev"].where(open_prev), settings.asset_tiers),
        activity_tier=activity_tier(customers["txn_90d"].where(open_now), settings.activity_tiers),
        aum_trend=aum_trend(customers["aum_recent_3m"], customers["aum_earlier_3m"]),
        composite=composite,
        level=composite_level(composite, settings.level_cutoffs),
        lifecycle=lifecycle_stage(customers, settings),
    )


#: Column as of the period <- the column holding it as of the previous period.
_PREV_COLUMNS = {
    "open_now": "open_prev",
    "aum": "aum_prev",
    "products_held": "products_held_prev",
    "txn_90d": "txn_90d_prev",
    "recency_days": "recency_days_prev",
    "credit_grade": "credit_grade_prev",
    "aum_recent_3m": "aum_recent_3m_prev",
    "aum_earlier_3m": "aum_earlier_3m_prev",
    "holdings": "holdings_prev",
    "mismatches": "mismatches_prev",
    "mismatch_balance": "mismatch_balance_prev",
}

#: Columns only known as of the period (bank-wide ranks and fits): NaN in previous().
_PERIOD_ONLY = (
    "deposits",
    "five_class",
    "wealth",
    "frequency_12m",
    "monetary_12m",
    "pct_aum",
    "pct_activity",
    "pct_products",
    "pct_tenure",
    "pct_credit",
    "r_score",
    "f_score",
    "m_score",
    "cluster",
    "cluster_label",
)


def previous(customers: pd.DataFrame) -> pd.DataFrame:
    """The customer rows as they stood at the previous period, with the same columns.

    ``open_now``, ``aum``, ``txn_90d`` ... take their ``*_prev`` values, tenure is one
    month less, and the ``*_prev`` columns become empty (the period before is not
    known). Bank-wide ranks, RFM scores and clusters are fitted for the period only and
    are NaN here, so ``classify(previous(c), s)`` has no composite score or level.
    """
    out = customers.copy()
    for now, prev in _PREV_COLUMNS.items():
        if prev not in customers:  # the suitability counts come with the holdings
            continue
        out[now] = customers[prev]
        out[prev] = False if prev == "open_prev" else np.nan
    out["tenure_months"] = pd.to_numeric(customers["tenure_months"]) - 1
    for col in _PERIOD_ONLY:
        if col in out:
            out[col] = np.nan
    return out


def open_customers(customers: pd.DataFrame) -> pd.DataFrame:
    """Only the customers open at the period."""
    return customers[customers["open_now"].fillna(False).astype(bool)]


def percentile_rank(values: pd.Series) -> pd.Series:
    """Percentile rank 0-100 of each value among the non-missing ones (higher = better).

    100 x average rank / n: the largest value gets 100, ties share the average of
    their ranks (three customers with 0, 0, 5 get 50, 50, 100). NaN stays NaN.
    """
    return values.rank(method="average", pct=True) * 100


def quintile_score(values: pd.Series) -> pd.Series:
    """Quintile score 1-5 of each value (5 = highest): ceil(5 x average rank / n).

    Ties share the score of their average rank; five distinct values score 1..5;
    a single value scores 5. NaN -> NaN.
    """
    pct = values.rank(method="average", pct=True)
    return np.ceil((5 * pct).round(9)).clip(1, 5)


def rfm_scores(customers: pd.DataFrame) -> pd.DataFrame:
    """RFM quintile scores (1-5, 5 best) of the customers open at the period.

    R ranks ``recency_days`` (fewer days is better), F ``frequency_12m``, M
    ``monetary_12m``, among the open customers with at least one transaction in the 12
    months; customers without one get R = F = M = 1. Rows not open: NaN. Computed in
    :func:`prepare` over the whole bank.
    """
    open_ = customers["open_now"].fillna(False).astype(bool)
    freq = pd.to_numeric(customers["frequency_12m"]).fillna(0)
    active = open_ & (freq > 0)
    out = pd.DataFrame(
        index=customers.index, columns=["r_score", "f_score", "m_score"], dtype=float
    )
    out.loc[open_] = 1.0
    out.loc[active, "r_score"] = quintile_score(
        -pd.to_numeric(customers.loc[active, "recency_days"])
    )
    out.loc[active, "f_score"] = quintile_score(freq[active])
    out.loc[active, "m_score"] = quintile_score(
        pd.to_numeric(customers.loc[active, "monetary_12m"])
    )
    return out


def credit_score(five_class: pd.Series, points: CreditPoints) -> pd.Series:
    """Credit quality 0-100 of each customer from the worst five-class category of their
    loans outstanding (``pass`` ... ``loss``); missing (no loan outstanding) scores the
    neutral ``points.no_credit``. With the defaults: pass 100, special mention 37.5,
    substandard 25, doubtful 12.5, loss 0, no loan 50.
    """
    table = points.points()
    known = five_class.where(five_class.isin(FIVE_CLASSES))
    return known.map(table).fillna(table["no_credit"]).astype(float).rename("credit_score")
