"""The churn early warning on the page: the bank's out-of-time figures, what they rest
on, and the action list of valuable customers at risk, by manager."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from .churn_model import REASONS, usable

RANKED_SHARE = 0.2
"""When the probabilities are not shown (their calibration is rejected), the list keeps
the valuable customers among the bank's riskiest fifth by the model's score."""

REASON_LABELS = "satisfaction.values.churn_reason"
"""Catalogue prefix of the reasons' words: ``<prefix>.<feature>.<high|low>``."""


def manager_names(ids: pd.Series, customers: pd.DataFrame, staff: pd.DataFrame | None) -> list[str]:
    """Each customer's manager by name (``staff``), the id where the name is not known,
    empty without a manager."""
    managers = dict(zip(customers["customer_id"], customers["manager_id"], strict=True))
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    out = []
    for c in ids:
        m = managers.get(c)
        out.append(names.get(m, m) if isinstance(m, str) else "")
    return out


def watch_list(
    scores: pd.DataFrame,
    customers: pd.DataFrame,
    staff: pd.DataFrame | None = None,
    *,
    tiers: Sequence[str],
    min_probability: float | None,
    label: Callable[[str, str], str] | None = None,
    sep: str = "; ",
) -> pd.DataFrame:
    """The valuable customers at risk of churning: the rows of ``scores``
    (``satisfaction_churn_risk``) whose ``asset_tier`` at the period's end is in ``tiers``
    and whose ``probability`` is at least ``min_probability``; by manager (the managers
    with the most AUM at risk first, a customer without a manager last), then by
    probability, highest first. With ``min_probability`` None (the probabilities'
    calibration was rejected, so they are not shown): those whose ``score`` (rank among
    the bank's active customers, 0-1) is in the bank's riskiest :data:`RANKED_SHARE`, by
    manager then by score, and ``probability`` NaN.

    Columns: ``customer_id``, ``name`` (unmasked: the page masks it), ``manager_name``,
    ``asset_tier``, ``aum``, ``score``, ``probability`` and ``reasons`` (the codes
    ``reason_1..3`` in words by ``label(REASON_LABELS, code)``, e.g. the page's
    ``tr.label``; the codes without it, joined by ``sep``). Empty when the
    scores have no probability (no model).
    """
    ranked = min_probability is None
    by = "score" if ranked else "probability"
    floor = 1 - RANKED_SHARE if ranked else min_probability
    s = scores[
        scores["asset_tier"].isin(list(tiers))
        & (pd.to_numeric(scores[by], errors="coerce") >= floor)
    ]
    names = dict(zip(customers["customer_id"], customers["name"], strict=True))
    words = [
        sep.join(label(REASON_LABELS, c) if label else c for c in row if isinstance(c, str) and c)
        for row in s[[f"reason_{k + 1}" for k in range(REASONS)]].itertuples(index=False)
    ]
    out = pd.DataFrame(
        {
            "customer_id": s["customer_id"].to_numpy(),
            "name": [names.get(c, "") for c in s["customer_id"]],
            "manager_name": manager_names(s["customer_id"], customers, staff),
            "asset_tier": s["asset_tier"].to_numpy(),
            "aum": s["aum"].to_numpy(float),
            "score": pd.to_numeric(s["score"], errors="coerce").to_numpy(float)
            if "score" in s
            else float("nan"),
            "probability": s["probability"].to_numpy(float) if not ranked else float("nan"),
            "reasons": words,
        }
    )
    at_risk = out.groupby("manager_name")["aum"].transform("sum")
    out = out.assign(_none=out["manager_name"].eq(""), _at_risk=at_risk)
    out = out.sort_values(
        ["_none", "_at_risk", "manager_name", by, "customer_id"],
        ascending=[True, False, True, False, True],
        kind="stable",
    )
    return out.drop(columns=["_none", "_at_risk"]).reset_index(drop=True)


def winback_list(
    lost: pd.DataFrame,
    customers: pd.DataFrame,
    staff: pd.DataFrame | None = None,
    *,
    tiers: Sequence[str],
) -> pd.DataFrame:
    """The lost customers worth a call: the rows of ``lost`` (``satisfaction_lost``)
    whose ``peak_tier`` (the asset tier of their highest AUM in the six months before
    they left) is in ``tiers``; by manager (the most assets lost first, a customer
    without a manager last), then by that AUM, highest first.

    Columns: ``customer_id``, ``name`` (unmasked: the page masks it), ``manager_name``,
    ``churn_month``, ``how`` (``closed``: the relationship was closed; ``drained``: the
    assets stayed below the floor), ``peak_tier`` and ``peak_aum``. Who closed an
    account (the customer or the bank) is not in the data contract, so accounts the bank
    closed itself are not left out (the report says so).
    """
    s = lost[lost["peak_tier"].isin(list(tiers))]
    names = dict(zip(customers["customer_id"], customers["name"], strict=True))
    out = pd.DataFrame(
        {
            "customer_id": s["customer_id"].to_numpy(),
            "name": [names.get(c, "") for c in s["customer_id"]],
            "manager_name": manager_names(s["customer_id"], customers, staff),
            "churn_month": s["churn_month"].astype(str).to_numpy(),
            "how": ["closed" if c else "drained" for c in s["closed"].astype(bool)],
            "peak_tier": s["peak_tier"].to_numpy(),
            "peak_aum": s["peak_aum"].to_numpy(float),
        }
    )
    return _by_manager_order(out, "peak_aum")


