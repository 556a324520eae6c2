"""What drives overall satisfaction: an ordered logit of CSAT on the attribute ratings,
and the importance x performance quadrants read from it."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from ..startup import LazyModule
from .scores import in_window, z_crit

optimize = LazyModule("scipy.optimize")

ATTRIBUTES = ("wait_time", "attitude", "professionalism", "explanation", "environment", "digital")
QUADRANTS = ("improve", "maintain", "low_priority", "surplus")
# The bank's driver model is fitted on at most this many responses (fixed seed).
DRIVER_SAMPLE_CAP = 50_000


@dataclass(frozen=True)
class Drivers:
    """The driver model's outcome.

    ``status``: ``fitted``; ``too_few`` (fewer than ``min_responses`` responses with a
    CSAT: nothing fitted, say so); ``no_variation`` (one CSAT level only or no rated
    attribute); ``failed`` (the optimiser did not converge). ``table`` always lists
    every attribute with its rating counts and performance; coefficients only when
    fitted.
    """

    status: str
    responses: int
    min_responses: int
    table: pd.DataFrame = field(repr=False)

    @property
    def action(self) -> str | None:
        """The most important attribute in the ``improve`` quadrant, if any."""
        t = self.table[self.table["quadrant"] == "improve"]
        return None if t.empty else str(t.sort_values("coef", ascending=False)["attribute"].iloc[0])

    @property
    def importance_cut(self) -> float:
        """Where the quadrants split on importance: the mean coefficient of the fitted attributes."""
        return _quadrant_cuts(self.table)[0]

    @property
    def performance_cut(self) -> float:
        """Where the quadrants split on performance: the mean rating of the fitted attributes."""
        return _quadrant_cuts(self.table)[1]


def _quadrant_cuts(table: pd.DataFrame) -> tuple[float, float]:
    """Mean importance and mean performance over the fitted attributes; NaN with none fitted."""
    fitted = table["coef"].notna()
    if not fitted.any():
        return math.nan, math.nan
    return float(table.loc[fitted, "coef"].mean()), float(table.loc[fitted, "performance"].mean())


def drivers(
    responses: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    min_responses: int,
    confidence: float = 0.95,
    max_responses: int | None = None,
) -> Drivers:
    """Ordered logit (logit link) of CSAT 1..5 on the six attribute ratings.

    Window: responses of the ``window_months`` months ending at ``period`` that have a
    CSAT. Missing ratings are not dropped: each is replaced by the attribute's mean
    and an indicator "rating missing" enters the model (identical indicators are kept
    once), so every response counts; ``missing`` reports how many were filled. An
    attribute never rated, or rated the same by everyone, is left out (coef NaN).

    Importance = the coefficient: change in the log-odds of a higher CSAT per rating
    point (all attributes share the 1-5 scale). Performance = mean rating (1-5, rated
    responses only). Quadrant against the means over the fitted attributes:
    ``improve`` (importance >= mean, performance < mean: act here), ``maintain``,
    ``low_priority`` (both below), ``surplus`` (importance below, performance above).
    ``max_responses`` fits a fixed-seed random sample of that size (bank-wide use).
    """
    win = in_window(responses, period, window_months)
    y = pd.to_numeric(win["csat"], errors="coerce")
    win = win[y.notna()]
    y = y[y.notna()].astype(int)
    if max_responses is not None and len(win) > max_responses:
        keep = np.sort(np.random.default_rng(0).choice(len(win), max_responses, replace=False))
        win, y = win.iloc[keep], y.iloc[keep]
    n = len(win)
    rows = []
    for attr in ATTRIBUTES:
        x = (
            pd.to_numeric(win[attr], errors="coerce").astype(float)
            if attr in win
            else pd.Series(np.nan, index=win.index)
        )
        rows.append(
            {
                "attribute": attr,
                "rated": int(x.notna().sum()),
                "missing": int(x.isna().sum()),
                "performance": float(x.mean()) if x.notna().any() else math.nan,
                "usable": bool(x.notna().any() and x.nunique() > 1),
            }
        )
    table = pd.DataFrame(rows)
    for c in ("coef", "std_err", "p_value", "ci_low", "ci_high", "odds_ratio"):
        table[c] = math.nan
    table["quadrant"] = None
    if n < min_responses:
        return Drivers("too_few", n, min_responses, table.drop(columns="usable"))
    usable = table.loc[table["usable"], "attribute"].tolist()
    if y.nunique() < 2 or not usable:
        return Drivers("no_variation", n, min_responses, table.drop(columns="usable"))
    X = pd.DataFrame(index=win.index)
    flags: list[pd.Series] = []
    for attr in usable:
        x = pd.to_numeric(win[attr], errors="coerce").astype(float)
        X[attr] = x.fillna(x.mean())
        miss = x.isna().astype(float)
        if 0 < miss.sum() < n and not any(miss.equals(f) for f in flags):
            flags.append(miss)
            X[f"{attr}_missing"] = miss
    fit = _fit_ordered_logit(y, X)
    if fit is None:
        return Drivers("failed", n, min_responses, table.drop(columns="usable"))
    z = z_crit(confidence)
    params, bse, pvalues = fit
    t = table.set_index("attribute")
    t.loc[usable, "coef"] = params[usable].to_numpy()
    t.loc[usable, "std_err"] = bse[usable].to_numpy()
    t.loc[usable, "p_value"] = pvalues[usable].to_numpy()
    t["ci_low"], t["ci_high"] = t["coef"] - z * t["std_err"], t["coef"] + z * t["std_err"]
    t["odds_ratio"] = np.exp(t["coef"])
    fitted = t["coef"].notna()
    imp_cut, perf_cut = _quadrant_cuts(t)
    hi_imp, hi_perf = t["coef"] >= imp_cut, t["performance"] >= perf_cut
    quad = np.select(
        [hi_imp & ~hi_perf, hi_imp & hi_perf, ~hi_imp & ~hi_perf],
        ["improve", "maintain", "low_priority"],
        "surplus",
    )
    t["quadrant"] = pd.Series(quad, index=t.index).where(fitted)
    return Drivers("fitted", n, min_responses, t.drop(columns="usable").reset_index())


def _fit_ordered_logit(y: pd.Series, X: pd.DataFrame):
    """Fit statsmodels' ``OrderedModel`` (logit link); None if it does not converge.

    ``OrderedModel`` differentiates numerically, which is slow on thousands of
    responses, so the optimum is first found with the analytic gradient of the same
    likelihood (same parameters: slopes, first cut-off, log increments of the others)
    and handed to ``OrderedModel`` as its start; it then confirms the optimum and
    gives the standard errors.
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel  # slow import: only when fitting

    endog = pd.Series(pd.Categorical(y, categories=sorted(y.unique()), ordered=True), index=y.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = OrderedModel(endog, X, distr="logit")
            codes = np.asarray(model.endog, dtype=int)
            warm = optimize.minimize(
                _ologit_nll,
                model.start_params,
                args=(np.asarray(X, dtype=float), codes, model.k_levels),
                jac=True,
                method="BFGS",
                options={"maxiter": 1000, "gtol": 1e-8},
            )
            start = warm.x if np.all(np.isfinite(warm.x)) else model.start_params
            res = model.fit(start_params=start, method="bfgs", disp=False, maxiter=2000)
        except (np.linalg.LinAlgError, ValueError):
            return None
    if not res.mle_retvals.get("converged", False) or not np.all(np.isfinite(res.params)):
        return None
    return res.params, res.bse, res.pvalues


def _ologit_nll(theta: np.ndarray, x: np.ndarray, codes: np.ndarray, k_levels: int):
    """Negative log-likelihood of the ordered logit and its gradient (OrderedModel's parameters)."""
    p = x.shape[1]
    beta, c0, logd = theta[:p], theta[p], theta[p + 1 :]
    cuts = np.concatenate(
        ([-np.inf], c0 + np.concatenate(([0.0], np.exp(logd))).cumsum(), [np.inf])
    )
    eta = x @ beta
    fu, fl = expit(cuts[codes + 1] - eta), expit(cuts[codes] - eta)
    prob = np.clip(fu - fl, 1e-300, None)
    du, dl = fu * (1 - fu) / prob, fl * (1 - fl) / prob
    grad_beta = x.T @ (dl - du)
    # d loglike / d cut_j for the inner cut-offs j = 1..k-1
    g_cut = np.bincount(codes + 1, du, k_levels + 1) - np.bincount(codes, dl, k_levels + 1)
    g_cut = g_cut[1:k_levels]
    # cut_j = c0 + sum_{i < j} exp(logd_i): each log increment moves every later cut-off
    g_logd = np.exp(logd) * g_cut[::-1].cumsum()[::-1][1:]
    grad = np.concatenate((grad_beta, [g_cut.sum()], g_logd))
    return -float(np.log(prob).sum()), -grad
