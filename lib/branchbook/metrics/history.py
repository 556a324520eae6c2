"""Point-in-time facts: a status used for a past month is its value as of that month.

An AML alert is open at a day when it was raised on or before it and not yet closed
(``aml_alerts.closed_on`` empty or later); its outcome (closed, reported) counts only
from ``closed_on``. A customer's KYC status at a day is the one of its latest
``kyc_history`` row on or before that day (a customer without such a row: today's
``customers.kyc_status``). A loan that left the book did so for ``loans.closed_reason``.

These columns and the table are optional in the contract. Without them the SQL below
falls back to today's values (every alert with today's status, every customer with
today's KYC status, every exit as ``closed``), and :class:`History` says which figures
do, so a report can say so beside them.

The SQL fragments are shared by the reports' prepare (risk, staff KPI): a fact means
one thing in every report that shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

#: How a loan can leave the book (``loans.closed_reason``).
CLOSE_REASONS = ("repaid", "written_off", "restructured")


@dataclass(frozen=True)
class History:
    """Which dated history the warehouse carries."""

    alerts_dated: bool = False  # aml_alerts.closed_on
    kyc_dated: bool = False  # the kyc_history table
    close_reasons: bool = False  # loans.closed_reason
    undrawn: bool = False  # loan_snapshots.undrawn
    # loans.collateral_valued_on can be read (prepare fills an absent column with NULLs:
    # whether the warehouse records it is coverage's "risk.revaluation")
    collateral_dated: bool = False

    def frame(self) -> pd.DataFrame:
        """One row, the ``bench_risk_history`` artifact."""
        return pd.DataFrame([asdict(self)])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | None) -> History:
        """Read back :meth:`frame` (no frame or no row: no dated history)."""
        if frame is None or not len(frame):
            return cls()
        row = frame.iloc[0]
        return cls(**{k: bool(row[k]) for k in asdict(cls()) if k in frame.columns})


def _columns(ctx, table: str) -> set[str]:
    """The columns the warehouse records for ``table``. Prepare gives every contract table
    its full shape (:func:`branchbook.warehouse.complete_shape`: an absent column becomes
    NULLs, the table as found stays as ``<table>__as_found``), so the table as found is
    read first: a column filled in is not dated history."""
    for name in (f"{table}__as_found", table):
        try:
            return set(ctx.sql(f'SELECT * FROM "{name}" LIMIT 0').columns)
        except Exception:  # noqa: BLE001 - no such table or view: try the next
            continue
    return set()


def _has_rows(ctx, table: str) -> bool:
    """``table`` holds a row (a table the warehouse lacks is an empty view in prepare)."""
    try:
        return len(ctx.sql(f'SELECT 1 AS x FROM "{table}" LIMIT 1')) > 0
    except Exception:  # noqa: BLE001 - an absent table
        return False


def history(ctx) -> History:
    """What :func:`alert_state_sql`, :func:`kyc_sql` and the roll rates can use on
    ``ctx``'s warehouse."""
    return History(
        alerts_dated=_recorded(ctx, "aml_alerts", {"closed_on"}),
        kyc_dated=_recorded(ctx, "kyc_history", {"customer_id", "valid_from", "kyc_status"}),
        close_reasons=_recorded(ctx, "loans", {"closed_reason"}),
        undrawn=_recorded(ctx, "loan_snapshots", {"undrawn"}),
        collateral_dated=_recorded(ctx, "loans", {"collateral_valued_on"}),
    )


def _recorded(ctx, table: str, columns: set[str]) -> bool:
    """The warehouse records ``columns`` of ``table`` (as found, not filled in) and the
    table holds rows."""
    return columns <= _columns(ctx, table) and _has_rows(ctx, table)


def alert_state_sql(h: History, *, alias: str = "a", as_of: str = "$month_end") -> str:
    """SQL of an alert's status at the day ``as_of`` (``open``, ``closed`` or
    ``reported``), for an alert raised on or before it: open until ``closed_on``, then
    its status (``closed`` if the status still says open). A closed or reported alert
    without ``closed_on`` keeps today's status (an undated row is not open forever)."""
    a = alias
    if not h.alerts_dated:
        return f"{a}.status"
    return (
        f"CASE WHEN {a}.closed_on IS NULL AND {a}.status <> 'open' THEN {a}.status "
        f"WHEN {a}.closed_on IS NULL OR {a}.closed_on > {as_of} THEN 'open' "
        f"WHEN {a}.status = 'open' THEN 'closed' ELSE {a}.status END"
    )


def alert_outcome_day_sql(h: History, *, alias: str = "a") -> str:
    """SQL of the day an alert's outcome counts from: ``closed_on`` (without it, the
    day the alert was raised)."""
    if not h.alerts_dated:
        return f"{alias}.raised_on"
    return f"coalesce({alias}.closed_on, {alias}.raised_on)"


def kyc_sql(h: History, *, as_of: str = "$month_end") -> str:
    """A query of ``customer_id, kyc_status`` as of the day ``as_of``, one row per
    customer who has a dated status then (join it and ``coalesce`` with today's
    ``customers.kyc_status``)."""
    if not h.kyc_dated:
        return "SELECT NULL::VARCHAR AS customer_id, NULL::VARCHAR AS kyc_status LIMIT 0"
    return (
        "SELECT customer_id, kyc_status FROM kyc_history "
        f"WHERE valid_from <= {as_of} "
        "QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY valid_from DESC) = 1"
    )


def exit_sql(h: History, *, alias: str = "l", closed: str = "closed") -> str:
    """SQL of the column a loan that left the book moves to: its ``closed_reason``, or
    ``closed`` when the warehouse does not say (or leaves it empty)."""
    if not h.close_reasons:
        return f"'{closed}'"
    return f"coalesce({alias}.closed_reason, '{closed}')"


def status_notes(frame: pd.DataFrame | None, *, report: str) -> list[str]:
    """The catalogue keys of the notes a report shows beside figures that use today's
    status (``<report>.notes.status_today_alerts`` / ``..._kyc``), from the history
    artifact ``frame`` (:meth:`History.frame`); none when the warehouse dates both."""
    h = History.from_frame(frame)
    return [
        f"{report}.notes.status_today_{key}"
        for known, key in ((h.alerts_dated, "alerts"), (h.kyc_dated, "kyc"))
        if not known
    ]
