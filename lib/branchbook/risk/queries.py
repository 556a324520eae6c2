"""The SQL that :func:`~.prepare.prepare` runs on the warehouse, once per period.

Parameters are bound by name (``$month``, ``$month_end``, ...). The queries that read
a status of a past month take the warehouse's :class:`~.history.History` and use the
dated history where it has one (see :mod:`.history`). Loan snapshots and balances are
read from the shared ``loan_month`` and ``customer_month`` tables
(:mod:`branchbook.metrics.shared`).
"""

from ..metrics.history import History, alert_outcome_day_sql, alert_state_sql, exit_sql, kyc_sql
from .settings import CLOSED

BUCKET_SQL = """CASE WHEN {d} <= 0 THEN 'current' WHEN {d} <= 30 THEN '1-30' WHEN {d} <= 60 THEN '31-60'
    WHEN {d} <= 90 THEN '61-90' ELSE '90+' END"""

BOOK_SQL = f"""
SELECT s.branch_id, s.month, s.five_class, {BUCKET_SQL.format(d="s.dpd")} AS dpd_bucket,
       count(*) AS loans, sum(s.outstanding) AS outstanding
FROM loan_month s
WHERE s.month BETWEEN $first AND $last AND s.outstanding > 0
GROUP BY ALL
"""


def rolls_sql(h: History) -> str:
    """Loans and last month's outstanding per month, from-bucket and to-bucket; a loan
    gone from the book moves to its ``closed_reason`` (``closed`` when unknown)."""
    return f"""
WITH s AS (SELECT loan_id, month, dpd, outstanding FROM loan_month
           WHERE month BETWEEN $first AND $last AND outstanding > 0)
SELECT l.branch_id,
       strftime(strptime(a.month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH, '%Y-%m') AS month,
       {BUCKET_SQL.format(d="a.dpd")} AS from_bucket,
       CASE WHEN b.loan_id IS NULL THEN {exit_sql(h, closed=CLOSED)}
            ELSE {BUCKET_SQL.format(d="b.dpd")} END AS to_bucket,
       count(*) AS loans, sum(a.outstanding) AS outstanding
FROM s a JOIN loans l USING (loan_id)
LEFT JOIN s b ON b.loan_id = a.loan_id
     AND b.month = strftime(strptime(a.month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH, '%Y-%m')
WHERE a.month < $last
GROUP BY ALL
"""


def loans_sql(h: History) -> str:
    """One row per loan outstanding at the end of $month, with the scorecard's features
    then, its ``undrawn`` commitment (0 where the warehouse has none) and the day its
    collateral was last valued (``collateral_valued_on``, NULL where not recorded)."""
    undrawn = "coalesce(undrawn, 0)" if h.undrawn else "0.0"
    valued = "l.collateral_valued_on" if h.collateral_dated else "NULL::DATE"
    return LOANS_SQL.replace("{undrawn}", undrawn).replace("{valued_on}", valued)


LOANS_SQL = f"""
WITH snap AS (SELECT loan_id, outstanding, dpd, five_class, {{undrawn}} AS undrawn FROM loan_month
              WHERE month = $month AND outstanding > 0),
hist AS (SELECT loan_id, max(dpd) AS max_dpd_6m FROM loan_month
         WHERE month BETWEEN $month6 AND $month GROUP BY loan_id),
bal AS (SELECT customer_id, aum, products_held FROM customer_month WHERE month = $month),
fin AS (SELECT customer_id,
               CASE WHEN total_assets > 0 THEN total_liabilities / total_assets END AS debt_to_asset,
               CASE WHEN current_liabilities > 0 THEN current_assets / current_liabilities END AS current_ratio
        FROM financials WHERE period_end <= $month_end
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY period_end DESC) = 1)
SELECT l.loan_id, l.customer_id, l.branch_id, l.manager_id, c.name, c.customer_type, l.product,
       l.collateral_type, l.collateral_value, {{valued_on}} AS collateral_valued_on, coalesce(l.industry, c.industry) AS industry,
       l.principal, l.interest_rate, snap.outstanding, snap.undrawn, snap.dpd, snap.five_class,
       {BUCKET_SQL.format(d="snap.dpd")} AS dpd_bucket, hist.max_dpd_6m,
       CASE WHEN l.collateral_value > 0 THEN snap.outstanding / l.collateral_value END AS ltv,
       date_diff('month', l.originated_on, $month_end) AS loan_age_months,
       date_diff('month', $month_end, l.maturity_on) AS remaining_months,
       date_diff('month', c.opened_on, $month_end) AS tenure_months,
       bal.aum, bal.products_held, fin.debt_to_asset, fin.current_ratio
FROM snap JOIN loans l USING (loan_id) JOIN customers c ON c.customer_id = l.customer_id
LEFT JOIN hist USING (loan_id) LEFT JOIN bal ON bal.customer_id = l.customer_id
LEFT JOIN fin ON fin.customer_id = l.customer_id
ORDER BY l.loan_id
"""

