"""Staff KPI evaluation (客户经理绩效考核): per-manager KPIs, balanced scorecard, ratings.

The report evaluates every customer manager of a branch on one month (the period):

* **KPIs** of the manager's book (growth, service and compliance over the customers
  whose ``manager_id`` is the manager; asset quality over the loans whose
  ``manager_id`` is the manager), :func:`.scoring.manager_kpis`;
* **attainment** against the targets of the ``targets`` table, year to date (比年初),
  with the month's own where its target is not near zero (:mod:`.attainment`);
* a **balanced scorecard** (:mod:`.scoring`): each KPI is normalised within the peer
  group (the same grade across the whole bank, the same month) to a 0-100 score;
  dimension scores are the mean of their KPIs' scores; the composite is their weighted
  mean; **ratings** A/B/C/D by a forced distribution, an asset-quality veto;
* **funnel plots** of NPL ratio and churn rate against book size, with exact
  binomial limits widened when managers are overdispersed (:mod:`.funnel`);
* the **KPI cards**, declared once in :mod:`.metrics`.

Everything measured across the bank is computed once in :func:`prepare`
(:mod:`.prepare`), so every branch's report uses the same yardstick; the notebook reads
its branch's extract and calls :mod:`.views`, :mod:`.trend` and :mod:`.summary`.

Conventions: money is in the bank's currency (CNY); rates are shares (0.05 = 5%);
scores are 0-100; a zero denominator gives NaN, never 0 or an error.

Files: ``settings`` (parameters and names), ``prepare`` (SQL and the bank-wide frames),
``scoring``, ``attainment``, ``funnel``, ``metrics`` (card declarations, bank medians),
``views`` (tables), ``trend``, ``summary`` (summary sentences, definitions),
``bridges`` (each manager's contribution to the branch's change in AUM, loans and
NPL ratio since last month and the start of the year).
"""

from ..metrics.history import status_notes
from .attainment import (
    attainment,
    attainment_bars,
    attainment_table,
    monthly_table,
    target_attainment,
)
from .bridges import (
    BASES,
    HEADLINES,
    STOCKS,
    base_months,
    branch_bridge,
    bridge_facts,
    contribution_table,
    manager_bridges,
    npl_split,
    npl_total,
)
from .development import (
    DEVELOPMENT_COLUMNS,
    commission,
    development_counts,
    development_table,
    pay_table,
    training_window,
)
from .funnel import (
    FUNNEL_METRICS,
    FUNNEL_TAILS,
    effective_loans,
    funnel_band,
    funnel_curve,
    funnel_frame,
    funnel_limits,
    funnel_notes,
    funnel_outliers,
    funnel_outside,
    funnel_p0,
    funnel_points,
    funnel_position,
    funnel_spread,
    overdispersion,
    widening,
)
from .metrics import (
    CARD_KEYS,
    CARDS,
    bank_medians,
    bank_values,
    bench_branches,
    bench_grades,
    headline_table,
    kpi_cards,
    kpis,
    league_values,
    pooled_kpis,
    unit_kpis,
)
from .prepare import manager_months, prepare
from .scoring import (
    apply_veto,
    composite,
    forced_ratings,
    manager_kpis,
    normalise,
    percentile_score,
    rank_within,
    score_managers,
    scorecard_kpis,
    winsorise,
    zscore_score,
)
from .settings import (
    DEFAULT_STATUS,
    DIMENSIONS,
    GRADES,
    KPIS,
    NPL_CLASSES,
    RATINGS,
    REPORT,
    SOURCES,
    TARGET_KPIS,
    Settings,
)
from .summary import DEFINITIONS, summary_facts
from .trend import trend, trend_lines, trend_panels, trend_table
from .views import (
    BARS_MAX,
    MANAGER_COLUMNS,
    bonus_pool_factor,
    bonus_scale,
    composite_bars,
    grades,
    incentive_table,
    manager_table,
    rating_distribution,
    score_matrix,
    score_names,
    scorecard_design,
    scorecard_table,
    veto_table,
)

__all__ = [
    "league_values",
    "pooled_kpis",
    "bank_values",
    "unit_kpis",
    "DEVELOPMENT_COLUMNS",
    "commission",
    "development_counts",
    "development_table",
    "pay_table",
    "training_window",
    "status_notes",
    "BASES",
    "HEADLINES",
    "STOCKS",
    "base_months",
    "branch_bridge",
    "bridge_facts",
    "contribution_table",
    "manager_bridges",
    "npl_split",
    "npl_total",
    "CARDS",
    "CARD_KEYS",
    "DEFAULT_STATUS",
    "DEFINITIONS",
    "DIMENSIONS",
    "FUNNEL_TAILS",
    "FUNNEL_METRICS",
    "GRADES",
    "KPIS",
    "MANAGER_COLUMNS",
    "NPL_CLASSES",
    "RATINGS",
    "REPORT",
    "SOURCES",
    "TARGET_KPIS",
    "Settings",
    "apply_veto",
    "attainment",
    "attainment_bars",
    "attainment_table",
    "bank_medians",
    "bench_branches",
    "bench_grades",
    "bonus_pool_factor",
    "bonus_scale",
    "composite",
    "BARS_MAX",
    "composite_bars",
    "effective_loans",
    "forced_ratings",
    "funnel_band",
    "funnel_curve",
    "funnel_frame",
    "funnel_limits",
    "funnel_notes",
    "funnel_outliers",
    "funnel_outside",
    "funnel_p0",
    "funnel_points",
    "funnel_position",
    "funnel_spread",
    "grades",
    "headline_table",
    "incentive_table",
    "kpi_cards",
    "kpis",
    "manager_kpis",
    "manager_months",
    "manager_table",
    "monthly_table",
    "normalise",
    "overdispersion",
    "percentile_score",
    "prepare",
    "rank_within",
    "rating_distribution",
    "score_managers",
    "score_matrix",
    "score_names",
    "scorecard_design",
    "scorecard_kpis",
    "scorecard_table",
    "summary_facts",
    "target_attainment",
    "trend",
    "trend_lines",
    "trend_panels",
    "trend_table",
    "veto_table",
    "widening",
    "winsorise",
    "zscore_score",
]
