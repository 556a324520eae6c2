"""The staff KPI report's settings (the ``staff_kpi:`` section of the parameter files)
and the names it is built from: dimensions, ratings, grades and the scorecard's KPIs."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from ..metrics import thresholds
from ..metrics.models import NPL_CLASSES as NPL_CLASSES  # the one list, re-exported
from ..metrics.thresholds import Norm, StatusRule, relative
from ..params import (
    DEFAULT_BALANCE_BASIS,
    DEFAULT_CSAT_SCALE,
    BalanceBasis,
    CsatScale,
    Rag,
    Section,
    Share,
    check_weights,
)

REPORT = "staff_kpi"


SOURCES: tuple[str, ...] = (
    "branches", "staff", "customers", "balances", "loans", "loan_snapshots", "surveys",
    "complaints",
    "aml_alerts", "targets", "kyc_history", "staff_training", "staff_certifications",
)  # fmt: skip


DIMENSIONS = ("growth", "quality", "service", "compliance")


RATINGS = ("A", "B", "C", "D")


GRADES = ("assistant", "professional", "senior")


#: Every KPI a scorecard may use, and whether a high or a low value is good.
KPIS: dict[str, Literal["high", "low"]] = {
    "new_customers": "high",  # customers opened in the month (count)
    "net_new_aum": "high",  # AUM change over the month (CNY)
    "deposit_growth": "high",  # deposit change over the month (CNY)
    "loan_growth": "high",  # customers' loans outstanding change over the month (CNY)
    "products_per_customer": "high",  # mean products held at month end
    "target_attainment": "high",  # mean capped attainment of the month's targets
    "npl_ratio": "low",  # NPL outstanding / book outstanding at month end
    "new_npl_rate": "low",  # outstanding newly NPL this month / book outstanding
    "csat": "high",  # mean survey CSAT on 0-100 over the service window
    "complaint_rate": "low",  # complaints per 1,000 customers over the service window
    "closure_rate": "low",  # customers closed in the churn window / open at its start
    "kyc_complete_rate": "high",  # share of open customers with complete KYC
    "aml_open_rate": "low",  # open AML alerts per 1,000 customers
}


#: Targets of the ``targets`` table and the KPI (same unit) they are compared with.
TARGET_KPIS = (
    "new_customers",
    "net_new_aum",
    "deposit_growth",
    "loan_growth",
    "products_per_customer",
)


#: Where each KPI card's colour comes from (:mod:`branchbook.metrics.thresholds`). The
#: managed NPL ratio has the regulator's 5% ceiling, as the risk report's; a shrinking
#: book, or customers lost, are a loss whatever the peers do (the bank's numbers); the
#: composite is normalised within the peer group (about 50 on average by construction),
#: and targets met and CSAT depend on the year's targets and the market: read against
#: the bank's branches.
DEFAULT_STATUS: dict[str, StatusRule] = {
    "composite_mean": relative(Rag(good="high", green=55.0, amber=45.0)),
    "targets_met_share": relative(Rag(good="high", green=0.6, amber=0.4)),
    "managed_aum_growth": Rag(good="high", green=0.005, amber=0.0),
    "managed_npl_ratio": Norm(good="low", green=0.03, amber=0.05, norm="npl_ceiling"),
    # on the bank's one CSAT scale (csat_scale), as the satisfaction report's csat_mean
    "managed_csat": relative(Rag(good="high", green=85.0, amber=75.0)),
    "managed_closure_rate": Rag(good="low", green=0.08, amber=0.12),
}


def _default_scorecard() -> dict[str, list[str]]:
    return {
        "growth": [
            "new_customers",
            "net_new_aum",
            "deposit_growth",
            "loan_growth",
            "products_per_customer",
        ],
        "quality": ["npl_ratio", "new_npl_rate"],
        "service": ["csat", "complaint_rate", "closure_rate"],
        "compliance": ["kyc_complete_rate", "aml_open_rate"],
    }


#: Professional certifications (银行业专业人员职业资格), lowest first; ``none`` holds none.
CERTIFICATIONS = ("none", "primary", "intermediate", "advanced")
#: Products a manager earns commission on (the loans' products).
COMMISSION_PRODUCTS = ("mortgage", "consumer", "business", "working_capital", "trade_finance")


class Development(Section):
    """Training, experience and certification each grade asks for, and the indicative pay
    structure. Defaults are the bank's to set: 80 hours of training a year; years of
    experience and the certification a grade requires; monthly base pay and standard
    performance bonus by grade (CNY); commission as a share of new loans' principal."""

    training_hours: float = Field(80.0, ge=0.0)
    training_months: int = Field(12, ge=1, le=36)  # the months ending at the period end
    grade_years: dict[str, float] = Field(
        default_factory=lambda: {"assistant": 0.0, "professional": 3.0, "senior": 5.0}
    )
    grade_certification: dict[str, Literal["none", "primary", "intermediate", "advanced"]] = Field(
        default_factory=lambda: {
            "assistant": "none",
            "professional": "primary",
            "senior": "intermediate",
        }
    )
    base_pay: dict[str, float] = Field(
        default_factory=lambda: {"assistant": 6000.0, "professional": 9000.0, "senior": 14000.0}
    )
    standard_bonus: dict[str, float] = Field(
        default_factory=lambda: {"assistant": 3000.0, "professional": 5000.0, "senior": 8000.0}
    )
    commission_rates: dict[str, float] = Field(
        default_factory=lambda: {
            "mortgage": 0.0005,
            "consumer": 0.002,
            "business": 0.001,
            "working_capital": 0.001,
            "trade_finance": 0.001,
        }
    )

    @field_validator("grade_years", "grade_certification", "base_pay", "standard_bonus")
    @classmethod
    def _grades(cls, v: dict, info) -> dict:
        if set(v) != set(GRADES):
            raise ValueError(f"{info.field_name} needs exactly the grades {', '.join(GRADES)}")
        if any(isinstance(x, float) and x < 0 for x in v.values()):
            raise ValueError(f"{info.field_name} must not be negative, got {v}")
        return v

    @field_validator("commission_rates")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(COMMISSION_PRODUCTS))
        if unknown or any(not 0 <= x <= 0.1 for x in v.values()):
            raise ValueError(
                f"commission_rates are expected as shares from 0 to 0.1 of "
                f"({', '.join(COMMISSION_PRODUCTS)}). Got {v} instead."
            )
        return v


