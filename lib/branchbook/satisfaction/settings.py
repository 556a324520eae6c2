"""The ``satisfaction:`` section of the parameter files, validated before any notebook runs."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from .. import metrics
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
SOURCES: tuple[str, ...] = ("branches", "customers", "balances", "surveys", "complaints", "staff")


def _default_status() -> dict[str, Rag]:
    return {
        # green: the average answer is "satisfied" (85, where that band starts). Amber down
        # to 75: the same mix of answers scores about 7 points more on this map than on the
        # linear (s - 1) / 4 it replaces, whose rule was 80 / 70, so a colour seldom
        # changes because the scale did.
        "csat_mean": Rag(good="high", green=85.0, amber=75.0),
        "csat_top2": Rag(good="high", green=0.85, amber=0.75),
        "nps": Rag(good="high", green=30.0, amber=10.0),
        "complaints_per_1000": Rag(good="low", green=2.5, amber=4.0),
        "sla_first_response": Rag(good="high", green=0.95, amber=0.85),
        "churn_rate": Rag(good="low", green=0.01, amber=0.02),
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
    band_bounds: list[float] = [60.0, 85.0]
    """CSAT 0-100 where the mid (neutral) and high (satisfied) satisfaction bands start."""
    csat_scale: CsatScale = Field(default_factory=lambda: list(DEFAULT_CSAT_SCALE))
    """The 0-100 value of the CSAT answers 1 to 5: the bank's top-level ``csat_scale``. The
    default places each answer where its band starts, so a neutral 3 is neutral (60), 4
    and 5 satisfied (85, 100), 1 and 2 dissatisfied (0, 30): see :mod:`.scores`."""
    change_alert_points: float = Field(default=5.0, gt=0.0)
    """A change of NPS (points) against the previous window worth a summary sentence; it is
    called a rise or a fall only when its z-test is significant."""
    kpi_status: dict[str, Rag] = Field(default_factory=_default_status)
    """Status thresholds per KPI (units as the KPI: points, shares, per 1,000)."""

    @field_validator("kpi_status")
    @classmethod
    def _status(cls, v: dict[str, Rag]) -> dict[str, Rag]:
        known = [m.key for m in metrics.of_report(REPORT)]  # declared when the package loads
        unknown = sorted(set(v) - set(known))
        if unknown:
            raise ValueError(f"unknown KPI(s) {', '.join(unknown)}; allowed: {', '.join(known)}")
        return v

    @field_validator("band_bounds")
    @classmethod
    def _bands(cls, v: list[float]) -> list[float]:
        if len(v) != 2 or not all(0 < x < 100 for x in v):
            raise ValueError(f"band_bounds needs 2 scores between 0 and 100 (mid, high), got {v}")
        _increasing(v)
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
