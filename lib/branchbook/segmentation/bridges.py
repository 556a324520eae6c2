"""What changed since last month and since the start of the year, and why: the
customers, AUM and deposits bridges by asset tier (:func:`branchbook.stats.stock_bridge`).

The rows are ``segmentation_bridge`` (:func:`.prepare.bridge_customers`): one per
customer open at one of the three month ends. The base is ``"month"`` (比上月, the
previous month end) or ``"year"`` (比年初, the end of the previous year). A customer's
tier at each end is the asset tier of its AUM then, with the branch's thresholds; a
customer who changes tier moves its opening amount from the old tier to the new one.
Deposits are bridged by the same tiers (of AUM, deposits + wealth): a customer's
deposits move with it when its AUM changes tier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import privacy
from ..stats import largest_driver, stock_bridge, stock_total
from .settings import ASSET_TIERS, Settings
from .tiers import asset_tier

#: The bases of a bridge: the opening month end's columns (open flag, AUM, deposits).
BASES: dict[str, tuple[str, str, str]] = {
    "month": ("open_prev", "aum_prev", "deposits_prev"),
    "year": ("open_year", "aum_year", "deposits_year"),
}
#: The stocks bridged in this report, in summary order: the headline customers, AUM, and
#: deposits (no report declares deposits a headline; they are bridged here beside AUM).
MEASURES: tuple[str, ...] = ("customers", "aum_total", "deposits")
#: The columns of :func:`bridge_rows` each measure is bridged from.
_COLUMN = {"customers": "n", "aum_total": "aum", "deposits": "dep"}


def _column(measure: str) -> str:
    if measure not in _COLUMN:
        raise ValueError(
            f"`measure` is expected to be one of {tuple(_COLUMN)}. Got {measure!r} instead."
        )
    return _COLUMN[measure]


def _base(base: str) -> tuple[str, str, str]:
    if base not in BASES:
        raise ValueError(f"`base` is expected to be one of {tuple(BASES)}. Got {base!r} instead.")
    return BASES[base]


def bridge_rows(rows: pd.DataFrame, settings: Settings, *, base: str) -> pd.DataFrame:
    """One row per customer with ``aum_opening`` / ``aum_closing`` (NaN when not open),
    ``dep_opening`` / ``dep_closing`` (deposits, likewise), ``n_opening`` / ``n_closing``
    (1.0 when open, else NaN) and ``tier_opening`` / ``tier_closing`` (the asset tier
    then, NaN when not open) for ``base``."""
    open_col, aum_col, dep_col = _base(base)
    open0 = rows[open_col].fillna(False).astype(bool)
    open1 = rows["open_now"].fillna(False).astype(bool)
    a0 = pd.to_numeric(rows[aum_col]).astype(float).where(open0)
    a1 = pd.to_numeric(rows["aum"]).astype(float).where(open1)
    return pd.DataFrame(
        {
            "customer_id": rows["customer_id"],
            "manager_id": rows["manager_id"],
            "aum_opening": a0,
            "aum_closing": a1,
            "dep_opening": pd.to_numeric(rows[dep_col]).astype(float).where(open0),
            "dep_closing": pd.to_numeric(rows["deposits"]).astype(float).where(open1),
            "n_opening": pd.Series(1.0, index=rows.index).where(open0),
            "n_closing": pd.Series(1.0, index=rows.index).where(open1),
            "tier_opening": asset_tier(a0, settings.asset_tiers),
            "tier_closing": asset_tier(a1, settings.asset_tiers),
        },
        index=rows.index,
    )


def tier_bridge(
    rows: pd.DataFrame, settings: Settings, *, base: str, measure: str = "aum_total"
) -> pd.DataFrame:
    """The stock bridge of ``measure`` (``aum_total``, ``deposits``: CNY; ``customers``:
    count) by asset tier (rows in :data:`ASSET_TIERS` order, every tier present), against
    ``base``."""
    col = _column(measure)
    b = bridge_rows(rows, settings, base=base)
    return stock_bridge(
        b,
        opening=f"{col}_opening",
        closing=f"{col}_closing",
        by="tier_closing",
        by_opening="tier_opening",
        order=list(ASSET_TIERS),
    ).rename_axis("asset_tier")


def manager_bridge(
    rows: pd.DataFrame, settings: Settings, *, base: str, measure: str = "aum_total"
) -> pd.DataFrame:
    """The stock bridge of ``measure`` by customer manager (``manager_id`` as the
    customer has it now): each manager's part of the change, adding up to the whole."""
    col = _column(measure)
    b = bridge_rows(rows, settings, base=base)
    return stock_bridge(b, opening=f"{col}_opening", closing=f"{col}_closing", by="manager_id")


