"""Bank-wide staff KPIs for a period: the SQL aggregates of the warehouse, the
manager x month frame of sums, and :func:`prepare` (run once per period)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..metrics.cards import year_start_period
from ..metrics.history import History, alert_state_sql, history
from ..metrics.models import closed_by_sql, open_at_sql
from ..period import Period, shift_month
from .attainment import ATTAINMENT_COLUMNS, attainment, target_attainment
from .bridges import prepare_bridges
from .funnel import funnel_frame
from .metrics import bench_branches, bench_grades
from .scoring import manager_kpis, score_managers
from .settings import Settings


def _balances_sql(h: History) -> str:
    """Sums per manager and month of ``$months`` over their book: the customers open at
    the month's end (:func:`branchbook.metrics.models.open_at_sql`), with the month's
    row of the shared ``customer_month`` table (a customer without one at 0; a customer
    closed by then is out of the book, whatever rows it has). ``kyc_complete`` counts
    the customers whose KYC status at the month's end was complete (from
    ``kyc_history``; today's status without it)."""
    kyc = "coalesce(k.kyc_status, c.kyc_status)" if h.kyc_dated else "c.kyc_status"
    asof = (
        "ASOF LEFT JOIN kyc_history k ON k.customer_id = c.customer_id AND c.month_end >= k.valid_from"
        if h.kyc_dated
        else ""
    )
    return f"""
WITH m AS (
    SELECT month, last_day(CAST(strptime(month || '-01', '%Y-%m-%d') AS DATE)) AS month_end
    FROM (SELECT unnest($months) AS month)
),
book AS (
    SELECT c.customer_id, c.manager_id, c.kyc_status, m.month, m.month_end
    FROM customers c JOIN m ON {open_at_sql("m.month_end")}
    WHERE c.manager_id IS NOT NULL
)
SELECT c.manager_id AS staff_id, c.month,
       count(*) AS n_customers,
       coalesce(sum(b.aum), 0) AS aum,
       coalesce(sum(b.deposits), 0) AS deposits,
       coalesce(sum(b.loans_outstanding), 0) AS loans,
       coalesce(sum(b.products_held), 0) AS products_held,
       count(*) FILTER (WHERE {kyc} = 'complete') AS kyc_complete
FROM book c
LEFT JOIN customer_month b ON b.customer_id = c.customer_id AND b.month = c.month
{asof}
GROUP BY ALL
"""


_NEW_CUSTOMERS_SQL = """
SELECT manager_id AS staff_id, strftime(opened_on, '%Y-%m') AS month, count(*) AS new_customers
FROM customers
WHERE manager_id IS NOT NULL AND opened_on BETWEEN $start AND $end
GROUP BY ALL
"""


def _churn_sql() -> str:
    """Per manager and month: ``churn_base``, customers open at the start of the churn
    window (opened before it, not closed before it), and ``churned``, those of them
    closed by the month's end (:func:`branchbook.metrics.models.closed_by_sql`), from the
    shared ``churn`` table."""
    return f"""
WITH m AS (SELECT unnest($months) AS month),
w AS (
    SELECT month,
           CAST(strptime(month || '-01', '%Y-%m-%d') AS DATE) - to_months($window - 1) AS ws,
           last_day(CAST(strptime(month || '-01', '%Y-%m-%d') AS DATE)) AS we
    FROM m
)
SELECT c.manager_id AS staff_id, w.month,
       count(*) AS churn_base,
       count(*) FILTER (WHERE {closed_by_sql("w.we")}) AS churned
FROM churn c JOIN w
  ON c.opened_on < w.ws AND (c.closed_on IS NULL OR c.closed_on >= w.ws)
WHERE c.manager_id IS NOT NULL
GROUP BY ALL
"""


_LOANS_SQL = """
WITH s AS (
    SELECT s.loan_id, s.month, coalesce(s.outstanding, 0) AS outstanding, s.manager_id, s.npl,
           strftime(CAST(strptime(s.month || '-01', '%Y-%m-%d') AS DATE) - INTERVAL 1 MONTH, '%Y-%m')
               AS prev_month
    FROM loan_month s
    WHERE s.manager_id IS NOT NULL AND s.month BETWEEN $first AND $last
)
SELECT s.manager_id AS staff_id, s.month,
       count(*) FILTER (WHERE s.outstanding > 0) AS n_loans,
       sum(s.outstanding) AS book_outstanding,
       coalesce(sum(s.outstanding) FILTER (WHERE s.npl), 0) AS npl_outstanding,
       coalesce(sum(s.outstanding) FILTER (WHERE s.npl AND NOT coalesce(p.npl, false)), 0) AS new_npl,
       sum(s.outstanding * s.outstanding) AS outstanding_sq
FROM s LEFT JOIN s AS p ON p.loan_id = s.loan_id AND p.month = s.prev_month
GROUP BY ALL
"""


