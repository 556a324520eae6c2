"""What a report leaves out when the warehouse does not record its data.

:mod:`branchbook.coverage` says which sections of a report are left out (a table or
column below the required tier is missing, or a table has no rows); this module says
what that removes from the page: the page sections not drawn, the summary sentences not
said, the KPI cards and table columns that read "not recorded" (未记录) rather than 0.
Plain data, read by :class:`branchbook.coverage.Coverage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["COLUMN_NEEDS", "KPI_NEEDS", "PAGE_SECTIONS", "SUMMARY_FACTS"]

#: The page sections (``sections.<key>`` of the report's catalogue) each coverage
#: section is drawn in: left out, the page draws none of them. A coverage section
#: without page sections of its own (a dimension of the staff scorecard) is only
#: named in the data-coverage note; its KPI cards say "not recorded".
PAGE_SECTIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "segmentation.activity": ("activity_tiers", "rfm"),
        "segmentation.credit": ("credit_grades",),
        "segmentation.suitability": ("suitability",),
        "segmentation.cross_sell": ("cross_sell",),
        "segmentation.occupation": ("profile_occupation",),
        "segmentation.income": ("profile_income",),
        "risk.collateral": ("collateral",),
        "risk.early_warning": ("early_warning",),
        "risk.compliance": ("compliance", "alerts"),
        # the risk matrix places borrowers by the scorecard's PD: without it only the
        # non-performing (PD 1) would be placed, and "300 of 300 borrowers" misleads
        "risk.scorecard": (
            "scores",
            "expected_loss",
            "stress",
            "loss_distribution",
            "scorecard",
            "validation",
            "matrix",
        ),
        "satisfaction.attributes": ("drivers",),
        "satisfaction.followup": ("followup",),
        "satisfaction.complaints": ("complaints", "sla", "resolution", "backlog", "repeat"),
        "staff_kpi.attainment": ("attainment",),
        "staff_kpi.development": ("development",),
    }
)

#: The summary sentences (catalogue keys, or the start of them) each coverage section
#: speaks for: left out, the summary does not say them (a sentence about a section the
#: page does not draw would give a number the reader cannot find, or one of nothing).
SUMMARY_FACTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "segmentation.activity": (
            "segmentation.summary.dormant_high_value",
            "segmentation.summary.active_",
        ),
        "segmentation.suitability": ("segmentation.summary.suitability",),
        "risk.collateral": ("risk.summary.ltv",),
        "risk.early_warning": ("risk.summary.early_warning",),
        "risk.compliance": ("risk.summary.compliance",),
        "risk.scorecard": tuple(
            f"risk.summary.{k}"
            for k in "expected_loss no_scorecard discrimination bank_discrimination few_defaults"
            " mix_ drift_".split()
        ),
        "satisfaction.attributes": ("satisfaction.summary.driver",),
        "satisfaction.complaints": tuple(
            f"satisfaction.summary.{k}"
            for k in ("complaints", "no_complaints", "backlog", "bridge_complaints")
        ),
        "staff_kpi.attainment": ("staff_kpi.summary.targets_met",),
    }
)

#: KPI (metric key) -> the tables or ``table.column`` it is computed from, beyond the
#: required ones and its report's core: one of them missing, the KPI is "not
#: recorded" (no value, no change, no colour), never 0 and never green.
KPI_NEEDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "active_share": ("transactions",),
        "dormant_high_value_share": ("transactions",),
        "suitability_mismatches": ("holdings", "customers.risk_appetite"),
        "suitability_mismatch_share": ("holdings", "customers.risk_appetite"),
        "expected_loss_rate": ("loans.interest_rate",),
        "warning_exposure_share": ("financials",),
        "risk_customer_share": ("aml_alerts", "customers.kyc_status"),
        "complaints_per_1000": ("complaints",),
        "sla_first_response": ("complaints", "complaints.first_response_at"),
        "targets_met_share": ("targets",),
        "managed_npl_ratio": ("loans", "loan_snapshots"),
        "managed_csat": ("surveys",),
    }
)


#: A column the reports' tables show -> what it is computed from, as :data:`KPI_NEEDS`:
#: one of them missing, the column is left out of every table (a manager's complaints
#: per 1,000 customers is not 0.00 when the bank records no complaints).
COLUMN_NEEDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "csat": ("surveys",),
        "complaint_rate": ("complaints",),
        "aml_open_rate": ("aml_alerts",),
        "kyc_complete_rate": ("customers.kyc_status",),
        "new_npl": ("loans", "loan_snapshots"),
        # segmentation: a bank without transactions has no 90-day count to average nor a
        # last transaction to count days from (0.00 would read as "all dormant")
        "mean_txn_90d": ("transactions",),
        "recency_days": ("transactions",),
        "new_npl_rate": ("loans", "loan_snapshots"),
    }
)