def bridge_total(
    rows: pd.DataFrame, settings: Settings, *, base: str, measure: str = "aum_total"
) -> pd.Series:
    """The branch's (or the scope's) whole bridge of ``measure`` against ``base``:
    opening, the parts, closing (the moves between tiers cancel)."""
    return stock_total(tier_bridge(rows, settings, base=base, measure=measure))


def bridge_table(
    rows: pd.DataFrame, settings: Settings, *, base: str, measure: str = "aum_total"
) -> pd.DataFrame:
    """The AUM (or ``measure``: deposits) bridge by asset tier with ``customers`` (open
    at the closing, for suppression) in front: a table for the report."""
    amount = tier_bridge(rows, settings, base=base, measure=measure)
    count = tier_bridge(rows, settings, base=base, measure="customers")
    return amount.assign(customers=count["closing"])[["customers", *amount.columns]]


def bridge_table_total(
    rows: pd.DataFrame,
    settings: Settings,
    *,
    base: str,
    suppress_below: int | None = None,
    measure: str = "aum_total",
) -> dict[str, Any]:
    """The totals row of :func:`bridge_table`: the whole bridge (every column is a sum:
    counts and CNY), the moves between tiers cancelling. With ``suppress_below`` every
    value is :data:`branchbook.privacy.SUPPRESSED` when the customers now number fewer
    than the limit (but some), as :func:`.views.tier_total` does."""
    t = bridge_table(rows, settings, base=base, measure=measure).sum()
    out: dict[str, Any] = {k: float(v) for k, v in t.items()}
    if suppress_below is not None and 0 < out["customers"] < suppress_below:
        out = dict.fromkeys(out, privacy.SUPPRESSED)
    return out


def bridges(rows: pd.DataFrame, settings: Settings) -> dict[tuple[str, str], pd.DataFrame]:
    """Every bridge of the report: ``{(measure, base): tier bridge}``."""
    return {(m, b): tier_bridge(rows, settings, base=b, measure=m) for m in MEASURES for b in BASES}


def bridge_facts(
    rows: pd.DataFrame,
    settings: Settings,
    *,
    label: Callable[[str, Any], str],
    base: str = "month",
) -> list[tuple[str, dict[str, Any]]]:
    """One summary sentence per bridged stock that moved by ``settings.fact_bridge``
    or more (relative to its opening) against ``base``, naming its largest driver
    (a part in one asset tier) and its size. ``label(prefix, code)`` translates the
    part (``common.bridge``) and the tier (``segmentation.values.asset_tier``). Nothing
    without an opening (a first period). No customer is named: drivers are tiers."""
    facts = []
    for measure in MEASURES:
        b = tier_bridge(rows, settings, base=base, measure=measure)
        t = stock_total(b)
        if t["opening"] <= 0:
            continue
        change = t["closing"] - t["opening"]
        if abs(change) / t["opening"] < settings.fact_bridge:
            continue
        driver = largest_driver(b)
        if driver is None:
            continue
        tier, part, amount = driver
        facts.append(
            (
                f"segmentation.summary.bridge_{measure}",
                {
                    "change": change,
                    "change_rel": change / t["opening"],
                    "base": label("common.bridge.bases", base),
                    "part": label("common.bridge.words", part),
                    "tier": label("segmentation.values.asset_tier", tier),
                    "amount": amount,
                },
            )
        )
    return facts