OUTCOME_SQL = """
SELECT loan_id, max(dpd) AS max_dpd FROM loan_month
WHERE month > $month AND month <= $last GROUP BY loan_id
"""

# Corporate borrowers with a loan outstanding at $month_end: exposure and the latest
# statement against the latest one at least 11 months older (a year earlier).
BORROWERS_SQL = """
WITH ex AS (SELECT s.customer_id, s.branch_id, count(*) AS loans, sum(s.outstanding) AS exposure,
                   max(s.dpd) AS max_dpd
            FROM loan_month s
            WHERE s.month = $month AND s.outstanding > 0 GROUP BY ALL),
f AS (SELECT * FROM financials WHERE period_end <= $month_end
      AND customer_id IN (SELECT customer_id FROM ex)),
cur AS (SELECT * FROM f QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY period_end DESC) = 1),
pri AS (SELECT f.* FROM f JOIN cur ON cur.customer_id = f.customer_id
        WHERE f.period_end <= cur.period_end - INTERVAL 11 MONTH
        QUALIFY row_number() OVER (PARTITION BY f.customer_id ORDER BY f.period_end DESC) = 1)
SELECT ex.customer_id, ex.branch_id, c.name, c.industry, ex.loans, ex.exposure, ex.max_dpd,
       cur.period_end AS statement_date, cur.revenue, cur.net_profit, cur.total_assets,
       cur.total_liabilities, cur.current_assets, cur.current_liabilities, cur.inventory,
       cur.receivables, cur.operating_cash_flow, pri.period_end AS prior_statement_date,
       pri.revenue AS revenue_prev, pri.net_profit AS net_profit_prev,
       pri.inventory AS inventory_prev, pri.receivables AS receivables_prev
FROM ex JOIN customers c ON c.customer_id = ex.customer_id
LEFT JOIN cur ON cur.customer_id = ex.customer_id LEFT JOIN pri ON pri.customer_id = ex.customer_id
WHERE c.customer_type = 'corporate'
ORDER BY ex.customer_id, ex.branch_id
"""


def customers_sql(h: History) -> str:
    """Every customer open at $month_end with the KYC status and the AML alerts it had
    then: alerts open at $month_end (and the oldest one's age in days), and alerts
    reported or closed since $since (by the day they were; without ``closed_on``, by the
    day they were raised, with today's status)."""
    state = alert_state_sql(h)
    day = alert_outcome_day_sql(h)
    return f"""
WITH a AS (SELECT customer_id,
                  count(*) FILTER (WHERE {state} = 'open') AS open_alerts,
                  max(date_diff('day', raised_on, $month_end)) FILTER (WHERE {state} = 'open')
                      AS oldest_open_days,
                  count(*) FILTER (WHERE {state} = 'reported' AND {day} >= $since) AS reported_alerts,
                  count(*) FILTER (WHERE {state} = 'closed' AND {day} >= $since) AS closed_alerts
           FROM aml_alerts a WHERE raised_on <= $month_end GROUP BY customer_id),
k AS ({kyc_sql(h)})
SELECT c.customer_id, c.branch_id, c.customer_type, coalesce(k.kyc_status, c.kyc_status) AS kyc_status,
       coalesce(a.open_alerts, 0) AS open_alerts, a.oldest_open_days,
       coalesce(a.reported_alerts, 0) AS reported_alerts, coalesce(a.closed_alerts, 0) AS closed_alerts
FROM customers c LEFT JOIN a USING (customer_id) LEFT JOIN k USING (customer_id)
WHERE c.opened_on <= $month_end AND (c.closed_on IS NULL OR c.closed_on > $month_end)
ORDER BY c.customer_id
"""


def bridge_sql(h: History) -> str:
    """One row per loan on the book (a positive balance) at the end of $period,
    $prev_period or $year_period, with its product, manager (``manager_name``: the
    staff member's name, the id where the staff table does not know it), how it left
    the book (``exit``: its ``closed_reason``, ``closed`` when unknown) and its
    outstanding and five-class at each of the three month ends (NULL: not on the book)."""
    cols = ",\n       ".join(
        f"max(s.outstanding) FILTER (WHERE s.month = ${m}) AS outstanding{suffix},\n"
        f"       max(s.five_class) FILTER (WHERE s.month = ${m}) AS five_class{suffix}"
        for m, suffix in (("period", ""), ("prev_period", "_prev"), ("year_period", "_year"))
    )
    return f"""
WITH s AS (SELECT loan_id, month, outstanding, five_class FROM loan_month
           WHERE month IN ($period, $prev_period, $year_period) AND outstanding > 0)
SELECT l.loan_id, l.branch_id, l.manager_id, coalesce(st.name, l.manager_id) AS manager_name,
       l.product, {exit_sql(h, closed=CLOSED)} AS exit,
       {cols}
FROM s JOIN loans l USING (loan_id)
LEFT JOIN (SELECT staff_id, any_value(name) AS name FROM staff GROUP BY staff_id) st
       ON st.staff_id = l.manager_id
GROUP BY ALL
ORDER BY l.loan_id
"""
