"""The churn early warning's bank-wide work, done once per period in prepare: the
samples (customers active at a month's end, with their features and whether they
churned within the horizon), the fit on the development months, the out-of-time
validation and the scores of the customers active now (:mod:`.churn_model`).

Months, for a period P and a horizon h (3): the validation month is P - h (its outcomes
are known by P); the calibration window is the ``calibration_months`` months ending at
P - 2h (their outcomes end by the validation month, before the validation's begin); the
development months end just before the calibration window and go back ``dev_months``
months, as far as the warehouse has the six months of history a snapshot's features
read. The model is fitted on the development months, its log-odds recalibrated on the
calibration window (:func:`.churn_model.recalibrate`) and both checked on the validation
month, which neither saw.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..period import Period, shift_month
from .churn_model import (
    FEATURES,
    REASONS,
    ChurnModel,
    calibrated,
    calibration,
    churned_within,
    features,
    fit,
    reasons,
    recalibrate,
    rejected_bands,
    validation,
)

log = logging.getLogger("branchbook.prepare")

LOOKBACK_MONTHS = 5
"""A snapshot's features read the five months before it (transactions over the three
months before the last three)."""


def _mi(col: str) -> str:
    """SQL of the month number of a ``'YYYY-MM'`` column."""
    return f"(CAST(substr({col}, 1, 4) AS INTEGER) * 12 + CAST(substr({col}, 6, 2) AS INTEGER))"


# appended to the steps' CTEs (.prepare._steps_sql): ``s``, the customers active (not
# churned, with a balance row) at the end of each snapshot month and their first churn after it
SNAPSHOT_CTES = f"""
, snap AS (
    SELECT customer_id, branch_id, month FROM st
    WHERE active AND month IN (SELECT unnest($snap_months))
),
first_churn AS (
    SELECT s.customer_id, s.month, min(t.month) AS churn_month
    FROM snap s JOIN step t ON t.customer_id = s.customer_id AND t.churned AND t.month > s.month
    GROUP BY ALL
),
s AS (
    SELECT s.customer_id, s.branch_id, s.month, {_mi("s.month")} AS mi, f.churn_month
    FROM snap s LEFT JOIN first_churn f USING (customer_id, month)
)"""

_DIGITAL = "('mobile', 'online')"

# then each snapshot row's features
FEATURES_SELECT = f"""
, tx AS (
    SELECT customer_id, {_mi("strftime(txn_date, '%Y-%m')")} AS mi,
           count(*) FILTER (WHERE channel IN {_DIGITAL}) AS digital,
           count(*) FILTER (WHERE channel IS NULL OR channel NOT IN {_DIGITAL}) AS physical
    FROM transactions
    WHERE txn_date >= $tx_from AND txn_date <= $period_end
    GROUP BY ALL
),
txs AS (
    SELECT s.customer_id, s.month,
           sum(t.digital) FILTER (WHERE t.mi > s.mi - 3) AS dig_recent,
           sum(t.digital) FILTER (WHERE t.mi <= s.mi - 3) AS dig_prior,
           sum(t.physical) FILTER (WHERE t.mi > s.mi - 3) AS phys_recent,
           sum(t.physical) FILTER (WHERE t.mi <= s.mi - 3) AS phys_prior
    FROM s JOIN tx t ON t.customer_id = s.customer_id AND t.mi BETWEEN s.mi - 5 AND s.mi
    GROUP BY ALL
),
cp AS (
    SELECT s.customer_id, s.month, count(*) AS complaints_12m
    FROM s JOIN complaints k ON k.customer_id = s.customer_id
        AND {_mi("strftime(k.received_at, '%Y-%m')")} BETWEEN s.mi - 11 AND s.mi
    GROUP BY ALL
),
sv AS (
    SELECT s.customer_id, s.month, arg_max(v.csat_100, v.responded_on) AS csat_100
    FROM s JOIN survey_scored v ON v.customer_id = s.customer_id AND v.csat_100 IS NOT NULL
        AND {_mi("v.month")} BETWEEN s.mi - 11 AND s.mi
    GROUP BY ALL
)
SELECT s.customer_id, s.branch_id, c.manager_id, s.month, s.churn_month,
       coalesce(m0.aum, 0.0) AS aum, m0.asset_tier, m0.deposits, m0.wealth,
       m0.loans_outstanding,
       coalesce(m3.aum, 0.0) AS aum_before, coalesce(m0.products_held, 0) AS products_held,
       datediff('day', c.opened_on, last_day(CAST(s.month || '-01' AS DATE))) / 365.25
           AS tenure_years,
       coalesce(x.dig_recent, 0) AS dig_recent, coalesce(x.dig_prior, 0) AS dig_prior,
       coalesce(x.phys_recent, 0) AS phys_recent, coalesce(x.phys_prior, 0) AS phys_prior,
       coalesce(cp.complaints_12m, 0) AS complaints_12m, sv.csat_100
