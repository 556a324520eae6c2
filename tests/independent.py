"""Rules the warehouse checks recompute on their own, written once for all of them
(never the library's code: the checks compare it against these)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd


def asset_tier(aum: pd.Series, tiers) -> pd.Series:
    """The asset tier of each AUM: the highest tier whose lower bound it reaches."""
    a = aum.to_numpy(float)
    names = np.select(
        [a >= tiers.private, a >= tiers.wealth, a >= tiers.affluent],
        ["private", "wealth", "affluent"],
        "mass",
    )
    return pd.Series(names, index=aum.index)


def peer_percentile(values: pd.Series, groups: pd.Series, *, good: str = "high") -> pd.Series:
    """0-100 score of each value among the non-missing values of its group: 100 x (the
    number below + half the number equal, itself included) / their number; 100 minus
    that when a low value is good. A missing value scores NaN."""
    out = pd.Series(np.nan, index=values.index)
    for _, idx in values.groupby(groups).groups.items():
        v = values.loc[idx].astype(float)
        peers = v.dropna().to_numpy()
        for i, x in v.dropna().items():
            score = 100.0 * ((peers < x).sum() + (peers == x).sum() / 2) / len(peers)
            out[i] = 100.0 - score if good == "low" else score
    return out


def peer_zscore(
    values: pd.Series, groups: pd.Series, *, good: str = "high", lower: float, upper: float
) -> pd.Series:
    """0-100 score of each value as 100 x Phi(z) within its group: the group's values
    clipped to its ``lower`` and ``upper`` quantiles (linear interpolation), z against
    their mean and population standard deviation (0 without spread), negated when a low
    value is good. A missing value scores NaN."""
    out = pd.Series(np.nan, index=values.index)
    for _, idx in values.groupby(groups).groups.items():
        v = values.loc[idx].astype(float).dropna()
        if v.empty:
            continue
        lo, hi = np.quantile(v.to_numpy(), [lower, upper])
        w = v.clip(lo, hi)
        sd = float(np.sqrt(((w - w.mean()) ** 2).mean()))
        z = (w - w.mean()) / sd if sd > 0 else w * 0.0
        z = -z if good == "low" else z
        out[v.index] = [50.0 * (1.0 + math.erf(float(x) / math.sqrt(2.0))) for x in z]
    return out


def forced_bands(
    scores: pd.Series, groups: pd.Series, shares: dict[str, float], bands: str = "ABCD"
) -> pd.Series:
    """The band of each score by a forced distribution within its group, ``bands`` best
    first: band b holds the ranks up to n x (the shares of the bands up to b), rounded to
    the nearest whole manager, a half up (the last band: all n); ranked by score, best
    first, tied scores sharing the best rank of their tie (so a tie across a boundary
    goes to the better band). A missing score has no band (None)."""
    out = pd.Series(None, index=scores.index, dtype=object)
    for _, idx in scores.groupby(groups).groups.items():
        s = scores.loc[idx].astype(float).dropna()
        n = len(s)
        cum = Fraction(0)
        ends = []
        for b in bands:
            cum += Fraction(str(shares[b]))
            ends.append(math.floor(cum * n + Fraction(1, 2)))
        ends[-1] = n
        for i, x in s.items():
            rank = 1 + int((s > x).sum())
            out[i] = next(b for b, end in zip(bands, ends, strict=True) if rank <= end)
    return out
