"""The report's tables, one per section, from classified customer rows.

An empty branch gives empty tables and NaN shares, never an error.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import privacy
from ..metrics import ratio
from ..metrics.cards import bank_median
from .settings import ASSET_TIERS, DIMENSIONS, HIGH_VALUE_TIERS, LEVELS
from .tiers import open_customers


def tier_summary(customers: pd.DataFrame, by: str = "asset_tier") -> pd.DataFrame:
    """Customers and AUM per category of ``by`` among the open customers.

    ``by`` is one of :data:`DIMENSIONS` (every category shown, also when empty) or any
    other column (its categories in sorted order, e.g. ``cluster``). Columns:
    ``customers``, ``customer_share`` (of open customers), ``aum`` (CNY),
    ``aum_share`` (of their AUM), ``avg_aum`` (CNY, NaN for an empty category).
    Shares are NaN for an empty branch (or zero total AUM).
    """
    open_ = open_customers(customers)
    cats = DIMENSIONS.get(by) or tuple(sorted(open_[by].dropna().unique()))
    g = open_.groupby(by, observed=True)["aum"]
    out = pd.DataFrame({"customers": g.size(), "aum": g.sum()}).reindex(list(cats))
    out = out.fillna({"customers": 0, "aum": 0.0}).astype({"customers": "int64", "aum": float})
    n, total = len(open_), float(open_["aum"].sum())
    out["customer_share"] = out["customers"] / n if n else np.nan
    out["aum_share"] = out["aum"] / total if total > 0 else np.nan
    out["avg_aum"] = ratio(out["aum"], out["customers"])
    out.index.name = by
    return out[["customers", "customer_share", "aum", "aum_share", "avg_aum"]]


def tier_total(
    customers: pd.DataFrame, by: str = "asset_tier", *, suppress_below: int | None = None
) -> dict[str, Any]:
    """The totals row of ``tier_summary(customers, by)``, each column by its definition.

    Over the open customers in the table's categories: ``customers`` and ``aum`` (CNY)
    summed; ``customer_share`` = their count / all open customers and ``aum_share`` =
    their AUM / all open customers' AUM (ratios of sums: 1 when the categories cover
    everybody); ``avg_aum`` = their AUM / their count (never a sum of the rows'
    averages). Two tiers of 2 customers averaging 15,000 and 1 averaging 100,000 total
    3 customers averaging 43,333.

    With ``suppress_below`` (the page's limit), every value is
    :data:`branchbook.privacy.SUPPRESSED` when the table's customers number fewer than
    the limit (but some): the total is then itself a small group, and with one
    non-empty row it would be that suppressed row. From the limit on, the page hides at
    least two rows or none, so the total gives no single hidden row back. Empty branch:
    counts 0, the rest NaN.
    """
    open_ = open_customers(customers)
    cats = DIMENSIONS.get(by) or tuple(sorted(open_[by].dropna().unique()))
    shown = open_[open_[by].isin(list(cats))]
    count, aum = len(shown), float(shown["aum"].sum())
    everyone = float(open_["aum"].sum())
    out: dict[str, Any] = {
        "customers": count,
        "customer_share": ratio(count, len(open_)),
        "aum": aum,
        "aum_share": ratio(aum, everyone) if everyone > 0 else math.nan,
        "avg_aum": ratio(aum, count),
    }
    if suppress_below is not None and 0 < count < suppress_below:
        out = dict.fromkeys(out, privacy.SUPPRESSED)
    return out


def type_split(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers and AUM of individual and corporate customers (see :func:`tier_summary`)."""
    return tier_summary(customers, "customer_type")


def migration_matrix(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers by asset tier at the previous period (rows) x at the period (columns).

    Rows: the four tiers then ``new`` (not open at the previous period); columns: the
    four tiers then ``closed`` (no longer open). Counts; all zero for an empty branch.
    """
    rows, cols = list(ASSET_TIERS) + ["new"], list(ASSET_TIERS) + ["closed"]
    before = (
        customers["asset_tier_prev"]
        .astype(object)
        .where(customers["open_prev"].fillna(False).astype(bool), "new")
    )
    now = (
        customers["asset_tier"]
        .astype(object)
        .where(customers["open_now"].fillna(False).astype(bool), "closed")
    )
    counts = pd.crosstab(before, now) if len(customers) else pd.DataFrame()
    out = counts.reindex(index=rows, columns=cols, fill_value=0).astype("int64")
    out.index.name, out.columns.name = "tier_prev", "tier_now"
    return out


def migration_counts(customers: pd.DataFrame) -> dict[str, int]:
    """Customers who moved up, down or stayed a tier, plus new and closed ones."""
    order = {t: i for i, t in enumerate(ASSET_TIERS)}
    both = customers["open_now"].fillna(False).astype(bool) & customers["open_prev"].fillna(
        False
    ).astype(bool)
    now = customers.loc[both, "asset_tier"].map(order)
    before = customers.loc[both, "asset_tier_prev"].map(order)
    return {
        "upgraded": int((now > before).sum()),
        "downgraded": int((now < before).sum()),
        "unchanged": int((now == before).sum()),
        "new": int(
            (customers["open_now"].fillna(False) & ~customers["open_prev"].fillna(False)).sum()
        ),
        "closed": int(
            (~customers["open_now"].fillna(False) & customers["open_prev"].fillna(False)).sum()
        ),
    }


def rfm_distribution(customers: pd.DataFrame) -> pd.DataFrame:
    """Open customers per RFM score: index score 1..5, columns ``r``, ``f``, ``m`` counts."""
    open_ = open_customers(customers)
    out = pd.DataFrame(
        {
            k: open_[f"{k}_score"].value_counts().reindex([1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0)
            for k in "rfm"
        }
    )
    out.index = pd.Index([1, 2, 3, 4, 5], name="score")
    return out.astype("int64")


def rfm_grid(customers: pd.DataFrame) -> pd.DataFrame:
    """Open customers by R score (rows, 5 to 1) x F score (columns, 1 to 5): counts."""
    open_ = open_customers(customers)
    grid = pd.crosstab(open_["r_score"], open_["f_score"]) if len(open_) else pd.DataFrame()
    out = grid.reindex(
        index=[5.0, 4.0, 3.0, 2.0, 1.0], columns=[1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0
    )
    out.index, out.columns = (
        pd.Index([5, 4, 3, 2, 1], name="r_score"),
        pd.Index([1, 2, 3, 4, 5], name="f_score"),
    )
    return out.astype("int64")


def cluster_profile(customers: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The branch's open customers per bank-wide cluster, beside the bank's share.

    Index ``cluster``; columns ``label`` and ``trait`` (catalogue keys), ``customers``,
    ``customer_share``, ``bank_share``, ``aum_share``, ``median_aum`` (CNY),
    ``mean_txn_90d``, ``mean_products``, ``mean_tenure`` (months); NaN where the branch
    has nobody in a cluster.
    """
    summary = tier_summary(customers, "cluster")
    open_ = open_customers(customers)
    g = open_.groupby("cluster")
    stats = pd.DataFrame(
        {
            "median_aum": g["aum"].median(),
            "mean_txn_90d": g["txn_90d"].mean(),
            "mean_products": g["products_held"].mean(),
            "mean_tenure": g["tenure_months"].mean(),
        }
    )
    base = clusters.set_index("cluster")[["label", "trait", "customer_share"]].rename(
        columns={"customer_share": "bank_share"}
    )
    out = base.join(summary[["customers", "customer_share", "aum_share"]]).join(stats)
    out["customers"] = out["customers"].fillna(0).astype("int64")
    if not len(open_):
        out["customer_share"] = np.nan
    else:
        out["customer_share"] = out["customer_share"].fillna(0.0)
    out.index.name = "cluster"
    return out[
        [
            "label",
            "trait",
            "customers",
            "customer_share",
            "bank_share",
            "aum_share",
            "median_aum",
            "mean_txn_90d",
            "mean_products",
            "mean_tenure",
        ]
    ]


#: The next step for each reason a customer is on the action list (catalogue:
#: ``values.next_step``): a tier lost is a conversation about what moved, a dormant
#: high-value customer a call to win back, both at once a visit.
NEXT_STEPS = {"slipped_tier": "review_call", "dormant_high_value": "reactivate", "both": "visit"}


def action_list(
    customers: pd.DataFrame,
    limit: int | None = None,
    *,
    staff: pd.DataFrame | None = None,
    activity: bool = True,
) -> pd.DataFrame:
    """Customers to call: those slipping an asset tier and dormant high-value ones.

    ``slipped_tier``: open at both periods, asset tier now lower than before.
    ``dormant_high_value``: open, activity tier dormant, and asset tier wealth or private
    or the top composite level (5). ``reason`` is one of those or ``both``;
    ``next_step`` the step :data:`NEXT_STEPS` gives for it. Sorted by AUM (largest
    first), then customer id; ``limit`` keeps the first rows. Columns: customer_id,
    manager_id, manager_name (the name in ``staff`` (staff_id, name), the id where the
    manager is not there), name (raw: mask before showing), reason, next_step,
    asset_tier, asset_tier_prev, level, activity_tier, aum, aum_prev, recency_days
    (NaN: never transacted).

    ``activity=False`` (the warehouse records no transactions): no customer is dormant,
    since no 90-day count was taken; only those slipping a tier are listed.
    """
    order = {t: i for i, t in enumerate(ASSET_TIERS)}
    open_now = customers["open_now"].fillna(False).astype(bool)
    both = open_now & customers["open_prev"].fillna(False).astype(bool)
    slipped = both & (customers["asset_tier"].map(order) < customers["asset_tier_prev"].map(order))
    high = customers["asset_tier"].isin(HIGH_VALUE_TIERS) | (
        customers["level"] == LEVELS[-1]
    ).fillna(False)
    dormant = open_now & (customers["activity_tier"] == "dormant") & high & activity
    reason = np.select(
        [slipped & dormant, slipped, dormant], ["both", "slipped_tier", "dormant_high_value"], ""
    )
    out = customers.assign(reason=pd.Series(reason, index=customers.index, dtype="str"))[
        slipped | dormant
    ]
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    out = out.assign(
        manager_name=[names.get(m, m) for m in out["manager_id"]],
        next_step=out["reason"].map(NEXT_STEPS),
    )
    cols = [
        "customer_id",
        "manager_id",
        "manager_name",
        "name",
        "reason",
        "next_step",
        "asset_tier",
        "asset_tier_prev",
        "level",
        "activity_tier",
        "aum",
        "aum_prev",
        "recency_days",
    ]
    out = out.sort_values(["aum", "customer_id"], ascending=[False, True])[cols].reset_index(
        drop=True
    )
    return out if limit is None else out.head(limit)


def dormant_high_value(customers: pd.DataFrame) -> dict[str, float]:
    """Open wealth and private customers in the dormant activity tier, as of the period.

    ``count``; ``aum`` (CNY, now); ``aum_prev``: the same customers' AUM last period
    (those open then); ``aum_change``: ``aum / aum_prev - 1`` over the customers open
    at both periods (NaN if none, or zero AUM last period).
    """
    o = open_customers(customers)
    sel = o[o["asset_tier"].isin(HIGH_VALUE_TIERS) & (o["activity_tier"] == "dormant")]
    both = sel[sel["open_prev"].fillna(False).astype(bool)]
    prev = float(both["aum_prev"].sum())
    return {
        "count": float(len(sel)),
        "aum": float(sel["aum"].sum()),
        "aum_prev": prev,
        "aum_change": ratio(float(both["aum"].sum()), prev) - 1,
    }


def branch_vs_bank(
    customers: pd.DataFrame, bench: pd.DataFrame, *, period: str, by: str = "asset_tier"
) -> pd.DataFrame:
    """The branch's share of customers per category of ``by`` beside the bank median.

    Columns ``branch_share``, ``bank_median``, ``gap`` (branch - median, share points)
    and, for ``asset_tier`` and ``customer_type``, ``branch_aum_share`` and
    ``bank_median_aum_share``. The median is over branches (each branch counts once).
    """
    summary = tier_summary(customers, by)
    out = pd.DataFrame(index=summary.index)
    out["branch_share"] = summary["customer_share"]
    out["bank_median"] = [bank_median(bench, f"share_{by}_{c}", period) for c in summary.index]
    out["gap"] = out["branch_share"] - out["bank_median"]
    if by in ("asset_tier", "customer_type"):
        out["branch_aum_share"] = summary["aum_share"]
        out["bank_median_aum_share"] = [
            bank_median(bench, f"aum_share_{by}_{c}", period) for c in summary.index
        ]
    return out