FROM s
JOIN customers c ON c.customer_id = s.customer_id
LEFT JOIN customer_month m0 ON m0.customer_id = s.customer_id AND m0.month = s.month
LEFT JOIN customer_month m3 ON m3.customer_id = s.customer_id AND {_mi("m3.month")} = s.mi - 3
LEFT JOIN txs x ON x.customer_id = s.customer_id AND x.month = s.month
LEFT JOIN cp ON cp.customer_id = s.customer_id AND cp.month = s.month
LEFT JOIN sv ON sv.customer_id = s.customer_id AND sv.month = s.month
ORDER BY s.month, s.customer_id
"""


# appended to the steps' CTEs: the customers lost in the window (their first churn then)
# and not active again at the period's end, with their highest AUM in the six months before
LOST_SELECT = f"""
, lost AS (
    SELECT customer_id, min(month) AS churn_month FROM step
    WHERE churned AND month >= $lost_from AND month <= $period
    GROUP BY ALL
),
still AS (SELECT customer_id FROM st WHERE month = $period AND active)
SELECT l.customer_id, c.branch_id, c.manager_id, l.churn_month, c.closed_on,
       c.closed_on IS NOT NULL
           AND c.closed_on <= last_day(CAST(l.churn_month || '-01' AS DATE)) AS closed,
       coalesce(max(m.aum), 0.0) AS peak_aum
FROM lost l
JOIN customers c ON c.customer_id = l.customer_id
LEFT JOIN customer_month m ON m.customer_id = l.customer_id
    AND {_mi("m.month")} BETWEEN {_mi("l.churn_month")} - 6 AND {_mi("l.churn_month")} - 1
