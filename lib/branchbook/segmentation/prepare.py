"""Bank-wide work done once per period: the customer rows from the warehouse, the
percentile ranks, RFM quintiles and clusters measured over the whole bank, and the
benchmark rows of every branch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from ..metrics.cards import year_start_period
from ..metrics.scopes import by_scope
from ..period import Period
from . import cross_sell, profile, suitability
from .clusters import assign_clusters, fit_clusters
from .metrics import _bench_rows, scope_kpis
from .settings import (
    ACTIVITY_DAYS,
    FIVE_CLASS_GRADE,
    FIVE_CLASSES,
    RFM_MONTHS,
    TREND_MONTHS,
    Settings,
)
from .tiers import classify, credit_score, percentile_rank, previous, rfm_scores

_CUSTOMERS_SQL = """
WITH flags AS (
    SELECT customer_id, branch_id, manager_id, name, customer_type, opened_on,
           opened_on <= $period_end AND (closed_on IS NULL OR closed_on > $period_end) AS open_now,
           opened_on <= $prev_end AND (closed_on IS NULL OR closed_on > $prev_end) AS open_prev,
           (year($period_end) * 12 + month($period_end))
             - (year(opened_on) * 12 + month(opened_on)) AS tenure_months
    FROM customers
    WHERE opened_on <= $period_end AND (closed_on IS NULL OR closed_on > $prev_end)
),
c AS (SELECT * FROM flags WHERE open_now OR open_prev),
b AS (
    SELECT customer_id,
        sum(deposits) FILTER (WHERE month = $period) AS deposits,
        sum(wealth) FILTER (WHERE month = $period) AS wealth,
        sum(aum) FILTER (WHERE month = $period) AS aum_now,
        sum(products_held) FILTER (WHERE month = $period) AS products_held,
        sum(aum) FILTER (WHERE month = $prev_period) AS aum_prev,
        sum(products_held) FILTER (WHERE month = $prev_period) AS products_held_prev,
        avg(aum)
            FILTER (WHERE month BETWEEN $recent_from AND $period) AS aum_recent_3m,
        avg(aum)
            FILTER (WHERE month BETWEEN $earlier_from AND $earlier_to) AS aum_earlier_3m,
        avg(aum)
            FILTER (WHERE month BETWEEN $earlier_to AND $prev_period) AS aum_recent_3m_prev,
        avg(aum)
            FILTER (WHERE month BETWEEN $first_month AND $earlier_to_prev) AS aum_earlier_3m_prev
    FROM customer_month
    WHERE month BETWEEN $first_month AND $period
    GROUP BY customer_id
),
t AS (
    SELECT customer_id,
        count(*) FILTER (WHERE txn_date >= $activity_from) AS txn_90d,
        count(*) FILTER (WHERE txn_date BETWEEN $activity_from_prev AND $prev_end) AS txn_90d_prev,
        count(*) FILTER (WHERE txn_date >= $year_from) AS frequency_12m,
        sum(amount) FILTER (WHERE txn_date >= $year_from) AS monetary_12m,
        max(txn_date) AS last_txn,
        max(txn_date) FILTER (WHERE txn_date <= $prev_end) AS last_txn_prev
    FROM transactions
    WHERE txn_date <= $period_end
    GROUP BY customer_id
),
k AS (
    SELECT s.customer_id,
        max(CASE s.five_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2
            WHEN 'substandard' THEN 3 WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 END)
            FILTER (WHERE s.month = $period) AS worst_class,
        max(CASE s.five_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2
            WHEN 'substandard' THEN 3 WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 END)
            FILTER (WHERE s.month = $prev_period) AS worst_class_prev
    FROM loan_month s
    WHERE s.month IN ($period, $prev_period) AND s.outstanding > 0
    GROUP BY s.customer_id
)
SELECT c.customer_id, c.branch_id, c.manager_id, c.name, c.customer_type, c.opened_on,
       c.open_now, c.open_prev, c.tenure_months,
       b.deposits, b.wealth, b.aum_now, b.products_held, b.aum_prev, b.products_held_prev,
       b.aum_recent_3m, b.aum_earlier_3m, b.aum_recent_3m_prev, b.aum_earlier_3m_prev,
       coalesce(t.txn_90d, 0) AS txn_90d, coalesce(t.txn_90d_prev, 0) AS txn_90d_prev,
       date_diff('day', t.last_txn, $period_end) AS recency_days,
       date_diff('day', t.last_txn_prev, $prev_end) AS recency_days_prev,
       coalesce(t.frequency_12m, 0) AS frequency_12m, coalesce(t.monetary_12m, 0) AS monetary_12m,
       k.worst_class, k.worst_class_prev
