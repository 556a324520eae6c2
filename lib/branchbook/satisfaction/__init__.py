"""Customer satisfaction and complaints (客户满意度与投诉).

Scores, the branch against the bank, the drivers of satisfaction, complaints and
their service levels, churn and retention by satisfaction band.

Run order: :func:`prepare` once per period for the whole bank (SQL aggregation,
bank-wide tests with the false discovery rate controlled, the bank's driver model,
the bank's retention by band), then, per branch, the notebook calls the pure
functions below on the branch's extract and on the ``bench_`` frames.

The package's rooms:

- :mod:`.settings`: the report's name, its sources and its parameters;
- :mod:`.scores`: CSAT on 0-100 and top-2-box, NPS, intervals, scores by group;
- :mod:`.compare`: every branch against the rest of the bank, Benjamini-Hochberg;
- :mod:`.metrics`: the six KPI cards declared once, the monthly KPI frame and trend;
- :mod:`.drivers`: ordered logit of CSAT on the attribute ratings, importance x performance;
- :mod:`.focus`: what to fix first: ratings against the previous window x importance;
- :mod:`.complaints`: rates, SLA, resolution times, backlog, repeat complainants;
- :mod:`.retention`: churn, retention by satisfaction band;
- :mod:`.churn_model`, :mod:`.churn_risk`, :mod:`.churn_lists`: the churn early warning:
  the bank's model of churning in the next months (fitted and validated out of time in
  prepare), its reasons, and the valuable customers at risk by manager;
- :mod:`.views`: frames shaped for the page;
- :mod:`.bridges`: CSAT, NPS, complaints per 1,000 and churn since last month and since
  the start of the year, split into rate and mix effects by asset tier and channel;
- :mod:`.summary`: the summary sentences and the definitions appendix;
- :mod:`.prepare`: the bank-wide SQL and frames of one period.
"""

from __future__ import annotations

from ..metrics.models import asset_tier
from .bridges import (
    BASES,
    DIMENSIONS,
    MEASURES,
    SHOWN_AS,
    bridge_facts,
    bridge_overview,
    bridge_split,
    bridge_sums,
    bridge_table,
    bridge_total,
)
from .churn_lists import RANKED_SHARE as CHURN_RANKED_SHARE
from .churn_lists import bank_validation as churn_bank_validation
from .churn_lists import by_manager as churn_by_manager
from .churn_lists import calibration_note as churn_calibration_note
from .churn_lists import model_table as churn_model_table
from .churn_lists import probabilities_shown as churn_probabilities_shown
from .churn_lists import validation_note as churn_validation_note
from .churn_lists import validation_row as churn_validation_row
from .churn_lists import watch_list as churn_watch_list
from .churn_lists import winback_list
from .churn_model import FEATURES as CHURN_FEATURES
from .churn_model import ChurnModel
from .churn_model import usable as churn_usable
from .compare import bh_adjust, branch_tests, nps_change
from .complaints import (
    CATEGORIES,
    SEVERITIES,
    backlog_by_age,
    complaint_rates,
    complaints_by_tier,
    complaints_by_tier_total,
    km_quantile,
    open_backlog,
    repeat_complainants,
    resolution_times,
    sla_compliance,
)
from .drivers import ATTRIBUTES, QUADRANTS, Drivers, drivers
from .focus import attribute_change, bank_importance, focus_rows
from .followup import by_manager as followup_by_manager
from .followup import coverage_total as followup_total
from .followup import not_contacted
from .metrics import (
    KEYS,
    METRICS,
    MONTHLY_COLUMNS,
    kpi_frame,
    kpi_table,
    kpis,
    league_values,
    pooled_kpis,
    pooled_monthly,
    scope_kpi_table,
    trend,
    unit_kpis,
)
from .prepare import prepare, transaction_months
from .retention import cohort_months, retention_by_band, retention_curve
from .scores import (
    BANDS,
    SCORE_COLUMNS,
    SCORE_METRICS,
    SCORE_SUMS,
    SURVEY_CHANNELS,
    TIERS,
    csat_100,
    nps_interval,
    satisfaction_band,
    scores_by,
    scores_from_sums,
    wilson_interval,
)
from .settings import REPORT, SOURCES, Settings
from .summary import DEFINITIONS, summary_facts
from .views import branch_vs_bank, in_points, ipa_points, repeat_actions, scores_vs_bank

SCOPES = ("branch", "region", "bank")
"""Made for a branch, a region and the bank: at a region or the bank the cards, the
trend and the NPS change read the scope's pooled monthly sums (:func:`scope_kpi_table`,
:func:`pooled_monthly`) and the score tests set the scope against the rest of the bank."""

__all__ = [
    "BASES",
    "DIMENSIONS",
    "MEASURES",
    "SHOWN_AS",
    "bridge_facts",
    "bridge_overview",
    "bridge_split",
    "bridge_sums",
    "bridge_table",
    "bridge_total",
    "league_values",
    "pooled_monthly",
    "pooled_kpis",
    "scope_kpi_table",
    "unit_kpis",
    "CHURN_FEATURES",
    "CHURN_RANKED_SHARE",
    "ChurnModel",
    "churn_bank_validation",
    "churn_by_manager",
    "churn_model_table",
    "churn_usable",
    "churn_calibration_note",
    "churn_probabilities_shown",
    "churn_validation_note",
    "churn_validation_row",
    "churn_watch_list",
    "winback_list",
    "ATTRIBUTES",
    "BANDS",
    "CATEGORIES",
    "DEFINITIONS",
    "KEYS",
    "METRICS",
    "MONTHLY_COLUMNS",
    "QUADRANTS",
    "REPORT",
    "SCORE_COLUMNS",
    "SCORE_METRICS",
    "SCOPES",
    "SCORE_SUMS",
    "SEVERITIES",
    "SOURCES",
    "SURVEY_CHANNELS",
    "TIERS",
    "Drivers",
    "Settings",
    "asset_tier",
    "attribute_change",
    "bank_importance",
    "backlog_by_age",
    "bh_adjust",
    "branch_tests",
    "branch_vs_bank",
    "cohort_months",
    "complaint_rates",
    "followup_by_manager",
    "followup_total",
    "not_contacted",
    "complaints_by_tier",
    "complaints_by_tier_total",
    "csat_100",
    "drivers",
    "focus_rows",
    "in_points",
    "repeat_actions",
    "ipa_points",
    "km_quantile",
    "kpi_frame",
    "kpi_table",
    "kpis",
    "nps_change",
    "nps_interval",
    "open_backlog",
    "prepare",
    "repeat_complainants",
    "resolution_times",
    "retention_by_band",
    "retention_curve",
    "satisfaction_band",
    "scores_by",
    "scores_from_sums",
    "scores_vs_bank",
    "sla_compliance",
    "summary_facts",
    "transaction_months",
    "trend",
    "wilson_interval",
]
