"""Bank-wide work done once per period: the SQL aggregation, the branch-against-bank
tests with the false discovery rate controlled, the bank's driver model and the bank's
retention by band. Each branch's notebook then reads its extract and these ``bench_``
frames."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from ..metrics.cards import months_to_year_start
from ..metrics.models import (
    asset_tier,
    asset_tier_sql,
    closed_by_sql,
    open_at_sql,
    tier_aum_sql,
)
from ..period import Period, shift_month
from .bridges import base_months, bridge_sums
from .churn_risk import churn_risk_frames, lost_customers
from .churn_risk import transaction_months as _churn_transaction_months
from .compare import branch_tests
from .complaints import monthly_complaints
from .drivers import DRIVER_SAMPLE_CAP, drivers
from .followup import followup_rows
from .metrics import MONTHLY_COLUMNS
from .retention import cohort_months, retention_by_band
from .scores import score_sums, scores_by

_RESPONDENTS = "SELECT customer_id FROM survey_scored WHERE responded_on BETWEEN $start AND $end"
_RESPONSES_SQL = f"""
WITH tier_aum AS ({tier_aum_sql(_RESPONDENTS)})
SELECT s.response_id, s.customer_id, s.branch_id, s.manager_id,
       s.month, s.responded_on, s.channel,
       s.csat, s.nps, s.wait_time, s.attitude, s.professionalism, s.explanation,
       s.environment, s.digital, coalesce(a.aum, 0.0) AS aum,
       coalesce(m.aum, 0.0) AS aum_then
FROM survey_scored s
LEFT JOIN tier_aum a USING (customer_id)
LEFT JOIN customer_month m ON m.customer_id = s.customer_id AND m.month = s.month
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
FROM churn c
JOIN mm ON c.opened_on <= mm.mend AND (c.closed_on IS NULL OR c.closed_on > mm.mend)
GROUP BY ALL
"""

# The bridges' complaints and customers by the asset tier then: each complaint with its
# customer's AUM in the month received, each customer open at a month end with its AUM then.
_COMPLAINTS_TIER_SQL = """
SELECT k.branch_id, strftime(k.received_at, '%Y-%m') AS month,
       coalesce(b.aum, 0.0) AS aum
FROM complaints k
LEFT JOIN customer_month b ON b.customer_id = k.customer_id
    AND b.month = strftime(k.received_at, '%Y-%m')
WHERE strftime(k.received_at, '%Y-%m') IN (SELECT unnest($months))
"""


def _base_tier_sql(tiers) -> str:
    return f"""
WITH mm AS (
    SELECT month, last_day(CAST(month || '-01' AS DATE)) AS mend FROM (SELECT unnest($months) AS month)
)
SELECT c.branch_id, mm.month, {asset_tier_sql("coalesce(b.aum, 0.0)", tiers)} AS tier,
       count(*) AS customers
FROM customers c
JOIN mm ON {open_at_sql("mm.mend")}
LEFT JOIN customer_month b ON b.customer_id = c.customer_id AND b.month = mm.month
GROUP BY ALL
"""


def _steps_sql(n_low: int, customers: str = "churn", tiers=None) -> str:
    """CTEs ``st`` (one row per balance row) and ``step`` (one row per customer x month at risk).

    Churned at month m: closed on or before m's last day (the closing rule of
    :func:`branchbook.metrics.models.closed_by_sql`), or AUM (deposits + wealth)
    below ``$floor`` in each of the ``n_low`` calendar months ending at m, each with a
    balance row (a month without one breaks the run: it is not known to be under the
    floor), read from the shared ``churn`` and ``customer_month`` tables
    (:mod:`branchbook.metrics.shared`).
    ``st.active``: a balance row in m and not churned at m. ``step``: for every customer active at
    the end of month m - 1 (from ``$first_prev`` on), the row of month m with
    ``churned`` = churned by the end of m. An open customer with no balance row in a
    month is neither at risk nor churned that month. One window pass over the
    balances (the low run ending now and the one ending next month share one sort):
    no customer x month grid, no self-join. ``step.tier``: the asset tier of the
    customer's AUM at the end of the month before (when it was at risk), with ``tiers``
    (None: no tier).
    """
    n = int(n_low)
    nxt = f"{n - 2} PRECEDING" if n >= 2 else "1 FOLLOWING"
    only = (
        "" if customers == "churn" else f"AND customer_id IN (SELECT customer_id FROM {customers})"
    )
    tier = "NULL" if tiers is None else asset_tier_sql("aum", tiers)
    return f"""
