"""One rule for ratios, shared by every report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def ratio(num, den):
    """``num / den``, NaN where ``den`` is 0, negative-free-of-meaning or missing.

    Works on scalars (returns a float) and on Series/arrays (element-wise). A zero
    denominator never yields 0 or infinity: "no data" stays NaN, which the page shows
    as "not recorded".

    >>> ratio(1, 4), math.isnan(ratio(1, 0))
    (0.25, True)
    """
    if isinstance(num, pd.Series | np.ndarray) or isinstance(den, pd.Series | np.ndarray):
        index = num.index if isinstance(num, pd.Series) else getattr(den, "index", None)
        n = np.asarray(num, dtype=float)
        d = np.asarray(den, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(d != 0, n / np.where(d != 0, d, 1.0), np.nan)
        return pd.Series(out, index=index) if index is not None else pd.Series(out)
    if num is None or den is None:
        return math.nan
    num, den = float(num), float(den)
    if den == 0 or math.isnan(den) or math.isnan(num):
        return math.nan
    return num / den