FROM c
LEFT JOIN b ON b.customer_id = c.customer_id
LEFT JOIN t ON t.customer_id = c.customer_id
LEFT JOIN k ON k.customer_id = c.customer_id
ORDER BY c.customer_id
"""

_BRIDGE_SQL = """
WITH c AS (
    SELECT customer_id, branch_id, manager_id,
           opened_on <= $period_end AND (closed_on IS NULL OR closed_on > $period_end) AS open_now,
           opened_on <= $prev_end AND (closed_on IS NULL OR closed_on > $prev_end) AS open_prev,
           opened_on <= $year_end AND (closed_on IS NULL OR closed_on > $year_end) AS open_year
    FROM customers
    WHERE opened_on <= $period_end
),
b AS (
    SELECT customer_id,
        sum(aum) FILTER (WHERE month = $period) AS aum,
        sum(aum) FILTER (WHERE month = $prev_period)
            AS aum_prev,
        sum(aum) FILTER (WHERE month = $year_period)
            AS aum_year,
        sum(coalesce(deposits, 0)) FILTER (WHERE month = $period) AS deposits,
        sum(coalesce(deposits, 0)) FILTER (WHERE month = $prev_period) AS deposits_prev,
        sum(coalesce(deposits, 0)) FILTER (WHERE month = $year_period) AS deposits_year
    FROM customer_month
    WHERE month IN ($period, $prev_period, $year_period)
    GROUP BY customer_id
)
SELECT c.customer_id, c.branch_id, c.manager_id, c.open_now, c.open_prev, c.open_year,
       b.aum, b.aum_prev, b.aum_year, b.deposits, b.deposits_prev, b.deposits_year
