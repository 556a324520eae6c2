"""The summary sentences chosen from the numbers, and the definitions appendix."""

from __future__ import annotations

import math

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
    mix_psi: float,
    industries: pd.DataFrame,
    settings: Settings,
    has_scorecard: bool = True,
    trend: pd.DataFrame | None = None,
    drift_psi: float = math.nan,
    bank_validation: dict | None = None,
    npl_gap: dict | None = None,
    moves: int = 0,
) -> list[tuple[str, dict]]:
    """3 to 6 facts ``(catalogue key, values)`` for the summary, most important first.

    Always the NPL ratio (rose / fell / level against last period, with the bank median),
    expected loss (or that no scorecard was fitted) and the share of risk customers; in
    between at most three findings, in this order: an NPL rise over the ``trend`` window
    (:func:`npl_trend`) of at least ``npl_trend_alert``, loans more than 90 days past
    due not classed NPL (``npl_gap``, :func:`~.book.npl_dpd_gap`), early-warning borrowers, loans
    above the LTV limit, the branch's scores drifting from the development sample
    (``drift_psi`` at or above the watch band), its score mix differing from the bank's
    (``mix_psi``, a mix comparison, not drift), a top-10 share off green, and the
    scorecard's out-of-time accuracy: the branch's ``validation`` when it has enough
    defaults, else the bank's (``bank_validation``), else that defaults are too few.
    A branch without loans gets two facts: no loans, and its risk customers.

    ``moves``: how many sentences on what drove a headline's change the page adds after
    these (:func:`.bridges.bridge_facts`, at most two): the findings in between give way
    to them, so that the summary stays within six sentences and keeps its first and
    last facts.
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
    if npl_gap and npl_gap.get("gap_loans", 0) > 0:
        found.append(
            (
                "risk.summary.npl_dpd_gap",
                {
                    "loans": int(npl_gap["gap_loans"]),
                    "outstanding": npl_gap["gap_outstanding"],
                    "ratio": npl_gap["dpd90_to_npl"],
                },
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
                },
            )
        )
    sc_s = settings.scorecard
    for name, value in (("drift", drift_psi), ("mix", mix_psi)):
        if has_scorecard and value == value and value >= sc_s.psi_watch:
            band = psi_band(value, watch=sc_s.psi_watch, shift=sc_s.psi_shift)
            found.append((f"risk.summary.{name}_{band}", {"psi": value}))
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
    if has_scorecard:
        found.append(_accuracy(validation, bank_validation or {}, sc_s.min_defaults))
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
    return first + found[: max(0, 3 - min(moves, 2))] + last


def _accuracy(branch: dict, bank: dict, minimum: int) -> tuple[str, dict]:
    """The out-of-time accuracy sentence: the branch's figures, else the bank's with the
    branch's count of defaults, else that the bank's defaults are too few."""
    if branch.get("sufficient"):
        return "risk.summary.discrimination", {
            "auc": branch["auc"],
            "low": branch["auc_low"],
            "high": branch["auc_high"],
            "ks": branch["ks"],
            "loans": int(branch["loans"]),
            "defaults": int(branch["defaults"]),
        }
    if bank.get("sufficient"):
        return "risk.summary.bank_discrimination", {
            "defaults": int(branch.get("defaults", 0)),
            "minimum": minimum,
            "auc": bank["auc"],
            "low": bank["auc_low"],
            "high": bank["auc_high"],
            "loans": int(bank["loans"]),
            "bank_defaults": int(bank["defaults"]),
        }
    return "risk.summary.few_defaults", {
        "defaults": int(bank.get("defaults", branch.get("defaults", 0))),
        "minimum": minimum,
    }


#: The terms the definitions appendix explains, in reading order; a KPI's definition is
#: the one its declaration names (:attr:`Metric.definition_key`).
TERMS = (
    "outstanding",
    "five_class",
    "npl_ratio",
    "special_mention_ratio",
    "dpd",
    "dpd_bucket",
    "npl_dpd_gap",
    "roll_rate",
    "loan_bridge",
    "rate_mix",
    "balance_migration",
    "scorecard",
    "woe",
    "iv",
    "score",
    "pd",
    "lgd",
    "ead",
    "expected_loss",
    "expected_loss_rate",
    "stress_test",
    "stressed_npl_ratio",
    "rwa",
    "loss_distribution",
    "asset_correlation",
    "value_at_risk",
    "unexpected_loss",
    "psi",
    "csi",
    "mix_index",
    "auc",
    "auc_interval",
    "ks",
    "gini",
    "calibration",
    "corrected_pd",
    "early_warning",
    "warning_exposure_share",
    "ltv",
    "ltv_breach",
    "revaluation_overdue",
    "industry_share",
    "hhi",
    "top10_share",
    "compliance",
    "risk_customer_share",
    "point_in_time",
    "alert_age",
    "risk_matrix",
)
DEFINITIONS = {t: _KPI[t].definition_key if t in _KPI else f"risk.definitions.{t}" for t in TERMS}
