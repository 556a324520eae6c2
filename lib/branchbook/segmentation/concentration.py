"""How concentrated a branch's AUM is: Lorenz curve, top-20% share, Gini coefficient."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .settings import TOP_SHARE
from .tiers import _as_float


def lorenz(amounts: pd.Series, points: int | None = 101) -> pd.DataFrame:
    """Lorenz curve of AUM: cumulative share of customers (poorest first) x of AUM.

    Starts at (0, 0) and ends at (1, 1). Negative amounts count as 0, NaN are left
    out. With more than ``points`` customers the curve is interpolated on ``points``
    evenly spaced customer shares. Empty -> empty frame; zero total -> NaN AUM shares.
    """
    a = np.sort(np.clip(_as_float(amounts), 0, None)[~np.isnan(_as_float(amounts))])
    if len(a) == 0:
        return pd.DataFrame({"customer_share": [], "aum_share": []}, dtype=float)
    total = a.sum()
    cust = np.arange(len(a) + 1) / len(a)
    cum = (
        np.concatenate([[0.0], np.cumsum(a)]) / total if total > 0 else np.full(len(a) + 1, np.nan)
    )
    if points and len(cust) > points and total > 0:
        grid = np.linspace(0.0, 1.0, points)
        cust, cum = grid, np.interp(grid, cust, cum)
    return pd.DataFrame({"customer_share": cust, "aum_share": cum})


def top_share(amounts: pd.Series, top: float = TOP_SHARE) -> float:
    """Share of total AUM held by the top ``top`` of customers (0.2 = top 20%).

    The top ceil(top x n) customers by AUM count (5 customers -> 1, 6 -> 2). Negative
    amounts count as 0, NaN are left out. Empty or zero total -> NaN.
    """
    a = np.sort(np.clip(_as_float(amounts), 0, None)[~np.isnan(_as_float(amounts))])[::-1]
    total = a.sum()
    if len(a) == 0 or total <= 0:
        return math.nan
    k = math.ceil(round(top * len(a), 9))
    return float(a[:k].sum() / total)


def gini(amounts: pd.Series) -> float:
    """Gini coefficient of AUM: 0 = all equal, towards 1 = held by one customer.

    G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n with x sorted ascending, i = 1..n.
    Negative amounts count as 0, NaN are left out. Empty or zero total -> NaN; one
    customer -> 0.
    """
    a = np.sort(np.clip(_as_float(amounts), 0, None)[~np.isnan(_as_float(amounts))])
    n, total = len(a), a.sum()
    if n == 0 or total <= 0:
        return math.nan
    return float(2 * (np.arange(1, n + 1) * a).sum() / (n * total) - (n + 1) / n)
