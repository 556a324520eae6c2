"""Rules the warehouse checks recompute on their own, written once for all of them
(never the library's code: the checks compare it against these)."""

from __future__ import annotations

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
