"""What to fix first: each service attribute's rating in the recent window against the
window just before it, weighted by how much the attribute matters.

A twelve-month importance x performance chart averages a sharp recent fall away; here
the recent window (the driver window, three months by default) is compared with the
same number of months before it, each attribute's change is tested (Welch's t-test on
the ratings, the p-values of the six attributes adjusted by Benjamini-Hochberg), and
the attributes are ranked by importance x drop. Importance is the whole bank's ordered
logit coefficient over the same recent window: a branch's three months (about a
hundred responses) estimate importance too loosely to rank attributes by, while how
much an attribute matters to customers is much the same across branches.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..period import shift_month
from .compare import bh_adjust
from .drivers import ATTRIBUTES
from .scores import in_window, stats

CHANGE_COLUMNS = (
    "attribute",
    "n_prior",
    "performance_prior",
    "n",
    "performance",
    "change",
    "p_value",
    "q_value",
    "importance",
    "priority",
    "focus",
)


def _welch(now: pd.Series, before: pd.Series) -> float:
    """Two-sided p of Welch's t-test of two samples of ratings; NaN below 2 ratings a side."""
    if len(now) < 2 or len(before) < 2:
        return math.nan
    if now.var() == 0 and before.var() == 0:
        return 1.0 if now.mean() == before.mean() else 0.0
    return float(stats.ttest_ind(now, before, equal_var=False).pvalue)


def attribute_change(
    responses: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    importance: pd.Series | None = None,
    fdr: float = 0.05,
    max_focus: int = 3,
) -> pd.DataFrame:
    """Each attribute's mean rating (1-5) in the ``window_months`` months ending at
    ``period`` against the ``window_months`` months before them.

    One row per attribute (:data:`ATTRIBUTES` order): ``n_prior`` / ``n`` (ratings given
    in the prior / recent window), ``performance_prior`` / ``performance`` (their mean,
    NaN with none), ``change`` (recent - prior, rating points), ``p_value`` (Welch's
    t-test, two-sided; NaN below 2 ratings in a window), ``q_value`` (Benjamini-Hochberg
    over the attributes tested), ``importance`` (``importance[attribute]``, the bank's
    coefficient; NaN when not given), ``priority`` = importance x drop (both counted
    from 0: a rise or a negative importance gives 0) and ``focus``: True for the at most
    ``max_focus`` attributes with the highest priority among those whose fall is
    significant (q <= ``fdr``), the ones to fix first. For example attitude rated 4.0
    before and 3.0 now with importance 1.5 has priority 1.5.
    """
    recent = in_window(responses, period, window_months)
    prior = in_window(responses, shift_month(period, -window_months), window_months)
    rows = []
    for attr in ATTRIBUTES:
        now = _ratings(recent, attr)
        before = _ratings(prior, attr)
        rows.append(
            {
                "attribute": attr,
                "n_prior": len(before),
                "performance_prior": float(before.mean()) if len(before) else math.nan,
                "n": len(now),
                "performance": float(now.mean()) if len(now) else math.nan,
                "p_value": _welch(now, before),
            }
        )
    out = pd.DataFrame(rows)
    out["change"] = out["performance"] - out["performance_prior"]
    out["q_value"] = bh_adjust(out["p_value"].to_numpy())
    weight = (
        out["attribute"].map(importance).astype(float)
        if importance is not None
        else pd.Series(np.nan, index=out.index)
    )
    out["importance"] = weight
    out["priority"] = weight.clip(lower=0) * (-out["change"]).clip(lower=0)
    falls = (out["change"] < 0) & (out["q_value"] <= fdr) & (out["priority"] > 0)
    top = out[falls].sort_values("priority", ascending=False, kind="mergesort").head(max_focus)
    out["focus"] = out.index.isin(top.index)
    return out[list(CHANGE_COLUMNS)]


def _ratings(frame: pd.DataFrame, attr: str) -> pd.Series:
    if attr not in frame:
        return pd.Series(dtype=float)
    return pd.to_numeric(frame[attr], errors="coerce").dropna().astype(float)


def focus_rows(change: pd.DataFrame) -> pd.DataFrame:
    """The attributes to fix first, highest priority first (empty when none fell significantly)."""
    return change[change["focus"].astype(bool)].sort_values(
        "priority", ascending=False, kind="mergesort"
    )


def bank_importance(bank_drivers: pd.DataFrame) -> pd.Series:
    """``{attribute: coefficient}`` of the bank's driver model (``bench_satisfaction_drivers``);
    empty when the bank's model was not fitted."""
    if bank_drivers.empty or not (bank_drivers["status"] == "fitted").all():
        return pd.Series(dtype=float)
    return bank_drivers.set_index("attribute")["coef"].astype(float)