def _surveys_sql() -> str:
    """Per manager and month: answered CSAT questions and the sum of their values on the
    bank's one 0-100 scale (``csat_100`` of the shared ``survey_scored`` table)."""
    return """
SELECT coalesce(s.manager_id, c.manager_id) AS staff_id, s.month,
       count(s.csat_100) AS n_surveys, coalesce(sum(s.csat_100), 0) AS csat_points
FROM survey_scored s LEFT JOIN customers c ON c.customer_id = s.customer_id
WHERE s.responded_on BETWEEN $start AND $end AND coalesce(s.manager_id, c.manager_id) IS NOT NULL
GROUP BY ALL
"""


_COMPLAINTS_SQL = """
SELECT coalesce(k.manager_id, c.manager_id) AS staff_id, strftime(k.received_at, '%Y-%m') AS month,
       count(*) AS n_complaints
FROM complaints k LEFT JOIN customers c ON c.customer_id = k.customer_id
WHERE k.received_at >= $start AND k.received_at < $end_excl
  AND coalesce(k.manager_id, c.manager_id) IS NOT NULL
GROUP BY ALL
"""


def _aml_sql(h: History) -> str:
    """Alerts on each manager's customers open at each month's end (raised by then and
    not yet closed; with today's status when the warehouse has no ``closed_on``)."""
    state = alert_state_sql(h, as_of="m.month_end")
    return f"""
WITH m AS (SELECT month, last_day(CAST(strptime(month || '-01', '%Y-%m-%d') AS DATE)) AS month_end
           FROM (SELECT unnest($months) AS month))
SELECT c.manager_id AS staff_id, m.month, count(*) AS aml_open
FROM aml_alerts a JOIN customers c ON c.customer_id = a.customer_id
JOIN m ON a.raised_on <= m.month_end
WHERE {state} = 'open' AND c.manager_id IS NOT NULL
GROUP BY ALL
"""


_STAFF_SQL = "SELECT staff_id, branch_id, name AS staff_name, grade, hired_on, active FROM staff"


# The loans each manager originated in the period, wherever they are booked: a manager
# earns commission on a loan booked at another branch (a customer of another branch, a
# manager moved since), as their loan book counts it; ``branch_id`` is the manager's.
_ORIGINATIONS_SQL = """
SELECT s.branch_id, l.manager_id, l.loan_id, l.product, l.originated_on, l.principal
FROM loans l JOIN staff s ON s.staff_id = l.manager_id
WHERE l.originated_on >= $start AND l.originated_on <= $end
"""


_TARGETS_SQL = """
SELECT staff_id, period AS month, kpi, target FROM targets WHERE period BETWEEN $first AND $last
"""


_SUM_COLUMNS = tuple(
    "n_customers aum deposits loans products_held kyc_complete new_customers churn_base churned n_loans "
    "book_outstanding npl_outstanding new_npl outstanding_sq n_surveys csat_points n_complaints "
    "aml_open".split()
)


def _rolling(
    frame: pd.DataFrame, cols: Sequence[str], months: Sequence[str], window: int
) -> pd.DataFrame:
    """Sums of ``cols`` per staff over the ``window`` months ending at each of ``months``."""
    rows = []
    for m in months:
        span = {shift_month(m, -i) for i in range(window)}
        g = frame[frame["month"].isin(span)].groupby("staff_id", as_index=False)[list(cols)].sum()
        rows.append(g.assign(month=m))
    return (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["staff_id", "month", *cols])
    )


