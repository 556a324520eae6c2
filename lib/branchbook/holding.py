"""Which branch holds a customer at a day: ``customer_branch_history`` read as of it.

A customer's row of ``customer_branch_history`` says the branch holding it from
``valid_from`` until the customer's next row; before its first row (a history begun
after the customer opened) a customer is in its first row's branch, and a customer
without any row is in ``customers.branch_id`` (the contract checks that a customer's
latest row names that branch, so both agree about today).

The rule of a period's reports (the README's "Real shapes, on purpose"): prepare reads
``customers`` as of the period's last day (:func:`hold_as_of`), so a report of period P
counts a customer, and everything the report compares it with (last month, the start
of the year, the trend months), in the branch that holds it at the end of P. A move is
a transfer, not business won or lost: the receiving branch's bridges do not show the
customer as new nor the giving branch's as lost, and the comparison bases are restated
to the branches of P (同口径). Last month's published reports keep the customer where
it was then. Loans keep their own ``loans.branch_id`` (the booking branch): a
customer's move does not move its loans. Surveys and complaints keep theirs too.

Without the table every period uses ``customers.branch_id`` (today's branch), and the
reports say so in their data-coverage note (:data:`NOTE_TODAY`).
"""

from __future__ import annotations

import datetime as dt

#: The catalogue key of the reports' note when the warehouse has no branch history.
NOTE_TODAY = "common.data_warnings.branch_today"
#: The catalogue key of the reports' note on customers moved in or out this year.
NOTE_MOVES = "common.data_warnings.branch_moves"

_AS_OF = """
SELECT customer_id,
       coalesce(arg_max(branch_id, valid_from) FILTER (WHERE valid_from <= $day),
                arg_min(branch_id, valid_from)) AS branch_id
FROM customer_branch_history
GROUP BY customer_id
"""


def recorded(con) -> bool:
    """The warehouse has a ``customer_branch_history`` with rows (prepare reads an absent
    table as an empty view)."""
    try:
        return con.execute("SELECT 1 FROM customer_branch_history LIMIT 1").fetchone() is not None
    except Exception:  # noqa: BLE001 - no such table or view
        return False


def branch_as_of_sql() -> str:
    """A query of ``customer_id, branch_id``: the branch holding each customer with a
    history row at the day ``$day`` (bound by the caller)."""
    return _AS_OF


def hold_as_of(con, day: dt.date) -> bool:
    """Make ``customers`` on ``con`` read as of ``day``: its ``branch_id`` the branch
    holding the customer then (a temporary view shadowing the warehouse's table, so
    every extract and every report's prepare routes by it). Returns whether the
    warehouse records a history (without one ``customers`` is left as it is)."""
    if not recorded(con):
        return False
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __customers_held AS "
        "SELECT c.* REPLACE (coalesce(h.branch_id, c.branch_id) AS branch_id) "
        f"FROM customers c LEFT JOIN ({_AS_OF}) h USING (customer_id)",
        {"day": day},
    )
    con.execute("CREATE OR REPLACE TEMP VIEW customers AS SELECT * FROM __customers_held")
    return True


def moves(con, since: dt.date, until: dt.date) -> dict[str, dict[str, int]]:
    """Per branch, the customers that moved in and out between the day ``since``
    (exclusive) and ``until`` (inclusive): ``{branch: {"in": n, "out": m}}``, from the
    branch holding each customer at both days (a customer moved away and back again
    did not move)."""
    if not recorded(con):
        return {}
    rows = con.execute(
        f"""
        WITH a AS ({_AS_OF.replace("$day", "$since")}), b AS ({_AS_OF.replace("$day", "$until")}),
        m AS (
            SELECT a.branch_id AS left_from, b.branch_id AS went_to
            FROM a JOIN b USING (customer_id)
            WHERE a.branch_id <> b.branch_id
        )
        SELECT branch_id, sum(n_in)::INT, sum(n_out)::INT FROM (
            SELECT went_to AS branch_id, count(*) AS n_in, 0 AS n_out FROM m GROUP BY 1
            UNION ALL
            SELECT left_from, 0, count(*) FROM m GROUP BY 1
        ) GROUP BY branch_id ORDER BY branch_id
        """,
        {"since": since, "until": until},
    ).fetchall()
    return {str(b): {"in": int(i), "out": int(o)} for b, i, o in rows}
