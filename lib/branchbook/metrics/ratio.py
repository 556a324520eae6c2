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
        n = pd.Series(num, dtype=float) if not isinstance(num, pd.Series) else num.astype(float)
        d = pd.Series(den, dtype=float) if not isinstance(den, pd.Series) else den.astype(float)
        return n / d.where(d != 0)
    if num is None or den is None:
        return math.nan
    num, den = float(num), float(den)
    if den == 0 or math.isnan(den) or math.isnan(num):
        return math.nan
    return num / den
