"""How well a score ranks and how stable a population is: AUC, Gini, KS and PSI.

AUC is scikit-learn's ``roc_auc_score`` and KS scipy's two-sample statistic; DeLong's
interval (:func:`auc_ci`) has no library and PSI none either, so both are written here.
"""

from __future__ import annotations

import numpy as np

from ..startup import LazyModule

# 0.5 s and 0.2 s to import: not for the runner, which only reads Settings
stats = LazyModule("scipy.stats")
skmetrics = LazyModule("sklearn.metrics")


def _clean(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    keep = ~(np.isnan(y) | np.isnan(s))
    return y[keep].astype(int), s[keep]


def auc(y_true, y_score) -> float:
    """Area under the ROC curve: the probability that a random event row has a higher
    ``y_score`` (e.g. PD) than a random non-event row, ties counting half.

    Rows with a missing value are left out; NaN without both classes.

    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _clean(y_true, y_score)
    if y.all() or not y.any():
        return float("nan")
    return float(skmetrics.roc_auc_score(y, s))


def gini(y_true, y_score) -> float:
    """Gini coefficient (accuracy ratio): ``2 * AUC - 1``; NaN without both classes."""
    return 2 * auc(y_true, y_score) - 1


def ks(y_true, y_score) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the cumulative shares of
    events and of non-events over all cut-offs of ``y_score``, in 0..1.

    Tied scores move together (the gap is measured only between distinct values): the
    two-sample Kolmogorov-Smirnov statistic of the events' scores against the
    non-events'. NaN without both classes.

    >>> ks([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    y, s = _clean(y_true, y_score)
    if y.all() or not y.any():
        return float("nan")
    # the statistic alone: the asymptotic method spares the exact p-value's cost
    return float(stats.ks_2samp(s[y == 1], s[y == 0], method="asymp").statistic)


def psi(expected, actual, *, floor: float = 1e-4) -> float:
    """Population stability index between two distributions over the same bins.

    ``expected`` and ``actual`` are counts or shares per bin (each is normalised to
    sum to 1); ``PSI = sum (a - e) * ln(a / e)`` with shares below ``floor`` raised to
    ``floor`` so an empty bin stays finite. Usual reading: < 0.10 stable, 0.10-0.25
    a shift to watch, >= 0.25 a significant shift. NaN when either side is empty.

    >>> round(psi([50, 50], [40, 60]), 4)
    0.0405
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape:
        raise ValueError(f"expected and actual need the same bins, got {e.shape} and {a.shape}")
    if not len(e) or np.nansum(e) <= 0 or np.nansum(a) <= 0:
        return float("nan")
    e = np.maximum(np.nan_to_num(e) / np.nansum(e), floor)
    a = np.maximum(np.nan_to_num(a) / np.nansum(a), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def auc_ci(y_true, y_score, *, level: float = 0.95) -> dict[str, float]:
    """AUC with DeLong's standard error and a normal confidence interval at ``level``:
    ``auc``, ``se``, ``low``, ``high`` (clipped to 0..1), ``events`` and ``non_events``.

    DeLong, DeLong and Clarke-Pearson (1988): each event row's share of non-event rows
    scored below it (ties half) and each non-event row's share of event rows scored
    above it; the AUC's variance is the sum of their variances over their counts. No
    library gives this interval; its ``auc`` equals :func:`auc` (a test holds them
    together). NaN without two rows of each class.

    >>> r = auc_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(r["auc"], 4), round(r["se"], 4)
    (0.75, 0.3536)
    """
    y, s = _clean(y_true, y_score)
    pos, neg = s[y == 1], s[y == 0]
    m, n = len(pos), len(neg)
    nan = float("nan")
    out = {"auc": nan, "se": nan, "low": nan, "high": nan, "events": m, "non_events": n}
    if m < 2 or n < 2:
        return out
    all_ranks = stats.rankdata(np.concatenate([pos, neg]))
    v01 = (all_ranks[:m] - stats.rankdata(pos)) / n  # per event: non-events below it
    v10 = 1 - (all_ranks[m:] - stats.rankdata(neg)) / m  # per non-event: events above it
    a = float(v01.mean())
    se = float(np.sqrt(v01.var(ddof=1) / m + v10.var(ddof=1) / n))
    z = float(stats.norm.ppf(0.5 + level / 2))
    return {**out, "auc": a, "se": se, "low": max(0.0, a - z * se), "high": min(1.0, a + z * se)}


def binomial_p(k: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value of ``k`` events in ``n`` trials at rate ``p``
    (rows as likely or less likely than ``k`` summed); NaN for ``n == 0``.

    >>> round(binomial_p(10, 10, 0.5), 6)
    0.001953
    """
    if n <= 0 or not 0 <= p <= 1:
        return float("nan")
    return float(stats.binomtest(int(k), int(n), float(p)).pvalue)


def calibration_bands(y_true, y_prob, *, bands: int = 5, level: float = 0.05):
    """Predicted against observed event rate per band of ``y_prob``: the rows sorted by
    ``y_prob`` and cut into ``bands`` bands of (nearly) equal count (fewer with fewer
    rows). One row per band: ``band`` (1 = lowest predictions), ``lower`` and ``upper``
    (its smallest and largest prediction), ``n``, ``events``, ``predicted`` (mean
    ``y_prob``), ``observed`` (events / n), ``p_value`` (:func:`binomial_p` of the events
    against the predicted rate) and ``off`` (p-value below ``level``).

    >>> t = calibration_bands([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9], bands=2)
    >>> t[["n", "events", "predicted", "observed"]].values.tolist()
    [[2.0, 0.0, 0.1, 0.0], [2.0, 2.0, 0.9, 1.0]]
    """
    import pandas as pd

    y, p = _clean(y_true, y_prob)
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, min(bands, len(p))) if len(p) else []
    rows = []
    for i, idx in enumerate(parts, start=1):
        n, k = len(idx), int(y[idx].sum())
        pred = float(p[idx].mean())
        pv = binomial_p(k, n, pred)
        rows.append(
            {
                "band": i,
                "lower": float(p[idx].min()),
                "upper": float(p[idx].max()),
                "n": float(n),
                "events": float(k),
                "predicted": pred,
                "observed": k / n,
                "p_value": pv,
                "off": bool(pv < level),
            }
        )
    cols = ["band", "lower", "upper", "n", "events", "predicted", "observed", "p_value", "off"]
    return pd.DataFrame(rows, columns=cols)


def ranks_better_than_chance(validation: dict) -> bool:
    """A model may be used (name customers, give a retention): its out-of-time figures
    rest on enough events (``sufficient``) and its AUC's 95% interval lies above 0.5
    (``auc_low``)."""
    low = validation.get("auc_low", float("nan"))
    return bool(validation.get("sufficient")) and bool(low > 0.5)
