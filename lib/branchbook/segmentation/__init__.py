"""Customer segmentation (客户分类与分级): tiers, grades, scores, clusters and migration.

How the report is computed:

* :func:`prepare` (:mod:`.prepare`) runs once per period for the whole bank. It
  aggregates the warehouse in SQL to one row per customer (``segmentation_customers``),
  computes what must be measured the same way across the bank (percentile ranks, RFM
  quintiles, k-means clusters of :mod:`.clusters`) and the bank-wide benchmarks
  (``bench_segmentation``, ``bench_segmentation_clusters``).
* :func:`classify` (:mod:`.tiers`) turns a branch's customer rows into tiers, grade,
  composite score, level and lifecycle stage with the branch's own thresholds
  (:mod:`.settings`); :func:`previous` gives the same rows as they stood at the
  previous period.
* :mod:`.views` and :mod:`.concentration` hold the report's tables, one per section;
  :mod:`.metrics` declares the KPI cards once and builds them; :mod:`.summary` chooses
  the summary sentences and lists the definitions; :mod:`.bridges` splits the change
  of customers and AUM since last month and since the start of the year by asset tier;
  :mod:`.suitability` finds the products held above the customer's risk appetite and
  :mod:`.cross_sell` the product types each tier holds and the customers without them;
  :mod:`.profile` describes each tier's individuals by age, gender, occupation, income.

Conventions: money in the bank's currency (CNY); shares are fractions (0.25, not 25);
AUM (assets under management, 资产规模) = deposits + wealth at a month end. A customer is
*open* at a month end when ``opened_on <= month end`` and ``closed_on`` is empty or later
than the month end. Every function takes frames and returns new ones; inputs are never
changed. An empty branch gives empty tables and NaN shares, never an error.
"""

from ..metrics.cards import bank_median
from .bridges import (
    BASES,
    MEASURES,
    bridge_facts,
    bridge_rows,
    bridge_table,
    bridge_table_total,
    bridge_total,
    bridges,
    manager_bridge,
    tier_bridge,
)
from .clusters import (
    ACTIVITY_LABELS,
    CLUSTER_FEATURES,
    CLUSTER_LABELS,
    CLUSTER_TRAITS,
    VALUE_LABELS,
    assign_clusters,
    cluster_features,
    cluster_label,
    cluster_trait,
    fit_clusters,
    kmeans,
)
from .concentration import gini, lorenz, top_share
from .cross_sell import (
    LIFT_COLUMNS,
    MIN_CONFIDENCE,
    MIN_LIFT,
    SHARE_COLUMNS,
    gaps,
    lift_table,
    penetration,
    penetration_total,
    usual_products,
)
from .metrics import (
    METRICS,
    kpi_table,
    kpis,
    league_values,
    pooled_kpis,
    scope_kpis,
    scope_values,
    scope_year_start,
    unit_kpis,
)
from .prepare import prepare
from .profile import AGE_BANDS, age_band, profile, profile_total, share_columns
from .settings import (
    ACTION_REASONS,
    ACTIVITY_DAYS,
    ACTIVITY_TIERS,
    ASSET_TIERS,
    CREDIT_GRADES,
    CUSTOMER_TYPES,
    DIMENSIONS,
    FIVE_CLASS_GRADE,
    FIVE_CLASSES,
    HIGH_VALUE_TIERS,
    LEVELS,
    LIFECYCLE,
    REPORT,
    RFM_MONTHS,
    SOURCES,
    TOP_SHARE,
    TREND_MONTHS,
    ActivityTiers,
    AssetTiers,
    BankWide,
    CompositeWeights,
    CreditPoints,
    Lifecycle,
    Settings,
)
from .suitability import RISK_LEVELS, is_mismatch
from .suitability import by_manager as suitability_by_manager
from .suitability import by_manager_total as suitability_total
from .suitability import mismatch_list as suitability_list
from .summary import DEFINITIONS, summary_facts
from .tiers import (
    activity_tier,
    asset_tier,
    aum_trend,
    classify,
    composite_level,
    composite_score,
    credit_score,
    lifecycle_stage,
    open_customers,
    percentile_rank,
    previous,
    quintile_score,
    rfm_scores,
)
from .value import (
    PRODUCT_CLASS,
    annual_retention,
    class_margins,
    clv_by,
    customer_clv,
    lifetime_value,
    margins_by_product,
    retention_usable,
)
from .views import (
    action_list,
    branch_vs_bank,
    cluster_profile,
    dormant_high_value,
    migration_counts,
    migration_matrix,
    rfm_distribution,
    rfm_grid,
    tier_summary,
    tier_total,
    type_split,
)

__all__ = [
    "PRODUCT_CLASS",
    "annual_retention",
    "class_margins",
    "clv_by",
    "customer_clv",
    "lifetime_value",
    "margins_by_product",
    "retention_usable",
    "league_values",
    "scope_values",
    "pooled_kpis",
    "scope_kpis",
    "scope_year_start",
    "unit_kpis",
    "BASES",
    "MEASURES",
    "bridge_facts",
    "bridge_rows",
    "bridge_table",
    "bridge_table_total",
    "bridge_total",
    "bridges",
    "manager_bridge",
    "tier_bridge",
    "ACTION_REASONS",
    "ACTIVITY_DAYS",
    "ACTIVITY_LABELS",
    "ACTIVITY_TIERS",
    "ASSET_TIERS",
    "CLUSTER_FEATURES",
    "CLUSTER_LABELS",
    "CLUSTER_TRAITS",
    "CREDIT_GRADES",
    "CUSTOMER_TYPES",
    "DEFINITIONS",
    "DIMENSIONS",
    "FIVE_CLASS_GRADE",
    "FIVE_CLASSES",
    "HIGH_VALUE_TIERS",
    "LEVELS",
    "LIFECYCLE",
    "METRICS",
    "REPORT",
    "RFM_MONTHS",
    "SOURCES",
    "TOP_SHARE",
    "TREND_MONTHS",
    "VALUE_LABELS",
    "ActivityTiers",
    "AssetTiers",
    "BankWide",
    "CompositeWeights",
    "CreditPoints",
    "Lifecycle",
    "Settings",
    "action_list",
    "activity_tier",
    "asset_tier",
    "assign_clusters",
    "aum_trend",
    "bank_median",
    "branch_vs_bank",
    "classify",
    "cluster_features",
    "cluster_label",
    "cluster_profile",
    "cluster_trait",
    "composite_level",
    "composite_score",
    "credit_score",
    "dormant_high_value",
    "fit_clusters",
    "gini",
    "kmeans",
    "kpi_table",
    "kpis",
    "lifecycle_stage",
    "lorenz",
    "migration_counts",
    "migration_matrix",
    "open_customers",
    "percentile_rank",
    "prepare",
    "previous",
    "quintile_score",
    "rfm_distribution",
    "rfm_grid",
    "rfm_scores",
    "RISK_LEVELS",
    "MIN_CONFIDENCE",
    "AGE_BANDS",
    "age_band",
    "profile",
    "profile_total",
    "share_columns",
    "MIN_LIFT",
    "LIFT_COLUMNS",
    "SHARE_COLUMNS",
    "gaps",
    "lift_table",
    "penetration",
    "penetration_total",
    "usual_products",
    "is_mismatch",
    "suitability_by_manager",
    "suitability_list",
    "suitability_total",
    "summary_facts",
    "tier_summary",
    "tier_total",
    "top_share",
    "type_split",
]