WHERE l.customer_id NOT IN (SELECT customer_id FROM still)
GROUP BY ALL
ORDER BY l.customer_id
"""

LOST_COLUMNS = (
    "customer_id",
    "branch_id",
    "manager_id",
    "churn_month",
    "closed",
    "peak_aum",
    "peak_tier",
)


def lost_customers(
    ctx, steps_sql: str, *, floor: float, floor_months: int, months: int, tiers
) -> pd.DataFrame:
    """The customers lost in the last ``months`` months (their first churn in that
    window, by the churn KPI's rule) and not active again at the period's end:
    :data:`LOST_COLUMNS`; ``closed``: the relationship was closed (else the assets
    stayed below the floor); ``peak_aum``: the highest AUM (balance basis) in the six
    months before the churn month, and ``peak_tier`` its asset tier by ``tiers``."""
    from ..metrics.models import asset_tier

    period = ctx.period
    first = shift_month(period, -(months - 1))
    start = shift_month(first, -1)  # at risk at the end of the month before
    lost = ctx.sql(
        steps_sql + LOST_SELECT,
        bal_from=shift_month(start, -(floor_months - 1)),
        first_prev=start,
        period=period,
        floor=float(floor),
        lost_from=first,
    )
    lost = lost.assign(
        closed=lost["closed"].fillna(False).astype(bool),
        peak_tier=asset_tier(lost["peak_aum"], tiers),
    )
    return lost[list(LOST_COLUMNS)]


def sample_months(
    period: str, first_month: str, *, horizon: int, dev_months: int, calibration_months: int = 1
) -> tuple[list[str], list[str], str]:
    """The development months, the calibration months (both oldest first) and the
    validation month of ``period``: validation ``period - horizon``; calibration the
    ``calibration_months`` months ending at ``period - 2 * horizon``; development the
    ``dev_months`` months ending just before; each month with :data:`LOOKBACK_MONTHS` of
    history from ``first_month`` (the warehouse's first balance month) on.

    >>> sample_months("2026-10", "2025-10", horizon=3, dev_months=3)
    (['2026-03'], ['2026-04'], '2026-07')
    """
    val = shift_month(period, -horizon)
    last_cal = shift_month(val, -horizon)
    cal = [shift_month(last_cal, -i) for i in range(calibration_months - 1, -1, -1)]
    last_dev = shift_month(cal[0], -1)
    dev = [shift_month(last_dev, -i) for i in range(dev_months - 1, -1, -1)]

    def kept(months: list[str]) -> list[str]:
        return [m for m in months if shift_month(m, -LOOKBACK_MONTHS) >= first_month]

    return kept(dev), kept(cal), val


def transactions_from(snap_months: list[str]) -> str:
    """The first month of transactions the features of ``snap_months`` read: the
    :data:`LOOKBACK_MONTHS` months before the earliest."""
    return shift_month(min(snap_months), -LOOKBACK_MONTHS)


def transaction_months(*, horizon: int, dev_months: int, calibration_months: int = 1) -> int:
    """How many months before the period the model reads transactions from at most: the
    first month :func:`transactions_from` gives for the samples of :func:`sample_months`
    (before the warehouse's history trims them; it never lengthens them). Any period
    gives the same count. A database server stages transactions from that month on
    (:mod:`branchbook.lookback`).

    With a horizon of 3 and three development months the earliest snapshot is 2026-01
    for 2026-10, whose features read from 2025-08:

    >>> transaction_months(horizon=3, dev_months=3)
    14
    """
    period = "2000-01"
    dev, cal, val = sample_months(
        period, "1900-01", horizon=horizon, dev_months=dev_months,
        calibration_months=calibration_months,
    )  # fmt: skip
    return Period.parse(period).months_since(transactions_from([*dev, *cal, val, period]))


#: Columns only the period's rows need (the scores' frame); a sample month's rows, which
#: feed the fit and the checks, go without them: at a million customers the six months'
#: text columns alone held about a gigabyte.
LIST_ONLY = ("branch_id", "manager_id", "asset_tier", "deposits", "wealth")


def _listed_only(part: pd.DataFrame, *, keep: bool) -> pd.DataFrame:
    return part if keep else part.drop(columns=list(LIST_ONLY))


def snapshots(
    ctx, steps_sql: str, snap_months: list[str], *, floor: float, floor_months: int
) -> pd.DataFrame:
    """The rows of every month of ``snap_months``: each customer active at its end, the
    month of their first churn after it and their features (:data:`FEATURES_SELECT`).

    Who was active and when they churned is found once for all the months (a temporary
    table); the features are read one month at a time, so that the joins with the
    transactions hold one month's customers at once. All the months in one query passed
    DuckDB's memory limit at 300 branches and a million customers (six months, six
    million customer-months against 14 months of transactions). A month other than the
    period's comes without the columns only the list reads (:data:`LIST_ONLY`: missing
    there after the months are put together)."""
    start = min(snap_months)
    ctx.sql(
        "CREATE OR REPLACE TEMP TABLE churn_snapshots AS " + steps_sql + SNAPSHOT_CTES
        + " SELECT * FROM s",
        bal_from=shift_month(start, -(floor_months - 1)),
        first_prev=start,
        period=ctx.period,
        floor=float(floor),
        snap_months=snap_months,
    )  # fmt: skip
    try:
        parts = [
            _listed_only(
                ctx.sql(
                    "WITH s AS (SELECT * FROM churn_snapshots WHERE month = $month)"
                    + FEATURES_SELECT,
                    month=month,
                    tx_from=Period.parse(transactions_from([month])).start,
                    period_end=Period.parse(month).end,
                ),
                keep=month == ctx.period,
            )
            for month in snap_months
        ]
    finally:
        ctx.sql("DROP TABLE IF EXISTS churn_snapshots")
    # the period's part has every column, rows or none (a month without rows is left
    # out of the concatenation, which would otherwise warn about its types)
    columns = parts[snap_months.index(ctx.period)].columns
    out = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    return out.reindex(columns=columns)


SCORE_COLUMNS = (
    "customer_id",
    "branch_id",
    "manager_id",
    "asset_tier",
    "aum",
    "deposits",
    "wealth",
    "loans_outstanding",
    "score",
    "probability",
    *(f"reason_{k + 1}" for k in range(REASONS)),
)


def churn_risk_frames(
    ctx,
    steps_sql: str,
    *,
    floor: float,
    floor_months: int,
    horizon: int,
    dev_months: int,
    min_events: int,
    dissatisfied_below: float,
    calibration_months: int = 1,
    tolerance: float = 0.0,
    relative: float = 0.0,
) -> dict[str, pd.DataFrame]:
    """The churn early warning's frames for the whole bank (``ctx``: the prepare
    context; ``steps_sql``: the churn KPI's CTEs, :func:`.prepare._steps_sql`).

    ``satisfaction_churn_risk`` (cut per branch; :data:`SCORE_COLUMNS`): every customer
    active at the period's end, its AUM, deposits, wealth and loans at the period (balance
    basis; the segmentation report's lifetime value reads them), with ``score`` (the
    customer's rank among the bank's active customers by the model's log-odds, 0-1, 1 the
    riskiest), the recalibrated probability of churning within ``horizon`` months (NaN
    unless the validation sample's calibration holds, :func:`.churn_model.calibrated` with
    ``tolerance`` and ``relative``)
    and up to three reasons, empty columns when no model was fitted;
    ``bench_satisfaction_churn_model`` (:meth:`.ChurnModel.table`, empty when not
    fitted), ``bench_satisfaction_churn_validation`` (one row: :func:`.validation` of the
    recalibrated probabilities with ``dev_first``, ``dev_last``, ``calibration_first``,
    ``calibration_last``, ``cal_customers``, ``cal_events``, ``calibration_intercept``
    and ``calibration_slope`` (:func:`.churn_model.recalibrate`; 0 and 1 when the window
    has too few events), ``calibrated`` (1.0 or 0.0), ``raw_predicted_rate`` and
    ``raw_bands_rejected`` (the development scale's mean and rejected bands on the
    validation sample, the evidence that recalibrating was needed), ``validation_month``,
    ``calibration_tolerance`` and ``calibration_tolerance_relative``
    and ``status``: ``fitted`` or ``few_events``) and
    ``bench_satisfaction_churn_calibration`` (by band, recalibrated).
    """
    period = ctx.period
    first = ctx.sql("SELECT min(month) AS m FROM customer_month")["m"].iloc[0]
    dev, cal, val_month = sample_months(
        period, str(first), horizon=horizon, dev_months=dev_months,
        calibration_months=calibration_months,
    )  # fmt: skip
    snap_months = [*dev, *cal, val_month, period]
    raw = snapshots(ctx, steps_sql, snap_months, floor=floor, floor_months=floor_months)
    # one order whatever the source returns rows in (DuckDB or a database server): the
    # fit, the calibration bands and the list then come out the same
    raw = raw.sort_values(["month", "customer_id"], kind="stable", ignore_index=True)
    raw = raw.assign(churned=churned_within(raw["month"], raw["churn_month"], horizon))
    x = features(raw, dissatisfied_below=dissatisfied_below, floor=floor)
    is_dev = raw["month"].isin(dev).to_numpy()
    is_cal = raw["month"].isin(cal).to_numpy()
    is_val = (raw["month"] == val_month).to_numpy()
    now = (raw["month"] == period).to_numpy()
    y_dev = raw.loc[is_dev, "churned"].to_numpy()
    k_dev = int(y_dev.sum())
    model: ChurnModel | None = None
    if k_dev >= min_events and len(y_dev) - k_dev >= min_events:
        model = fit(x[is_dev], y_dev)
    y_cal = raw.loc[is_cal, "churned"].to_numpy()
    k_cal = int(y_cal.sum())
    if model and k_cal >= min_events and len(y_cal) - k_cal >= min_events:
        model.calibration = recalibrate(y_cal, model.log_odds(x[is_cal]))
    y_val = raw.loc[is_val, "churned"].to_numpy()
    p_val = model.predict(x[is_val]) if model else np.full(len(y_val), np.nan)
    val = validation(
        y_val, p_val, min_events=min_events, dev_customers=int(is_dev.sum()), dev_events=k_dev
    )
    checked = bool(model) and bool(val["sufficient"])
    calib = calibration(y_val, p_val) if checked else calibration([], [])
    raw_calib = (
        calibration(y_val, 1 / (1 + np.exp(-model.log_odds(x[is_val])))) if checked else calib
    )
    a, b = model.calibration if model else (0.0, 1.0)
    info = {
        "dev_first": dev[0] if dev else "",
        "dev_last": dev[-1] if dev else "",
        "calibration_first": cal[0] if cal else "",
        "calibration_last": cal[-1] if cal else "",
        "cal_customers": float(is_cal.sum()),
        "cal_events": float(k_cal),
        "calibration_intercept": a,
        "calibration_slope": b,
        "calibrated": float(checked and calibrated(calib, tolerance=tolerance, relative=relative)),
        "raw_predicted_rate": float(np.mean(1 / (1 + np.exp(-model.log_odds(x[is_val])))))
        if model and is_val.any()
        else np.nan,
        "raw_bands_rejected": float(
            rejected_bands(raw_calib, tolerance=tolerance, relative=relative)
        )
        if checked
        else np.nan,
        "validation_month": val_month,
        "calibration_tolerance": float(tolerance),
        "calibration_tolerance_relative": float(relative),
        "horizon_months": float(horizon),
        "min_events": float(min_events),
        "status": "fitted" if model else "few_events",
    }
    current = raw[now].reset_index(drop=True)
    scores = current[list(SCORE_COLUMNS[:8])]
    if model:
        xc = x[now].reset_index(drop=True)
        rank = pd.Series(model.log_odds(xc)).rank(pct=True).to_numpy()
        prob = model.predict(xc) if info["calibrated"] else np.full(len(xc), np.nan)
        scores = pd.concat(
            [scores.assign(score=rank, probability=prob), reasons(model, xc)], axis=1
        )
    else:
        empty = {f"reason_{k + 1}": "" for k in range(REASONS)}
        scores = scores.assign(score=np.nan, probability=np.nan, **empty)
    log.info(
        "prepare %s: churn model %s on %d rows (%d events), recalibrated on %d rows "
        "(%d events), validated on %s: AUC %.3f, calibrated %s",
        period, info["status"], int(is_dev.sum()), k_dev, int(is_cal.sum()), k_cal, val_month,
        val["auc"], bool(info["calibrated"]),
    )  # fmt: skip
    return {
        "satisfaction_churn_risk": scores[list(SCORE_COLUMNS)],
        "bench_satisfaction_churn_model": model.table()
        if model
        else pd.DataFrame(columns=["feature", "mean", "sd", "coef"]),
        "bench_satisfaction_churn_validation": pd.DataFrame([{**val, **info}]),
        "bench_satisfaction_churn_calibration": calib,
    }


__all__ = [
    "FEATURES",
    "SCORE_COLUMNS",
    "churn_risk_frames",
    "sample_months",
    "transaction_months",
]
