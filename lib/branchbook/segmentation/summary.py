"""The summary sentences chosen from the numbers, and the definitions appendix."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..metrics import ratio
from ..metrics.cards import bank_median
from .metrics import kpis
from .settings import HIGH_VALUE_TIERS, Settings
from .tiers import open_customers
from .views import dormant_high_value, migration_counts, tier_summary


def summary_facts(
    current: pd.DataFrame,
    previous_rows: pd.DataFrame,
    *,
    bench: pd.DataFrame,
    period: str,
    settings: Settings,
) -> list[tuple[str, dict[str, Any]]]:
    """3 to 6 facts for the summary: ``(catalogue key, values)``, most important first.

    ``current`` = ``classify(rows, s)``, ``previous_rows`` = ``classify(previous(rows),
    s)``. Always: the overview (customers, AUM, change; ``overview_first_period`` when
    nobody was open before) and the AUM concentration against the bank. When they
    apply: customers holding products above their risk appetite (``suitability``, any),
    dormant high-value customers (``..._above_bank`` when their share of the
    high-value customers is ``fact_gap`` or more above the bank median), net tier
    slippage or upgrades (net movers at least ``fact_migration`` of the customers open
    at both periods), an active share or a decline-stage share ``fact_gap`` or more
    from the bank median; the high-value customers fill up to three facts. An empty
    branch gives the single fact ``segmentation.summary.no_customers``.
    """
    key = "segmentation.summary."
    now, before = kpis(current), kpis(previous_rows)
    if now["customers"] == 0:
        return [(key + "no_customers", {})]
    facts: list[tuple[str, dict[str, Any]]] = []
    if before["customers"] == 0:
        facts.append(
            (
                key + "overview_first_period",
                {"customers": now["customers"], "aum": now["aum_total"]},
            )
        )
    else:
        facts.append(
            (
                key + "overview",
                {
                    "customers": now["customers"],
                    "customers_change": now["customers"] / before["customers"] - 1,
                    "aum": now["aum_total"],
                    "aum_change": ratio(now["aum_total"], before["aum_total"]) - 1,
                },
            )
        )
    dhv = dormant_high_value(current)
    if dhv["count"] > 0:
        share, median = (
            now["dormant_high_value_share"],
            bank_median(bench, "dormant_high_value_share", period),
        )
        above = share - median >= settings.fact_gap
        values = {"count": dhv["count"], "aum": dhv["aum"], "aum_change": dhv["aum_change"]}
        if above:
            values |= {"share": share, "bank_median": median}
        facts.append(
            (key + ("dormant_high_value_above_bank" if above else "dormant_high_value"), values)
        )
    if now["suitability_mismatches"] > 0:
        facts.append(
            (
                key + "suitability",
                {
                    "count": now["suitability_mismatches"],
                    "share": now["suitability_mismatch_share"],
                    "balance": float(open_customers(current)["mismatch_balance"].sum()),
                },
            )
        )
    moves = migration_counts(current)
    stayed = moves["upgraded"] + moves["downgraded"] + moves["unchanged"]
    net = (moves["downgraded"] - moves["upgraded"]) / stayed if stayed else 0.0
    if net >= settings.fact_migration:
        facts.append(
            (
                key + "tier_slippage",
                {"downgraded": moves["downgraded"], "upgraded": moves["upgraded"]},
            )
        )
    elif -net >= settings.fact_migration:
        facts.append(
            (
                key + "tier_upgrades",
                {"upgraded": moves["upgraded"], "downgraded": moves["downgraded"]},
            )
        )
    facts.append(
        (
            key + "aum_concentration",
            {
                "top20_share": now["top20_share"],
                "bank_median": bank_median(bench, "top20_share", period),
            },
        )
    )
    active_median = bank_median(bench, "active_share", period)
    if abs(now["active_share"] - active_median) >= settings.fact_gap:
        side = "below" if now["active_share"] < active_median else "above"
        facts.append(
            (
                key + f"active_{side}_bank",
                {"active_share": now["active_share"], "bank_median": active_median},
            )
        )
    decline = tier_summary(current, "lifecycle").loc["decline", "customer_share"]
    decline_median = bank_median(bench, "share_lifecycle_decline", period)
    if decline - decline_median >= settings.fact_gap:
        facts.append(
            (key + "decline_above_bank", {"decline_share": decline, "bank_median": decline_median})
        )
    if len(facts) < 3:
        tiers = tier_summary(current, "asset_tier")
        facts.append(
            (
                key + "high_value",
                {
                    "count": now["high_value_customers"],
                    "aum_share": float(
                        tiers.loc[list(HIGH_VALUE_TIERS), "aum_share"].sum(min_count=1)
                    ),
                },
            )
        )
    return facts[:6]


DEFINITIONS: dict[str, str] = {
    m: f"segmentation.definitions.{m}"
    for m in (
        "customers",
        "aum",
        "aum_total",
        "customer_type",
        "asset_tier",
        "txn_90d",
        "activity_tier",
        "credit_grade",
        "products_held",
        "tenure_months",
        "percentile_rank",
        "composite",
        "level",
        "aum_trend",
        "lifecycle",
        "recency_days",
        "rfm",
        "cluster",
        "customer_share",
        "aum_share",
        "avg_aum",
        "total_row",
        "top20_share",
        "gini",
        "lorenz",
        "migration",
        "active_share",
        "high_value_customers",
        "dormant_high_value",
        "dormant_high_value_share",
        "bank_median",
        "action_list",
        "bridge",
        "clv",
        "suitability_mismatches",
        "suitability_mismatch_share",
        "risk_level",
        "suitability_list",
        "penetration",
        "lift",
        "cross_sell_list",
        "customer_profile",
    )
}
