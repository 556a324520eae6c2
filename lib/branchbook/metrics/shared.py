"""The building blocks several reports read, computed once per period for the whole bank.

:func:`prepare_shared` runs in prepare (:mod:`branchbook.prepare`) before the reports'
``prepare(ctx)`` and leaves four temporary tables in the prepare connection; the
reports' SQL reads them instead of the raw contract tables, so a customer's AUM, a
loan's class, a survey answer's 0-100 value or a customer's closing is derived in one
place, by the rules of :mod:`.models`, with the bank's one ``asset_tiers`` and
``csat_scale``:

``customer_month``
    one row per balance row up to the period (a customer x month): ``customer_id,
    month, month_end, branch_id, manager_id, open`` (open at the month's end,
    :func:`.models.open_at_sql`), ``deposits, wealth`` and ``aum`` on the bank's
    balance basis (:func:`aum_expr`, the one place the basis is applied: the month's
    average daily balances, 日均, where the warehouse has them), ``asset_tier`` of that
    AUM (:func:`.models.asset_tier_sql`), the month-end ``deposits_month_end,
    wealth_month_end, aum_month_end`` (时点) and ``loans_outstanding, products_held``.
    A customer open in a month without a balance row has no row: a report that counts
    it (at AUM 0) joins ``customers``.
``loan_month``
    one row per loan snapshot up to the period: ``loan_id, month, customer_id,
    branch_id, manager_id, outstanding, dpd, five_class, npl`` (:func:`.models.npl_sql`)
    and ``undrawn`` (empty where the warehouse has no such column).
``survey_scored``
    every survey response up to the period's end with its ``month``, ``csat_100``
    (:func:`.models.csat_100_sql`) and ``nps_class`` (promoter 9-10, passive 7-8,
    detractor 0-6, empty without an answer).
``churn``
    one row per customer: ``customer_id, branch_id, manager_id, opened_on, closed_on``,
    ``closed_month`` (the month by whose end it counts as closed,
    :func:`.models.closed_by_sql`) and ``closed_by_period`` (closed by the period's end).

A report's prepared models depend on this module's code and its parameters
(:func:`branchbook.codekey.prepare_code`, :func:`branchbook.prepare._report_key`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from ..params import AssetTiers
from .models import (
    CSAT_SCALE,
    asset_tier_sql,
    aum_sql,
    balance_sql,
    closed_by_sql,
    csat_100_sql,
    npl_sql,
    open_at_sql,
)

log = logging.getLogger("branchbook.prepare")

#: The shared tables and the contract tables each one is built from (a report that reads
#: a shared table reads those: its ``SOURCES`` names them).
TABLES: dict[str, tuple[str, ...]] = {
    "customer_month": ("balances", "customers"),
    "loan_month": ("loan_snapshots", "loans"),
    "survey_scored": ("surveys",),
    "churn": ("customers",),
}

_MONTH_END = "last_day(CAST(strptime({m} || '-01', '%Y-%m-%d') AS DATE))"


def aum_expr(alias: str = "b", basis: str = "month_end") -> str:
    """SQL of the AUM of a balance row of ``alias`` on the balance ``basis``: the one
    hook where the AUM basis is applied (:func:`.models.aum_sql`)."""
    return aum_sql(alias, basis)


def customer_month_sql(tiers: AssetTiers, basis: str = "month_end") -> str:
    """The query of ``customer_month`` (see the module docstring); ``$period`` bound.
    ``deposits``, ``wealth`` and ``aum`` are on the balance ``basis`` (the one the
    warehouse allows, :func:`branchbook.metrics.basis.basis_used`), ``deposits`` as AUM
    counts them (an overdraft at 0: the overdraft is credit, not a deposit); the month-end
    figures stay beside them as ``deposits_month_end``, ``wealth_month_end`` and
    ``aum_month_end`` for what is measured at the month's end (the churn floor)."""
    dep, wealth = (balance_sql(c, "", basis) for c in ("deposits", "wealth"))
    return f"""
SELECT b.customer_id, b.month, b.month_end, c.branch_id, c.manager_id,
       {open_at_sql("b.month_end")} AS open,
       b.deposits_b AS deposits, b.wealth_b AS wealth,
       b.deposits AS deposits_month_end, b.wealth AS wealth_month_end,
       b.loans_outstanding, b.products_held,
       b.aum, b.aum_month_end, {asset_tier_sql("b.aum", tiers)} AS asset_tier
FROM (SELECT *, {_MONTH_END.format(m="month")} AS month_end,
             CASE WHEN {dep} < 0 THEN 0.0 ELSE {dep} END AS deposits_b, {wealth} AS wealth_b,
             {aum_expr("", basis)} AS aum, {aum_expr("", "month_end")} AS aum_month_end
      FROM balances WHERE month <= $period) b
JOIN customers c ON c.customer_id = b.customer_id
"""


def loan_month_sql(undrawn: bool) -> str:
    """The query of ``loan_month``; ``undrawn``: the snapshots carry that column."""
    col = "s.undrawn" if undrawn else "NULL::DOUBLE"
    return f"""
SELECT s.loan_id, s.month, l.customer_id, l.branch_id, l.manager_id,
       s.outstanding, s.dpd, s.five_class, {npl_sql("s.five_class")} AS npl, {col} AS undrawn
FROM loan_snapshots s JOIN loans l ON l.loan_id = s.loan_id
WHERE s.month <= $period
"""


def survey_scored_sql(scale: Sequence[float]) -> str:
    """The query of ``survey_scored``; ``$period_end`` bound."""
    return f"""
SELECT s.*, strftime(s.responded_on, '%Y-%m') AS month,
       {csat_100_sql("s.csat", scale=scale)} AS csat_100,
       CASE WHEN s.nps >= 9 THEN 'promoter' WHEN s.nps >= 7 THEN 'passive'
            WHEN s.nps >= 0 THEN 'detractor' END AS nps_class
FROM surveys s
WHERE s.responded_on <= $period_end
"""


CHURN_SQL = f"""
SELECT customer_id, branch_id, manager_id, opened_on, closed_on,
       strftime(closed_on, '%Y-%m') AS closed_month,
       {closed_by_sql("$period_end", alias="customers")} AS closed_by_period
FROM customers
"""


def prepare_shared(
    con,
    period: str,
    period_end,
    *,
    tiers: AssetTiers | None = None,
    csat_scale: Sequence[float] = CSAT_SCALE,
    basis: str = "month_end",
) -> dict[str, int]:
    """Create (or replace) the shared temporary tables in ``con`` for ``period`` (its
    last day ``period_end``); returns the row count of each."""
    t0 = time.perf_counter()
    undrawn = "undrawn" in {
        r[0] for r in con.execute("DESCRIBE SELECT * FROM loan_snapshots").fetchall()
    }
    queries = {
        "customer_month": (customer_month_sql(tiers or AssetTiers(), basis), {"period": period}),
        "loan_month": (loan_month_sql(undrawn), {"period": period}),
        "survey_scored": (survey_scored_sql(csat_scale), {"period_end": period_end}),
        "churn": (CHURN_SQL, {"period_end": period_end}),
    }
    rows = {}
    for name, (query, params) in queries.items():
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {query}", params)
        rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    log.info("prepare %s: shared tables in %.1fs %s", period, time.perf_counter() - t0, rows)
    return rows
