"""The loan book: five-class mix, NPL and special-mention ratios and their trend,
days-past-due buckets, the NPL against 90+ days past due, and month-on-month roll rates.

Ratios are shares of outstanding in 0..1; a month or branch with no outstanding gives
NaN, never 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..privacy import mask_name
from .settings import CLOSED, DPD_BUCKETS, FIVE_CLASSES, NPL_CLASSES


def dpd_bucket(dpd: pd.Series) -> pd.Series:
    """Days-past-due bucket of each value: current (0), 1-30, 31-60, 61-90, 90+ (over 90)."""
    d = pd.to_numeric(dpd, errors="coerce")
    labels = np.select([d <= 0, d <= 30, d <= 60, d <= 90, d > 90], DPD_BUCKETS, default="")
    return pd.Series(labels, index=dpd.index, dtype="string").replace("", pd.NA)


def book_ratios(history: pd.DataFrame) -> pd.DataFrame:
    """NPL and special-mention ratios per month (per branch and month if ``branch_id`` is a column).

    ``history``: ``month``, ``five_class``, ``loans``, ``outstanding`` (the ``risk_book``
    artifact). NPL ratio = outstanding of substandard + doubtful + loss / all
    outstanding; special-mention ratio likewise; NaN for a month with no outstanding.
    """
    keys = [k for k in ("branch_id", "month") if k in history.columns]
    h = history.assign(
        npl=history["outstanding"].where(history["five_class"].isin(NPL_CLASSES), 0.0),
        sm=history["outstanding"].where(history["five_class"] == "special_mention", 0.0),
    )
    g = h.groupby(keys, as_index=False)[["loans", "outstanding", "npl", "sm"]].sum()
    return g.assign(
        npl_ratio=ratio(g["npl"], g["outstanding"]),
        special_mention_ratio=ratio(g["sm"], g["outstanding"]),
    ).rename(columns={"npl": "npl_outstanding", "sm": "special_mention_outstanding"})


def _mix(history: pd.DataFrame, month: str, col: str, order: tuple[str, ...]) -> pd.DataFrame:
    h = history[history["month"] == month]
    g = h.groupby(col)[["loans", "outstanding"]].sum().reindex(list(order), fill_value=0)
    total = g["outstanding"].sum()
    return (
        g.assign(share=g["outstanding"] / total if total > 0 else np.nan)
        .rename_axis(col)
        .reset_index()
    )


def five_class_mix(history: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """Loans, outstanding and share of outstanding per five-class category in ``month``
    (all five rows, in order; shares NaN when the branch has no loans)."""
    return _mix(history, month, "five_class", FIVE_CLASSES)


def dpd_mix(history: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """Loans, outstanding and share of outstanding per days-past-due bucket in ``month``."""
    return _mix(history, month, "dpd_bucket", DPD_BUCKETS)


def past_due_share(mix: pd.DataFrame) -> float:
    """Share of outstanding at least one day past due, from :func:`dpd_mix` (NaN with no loans)."""
    past_due = mix.loc[mix["dpd_bucket"] != "current", "outstanding"].sum()
    return ratio(past_due, mix["outstanding"].sum())


def npl_dpd_gap(book: pd.DataFrame, *, dpd: int = 90) -> dict[str, float]:
    """The NPL against the loans more than ``dpd`` days past due (偏离度).

    ``dpd90_outstanding``: outstanding more than ``dpd`` days past due;
    ``npl_outstanding``: outstanding classed substandard or worse; ``dpd90_to_npl``: the
    first over the second (above 1: past-due loans not classed NPL; NaN without NPL);
    ``gap_loans`` and ``gap_outstanding``: the loans more than ``dpd`` days past due
    not classed NPL, and ``gap_share``, their share of the past-due outstanding (NaN
    when none is past due). The other direction (NPL not yet past due) is prudent
    classification, not a gap.

    >>> b = pd.DataFrame({"outstanding": [100.0, 50.0, 30.0], "dpd": [120, 95, 0],
    ...                   "five_class": ["substandard", "special_mention", "doubtful"]})
    >>> npl_dpd_gap(b)["dpd90_to_npl"], npl_dpd_gap(b)["gap_outstanding"]
    (1.1538461538461537, 50.0)
    """
    over = pd.to_numeric(book["dpd"]).astype(float) > dpd
    npl = book["five_class"].isin(NPL_CLASSES)
    out = book["outstanding"].astype(float)
    past_due, classed = float(out[over].sum()), float(out[npl].sum())
    gap = over & ~npl
    return {
        "dpd90_outstanding": past_due,
        "npl_outstanding": classed,
        "dpd90_to_npl": ratio(past_due, classed),
        "gap_loans": float(gap.sum()),
        "gap_outstanding": float(out[gap].sum()),
        "gap_share": ratio(float(out[gap].sum()), past_due),
    }


def npl_dpd_gap_loans(book: pd.DataFrame, *, dpd: int = 90) -> pd.DataFrame:
    """The loans behind :func:`npl_dpd_gap`'s gap: more than ``dpd`` days past due and
    classed pass or special mention, largest first, names masked."""
    over = pd.to_numeric(book["dpd"]).astype(float) > dpd
    g = book[over & ~book["five_class"].isin(NPL_CLASSES)]
    cols = ["loan_id", "customer_id", "name", "product", "outstanding", "dpd", "five_class"]
    return g.assign(name=g["name"].map(mask_name)).sort_values(
        ["outstanding", "loan_id"], ascending=[False, True], ignore_index=True
    )[cols]


def npl_trend(
    history: pd.DataFrame, *, bench_trend: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """The branch's NPL and special-mention ratios per month beside the bank's median
    over branches (``bank_npl_ratio``, ``bank_special_mention_ratio``); a month with no
    loans is NaN. ``history`` of several branches is taken as one book."""
    own = book_ratios(history.drop(columns="branch_id", errors="ignore"))
    own = own.groupby("month")[["npl_ratio", "special_mention_ratio"]].first() if len(own) else None
    bank = bench_trend.groupby("month")[["npl_ratio", "special_mention_ratio"]].median()
    out = pd.DataFrame(index=pd.Index(months, name="month"))
    out = (
        out.join(own)
        if own is not None
        else out.assign(npl_ratio=np.nan, special_mention_ratio=np.nan)
    )
    out = out.join(bank.add_prefix("bank_"))
    return out.reset_index()


def roll_rates(
    rolls: pd.DataFrame,
    *,
    month: str,
    weight: Literal["outstanding", "loans"] = "outstanding",
    exits: tuple[str, ...] = (CLOSED,),
) -> pd.DataFrame:
    """Month-on-month roll-rate matrix into ``month``: rows the bucket last month, columns
    the bucket this month or how the loan left the book, each row summing to 1.

    ``exits``: the columns of loans gone from the book: ``closed`` alone when the
    warehouse does not say why, else :data:`~.history.CLOSE_REASONS` (repaid, written
    off, restructured), with ``closed`` added when some exit has no reason. Weighted by
    last month's outstanding (or by loan count). A bucket that held no loans has a row
    of NaN.
    """
    r = rolls[rolls["month"] == month]
    exits = tuple(exits)
    if CLOSED not in exits and (r["to_bucket"] == CLOSED).any():
        exits = (*exits, CLOSED)
    m = r.groupby(["from_bucket", "to_bucket"])[weight].sum().astype(float).unstack()
    m = m.reindex(index=list(DPD_BUCKETS), columns=[*DPD_BUCKETS, *exits]).fillna(0.0)
    total = m.sum(axis=1)
    m = m.div(total.where(total > 0), axis=0)
    m.index.name, m.columns.name = "from_bucket", None
    return m


def roll_forward_rate(matrix: pd.DataFrame, *, bucket: str = "current") -> float:
    """Share of last month's balance in ``bucket`` that is in a worse bucket this month,
    from :func:`roll_rates` (for ``current``: the balance that fell past due); NaN when
    the bucket held no loans."""
    worse = list(DPD_BUCKETS[DPD_BUCKETS.index(bucket) + 1 :])
    row = matrix.loc[bucket]
    return float(row[worse].sum()) if row.notna().any() else float("nan")
