"""The index's headline numbers, read from the prepared period, never from a page.

Each report package declares one ``headline=True`` metric and a ``unit_kpis(bench,
settings)`` that gives every declared KPI per branch and period from prepare's
benchmarks. The index shows that value, formatted in the index's locale, with its
status under the branch's own thresholds: the same number the report's KPI card shows,
computed by the same declaration, coloured by the same thresholds (a percentile rule at
the cut-offs prepare computed for the period).

A region's and the bank's rows show the same headline, computed from the same
declaration on the scope's pooled data: the report's ``pooled_kpis(bench, units,
settings)`` adds its branches' sums in prepare's benchmarks and takes the ratio of the
sums (a region's NPL ratio is its NPL outstanding over its outstanding, never an
average of its branches' ratios), coloured under the scope's own thresholds, as the
scope's own report's card.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

import pandas as pd

from .. import fmt, i18n
from .cards import status
from .declare import Metric, of_report
from .thresholds import read_cutoffs, resolve


def headline_metric(report: str) -> Metric | None:
    """The report's declared headline (the first with ``headline=True``)."""
    return next((m for m in of_report(report) if m.headline), None)


def headlines(
    specs: Mapping[str, Any],
    bench: Callable[[str], pd.DataFrame],
    branch_settings: Mapping[str, Mapping[str, Any]],
    *,
    period: str,
    locale: str,
    currency: str = "CNY",
    not_recorded: Collection[str] = (),
    members: Mapping[str, Collection[str]] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{"<folder>/<report>": {key: {label, value, text, status}}}`` for every folder
    of ``branch_settings`` (folder -> report -> its ``Settings``) and report of ``specs``
    (name -> module with ``unit_kpis``). A folder is a branch, or a region's or the
    bank's folder named in ``members`` (folder -> its branches), whose value is its
    branches' pooled (the module's ``pooled_kpis``; "n/a" for a report without one).
    A headline in ``not_recorded`` (its data is not in the warehouse:
    :meth:`branchbook.coverage.Coverage.not_recorded`) reads "not recorded", with no
    value and no status."""
    members = members or {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name, module in specs.items():
        metric = headline_metric(name)
        unit_kpis = getattr(module, "unit_kpis", None)
        if metric is None or unit_kpis is None:
            continue
        if metric.key in not_recorded:
            item = {
                "label": i18n.t(metric.label_key, locale),
                "value": None,
                "text": i18n.t("common.kpi.not_recorded", locale),
                "status": "none",
            }
            out.update({f"{bid}/{name}": {metric.key: dict(item)} for bid in branch_settings})
            continue
        frames: dict[str, pd.DataFrame] = {}
        cuts = read_cutoffs(bench, name)
        for bid, sections in branch_settings.items():
            settings = sections.get(name)
            if bid in members:
                value = _pooled(module, bench, settings, bid, members[bid], metric.key, period)
            else:
                # one frame per distinct settings (a branch may set its own score window)
                key = settings.model_dump_json() if hasattr(settings, "model_dump_json") else ""
                if key not in frames:
                    try:
                        frames[key] = unit_kpis(bench, settings)
                    except (OSError, KeyError, ValueError):
                        frames[key] = pd.DataFrame(columns=["branch_id", "period", metric.key])
                frame = frames[key]
                row = frame[(frame["branch_id"] == bid) & (frame["period"] == period)]
                value = float(row[metric.key].iloc[0]) if len(row) else math.nan
            rules = getattr(settings, "kpi_status", None) or {}
            th = resolve({k: v for k, v in rules.items() if k == metric.key}, cuts, period=period)
            rag = th[metric.key].rag if metric.key in th else None
            out[f"{bid}/{name}"] = {
                metric.key: {
                    "label": i18n.t(metric.label_key, locale),
                    "value": value if math.isfinite(value) else None,
                    "text": _text(value, metric.kind, locale, currency),
                    "status": status(value, rag) or "none",
                }
            }
    return out


def _pooled(
    module: Any,
    bench: Callable[[str], pd.DataFrame],
    settings: Any,
    folder: str,
    branches: Collection[str],
    key: str,
    period: str,
) -> float:
    """The value of ``key`` at ``period`` for the scope ``folder`` made of ``branches``,
    from the report's ``pooled_kpis``; NaN when it has none or does not pool ``key``."""
    pooled_kpis = getattr(module, "pooled_kpis", None)
    if pooled_kpis is None:
        return math.nan
    try:
        frame = pooled_kpis(bench, dict.fromkeys(branches, folder), settings)
    except (OSError, KeyError, ValueError):
        return math.nan
    row = frame[(frame["unit"] == folder) & (frame["period"] == period)]
    return float(row[key].iloc[0]) if len(row) and key in row else math.nan


def _text(value: float, kind: str, locale: str, currency: str) -> str:
    if kind == "money":
        return fmt.money(value, locale, currency)
    return fmt.format_value(value, kind, locale)
