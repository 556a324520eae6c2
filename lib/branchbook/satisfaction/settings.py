"""The ``satisfaction:`` section of the parameter files, validated before any notebook runs."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from .. import metrics
from ..metrics import thresholds
from ..metrics.models import ASSET_TIERS
from ..metrics.thresholds import StatusRule, relative
from ..params import (
    DEFAULT_BALANCE_BASIS,
    DEFAULT_CSAT_SCALE,
    AssetTiers,
    BalanceBasis,
    CsatScale,
    Rag,
    Section,
    check_increasing,
)

REPORT = "satisfaction"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = (
    "branches",
    "customers",
    "balances",
    "surveys",
    "complaints",
    "staff",
    "transactions",  # the churn early warning's features
    "contacts",  # follow-up coverage
)


def _default_status() -> dict[str, StatusRule]:
    # Satisfaction, NPS and complaints have no regulatory norm and their level depends on
    # the bank's market and survey mix: each branch is read against the bank's branches.
    # The fixed numbers are the fallback with too few branches (csat_mean: the average
    # answer is "satisfied", 85, where that band starts; amber down to 75). The
    # first-response SLA is a service standard the bank sets for every branch, and a
    # customer lost is a loss whatever the peers do: churn's tolerance is the bank's.
    return {
        "csat_mean": relative(Rag(good="high", green=85.0, amber=75.0)),
        "csat_top2": relative(Rag(good="high", green=0.85, amber=0.75)),
        "nps": relative(Rag(good="high", green=30.0, amber=10.0)),
        "complaints_per_1000": relative(Rag(good="low", green=2.5, amber=4.0)),
        "sla_first_response": Rag(good="high", green=0.95, amber=0.85),
        "churn_rate": Rag(good="low", green=0.01, amber=0.02),
    }


#: The change of each bridged KPI since last month, in the KPI's own unit, from which the
#: summary names its largest driver: CSAT and NPS in points, complaints per 1,000 customers,
#: the churn rate as a share (0.002 = 0.2 pp).
DEFAULT_FACT_BRIDGE: dict[str, float] = {
    "csat_mean": 2.0,
    "nps": 5.0,
    "complaints_per_1000": 0.5,
    "churn_rate": 0.002,
}


class Settings(Section):
    """The ``satisfaction:`` section of the parameter files.

    Float fields accept integers written in YAML (``plan_hours: 72``).
    """

    #: Read from the top of bank.yaml: the segmentation report's tiers and the staff KPI
    #: report's CSAT are the same.
    SHARED: ClassVar[tuple[str, ...]] = ("asset_tiers", "csat_scale", "balance_basis")

    asset_tiers: AssetTiers = AssetTiers()
    """AUM (deposits + wealth) where affluent, wealth and private start (CNY): the bank's
    top-level ``asset_tiers``."""
    balance_basis: BalanceBasis = DEFAULT_BALANCE_BASIS
    """The balance a respondent's AUM (hence tier) is read from: the bank's top-level
    ``balance_basis``."""
    followup_months: int = Field(default=3, ge=1, le=24)
    """A high-value customer counts as contacted with a contact in this many calendar
    months ending with the period; the list names those without one."""
    score_window_months: int = Field(default=3, ge=1, le=12)
    """Months of responses (ending at the period) behind CSAT, NPS and their tests."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0)
    """Confidence level of every interval."""
    fdr: float = Field(default=0.05, gt=0.0, le=0.5)
    """False discovery rate for the branch-against-bank flags (Benjamini-Hochberg)."""
    min_responses_test: int = Field(default=30, ge=2)
    """A branch with fewer responses in the window is not tested against the bank."""
    driver_min_responses: int = Field(default=100, ge=20)
    """Below this many responses the driver model is not fitted."""
    driver_window_months: int = Field(default=3, ge=1, le=36)
    """Months of responses (ending at the period) behind the driver model, the importance x
    performance chart and what to fix first: a recent window, compared with the same
    number of months just before it, so that a sharp recent fall is not averaged away."""
    driver_focus_max: int = Field(default=3, ge=1, le=6)
    """At most this many attributes are named as the ones to fix first."""
    first_response_hours: float = Field(default=24.0, gt=0.0)
    plan_hours: float = Field(default=72.0, gt=0.0)
    resolved_within_days: int = Field(default=30, ge=1)
    resolution_window_months: int = Field(default=6, ge=1, le=36)
    backlog_age_days: list[int] = [7, 30, 90]
    repeat_window_months: int = Field(default=12, ge=1, le=36)
    repeat_min_complaints: int = Field(default=2, ge=2)
    churn_aum_floor: float = Field(default=1_000.0, ge=0.0)
    """A customer whose AUM stays below this for ``churn_floor_months`` has churned."""
    churn_floor_months: int = Field(default=3, ge=1, le=24)
    retention_months: int = Field(default=6, ge=1, le=24)
    """Follow-up after a survey response when measuring retention by band."""
    retention_cohort_months: int = Field(default=12, ge=1, le=36)
    churn_model_horizon_months: int = Field(default=3, ge=1, le=12)
    """Churn early warning: the model gives the probability of churning (the churn above)
    within this many months after a month's end."""
    churn_model_dev_months: int = Field(default=3, ge=1, le=12)
    """Month ends stacked in the development sample (the latest ending twice the horizon
    before the period), as far as the warehouse holds six months of history before each."""
    churn_model_min_events: int = Field(default=20, ge=5)
    """Fewer churners (or stayers) than this in the development sample: no model; in the
    validation sample: no AUC, KS or calibration (too few events), and no list."""
    churn_calibration_tolerance: float = Field(default=0.001, ge=0.0, lt=1.0)
    churn_calibration_tolerance_relative: float = Field(default=0.2, ge=0.0, lt=10.0)
    """A fifth of the validation sample rejects the probabilities only when its observed
    churn differs from the predicted both beyond chance (the exact binomial test) and by
    more than the larger of these two: 0.1 percentage points, or a fifth of the
    predicted rate. With a million customers (170,000 a fifth) the test alone finds
    differences of 0.03 pp; that is no reason to withhold a probability of 0.1% or a
    lifetime value. 0 and 0: the test alone."""
    churn_list_min_probability: float = Field(default=0.05, gt=0.0, lt=1.0)
    """A valuable customer is listed when the probability of churning within the horizon
    is at least this (5% in three months: about two and a half times the demo bank's
    average)."""
    churn_list_tiers: list[str] = ["affluent", "wealth", "private"]
    """The asset tiers (at the period's end) whose customers count as valuable for the
    early-warning list: by default AUM of 50,000 or more (affluent and above), the
    customers a manager is assigned to keep."""
    winback_months: int = Field(default=3, ge=1, le=12)
    """Win-back list: the customers lost (the churn above) in this many months ending at
    the period and not active again at its end."""
    winback_tiers: list[str] = ["affluent", "wealth", "private"]
    """Win-back list: a lost customer is worth a call when the asset tier of its highest
    AUM in the six months before it left is one of these."""
    churn_list_rows: int = Field(default=20, ge=1)
    """Rows of the early-warning and win-back lists shown in the report (all are in the workbook)."""
    band_bounds: list[float] = [60.0, 85.0]
    """CSAT 0-100 where the mid (neutral) and high (satisfied) satisfaction bands start."""
    csat_scale: CsatScale = Field(default_factory=lambda: list(DEFAULT_CSAT_SCALE))
    """The 0-100 value of the CSAT answers 1 to 5: the bank's top-level ``csat_scale``. The
    default places each answer where its band starts, so a neutral 3 is neutral (60), 4
    and 5 satisfied (85, 100), 1 and 2 dissatisfied (0, 30): see :mod:`.scores`."""
    change_alert_points: float = Field(default=5.0, gt=0.0)
    """A change of NPS (points) against the previous window worth a summary sentence; it is
    called a rise or a fall only when its z-test is significant."""
    kpi_status: dict[str, StatusRule] = Field(default_factory=_default_status)
    """Status rule per KPI (:mod:`branchbook.metrics.thresholds`; fixed thresholds in the
    KPI's units: points, shares, per 1,000); a file may name only those it changes."""
    fact_bridge: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_FACT_BRIDGE))
    """Per bridged KPI, the change since last month (in the KPI's own unit) from which the
    summary names the largest rate or mix effect behind it; a file may name only those it
    changes."""

    @field_validator("kpi_status")
    @classmethod
    def _status(cls, v: dict[str, StatusRule]) -> dict[str, StatusRule]:
        known = [m.key for m in metrics.of_report(REPORT)]  # declared when the package loads
        return thresholds.check_kpi_status(v, _default_status(), known)

    @field_validator("fact_bridge")
    @classmethod
    def _fact_bridge(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(DEFAULT_FACT_BRIDGE))
        if unknown:
            raise ValueError(
                f"unknown KPI(s) {', '.join(unknown)}; allowed: {', '.join(DEFAULT_FACT_BRIDGE)}"
            )
        negative = sorted(k for k, x in v.items() if not x >= 0)
        if negative:
            raise ValueError(f"needs a change of 0 or more, got {', '.join(negative)} below 0")
        return {**DEFAULT_FACT_BRIDGE, **{k: float(x) for k, x in v.items()}}

    @field_validator("band_bounds")
    @classmethod
    def _bands(cls, v: list[float]) -> list[float]:
        if len(v) != 2 or not all(0 < x < 100 for x in v):
            raise ValueError(f"band_bounds needs 2 scores between 0 and 100 (mid, high), got {v}")
        _increasing(v)
        return v

    @field_validator("churn_list_tiers", "winback_tiers")
    @classmethod
    def _list_tiers(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in ASSET_TIERS]
        if not v or unknown:
            raise ValueError(
                f"is expected to be some of ({', '.join(ASSET_TIERS)}). Got {v!r} instead."
            )
        return v

    @field_validator("backlog_age_days")
    @classmethod
    def _ages(cls, v: list[int]) -> list[int]:
        if not v or v[0] <= 0:
            raise ValueError(f"backlog_age_days needs positive day counts, got {v}")
        _increasing(v)
        return v


def _increasing(values: list[float]) -> None:
    check_increasing([float(x) for x in values])
