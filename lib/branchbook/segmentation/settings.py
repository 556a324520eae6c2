"""The ``segmentation:`` parameters and the report's fixed categories.

Conventions of the whole report: money in the bank's currency (CNY); shares are
fractions (0.25, not 25); AUM (assets under management, 资产规模) = deposits + wealth at
a month end.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from .. import metrics
from ..metrics import thresholds
from ..metrics.models import ASSET_TIERS, FIVE_CLASSES
from ..metrics.thresholds import StatusRule, relative
from ..params import (
    DEFAULT_BALANCE_BASIS,
    AssetTiers,
    BalanceBasis,
    Rag,
    Section,
    Share,
    check_increasing,
    check_weights,
)
from .value import PRODUCT_CLASS

REPORT = "segmentation"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = (
    "branches", "customers", "balances", "transactions", "loans", "loan_snapshots", "staff",
    "holdings",
)  # fmt: skip
# Other reports' prepared tables this report reads (as data, never by import), by the
# report that makes them: the lifetime value reads the churn early warning's scores and
# its validation. A change in that report's prepare code redoes this report's models and
# pages too, and prepare makes them first (branchbook.codekey).
READS_PREPARED: dict[str, tuple[str, ...]] = {
    "satisfaction": ("satisfaction_churn_risk", "bench_satisfaction_churn_validation"),
}

CUSTOMER_TYPES = ("individual", "corporate")
HIGH_VALUE_TIERS = ("wealth", "private")
ACTIVITY_TIERS = ("dormant", "low", "medium", "high")
CREDIT_GRADES = ("A", "B", "C", "D", "no_credit")
#: Loan five-class -> credit grade of the customer (their worst loan counts).
FIVE_CLASS_GRADE = {
    "pass": "A",
    "special_mention": "B",
    "substandard": "C",
    "doubtful": "D",
    "loss": "D",
}
LEVELS = (1, 2, 3, 4, 5)
LIFECYCLE = ("new", "growth", "mature", "decline", "dormant")
ACTION_REASONS = ("slipped_tier", "dormant_high_value", "both")
#: The categories of every tier-like column, in display order.
DIMENSIONS: dict[str, tuple] = {
    "customer_type": CUSTOMER_TYPES,
    "asset_tier": ASSET_TIERS,
    "activity_tier": ACTIVITY_TIERS,
    "credit_grade": CREDIT_GRADES,
    "level": LEVELS,
    "lifecycle": LIFECYCLE,
}
ACTIVITY_DAYS = 90  # activity window: the 90 days ending at the period's last day
RFM_MONTHS = 12  # RFM window: the 12 calendar months ending with the period
TREND_MONTHS = 3  # AUM trend: average of the last 3 month ends over the 3 before
TOP_SHARE = 0.2  # "top 20%" of customers by AUM


class ActivityTiers(Section):
    """Lower bounds (inclusive) of the 90-day transaction count of each activity tier.

    dormant: count < low; low: low <= count < medium; medium: medium <= count < high;
    high: count >= high. Defaults: dormant 0, low 1-5, medium 6-20, high 21 or more.
    """

    low: int = Field(default=1, ge=1)
    medium: int = 6
    high: int = 21

    @model_validator(mode="after")
    def _check(self) -> ActivityTiers:
        check_increasing([float(self.low), float(self.medium), float(self.high)])
        return self


class CompositeWeights(Section):
    """Weights of the bank-wide percentile ranks in the composite score; sum to 1."""

    aum: float = 0.35
    activity: float = 0.20
    products: float = 0.15
    tenure: float = 0.10
    credit: float = 0.20

    @model_validator(mode="after")
    def _check(self) -> CompositeWeights:
        check_weights(self.model_dump())
        return self


class Lifecycle(Section):
    """Rules of the lifecycle stage (see :func:`lifecycle_stage`)."""

    new_months: int = Field(default=6, ge=1, le=120)
    growth_ratio: float = Field(default=1.10, gt=1.0)
    decline_ratio: float = Field(default=0.90, gt=0.0, lt=1.0)
    dormant_aum_below: float = Field(default=10_000.0, ge=0.0)


class CreditPoints(Section):
    """Credit quality in the composite score, 0-100, by the worst five-class category of
    the customer's loans outstanding at the period (the other four parts of the score
    are percentile ranks; credit is not ranked, since nearly every customer would share
    one rank and every class below pass would score close to 0).

    Defaults: pass 100; special mention 37.5, substandard 25, doubtful 12.5, loss 0 (even
    steps from the neutral point down); a customer with no loan outstanding scores the
    neutral ``no_credit`` 50, the middle of the scale, neither a good nor a bad record.
    Each class must score below the one before it; ``no_credit`` lies between loss and
    pass.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    pass_: float = Field(default=100.0, alias="pass", ge=0.0, le=100.0)
    special_mention: float = Field(default=37.5, ge=0.0, le=100.0)
    substandard: float = Field(default=25.0, ge=0.0, le=100.0)
    doubtful: float = Field(default=12.5, ge=0.0, le=100.0)
    loss: float = Field(default=0.0, ge=0.0, le=100.0)
    no_credit: float = Field(default=50.0, ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _check(self) -> CreditPoints:
        points = self.points()
        check_increasing([points[c] for c in reversed(FIVE_CLASSES)])
        if not self.loss <= self.no_credit <= self.pass_:
            raise ValueError(
                f"no_credit must lie between loss and pass ({self.loss}..{self.pass_}), "
                f"got {self.no_credit}"
            )
        return self

    def points(self) -> dict[str, float]:
        """``{five-class: points}`` for the five classes and ``no_credit``."""
        return {
            "pass": self.pass_,
            "special_mention": self.special_mention,
            "substandard": self.substandard,
            "doubtful": self.doubtful,
            "loss": self.loss,
            "no_credit": self.no_credit,
        }


class BankWide(Section):
    """Settings used only by :func:`prepare`, once for the whole bank.

    Set them in the bank's file: a branch file overriding them changes nothing, since
    percentile ranks, RFM quintiles and clusters are measured on the whole bank.
    """

    clusters: int = Field(default=5, ge=2, le=12)
    seed: int = Field(default=20261031, ge=0)
    cluster_sample: int = Field(default=50_000, ge=1_000, le=1_000_000)
    credit_points: CreditPoints = CreditPoints()


class Clv(Section):
    """Customer lifetime value's parameters (:mod:`.value`), one method for the whole bank:
    margins a year as shares of the balance, the discount rate a year, the years counted.
    ``product_margins`` by product (:data:`.value.PRODUCT_CLASS`: the contract's holding
    product types and loan products); a product held without one is at its balance
    class's margin (``deposit_margin``, ``wealth_margin``, ``loan_margin``), and a product
    listed that the warehouse never holds changes nothing."""

    deposit_margin: float = Field(default=0.015, ge=0.0, le=0.5)
    wealth_margin: float = Field(default=0.006, ge=0.0, le=0.5)
    loan_margin: float = Field(default=0.02, ge=0.0, le=0.5)
    product_margins: dict[str, float] = Field(default_factory=dict)
    discount_rate: float = Field(default=0.08, ge=0.0, le=1.0)
    years: int = Field(default=5, ge=1, le=30)

    @field_validator("product_margins")
    @classmethod
    def _products(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(PRODUCT_CLASS))
        if unknown:
            raise ValueError(
                f"product_margins: {unknown} are not products of the data contract;"
                f" expected some of {list(PRODUCT_CLASS)}"
            )
        bad = {k: m for k, m in v.items() if not 0.0 <= m <= 0.5}
        if bad:
            raise ValueError(f"product_margins: {bad} must lie between 0 and 0.5 (a year)")
        return v


def _default_status() -> dict[str, StatusRule]:
    # Concentration of AUM and dormant high-value customers depend on the branch's market
    # and the bank's customer mix (every demo branch's top 20% hold 82-88%): read against
    # the bank's branches. An active share is a goal the bank sets for every branch.
    return {
        "top20_share": relative(Rag(good="low", green=0.80, amber=0.90)),
        "active_share": Rag(good="high", green=0.60, amber=0.40),
        "dormant_high_value_share": relative(Rag(good="low", green=0.15, amber=0.25)),
    }


class Settings(Section):
    """The ``segmentation:`` section of the parameter files (every value has a default).

    Floats accept whole numbers (``50000``); integers must be whole numbers.
    ``level_cutoffs`` are the composite scores (0-100) from which levels 2, 3, 4 and 5
    start, each inclusive. ``action_rows`` is how many rows of the action list the
    report shows. ``fact_gap`` is the gap to the bank median (in share points, 0.05 =
    5 pp) from which the summary mentions a share; ``fact_migration`` the net share of
    customers moving down (or up) a tier from which it mentions tier migration;
    ``fact_bridge`` the change of customers, AUM or deposits since last month (relative
    to last month, 0.005 = 0.5%) from which it names the change's largest driver.
    """

    #: Keys only bank.yaml may set: they are used once, in prepare, for the whole bank.
    BANK_ONLY: ClassVar[tuple[str, ...]] = ("bank_wide", "clv")
    #: Read from the top of bank.yaml: the satisfaction report's tiers are the same, and
    #: so is the balance a customer's AUM is read from (the staff KPI report's too).
    SHARED: ClassVar[tuple[str, ...]] = ("asset_tiers", "balance_basis")

    asset_tiers: AssetTiers = AssetTiers()
    balance_basis: BalanceBasis = DEFAULT_BALANCE_BASIS
    activity_tiers: ActivityTiers = ActivityTiers()
    weights: CompositeWeights = CompositeWeights()
    level_cutoffs: list[float] = Field(default_factory=lambda: [30.0, 45.0, 60.0, 75.0])
    lifecycle: Lifecycle = Lifecycle()
    bank_wide: BankWide = BankWide()
    clv: Clv = Clv()
    action_rows: int = Field(default=50, ge=1, le=10_000)
    fact_gap: Share = 0.05
    fact_migration: Share = 0.01
    fact_bridge: Share = 0.005
    kpi_status: dict[str, StatusRule] = Field(default_factory=_default_status)

    @field_validator("level_cutoffs")
    @classmethod
    def _cutoffs(cls, v: list[float]) -> list[float]:
        if len(v) != len(LEVELS) - 1:
            raise ValueError(f"expected {len(LEVELS) - 1} cut-offs (levels 2..5), got {len(v)}")
        if v[0] <= 0 or v[-1] >= 100:
            raise ValueError(f"cut-offs must lie strictly between 0 and 100, got {v}")
        check_increasing(v)
        return v

    @field_validator("kpi_status")
    @classmethod
    def _kpis(cls, v: dict[str, StatusRule]) -> dict[str, StatusRule]:
        known = [m.key for m in metrics.of_report(REPORT)]
        return thresholds.check_kpi_status(v, _default_status(), known)
