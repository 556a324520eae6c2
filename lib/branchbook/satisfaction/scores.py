"""Survey scores: CSAT on 0-100 and top-2-box, NPS, their intervals, by group.

Scales used throughout:

* CSAT (1..5) is put on 0-100 by the bank's one documented map (the top-level
  ``csat_scale``, :func:`branchbook.metrics.models.csat_100`: the staff KPI report uses it too)
  and shown as the mean of the mapped answers, and as top-2-box: the share of
  responses scoring 4 or 5.
* The default map places each answer where its satisfaction band starts, so the bands
  (satisfied >= 85, neutral 60-85, dissatisfied < 60) read an answer as the customer
  gave it: 4 and 5 are satisfied (85, 100), the neutral 3 is neutral (60), 1 and 2
  are dissatisfied (0, 30; 2 halfway between 1 and 3). The linear ``(score - 1) / 4``
  put the neutral 3 at 50, below 60, and so counted it as dissatisfied.
* NPS is in points from -100 to +100: % promoters (9-10) minus % detractors (0-6).
* Shares are fractions 0..1; a zero denominator gives NaN, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..metrics.models import ASSET_TIERS, CSAT_SCALE, csat_100
from ..period import shift_month
from ..startup import LazyModule

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings

TIERS = ASSET_TIERS
BANDS = ("low", "mid", "high")


SURVEY_CHANNELS = ("counter", "mobile", "phone", "online")
SCORE_METRICS = ("csat_mean", "csat_top2", "nps")


SCORE_COLUMNS = (
    "csat_mean",
    "csat_mean_low",
    "csat_mean_high",
    "csat_sd",
    "csat_top2",
    "csat_top2_low",
    "csat_top2_high",
    "nps",
    "nps_low",
    "nps_high",
)

# Sums kept per branch x month so any window, region or the whole bank can be re-added.
SCORE_SUMS = (
    "responses",
    "csat_n",
    "csat_sum",
    "csat_sumsq",
    "top2",
    "nps_n",
    "promoters",
    "detractors",
)


def z_crit(confidence: float) -> float:
    """The two-sided normal critical value of ``confidence`` (0.95 -> 1.959964)."""
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def satisfaction_band(score100: pd.Series, *, bounds: Sequence[float]) -> pd.Series:
    """Band of a 0-100 CSAT: low < bounds[0] <= mid < bounds[1] <= high; missing -> NaN."""
    out = pd.cut(
        score100.astype(float), [-np.inf, *bounds, np.inf], right=False, labels=list(BANDS)
    )
    return out.astype(object).where(score100.notna())


def wilson_interval(successes: Any, n: Any, *, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval of a proportion (statsmodels' ``proportion_confint``); NaN
    where ``n`` is 0.

    >>> lo, hi = wilson_interval(8, 10)   # 0.490 .. 0.943
    """
    from statsmodels.stats.proportion import proportion_confint

    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    lo, hi = np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def nps_interval(
    promoters: Any, detractors: Any, n: Any, *, confidence: float = 0.95
) -> tuple[Any, Any, Any]:
    """NPS (points) and its normal-approximation interval, clipped to [-100, 100].

    The variance of ``p_promoter - p_detractor`` over one multinomial sample is
    ``(p_P + p_D - (p_P - p_D)^2) / n``. NaN where ``n`` is 0; with every response
    the same kind the interval collapses to the point.
    """
    p_p, p_d, n = (np.asarray(v, dtype=float) for v in (promoters, detractors, n))
    z = z_crit(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(n > 0, p_p / n, np.nan)
        pd_ = np.where(n > 0, p_d / n, np.nan)
        score = (pp - pd_) * 100
        se = np.sqrt(np.maximum(pp + pd_ - (pp - pd_) ** 2, 0) / n) * 100
    lo, hi = np.clip(score - z * se, -100, 100), np.clip(score + z * se, -100, 100)
    if score.ndim == 0:
        return float(score), float(lo), float(hi)
    return score, lo, hi


def score_sums(
    responses: pd.DataFrame, keys: list[str], *, scale: Sequence[float] = CSAT_SCALE
) -> pd.DataFrame:
    """The :data:`SCORE_SUMS` of the responses per ``keys`` (e.g. branch and month)."""
    csat = pd.to_numeric(responses["csat"], errors="coerce").astype(float)
    recommend = pd.to_numeric(responses["nps"], errors="coerce").astype(float)
    c100 = csat_100(csat, scale=scale)
    d = responses[keys].assign(
        responses=1,
        csat_n=csat.notna().astype(int),
        csat_sum=c100.fillna(0.0),
        csat_sumsq=(c100**2).fillna(0.0),
        top2=(csat >= 4).astype(int),
        nps_n=recommend.notna().astype(int),
        promoters=(recommend >= 9).astype(int),
        detractors=(recommend <= 6).astype(int),
    )
    if d.empty:
        return pd.DataFrame(columns=[*keys, *SCORE_SUMS])
    return d.groupby(keys, observed=True, dropna=False)[list(SCORE_SUMS)].sum().reset_index()


def csat_mean(sums: pd.DataFrame) -> pd.Series:
    """Mean CSAT on 0-100 over the responses behind each row of score sums
    (:data:`SCORE_SUMS`): ``csat_sum / csat_n``; NaN with no CSAT answered."""
    return ratio(sums["csat_sum"], sums["csat_n"])


def csat_top2(sums: pd.DataFrame) -> pd.Series:
    """Top-2-box: the share (0-1) of CSAT answers scoring 4 or 5; NaN with none."""
    return ratio(sums["top2"], sums["csat_n"])


def nps(sums: pd.DataFrame) -> pd.Series:
    """Net promoter score in points (-100..100): % promoters (9-10) minus % detractors
    (0-6) of the NPS answers; NaN with none."""
    return (
        ratio(sums["promoters"], sums["nps_n"]) - ratio(sums["detractors"], sums["nps_n"])
    ) * 100


def scores_from_sums(sums: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Add CSAT (mean 0-100 with a t interval, top-2-box with Wilson) and NPS (with interval).

    ``sums`` holds the columns of :data:`SCORE_SUMS`. Each score is NaN where it has
    no responses; the mean's interval needs at least 2.
    """
    n = sums["csat_n"].astype(float)
    mean = csat_mean(sums)
    var = ratio(sums["csat_sumsq"] - n * mean**2, n - 1).clip(lower=0)
    tcrit = pd.Series(stats.t.ppf(1 - (1 - confidence) / 2, (n - 1).where(n > 1)), index=sums.index)
    half = tcrit * np.sqrt(var / n.where(n > 1))
    lo2, hi2 = wilson_interval(sums["top2"], n, confidence=confidence)
    _, nlo, nhi = nps_interval(
        sums["promoters"], sums["detractors"], sums["nps_n"], confidence=confidence
    )
    return sums.assign(
        csat_mean=mean,
        csat_mean_low=(mean - half).clip(lower=0),
        csat_mean_high=(mean + half).clip(upper=100),
        csat_sd=np.sqrt(var),
        csat_top2=csat_top2(sums),
        csat_top2_low=lo2,
        csat_top2_high=hi2,
        nps=nps(sums),
        nps_low=nlo,
        nps_high=nhi,
    )


def in_window(responses: pd.DataFrame, period: str, window_months: int) -> pd.DataFrame:
    """The responses of the ``window_months`` months ending at ``period``."""
    first = shift_month(period, -(window_months - 1))
    month = responses["month"].astype(str)
    return responses[(month >= first) & (month <= period)]


def scores_by(
    responses: pd.DataFrame,
    *,
    by: Literal["channel", "tier"] | None,
    period: str,
    window_months: int,
    confidence: float = 0.95,
    min_responses: int = 0,
    scale: Sequence[float] = CSAT_SCALE,
) -> pd.DataFrame:
    """CSAT and NPS over the window, per survey channel or asset tier, plus ``all``.

    One row per group (every tier is listed, channels as seen, known ones first),
    then ``group == "all"``. Columns: ``group``, the sums of :data:`SCORE_SUMS` and the
    scores of :func:`scores_from_sums`, ``suppressed`` (fewer than ``min_responses``
    responses: scores blanked, counts kept). ``by=None`` gives the ``all`` row only.
    """
    win = in_window(responses, period, window_months)
    total = score_sums(win.assign(group="all"), ["group"], scale=scale)
    if total.empty:
        total = pd.DataFrame([{"group": "all", **dict.fromkeys(SCORE_SUMS, 0)}])
    parts = []
    if by is not None:
        per = score_sums(win.assign(group=win[by].astype(str)), ["group"], scale=scale)
        known = list(TIERS) if by == "tier" else list(SURVEY_CHANNELS)
        seen = sorted(set(per["group"]) - set(known))
        order = (
            known + seen if by == "tier" else [c for c in known if c in set(per["group"])] + seen
        )
        per = per.set_index("group").reindex(order, fill_value=0).reset_index()
        parts.append(per)
    out = pd.concat([*parts, total], ignore_index=True)
    for col in SCORE_SUMS:
        out[col] = out[col].astype(float if col in ("csat_sum", "csat_sumsq") else "int64")
    out = scores_from_sums(out, confidence=confidence)
    small = out["responses"] < min_responses
    out.loc[small, list(SCORE_COLUMNS)] = np.nan
    return out.assign(suppressed=small)
