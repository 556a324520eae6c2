"""Building blocks several reports share, defined once: a customer's AUM and asset
tier, a survey answer on the one 0-100 CSAT scale, when a customer counts as closed,
and which loans are non-performing.

Each comes as the pandas function and, where a report computes it in SQL, the SQL
fragment of the same rule, so a figure that two reports print is the same number.
The thresholds are the top-level keys ``asset_tiers`` and ``csat_scale`` of
``params/bank.yaml`` (:data:`branchbook.params.SHARED_KEYS`); which balance a customer's
AUM is read from (month-average daily, 日均, or month end, 时点) is its
``balance_basis`` (:mod:`.basis` says which one a warehouse allows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..params import DEFAULT_CSAT_SCALE, AssetTiers

#: The loan five-class categories (五级分类), best first.
FIVE_CLASSES = ("pass", "special_mention", "substandard", "doubtful", "loss")
#: The five-class categories that make a loan non-performing (NPL, 不良贷款).
NPL_CLASSES = ("substandard", "doubtful", "loss")
#: The asset tiers, lowest first.
ASSET_TIERS = ("mass", "affluent", "wealth", "private")
#: The 0-100 value of the CSAT answers 1, 2, 3, 4 and 5 by default: each answer where its
#: satisfaction band starts (dissatisfied < 60 <= neutral < 85 <= satisfied), so a neutral
#: 3 is neutral (60), 4 and 5 satisfied, 1 and 2 dissatisfied (2 halfway between 1 and 3).
CSAT_SCALE: tuple[float, ...] = tuple(DEFAULT_CSAT_SCALE)


def asset_tier(aum: pd.Series, tiers: AssetTiers) -> pd.Series:
    """Asset tier of each AUM (CNY, deposits + wealth): mass / affluent / wealth /
    private; a missing AUM stays missing (a caller that knows the customer was open
    without a balance passes 0, which is mass).

    Lower bounds are inclusive: with the defaults 49,999.99 is mass and 50,000 affluent.

    >>> asset_tier(pd.Series([0, 50_000, 499_999.99, 6e6]), AssetTiers()).tolist()
    ['mass', 'affluent', 'affluent', 'private']
    """
    a = pd.to_numeric(aum, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    codes = np.searchsorted([tiers.affluent, tiers.wealth, tiers.private], a, side="right")
    out = np.array(ASSET_TIERS, dtype=object)[np.clip(codes, 0, len(ASSET_TIERS) - 1)]
    out[np.isnan(a)] = None
    return pd.Series(out, index=aum.index, dtype="str")


def asset_tier_sql(aum: str, tiers: AssetTiers) -> str:
    """SQL of :func:`asset_tier` for the AUM expression ``aum`` (NULL stays NULL), the
    thresholds written in as numbers: the same rule where a report groups by tier in SQL.

    >>> asset_tier_sql("x", AssetTiers()).split(" ELSE ")[0][-40:]
    "WHEN x >= 50000.0 THEN 'affluent'"
    """
    bounds = (("private", tiers.private), ("wealth", tiers.wealth), ("affluent", tiers.affluent))
    whens = " ".join(f"WHEN {aum} >= {float(v)!r} THEN '{name}'" for name, v in bounds)
    return f"CASE WHEN {aum} IS NULL THEN NULL {whens} ELSE 'mass' END"


def csat_100(score: pd.Series, *, scale: Sequence[float] = CSAT_SCALE) -> pd.Series:
    """CSAT answers 1..5 on 0-100: answer ``k`` becomes ``scale[k - 1]``; a missing answer,
    or one that is not 1..5, is missing.

    >>> csat_100(pd.Series([1, 3, 4, 5])).tolist()
    [0.0, 60.0, 85.0, 100.0]
    """
    values = dict(zip(range(1, 6), (float(v) for v in scale), strict=True))
    return pd.to_numeric(score, errors="coerce").map(values).astype(float)


def csat_100_sql(column: str, *, scale: Sequence[float] = CSAT_SCALE) -> str:
    """SQL of :func:`csat_100` for the answer in ``column``: NULL when it is not 1..5.

    >>> csat_100_sql("s.csat", scale=[0, 30, 60, 85, 100])
    'CASE s.csat WHEN 1 THEN 0.0 WHEN 2 THEN 30.0 WHEN 3 THEN 60.0 WHEN 4 THEN 85.0 WHEN 5 THEN 100.0 END'
    """
    if len(scale) != 5:
        raise ValueError(f"csat scale needs 5 values (answers 1-5), got {list(scale)}")
    whens = " ".join(f"WHEN {k} THEN {float(v)!r}" for k, v in enumerate(scale, start=1))
    return f"CASE {column} {whens} END"


def npl_sql(column: str = "s.five_class") -> str:
    """SQL: the loan snapshot's five-class in ``column`` makes it non-performing
    (:data:`NPL_CLASSES`); the risk report's ``npl_ratio`` and the staff KPI report's
    ``managed_npl_ratio`` count the same loans."""
    classes = ", ".join(f"'{c}'" for c in NPL_CLASSES)
    return f"coalesce({column} IN ({classes}), false)"


#: The balance bases: ``average_daily`` (日均) and ``month_end`` (时点).
BASES = ("average_daily", "month_end")


def aum_sql(alias: str = "b", basis: str = "month_end") -> str:
    """SQL of a balance row's AUM (assets under management, 资产规模): deposits + wealth,
    a missing part counting 0 (``alias`` empty: unqualified columns). Deposits count at
    ``greatest(deposits, 0)``: a current account in overdraft is credit the bank gives,
    not a negative asset, so an overdrawn customer's AUM is its wealth, never below 0.

    ``basis="month_end"`` reads the month-end balances (``deposits``, ``wealth``);
    ``"average_daily"`` the month's average daily balances (``deposits_avg``,
    ``wealth_avg``), a row without them (NULL) counting its month-end balance: pass it
    only when the warehouse has them (:func:`branchbook.metrics.basis.basis_used`).

    >>> aum_sql("b", "average_daily")
    '(greatest(coalesce(b.deposits_avg, b.deposits, 0), 0) + coalesce(b.wealth_avg, b.wealth, 0))'
    """
    dep, wealth = (balance_sql(c, alias, basis) for c in ("deposits", "wealth"))
    return f"(greatest(coalesce({dep}, 0), 0) + coalesce({wealth}, 0))"


def balance_sql(column: str, alias: str = "b", basis: str = "month_end") -> str:
    """SQL of one balance (``deposits`` or ``wealth``) of a balance row on ``basis``: the
    month-end column, or its average daily twin ``<column>_avg`` where the row has one
    (:func:`aum_sql`); NULL stays NULL.

    >>> balance_sql("wealth", "", "average_daily"), balance_sql("wealth", "b")
    ('coalesce(wealth_avg, wealth)', 'b.wealth')
    """
    if basis not in BASES:
        raise ValueError(f"balance basis is expected to be one of {BASES}. Got {basis!r} instead.")
    a = f"{alias}." if alias else ""
    if basis == "month_end":
        return f"{a}{column}"
    return f"coalesce({a}{column}_avg, {a}{column})"


def tier_aum_sql(customers: str) -> str:
    """A query of ``customer_id, aum`` for the customers whose ids the query ``customers``
    selects: the AUM their asset tier at the period is read from, the one rule of the
    segmentation report's tiers and the satisfaction report's CSAT by tier.

    A customer open at ``$period_end`` has its AUM of the month ``$period`` (0 without a
    balance row then, as the segmentation report counts it); one closed by then, its AUM
    of the last month with a balance row up to ``$period`` (0 without any). Reads the
    shared ``customer_month`` table (:mod:`.shared`), whose ``aum`` is the AUM basis.
    """
    return f"""