class Settings(Section):
    """The ``staff_kpi:`` section of the parameter files.

    Shares are written as decimals (``0.2`` for 20%). Scores, ranks and ratings are
    computed bank-wide with the bank's values; a branch file can override only what
    the branch's notebook computes itself (RAG thresholds, bonus coefficients).
    """

    #: Read from the top of bank.yaml: CSAT is on the satisfaction report's scale.
    SHARED: ClassVar[tuple[str, ...]] = ("csat_scale", "balance_basis")

    csat_scale: CsatScale = Field(default_factory=lambda: list(DEFAULT_CSAT_SCALE))
    """The 0-100 value of the CSAT answers 1 to 5: the bank's top-level ``csat_scale``."""
    balance_basis: BalanceBasis = DEFAULT_BALANCE_BASIS
    """The balance a manager's managed AUM (and its growth) is read from: the bank's
    top-level ``balance_basis``."""
    trend_months: int = Field(default=12, ge=2, le=24)
    """Months of composite history shown in the trend, ending at the period."""
    service_window_months: int = Field(default=3, ge=1, le=12)
    """Months (ending at the period's month) over which CSAT and complaints are counted."""
    churn_window_months: int = Field(default=12, ge=1, le=24)
    """Months (ending at the period's month) over which the closure rate is measured."""
    min_book_customers: int = Field(default=10, ge=1, le=1_000_000)
    """An active manager with fewer customers at month end is shown but not rated."""
    scorecard: dict[str, list[str]] = Field(default_factory=_default_scorecard)
    """Dimension -> KPIs (names of :data:`KPIS`); a KPI's score counts equally in its dimension."""
    dimension_weights: dict[str, float] = Field(
        default_factory=lambda: {"growth": 0.4, "quality": 0.25, "service": 0.2, "compliance": 0.15}
    )
    """Weight of each dimension in the composite; non-negative, summing to 1."""
    normalisation: Literal["percentile", "zscore"] = "percentile"
    """How a KPI becomes a 0-100 score within the peer group (see :func:`normalise`)."""
    winsor_lower: Share = 0.01
    winsor_upper: Share = 0.99
    """Quantiles at which KPI values are winsorised before a z-score."""
    monthly_target_floor: Share = 0.01
    """A monthly target of net new AUM, deposit or loan growth below this share of the
    balance it moves (at the previous month end) is near zero: its monthly attainment is
    not shown (attainment is judged year to date)."""
    attainment_cap: float = Field(default=1.5, gt=0.0, le=10.0)
    """Year-to-date attainment above this counts as this in ``target_attainment`` (1.5 = 150%)."""
    rating_shares: dict[str, float] = Field(
        default_factory=lambda: {"A": 0.2, "B": 0.3, "C": 0.4, "D": 0.1}
    )
    """Forced distribution: the share of rated managers in each band, best first."""
    rating_pool: Literal["grade", "bank", "branch"] = "grade"
    """Who competes for the bands: same grade bank-wide, the whole bank, or one branch."""
    npl_veto_limit: Share = 0.05
    """A manager whose loan book's NPL ratio is above this is capped at ``veto_cap``."""
    veto_cap: Literal["B", "C", "D"] = "C"
    bonus_coefficients: dict[str, float] = Field(
        default_factory=lambda: {"A": 1.3, "B": 1.1, "C": 0.9, "D": 0.5}
    )
    """Indicative performance-bonus coefficient per rating (x the standard bonus)."""
    funnel_dispersion: Literal["additive", "multiplicative", "none"] = "additive"
    """How funnel limits are widened when managers vary more than chance allows: an
    additive random effect, a multiplicative factor, or not at all."""
    funnel_alpha: Share = 0.05
    """Significance level of the funnels' overdispersion test."""
    kpi_status: dict[str, StatusRule] = Field(default_factory=lambda: dict(DEFAULT_STATUS))
    development: Development = Field(default_factory=Development)
    """Status rule per KPI card (:mod:`branchbook.metrics.thresholds`); a file may name
    only those it changes."""
    fact_bridge: Share = 0.005
    """The change of the managers' AUM or loans since last month (a share of last
    month's, 0.005 = 0.5%) from which the summary names the manager who drove it most."""
    fact_bridge_pp: Share = 0.001
    """The change of the managed NPL ratio since last month (0.001 = 0.1 pp) from which
    the summary names the manager who drove it most."""

    @field_validator("scorecard")
    @classmethod
    def _scorecard(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(v) - set(DIMENSIONS))
        if unknown:
            raise ValueError(
                f"dimension(s) {', '.join(unknown)} unknown; allowed: {', '.join(DIMENSIONS)}"
            )
        seen: set[str] = set()
        for dim, names in v.items():
            if not names:
                raise ValueError(f"dimension {dim!r} has no KPI")
            bad = sorted(set(names) - set(KPIS))
            if bad:
                raise ValueError(
                    f"KPI(s) {', '.join(bad)} in {dim!r} unknown; allowed: {', '.join(KPIS)}"
                )
            twice = sorted(seen & set(names)) or sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ValueError(f"KPI(s) {', '.join(twice)} used more than once")
            seen |= set(names)
        return v

    @field_validator("kpi_status")
    @classmethod
    def _status(cls, v: dict[str, StatusRule]) -> dict[str, StatusRule]:
        return thresholds.check_kpi_status(v, DEFAULT_STATUS, DEFAULT_STATUS)

    @field_validator("rating_shares")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        check_weights(v, allowed=RATINGS)
        if set(v) != set(RATINGS):
            raise ValueError(f"rating_shares needs every band {', '.join(RATINGS)}")
        return v

    @field_validator("bonus_coefficients")
    @classmethod
    def _bonus(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(RATINGS):
            raise ValueError(f"bonus_coefficients needs exactly the bands {', '.join(RATINGS)}")
        values = [v[r] for r in RATINGS]
        if any(x < 0 for x in values) or any(
            b > a for a, b in zip(values, values[1:], strict=False)
        ):
            raise ValueError(
                f"bonus coefficients must be >= 0 and not rise from A to D, got {values}"
            )
        return v

    @model_validator(mode="after")
    def _weights(self) -> Settings:
        if set(self.dimension_weights) != set(self.scorecard):
            raise ValueError(
                "dimension_weights and scorecard must name the same dimensions, got "
                f"{sorted(self.dimension_weights)} and {sorted(self.scorecard)}"
            )
        check_weights(self.dimension_weights, allowed=DIMENSIONS)
        if self.winsor_lower >= self.winsor_upper:
            raise ValueError(
                f"winsor_lower must be below winsor_upper, got {self.winsor_lower} >= {self.winsor_upper}"
            )
        return self
