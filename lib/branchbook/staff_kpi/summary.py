"""The summary sentences chosen from the numbers, and the definitions appendix."""

from __future__ import annotations

import pandas as pd

from .funnel import FUNNEL_METRICS, funnel_outliers, funnel_points
from .metrics import CARDS, bank_medians, kpis
from .settings import KPIS, RATINGS, REPORT
from .views import _month

_CARD_DEFINITIONS = {m.key: m.definition_key for m in CARDS}


def _names(frame: pd.DataFrame) -> str:
    """Staff names (the id where a name is missing), joined with 、 when all are Chinese."""
    names = frame["staff_name"].astype("string").fillna(frame["staff_id"].astype("string"))
    unique = list(dict.fromkeys(names.tolist()))
    cjk = all(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in unique)
    return ("、" if cjk else ", ").join(unique)


def _manager_fact(row: pd.Series, attainment: pd.DataFrame, month: str) -> dict:
    a = attainment[(attainment["staff_id"] == row["staff_id"]) & (attainment["month"] == month)]
    valid = a.dropna(subset=["ytd_attainment"])
    return {
        "name": _names(row.to_frame().T),
        "composite": float(row["composite"]),
        "rating": row["rating"],
        "met": int(valid["met"].astype("boolean").fillna(False).sum()),
        "targets": len(valid),
    }


def summary_facts(
    scorecard: pd.DataFrame,
    attainment: pd.DataFrame,
    funnel: pd.DataFrame,
    bench: pd.DataFrame,
    *,
    period: str,
    prev_period: str,
    npl_veto_limit: float,
) -> list[tuple[str, dict]]:
    """Up to 6 facts for the summary, most important first, as (catalogue key, values).

    In order: the branch's average composite against the median of branches (or
    ``no_rated`` when nobody could be rated, the only fact then), managers above the
    99.8% funnel limit for NPL ratio or closure rate, managers whose rating the veto
    lowered, the rating counts, the top and the bottom manager (with targets met),
    the share of targets met and its change. Names are the staff names of the branch.
    """
    now = kpis(scorecard, attainment, month=period)
    before = kpis(scorecard, attainment, month=prev_period)
    med = bank_medians(bench, month=period)
    cur = _month(scorecard, period)
    rated = cur[cur["rated"].astype(bool)].sort_values(
        ["composite", "staff_id"], ascending=[False, True]
    )
    if rated.empty:
        return [("staff_kpi.summary.no_rated", {"n_managers": len(cur)})]
    facts: list[tuple[str, dict]] = [
        (
            "staff_kpi.summary.composite",
            {
                "composite": now["composite_mean"],
                "bank_median": med["composite_mean"],
                "n_rated": len(rated),
            },
        )
    ]
    points = funnel[funnel["month"] == period]
    for metric in FUNNEL_METRICS:
        out = funnel_outliers(funnel_points(points, metric=metric))
        if len(out):
            facts.append(
                (f"staff_kpi.summary.funnel_{metric}", {"n": len(out), "names": _names(out)})
            )
    vetoed = rated[rated["veto"].astype(bool)]
    if len(vetoed):
        facts.append(
            (
                "staff_kpi.summary.veto",
                {"n": len(vetoed), "names": _names(vetoed), "limit": npl_veto_limit},
            )
        )
    counts = rated["rating"].value_counts()
    facts.append(
        (
            "staff_kpi.summary.ratings",
            {"n_rated": len(rated), **{f"n_{b.lower()}": int(counts.get(b, 0)) for b in RATINGS}},
        )
    )
    facts.append(
        ("staff_kpi.summary.top_manager", _manager_fact(rated.iloc[0], attainment, period))
    )
    if len(rated) > 1:
        facts.append(
            ("staff_kpi.summary.bottom_manager", _manager_fact(rated.iloc[-1], attainment, period))
        )
    if now["targets_met_share"] == now["targets_met_share"]:
        change = now["targets_met_share"] - before["targets_met_share"]
        facts.append(
            (
                "staff_kpi.summary.targets_met",
                {
                    "share": now["targets_met_share"],
                    "change": change,
                    "bank_median": med["targets_met_share"],
                },
            )
        )
    return facts[:6]


#: Metric -> catalogue key of its definition (every metric the report shows); the cards'
#: keys are their declarations' (:data:`.metrics.CARDS`).
DEFINITIONS: dict[str, str] = {
    k: _CARD_DEFINITIONS.get(k, f"{REPORT}.definitions.{k}")
    for k in (
        *KPIS,
        *"n_customers new_npl managed_aum_growth managed_npl_ratio managed_csat".split(),
        *"managed_closure_rate attainment monthly_attainment targets_met_share".split(),
        *"score dimension_score bridge npl_bridge".split(),
        *"composite composite_mean rank_in_branch bank_percentile rating veto funnel".split(),
        *"bonus_coefficient grade_median composite_start gap_to_grade rated".split(),
        *"training_hours experience_years certification indicative_pay".split(),
    )
}