WITH runs AS (
    SELECT customer_id, month, {tier} AS tier,
           count(*) FILTER (WHERE aum_month_end < $floor) OVER now_ = {n}
               AND count(*) OVER now_ = {n} AS low_now,
           count(*) FILTER (WHERE aum_month_end < $floor) OVER next_ = {n}
               AND count(*) OVER next_ = {n} AS low_next,
           lead(month) OVER (PARTITION BY customer_id ORDER BY mi) AS lead_month
    FROM (
        SELECT *, CAST(substr(month, 1, 4) AS INTEGER) * 12 + CAST(substr(month, 6, 2) AS INTEGER) AS mi
        FROM customer_month
        WHERE month >= $bal_from AND month <= $period {only}
    )
    -- frames over the month number, not over rows: a run is of calendar months
    WINDOW now_ AS (PARTITION BY customer_id ORDER BY mi RANGE BETWEEN {n - 1} PRECEDING AND CURRENT ROW),
           next_ AS (PARTITION BY customer_id ORDER BY mi RANGE BETWEEN {nxt} AND 1 FOLLOWING)
),
st AS (
    SELECT r.customer_id, c.branch_id, r.month, r.tier, r.low_next, r.lead_month, c.closed_on,
           strftime(CAST(r.month || '-01' AS DATE) + INTERVAL 1 MONTH, '%Y-%m') AS next_month,
           NOT r.low_now AND NOT {closed_by_sql("last_day(CAST(r.month || '-01' AS DATE))")}
               AS active
    FROM runs r
    JOIN {customers} c USING (customer_id)
    WHERE r.month >= $first_prev
),
step AS (
    SELECT customer_id, branch_id, next_month AS month, tier,
           {closed_by_sql("last_day(CAST(next_month || '-01' AS DATE))", alias="st")}
               OR coalesce(lead_month = next_month AND low_next, false) AS churned
    FROM st
    WHERE active AND month < $period
)
"""


_CHURN_SELECT = """
SELECT branch_id, month, tier, count(*) AS at_risk, count(*) FILTER (WHERE churned) AS churned
FROM step
GROUP BY ALL
"""

# Survey respondents of the cohort months, limited first so the balances pass is small.
_COHORT_CUSTOMERS = """(
    SELECT * FROM churn WHERE customer_id IN (
        SELECT customer_id FROM survey_scored
        WHERE responded_on BETWEEN $c_start AND $c_end AND csat IS NOT NULL))"""

_COHORT_SELECT = """
, resp AS (
    SELECT customer_id, month AS response_month, csat
    FROM survey_scored
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
    return Period.parse(month).start


def _month_number(months: pd.Series) -> pd.Series:
    """Months since year 0 of each ``'YYYY-MM'``, for month differences."""
    return pd.Series(
        [Period.parse(m).index for m in months.astype(str)], index=months.index, dtype="int64"
    )


def _churn_samples(s) -> dict[str, int]:
    """The settings that place the churn model's samples (:func:`.churn_risk.sample_months`)."""
    return {"horizon": s.churn_model_horizon_months, "dev_months": s.churn_model_dev_months}


def transaction_months(s) -> int:
    """How many months before the period :func:`prepare` reads transactions from at most,
    by the report's settings ``s``: the churn model's samples' features
    (:func:`.churn_risk.transaction_months`); a database server stages them from there
    (:mod:`branchbook.lookback`)."""
    return _churn_transaction_months(**_churn_samples(s))


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Bank-wide frames for the satisfaction report (run once per period).

    Cut per branch: ``satisfaction_responses`` (survey responses of the trend and
    driver windows with ``month``, ``aum`` and ``tier`` at the period as the segmentation
    report has them, :func:`branchbook.metrics.models.tier_aum_sql`),
    ``satisfaction_retention_cohort``
    (last response of each surveyed customer in the cohort months, ``csat``,
    ``response_month``, ``churn_month``, ``months_to_churn``). Kept whole:
    ``bench_satisfaction_monthly`` (sums per branch x month, :data:`MONTHLY_COLUMNS`),
    ``bench_satisfaction_tests`` (:func:`branch_tests`), ``bench_satisfaction_groups``
    (bank scores by channel and tier), ``bench_satisfaction_drivers`` (bank driver
    model table with ``status``), ``bench_satisfaction_retention`` (bank retention by band).
    Cut per branch too: ``satisfaction_bridge``, the numerators and denominators of the
    bridged KPIs per segment at this month end, last month's and last year's
    (:func:`.bridges.bridge_sums`; responses and complaints in the asset tier of their
    month, ``tier_then`` of the responses).
    The churn early warning's frames: :func:`.churn_risk.churn_risk_frames`; the
    customers lost lately, for the win-back list: ``satisfaction_lost``
    (:func:`.churn_risk.lost_customers`).
    """
    s = ctx.settings
    period, w = ctx.period, s.score_window_months
    # KPI rows for the last 12 months and last December (the cards' start of the year:
    # 13 months in December); the trend chart shows the last 12
    kpi_months = months_to_year_start(period, 12)
    bench_months = ctx.months(kpi_months + w - 1)
    # and the driver's prior window, and the score window ending at the end of last year
    resp_months = ctx.months(max(kpi_months + w, 2 * s.driver_window_months))
    branches = [
        str(b) for b in ctx.sql("SELECT branch_id FROM branches ORDER BY branch_id")["branch_id"]
    ]

    responses = ctx.sql(
        _RESPONSES_SQL,
        period=period,
        period_end=ctx.period_end,
        start=_month_start(resp_months[0]),
        end=ctx.period_end,
    )
    responses = responses.assign(
        tier=asset_tier(responses["aum"], s.asset_tiers),
        tier_then=asset_tier(responses["aum_then"], s.asset_tiers),
    )
    complaints = ctx.sql(
        _COMPLAINTS_SQL,
        start=dt.datetime.combine(_month_start(bench_months[0]), dt.time()),
        end=dt.datetime.combine(ctx.period_end + dt.timedelta(days=1), dt.time()),
    )
    base = ctx.sql(_BASE_SQL, months=bench_months)
    n_low = s.churn_floor_months
    churn_months = ctx.months(kpi_months + w)  # the bench months and the month before them
    churn_tiers = ctx.sql(
        _steps_sql(n_low, tiers=s.asset_tiers) + _CHURN_SELECT,
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
        c_end=Period.parse(c_last).end,
    )
    cohort = cohort.assign(
        months_to_churn=(
            _month_number(cohort["churn_month"].fillna(period))
            - _month_number(cohort["response_month"])
        )
        .where(cohort["churn_month"].notna())
        .astype(float)
    )

    churn = churn_tiers.groupby(["branch_id", "month"], as_index=False)[
        ["at_risk", "churned"]
    ].sum()
    ends = sorted(set(base_months(period).values()))
    complaints_then = ctx.sql(_COMPLAINTS_TIER_SQL, months=ends)
    bridge = bridge_sums(
        responses.assign(tier=responses["tier_then"]),
        complaints_then.assign(tier=asset_tier(complaints_then["aum"], s.asset_tiers)),
        ctx.sql(_base_tier_sql(s.asset_tiers), months=ends),
        churn_tiers,
        period=period,
        window_months=w,
        scale=s.csat_scale,
    )
    monthly = _assemble_monthly(
        branches,
        bench_months,
        score_sums(responses, ["branch_id", "month"], scale=s.csat_scale),
        monthly_complaints(
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
                responses,
                by=dim,
                period=period,
                window_months=w,
                confidence=s.confidence,
                scale=s.csat_scale,
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
        cohort,
        horizon_months=h,
        band_bounds=s.band_bounds,
        confidence=s.confidence,
        scale=s.csat_scale,
    )
    early_warning = churn_risk_frames(
        ctx,
        _steps_sql(n_low),
        floor=s.churn_aum_floor,
        floor_months=n_low,
        **_churn_samples(s),
        min_events=s.churn_model_min_events,
        dissatisfied_below=s.band_bounds[0],
        tolerance=s.churn_calibration_tolerance,
        relative=s.churn_calibration_tolerance_relative,
    )
    lost = lost_customers(
        ctx,
        _steps_sql(n_low),
        floor=s.churn_aum_floor,
        floor_months=n_low,
        months=s.winback_months,
        tiers=s.asset_tiers,
    )
    return {
        **early_warning,
        "satisfaction_lost": lost,
        "satisfaction_responses": responses,
        "satisfaction_retention_cohort": cohort,
        "satisfaction_bridge": bridge,
        "satisfaction_followup": followup_rows(ctx),
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
