"""Collateral revaluation: the value of a loan's collateral as of its last appraisal,
and the loans whose revaluation is overdue at the period's end.

Each collateral type with an interval (``revaluation_months``: real estate 12,
equipment 6, receivables 3, deposit 1 by default) is due for revaluation that many
calendar months after the day it was last valued (``collateral_valued_on``); a day of
the month the due month lacks becomes its last day (valued 31 August, due 6 months
later: 28 or 29 February). The boundary rule: a revaluation is **overdue** when the
period's end is *after* its due day; on the due day itself it is not yet overdue
(valued 31 October 2025, 12-month interval: due 31 October 2026, not overdue at the end
of October 2026; valued 30 September 2025: overdue since 30 September 2026).

Every loan with a collateral value gets one ``revaluation`` status:

``not_due``      valued, the next revaluation not yet due;
``overdue``      the due day is before the period's end;
``no_date``      a value without a recorded valuation day ("date not recorded"): neither
                 overdue nor up to date, counted apart;
``after_end``    valued after the period's end: the value that stood at the period's end
                 has been replaced (the warehouse keeps the latest appraisal only), so
                 the period cannot be judged for it;
``no_interval``  a type with no interval (a guarantee): not revalued.

Loans without a collateral value (unsecured, or collateral not recorded) have no status
(NaN) and are not counted.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd

from ..privacy import mask_name

STATUSES = ("not_due", "overdue", "no_date", "after_end", "no_interval")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole calendar ``months``, clipped to the month's last day.

    >>> add_months(dt.date(2026, 8, 31), 6)
    datetime.date(2027, 2, 28)
    """
    m = day.month - 1 + months
    year, month = day.year + m // 12, m % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from ``start`` to ``end``: the largest ``k`` with
    ``add_months(start, k) <= end`` (0 when ``end`` is before ``start + 1 month``;
    negative when ``end`` is before ``start``).

    >>> months_between(dt.date(2025, 10, 31), dt.date(2026, 10, 31))
    12
    """
    k = (end.year - start.year) * 12 + end.month - start.month
    while add_months(start, k) > end:
        k -= 1
    while add_months(start, k + 1) <= end:
        k += 1
    return k


def _day(value) -> dt.date | None:
    """A date from a date, a timestamp or ISO text; None for a missing value."""
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()


def revaluation_status(book: pd.DataFrame, *, as_of, months: dict) -> pd.DataFrame:
    """``book`` (one row per loan: ``collateral_type``, ``collateral_value``,
    ``collateral_valued_on``) with ``interval_months`` (NaN for a type without one),
    ``months_since`` (whole months from the valuation day to ``as_of``, NaN without a
    date), ``due_on`` (valuation day plus the interval) and ``revaluation`` (one of
    :data:`STATUSES`, NaN for a loan without a collateral value). ``as_of`` is the
    period's last day (a date, or its ISO text)."""
    as_of = _day(as_of)
    value = pd.to_numeric(book["collateral_value"], errors="coerce").astype(float)
    interval = book["collateral_type"].map(dict(months)).astype(float)
    days = [_day(v) for v in book["collateral_valued_on"]]
    since = [np.nan if d is None else float(months_between(d, as_of)) for d in days]
    due = [
        None if d is None or np.isnan(n) else add_months(d, int(n))
        for d, n in zip(days, interval, strict=True)
    ]
    status = []
    for d, n, u, v in zip(days, interval, due, value, strict=True):
        if not v > 0:
            status.append(np.nan)
        elif np.isnan(n):
            status.append("no_interval")
        elif d is None:
            status.append("no_date")
        elif d > as_of:
            status.append("after_end")
        else:
            status.append("overdue" if as_of > u else "not_due")
    return book.assign(
        interval_months=interval,
        months_since=pd.Series(since, index=book.index, dtype=float),
        due_on=pd.Series(due, index=book.index, dtype=object),
        revaluation=pd.Series(status, index=book.index, dtype=object),
    )


def revaluation_counts(status: pd.DataFrame) -> dict[str, int]:
    """Loans per :data:`STATUSES` entry of a :func:`revaluation_status` frame (0 when none)."""
    counts = status["revaluation"].value_counts()
    return {s: int(counts.get(s, 0)) for s in STATUSES}


def overdue_revaluations(
    status: pd.DataFrame, *, staff: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The loans of a :func:`revaluation_status` frame whose revaluation is overdue,
    longest overdue first (then the larger value, then the loan): ``loan_id``,
    ``customer_id``, ``name`` (masked), ``manager_name`` (the loan's manager by name from
    ``staff``: staff_id, name; the id where the name is not known; empty without one),
    ``collateral_type``, ``collateral_value``, ``collateral_valued_on``, ``months_since``,
    ``due_on``."""
    o = status[status["revaluation"] == "overdue"]
    o = o.sort_values(
        ["due_on", "collateral_value", "loan_id"], ascending=[True, False, True], ignore_index=True
    )
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    managers = o["manager_id"] if "manager_id" in o.columns else pd.Series([None] * len(o))
    return o.assign(
        name=o["name"].map(mask_name),
        manager_name=[names.get(m, m) if not pd.isna(m) else "" for m in managers],
        months_since=o["months_since"].astype(int),
    )[
        [
            "loan_id",
            "customer_id",
            "name",
            "manager_name",
            "collateral_type",
            "collateral_value",
            "collateral_valued_on",
            "months_since",
            "due_on",
        ]
    ]
