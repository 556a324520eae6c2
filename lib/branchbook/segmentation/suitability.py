"""Suitability (适当性管理): products held above the customer's risk appetite.

A holding is a product a customer holds at a month end with a balance above 0
(``holdings``: the product's ``risk_level`` R1..R5 is on the row). It is a
**mismatch** when its risk level is above the customer's ``risk_appetite`` (R1..R5)
at that month end: an R4 fund held by an R2 customer is one, an R2 product held by an
R4 customer is not. The appetite is the one recorded on the customer
(``customers.risk_appetite``, today's); the contract records no assessment date, so an
assessment past its validity is not told apart: the holding is judged against the
recorded appetite whatever its age. A customer without a recorded appetite is not
judged (neither a holder nor a mismatch).

:func:`customer_counts` and :func:`mismatch_rows` are prepare's SQL, once per period
over the bank; :func:`is_mismatch`, :func:`by_manager` and :func:`mismatch_list` the
report's pure functions. Balances in the bank's currency (CNY).
"""

from __future__ import annotations

import pandas as pd

from ..metrics import ratio
from .tiers import open_customers

RISK_LEVELS = ("R1", "R2", "R3", "R4", "R5")

#: Per customer: rated holdings, mismatched holdings and their balance at the period's
#: end and at the previous month's end (a customer without a holding has no row).
_CUSTOMER_SQL = """
SELECT h.customer_id,
    count(*) FILTER (WHERE h.month = $period AND c.risk_appetite IS NOT NULL) AS holdings,
    count(*) FILTER (WHERE h.month = $period AND h.risk_level > c.risk_appetite) AS mismatches,
    coalesce(sum(h.balance) FILTER (WHERE h.month = $period AND h.risk_level > c.risk_appetite),
             0) AS mismatch_balance,
    count(*) FILTER (WHERE h.month = $prev_period AND c.risk_appetite IS NOT NULL)
        AS holdings_prev,
    count(*) FILTER (WHERE h.month = $prev_period AND h.risk_level > c.risk_appetite)
        AS mismatches_prev,
    coalesce(sum(h.balance)
             FILTER (WHERE h.month = $prev_period AND h.risk_level > c.risk_appetite), 0)
        AS mismatch_balance_prev,
    {types}
FROM holdings h JOIN customers c USING (customer_id)
WHERE h.month IN ($period, $prev_period) AND h.balance > 0
GROUP BY h.customer_id
"""

#: Every mismatched holding at the period's end of a customer open then.
_ROWS_SQL = """
SELECT h.customer_id, c.branch_id, c.manager_id, c.name, c.risk_appetite,
       h.product_id, h.product_type, h.risk_level, h.balance
FROM holdings h JOIN customers c USING (customer_id)
WHERE h.month = $period AND h.balance > 0 AND h.risk_level > c.risk_appetite
  AND c.opened_on <= $period_end AND (c.closed_on IS NULL OR c.closed_on > $period_end)
ORDER BY h.customer_id, h.product_id
"""

#: The product types of the contract's ``holdings.product_type``.
PRODUCT_TYPES = ("deposit", "time_deposit", "wealth", "fund", "insurance", "bond")

#: The per-customer columns prepare adds to ``segmentation_customers``: the suitability
#: counts, and ``holds_<type>`` (1 when the customer holds a product of that type at
#: the period's end, else 0) for the cross-sell section (:mod:`.cross_sell`).
COLUMNS = (
    "holdings",
    "mismatches",
    "mismatch_balance",
    "holdings_prev",
    "mismatches_prev",
    "mismatch_balance_prev",
    *(f"holds_{t}" for t in PRODUCT_TYPES),
)


def is_mismatch(appetite: pd.Series, risk_level: pd.Series) -> pd.Series:
    """True where ``risk_level`` is above ``appetite`` (both R1..R5); False where either
    is missing (not judged).

    >>> is_mismatch(pd.Series(["R2", "R4", None]), pd.Series(["R4", "R2", "R5"])).tolist()
    [True, False, False]
    """
    order = {r: i for i, r in enumerate(RISK_LEVELS)}
    a, lv = appetite.map(order), risk_level.map(order)
    return (lv > a).fillna(False).astype(bool)


def customer_counts(ctx, period: str, prev_period: str) -> pd.DataFrame:
    """``customer_id`` and :data:`COLUMNS` (counts, CNY and 0/1 flags) from the warehouse."""
    types = ",\n    ".join(
        f"count(*) FILTER (WHERE h.month = $period AND h.product_type = '{t}') > 0 AS holds_{t}"
        for t in PRODUCT_TYPES
    )
    out = ctx.sql(_CUSTOMER_SQL.format(types=types), period=period, prev_period=prev_period)
    out["customer_id"] = out["customer_id"].astype("str")
    return out.astype({c: float for c in COLUMNS})


def mismatch_rows(ctx, period: str, period_end) -> pd.DataFrame:
    """``segmentation_suitability``: every mismatched holding at the period's end of an
    open customer: customer_id, branch_id, manager_id, name (raw: mask before
    showing), risk_appetite, product_id, product_type, risk_level, balance (CNY)."""
    out = ctx.sql(_ROWS_SQL, period=period, period_end=period_end)
    for col in ("customer_id", "branch_id", "manager_id", "name", "risk_appetite",
                "product_id", "product_type", "risk_level"):  # fmt: skip
        out[col] = out[col].astype("str")
    return out.astype({"balance": float}).reset_index(drop=True)


