"""The summary sentences chosen from the numbers, and the definitions appendix."""

from __future__ import annotations

import pandas as pd

from .metrics import KPIS
from .scoring import psi_band
from .settings import Settings

_KPI = {m.key: m for m in KPIS}


def summary_facts(
    *,
    kpis: dict,
    prev: dict,
    bank: dict,
    warnings: pd.DataFrame,
    breaches: pd.DataFrame,
    validation: dict,
    psi_value: float,
    industries: pd.DataFrame,
    settings: Settings,
    has_scorecard: bool = True,
    trend: pd.DataFrame | None = None,
) -> list[tuple[str, dict]]:
    """3 to 6 facts ``(catalogue key, values)`` for the summary, most important first.

    Always the NPL ratio (rose / fell / level against last period, with the bank median),
    expected loss (or that no scorecard was fitted) and the share of risk customers; in
    between at most three findings, in this order: an NPL rise over the ``trend`` window
    (:func:`npl_trend`) of at least ``npl_trend_alert``, early-warning borrowers, loans
    above the LTV limit, a PSI at or above the watch band, a top-10 share off green, and
    the scorecard's accuracy on the branch (or that defaults are too few to measure it).
    A branch without loans gets two facts: no loans, and its risk customers.
    """

    def f(v):
        return float(v) if v is not None else float("nan")

    k = {n: f(v) for n, v in kpis.items()}
    if not k["top10_share"] == k["top10_share"]:  # no loans at all
        return [
            ("risk.summary.no_loans", {}),
            (
                "risk.summary.compliance",
                {
                    "risk_share": k["risk_customer_share"],
                    "bank_median": f(bank.get("risk_customer_share")),
                },
            ),
        ]
    change = k["npl_ratio"] - f(prev.get("npl_ratio"))
    alert = settings.npl_change_alert
    key = "npl_up" if change >= alert else "npl_down" if change <= -alert else "npl_level"
    first = [
        (
            f"risk.summary.{key}",
            {
                "npl_ratio": k["npl_ratio"],
                "bank_median": f(bank.get("npl_ratio")),
                "change": change,
            },
        )
    ]
    found: list[tuple[str, dict]] = []
    if trend is not None and trend["npl_ratio"].notna().sum() > 1:
        valid = trend["npl_ratio"].notna().to_numpy()
        pos = int(valid.argmax())
        start = float(trend["npl_ratio"].iloc[pos])
        if k["npl_ratio"] - start >= settings.npl_trend_alert:
            found.append(
                (
                    "risk.summary.npl_trend",
                    {"npl_ratio": k["npl_ratio"], "start": start, "months": len(trend) - 1 - pos},
                )
            )
    w = warnings[warnings["n_rules"] > 0]
    if len(w):
        found.append(
            (
                "risk.summary.early_warning",
                {
                    "borrowers": len(w),
                    "exposure": float(w["exposure"].sum()),
                    "share": k["warning_exposure_share"],
                },
            )
        )
    if len(breaches):
        found.append(
            (
                "risk.summary.ltv",
                {
                    "loans": len(breaches),
                    "outstanding": float(breaches["outstanding"].sum()),
                    "limit": settings.ltv_limit,
                },
            )
        )
    if psi_value == psi_value and psi_value >= settings.scorecard.psi_watch:
        band = psi_band(
            psi_value, watch=settings.scorecard.psi_watch, shift=settings.scorecard.psi_shift
        )
        found.append((f"risk.summary.psi_{band}", {"psi": psi_value}))
    if settings.kpi_status["top10_share"].status(k["top10_share"]) != "green" and len(industries):
        found.append(
            (
                "risk.summary.concentration",
                {
                    "top10_share": k["top10_share"],
                    "bank_median": f(bank.get("top10_share")),
                    "industry_share": float(industries["share"].iloc[0]),
                },
            )
        )
    if has_scorecard and validation.get("sufficient"):
        found.append(
            ("risk.summary.discrimination", {"auc": validation["auc"], "ks": validation["ks"]})
        )
    elif has_scorecard:
        found.append(
            (
                "risk.summary.few_defaults",
                {
                    "defaults": int(validation.get("defaults", 0)),
                    "minimum": settings.scorecard.min_defaults,
                },
            )
        )
    last = [
        (
            "risk.summary.expected_loss",
            {"el_rate": k["expected_loss_rate"], "bank_median": f(bank.get("expected_loss_rate"))},
        )
        if has_scorecard
        else ("risk.summary.no_scorecard", {}),
        (
            "risk.summary.compliance",
            {
                "risk_share": k["risk_customer_share"],
                "bank_median": f(bank.get("risk_customer_share")),
            },
        ),
    ]
    return first + found[:3] + last


#: The terms the definitions appendix explains, in reading order; a KPI's definition is
#: the one its declaration names (:attr:`Metric.definition_key`).
TERMS = (
    "outstanding",
    "five_class",
    "npl_ratio",
    "special_mention_ratio",
    "dpd",
    "dpd_bucket",
    "roll_rate",
    "scorecard",
    "woe",
    "iv",
    "score",
    "pd",
    "lgd",
    "ead",
    "expected_loss",
    "expected_loss_rate",
    "psi",
    "auc",
    "ks",
    "gini",
    "early_warning",
    "warning_exposure_share",
    "ltv",
    "ltv_breach",
    "industry_share",
    "hhi",
    "top10_share",
    "compliance",
    "risk_customer_share",
    "alert_age",
    "risk_matrix",
)
DEFINITIONS = {t: _KPI[t].definition_key if t in _KPI else f"risk.definitions.{t}" for t in TERMS}
