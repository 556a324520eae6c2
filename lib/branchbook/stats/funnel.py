"""Funnel plots: units' rates against their size, with exact control limits around a
level, so that a small unit is not judged on chance.

Limits are exact (Spiegelhalter, *Funnel plots for comparing institutional
performance*, Stat Med 2005): the number of events in a unit of size ``n`` is binomial
(Poisson for counts against an exposure) around the level ``p0``, and each limit is
interpolated between whole counts so that it is a smooth line. A rate lies beyond a
limit exactly when its exact one-sided tail probability is below the limit's tail
(0.025 for the 95% limits, 0.001 for the 99.8% ones). When units vary more than
chance allows (the overdispersion test), the limits are widened by the estimated
dispersion, multiplicatively or by an additive random effect.

The staff KPI report sets managers on it (:mod:`branchbook.staff_kpi.funnel`), the
head-office league tables branches and regions (:mod:`branchbook.metrics.league`).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from ..startup import LazyModule

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings
special = LazyModule("scipy.special")

#: Funnel control limits: name -> probability in each tail outside the limit (two-sided
#: 95% and 99.8%, Spiegelhalter's levels).
FUNNEL_TAILS = {"95": 0.025, "998": 0.001}

Family = Literal["binomial", "poisson"]
Dispersion = Literal["additive", "multiplicative", "none"]


def _cdf(k: np.ndarray, n: float, p0: float, family: Family) -> np.ndarray:
    """P(R <= k) for whole ``k`` (0 below 0): R ~ Binomial(n, p0), extended to a
    non-whole ``n`` by the incomplete beta function, or R ~ Poisson(n p0)."""
    k = np.asarray(k, dtype="float64")
    if family == "poisson":
        return np.where(k < 0, 0.0, stats.poisson.cdf(k, n * p0))
    out = np.where(k < 0, 0.0, 1.0)
    inside = (k >= 0) & (k < n)
    out[inside] = special.betainc(n - k[inside], k[inside] + 1.0, 1.0 - p0)
    return out


def _count_limits(n: float, p0: float, tail: float, family: Family) -> tuple[float, float]:
    """The lower and upper limits, as counts, of a book of ``n`` at ``tail``.

    Upper: r* is the smallest count whose exact upper tail P(R >= r*) is below ``tail``;
    the limit lies between r* - 1 and r*, where the upper tail interpolated linearly
    between whole counts equals ``tail``. Lower: r_ is the largest count with
    P(R <= r_) below ``tail``, the limit between r_ and r_ + 1, likewise. So a whole
    count is beyond a limit exactly when the exact test puts it there. (Interpolating
    P(R <= r) for the upper limit too would put it one count lower, beyond which 3
    NPLs of 20 loans at p0 = 0.02 would lie although P(R >= 3) = 0.0071 > 0.001.)
    """
    if family == "binomial":
        top = math.ceil(n) + 1
    else:
        top = int(stats.poisson.isf(1e-12, n * p0)) + 2 if p0 > 0 else 2
    k = np.arange(-2, top + 1)
    cdf = _cdf(k, n, p0, family)
    pmf = np.diff(cdf, prepend=0.0)  # pmf[i] = P(R = k[i])
    upper = 1.0 - np.concatenate([[0.0], cdf[:-1]])  # P(R >= k[i])
    i = int(np.argmax((k >= 0) & (upper < tail)))
    hi = k[i] - (tail - upper[i]) / pmf[i - 1]
    j = int(np.nonzero(cdf < tail)[0].max())
    lo = k[j] + (tail - cdf[j]) / pmf[j + 1]
    return max(lo, 0.0), hi


def funnel_limits(
    p0: float,
    n,
    *,
    family: Family = "binomial",
    phi: float = 1.0,
    tau2: float = 0.0,
) -> pd.DataFrame:
    """Exact funnel limits (as rates) around the bank rate ``p0`` for book sizes ``n``.

    Each limit is the exact binomial (or Poisson) limit of :func:`_count_limits` over
    ``n``; widened, when ``phi`` > 1 or ``tau2`` > 0, to p0 + f x (limit - p0) with
    f = sqrt(phi) (multiplicative overdispersion) or f = sqrt(1 + tau2 / s2) with
    s2 = p0 (1 - p0) / n (p0 / n for Poisson; additive random effect). Rates are kept
    within [0, 1] for a binomial. Returns ``n, lo95, hi95, lo998, hi998``; NaN where
    n <= 0 or ``p0`` is missing.
    Example: n = 20, p0 = 0.02: P(R >= 3) = 0.0071, so 3 of 20 (15%) is above the 95%
    limit (13.3%) and within the 99.8% one (19.7%).
    """
    n = np.asarray(n, dtype="float64").reshape(-1)
    out = {"n": n}
    ok = (n > 0) & np.isfinite(n) & (0 <= p0 <= (1 if family == "binomial" else math.inf))
    var = p0 * (1.0 - p0) if family == "binomial" else p0
    for name, tail in FUNNEL_TAILS.items():
        lo = np.full(n.shape, np.nan)
        hi = np.full(n.shape, np.nan)
        for i in np.nonzero(ok)[0]:
            c_lo, c_hi = _count_limits(n[i], p0, tail, family)
            f = math.sqrt(phi) * (math.sqrt(1.0 + tau2 * n[i] / var) if tau2 > 0 else 1.0)
            lo[i] = p0 + f * (c_lo / n[i] - p0)
            hi[i] = p0 + f * (c_hi / n[i] - p0)
        out[f"lo{name}"] = np.clip(lo, 0.0, 1.0 if family == "binomial" else None)
        out[f"hi{name}"] = np.clip(hi, 0.0, 1.0 if family == "binomial" else None)
    return pd.DataFrame(out)


def overdispersion(
    rate: pd.Series, n: pd.Series, p0: float, *, family: Family = "binomial", winsor: float = 0.1
) -> dict[str, float]:
    """Spiegelhalter's overdispersion test of the rates around ``p0``.

    z_i = (rate_i - p0) / s_i with s_i^2 = p0 (1 - p0) / n_i (p0 / n_i for Poisson),
    winsorised at the ``winsor`` and 1 - ``winsor`` quantiles; phi = mean z^2. Under no
    overdispersion I x phi is chi-squared on I - 1 degrees of freedom (I units):
    ``p_value`` is its upper tail. ``tau2`` is the additive random-effect variance
    (I phi - (I - 1)) / (sum w - sum w^2 / sum w), w = 1 / s^2, at least 0. Returns
    ``units, phi, p_value, tau2``; NaN phi and p-value with fewer than 2 units or a
    bank rate of 0 (or 1 for a binomial). Example: rates 0.12, 0.16, 0.20, 0.24, 0.28
    on n = 100 around 0.2: z = -2 .. 2, winsorised to -1.6 .. 1.6, phi = 7.12 / 5 =
    1.424, p = P(chi2_4 > 7.12) = 0.130.
    """
    ok = rate.notna() & n.notna() & (n > 0)
    r, m = rate[ok].astype("float64"), n[ok].astype("float64")
    units = int(ok.sum())
    if units < 2 or not p0 == p0 or p0 <= 0 or (family == "binomial" and p0 >= 1):
        return {"units": units, "phi": math.nan, "p_value": math.nan, "tau2": 0.0}
    s2 = (p0 * (1.0 - p0) if family == "binomial" else p0) / m
    z = (r - p0) / np.sqrt(s2)
    z = z.clip(z.quantile(winsor), z.quantile(1.0 - winsor))
    phi = float((z**2).mean())
    w = 1.0 / s2
    tau2 = (units * phi - (units - 1)) / float(w.sum() - (w**2).sum() / w.sum())
    p_value = float(stats.chi2.sf(units * phi, units - 1))
    return {"units": units, "phi": phi, "p_value": p_value, "tau2": max(tau2, 0.0)}


def widening(test: dict[str, float], *, method: Dispersion, alpha: float) -> dict[str, float]:
    """The ``phi`` and ``tau2`` to widen the limits by: the test's estimate under
    ``method`` when its p-value is below ``alpha`` and phi > 1, else none (1 and 0)."""
    significant = test["p_value"] < alpha and test["phi"] > 1.0
    if method == "none" or not significant:
        return {"phi": 1.0, "tau2": 0.0}
    if method == "multiplicative":
        return {"phi": float(test["phi"]), "tau2": 0.0}
    return {"phi": 1.0, "tau2": float(test["tau2"])}


def funnel_curve(
    p0: float, n_max: float, points: int = 60, *, n_min: float = 1.0, **spread
) -> pd.DataFrame:
    """:func:`funnel_limits` on a log grid of book sizes from ``n_min`` (at least 1) to
    ``n_max`` (for drawing); ``spread`` (``family``, ``phi``, ``tau2``) as there."""
    lo = max(float(n_min), 1.0)
    grid = np.unique(np.geomspace(lo, max(float(n_max), 2.0 * lo), points))
    return funnel_limits(p0, grid, **spread)


def funnel_band(points: pd.DataFrame, p0: float, *, margin: float = 0.2, **spread) -> pd.DataFrame:
    """The funnel limits to draw behind ``points`` (:func:`funnel_points`): from
    ``1 - margin`` times the smallest book to ``1 + margin`` times the largest, so the
    chart is not stretched by the very wide limits of a book of one. Empty without
    points. ``spread`` (``phi``, ``tau2``: :func:`funnel_spread`) widens them as the
    points' limits were.
    """
    n = points["n"].astype("float64").dropna()
    n = n[n > 0]
    if n.empty or p0 != p0:
        return funnel_limits(p0, [])
    return funnel_curve(p0, n.max() * (1 + margin), n_min=n.min() * (1 - margin), **spread)


def funnel_position(rate: pd.Series, n: pd.Series, p0: float, **spread) -> pd.Series:
    """Where each point lies: ``above_998``, ``above_95``, ``within``, ``below_95``, ``below_998``.

    Against the exact limits (widened by ``spread`` if given): beyond a limit exactly
    when the exact test puts the point there. A point exactly on a limit is within it;
    a point without a rate or size is NA.
    """
    lim = funnel_limits(p0, n, **spread).set_index(rate.index)
    r = rate.astype("float64")
    pos = pd.Series("within", index=r.index, dtype="string")
    pos = pos.mask(r > lim["hi95"], "above_95").mask(r > lim["hi998"], "above_998")
    pos = pos.mask(r < lim["lo95"], "below_95").mask(r < lim["lo998"], "below_998")
    return pos.where(r.notna() & lim["hi95"].notna())


def effective_loans(outstanding: pd.Series, outstanding_sq: pd.Series) -> pd.Series:
    """Effective number of loans (sum x)^2 / sum x^2 of a book (0 for an empty book).

    The NPL ratio is balance-weighted, so its sampling variance is
    p(1 - p) x sum x^2 / (sum x)^2: this n makes the funnel's binomial limits exact
    for it, and equals the number of loans when all balances are equal.
    """
    sq = outstanding_sq.astype("float64")
    return (outstanding.astype("float64") ** 2 / sq.where(sq > 0)).fillna(0.0)
