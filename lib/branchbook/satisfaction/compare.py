"""Every branch against the rest of the bank on CSAT and NPS, the false discovery rate
controlled across branches (computed once per period in :func:`.prepare.prepare`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..period import shift_month
from .scores import SCORE_METRICS, SCORE_SUMS, scores_from_sums, stats


def bh_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), same order as given.

    ``q_(i) = min_{j >= i} m / j * p_(j)`` over the ``m`` p-values that are not NaN,
    capped at 1 (statsmodels' ``multipletests``, ``fdr_bh``); a NaN p-value (test not
    run) stays NaN and does not count in ``m``.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def _window_sums(monthly: pd.DataFrame, period: str, window_months: int) -> pd.DataFrame:
    first = shift_month(period, -(window_months - 1))
    m = monthly[(monthly["month"].astype(str) >= first) & (monthly["month"].astype(str) <= period)]
    return m.groupby(m["branch_id"].astype(str))[list(SCORE_SUMS)].sum()


def branch_tests(
    monthly: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    confidence: float = 0.95,
    min_responses: int = 30,
    fdr: float = 0.05,
) -> pd.DataFrame:
    """Every branch against the rest of the bank on CSAT mean, top-2-box and NPS.

    Window: the ``window_months`` months ending at ``period``. Tests (two-sided):
    Welch's t-test for the 0-100 mean, the pooled two-proportion z-test for
    top-2-box, a z-test on the NPS difference with each side's multinomial variance.
    Branches with fewer than ``min_responses`` responses (or a rest below it) are not
    tested (p NaN). The p-values of each metric across branches are adjusted by
    Benjamini-Hochberg; ``significant`` means q <= ``fdr``.

    One row per branch x metric: ``n``, ``value``, ``ci_low``/``ci_high`` (t, Wilson
    or normal), ``rest_n``, ``rest_value``, ``rest_ci_low``/``rest_ci_high``,
    ``bank_value`` (all branches), ``diff`` (branch - rest), ``p_value``,
    ``q_value``, ``significant`` and ``direction`` (above / below / in_line).
    """
    cols = [
        "branch_id",
        "metric",
        "n",
        "value",
        "ci_low",
        "ci_high",
        "rest_n",
        "rest_value",
        "rest_ci_low",
        "rest_ci_high",
        "bank_value",
        "diff",
        "p_value",
        "q_value",
        "significant",
        "direction",
    ]
    own = _window_sums(monthly, period, window_months)
    if own.empty:
        return pd.DataFrame(columns=cols)
    rest = own.sum() - own
    a = scores_from_sums(own, confidence=confidence)
    b = scores_from_sums(rest, confidence=confidence)
    bank = scores_from_sums(own.sum().to_frame().T, confidence=confidence).iloc[0]
    frames = []
    for metric in SCORE_METRICS:
        n_key = "nps_n" if metric == "nps" else "csat_n"
        n1, n2 = a[n_key].astype(float), b[n_key].astype(float)
        if metric == "csat_mean":
            p = _welch_p(a["csat_mean"], a["csat_sd"], n1, b["csat_mean"], b["csat_sd"], n2)
        elif metric == "csat_top2":
            p = _two_prop_p(a["top2"], n1, b["top2"], n2)
        else:
            p = _nps_p(a, b)
        p = p.where((n1 >= min_responses) & (n2 >= min_responses))
        q = pd.Series(bh_adjust(p.to_numpy()), index=p.index)
        diff = a[metric] - b[metric]
        sig = (q <= fdr).fillna(False)
        frames.append(
            pd.DataFrame(
                {
                    "branch_id": own.index,
                    "metric": metric,
                    "n": n1.astype(int),
                    "value": a[metric],
                    "ci_low": a[f"{metric}_low"],
                    "ci_high": a[f"{metric}_high"],
                    "rest_n": n2.astype(int),
                    "rest_value": b[metric],
                    "rest_ci_low": b[f"{metric}_low"],
                    "rest_ci_high": b[f"{metric}_high"],
                    "bank_value": float(bank[metric]),
                    "diff": diff,
                    "p_value": p,
                    "q_value": q,
                    "significant": sig.astype(bool),
                    "direction": np.where(
                        sig & (diff > 0), "above", np.where(sig & (diff < 0), "below", "in_line")
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[cols]


def _welch_p(m1, s1, n1, m2, s2, n2) -> pd.Series:
    out = []
    for v in zip(m1, s1, n1, m2, s2, n2, strict=True):
        if any(pd.isna(x) for x in v) or v[2] < 2 or v[5] < 2:
            out.append(math.nan)
        elif v[1] == 0 and v[4] == 0:
            out.append(1.0 if v[0] == v[3] else 0.0)
        else:
            out.append(float(stats.ttest_ind_from_stats(*v, equal_var=False).pvalue))
    return pd.Series(out, index=m1.index)


def _two_prop_p(x1, n1, x2, n2) -> pd.Series:
    """Two-sided p of the pooled two-proportion z-test (statsmodels' ``proportions_ztest``)
    per row; 1 or 0 when both shares are 0 or both 1 (no variance), NaN without answers."""
    from statsmodels.stats.proportion import proportions_ztest

    out = []
    for a, m, b, k in zip(x1, n1, x2, n2, strict=True):
        if not (m > 0 and k > 0):
            out.append(math.nan)
        elif a + b in (0, m + k):  # every answer the same on both sides: no variance
            out.append(1.0 if a / m == b / k else 0.0)
        else:
            out.append(float(proportions_ztest([a, b], [m, k])[1]))
    return pd.Series(out, index=x1.index, dtype=float)


def _nps_p(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    def var(s):
        n = s["nps_n"].astype(float)
        pp, pd_ = ratio(s["promoters"].astype(float), n), ratio(s["detractors"].astype(float), n)
        return (pp + pd_ - (pp - pd_) ** 2) / n.where(n > 0) * 100**2

    se = np.sqrt(var(a) + var(b))
    diff = a["nps"] - b["nps"]
    p = pd.Series(2 * stats.norm.sf(np.abs(diff / se.where(se > 0))), index=a.index)
    return p.where(se != 0, np.where(diff == 0, 1.0, 0.0)).where(diff.notna())


def nps_change(
    monthly: pd.DataFrame, *, branch_id: str, period: str, window_months: int
) -> dict[str, float]:
    """The branch's NPS over the ``window_months`` months ending at ``period`` against
    the ``window_months`` months just before them (no month shared, so the two samples
    are independent), with the two-sided p of the z-test on the difference (each
    window's multinomial variance, as in :func:`branch_tests`).

    ``nps`` and ``previous`` in points, ``change`` = nps - previous, ``p_value`` (NaN
    when a window has no answers), ``months`` = ``window_months``.
    """
    own = monthly[monthly["branch_id"].astype(str) == branch_id]
    windows = [
        _window_sums(own, month, window_months).reindex([branch_id], fill_value=0)
        for month in (period, shift_month(period, -window_months))
    ]
    now, before = (scores_from_sums(w.astype(float)) for w in windows)
    return {
        "nps": float(now["nps"].iloc[0]),
        "previous": float(before["nps"].iloc[0]),
        "change": float(now["nps"].iloc[0] - before["nps"].iloc[0]),
        "p_value": float(_nps_p(now, before).iloc[0]),
        "months": window_months,
    }
