"""Cross-sell (关联分析): which product types each asset tier holds, and who lacks them.

A simple lift table, not mined association rules: for each asset tier and product type
(``holdings.product_type``) the **penetration** is the share of the tier's open
customers holding a product of that type at the month end (``holds_<type>`` of the
customer rows, :mod:`.suitability`), and the **lift** is that share over the share
among all open customers (above 1: the tier holds the type more than customers
generally). A type is **usual** for a tier when the rule tier -> type holds over the
bank: at least :data:`MIN_CONFIDENCE` of the bank's customers in the tier hold it and
its lift is at least :data:`MIN_LIFT` (a type every tier holds alike, such as the
demand deposit, is nobody's cross-sell), measured bank-wide once in prepare (``bench_segmentation_penetration``, the
bank's tier thresholds) so every branch is held to the same rule. The call list names
the branch's open customers without a type usual for their tier.
"""

from __future__ import annotations

import pandas as pd

from .. import privacy
from ..metrics import ratio
from .settings import ASSET_TIERS
from .suitability import PRODUCT_TYPES
from .tiers import open_customers

#: A type is usual for a tier when at least this share of the bank's tier holds it ...
MIN_CONFIDENCE = 0.25
#: ... and the tier holds it at least this many times as often as customers generally.
MIN_LIFT = 1.2

SHARE_COLUMNS = tuple(f"type_{t}" for t in PRODUCT_TYPES)
LIFT_COLUMNS = tuple(f"lift_{t}" for t in PRODUCT_TYPES)


def penetration(rows: pd.DataFrame) -> pd.DataFrame:
    """Open customers per asset tier (every tier, in order) with ``customers`` and
    ``type_<type>``: the share of them holding that type (NaN for an empty tier)."""
    o = open_customers(rows)
    g = o.groupby("asset_tier", observed=True)
    out = pd.DataFrame({"customers": g.size()}).reindex(list(ASSET_TIERS)).fillna(0)
    for t, col in zip(PRODUCT_TYPES, SHARE_COLUMNS, strict=True):
        held = g[f"holds_{t}"].sum().reindex(out.index).fillna(0.0)
        out[col] = [ratio(h, n) for h, n in zip(held, out["customers"], strict=True)]
    out["customers"] = out["customers"].astype("int64")
    out.index.name = "asset_tier"
    return out


def penetration_total(rows: pd.DataFrame, *, suppress_below: int | None = None) -> dict:
    """The all-customers row of :func:`penetration`: every open customer, each type's
    share of them (a ratio of sums, not an average of the tiers' shares). With
    ``suppress_below``, every value is :data:`branchbook.privacy.SUPPRESSED` when the
    customers number fewer than the limit (but some), as
    :func:`.views.tier_total` does."""
    o = open_customers(rows)
    out: dict = {"customers": float(len(o))}
    for t, col in zip(PRODUCT_TYPES, SHARE_COLUMNS, strict=True):
        out[col] = ratio(float(o[f"holds_{t}"].sum()), float(len(o)))
    if suppress_below is not None and 0 < len(o) < suppress_below:
        out = dict.fromkeys(out, privacy.SUPPRESSED)
    return out


def lift_table(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`penetration` with ``lift_<type>`` = the tier's share / all customers'
    share (NaN where either is empty or the type is held by nobody)."""
    pen = penetration(rows)
    total = penetration_total(rows)
    for share, lift in zip(SHARE_COLUMNS, LIFT_COLUMNS, strict=True):
        base = total[share]
        pen[lift] = [ratio(v, base) if base and base > 0 else float("nan") for v in pen[share]]
    return pen


def usual_products(
    bank: pd.DataFrame, *, min_confidence: float = MIN_CONFIDENCE, min_lift: float = MIN_LIFT
) -> dict[str, tuple]:
    """Tier -> the product types usual for it: held by at least ``min_confidence`` of
    the bank's tier with a lift of at least ``min_lift``, from
    ``bench_segmentation_penetration`` (:func:`lift_table` of the whole bank)."""
    frame = bank.set_index("asset_tier") if "asset_tier" in bank.columns else bank
    out = {}
    for tier in ASSET_TIERS:
        out[tier] = tuple(
            t
            for t, share, lift in zip(PRODUCT_TYPES, SHARE_COLUMNS, LIFT_COLUMNS, strict=True)
            if tier in frame.index
            and frame.loc[tier, share] >= min_confidence
            and frame.loc[tier, lift] >= min_lift
        )
    return out


def gaps(
    rows: pd.DataFrame,
    usual: dict[str, tuple],
    *,
    staff: pd.DataFrame | None = None,
    unassigned: str = "-",
) -> pd.DataFrame:
    """The call list: one row per open customer and product type usual for the
    customer's asset tier that the customer does not hold. By manager (customers
    without one last), then the largest AUM, the customer and the type's order.
    Columns: manager_id, manager_name (from ``staff``; ``unassigned`` without one),
    customer_id, name (raw: mask before showing), asset_tier, product_type, aum (CNY).
    """
    o = open_customers(rows)
    parts = []
    for tier, types in usual.items():
        in_tier = o[o["asset_tier"] == tier]
        for i, t in enumerate(PRODUCT_TYPES):
            if t in types:
                lacking = in_tier[in_tier[f"holds_{t}"].fillna(0) == 0]
                parts.append(lacking.assign(product_type=t, type_order_=i))
    cols = ["manager_id", "manager_name", "customer_id", "name", "asset_tier", "product_type",
            "aum"]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts)
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    mgr = out["manager_id"].astype(object).where(out["manager_id"].notna(), "")
    out = out.assign(
        manager_id=mgr,
        manager_name=[names.get(m, m) if m else unassigned for m in mgr],
        unassigned_=mgr == "",
        asset_tier=out["asset_tier"].astype(object),
    ).sort_values(
        ["unassigned_", "manager_id", "aum", "customer_id", "type_order_"],
        ascending=[True, True, False, True, True],
    )
    return out[cols].reset_index(drop=True)