def with_counts(customers: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """``customers`` with :data:`COLUMNS` from ``counts`` (0 for a customer without a
    holding; NaN where the customer is not open at that month end, like the AUM)."""
    out = customers.merge(counts, on="customer_id", how="left")
    for col in COLUMNS:
        flag = "open_prev" if col.endswith("_prev") else "open_now"
        out[col] = out[col].fillna(0.0).where(out[flag].astype(bool))
    return out


def mismatch_customers(rows: pd.DataFrame) -> float:
    """Open customers holding at least one product above their risk appetite (count)."""
    return float((open_customers(rows)["mismatches"] > 0).sum())


def holders(rows: pd.DataFrame) -> float:
    """Open customers holding at least one product, with a recorded appetite (count):
    the customers :func:`mismatch_share` is a share of."""
    return float((open_customers(rows)["holdings"] > 0).sum())


def mismatch_share(rows: pd.DataFrame) -> float:
    """Mismatched customers / open customers holding at least one product (with a
    recorded appetite, :func:`holders`); NaN when nobody holds a product."""
    return ratio(mismatch_customers(rows), holders(rows))


def by_manager(
    rows: pd.DataFrame, *, staff: pd.DataFrame | None = None, unassigned: str = "-"
) -> pd.DataFrame:
    """Per customer manager, over the open customers holding a product: ``holders``,
    ``mismatched`` (customers), ``mismatch_share`` (mismatched / holders),
    ``mismatches`` (holdings) and ``mismatch_balance`` (CNY). ``manager_name`` from
    ``staff`` (staff_id, name), the id where the manager is not there, ``unassigned``
    for customers without a manager. Most mismatched customers first, then the higher
    share, then the id. Empty (no rows) when nobody holds a product.
    """
    o = open_customers(rows)
    o = o[o["holdings"] > 0]
    cols = ["manager_id", "manager_name", "holders", "mismatched", "mismatch_share",
            "mismatches", "mismatch_balance"]  # fmt: skip
    if not len(o):
        return pd.DataFrame(columns=cols)
    key = o["manager_id"].astype(object).where(o["manager_id"].notna(), "")
    g = o.assign(manager_id=key, hit=(o["mismatches"] > 0).astype(float)).groupby("manager_id")
    out = pd.DataFrame(
        {
            "holders": g.size().astype(float),
            "mismatched": g["hit"].sum(),
            "mismatches": g["mismatches"].sum(),
            "mismatch_balance": g["mismatch_balance"].sum(),
        }
    ).reset_index()
    out["mismatch_share"] = out["mismatched"] / out["holders"]
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    out["manager_name"] = [names.get(m, m) if m else unassigned for m in out["manager_id"]]
    out = out.sort_values(
        ["mismatched", "mismatch_share", "manager_id"], ascending=[False, False, True]
    )
    return out[cols].reset_index(drop=True)


def by_manager_total(rows: pd.DataFrame) -> dict[str, float]:
    """The totals row of :func:`by_manager`: counts and CNY summed, the share the
    branch's (:func:`mismatch_share`), never an average of the managers' shares."""
    o = open_customers(rows)
    o = o[o["holdings"] > 0]
    return {
        "holders": float(len(o)),
        "mismatched": float((o["mismatches"] > 0).sum()),
        "mismatch_share": mismatch_share(rows),
        "mismatches": float(o["mismatches"].sum()),
        "mismatch_balance": float(o["mismatch_balance"].sum()),
    }


def mismatch_list(
    holdings: pd.DataFrame, *, staff: pd.DataFrame | None = None, unassigned: str = "-"
) -> pd.DataFrame:
    """The call list: one row per mismatched holding (``segmentation_suitability``)
    with ``levels_above`` (risk level - appetite, 1..4) and ``manager_name`` (as in
    :func:`by_manager`). By manager (customers without one last), then the widest gap, the largest balance, the
    customer and the product, so each manager's rows are together in the order to act.
    Columns: manager_id, manager_name, customer_id, name (raw: mask before showing),
    risk_appetite, product_id, product_type, risk_level, levels_above, balance.
    """
    order = {r: i for i, r in enumerate(RISK_LEVELS)}
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    mgr = holdings["manager_id"].astype(object).where(holdings["manager_id"].notna(), "")
    out = holdings.assign(
        manager_id=mgr,
        manager_name=[names.get(m, m) if m else unassigned for m in mgr],
        levels_above=(
            # as numbers first: an empty column keeps its text dtype through map
            holdings["risk_level"].map(order).astype(float)
            - holdings["risk_appetite"].map(order).astype(float)
        ),
    )
    out = out.assign(unassigned_=mgr == "").sort_values(
        ["unassigned_", "manager_id", "levels_above", "balance", "customer_id", "product_id"],
        ascending=[True, True, False, False, True, True],
    )
    cols = ["manager_id", "manager_name", "customer_id", "name", "risk_appetite", "product_id",
            "product_type", "risk_level", "levels_above", "balance"]  # fmt: skip
    return out[cols].reset_index(drop=True)
