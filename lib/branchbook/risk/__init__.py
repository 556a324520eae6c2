"""Risk assessment (客户风险管理): the loan book, the scorecard, early warning,
collateral, concentration, compliance and the risk matrix of one branch.

One file per concern: :mod:`.settings` (names and parameters), :mod:`.book` (five-class,
DPD buckets, ratios, roll rates), :mod:`.binning` and :mod:`.scorecard` (the bank's
scorecard; how it is measured: :mod:`branchbook.stats.measures`), :mod:`.scoring`
(applying it: scores, PD, expected loss), :mod:`.validation` (out of time: AUC with its
interval, calibration, stability), :mod:`.exposure` (early warning,
LTV, concentration), :mod:`.compliance`, :mod:`.matrix` (probability x impact),
:mod:`.metrics` (the six KPI cards, declared once), :mod:`.bridges` (what changed
since last month and the start of the year, and why), :mod:`.summary` (sentences,
definitions), :mod:`.prepare` (run once per period over the whole bank) and
:mod:`.queries` (its SQL).
Collateral revaluation (valuation dates, the overdue list) is :mod:`.revaluation`;
stress scenarios, standardised RWA and the simulated loss distribution :mod:`.stress`.

:func:`prepare` aggregates the loan book in SQL, fits the :class:`Scorecard` bank-wide on
the loan book (a loan is bad when it goes more than ``default_dpd`` days past due within
``performance_months`` of the development snapshot) and returns the per-branch inputs
and the ``bench_risk_*`` benchmarks. Everything else is a pure function over those
frames, called by the notebook on one branch's extract and by :func:`prepare` on every
branch, so branch values and bank medians are measured the same way.

A report on one branch (``x``: its extract, ``bench``: the benchmarks, ``s``: its
settings) calls, in order::

    sc = load_scorecard(bench["bench_risk_scorecard"])          # None: say so, skip scores
    book = score_book(x["risk_loans"], scorecard=sc, lgd=s.lgd,
                      default_dpd=s.scorecard.default_dpd, ccf=s.ccf)
    flags = early_warning(x["risk_borrowers"], rules=s.early_warning)
    status = compliance_status(x["risk_customers"], rules=s.compliance)
    k = kpis(book=book, warnings=flags, compliance=status)
    prev, bank = kpi_context(bench["bench_risk_kpis"], branch_id=..., period=...)
    kpi_cards(k, prev, bench=bench["bench_risk_kpis"], branch_id=..., period=..., rag=...)
    # a region or the bank: its own pooled last month and start of the year, the bank's value
    scope_context(bench, scope=..., members=..., branches=..., period=...)
    # loan book
    five_class_mix(x["risk_book"], month=period); dpd_mix(x["risk_book"], month=period)
    npl_trend(x["risk_book"], bench_trend=bench["bench_risk_trend"], months=...)
    roll_rates(x["risk_rolls"], month=period)
    # scorecard
    sc.iv_table(); dist = score_distribution(book, bins=bench["bench_risk_score_bins"])
    psi(dist["bank_share"], dist["loans"]); psi_band(...)
    branch_validation(x["risk_outcomes"], scorecard=sc, min_defaults=...)
    expected_loss(book, by="product")
    # early warning, collateral, concentration, compliance, matrix
    warning_list(flags); ltv_distribution(book, bands=s.ltv_bands)
    ltv_breaches(book, limit=s.ltv_limit); industry_shares(book); hhi(...)
    reval = revaluation_status(book, as_of=period_end, months=s.revaluation_months)
    revaluation_counts(reval); overdue_revaluations(reval, staff=x["staff"])
    top_borrowers(book, n=s.top_borrowers); compliance_table(status)
    alert_ageing(x["aml_alerts"], as_of=period_end, ageing_days=s.compliance.ageing_days)
    risk_matrix(borrower_risk(book, pd_bands=s.pd_bands, exposure_bands=s.exposure_bands))
    # stress and the loss distribution (simulated once per period in prepare)
    rwa_today(book, settings=s.stress); stress_table(book, settings=s.stress)
    loss_at_scope(x["risk_loss"], bench["bench_risk_loss"], scope=scope)  # simulated in prepare
    # bridges (比上月, 比年初): x["risk_bridge"], known = History.close_reasons
    loans_total(rows, base=...); loans_bridge(rows, base=..., by="product" | "manager")
    ratio_split(rows, base=..., ratio_key="npl_ratio", by="product"); ratio_total(...)
    manager_ratios(rows, base=...); migration(rows, base=...)
    moves = bridge_facts(rows, min_change=s.fact_bridge, min_change_pp=s.fact_bridge_pp, ...)
    summary_facts(kpis=k, prev=prev, bank=bank, ..., trend=..., moves=len(moves))

Ratios are shares in 0..1; money is in the bank's currency; a ratio with a zero
denominator (an empty branch) is NaN, never 0.
"""

