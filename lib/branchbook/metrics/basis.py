"""Which balance a customer's AUM is read from: the basis the bank asks for
(``balance_basis`` in ``params/bank.yaml``) and the one its warehouse allows.

The month-average daily balances (日均, ``balances.deposits_avg`` and
``balances.wealth_avg``) are optional in the data contract. A warehouse without them,
or with them empty for every customer in the period's month, is read on the month-end
balances (时点) instead, and every report that shows an AUM says so in one line of its
data-warnings note (:func:`fallback_note`). Where the period has them, a row of
another month without them counts its month-end balance (:func:`branchbook.metrics.models.aum_sql`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

#: The month-average daily columns of ``balances``, beside ``deposits`` and ``wealth``.
AVERAGE_COLUMNS = ("deposits_avg", "wealth_avg")

_HAS_AVERAGES_SQL = """
SELECT count(*) FROM balances
WHERE month = $period AND (deposits_avg IS NOT NULL OR wealth_avg IS NOT NULL)
"""


def has_averages(ctx) -> bool:
    """Whether the warehouse of ``ctx`` carries an average daily balance for at least
    one customer in the period's month (an absent column reads as empty: the prepare
    step gives every contract column its place)."""
    try:
        row = ctx.sql(_HAS_AVERAGES_SQL, period=ctx.period)
    except Exception:  # noqa: BLE001 - a column not there at all: no averages
        return False
    return bool(len(row)) and int(row.iloc[0, 0]) > 0


def empty_line(con, period: str, found: Collection[str]) -> str | None:
    """The line ``branchbook validate`` prints when ``balances`` has the average daily
    columns (``found``: its columns) but not one value in the month ``period``: the
    reports will read month end (absent columns are named by the coverage table)."""
    if not set(AVERAGE_COLUMNS) <= set(found):
        return None
    row = con.execute(_HAS_AVERAGES_SQL, {"period": period}).fetchone()
    if row and int(row[0]) > 0:
        return None
    return (
        f"balances: deposits_avg and wealth_avg are empty for {period}: AUM on the average "
        "daily basis falls back to month end"
    )


def basis_used(wanted: str, has_avg: bool) -> str:
    """The basis AUM is read on: ``wanted``, unless it is ``average_daily`` and the
    warehouse has no averages (``has_avg`` False), then ``month_end``.

    >>> basis_used("average_daily", False), basis_used("average_daily", True)
    ('month_end', 'average_daily')
    >>> basis_used("month_end", True)
    'month_end'
    """
    return "month_end" if wanted == "average_daily" and not has_avg else wanted


def record(wanted: str, has_avg: bool) -> dict[str, str]:
    """What ``prepare.json`` keeps as ``balance_basis``: the basis asked for and used."""
    return {"wanted": wanted, "used": basis_used(wanted, has_avg)}


def fell_back(recorded: Mapping | None) -> bool:
    """Whether the period's reports read month end although average daily was asked for
    (``recorded`` as :func:`record` gives it; a period prepared before it: no)."""
    if not recorded:
        return False
    return recorded.get("wanted") == "average_daily" and recorded.get("used") == "month_end"


def fallback_note(recorded: Mapping | None) -> str | None:
    """The catalogue key of the data-warnings line of a report that shows AUM when the
    basis fell back to month end (None when it did not)."""
    return "common.data_warnings.balance_basis_month_end" if fell_back(recorded) else None


def basis_key(basis: str) -> str:
    """The catalogue key naming ``basis`` on cards and definitions (``日均`` / ``时点``)."""
    return f"common.balance_basis.{basis}"
