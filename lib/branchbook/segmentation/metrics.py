"""The KPI cards, declared once, and the bank benchmark they are measured against.

Each card's number is one function of classified customer rows (one branch, or any
set: the bank benchmark applies the same function to every branch); its
:class:`~branchbook.metrics.Metric` declaration says how it prints, which direction is
better and that ``customers`` is the report's column in the index.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..metrics import Metric, declare, league, ratio
from ..metrics.cards import card_frame, unit_values, year_start_period
from ..metrics.scopes import scope_value
from ..orgtree import BANK
from .concentration import gini, top_share
from .settings import DIMENSIONS, HIGH_VALUE_TIERS, REPORT, Settings
from .suitability import holders, mismatch_customers, mismatch_share
from .tiers import open_customers
from .views import dormant_high_value


def _high_value(open_: pd.DataFrame) -> pd.Series:
    return open_["asset_tier"].isin(HIGH_VALUE_TIERS)


def _dormant(open_: pd.DataFrame) -> pd.Series:
    return open_["activity_tier"] == "dormant"


def customers(rows: pd.DataFrame) -> float:
    """Customers open at the period (count)."""
    return float(len(open_customers(rows)))


def aum_total(rows: pd.DataFrame) -> float:
    """AUM of the open customers (CNY); 0 for nobody."""
    return float(open_customers(rows)["aum"].sum())


def top20_share(rows: pd.DataFrame) -> float:
    """Share of the open customers' AUM held by their top 20% (:func:`top_share`); NaN
    when empty or when their AUM is 0."""
    return top_share(open_customers(rows)["aum"])


def active_share(rows: pd.DataFrame) -> float:
    """Share of the open customers not in the dormant activity tier; NaN when empty."""
    o = open_customers(rows)
    return ratio(float((~_dormant(o)).sum()), float(len(o)))


def high_value_customers(rows: pd.DataFrame) -> float:
    """Open customers in the wealth or private asset tier (count)."""
    return float(_high_value(open_customers(rows)).sum())


def dormant_high_value_share(rows: pd.DataFrame) -> float:
    """Share of the high-value customers (wealth, private) in the dormant activity tier;
    NaN without high-value customers."""
    o = open_customers(rows)
    high = _high_value(o)
    return ratio(float((high & _dormant(o)).sum()), float(high.sum()))


#: The KPI cards, in card order; ``customers`` is the report's column in the index.
METRICS: tuple[Metric, ...] = declare(
    Metric("customers", REPORT, "int", "high", customers, headline=True),
    Metric("aum_total", REPORT, "money", "high", aum_total, on_basis=True),
    Metric("top20_share", REPORT, "pct", "low", top20_share),
    Metric("active_share", REPORT, "pct", "high", active_share),
    Metric("high_value_customers", REPORT, "int", "high", high_value_customers),
    Metric("dormant_high_value_share", REPORT, "pct", "low", dormant_high_value_share),
    Metric("suitability_mismatches", REPORT, "int", "low", mismatch_customers),
    Metric("suitability_mismatch_share", REPORT, "pct", "low", mismatch_share),
)


def kpis(rows: pd.DataFrame) -> dict[str, float]:
    """``{key: value}`` of every KPI card (:data:`METRICS`) for classified customer rows."""
    return {m.key: m.compute(rows) for m in METRICS}


def _bench_rows(classified: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per branch: KPIs, Gini, share of customers (and of AUM) per category, and
    the counts a share card is pooled from at a region or the bank
    (``dormant_high_value``, ``suitability_holders``: :func:`pooled_kpis`)."""
    # every column stays: a metric declared later may read any of them (cutting to a
    # fixed list saved nothing measurable: 0.75 s either way for 26k customers)
    open_ = open_customers(classified)
    rows = []
    for bid, g in classified.groupby("branch_id", sort=True):
        o = open_customers(g)
        dhv = dormant_high_value(g)["count"]
        row = {"branch_id": bid, "period": period, **kpis(g), "gini": gini(o["aum"])}
        rows.append({**row, "dormant_high_value": dhv, "suitability_holders": holders(g)})
    counts = ["dormant_high_value", "suitability_holders"]
    out = pd.DataFrame(
        rows, columns=["branch_id", "period", *(m.key for m in METRICS), "gini", *counts]
    )
    out = out.set_index("branch_id")
    n = open_.groupby("branch_id").size()
    aum = open_.groupby("branch_id")["aum"].sum()
    for dim, cats in DIMENSIONS.items():
        known = open_[dim].notna().groupby(open_["branch_id"]).any()
        counts = pd.crosstab(open_["branch_id"], open_[dim]) if len(open_) else pd.DataFrame()
        counts = counts.reindex(index=out.index, columns=list(cats), fill_value=0)
        for cat in cats:
            share = counts[cat] / n.reindex(out.index)
            out[f"share_{dim}_{cat}"] = share.where(known.reindex(out.index, fill_value=False))
        if dim in ("asset_tier", "customer_type"):
            sums = (
                open_.pivot_table(index="branch_id", columns=dim, values="aum", aggfunc="sum")
                if len(open_)
                else pd.DataFrame()
            )
            sums = sums.reindex(index=out.index, columns=list(cats)).fillna(0.0)
            total = aum.reindex(out.index)
            for cat in cats:
                out[f"aum_share_{dim}_{cat}"] = (sums[cat] / total.where(total > 0)).astype(float)
    return out.reset_index()