from ..metrics.history import CLOSE_REASONS, History, status_notes
from ..stats.measures import auc, auc_ci, binomial_p, gini, ks, psi
from .book import (
    book_ratios,
    dpd_bucket,
    dpd_mix,
    five_class_mix,
    npl_dpd_gap,
    npl_dpd_gap_loans,
    npl_trend,
    past_due_share,
    roll_forward_rate,
    roll_rates,
)
from .bridges import (
    BASES,
    RATIOS,
    bridge_facts,
    bridge_rows,
    exit_columns,
    loans_bridge,
    loans_total,
    manager_ratios,
    manager_ratios_total,
    migration,
    ratio_split,
    ratio_total,
    ratio_total_row,
)
from .compliance import alert_ageing, compliance_reasons, compliance_status, compliance_table
from .exposure import (
    early_warning,
    hhi,
    industry_shares,
    loan_ltv_limit,
    ltv_breach_share,
    ltv_breaches,
    ltv_by_collateral,
    ltv_distribution,
    top_borrowers,
    top_share,
    warning_list,
    warning_rules,
)
from .matrix import borrower_risk, matrix_bands, matrix_list, matrix_summary, risk_matrix
from .metrics import (
    KPI_KEYS,
    KPIS,
    kpi_cards,
    kpi_context,
    kpi_sums,
    kpis,
    league_values,
    pooled_kpis,
    scope_context,
    scope_kpis,
    sum_ratios,
    unit_kpis,
)
from .prepare import prepare
from .revaluation import overdue_revaluations, revaluation_counts, revaluation_status
from .scorecard import MISSING, OTHER, Scorecard
from .scoring import (
    ead_note,
    expected_loss,
    expected_loss_total,
    load_scorecard,
    psi_band,
    psi_note,
    score_bins,
    score_book,
    score_distribution,
    scorecard_bins,
    scorecard_features,
    scorecard_note,
)
from .settings import (
    CLOSED,
    COMPLIANCE_CLASSES,
    DPD_BUCKETS,
    EW_RULES,
    FIVE_CLASSES,
    NPL_CLASSES,
    REPORT,
    SCORE_FEATURES,
    SOURCES,
    Compliance,
    EarlyWarning,
    Lgd,
    ScorecardSettings,
    Settings,
    Stress,
)
from .stress import (
    LOSS_MEASURES,
    SCENARIOS,
    asset_correlation,
    collateral_lgd,
    loss_at_scope,
    loss_summary,
    rwa_today,
    scenario,
    scope_losses,
    simulate_losses,
    stress_table,
    vasicek_quantile,
)
from .summary import DEFINITIONS, TERMS, summary_facts
from .validation import (
    band_counts,
    bank_validation,
    bank_validation_note,
    branch_validation,
    calibration,
    calibration_note,
    calibration_shift,
    corrected_pd,
    drift_psi,
    stability,
    validation,
    validation_note,
    validation_table,
)

__all__ = [
    "kpi_sums",
    "league_values",
    "pooled_kpis",
    "scope_context",
    "scope_kpis",
    "sum_ratios",
    "unit_kpis",
    "LOSS_MEASURES", "SCENARIOS", "Stress", "asset_correlation", "collateral_lgd", "loss_at_scope", "loss_summary",
    "rwa_today", "scenario", "scope_losses", "simulate_losses", "stress_table", "vasicek_quantile",
    "BASES", "RATIOS", "bridge_facts", "bridge_rows", "exit_columns", "loans_bridge", "loans_total",
    "manager_ratios", "manager_ratios_total", "migration", "ratio_split", "ratio_total",
    "ratio_total_row",
    "CLOSED", "CLOSE_REASONS", "COMPLIANCE_CLASSES", "DEFINITIONS", "DPD_BUCKETS", "EW_RULES", "FIVE_CLASSES", "History",
    "KPIS", "KPI_KEYS", "MISSING", "NPL_CLASSES", "OTHER", "REPORT", "SCORE_FEATURES",
    "SOURCES", "TERMS", "Compliance", "EarlyWarning", "Lgd", "Scorecard", "ScorecardSettings",
    "Settings", "alert_ageing", "auc", "auc_ci", "band_counts", "bank_validation", "bank_validation_note", "binomial_p", "book_ratios", "borrower_risk", "branch_validation", "calibration",
    "calibration_note", "calibration_shift", "corrected_pd",
    "compliance_reasons", "compliance_status", "compliance_table", "dpd_bucket", "dpd_mix", "drift_psi",
    "ead_note", "early_warning", "expected_loss", "expected_loss_total", "five_class_mix", "gini", "hhi",
    "industry_shares", "kpi_cards", "kpi_context", "kpis", "ks", "load_scorecard",
    "loan_ltv_limit", "ltv_breach_share", "ltv_breaches", "ltv_by_collateral",
    "ltv_distribution", "matrix_bands", "matrix_list",
    "matrix_summary", "npl_dpd_gap", "npl_dpd_gap_loans", "npl_trend", "past_due_share", "prepare", "psi", "psi_band", "psi_note",
    "risk_matrix", "roll_forward_rate", "roll_rates", "score_bins", "score_book",
    "score_distribution", "scorecard_bins", "scorecard_features", "scorecard_note", "stability",
    "status_notes", "overdue_revaluations", "revaluation_counts", "revaluation_status",
    "summary_facts", "top_borrowers", "top_share", "validation", "validation_note",
    "validation_table", "warning_list", "warning_rules",
]  # fmt: skip
