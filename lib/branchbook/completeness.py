"""Is a month's data complete enough to report? One rule per table, checked in SQL.

A period is reported only when every periodic feed it needs is complete for it. A
load that failed in some tables, or a month that exists only as a few stray rows,
would otherwise publish AUM 0 and growth -100% as if they were real. The rules:

``present``
    the month has rows in ``balances`` at all;
``rows_vs_history``
    a periodic table (month-end stocks, daily events, monthly targets) has at least
    ``1 - tolerance`` times the median row count of the ``history_months`` months
    before it (stocks: ``stock_tolerance``; events: ``event_tolerance``). A table with
    no rows in those months has no history to judge by and is not judged (a bank that
    records no surveys is not "incomplete"; its report says "not recorded");
``balances_coverage``
    the customers open at the month's end have a balance row for it, at least
    ``coverage`` of them;
``snapshot_coverage``
    the loans that were outstanding at the end of the month before and mature after
    this month's end have a snapshot for it, at least ``coverage`` of them.

:func:`latest_complete` is the default period; :func:`require` refuses an
incomplete one with a message naming the table, the month and the rule.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from .errors import DataContractError
from .params import Completeness
from .period import Period

#: Periodic tables: (month expression over the table, kind). Openings of customers and
#: loans, and AML alerts, are not feeds: their monthly counts may legitimately vary.
FEEDS: dict[str, tuple[str, str]] = {
    "balances": ("month", "stock"),
    "loan_snapshots": ("month", "stock"),
    "targets": ("period", "stock"),
    "transactions": ("strftime(txn_date, '%Y-%m')", "event"),
    "surveys": ("strftime(responded_on, '%Y-%m')", "event"),
    "complaints": ("strftime(received_at, '%Y-%m')", "event"),
}


#: The thresholds of the rules (``completeness:`` in ``params/bank.yaml``).
Rules = Completeness
DEFAULT_RULES = Completeness()


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one table and month."""

    table: str
    month: str
    rule: str
    ok: bool
    detail: str

    def message(self) -> str:
        return f"{self.table}: {self.month} is incomplete: {self.detail} (rule {self.rule})"


def _tables(con) -> set[str]:
    rows = con.execute(
        "SELECT lower(table_name) FROM information_schema.tables "
        "WHERE table_schema = current_schema()"
    ).fetchall()
    return {r[0] for r in rows}


