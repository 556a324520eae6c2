"""A KPI that does not add up across branches, measured on each scope's pooled rows.

Most KPI cards of a region or the bank pool their branches' sums: a ratio is the
pooled numerator over the pooled denominator, kept per branch and month in the
report's benchmark. A concentration is not a ratio of sums: the ten largest borrowers
of a region are not the ten largest of each branch, and the top 20% of a region's
customers are not its branches' top 20% put together. Such a KPI is measured again on
the rows of each scope, the bank and every region, by prepare, which holds the whole
bank's rows of each month anyway (once per period, one small row per scope and month):
its last month, its start of the year and, for a region, the bank's value beside it.

A scope is spelt as the organisation tree spells it (:mod:`branchbook.orgtree`):
``bank`` and ``region:<name>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from ..orgtree import BANK


def by_scope(
    rows: pd.DataFrame,
    region: Mapping[str, str],
    measure: Callable[[pd.DataFrame], Mapping[str, float]],
    *,
    period: str,
    unit_col: str = "branch_id",
) -> pd.DataFrame:
    """``measure`` of the bank's ``rows`` (scope ``bank``) and of each region's
    (``region:<name>``: the rows of the branches ``region`` maps to it; a blank region
    is in no region, only in the bank). One row per scope: ``scope``, ``period`` and
    the keys ``measure`` returns. A region whose branches have no rows this period
    gets ``measure`` of no rows (NaN, as an empty branch's), so it has a row too.

    >>> rows = pd.DataFrame({"branch_id": ["1", "2", "3"], "x": [1.0, 2.0, 4.0]})
    >>> by_scope(rows, {"1": "E", "2": "E", "3": "N"}, lambda r: {"x": r["x"].max()},
    ...          period="2026-10").to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'scope': 'bank', 'period': '2026-10', 'x': 4.0},
     {'scope': 'region:E', 'period': '2026-10', 'x': 2.0},
     {'scope': 'region:N', 'period': '2026-10', 'x': 4.0}]
    """
    names = sorted({str(r) for r in region.values() if r})
    of = {str(b): str(r) for b, r in region.items() if r}  # a blank region: in none
    # each row's region as a small integer, so picking a region's rows stays cheap at a
    # million customers and dozens of regions
    codes = pd.Categorical(rows[unit_col].astype(str).map(of), categories=names).codes
    out = [{"scope": BANK, "period": period, **measure(rows)}]
    for i, name in enumerate(names):
        out.append({"scope": f"region:{name}", "period": period, **measure(rows[codes == i])})
    return pd.DataFrame(out)


def scope_value(frame: pd.DataFrame | None, *, scope: str, period: str) -> dict[str, float]:
    """``{key: value}`` of ``scope`` at ``period`` in a frame of :func:`by_scope` rows;
    empty when it has no such row (a month the warehouse does not reach, a scope prepare
    did not measure): the card then reads "n/a", never 0."""
    if frame is None or "scope" not in frame or not len(frame):
        return {}
    row = frame[(frame["scope"] == scope) & (frame["period"] == period)]
    if not len(row):
        return {}
    values = pd.to_numeric(row.iloc[0].drop(["scope", "period"]), errors="coerce")
    return {str(k): float(v) for k, v in values.items()}