def _by_manager_order(out: pd.DataFrame, amount: str) -> pd.DataFrame:
    total = out.groupby("manager_name")[amount].transform("sum")
    out = out.assign(_none=out["manager_name"].eq(""), _total=total)
    out = out.sort_values(
        ["_none", "_total", "manager_name", amount, "customer_id"],
        ascending=[True, False, True, False, True],
        kind="stable",
    )
    return out.drop(columns=["_none", "_total"]).reset_index(drop=True)


def by_manager(watch: pd.DataFrame) -> pd.DataFrame:
    """The list counted per manager: ``manager_name``, ``customers``, ``aum`` (sum) and
    ``expected_lost`` (the sum of probability x AUM: the AUM expected to leave; NaN when
    the probabilities are not shown), in the list's order."""
    if not len(watch):
        return pd.DataFrame(columns=["manager_name", "customers", "aum", "expected_lost"])
    w = watch.assign(expected_lost=watch["probability"] * watch["aum"])
    g = w.groupby("manager_name", sort=False).agg(
        customers=("customer_id", "size"),
        aum=("aum", "sum"),
        expected_lost=("expected_lost", lambda v: v.sum(min_count=len(v))),
    )
    return g.reset_index()


def validation_note(val: dict) -> tuple[str, dict]:
    """The sentence under the model's figures: what they rest on, or why there are none
    (``few_events``: too few churners to fit; ``few_validation``: too few to validate;
    ``not_better``: the AUC's interval reaches 0.5, so no customer is named)."""
    p = "satisfaction.notes.churn_model_"
    if val.get("status") != "fitted":
        return p + "few_events", {
            "events": val.get("dev_events", 0),
            "minimum": val.get("min_events", 0),
        }
    values = {
        "dev_first": val.get("dev_first", ""),
        "dev_last": val.get("dev_last", ""),
        "dev_customers": val.get("dev_customers", 0),
        "dev_events": val.get("dev_events", 0),
        "month": val.get("validation_month", ""),
        "customers": val.get("customers", 0),
        "events": val.get("events", 0),
        "months": val.get("horizon_months", 3),
        "minimum": val.get("min_events", 0),
    }
    if not val.get("sufficient"):
        return p + "few_validation", values
    if not usable(val):
        return p + "not_better", values
    return p + "validated", values


def calibration_note(val: dict) -> tuple[str, dict] | None:
    """The sentence on the probabilities of a usable model: recalibrated and checked by
    band (``calibrated``), or not shown because a band's check rejected them
    (``not_calibrated``: the list ranks by score); None when the model is not usable."""
    if val.get("status") != "fitted" or not usable(val):
        return None
    p = "satisfaction.notes.churn_probabilities_"
    values = {
        "cal_last": val.get("calibration_last", ""),
        "cal_customers": val.get("cal_customers", 0),
        "cal_events": val.get("cal_events", 0),
        "intercept": val.get("calibration_intercept", 0.0),
        "slope": val.get("calibration_slope", 1.0),
        "share": RANKED_SHARE,
        "tolerance": val.get("calibration_tolerance", 0.0),
        "relative": val.get("calibration_tolerance_relative", 0.0),
    }
    return (p + ("calibrated" if val.get("calibrated") else "not_calibrated")), values


def probabilities_shown(val: dict) -> bool:
    """The list may use (and show) the probabilities: the model is usable and its
    recalibrated probabilities passed the validation sample's calibration test."""
    return usable(val) and bool(val.get("calibrated"))


def validation_row(val: dict) -> pd.DataFrame:
    """The out-of-time figures as a one-row table; AUC, its interval and KS are NaN
    (shown as a dash) when too few events were seen."""
    cols = ("customers", "events", "event_rate", "predicted_rate", "auc", "auc_low",
            "auc_high", "ks")  # fmt: skip
    return pd.DataFrame([{c: val.get(c, math.nan) for c in cols}])


def bank_validation(frame: pd.DataFrame | None) -> dict:
    """``bench_satisfaction_churn_validation`` (one row) as a dict; empty without it."""
    if frame is None or len(frame) != 1:
        return {}
    return {k: (v if isinstance(v, str) else float(v)) for k, v in frame.iloc[0].items()}


def model_table(model: pd.DataFrame) -> pd.DataFrame:
    """The model's coefficients for the methods appendix: ``feature``, ``coef`` (per unit
    of the feature), ``sd`` (in the development sample) and ``effect`` (coef x sd: the
    change of the log-odds for one standard deviation), the intercept last."""
    if model is None or not len(model):
        return pd.DataFrame(columns=["feature", "coef", "sd", "effect"])
    return model.assign(effect=model["coef"] * model["sd"])[["feature", "coef", "sd", "effect"]]


__all__ = [
    "RANKED_SHARE",
    "bank_validation",
    "by_manager",
    "calibration_note",
    "manager_names",
    "model_table",
    "probabilities_shown",
    "validation_note",
    "validation_row",
    "watch_list",
    "winback_list",
]
