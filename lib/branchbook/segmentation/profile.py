"""Customer profile (客户画像) by asset tier: age band, gender, occupation, income band.

Over the open **individual** customers (a corporate has no age, gender or occupation).
Each table has one row per asset tier: ``individuals`` (those with the value recorded)
and the share of them in each category (``<dimension>_<category>``). A customer whose
value is not recorded is left out of that table's counts and shares, never counted as
a category of its own. Age is in whole years at the period's last day, from
``customers.birth_date`` (prepare computes it; the birth date itself never reaches an
extract).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import privacy
from ..metrics import ratio
from .settings import ASSET_TIERS
from .tiers import open_customers

AGE_BANDS = ("under_30", "30_44", "45_59", "60_plus")
GENDERS = ("F", "M")
OCCUPATIONS = (
    "official", "professional", "clerk", "service", "worker", "farmer", "business_owner",
    "retired", "student", "other",
)  # fmt: skip
INCOME_BANDS = ("lt_5k", "5k_10k", "10k_20k", "20k_50k", "ge_50k")
#: dimension -> (the customer rows' column, its categories, the table's column prefix)
DIMENSIONS = {
    "age_band": ("age_band", AGE_BANDS, "age"),
    "gender": ("gender", GENDERS, "gender"),
    "occupation": ("occupation", OCCUPATIONS, "occupation"),
    "income_band": ("income_band", INCOME_BANDS, "income"),
}

_PROFILE_SQL = """
SELECT customer_id, gender, occupation, income_band,
       year($period_end) - year(birth_date)
         - CASE WHEN strftime(birth_date, '%m-%d') > strftime($period_end, '%m-%d')
                THEN 1 ELSE 0 END AS age
FROM customers
"""

#: The columns prepare adds to ``segmentation_customers``.
COLUMNS = ("age", "gender", "occupation", "income_band")


def customer_profiles(ctx, period_end) -> pd.DataFrame:
    """``customer_id`` and :data:`COLUMNS` (age in whole years at ``period_end``)."""
    out = ctx.sql(_PROFILE_SQL, period_end=period_end)
    for col in ("customer_id", "gender", "occupation", "income_band"):
        out[col] = out[col].astype("str")
    return out.astype({"age": float})


def age_band(age: pd.Series) -> pd.Series:
    """The band of each age (years): under 30, 30-44, 45-59, 60 and over; NaN stays
    missing.

    >>> age_band(pd.Series([29, 30, 59, 60, None])).tolist()
    ['under_30', '30_44', '45_59', '60_plus', nan]
    """
    bands = pd.cut(age, [-np.inf, 30, 45, 60, np.inf], right=False, labels=list(AGE_BANDS))
    return bands.astype(object).where(age.notna(), np.nan)


def _individuals(rows: pd.DataFrame, dimension: str) -> tuple[pd.DataFrame, str]:
    column, cats, _ = DIMENSIONS[dimension]
    o = open_customers(rows)
    o = o[o["customer_type"] == "individual"]
    values = age_band(o["age"]) if dimension == "age_band" else o[column]
    o = o.assign(value_=values.astype(object).where(values.isin(list(cats))))
    return o[o["value_"].notna()], column


def profile(rows: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """One row per asset tier (every tier, in order): ``individuals`` (open individual
    customers with ``dimension`` recorded) and ``<prefix>_<category>`` the share of them
    in each category of :data:`DIMENSIONS` (NaN for a tier without such customers)."""
    _, cats, prefix = DIMENSIONS[dimension]
    o, _ = _individuals(rows, dimension)
    counts = pd.crosstab(o["asset_tier"], o["value_"]) if len(o) else pd.DataFrame()
    counts = counts.reindex(index=list(ASSET_TIERS), columns=list(cats), fill_value=0)
    n = counts.sum(axis=1)
    out = pd.DataFrame({"individuals": n.astype("int64")}, index=counts.index)
    for c in cats:
        out[f"{prefix}_{c}"] = [
            ratio(float(k), float(t)) for k, t in zip(counts[c], n, strict=True)
        ]
    out.index.name = "asset_tier"
    return out


def profile_total(rows: pd.DataFrame, dimension: str, *, suppress_below: int | None = None) -> dict:
    """The totals row of :func:`profile`: every open individual with the value recorded
    and the share in each category (ratios of counts, not averages of the tiers').
    With ``suppress_below`` every value is :data:`branchbook.privacy.SUPPRESSED` when
    they number fewer than the limit (but some), as :func:`.views.tier_total` does."""
    _, cats, prefix = DIMENSIONS[dimension]
    o, _ = _individuals(rows, dimension)
    out: dict = {"individuals": float(len(o))}
    for c in cats:
        out[f"{prefix}_{c}"] = ratio(float((o["value_"] == c).sum()), float(len(o)))
    if suppress_below is not None and 0 < len(o) < suppress_below:
        out = dict.fromkeys(out, privacy.SUPPRESSED)
    return out


def share_columns(dimension: str) -> tuple[str, ...]:
    """The share columns of ``dimension``'s table, in category order."""
    _, cats, prefix = DIMENSIONS[dimension]
    return tuple(f"{prefix}_{c}" for c in cats)


def with_profiles(customers: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
    """``customers`` with :data:`COLUMNS` joined on ``customer_id``."""
    return customers.merge(profiles, on="customer_id", how="left")