def manager_months(
    parts: Mapping[str, pd.DataFrame], months: Sequence[str], settings: Settings
) -> pd.DataFrame:
    """The manager x month frame of sums from the SQL aggregates in ``parts``.

    One row per staff member hired by the month's end and month of ``months``;
    inactive staff are kept only while they still hold customers or loans. Missing
    sums are 0; ``rated`` = active and at least ``min_book_customers`` customers.
    """
    staff = parts["staff"]
    grid = staff.merge(pd.DataFrame({"month": list(months)}), how="cross")
    month_end = pd.to_datetime(grid["month"].map(lambda m: Period.parse(m).end.isoformat()))
    hired = pd.to_datetime(grid["hired_on"])
    grid = grid[hired.isna() | (hired <= month_end)]
    prev = {m: shift_month(m, -1) for m in months}
    bal = parts["balances"]
    bal_prev = (
        bal[["staff_id", "month", "aum", "deposits", "loans"]]
        .assign(month=lambda d: d["month"].map({v: k for k, v in prev.items()}))
        .dropna(subset=["month"])
        .rename(columns={"aum": "aum_prev", "deposits": "deposits_prev", "loans": "loans_prev"})
    )
    w = settings.service_window_months
    frames = [
        bal,
        bal_prev,
        parts["new_customers"],
        parts["churn"],
        parts["loans"],
        _rolling(parts["surveys"], ["n_surveys", "csat_points"], months, w),
        _rolling(parts["complaints"], ["n_complaints"], months, w),
        parts["aml"],
    ]
    out = grid
    for f in frames:
        out = out.merge(f, on=["staff_id", "month"], how="left")
    sums = [*_SUM_COLUMNS, "aum_prev", "deposits_prev", "loans_prev"]
    out[sums] = out[sums].astype("float64").fillna(0.0)
    active = out["active"].astype("boolean").fillna(False).astype(bool)
    holds = (out["n_customers"] > 0) | (out["n_loans"] > 0)
    out = out[active | holds].reset_index(drop=True)
    active = out["active"].astype("boolean").fillna(False).astype(bool)
    return out.assign(
        active=active, rated=active & (out["n_customers"] >= settings.min_book_customers)
    )


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Bank-wide staff KPIs, scores, ratings and funnels for the period (run once per period).

    Returns (frames with ``branch_id`` are cut per branch; ``bench_`` frames are kept
    whole and hold no staff identity):

    * ``staff_scorecard``: one row per manager and month of the last
      ``trend_months`` months and of last December when that is not one of them (the
      start of the year on the cards: 13 months in December by default): identity (``branch_id, staff_id, staff_name, grade,
      active, rated``), the sums of :func:`manager_kpis`, every KPI, ``score_<kpi>``,
      ``dim_<dimension>``, ``composite``, ``rank_in_branch``, ``bank_percentile``,
      ``rating_raw``, ``veto``, ``rating``;
    * ``staff_attainment``: ``branch_id`` and the columns of :func:`.attainment.attainment`
      (monthly and year-to-date attainment) for the same months;
    * ``staff_funnel``: the period's funnel points (see :func:`funnel_frame`);
    * ``bench_branch_kpis``: headline KPIs per branch and month (:func:`bench_branches`);
    * ``bench_grade``: composite quartiles and band counts per grade and month;
    * ``bench_funnel``: the bank rate (``p0``) of each funnel metric, per month;
    * ``bench_staff_history``: whether KYC completeness and open AML alerts use dated
      history or today's status (:class:`branchbook.metrics.history.History`).
    * ``staff_bridge``: each manager's bridges of AUM, loans, book and NPL outstanding
      against last month and the start of the year (:func:`.bridges.prepare_bridges`);
    * ``staff_originations``: the loans each manager originated in the period, wherever
      booked, with the manager's ``branch_id`` (the indicative commission's basis,
      :func:`.development.commission`: a branch's ``loans`` extract holds only the loans
      booked there).
    """
    s: Settings = ctx.settings
    # the trend window and last December, the cards' start of the year (outside the
    # window in December: 13 months then); the trend chart shows only its window
    months = list(ctx.months(s.trend_months))
    year = year_start_period(ctx.period)
    months = [year, *months] if year not in months else months
    first, last = months[0], months[-1]
    end = Period.parse(last).end
    # year-to-date attainment needs every month since January of the first month's year
    since = Period.parse(first).year_start
    span = [str(m) for m in Period.parse(last).window(Period.parse(last).months_since(since) + 1)]
    svc_start = Period.parse(first).shift(-(s.service_window_months - 1)).start
    dated = history(ctx)
    parts = {
        "staff": ctx.sql(_STAFF_SQL),
        "balances": ctx.sql(_balances_sql(dated), months=[str(since.prev), *span]),
        "new_customers": ctx.sql(_NEW_CUSTOMERS_SQL, start=since.start, end=end),
        "churn": ctx.sql(_churn_sql(), months=months, window=s.churn_window_months),
        "loans": ctx.sql(_LOANS_SQL, first=shift_month(first, -1), last=last),
        "surveys": ctx.sql(_surveys_sql(), start=svc_start, end=end),
        "complaints": ctx.sql(_COMPLAINTS_SQL, start=svc_start, end_excl=Period.parse(last).stop),
        "aml": ctx.sql(_aml_sql(dated), months=months),
    }
    targets = ctx.sql(_TARGETS_SQL, first=str(since), last=last)
    book = manager_kpis(manager_months(parts, span, s))
    att = attainment(book, targets, floor=s.monthly_target_floor)
    book = book[book["month"].isin(months)].reset_index(drop=True)
    book = book.merge(
        target_attainment(att, cap=s.attainment_cap), on=["staff_id", "month"], how="left"
    )
    scored = score_managers(book, s)
    att = att.merge(book[["staff_id", "month", "branch_id"]], on=["staff_id", "month"], how="inner")
    att = att[["branch_id", *ATTAINMENT_COLUMNS]]
    points, bench_funnel = funnel_frame(
        scored[scored["month"] == ctx.period], dispersion=s.funnel_dispersion, alpha=s.funnel_alpha
    )
    scored = scored.drop(columns=["hired_on"]).sort_values(["branch_id", "staff_id", "month"])
    return {
        "staff_scorecard": scored.reset_index(drop=True),
        "staff_attainment": att.reset_index(drop=True),
        "staff_funnel": points,
        "bench_branch_kpis": bench_branches(scored, att),
        "bench_grade": bench_grades(scored),
        "bench_funnel": bench_funnel,
        "bench_staff_history": dated.frame(),
        "staff_bridge": prepare_bridges(ctx, parts["staff"]),
        "staff_originations": ctx.sql(
            _ORIGINATIONS_SQL, start=ctx.period_start, end=ctx.period_end
        ),
    }
