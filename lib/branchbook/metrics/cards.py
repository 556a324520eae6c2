"""KPI cards from declarations: value, last period, change, bank median, rank, status,
and the value at the start of the year with the change since (比年初).

Every report's cards are built here, from its :class:`~.declare.Metric` declarations
and a benchmark frame with one row per unit (branch) and period, so a metric means the
same on every card, in every report, and in the index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .declare import Metric
from .thresholds import as_rag

CARD_COLUMNS = (
    "kpi",
    "value",
    "previous",
    "change",
    "change_rel",
    "bank_median",
    "rank",
    "branches",
    "status",
    "year_start",
    "change_ytd",
)


def status(value: float | None, rag: Any) -> str | None:
    """``"green"`` / ``"amber"`` / ``"red"`` of ``value`` under ``rag`` (a
    :class:`branchbook.params.Rag`, or a mapping of its fields); None when there is no
    rule or no value: "no data" never has a colour. The rule itself is ``Rag.status``.

    A percentile rule (:class:`~.thresholds.Percentile`) not yet resolved to this
    period's cut-offs (:func:`~.thresholds.resolve`) colours by its fixed fallback."""
    rag = as_rag(rag)
    if rag is None:
        return None
    out = rag.status(value)
    return None if out == "none" else out


def kinds(metrics: Iterable[Metric]) -> dict[str, str]:
    """``{key: kind}``: how each card prints its value."""
    return {m.key: m.kind for m in metrics}


def bank_median(
    bench: pd.DataFrame | None, key: str, period: str, *, period_col: str = "period"
) -> float:
    """The median over units of ``bench[key]`` at ``period`` (each unit counts once)."""
    if bench is None or key not in bench or period_col not in bench:
        return math.nan
    rows = bench.loc[bench[period_col] == period, key].dropna()
    return float(rows.median()) if len(rows) else math.nan


def year_start_period(period: str) -> str:
    """The month whose end starts ``period``'s year: the previous December.

    >>> year_start_period("2026-10"), year_start_period("2026-01")
    ('2025-12', '2025-12')
    """
    return f"{int(period[:4]) - 1}-12"


def months_to_year_start(period: str, months: int) -> int:
    """How many months, ending at ``period``, a report must prepare so that it holds
    ``months`` months and also the start of the year (:func:`year_start_period`):
    ``max(months, the month number + 1)``. With 12 months that is 13 in December (last
    December is 12 months back) and 12 otherwise; in January the year start is last
    month (2 months).

    >>> months_to_year_start("2026-12", 12), months_to_year_start("2026-11", 12)
    (13, 12)
    >>> months_to_year_start("2027-01", 1)
    2
    """
    return max(months, int(period[5:7]) + 1)


def unit_values(
    bench: pd.DataFrame | None,
    unit_id: str,
    period: str,
    *,
    unit_col: str = "branch_id",
    period_col: str = "period",
) -> dict[str, float]:
    """``{key: value}`` of the unit's row of ``bench`` at ``period`` (empty when the bench
    has no such row, e.g. a warehouse that starts after it): how a report reads its
    year-start values from the benchmark rows prepare made for that month."""
    if bench is None or period_col not in bench or unit_col not in bench:
        return {}
    rows = bench[(bench[period_col] == period) & (bench[unit_col] == unit_id)]
    if not len(rows):
        return {}
    row = rows.iloc[0].drop([unit_col, period_col])
    return {k: float(v) for k, v in pd.to_numeric(row, errors="coerce").items()}


def card_frame(
    metrics: Iterable[Metric],
    current: Mapping[str, float],
    previous: Mapping[str, float],
    *,
    bench: pd.DataFrame | None,
    unit_id: str,
    period: str,
    rag: Mapping[str, Any] | None = None,
    unit_col: str = "branch_id",
    period_col: str = "period",
    medians: Mapping[str, float] | None = None,
    year_start: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """One row per metric: ``value``, ``previous``, ``change`` (value - previous, share
    points for shares), ``change_rel`` (change / previous, NaN when previous is 0),
    ``bank_median`` (median over units of ``bench`` at ``period``, or ``medians``),
    ``rank`` (1 is best in the metric's good direction, among the units of ``bench`` at
    ``period``), ``branches`` (how many units were ranked), ``status`` (RAG),
    ``year_start`` (the value at the end of last December, :func:`year_start_period`,
    from ``year_start``; NaN when not available, never 0) and ``change_ytd`` (value -
    year_start, as ``change``).
    """
    others = pd.DataFrame()
    if bench is not None and period_col in bench:
        others = bench[(bench[period_col] == period) & (bench[unit_col] != unit_id)]
    out = []
    for m in metrics:
        v = float(current.get(m.key, math.nan))
        p = float(previous.get(m.key, math.nan))
        y = float((year_start or {}).get(m.key, math.nan))
        vals = others[m.key].dropna() if m.key in others else pd.Series(dtype=float)
        if m.good is None or not math.isfinite(v):
            rank = math.nan
        else:
            better = (vals > v) if m.good == "high" else (vals < v)
            rank = float(1 + better.sum())
        median = (
            float(medians.get(m.key, math.nan))
            if medians is not None
            else bank_median(bench, m.key, period, period_col=period_col)
        )
        out.append(
            {
                "kpi": m.key,
                "value": v,
                "previous": p,
                "change": v - p,
                "change_rel": (v - p) / p if p else math.nan,
                "bank_median": median,
                "rank": rank,
                "branches": float(len(vals) + 1),
                "status": status(v, (rag or {}).get(m.key)),
                "year_start": y,
                "change_ytd": v - y,
            }
        )
    return pd.DataFrame(out, columns=list(CARD_COLUMNS))


def at_scope(
    frame: pd.DataFrame,
    *,
    level: str,
    previous: Mapping[str, float] | None = None,
    year_start: Mapping[str, float] | None = None,
    bank: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The cards of :func:`card_frame` made for a region's or the bank's report.

    A branch's cards compare it with the median branch and rank it among the branches;
    neither means anything for a region or the bank. So at ``level`` ``region`` or
    ``bank``: ``rank`` and ``branches`` are NaN (a scope is not ranked among branches;
    its units are, in the league tables); ``bank_median`` is the bank's own pooled
    value from ``bank`` for a region (NaN for a KPI not in it) and NaN for the bank
    (its benchmark is its own last period); ``previous`` and ``year_start`` are
    replaced by the scope's pooled values where given (a KPI not given keeps the
    frame's, which must then have been computed from the scope's pooled rows), and
    ``change``, ``change_rel`` and ``change_ytd`` follow. A branch's frame is returned
    as it is.
    """
    if level == "branch":
        return frame
    out = frame.copy()
    keys = out["kpi"]
    if previous is not None:
        out["previous"] = [float(previous.get(k, math.nan)) for k in keys]
    if year_start is not None:
        out["year_start"] = [float(year_start.get(k, math.nan)) for k in keys]
    out["bank_median"] = [
        float((bank or {}).get(k, math.nan)) if level == "region" else math.nan for k in keys
    ]
    out["rank"] = math.nan
    out["branches"] = math.nan
    out["change"] = out["value"] - out["previous"]
    prev = out["previous"].where(out["previous"] != 0)
    out["change_rel"] = out["change"] / prev
    out["change_ytd"] = out["value"] - out["year_start"]
    return out
