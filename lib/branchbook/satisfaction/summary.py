"""The summary sentences chosen from the numbers, and the definitions appendix."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .drivers import Drivers
from .focus import focus_rows
from .metrics import METRICS
from .settings import REPORT

ALPHA = 0.05
"""The (adjusted) p below which a difference is stated as a finding in the summary."""


def summary_facts(
    *,
    kpi_rows: pd.DataFrame,
    tests: pd.DataFrame,
    drivers_result: Drivers,
    sla: pd.DataFrame,
    backlog: pd.DataFrame,
    retention: pd.DataFrame,
    window_responses: int,
    change_alert_points: float,
    nps_change: Mapping[str, float] | None = None,
    attribute_changes: pd.DataFrame | None = None,
    change_months: int = 3,
    attribute_labels: Mapping[str, str] | None = None,
    churn_watch: pd.DataFrame | None = None,
    churn_months: int = 3,
    winback: pd.DataFrame | None = None,
    winback_months: int = 3,
) -> list[tuple[str, dict]]:
    """Three to six facts for the summary, most important first.

    ``kpi_rows`` from :func:`kpi_table`, ``tests`` from :func:`branch_vs_bank`, ``sla``
    from :func:`sla_compliance`, ``backlog`` from :func:`open_backlog`, ``retention``
    (the bank's) from :func:`retention_by_band`, ``window_responses`` the responses
    behind the scores (``window_responses`` of :func:`trend` at the period; NaN or 0
    gives ``no_surveys``). Always: the scores (or ``no_surveys``) and the complaints
    (or ``no_complaints``); when they apply: the most significant difference from the
    bank (or ``vs_bank.in_line``), an NPS change of at least ``change_alert_points``
    against the previous window (``nps_change`` from :func:`.compare.nps_change`; a
    finding only when its test is significant, else said to be not significant),
    what to fix first: the attributes whose rating fell significantly against the
    previous ``change_months`` months, weighted by importance (``attribute_changes`` from
    :func:`.focus.attribute_change`, names from ``attribute_labels``), else the attribute
    to improve first (or ``drivers_too_few``); the open backlog, and whether the bank's
    data show satisfied customers staying longer. With ``churn_watch`` (the early
    warning's list, :func:`.churn_lists.watch_list`; None when the model is not
    validated), how many valuable customers it names and their AUM, after the complaints
    (a list to work through on Monday comes before the drivers); then, with ``winback``
    (:func:`.churn_lists.winback_list`), how many valuable customers were lost lately.
    """
    k = kpi_rows.set_index("kpi")
    facts: list[tuple[str, dict]] = []
    p = "satisfaction.summary."
    if not window_responses > 0:  # none, or NaN: no window to score
        facts.append((p + "no_surveys", {}))
    else:
        facts.append(
            (
                p + "scores",
                {
                    "csat_mean": k.at["csat_mean", "value"],
                    "csat_top2": k.at["csat_top2", "value"],
                    "nps": k.at["nps", "value"],
                    "responses": window_responses,
                    "bank_nps": k.at["nps", "bank_median"],
                },
            )
        )
        sig = tests[tests["significant"].astype(bool)] if len(tests) else tests
        if len(sig):
            top = sig.sort_values("q_value").iloc[0]
            facts.append(
                (
                    f"{p}vs_bank.{top['metric']}_{top['direction']}",
                    {
                        "value": top["value"],
                        "bank": top["rest_value"],
                        "q_value": top["q_value"],
                        "p": p_text(top["q_value"]),
                    },
                )
            )
        elif len(tests) and tests["p_value"].notna().any():
            facts.append(
                (
                    p + "vs_bank.in_line",
                    {"nps": k.at["nps", "value"], "bank_nps": k.at["nps", "bank_median"]},
                )
            )
        change = nps_change["change"] if nps_change is not None else math.nan
        if not math.isnan(change) and abs(change) >= change_alert_points:
            found = nps_change["p_value"] < ALPHA  # NaN (no test) is never a finding
            key = ("nps_up" if change > 0 else "nps_down") if found else "nps_change_not_shown"
            facts.append(
                (
                    p + key,
                    {
                        "nps": nps_change["nps"],
                        "previous": nps_change["previous"],
                        "change": abs(change),
                        "months": nps_change["months"],
                        "p": p_text(nps_change["p_value"]),
                    },
                )
            )
    fr = sla.set_index("sla")
    received = int(fr.at["first_response", "received"]) if len(fr) else 0
    if received == 0:
        facts.append((p + "no_complaints", {}))
    else:
        facts.append(
            (
                p + "complaints",
                {
                    "complaints": received,
                    "per_1000": k.at["complaints_per_1000", "value"],
                    "sla_first_response": fr.at["first_response", "compliance"],
                    "sla_plan": fr.at["plan", "compliance"],
                },
            )
        )
    if churn_watch is not None and len(churn_watch):
        # without calibrated probabilities the list is ranked by score: no "within N months"
        ranked = "probability" in churn_watch and churn_watch["probability"].isna().all()
        facts.append(
            (
                p + ("churn_watch_ranked" if ranked else "churn_watch"),
                {
                    "customers": len(churn_watch),
                    "aum": float(churn_watch["aum"].sum()),
                    "managers": int(churn_watch["manager_name"].nunique()),
                    "months": churn_months,
                },
            )
        )
    if winback is not None and len(winback):
        facts.append(
            (
                p + "winback",
                {
                    "customers": len(winback),
                    "aum": float(winback["peak_aum"].sum()),
                    "months": winback_months,
                },
            )
        )
    first = focus_rows(attribute_changes) if attribute_changes is not None else pd.DataFrame()
    if len(first):
        values: dict[str, Any] = {"months": change_months}
        for i, row in enumerate(first.itertuples(), start=1):
            values[f"a{i}"] = (attribute_labels or {}).get(row.attribute, row.attribute)
            values[f"a{i}_prior"] = row.performance_prior
            values[f"a{i}_now"] = row.performance
            values[f"a{i}_p"] = p_text(row.q_value)
        facts.append((f"{p}driver_focus.n{len(first)}", values))
    elif drivers_result.action is not None:
        row = drivers_result.table.set_index("attribute").loc[drivers_result.action]
        facts.append(
            (
                f"{p}driver_action.{drivers_result.action}",
                {"importance": row["coef"], "performance": row["performance"]},
            )
        )
    elif attribute_changes is not None and attribute_changes["q_value"].notna().any():
        facts.append((p + "driver_no_fall", {"months": change_months}))
    elif drivers_result.status == "too_few":
        facts.append(
            (
                p + "drivers_too_few",
                {"responses": drivers_result.responses, "minimum": drivers_result.min_responses},
            )
        )
    if len(backlog):
        facts.append(
            (
                p + "backlog",
                {
                    "open": len(backlog),
                    "oldest_days": int(backlog["age_days"].max()),
                    "over_30": int((backlog["age_days"] > 30).sum()),
                },
            )
        )
    retained = _retention_fact(retention)
    if retained is not None:
        facts.append((p + retained[0], retained[1]))
    return [(key, {n: _plain(v) for n, v in vals.items()}) for key, vals in facts[:6]]


def _retention_fact(retention: pd.DataFrame) -> tuple[str, dict] | None:
    """Do the bank's satisfied customers stay longer? The dissatisfied and the neutral band
    are each compared with the satisfied by Fisher's exact test, the p-values
    Bonferroni-adjusted for the two comparisons; a difference is a finding only when its
    adjusted p is below :data:`ALPHA`, the dissatisfied band first. None when
    the satisfied band or both others are empty."""
    r = retention.set_index("band")
    if not len(r) or r.at["high", "customers"] == 0:
        return None
    tested = []
    for band in ("low", "mid"):
        if r.at[band, "customers"] > 0:
            pv = float(r.at[band, "p_value"])
            adjusted = min(1.0, 2 * pv) if math.isfinite(pv) else math.nan
            tested.append((band, float(r.at[band, "risk_ratio"]), adjusted))
    if not tested:
        return None
    found = [t for t in tested if t[2] < ALPHA]  # NaN is never below
    higher = [t for t in found if t[1] > 1]
    lower = [t for t in found if t[1] < 1]
    band, rr, pv = (higher or lower or tested)[0]
    key = "retention_holds" if higher else "retention_reversed" if lower else "retention_not_shown"
    values = {
        "band_retention": r.at[band, "retention"],
        "high_retention": r.at["high", "retention"],
        "risk_ratio": rr,
        "p": p_text(pv),
    }
    return f"{key}.{band}", values


def p_text(p: float) -> str:
    """A p-value as a reader sees it: ``p < 0.001``, ``p = 0.012``; ``p n/a`` for a test not run."""
    if p is None or not math.isfinite(float(p)):
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {float(p):.3f}"


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


_APPENDIX = (
    "csat_mean",
    "csat_top2",
    "nps",
    "score_interval",
    "branch_vs_bank",
    "driver_importance",
    "driver_performance",
    "driver_quadrant",
    "driver_change",
    "driver_priority",
    "complaints_per_1000",
    "complaints_by_tier",
    "sla_first_response",
    "sla_plan",
    "resolution_median",
    "resolution_p90",
    "resolved_within",
    "backlog_age",
    "repeat_complainants",
    "followup_coverage",
    "churn_rate",
    "churn_probability",
    "churn_validation",
    "churn_reasons",
    "churn_watch",
    "winback",
    "retention",
    "risk_ratio",
    "bridge_ratios",
    "asset_tier",
    "satisfaction_band",
)
"""The definitions appendix, in reading order: the declared KPIs among the other terms."""

_DECLARED = {m.key: m for m in METRICS}
DEFINITIONS: dict[str, str] = {
    k: _DECLARED[k].definition_key if k in _DECLARED else f"{REPORT}.definitions.{k}"
    for k in _APPENDIX
}
"""``{term: catalogue key of its definition}``; a KPI's key is its declaration's."""