def monthly_counts(con, table: str, month_expr: str) -> dict[str, int]:
    """Rows of ``table`` per month (``YYYY-MM``), oldest first."""
    rows = con.execute(
        f"SELECT {month_expr} AS m, count(*) FROM {table} WHERE {month_expr} IS NOT NULL "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    return {str(m): int(n) for m, n in rows}


def rows_vs_history(
    counts: dict[str, int], month: str, tolerance: float, history: int
) -> tuple[bool, str] | None:
    """The row-count rule for one month (None when there is no history to judge by).

    >>> rows_vs_history({"2026-08": 100, "2026-09": 110, "2026-10": 12}, "2026-10", 0.5, 3)
    (False, '12 rows against a median of 105 in the 2 months before (at least 50% expected)')
    """
    p = Period.parse(month)
    before = [counts[str(m)] for m in p.shift(-1).window(history) if counts.get(str(m))]
    if not before:
        return None
    median = statistics.median(before)
    n = counts.get(month, 0)
    ok = n >= (1 - tolerance) * median
    return ok, (
        f"{n:,} rows against a median of {median:,.0f} in the {len(before)} months before "
        f"(at least {1 - tolerance:.0%} expected)"
    )


def _coverage(con, sql: str, month: str) -> tuple[int, int]:
    p = Period.parse(month)
    values = {"month": month, "prev": str(p.prev), "end": p.end}
    row = con.execute(sql, {k: v for k, v in values.items() if f"${k}" in sql}).fetchone()
    return int(row[0] or 0), int(row[1] or 0)


_BALANCES_COVERAGE = """
SELECT count(*), count(b.customer_id)
FROM customers c
LEFT JOIN (SELECT DISTINCT customer_id FROM balances WHERE month = $month) b USING (customer_id)
WHERE c.opened_on <= $end AND (c.closed_on IS NULL OR c.closed_on > $end)
"""

_SNAPSHOT_COVERAGE = """
SELECT count(*), count(cur.loan_id)
FROM (SELECT DISTINCT s.loan_id FROM loan_snapshots s JOIN loans l USING (loan_id)
      WHERE s.month = $prev AND s.outstanding > 0 AND l.maturity_on > $end) prev
LEFT JOIN (SELECT DISTINCT loan_id FROM loan_snapshots WHERE month = $month) cur USING (loan_id)
"""


def check(
    con, month: str, rules: Rules = DEFAULT_RULES, *, counts: dict | None = None
) -> list[Finding]:
    """Every rule's verdict on ``month`` (tables absent from the warehouse are skipped)."""
    present = _tables(con)
    counts = counts if counts is not None else all_counts(con, present)
    out: list[Finding] = []
    if "balances" in present and not counts.get("balances", {}).get(month):
        out.append(Finding("balances", month, "present", False, "no balances for the month"))
        return out
    for table, (_expr, kind) in FEEDS.items():
        if table not in present:
            continue
        tol = rules.stock_tolerance if kind == "stock" else rules.event_tolerance
        verdict = rows_vs_history(counts[table], month, tol, rules.history_months)
        if verdict is not None:
            out.append(Finding(table, month, "rows_vs_history", *verdict))
    for table, needs, sql in (
        ("balances", {"balances", "customers"}, _BALANCES_COVERAGE),
        ("loan_snapshots", {"loan_snapshots", "loans"}, _SNAPSHOT_COVERAGE),
    ):
        if not needs <= present:
            continue
        expected, found = _coverage(con, sql, month)
        if expected:
            ok = found >= rules.coverage * expected
            detail = (
                f"{found:,} of {expected:,} expected rows ({found / expected:.1%}; "
                f"at least {rules.coverage:.0%} expected)"
            )
            rule = "balances_coverage" if table == "balances" else "snapshot_coverage"
            out.append(Finding(table, month, rule, ok, detail))
    return out


def all_counts(con, present: set[str] | None = None) -> dict[str, dict[str, int]]:
    """Rows per month of every periodic table present."""
    present = present if present is not None else _tables(con)
    return {t: monthly_counts(con, t, expr) for t, (expr, _k) in FEEDS.items() if t in present}


def require(con, month: str, rules: Rules = DEFAULT_RULES) -> None:
    """Raise :class:`DataContractError` naming the first failed rule's table, month and rule."""
    failed = [f for f in check(con, month, rules) if not f.ok]
    if failed:
        latest = latest_complete(con, rules, strict=False)
        hint = f"; the latest complete period is {latest}" if latest else ""
        raise DataContractError(failed[0].message() + hint)


def latest_complete(
    con, rules: Rules = DEFAULT_RULES, *, strict: bool = True, lookback: int = 24
) -> str | None:
    """The latest month (at most ``lookback`` back from the latest balance month) whose
    every rule holds: the default period of a run."""
    counts = all_counts(con)
    months = sorted(counts.get("balances", {}))
    for month in reversed(months[-lookback:]):
        if all(f.ok for f in check(con, month, rules, counts=counts)):
            return month
    if strict:
        raise DataContractError(
            f"no complete period in the last {lookback} months of balances "
            "(`branchbook validate --period YYYY-MM` shows each table's completeness)"
        )
    return None


def by_month(con, months: list[str], rules: Rules = DEFAULT_RULES) -> list[Finding]:
    """The findings of every month in ``months`` (for ``branchbook validate``)."""
    counts = all_counts(con)
    return [f for m in months for f in check(con, m, rules, counts=counts)]


def table(con, period: str | None = None, rules: Rules = DEFAULT_RULES, *, months: int = 13) -> str:
    """A plain-text table: rows per month of each periodic table, the ``months`` months
    ending at ``period`` (default: the latest balance month); ``!`` marks a month a rule
    finds incomplete, and each failed rule follows in a line of its own."""
    counts = all_counts(con)
    latest = max(counts.get("balances", {}) or {"": 0})
    end = period or latest
    if not end:
        return "completeness: no balances, so no month to judge"
    shown = [str(m) for m in Period.parse(end).window(months)]
    findings = by_month(con, shown, rules)
    bad = {(f.table, f.month) for f in findings if not f.ok}
    width = max(len(t) for t in FEEDS) + 2
    lines = [f"completeness (rows per month; ! incomplete): {shown[0]} to {shown[-1]}"]
    lines.append(" " * width + " ".join(f"{m:>9}" for m in shown))
    for t in FEEDS:
        if t not in counts:
            lines.append(f"{t:<{width}}" + " not in the warehouse")
            continue
        cells = [f"{counts[t].get(m, 0):>8,}{'!' if (t, m) in bad else ' '}" for m in shown]
        lines.append(f"{t:<{width}}" + " ".join(cells))
    lines += [f"  {f.message()}" for f in findings if not f.ok]
    return "\n".join(lines)
