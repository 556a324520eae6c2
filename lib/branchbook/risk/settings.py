"""The risk report's names and parameters: the five-class and days-past-due categories,
the scorecard's candidate features, and the ``risk:`` section of the parameters.

Floats may be written as whole numbers. The KPI cards' thresholds (``kpi_status``) are
parameters; what each KPI means is declared once in :mod:`.metrics`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..metrics import thresholds
from ..metrics.models import FIVE_CLASSES as FIVE_CLASSES  # the one list, re-exported
from ..metrics.models import NPL_CLASSES as NPL_CLASSES
from ..metrics.thresholds import Norm, StatusRule, relative
from ..params import Rag, Section, Share, check_increasing

REPORT = "risk"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = (
    "branches", "customers", "balances", "loans", "loan_snapshots", "financials", "aml_alerts",
    "kyc_history", "staff",
)  # fmt: skip

DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
CLOSED = "closed"
EW_RULES = (
    "revenue_down_inventory_up",
    "profit_down",
    "receivable_days_up",
    "debt_to_asset_high",
    "current_ratio_low",
    "negative_cash_flow",
    "overdue",
)
COMPLIANCE_CLASSES = ("compliant", "watch", "risk")
SCORE_FEATURES = (
    "product",
    "collateral_type",
    "customer_type",
    "industry",
    "ltv",
    "interest_rate",
    "loan_age_months",
    "remaining_months",
    "dpd",
    "max_dpd_6m",
    "aum",
    "products_held",
    "tenure_months",
    "debt_to_asset",
    "current_ratio",
)
#: The LTV limit of each collateral type with one of its own (others take ``ltv_limit``).
DEFAULT_LTV_LIMITS = {"real_estate": 0.70, "equipment": 0.50, "receivables": 0.60, "deposit": 0.90}
#: Months after which a collateral type's value is due for revaluation: the bank's
#: collateral-management policy, not a regulation. Real estate moves slowly and is
#: revalued at least yearly; equipment wears and loses value faster (half-yearly);
#: receivables turn over within months (quarterly); a pledged deposit or certificate is
#: marked to market every month. A type not named (a guarantee) is not revalued.
DEFAULT_REVALUATION_MONTHS = {"real_estate": 12, "equipment": 6, "receivables": 3, "deposit": 1}

#: Where each KPI card's colour comes from (:mod:`branchbook.metrics.thresholds`; the
#: README's table gives each default's reason). The NPL ratio's red line is the
#: regulator's 5% ceiling; special mention, expected loss, early warnings and risk
#: customers have no norm and depend on the bank's book, so they are read against the
#: bank's branches (the fixed numbers apply with too few branches); the top-10 share is a
#: concentration limit the bank sets (the regulator's top-ten limit is on net capital,
#: which a branch does not have).
DEFAULT_RAG: dict[str, StatusRule] = {
    "npl_ratio": Norm(good="low", green=0.03, amber=0.05, norm="npl_ceiling"),
    "special_mention_ratio": relative(Rag(good="low", green=0.03, amber=0.05)),
    "expected_loss_rate": relative(Rag(good="low", green=0.01, amber=0.02)),
    "warning_exposure_share": relative(Rag(good="low", green=0.05, amber=0.15)),
    "top10_share": Rag(good="low", green=0.30, amber=0.50),
    "risk_customer_share": relative(Rag(good="low", green=0.01, amber=0.03)),
}


class ScorecardSettings(Section):
    """The bank-wide scorecard. Fitted once per period with the bank's values (``bank.yaml``);
    a branch file cannot change how the bank's scorecard is built. Floats may be written as
    whole numbers."""

    features: list[str] = list(SCORE_FEATURES)
    performance_months: int = Field(12, ge=1, le=36)
    # fewest months of outcomes the development sample needs when history is short
    min_development_months: int = Field(6, ge=1, le=36)
    default_dpd: int = Field(90, ge=1, le=365)
    max_bins: int = Field(5, ge=2, le=20)
    min_bin_share: float = Field(0.01, ge=0.0, lt=0.5)
    min_bin_events: int = Field(5, ge=0)  # fewest defaults, and non-defaults, in a bin
    merge_p: float = Field(0.05, gt=0.0, le=1.0)  # adjacent bins not this different are merged
    # the direction of the default rate over a numeric feature; "auto" when not named
    trends: dict[str, Literal["auto", "ascending", "descending", "free"]] = {
        "dpd": "ascending",
        "max_dpd_6m": "ascending",
        "ltv": "ascending",
    }
    rare_level_share: Share = 0.02
    min_iv: float = Field(0.02, ge=0.0)
    max_correlation: float = Field(0.9, gt=0.0, le=1.0)
    base_score: float = 600.0
    base_odds: float = Field(50.0, gt=0.0)
    pdo: float = Field(20.0, gt=0.0)
    min_fit_defaults: int = Field(20, ge=1)
    min_defaults: int = Field(10, ge=1)
    score_bins: int = Field(10, ge=2, le=50)
    calibration_bands: int = Field(5, ge=2, le=20)  # score bands of the calibration table
    psi_watch: float = Field(0.10, gt=0.0)
    psi_shift: float = Field(0.25, gt=0.0)

    @field_validator("features")
    @classmethod
    def _features(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(SCORE_FEATURES))
        if unknown or not v or len(set(v)) != len(v):
            raise ValueError(
                f"features are expected to be distinct names among ({', '.join(SCORE_FEATURES)}). "
                f"Got {v} instead."
            )
        return v

    @model_validator(mode="after")
    def _psi(self) -> ScorecardSettings:
        if self.psi_watch >= self.psi_shift:
            raise ValueError(
                f"psi_watch ({self.psi_watch}) must be below psi_shift ({self.psi_shift})"
            )
        return self


class Lgd(Section):
    """Loss given default by collateral type (share of the exposure lost)."""

    none: Share = 0.75
    guarantee: Share = 0.60
    receivables: Share = 0.55
    equipment: Share = 0.50
    real_estate: Share = 0.35
    deposit: Share = 0.10


class EarlyWarning(Section):
    """Thresholds of the early-warning rules for corporate borrowers."""

    revenue_drop: Share = 0.10  # revenue down by at least this share year on year ...
    inventory_rise: float = Field(0.10, ge=0.0)  # ... while inventory is up by at least this share
    profit_drop: Share = 0.30  # net profit down by at least this share year on year, or ...
    margin_drop: Share = 0.03  # ... net margin (net profit / revenue) down by at least this
    receivable_days_increase: float = Field(30.0, ge=0.0)  # days, year on year
    debt_to_asset_max: float = Field(0.70, gt=0.0)  # tripped above
    current_ratio_min: float = Field(1.0, gt=0.0)  # tripped below
    cash_flow_min: float = 0.0  # operating cash flow below this (CNY)
    overdue_days: int = Field(0, ge=0)  # any loan more than this many days past due


class Compliance(Section):
    """How KYC status and AML alerts classify a customer as compliant / watch / risk."""

    lookback_months: int = Field(12, ge=1, le=60)
    open_alert_risk_days: int = Field(30, ge=1)
    kyc_incomplete: Literal["compliant", "watch", "risk"] = "watch"
    kyc_expired: Literal["compliant", "watch", "risk"] = "risk"
    ageing_days: list[int] = [7, 30, 90]

    @field_validator("ageing_days")
    @classmethod
    def _ageing(cls, v: list[int]) -> list[int]:
        check_increasing(v)
        if not v or v[0] <= 0:
            raise ValueError(f"ageing_days must be positive, got {v}")
        return v


#: Standardised-approach risk weights (Basel II, "International Convergence of Capital
#: Measurement and Capital Standards", June 2006: corporate unrated 100% para 66,
#: regulatory retail 75% para 69, residential mortgage 35% para 72, past due more than
#: 90 days 150% para 75).
DEFAULT_RISK_WEIGHTS = {
    "residential_mortgage": 0.35,
    "retail": 0.75,
    "corporate": 1.00,
    "past_due": 1.50,
}
#: The share of a collateral's value not counted on in a recovery (forced-sale discount,
#: costs), by collateral type; a type not named (none, guarantee) has no collateral value
#: to lose. Near 1 - 1/C** of the Basel II foundation IRB's minimum collateralisation
#: (para 295: 125% receivables, 140% real estate and other physical collateral); a
#: pledged deposit is cash.
DEFAULT_HAIRCUTS = {"real_estate": 0.30, "equipment": 0.30, "receivables": 0.20, "deposit": 0.0}


class Stress(Section):
    """Stress scenarios and the simulated loss distribution (:mod:`.stress`). The loss
    distribution is simulated once per period in prepare with the bank's values."""

    pd_multipliers: list[float] = [1.5, 2.0]  # PD x each (capped at 1)
    collateral_shocks: list[Share] = [0.2, 0.4]  # collateral values down by each share
    haircuts: dict[str, Share] = dict(DEFAULT_HAIRCUTS)
    risk_weights: dict[str, float] = dict(DEFAULT_RISK_WEIGHTS)
    mortgage_products: list[str] = ["mortgage"]  # products weighted as residential mortgages
    # asset correlation of the one-factor model: "basel" (the IRB formulas by asset class)
    # or one number for every loan
    correlation: Literal["basel"] | float = "basel"
    draws: int = Field(20_000, ge=1_000, le=1_000_000)
    seed: int = Field(20_261, ge=0)
    confidence: float = Field(0.999, gt=0.5, lt=1.0)

    @field_validator("pd_multipliers")
    @classmethod
    def _multipliers(cls, v: list[float]) -> list[float]:
        if not v or any(not m > 0 for m in v):
            raise ValueError(f"pd_multipliers must be positive, got {v}")
        return v

    @field_validator("collateral_shocks")
    @classmethod
    def _shocks(cls, v: list[float]) -> list[float]:
        if not v:
            raise ValueError("collateral_shocks needs at least one shock")
        return v

    @field_validator("haircuts")
    @classmethod
    def _haircuts(cls, v: dict[str, float]) -> dict[str, float]:
        types = tuple(t for t in Lgd.model_fields if t not in ("none", "guarantee"))
        unknown = sorted(set(v) - set(types))
        if unknown:
            raise ValueError(f"haircuts are expected for ({', '.join(types)}). Got {v} instead.")
        return {**DEFAULT_HAIRCUTS, **v}

    @field_validator("risk_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(DEFAULT_RISK_WEIGHTS))
        if unknown or any(not 0 <= w <= 12.5 for w in v.values()):
            raise ValueError(
                f"risk_weights are expected as weights from 0 to 12.5 of "
                f"({', '.join(DEFAULT_RISK_WEIGHTS)}). Got {v} instead."
            )
        return {**DEFAULT_RISK_WEIGHTS, **v}

    @field_validator("correlation")
    @classmethod
    def _correlation(cls, v):
        if v != "basel" and not 0 <= float(v) < 1:
            raise ValueError(f'correlation must be "basel" or a number in [0, 1), got {v}')
        return v


class Settings(Section):
    """The ``risk:`` section of the parameters. Floats may be written as whole numbers.

    The benchmarks (``bench_risk_*``, bank medians) are computed with the bank's values;
    a branch file that overrides, say, ``lgd`` or ``early_warning`` changes its own
    report's figures but not the bank medians they are compared with.
    ``kpi_status``, ``ltv_limits`` and ``revaluation_months`` may name only the entries
    they change; the others keep their defaults.
    """

    trend_months: int = Field(12, ge=2, le=36)
    scorecard: ScorecardSettings = ScorecardSettings()
    lgd: Lgd = Lgd()
    # credit conversion factor: the share of an undrawn commitment counted in EAD
    ccf: Share = 0.5
    early_warning: EarlyWarning = EarlyWarning()
    ltv_limit: float = Field(0.70, gt=0.0)  # for a collateral type without a limit below
    # the LTV limit of each collateral type (``lgd``'s names), above which a loan is listed
    ltv_limits: dict[str, float] = dict(DEFAULT_LTV_LIMITS)
    ltv_bands: list[float] = [0.3, 0.5, 0.7, 0.9, 1.0]
    # months after its last appraisal at which each collateral type is due for revaluation
    revaluation_months: dict[str, int] = dict(DEFAULT_REVALUATION_MONTHS)
    top_borrowers: int = Field(10, ge=1, le=100)  # rows of the largest-borrower table
    list_rows: int = Field(20, ge=1, le=500)  # rows of a borrower or loan list before the appendix
    compliance: Compliance = Compliance()
    pd_bands: list[float] = [0.01, 0.03, 0.08, 0.20]
    exposure_bands: list[float] = [100_000.0, 500_000.0, 2_000_000.0, 10_000_000.0]
    npl_change_alert: float = Field(0.005, ge=0.0)  # a change on last period worth a sentence
    npl_trend_alert: float = Field(0.01, ge=0.0)  # a rise over the trend window worth one
    # the change of loans outstanding since last month (a share of last month's, 0.005 =
    # 0.5%) from which the summary names the product and part that drove it most
    fact_bridge: Share = 0.005
    # the change of the NPL or special-mention ratio since last month (0.001 = 0.1 pp)
    # from which the summary names the product and effect that drove it most
    fact_bridge_pp: Share = 0.001
    kpi_status: dict[str, StatusRule] = dict(DEFAULT_RAG)
    stress: Stress = Stress()

    @field_validator("ltv_bands", "pd_bands", "exposure_bands")
    @classmethod
    def _bands(cls, v: list[float], info) -> list[float]:
        check_increasing(v)
        if not v or v[0] <= 0:
            raise ValueError(f"{info.field_name} must be positive, got {v}")
        if info.field_name != "ltv_bands" and len(v) != 4:
            raise ValueError(f"{info.field_name} needs 4 cut points (5 bands), got {len(v)}")
        if info.field_name == "pd_bands" and v[-1] >= 1:
            raise ValueError(f"pd_bands must be below 1, got {v}")
        return v

    @field_validator("ltv_limits")
    @classmethod
    def _ltv_limits(cls, v: dict[str, float]) -> dict[str, float]:
        types = tuple(Lgd.model_fields)
        unknown = sorted(set(v) - set(types))
        if unknown or any(not x > 0 for x in v.values()):
            raise ValueError(
                f"ltv_limits are expected as positive limits of ({', '.join(types)}). "
                f"Got {v} instead."
            )
        return {**DEFAULT_LTV_LIMITS, **v}

    @field_validator("revaluation_months", mode="before")
    @classmethod
    def _revaluation(cls, v) -> dict[str, int]:
        types = tuple(t for t in Lgd.model_fields if t not in ("none", "guarantee"))
        ok = isinstance(v, dict) and all(
            k in types and type(m) is int and 1 <= m <= 120 for k, m in v.items()
        )
        if not ok:
            raise ValueError(
                f"revaluation_months are expected as whole months from 1 to 120 for "
                f"({', '.join(types)}). Got {v} instead."
            )
        return {**DEFAULT_REVALUATION_MONTHS, **v}

    @field_validator("kpi_status")
    @classmethod
    def _rag(cls, v: dict[str, StatusRule]) -> dict[str, StatusRule]:
        return thresholds.check_kpi_status(v, DEFAULT_RAG, DEFAULT_RAG)
