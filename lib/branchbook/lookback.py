"""How far back a period reads transactions, declared once.

The only contract table a period reads over a window rather than up to its end is
``transactions``. Two readers set how far back it goes:

- the branch extracts (:data:`branchbook.prepare.ROUTES`) hold the :data:`EXTRACT_DAYS`
  days before the period's end, the longest window a branch report looks back;
- a report's bank-wide ``prepare`` may read further back: its package then says how many
  months before the period in ``transaction_months(settings)`` (the satisfaction report's
  churn model, fitted on month ends up to a year before the period with five months of
  history each: :func:`branchbook.satisfaction.churn_risk.transaction_months`).

A database server stages the transactions from :func:`transactions_since`, the earlier
of the two, so a period prepared from a server reads the same rows as from a DuckDB
warehouse (:mod:`branchbook.server`).
"""

from __future__ import annotations

import datetime as dt

from .period import Period

EXTRACT_DAYS = 395
"""Days of transactions before the period's end that a branch's extract holds."""


def transactions_since(period: str, *, months: int = 0) -> dt.date:
    """The first day of transactions ``period`` needs: :data:`EXTRACT_DAYS` days before
    the day after its end, or the first day of the month ``months`` before the period
    when that is earlier (``months``: the most any report's prepare reads, 0 for none).

    >>> transactions_since("2026-10")  # 395 days before 2026-11-01
    datetime.date(2025, 10, 2)
    >>> transactions_since("2026-10", months=14)  # the churn model's default
    datetime.date(2025, 8, 1)
    """
    p = Period.parse(period)
    extracts = p.stop - dt.timedelta(days=EXTRACT_DAYS)
    return min(extracts, p.shift(-months).start)
