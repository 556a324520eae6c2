"""Churn, and whether satisfied customers stay: retention after a survey response by
satisfaction band, with the risk ratio against the most satisfied band."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from ..metrics import ratio
from ..period import shift_month
from .scores import BANDS, CSAT_SCALE, csat_100, satisfaction_band, stats


def churn_rate(monthly: pd.DataFrame) -> pd.Series:
    """Share (0-1) of the customers active at the end of the previous month who churned in
    the month (closed, or AUM below the floor for the set number of months): ``churned /
    at_risk`` of the monthly sums; NaN with nobody at risk."""
    return ratio(monthly["churned"], monthly["at_risk"])


def retention_by_band(
    cohort: pd.DataFrame,
    *,
    horizon_months: int,
    band_bounds: Sequence[float],
    confidence: float = 0.95,
    scale: Sequence[float] = CSAT_SCALE,
) -> pd.DataFrame:
    """Retention ``horizon_months`` after a survey response, by satisfaction band.

    ``cohort``: one row per surveyed customer (``satisfaction_retention_cohort``) with
    ``csat`` (1..5) of their last response and ``months_to_churn`` (months from the
    response month to the first churn, NaN if none). Bands on the 0-100 scale (the
    answer mapped by ``scale``): low < ``band_bounds[0]`` <= mid < ``band_bounds[1]``
    <= high; with the default map, 1-2 low (dissatisfied), 3 mid (neutral), 4-5 high
    (satisfied).

    One row per band: ``customers``, ``churned`` (within the horizon),
    ``retention`` = 1 - churned / customers, ``churn_risk`` = churned / customers,
    ``risk_ratio`` = churn risk / churn risk of the high band (NaN if the high band
    has no churn or no customers), its Katz log interval ``rr_ci_low``/``rr_ci_high``
    (NaN when a churn count is 0), and ``p_value`` of Fisher's exact test against the
    high band.
    """
    band = satisfaction_band(csat_100(cohort["csat"], scale=scale), bounds=band_bounds)
    churned = pd.to_numeric(cohort["months_to_churn"], errors="coerce") <= horizon_months
    d = pd.DataFrame({"band": band, "churned": churned.astype(int)}).dropna(subset=["band"])
    g = (
        d.groupby("band")["churned"]
        .agg(customers="size", churned="sum")
        .reindex(list(BANDS), fill_value=0)
    )
    g = g.astype(int)
    risk = ratio(g["churned"].astype(float), g["customers"].astype(float))
    ref_n, ref_x = int(g.loc["high", "customers"]), int(g.loc["high", "churned"])
    ref_risk = float(risk["high"])
    from statsmodels.stats.contingency_tables import Table2x2

    rr, lo, hi, pv = [], [], [], []
    for b in BANDS:
        n, x = int(g.loc[b, "customers"]), int(g.loc[b, "churned"])
        r = float(risk[b]) / ref_risk if ref_risk > 0 and n > 0 else math.nan
        rr.append(r)
        if x > 0 and ref_x > 0 and n > 0 and b != "high":
            table = Table2x2([[x, n - x], [ref_x, ref_n - ref_x]])
            low, high = table.riskratio_confint(alpha=1 - confidence)  # Katz log method
            lo.append(float(low))
            hi.append(float(high))
        else:
            lo.append(math.nan)
            hi.append(math.nan)
        ok = n > 0 and ref_n > 0 and b != "high"
        pv.append(
            float(stats.fisher_exact([[x, n - x], [ref_x, ref_n - ref_x]]).pvalue)
            if ok
            else math.nan
        )
    return pd.DataFrame(
        {
            "band": list(BANDS),
            "customers": g["customers"].to_numpy(),
            "churned": g["churned"].to_numpy(),
            "retention": 1 - risk.to_numpy(),
            "churn_risk": risk.to_numpy(),
            "risk_ratio": rr,
            "rr_ci_low": lo,
            "rr_ci_high": hi,
            "p_value": pv,
        }
    )


def cohort_months(period: str, *, horizon_months: int, cohort_months: int) -> tuple[str, str]:
    """First and last response month of the retention cohort: the ``cohort_months``
    months ending ``horizon_months`` before ``period``, so everyone has been followed
    for the whole horizon (``'2026-10'``, 6, 12 -> ``('2025-05', '2026-04')``)."""
    last = shift_month(period, -horizon_months)
    return shift_month(last, -(cohort_months - 1)), last


def retention_curve(
    cohort: pd.DataFrame,
    *,
    horizon_months: int,
    band_bounds: Sequence[float],
    scale: Sequence[float] = CSAT_SCALE,
) -> pd.DataFrame:
    """Share of each band's cohort not yet churned, 0..``horizon_months`` months after the response.

    Long frame: ``band``, ``months_after``, ``customers``, ``retained`` (share; NaN for
    an empty band).
    """
    band = satisfaction_band(csat_100(cohort["csat"], scale=scale), bounds=band_bounds)
    m = pd.to_numeric(cohort["months_to_churn"], errors="coerce")
    rows = []
    for b in BANDS:
        mb = m[band == b]
        for k in range(horizon_months + 1):
            rows.append(
                {
                    "band": b,
                    "months_after": k,
                    "customers": len(mb),
                    "retained": ratio(int((~(mb <= k)).sum()), len(mb)),
                }
            )
    return pd.DataFrame(rows)