def kpi_table(
    current: dict[str, float],
    previous_kpis: dict[str, float],
    *,
    bench: pd.DataFrame,
    branch_id: str,
    period: str,
    settings: Settings,
) -> pd.DataFrame:
    """KPI cards: one row per KPI of :data:`METRICS` with value, previous, change, bank
    median, rank among the branches, RAG status under ``settings.kpi_status`` and the
    value at the start of the year from the bench's row of last December (see
    :func:`branchbook.metrics.cards.card_frame`)."""
    return card_frame(
        METRICS,
        current,
        previous_kpis,
        year_start=unit_values(bench, branch_id, year_start_period(period)),
        bench=bench,
        unit_id=branch_id,
        period=period,
        rag=settings.kpi_status,
    )


def unit_kpis(bench, settings: Settings | None = None) -> pd.DataFrame:
    """Every declared KPI per branch and period from prepare's benchmark (``branch_id``,
    ``period``, one column per key): what the index and head-office views read."""
    frame = bench("bench_segmentation")
    return frame[["branch_id", "period", *(m.key for m in METRICS)]]


#: The cards whose sums ``bench_segmentation`` keeps per branch, so a region or the
#: bank can be pooled from its branches' rows (:func:`pooled_kpis`).
POOLED_KEYS = (
    "customers",
    "aum_total",
    "high_value_customers",
    "active_share",
    "dormant_high_value_share",
    "suitability_mismatches",
    "suitability_mismatch_share",
)
#: The card that does not add up across branches: measured by prepare on each
#: scope's pooled customers (``bench_segmentation_scopes``, :func:`scope_kpis`).
SCOPE_KEYS = ("top20_share",)


def scope_kpis(rows: pd.DataFrame) -> dict[str, float]:
    """The cards of :data:`SCOPE_KEYS` of a scope's pooled customer ``rows``: the share
    of its AUM held by its own top 20% of customers (:func:`top20_share`), which are
    not its branches' top 20% put together."""
    return {"top20_share": top20_share(rows)}


def pooled_kpis(bench, units: Mapping[str, str], settings: Settings | None = None) -> pd.DataFrame:
    """The cards of each unit of ``units`` (branch -> unit: a region, the bank) per
    period, pooled from its branches' rows of ``bench_segmentation`` (``bench``: name
    -> frame, as :func:`unit_kpis`): ``customers``, ``aum_total``,
    ``high_value_customers`` and ``suitability_mismatches`` added; ``active_share`` as
    the active customers (``active_share x customers``) over the customers,
    ``dormant_high_value_share`` as ``dormant_high_value`` over
    ``high_value_customers`` and ``suitability_mismatch_share`` as the mismatched
    customers over ``suitability_holders``, each added first (NaN over nobody). The top
    20%'s share is not a ratio of sums (:data:`SCOPE_KEYS`: absent here). Columns
    ``unit, period`` and :data:`POOLED_KEYS`; a unit without rows has none."""
    rows = bench("bench_segmentation")
    rows = rows.assign(active=rows["active_share"] * rows["customers"])
    sums = ["customers", "aum_total", "high_value_customers", "active", "dormant_high_value",
            "suitability_mismatches", "suitability_holders"]  # fmt: skip
    out = league.pool(rows, units, sums=sums)
    out["active_share"] = ratio(out["active"], out["customers"])
    out["dormant_high_value_share"] = ratio(out["dormant_high_value"], out["high_value_customers"])
    out["suitability_mismatch_share"] = ratio(
        out["suitability_mismatches"], out["suitability_holders"]
    )
    return out[["unit", "period", *POOLED_KEYS]]


def league_values(units: Mapping[str, str], *, bench: pd.DataFrame) -> pd.DataFrame:
    """Customers per unit and period for the league tables
    (:mod:`branchbook.metrics.league`): the sum of its branches' ``customers`` in
    ``bench_segmentation`` (a count: no funnel). ``units``: branch -> unit. Columns
    ``unit, period, value``."""
    sums = league.pool(bench, units, sums=["customers"])
    return sums.rename(columns={"customers": "value"})


def scope_values(
    bench: pd.DataFrame,
    *,
    members,
    period: str,
    measured: pd.DataFrame | None = None,
    scope: str = BANK,
) -> dict[str, float]:
    """The cards of ``members`` (a region, the bank: ``scope``) at ``period``: those
    of :data:`POOLED_KEYS` pooled from their branches' rows of ``bench_segmentation``
    (:func:`pooled_kpis`), and the top 20%'s share from ``measured``
    (``bench_segmentation_scopes``: prepare's measure on the scope's pooled customers).
    A card without a value there is absent ("n/a"); empty without rows."""
    pooled = pooled_kpis(lambda _name: bench, dict.fromkeys(members, "*"))
    row = pooled[pooled["period"] == period]
    if row.empty:
        return {}
    out = {k: float(row[k].iloc[0]) for k in POOLED_KEYS}
    return out | scope_value(measured, scope=scope, period=period)


def scope_year_start(
    bench: pd.DataFrame,
    *,
    members,
    period: str,
    measured: pd.DataFrame | None = None,
    scope: str = BANK,
) -> dict[str, float]:
    """A region's or the bank's (``members``, ``scope``) cards at the start of the
    year (last December): :func:`scope_values` there."""
    return scope_values(
        bench, members=members, period=year_start_period(period), measured=measured, scope=scope
    )