SELECT c.customer_id,
       CASE WHEN {open_at_sql("$period_end")} THEN coalesce(a.aum_now, 0.0)
            ELSE coalesce(a.aum_last, 0.0) END AS aum
FROM customers c
LEFT JOIN (
    SELECT b.customer_id, arg_max(b.aum, b.month) AS aum_last,
           max(b.aum) FILTER (WHERE b.month = $period) AS aum_now
    FROM customer_month b
    WHERE b.month <= $period AND b.customer_id IN ({customers})
    GROUP BY b.customer_id
) a ON a.customer_id = c.customer_id
WHERE c.customer_id IN ({customers})
"""


def closed_by_sql(day: str, *, alias: str = "c") -> str:
    """SQL: the customer ``alias`` had closed by the end of the day ``day`` (its
    ``closed_on`` on or before it). The one closing rule of the satisfaction report's
    monthly ``churn_rate`` and of the staff KPI report's ``managed_closure_rate``."""
    return f"({alias}.closed_on IS NOT NULL AND {alias}.closed_on <= {day})"


def open_at_sql(day: str, *, alias: str = "c") -> str:
    """SQL: the customer ``alias`` was open at the end of the day ``day`` (opened on or
    before it and not closed by it, :func:`closed_by_sql`)."""
    return f"({alias}.opened_on <= {day} AND NOT {closed_by_sql(day, alias=alias)})"
