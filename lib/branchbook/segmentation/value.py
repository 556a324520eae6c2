"""Customer lifetime value (客户终身价值): what a customer is worth to the bank over the
coming years, by the documented method below, shown by asset tier and segment.

Method, per customer, with the bank's parameters (``segmentation.clv`` in bank.yaml):

- annual margin ``m`` = deposits x ``deposit_margin`` + wealth x ``wealth_margin`` +
  loans outstanding x ``loan_margin`` (balances at the period's end on the bank's balance
  basis, margins a year as shares of the balance);
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
    horizon_months: int = 3,
) -> pd.DataFrame:
    """The open customers of ``customers`` (the classified rows: ``customer_id``,
    ``open_now``, ``asset_tier``, ``customer_type``, ``level``) with ``margin`` (a year),
    ``retention`` (a year) and ``clv`` from ``scores`` (``satisfaction_churn_risk``:
    ``deposits``, ``wealth``, ``loans_outstanding``, ``probability``); NaN for a customer
    without a score."""
    open_ = customers[customers["open_now"].fillna(False).astype(bool)]
    s = scores.set_index("customer_id")
    s = s.reindex(open_["customer_id"])
    loans = s["loans_outstanding"].fillna(0.0).clip(lower=0.0)
    margin = (
        s["deposits"].clip(lower=0.0) * deposit_margin
        + s["wealth"].clip(lower=0.0) * wealth_margin
        + loans * loan_margin
    ).to_numpy(float)
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
