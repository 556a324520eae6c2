"""Customer lifetime value (客户终身价值): what a customer is worth to the bank over the
coming years, by the documented method below, shown by asset tier and segment.

Method, per customer, with the bank's parameters (``segmentation.clv`` in bank.yaml):

- annual margin ``m`` = deposits x ``e_deposits`` + wealth x ``e_wealth`` + loans
  outstanding x ``e_loans``: each balance class at the period's end on the bank's balance
  basis (average daily where the warehouse has it) times the class's margin for that
  customer (:func:`class_margins`): the mean of ``product_margins`` over the customer's
  products of that class weighted by their month-end balances (``holdings`` for deposits
  and wealth, loan snapshots for loans), a product without a margin of its own at the
  class's margin (``deposit_margin``, ``wealth_margin``, ``loan_margin``); a class with
  no product detail (no ``holdings`` table, or none of the customer's rows) at the
  class's margin. Margins are a year, shares of the balance. The product mix is read at
  the month's end and applied to the balance on the basis: the mix sets the rate, the
  basis the amount, so the products never change the amount valued;
- annual retention ``r`` from the churn early warning's probability ``p`` of churning
  within ``h`` months (the satisfaction report's bank-wide model, recalibrated), the
  hazard held constant: ``r = (1 - p) ** (12 / h)``; only when that probability passed
  the calibration test on the out-of-time sample (:func:`retention_usable`);
- ``CLV = sum over t = 1..years of m x r**t / (1 + discount_rate)**t``: the margin of
  each coming year, earned if the customer is still there, discounted to today.

A customer the model did not score (no balance row at the period, or already churned by
the floor rule) has no CLV and is counted apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..stats.measures import ranks_better_than_chance

#: The balance class of each product: the contract's ``holdings.product_type`` values
#: (deposits and wealth) and its ``loans.product`` values (loans).
PRODUCT_CLASS = {
    "deposit": "deposits",
    "time_deposit": "deposits",
    "wealth": "wealth",
    "fund": "wealth",
    "insurance": "wealth",
    "bond": "wealth",
    "mortgage": "loans",
    "consumer": "loans",
    "business": "loans",
    "working_capital": "loans",
    "trade_finance": "loans",
}
BALANCE_CLASSES = ("deposits", "wealth", "loans")


def class_margins(
    mix: pd.DataFrame | None,
    *,
    product_margins: dict[str, float],
    class_margin: dict[str, float],
) -> pd.DataFrame:
    """Per customer of ``mix`` (``customer_id``, ``product``, ``balance``: one row per
    product held at the month's end, CNY), the margin of each balance class: columns
    ``deposits``, ``wealth``, ``loans``, each the mean margin of the customer's products
    of that class weighted by their balances, a product missing from ``product_margins``
    at ``class_margin`` of its class; NaN where the customer has no positive balance in
    that class (the caller takes the class's margin). Rows of a product the contract
    does not know, or with a balance of 0 or less, are ignored.

    >>> mix = pd.DataFrame({"customer_id": ["A", "A"], "product": ["deposit", "time_deposit"],
    ...                     "balance": [100.0, 300.0]})
    >>> m = class_margins(mix, product_margins={"deposit": 0.02},
    ...                   class_margin={"deposits": 0.01, "wealth": 0.0, "loans": 0.0})
    >>> float(m.at["A", "deposits"])  # (100 x 2% + 300 x 1%) / 400
    0.0125
    """
    empty = pd.DataFrame(columns=list(BALANCE_CLASSES), dtype=float)
    if mix is None or mix.empty:
        return empty.rename_axis("customer_id")
    m = mix.assign(cls=mix["product"].map(PRODUCT_CLASS), balance=mix["balance"].astype(float))
    m = m[m["cls"].notna() & (m["balance"] > 0)]
    if m.empty:
        return empty.rename_axis("customer_id")
    rate = m["product"].map(product_margins).astype(float).fillna(m["cls"].map(class_margin))
    m = m.assign(earned=m["balance"] * rate)
    g = m.groupby(["customer_id", "cls"])[["earned", "balance"]].sum()
    out = (g["earned"] / g["balance"]).unstack("cls")
    return out.reindex(columns=list(BALANCE_CLASSES)).astype(float)


def margins_by_product(coverage) -> bool:
    """Whether deposits and wealth take their products' margins: the warehouse records
    ``holdings`` (present, with rows; :class:`branchbook.coverage.Coverage`). Loans
    always do (their products are on ``loans``)."""
    return not any(m.table == "holdings" and m.column is None for m in coverage.missing)


def retention_usable(validation: pd.DataFrame | None) -> bool:
    """The churn model's probabilities may give retention: its bank-wide out-of-time
    figures (``bench_satisfaction_churn_validation``, one row) rest on enough churners,
    rank better than chance, and its recalibrated probabilities passed the calibration
    test by band on the validation sample (``calibrated``): a retention read from
    probabilities that are off would be off."""
    if validation is None or len(validation) != 1:
        return False
    row = validation.iloc[0].to_dict()
    return ranks_better_than_chance(row) and bool(row.get("calibrated", 0.0) == 1.0)


def annual_retention(p_horizon, *, horizon_months: int = 3) -> np.ndarray:
    """The yearly retention implied by a probability ``p_horizon`` of churning within
    ``horizon_months``, the hazard held constant: ``(1 - p) ** (12 / horizon_months)``.

    >>> float(annual_retention(0.05, horizon_months=3).round(6))  # 0.95 ** 4
    0.814506
    """
    p = np.clip(np.asarray(p_horizon, dtype=float), 0.0, 1.0)
    return (1 - p) ** (12 / horizon_months)


def lifetime_value(margin, retention, *, discount_rate: float, years: int) -> np.ndarray:
    """``sum_{t=1..years} margin x retention**t / (1 + discount_rate)**t``.

    >>> float(lifetime_value(100.0, 0.5, discount_rate=0.0, years=2))  # 50 + 25
    75.0
    """
    m = np.asarray(margin, dtype=float)
    q = np.asarray(retention, dtype=float) / (1 + discount_rate)
    return m * sum(q**t for t in range(1, years + 1))


def customer_clv(
    customers: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    deposit_margin: float,
    wealth_margin: float,
    loan_margin: float,
    discount_rate: float,
    years: int,
    product_margins: dict[str, float] | None = None,
    mix: pd.DataFrame | None = None,
    horizon_months: int = 3,
) -> pd.DataFrame:
    """The open customers of ``customers`` (the classified rows: ``customer_id``,
    ``open_now``, ``asset_tier``, ``customer_type``, ``level``) with ``margin`` (a year),
    ``retention`` (a year) and ``clv`` from ``scores`` (``satisfaction_churn_risk``:
    ``deposits``, ``wealth``, ``loans_outstanding``, ``probability``); NaN for a customer
    without a score. ``mix`` (``segmentation_clv_mix``) gives each customer's products
    and ``product_margins`` their margins (:func:`class_margins`); without either, every
    balance is at its class's margin."""
    open_ = customers[customers["open_now"].fillna(False).astype(bool)]
    s = scores.set_index("customer_id")
    s = s.reindex(open_["customer_id"])
    fallback = {"deposits": deposit_margin, "wealth": wealth_margin, "loans": loan_margin}
    rates = class_margins(mix, product_margins=product_margins or {}, class_margin=fallback)
    rates = rates.reindex(s.index).fillna(fallback)
    # each balance class at its own rate (a yearly margin, not the AUM: loans count too)
    balances = {
        "deposits": s["deposits"].clip(lower=0.0),
        "wealth": s["wealth"].clip(lower=0.0),
        "loans": s["loans_outstanding"].fillna(0.0).clip(lower=0.0),
    }
    margin = sum(balances[c] * rates[c] for c in balances).to_numpy(float)
    retention = annual_retention(s["probability"], horizon_months=horizon_months)
    clv = lifetime_value(margin, retention, discount_rate=discount_rate, years=years)
    return open_.assign(margin=margin, retention=retention, clv=clv).reset_index(drop=True)


def clv_by(values: pd.DataFrame, *, by: str, order=None) -> pd.DataFrame:
    """CLV per group of ``by``: ``customers`` (open), ``scored`` (with a CLV), ``clv``
    (the sum), ``clv_mean`` (per scored customer), ``clv_share`` (of the branch's sum),
    ``retention`` (mean annual retention), and a last row ``all``; groups in ``order``."""
    v = values.assign(scored=values["clv"].notna())
    g = v.groupby(by).agg(
        customers=("customer_id", "size"),
        scored=("scored", "sum"),
        clv=("clv", "sum"),
        retention=("retention", "mean"),
    )
    if order is not None:
        g = g.reindex([o for o in order if o in g.index])
    total = pd.DataFrame(
        {
            "customers": [len(v)],
            "scored": [int(v["scored"].sum())],
            "clv": [float(v["clv"].sum())],
            "retention": [float(v["retention"].mean())],
        },
        index=["all"],
    )
    out = pd.concat([g, total])
    out.index.name = by
    return out.assign(
        clv_mean=ratio(out["clv"], out["scored"]),
        clv_share=ratio(out["clv"], float(v["clv"].sum())),
    )