FROM c LEFT JOIN b ON b.customer_id = c.customer_id
WHERE c.open_now OR c.open_prev OR c.open_year
ORDER BY c.customer_id
"""


def bridge_customers(ctx) -> pd.DataFrame:
    """``segmentation_bridge``: one row per customer open at the period's end, the
    previous month's end or the end of the previous year (the base of 比年初), with
    ``open_now`` / ``open_prev`` / ``open_year`` and the AUM at each of those month ends
    (``aum``, ``aum_prev``, ``aum_year``; 0 for an open customer without a balance,
    NaN when not open), the same AUM as ``segmentation_customers``, and the deposits
    (the AUM's deposit part) likewise: ``deposits``, ``deposits_prev``, ``deposits_year``."""
    p = Period.parse(ctx.period)
    year = p.year_start.prev
    raw = ctx.sql(
        _BRIDGE_SQL,
        period=str(p),
        prev_period=str(p.prev),
        year_period=str(year),
        period_end=p.end,
        prev_end=p.prev.end,
        year_end=year.end,
    )
    out = raw.copy()
    for col in ("customer_id", "branch_id", "manager_id"):
        out[col] = out[col].astype("str")
    for flag, end in (("open_now", ""), ("open_prev", "_prev"), ("open_year", "_year")):
        out[flag] = out[flag].astype(bool)
        for amount in (f"aum{end}", f"deposits{end}"):
            out[amount] = pd.to_numeric(out[amount]).astype(float).fillna(0.0).where(out[flag])
    return out.reset_index(drop=True)


#: Each customer's products at the period's end, for the lifetime value's margins
#: (:func:`.value.class_margins`): the holdings' product types (deposits and wealth) and
#: the products of its loans outstanding, on the customer's branch.
_CLV_MIX_SQL = """
WITH rows AS (
    SELECT customer_id, product_type AS product, balance
    FROM holdings WHERE month = $period AND balance > 0
    UNION ALL
    SELECT s.customer_id, l.product, s.outstanding AS balance
    FROM loan_month s JOIN loans l ON l.loan_id = s.loan_id
    WHERE s.month = $period AND s.outstanding > 0
)
SELECT r.customer_id, c.branch_id, r.product, sum(r.balance) AS balance
FROM rows r JOIN customers c ON c.customer_id = r.customer_id
GROUP BY ALL
ORDER BY r.customer_id, r.product
"""


def clv_mix(ctx, period: str) -> pd.DataFrame:
    """``segmentation_clv_mix``: one row per customer x product held at ``period``'s end:
    ``customer_id``, ``branch_id`` (the customer's), ``product`` (a ``holdings``
    product type or a ``loans`` product) and ``balance`` (month-end CNY, above 0). No
    deposit or wealth rows when the warehouse has no ``holdings``."""
    out = ctx.sql(_CLV_MIX_SQL, period=period)
    for col in ("customer_id", "branch_id", "product"):
        out[col] = out[col].astype("str")
    return out.astype({"balance": float}).reset_index(drop=True)


#: The SQL's codes 1..5 of the five classes, best first, back to credit grades.
_GRADE_OF_CLASS = {i + 1: FIVE_CLASS_GRADE[c] for i, c in enumerate(FIVE_CLASS_GRADE)}


def _sql_params(period: str) -> dict[str, Any]:
    """The dates and months of the SQL: the period, the month before, the two 3-month
    windows of the AUM trend (and the same a month earlier), the 90-day activity windows
    ending at both month ends, and the first day of the 12 RFM months."""
    p = Period.parse(period)
    months = [str(m) for m in p.window(2 * TREND_MONTHS + 1)]  # oldest first
    return {
        "period": str(p),
        "prev_period": str(p.prev),
        "period_end": p.end,
        "prev_end": p.prev.end,
        "first_month": months[0],
        "earlier_to_prev": months[TREND_MONTHS - 1],
        "earlier_from": months[1],
        "earlier_to": months[TREND_MONTHS],
        "recent_from": months[TREND_MONTHS + 1],
        "activity_from": p.end - timedelta(days=ACTIVITY_DAYS - 1),
        "activity_from_prev": p.prev.end - timedelta(days=ACTIVITY_DAYS - 1),
        "year_from": p.window(RFM_MONTHS)[0].start,
    }


def _tidy(raw: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Types, AUM and credit grades of the SQL rows; amounts NaN where not open."""
    df = raw.copy()
    open_now = df["open_now"].astype(bool)
    open_prev = df["open_prev"].astype(bool)
    df["open_now"], df["open_prev"] = open_now, open_prev
    for col in df.columns.drop(
        [
            "customer_id",
            "branch_id",
            "manager_id",
            "name",
            "customer_type",
            "opened_on",
            "open_now",
            "open_prev",
        ]
    ):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("deposits", "wealth", "products_held"):
        df[col] = df[col].fillna(0.0).where(open_now)
    df["aum"] = df.pop("aum_now").fillna(0.0).where(open_now)  # customer_month's AUM
    df["aum_prev"] = df["aum_prev"].fillna(0.0).where(open_prev)
    df["products_held_prev"] = df["products_held_prev"].fillna(0.0).where(open_prev)
    for col in ("txn_90d", "recency_days", "frequency_12m", "monetary_12m"):
        df[col] = df[col].where(open_now)
    for col in ("txn_90d_prev", "recency_days_prev"):
        df[col] = df[col].where(open_prev)
    df["credit_grade"] = df["worst_class"].map(_GRADE_OF_CLASS).fillna("no_credit").where(open_now)
    df["credit_grade_prev"] = (
        df["worst_class_prev"].map(_GRADE_OF_CLASS).fillna("no_credit").where(open_prev)
    )
    five_class = df["worst_class"].map(dict(enumerate(FIVE_CLASSES, start=1)))
    df["five_class"] = five_class.astype(object).where(open_now).astype("str")
    df["credit_grade"] = df["credit_grade"].astype("str")
    df["credit_grade_prev"] = df["credit_grade_prev"].astype("str")
    for col in ("customer_id", "branch_id", "manager_id", "name", "customer_type"):
        df[col] = df[col].astype("str")
    return df.drop(columns=["worst_class", "worst_class_prev"])


def _bank_wide_scores(customers: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Percentile ranks (0-100) among the bank's open customers, credit points on the
    same scale (:func:`credit_score`: a class, not a rank) and RFM scores."""
    o = customers["open_now"]
    ranks = {
        "pct_aum": customers["aum"],
        "pct_activity": customers["txn_90d"],
        "pct_products": customers["products_held"],
        "pct_tenure": customers["tenure_months"],
    }
    out = customers.assign(
        **{k: percentile_rank(v.where(o)) for k, v in ranks.items()},
        pct_credit=credit_score(customers["five_class"], settings.bank_wide.credit_points).where(o),
    )
    return out.join(rfm_scores(out))


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Aggregate the bank once per period; see the package docstring.

    Returns:

    ``segmentation_customers``: one row per customer open at the period or the
    previous one (cut per branch): ids, ``name`` (raw), ``customer_type``,
    ``open_now`` / ``open_prev``, ``tenure_months``, ``deposits``, ``wealth``, ``aum``,
    ``products_held``, ``aum_prev``, ``products_held_prev``, 3-month AUM averages
    (``aum_recent_3m``, ``aum_earlier_3m`` and their ``_prev``), ``txn_90d``,
    ``txn_90d_prev``, ``recency_days`` (``_prev``), ``frequency_12m``,
    ``monetary_12m``, ``credit_grade`` (``_prev``), ``five_class`` (the worst
    five-class of the loans outstanding, empty without one), the bank-wide percentile
    ranks ``pct_*`` (credit: points, :func:`credit_score`), ``r_score`` / ``f_score`` / ``m_score``, ``cluster``, ``cluster_label``.

    ``bench_segmentation``: one row per branch x period (the period, the previous
    one and last December) with the KPIs, ``gini``, ``dormant_high_value`` and
    ``suitability_holders`` (counts, what a share card is pooled from) and
    ``share_<dimension>_<category>`` /
    ``aum_share_<dimension>_<category>`` columns, classified with the bank's settings.

    ``bench_segmentation_scopes``: the top 20%'s share of AUM of the bank and of each
    region, on their pooled customers, for the periods of ``bench_segmentation``
    (:func:`branchbook.metrics.scopes.by_scope`: it does not add up from branches).

    ``bench_segmentation_clusters``: the fitted clusters (:func:`fit_clusters`).

    The rows also carry the suitability counts (:data:`.suitability.COLUMNS`:
    ``holdings``, ``mismatches``, ``mismatch_balance`` and their ``_prev``), and
    ``segmentation_suitability`` lists the mismatched holdings
    (:func:`.suitability.mismatch_rows`); ``bench_segmentation_penetration`` is the
    bank's product penetration and lift by asset tier (:func:`.cross_sell.lift_table`,
    the bank's thresholds), from which each branch's usual products come.

    ``segmentation_bridge``: the customers behind the bridges (:func:`bridge_customers`).

    ``segmentation_clv_mix``: each customer's products at the period's end, the lifetime
    value's margins (:func:`clv_mix`).
    """
    settings: Settings = ctx.settings
    period = Period.parse(ctx.period)
    raw = ctx.sql(_CUSTOMERS_SQL, **_sql_params(ctx.period))
    customers = _bank_wide_scores(_tidy(raw, settings), settings)
    counts = suitability.customer_counts(ctx, str(period), str(period.prev))
    customers = suitability.with_counts(customers, counts)
    customers = profile.with_profiles(customers, profile.customer_profiles(ctx, period.end))
    # without transactions the clusters are named by value alone (no activity measured)
    recorded = len(ctx.sql("SELECT 1 AS x FROM transactions LIMIT 1")) > 0
    clusters = fit_clusters(customers, settings, activity=recorded)
    cluster = assign_clusters(customers, clusters)
    labels = dict(zip(clusters["cluster"], clusters["label"], strict=True))
    customers = customers.assign(
        cluster=cluster,
        cluster_label=pd.Series(
            cluster.map(labels).astype(object), index=customers.index, dtype="str"
        ),
    )
    current = classify(customers, settings)
    months = {str(period): current, str(period.prev): classify(previous(customers), settings)}
    year = _year_start_customers(ctx, settings)
    if year is not None:
        months[year_start_period(ctx.period)] = year
    bench = pd.concat([_bench_rows(v, m) for m, v in months.items()], ignore_index=True)
    region = ctx.sql("SELECT branch_id, region FROM branches")
    region = dict(zip(region["branch_id"].astype(str), region["region"], strict=True))
    slim = {m: v[["branch_id", "open_now", "aum"]] for m, v in months.items()}  # all it reads
    measured = [by_scope(v, region, scope_kpis, period=m) for m, v in slim.items()]
    del months, slim, year  # last December's customers are needed no further
    return {
        "segmentation_customers": customers.reset_index(drop=True),
        "bench_segmentation": bench,
        "bench_segmentation_scopes": pd.concat(measured, ignore_index=True),
        "bench_segmentation_clusters": clusters,
        "bench_segmentation_penetration": cross_sell.lift_table(current).reset_index(),
        "segmentation_bridge": bridge_customers(ctx),
        "segmentation_suitability": suitability.mismatch_rows(ctx, str(period), period.end),
        "segmentation_clv_mix": clv_mix(ctx, str(period)),
    }


def _year_start_customers(ctx, settings: Settings) -> pd.DataFrame | None:
    """The customers of last December (the base of 比年初 on the cards), classified as
    the period's are (bank-wide ranks of that month; no clusters), for their bench rows
    and the scopes' measures; None when that is last month (the previous-period rows are
    it) or the warehouse has no balances then."""
    year = year_start_period(ctx.period)
    known = ctx.sql("SELECT count(*) AS n FROM customer_month WHERE month = $m", m=year)
    if year == str(Period.parse(ctx.period).prev) or int(known["n"].iloc[0]) == 0:
        return None
    raw = ctx.sql(_CUSTOMERS_SQL, **_sql_params(year))
    rows = _bank_wide_scores(_tidy(raw, settings), settings)
    counts = suitability.customer_counts(ctx, year, str(Period.parse(year).prev))
    rows = suitability.with_counts(rows, counts)
    return classify(rows, settings)
