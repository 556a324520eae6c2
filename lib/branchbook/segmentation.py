"""Customer segmentation (客户分类与分级): tiers, grades, scores, clusters and migration.

How the report is computed:

* :func:`prepare` runs once per period for the whole bank. It aggregates the warehouse
  in SQL to one row per customer (``segmentation_customers``), computes what must be
  measured the same way across the bank (percentile ranks, RFM quintiles, k-means
  clusters) and the bank-wide benchmarks (``bench_segmentation``,
  ``bench_segmentation_clusters``).
* :func:`classify` turns a branch's customer rows into tiers, grade, composite score,
  level and lifecycle stage with the branch's own thresholds;
  :func:`previous` gives the same rows as they stood at the previous period.
* The other functions are the report's tables, one per section, and :func:`kpis` /
  :func:`summary_facts` for the opening of the report.

Conventions: money in the bank's currency (CNY); shares are fractions (0.25, not 25);
AUM (assets under management, 资产规模) = deposits + wealth at a month end. A customer is
*open* at a month end when ``opened_on <= month end`` and ``closed_on`` is empty or later
than the month end. Every function takes frames and returns new ones; inputs are never
changed. An empty branch gives empty tables and NaN shares, never an error.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from .params import Rag, Section, Share, check_increasing, check_weights

REPORT = "segmentation"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = ("customers", "balances", "transactions", "loans", "loan_snapshots")

CUSTOMER_TYPES = ("individual", "corporate")
ASSET_TIERS = ("mass", "affluent", "wealth", "private")
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
KPI_NAMES = (
    "customers",
    "aum_total",
    "top20_share",
    "active_share",
    "high_value_customers",
    "dormant_high_value_share",
)
#: How each KPI is formatted on its card (a :mod:`branchbook.fmt` formatter name).
KPI_FORMATS = {
    "customers": "int",
    "aum_total": "money",
    "top20_share": "pct",
    "active_share": "pct",
    "high_value_customers": "int",
    "dormant_high_value_share": "pct",
}
#: Which direction of each KPI is better (used to rank branches).
KPI_GOOD = {
    "customers": "high",
    "aum_total": "high",
    "top20_share": "low",
    "active_share": "high",
    "high_value_customers": "high",
    "dormant_high_value_share": "low",
}
ACTIVITY_DAYS = 90  # activity window: the 90 days ending at the period's last day
RFM_MONTHS = 12  # RFM window: the 12 calendar months ending with the period
TREND_MONTHS = 3  # AUM trend: average of the last 3 month ends over the 3 before
TOP_SHARE = 0.2  # "top 20%" of customers by AUM
CLUSTER_FEATURES = ("log_aum", "log_txn_90d", "products_held", "tenure_months")
VALUE_LABELS = ("high_value", "mid_value", "low_value")
ACTIVITY_LABELS = ("active", "occasional", "dormant")
CLUSTER_LABELS = tuple(f"{v}_{a}" for v in VALUE_LABELS for a in ACTIVITY_LABELS)
CLUSTER_TRAITS = ("many_products", "few_products", "long_tenure", "short_tenure", "typical")


# --------------------------------------------------------------------------- settings


class AssetTiers(Section):
    """Lower bounds of the asset tiers above ``mass``, in CNY of AUM, each inclusive.

    mass: AUM < affluent; affluent: affluent <= AUM < wealth; wealth: wealth <= AUM <
    private; private: AUM >= private.
    """

    affluent: float = 50_000.0
    wealth: float = 500_000.0
    private: float = 6_000_000.0

    @model_validator(mode="after")
    def _check(self) -> AssetTiers:
        if self.affluent <= 0:
            raise ValueError(f"affluent must be > 0, got {self.affluent}")
        check_increasing([self.affluent, self.wealth, self.private])
        return self


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


class BankWide(Section):
    """Settings used only by :func:`prepare`, once for the whole bank.

    Set them in the bank's file: a branch file overriding them changes nothing, since
    percentile ranks, RFM quintiles and clusters are measured on the whole bank.
    """

    clusters: int = Field(default=5, ge=2, le=12)
    seed: int = Field(default=20261031, ge=0)
    cluster_sample: int = Field(default=50_000, ge=1_000, le=1_000_000)
    no_credit_as: Literal["A", "B", "C", "D"] = "A"


def _default_status() -> dict[str, Rag]:
    return {
        "top20_share": Rag(good="low", green=0.80, amber=0.90),
        "active_share": Rag(good="high", green=0.60, amber=0.40),
        "dormant_high_value_share": Rag(good="low", green=0.15, amber=0.25),
    }


class Settings(Section):
    """The ``segmentation:`` section of the parameter files (every value has a default).

    Floats accept whole numbers (``50000``); integers must be whole numbers.
    ``level_cutoffs`` are the composite scores (0-100) from which levels 2, 3, 4 and 5
    start, each inclusive. ``action_rows`` is how many rows of the action list the
    report shows. ``fact_gap`` is the gap to the bank median (in share points, 0.05 =
    5 pp) from which the summary mentions a share; ``fact_migration`` the net share of
    customers moving down (or up) a tier from which it mentions tier migration.
    """

    #: Keys only bank.yaml may set: they are used once, in prepare, for the whole bank.
    BANK_ONLY: ClassVar[tuple[str, ...]] = ("bank_wide",)

    asset_tiers: AssetTiers = AssetTiers()
    activity_tiers: ActivityTiers = ActivityTiers()
    weights: CompositeWeights = CompositeWeights()
    level_cutoffs: list[float] = Field(default_factory=lambda: [30.0, 45.0, 60.0, 75.0])
    lifecycle: Lifecycle = Lifecycle()
    bank_wide: BankWide = BankWide()
    action_rows: int = Field(default=50, ge=1, le=10_000)
    fact_gap: Share = 0.05
    fact_migration: Share = 0.01
    kpi_status: dict[str, Rag] = Field(default_factory=_default_status)

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
    def _kpis(cls, v: dict[str, Rag]) -> dict[str, Rag]:
        unknown = sorted(set(v) - set(KPI_NAMES))
        if unknown:
            raise ValueError(
                f"unknown KPI(s) {', '.join(unknown)}; allowed: {', '.join(KPI_NAMES)}"
            )
        return v


# --------------------------------------------------------------------- classification


def _as_float(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _labels(codes: np.ndarray, names: tuple, missing: np.ndarray, index) -> pd.Series:
    out = np.array(names, dtype=object)[np.clip(codes, 0, len(names) - 1)]
    out[missing] = None
    return pd.Series(out, index=index, dtype="str")


def asset_tier(aum: pd.Series, tiers: AssetTiers) -> pd.Series:
    """Asset tier of each AUM (CNY): mass / affluent / wealth / private; NaN stays NaN.

    Lower bounds are inclusive: with the defaults 49,999.99 is mass and 50,000 affluent.
    """
    a = _as_float(aum)
    codes = np.searchsorted([tiers.affluent, tiers.wealth, tiers.private], a, side="right")
    return _labels(codes, ASSET_TIERS, np.isnan(a), aum.index)


def activity_tier(count: pd.Series, tiers: ActivityTiers) -> pd.Series:
    """Activity tier of each 90-day transaction count; NaN stays NaN.

    With the defaults: 0 dormant, 1-5 low, 6-20 medium, 21 or more high.
    """
    c = _as_float(count)
    codes = np.searchsorted([tiers.low, tiers.medium, tiers.high], c, side="right")
    return _labels(codes, ACTIVITY_TIERS, np.isnan(c), count.index)


def composite_score(customers: pd.DataFrame, weights: CompositeWeights) -> pd.Series:
    """Composite score 0-100: weighted average of the bank-wide percentile ranks.

    Uses ``pct_aum``, ``pct_activity``, ``pct_products``, ``pct_tenure`` and
    ``pct_credit`` (see :func:`percentile_rank`); NaN if any of them is missing (a
    customer not open at the period).
    """
    total = pd.Series(0.0, index=customers.index)
    for name, w in weights.model_dump().items():
        total = total + w * pd.to_numeric(customers[f"pct_{name}"], errors="coerce")
    return total.rename("composite")


def composite_level(score: pd.Series, cutoffs: list[float]) -> pd.Series:
    """Level 1-5 of each composite score: level n+1 from ``cutoffs[n-1]`` (inclusive).

    With the defaults: < 30 level 1, 30 to < 45 level 2, 45 to < 60 level 3, 60 to < 75
    level 4, >= 75 level 5. NaN -> <NA>.
    """
    s = _as_float(score)
    codes = np.searchsorted(cutoffs, s, side="right") + 1
    out = pd.array(codes, dtype="Int64")
    out[np.isnan(s)] = pd.NA
    return pd.Series(out, index=score.index, name="level")


def aum_trend(recent: pd.Series, earlier: pd.Series) -> pd.Series:
    """Ratio of the average AUM of the last 3 month ends to that of the 3 before.

    1.25 means AUM grew by a quarter. Earlier average 0 and recent above 0 -> +inf
    (growth from nothing); both 0 or either missing -> NaN.
    """
    r, e = _as_float(recent), _as_float(earlier)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(e > 0, r / e, np.where((e == 0) & (r > 0), np.inf, np.nan))
    return pd.Series(ratio, index=recent.index, name="aum_trend")


def lifecycle_stage(customers: pd.DataFrame, settings: Settings) -> pd.Series:
    """Lifecycle stage of each open customer, by the first rule that applies.

    1. ``new``: tenure below ``lifecycle.new_months`` calendar months;
    2. ``dormant``: activity tier dormant (no transactions in 90 days with the default
       tiers) and AUM below ``lifecycle.dormant_aum_below``;
    3. ``growth``: AUM trend (:func:`aum_trend`) >= ``growth_ratio``;
    4. ``decline``: AUM trend <= ``decline_ratio``;
    5. ``mature``: anything else, including a trend that cannot be measured (NaN).

    Customers not open at the period get NaN.
    """
    lc = settings.lifecycle
    open_ = customers["open_now"].fillna(False).astype(bool).to_numpy()
    tenure = _as_float(customers["tenure_months"])
    aum = _as_float(customers["aum"])
    dormant = (_as_float(customers["txn_90d"]) < settings.activity_tiers.low) & (
        aum < lc.dormant_aum_below
    )
    trend = aum_trend(customers["aum_recent_3m"], customers["aum_earlier_3m"]).to_numpy()
    stage = np.select(
        [tenure < lc.new_months, dormant, trend >= lc.growth_ratio, trend <= lc.decline_ratio],
        ["new", "dormant", "growth", "decline"],
        default="mature",
    ).astype(object)
    stage[~open_] = None
    return pd.Series(stage, index=customers.index, name="lifecycle", dtype="str")


def classify(customers: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The customer rows with their classification added, by ``settings``' thresholds.

    Adds ``asset_tier`` and ``asset_tier_prev`` (NaN when not open then),
    ``activity_tier``, ``aum_trend``, ``composite`` (0-100), ``level`` (1-5) and
    ``lifecycle``. ``credit_grade``, RFM scores and ``cluster`` come from
    :func:`prepare` unchanged. Works on :func:`previous` rows too.
    """
    open_now = customers["open_now"].fillna(False).astype(bool)
    open_prev = customers["open_prev"].fillna(False).astype(bool)
    composite = composite_score(customers, settings.weights).where(open_now)
    return customers.assign(
        asset_tier=asset_tier(customers["aum"].where(open_now), settings.asset_tiers),
        asset_tier_prev=asset_tier(customers["aum_prev"].where(open_prev), settings.asset_tiers),
        activity_tier=activity_tier(customers["txn_90d"].where(open_now), settings.activity_tiers),
        aum_trend=aum_trend(customers["aum_recent_3m"], customers["aum_earlier_3m"]),
        composite=composite,
        level=composite_level(composite, settings.level_cutoffs),
        lifecycle=lifecycle_stage(customers, settings),
    )


#: Column as of the period <- the column holding it as of the previous period.
_PREV_COLUMNS = {
    "open_now": "open_prev",
    "aum": "aum_prev",
    "products_held": "products_held_prev",
    "txn_90d": "txn_90d_prev",
    "recency_days": "recency_days_prev",
    "credit_grade": "credit_grade_prev",
    "aum_recent_3m": "aum_recent_3m_prev",
    "aum_earlier_3m": "aum_earlier_3m_prev",
}
#: Columns only known as of the period (bank-wide ranks and fits): NaN in previous().
_PERIOD_ONLY = (
    "deposits",
    "wealth",
    "frequency_12m",
    "monetary_12m",
    "pct_aum",
    "pct_activity",
    "pct_products",
    "pct_tenure",
    "pct_credit",
    "r_score",
    "f_score",
    "m_score",
    "cluster",
    "cluster_label",
)


def previous(customers: pd.DataFrame) -> pd.DataFrame:
    """The customer rows as they stood at the previous period, with the same columns.

    ``open_now``, ``aum``, ``txn_90d`` ... take their ``*_prev`` values, tenure is one
    month less, and the ``*_prev`` columns become empty (the period before is not
    known). Bank-wide ranks, RFM scores and clusters are fitted for the period only and
    are NaN here, so ``classify(previous(c), s)`` has no composite score or level.
    """
    out = customers.copy()
    for now, prev in _PREV_COLUMNS.items():
        out[now] = customers[prev]
        out[prev] = False if prev == "open_prev" else np.nan
    out["tenure_months"] = pd.to_numeric(customers["tenure_months"]) - 1
    for col in _PERIOD_ONLY:
        if col in out:
            out[col] = np.nan
    return out


def open_customers(customers: pd.DataFrame) -> pd.DataFrame:
    """Only the customers open at the period."""
    return customers[customers["open_now"].fillna(False).astype(bool)]


# ------------------------------------------------------------------ bank-wide measures


def percentile_rank(values: pd.Series) -> pd.Series:
    """Percentile rank 0-100 of each value among the non-missing ones (higher = better).

    100 x average rank / n: the largest value gets 100, ties share the average of
    their ranks (three customers with 0, 0, 5 get 50, 50, 100). NaN stays NaN.
    """
    return values.rank(method="average", pct=True) * 100


def quintile_score(values: pd.Series) -> pd.Series:
    """Quintile score 1-5 of each value (5 = highest): ceil(5 x average rank / n).

    Ties share the score of their average rank; five distinct values score 1..5;
    a single value scores 5. NaN -> NaN.
    """
    pct = values.rank(method="average", pct=True)
    return np.ceil((5 * pct).round(9)).clip(1, 5)


def rfm_scores(customers: pd.DataFrame) -> pd.DataFrame:
    """RFM quintile scores (1-5, 5 best) of the customers open at the period.

    R ranks ``recency_days`` (fewer days is better), F ``frequency_12m``, M
    ``monetary_12m``, among the open customers with at least one transaction in the 12
    months; customers without one get R = F = M = 1. Rows not open: NaN. Computed in
    :func:`prepare` over the whole bank.
    """
    open_ = customers["open_now"].fillna(False).astype(bool)
    freq = pd.to_numeric(customers["frequency_12m"]).fillna(0)
    active = open_ & (freq > 0)
    out = pd.DataFrame(
        index=customers.index, columns=["r_score", "f_score", "m_score"], dtype=float
    )
    out.loc[open_] = 1.0
    out.loc[active, "r_score"] = quintile_score(
        -pd.to_numeric(customers.loc[active, "recency_days"])
    )
    out.loc[active, "f_score"] = quintile_score(freq[active])
    out.loc[active, "m_score"] = quintile_score(
        pd.to_numeric(customers.loc[active, "monetary_12m"])
    )
    return out


def credit_quality(grade: pd.Series, no_credit_as: str) -> pd.Series:
    """Credit quality points of each grade for ranking: A 4, B 3, C 2, D 1.

    ``no_credit`` counts as the grade ``no_credit_as`` (default A: no adverse record).
    """
    points = {"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0}
    points["no_credit"] = points[no_credit_as]
    return grade.map(points).astype(float)


def cluster_features(customers: pd.DataFrame) -> pd.DataFrame:
    """Clustering features: log(1+AUM), log(1+90-day transactions), products, tenure."""
    return pd.DataFrame(
        {
            "log_aum": np.log1p(np.clip(_as_float(customers["aum"]), 0, None)),
            "log_txn_90d": np.log1p(np.clip(_as_float(customers["txn_90d"]), 0, None)),
            "products_held": _as_float(customers["products_held"]),
            "tenure_months": _as_float(customers["tenure_months"]),
        },
        index=customers.index,
    )


def _sq_dist(xt: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Squared distance of every column of ``xt`` (features x rows) to ``point``."""
    d2 = np.zeros(xt.shape[1])
    for j in range(len(point)):
        d2 += (xt[j] - point[j]) ** 2
    return d2


def _nearest(xt: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each row's nearest centre and the squared distance to it.

    ``xt`` holds the rows as columns (features x rows), which keeps the arithmetic
    exact and cheap without a BLAS call.
    """
    d2 = np.stack([_sq_dist(xt, c) for c in centres])
    labels = d2.argmin(axis=0)
    return labels, d2[labels, np.arange(xt.shape[1])]


def kmeans(
    x: np.ndarray, k: int, *, seed: int, n_init: int = 4, max_iter: int = 100, tol: float = 1e-4
) -> np.ndarray:
    """Centres of k-means (Lloyd's algorithm, k-means++ start), best of ``n_init`` runs.

    ``x`` is rows x features, best standardised. A run stops when no centre moves by
    more than ``tol`` in any feature, or after ``max_iter`` rounds; an emptied cluster
    keeps its centre. Deterministic for a given ``seed`` and row order. Returns fewer
    than ``k`` centres when ``x`` has fewer distinct rows than ``k``; an empty ``x``
    gives no centres.
    """
    if len(x) == 0:
        return np.empty((0, x.shape[1]))
    xt = np.ascontiguousarray(x.T, dtype=float)
    rng = np.random.default_rng(seed)
    best, best_inertia = None, np.inf
    for _ in range(n_init):
        centres = [x[rng.integers(len(x))]]
        d2 = _sq_dist(xt, centres[0])
        while len(centres) < k and d2.sum() > 0:
            centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
            d2 = np.minimum(d2, _sq_dist(xt, centres[-1]))
        c = np.array(centres, dtype=float)
        for _ in range(max_iter):
            labels, _ = _nearest(xt, c)
            counts = np.bincount(labels, minlength=len(c))
            sums = np.stack([np.bincount(labels, xt[j], len(c)) for j in range(len(xt))], 1)
            new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], c)
            moved = np.abs(new - c).max()
            c = new
            if moved <= tol:
                break
        inertia = _nearest(xt, c)[1].sum()
        if inertia < best_inertia:
            best, best_inertia = c, inertia
    return best


def cluster_label(centre_aum: float, centre_txn: float, settings: Settings) -> str:
    """Descriptive key of a cluster from its centre (AUM in CNY, 90-day transactions).

    Value: high_value from the wealth tier's bound, mid_value from the affluent bound,
    else low_value. Activity: active from the medium activity bound, occasional from
    the low bound, else dormant. E.g. ``high_value_active``.
    """
    at, act = settings.asset_tiers, settings.activity_tiers
    value = (
        "high_value"
        if centre_aum >= at.wealth
        else "mid_value"
        if centre_aum >= at.affluent
        else "low_value"
    )
    activity = (
        "active"
        if centre_txn >= act.medium
        else "occasional"
        if centre_txn >= act.low
        else "dormant"
    )
    return f"{value}_{activity}"


def cluster_trait(products_z: float, tenure_z: float) -> str:
    """Second descriptive key of a cluster: its most distinctive of products and tenure.

    Takes the centre's standardised products held and tenure (bank mean 0, sd 1); the
    one further from 0 names the trait (``many_products`` / ``few_products`` /
    ``long_tenure`` / ``short_tenure``, products first on a tie), ``typical`` when
    both lie within 0.5 sd of the bank's mean.
    """
    if max(abs(products_z), abs(tenure_z)) < 0.5:
        return "typical"
    if abs(products_z) >= abs(tenure_z):
        return "many_products" if products_z > 0 else "few_products"
    return "long_tenure" if tenure_z > 0 else "short_tenure"


def fit_clusters(customers: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """k-means clusters of the open customers (whole bank), one row per cluster.

    Features (:func:`cluster_features`) are standardised with the bank's mean and
    standard deviation (a constant feature keeps sd 1); centres are fitted on a seeded
    sample of at most ``bank_wide.cluster_sample`` customers. Clusters are numbered
    1..k by falling centre AUM. Columns: ``cluster``, ``label`` (:func:`cluster_label`),
    ``trait`` (:func:`cluster_trait`), ``customers``,
    ``customer_share`` (bank), ``centre_aum`` (CNY), ``centre_txn_90d``,
    ``centre_products``, ``centre_tenure``, and per feature ``centre_<f>``, ``mean_<f>``,
    ``sd_<f>`` for :func:`assign_clusters`.
    """
    bw = settings.bank_wide
    open_ = open_customers(customers).sort_values("customer_id")
    feats = cluster_features(open_).fillna(0.0)
    x = feats.to_numpy()
    mean = x.mean(axis=0) if len(x) else np.zeros(len(CLUSTER_FEATURES))
    sd = x.std(axis=0) if len(x) else np.ones(len(CLUSTER_FEATURES))
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mean) / sd
    rng = np.random.default_rng(bw.seed)
    sample = (
        z
        if len(z) <= bw.cluster_sample
        else z[np.sort(rng.choice(len(z), bw.cluster_sample, replace=False))]
    )
    centres = kmeans(sample, bw.clusters, seed=bw.seed) * sd + mean
    centres = centres[np.argsort(-centres[:, 0], kind="stable")]
    out = pd.DataFrame({"cluster": np.arange(1, len(centres) + 1, dtype="int64")})
    for j, f in enumerate(CLUSTER_FEATURES):
        out[f"centre_{f}"] = centres[:, j]
        out[f"mean_{f}"] = mean[j]
        out[f"sd_{f}"] = sd[j]
    out["centre_aum"] = np.expm1(out["centre_log_aum"])
    out["centre_txn_90d"] = np.expm1(out["centre_log_txn_90d"])
    out["centre_products"] = out["centre_products_held"]
    out["centre_tenure"] = out["centre_tenure_months"]
    out["label"] = pd.Series(
        [
            cluster_label(a, t, settings)
            for a, t in zip(out["centre_aum"], out["centre_txn_90d"], strict=True)
        ],
        dtype="str",
    )
    out["trait"] = pd.Series(
        [
            cluster_trait((p - mean[2]) / sd[2], (t - mean[3]) / sd[3])
            for p, t in zip(out["centre_products_held"], out["centre_tenure_months"], strict=True)
        ],
        dtype="str",
    )
    assigned = assign_clusters(open_, out)
    counts = assigned.value_counts()
    out["customers"] = out["cluster"].map(counts).fillna(0).astype("int64")
    out["customer_share"] = out["customers"] / len(open_) if len(open_) else np.nan
    return out


def assign_clusters(customers: pd.DataFrame, clusters: pd.DataFrame) -> pd.Series:
    """Cluster (1..k) of each open customer: the nearest saved centre, standardised.

    ``clusters`` is ``bench_segmentation_clusters``; customers not open get <NA>.
    """
    out = pd.Series(pd.NA, index=customers.index, dtype="Int64", name="cluster")
    open_ = customers["open_now"].fillna(False).astype(bool).to_numpy()
    if not open_.any() or clusters.empty:
        return out
    mean = clusters[[f"mean_{f}" for f in CLUSTER_FEATURES]].to_numpy()[0]
    sd = clusters[[f"sd_{f}" for f in CLUSTER_FEATURES]].to_numpy()[0]
    centres = (clusters[[f"centre_{f}" for f in CLUSTER_FEATURES]].to_numpy() - mean) / sd
    x = (cluster_features(customers[open_]).fillna(0.0).to_numpy() - mean) / sd
    labels, _ = _nearest(np.ascontiguousarray(x.T), centres)
    out[open_] = clusters["cluster"].to_numpy()[labels]
    return out


# --------------------------------------------------------------------------- tables


def tier_summary(customers: pd.DataFrame, by: str = "asset_tier") -> pd.DataFrame:
    """Customers and AUM per category of ``by`` among the open customers.

    ``by`` is one of :data:`DIMENSIONS` (every category shown, also when empty) or any
    other column (its categories in sorted order, e.g. ``cluster``). Columns:
    ``customers``, ``customer_share`` (of open customers), ``aum`` (CNY),
    ``aum_share`` (of their AUM), ``avg_aum`` (CNY, NaN for an empty category).
    Shares are NaN for an empty branch (or zero total AUM).
    """
    open_ = open_customers(customers)
    cats = DIMENSIONS.get(by) or tuple(sorted(open_[by].dropna().unique()))
    g = open_.groupby(by, observed=True)["aum"]
    out = pd.DataFrame({"customers": g.size(), "aum": g.sum()}).reindex(list(cats))
    out = out.fillna({"customers": 0, "aum": 0.0}).astype({"customers": "int64", "aum": float})
    n, total = len(open_), float(open_["aum"].sum())
    out["customer_share"] = out["customers"] / n if n else np.nan
    out["aum_share"] = out["aum"] / total if total > 0 else np.nan
    out["avg_aum"] = out["aum"] / out["customers"].where(out["customers"] > 0)
    out.index.name = by
    return out[["customers", "customer_share", "aum", "aum_share", "avg_aum"]]


def type_split(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers and AUM of individual and corporate customers (see :func:`tier_summary`)."""
    return tier_summary(customers, "customer_type")


def lorenz(amounts: pd.Series, points: int | None = 101) -> pd.DataFrame:
    """Lorenz curve of AUM: cumulative share of customers (poorest first) x of AUM.

    Starts at (0, 0) and ends at (1, 1). Negative amounts count as 0, NaN are left
    out. With more than ``points`` customers the curve is interpolated on ``points``
    evenly spaced customer shares. Empty -> empty frame; zero total -> NaN AUM shares.
    """
    a = np.sort(np.clip(_as_float(amounts), 0, None)[~np.isnan(_as_float(amounts))])
    if len(a) == 0:
        return pd.DataFrame({"customer_share": [], "aum_share": []}, dtype=float)
    total = a.sum()
    cust = np.arange(len(a) + 1) / len(a)
    cum = (
        np.concatenate([[0.0], np.cumsum(a)]) / total if total > 0 else np.full(len(a) + 1, np.nan)
    )
    if points and len(cust) > points and total > 0:
        grid = np.linspace(0.0, 1.0, points)
        cust, cum = grid, np.interp(grid, cust, cum)
    return pd.DataFrame({"customer_share": cust, "aum_share": cum})


def top_share(amounts: pd.Series, top: float = TOP_SHARE) -> float:
    """Share of total AUM held by the top ``top`` of customers (0.2 = top 20%).

    The top ceil(top x n) customers by AUM count (5 customers -> 1, 6 -> 2). Negative
    amounts count as 0, NaN are left out. Empty or zero total -> NaN.
    """
    a = np.sort(np.clip(_as_float(amounts), 0, None)[~np.isnan(_as_float(amounts))])[::-1]
    total = a.sum()
    if len(a) == 0 or total <= 0:
        return math.nan
    k = math.ceil(round(top * len(a), 9))
    return float(a[:k].sum() / total)


def gini(amounts: pd.Series) -> float:
    """Gini coefficient of AUM: 0 = all equal, towards 1 = held by one customer.

    G = 2 * sum(i * x_i) / (n * sum(x)) - (n + 1) / n with x sorted ascending, i = 1..n.
    Negative amounts count as 0, NaN are left out. Empty or zero total -> NaN; one
    customer -> 0.
    """
    a = np.sort(np.clip(_as_float(amounts), 0, None)[~np.isnan(_as_float(amounts))])
    n, total = len(a), a.sum()
    if n == 0 or total <= 0:
        return math.nan
    return float(2 * (np.arange(1, n + 1) * a).sum() / (n * total) - (n + 1) / n)


def migration_matrix(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers by asset tier at the previous period (rows) x at the period (columns).

    Rows: the four tiers then ``new`` (not open at the previous period); columns: the
    four tiers then ``closed`` (no longer open). Counts; all zero for an empty branch.
    """
    rows, cols = list(ASSET_TIERS) + ["new"], list(ASSET_TIERS) + ["closed"]
    before = (
        customers["asset_tier_prev"]
        .astype(object)
        .where(customers["open_prev"].fillna(False).astype(bool), "new")
    )
    now = (
        customers["asset_tier"]
        .astype(object)
        .where(customers["open_now"].fillna(False).astype(bool), "closed")
    )
    counts = pd.crosstab(before, now) if len(customers) else pd.DataFrame()
    out = counts.reindex(index=rows, columns=cols, fill_value=0).astype("int64")
    out.index.name, out.columns.name = "tier_prev", "tier_now"
    return out


def migration_counts(customers: pd.DataFrame) -> dict[str, int]:
    """Customers who moved up, down or stayed a tier, plus new and closed ones."""
    order = {t: i for i, t in enumerate(ASSET_TIERS)}
    both = customers["open_now"].fillna(False).astype(bool) & customers["open_prev"].fillna(
        False
    ).astype(bool)
    now = customers.loc[both, "asset_tier"].map(order)
    before = customers.loc[both, "asset_tier_prev"].map(order)
    return {
        "upgraded": int((now > before).sum()),
        "downgraded": int((now < before).sum()),
        "unchanged": int((now == before).sum()),
        "new": int(
            (customers["open_now"].fillna(False) & ~customers["open_prev"].fillna(False)).sum()
        ),
        "closed": int(
            (~customers["open_now"].fillna(False) & customers["open_prev"].fillna(False)).sum()
        ),
    }


def rfm_distribution(customers: pd.DataFrame) -> pd.DataFrame:
    """Open customers per RFM score: index score 1..5, columns ``r``, ``f``, ``m`` counts."""
    open_ = open_customers(customers)
    out = pd.DataFrame(
        {
            k: open_[f"{k}_score"].value_counts().reindex([1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0)
            for k in "rfm"
        }
    )
    out.index = pd.Index([1, 2, 3, 4, 5], name="score")
    return out.astype("int64")


def rfm_grid(customers: pd.DataFrame) -> pd.DataFrame:
    """Open customers by R score (rows, 5 to 1) x F score (columns, 1 to 5): counts."""
    open_ = open_customers(customers)
    grid = pd.crosstab(open_["r_score"], open_["f_score"]) if len(open_) else pd.DataFrame()
    out = grid.reindex(
        index=[5.0, 4.0, 3.0, 2.0, 1.0], columns=[1.0, 2.0, 3.0, 4.0, 5.0], fill_value=0
    )
    out.index, out.columns = (
        pd.Index([5, 4, 3, 2, 1], name="r_score"),
        pd.Index([1, 2, 3, 4, 5], name="f_score"),
    )
    return out.astype("int64")


def cluster_profile(customers: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The branch's open customers per bank-wide cluster, beside the bank's share.

    Index ``cluster``; columns ``label`` and ``trait`` (catalogue keys), ``customers``,
    ``customer_share``, ``bank_share``, ``aum_share``, ``median_aum`` (CNY),
    ``mean_txn_90d``, ``mean_products``, ``mean_tenure`` (months); NaN where the branch
    has nobody in a cluster.
    """
    summary = tier_summary(customers, "cluster")
    open_ = open_customers(customers)
    g = open_.groupby("cluster")
    stats = pd.DataFrame(
        {
            "median_aum": g["aum"].median(),
            "mean_txn_90d": g["txn_90d"].mean(),
            "mean_products": g["products_held"].mean(),
            "mean_tenure": g["tenure_months"].mean(),
        }
    )
    base = clusters.set_index("cluster")[["label", "trait", "customer_share"]].rename(
        columns={"customer_share": "bank_share"}
    )
    out = base.join(summary[["customers", "customer_share", "aum_share"]]).join(stats)
    out["customers"] = out["customers"].fillna(0).astype("int64")
    if not len(open_):
        out["customer_share"] = np.nan
    else:
        out["customer_share"] = out["customer_share"].fillna(0.0)
    out.index.name = "cluster"
    return out[
        [
            "label",
            "trait",
            "customers",
            "customer_share",
            "bank_share",
            "aum_share",
            "median_aum",
            "mean_txn_90d",
            "mean_products",
            "mean_tenure",
        ]
    ]


def action_list(customers: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """Customers to call: those slipping an asset tier and dormant high-value ones.

    ``slipped_tier``: open at both periods, asset tier now lower than before.
    ``dormant_high_value``: open, activity tier dormant, and asset tier wealth or private
    or the top composite level (5). ``reason`` is one of those or ``both``. Sorted by
    AUM (largest first), then customer id; ``limit`` keeps the first rows. Columns:
    customer_id, manager_id, name (raw: mask before showing), reason, asset_tier,
    asset_tier_prev, level, activity_tier, aum, aum_prev, recency_days (NaN: never
    transacted).
    """
    order = {t: i for i, t in enumerate(ASSET_TIERS)}
    open_now = customers["open_now"].fillna(False).astype(bool)
    both = open_now & customers["open_prev"].fillna(False).astype(bool)
    slipped = both & (customers["asset_tier"].map(order) < customers["asset_tier_prev"].map(order))
    high = customers["asset_tier"].isin(HIGH_VALUE_TIERS) | (
        customers["level"] == LEVELS[-1]
    ).fillna(False)
    dormant = open_now & (customers["activity_tier"] == "dormant") & high
    reason = np.select(
        [slipped & dormant, slipped, dormant], ["both", "slipped_tier", "dormant_high_value"], ""
    )
    out = customers.assign(reason=pd.Series(reason, index=customers.index, dtype="str"))[
        slipped | dormant
    ]
    cols = [
        "customer_id",
        "manager_id",
        "name",
        "reason",
        "asset_tier",
        "asset_tier_prev",
        "level",
        "activity_tier",
        "aum",
        "aum_prev",
        "recency_days",
    ]
    out = out.sort_values(["aum", "customer_id"], ascending=[False, True])[cols].reset_index(
        drop=True
    )
    return out if limit is None else out.head(limit)


# ----------------------------------------------------------------- KPIs and benchmark


def kpis(customers: pd.DataFrame) -> dict[str, float]:
    """Headline KPIs of classified customer rows (one branch, or any set).

    ``customers``: open customers (count); ``aum_total``: their AUM (CNY);
    ``top20_share``: share of AUM held by the top 20% (:func:`top_share`, NaN if
    empty); ``active_share``: share of open customers not in the dormant activity tier
    (NaN if empty); ``high_value_customers``: open customers in the wealth or private
    tier; ``dormant_high_value_share``: the share of those in the dormant activity tier
    (NaN without high-value customers).
    """
    o = open_customers(customers)
    high = o["asset_tier"].isin(HIGH_VALUE_TIERS)
    dormant = o["activity_tier"] == "dormant"
    return {
        "customers": float(len(o)),
        "aum_total": float(o["aum"].sum()),
        "top20_share": top_share(o["aum"]),
        "active_share": float((~dormant).mean()) if len(o) else math.nan,
        "high_value_customers": float(high.sum()),
        "dormant_high_value_share": float((high & dormant).sum() / high.sum())
        if high.any()
        else math.nan,
    }


def dormant_high_value(customers: pd.DataFrame) -> dict[str, float]:
    """Open wealth and private customers in the dormant activity tier, as of the period.

    ``count``; ``aum`` (CNY, now); ``aum_prev``: the same customers' AUM last period
    (those open then); ``aum_change``: ``aum / aum_prev - 1`` over the customers open
    at both periods (NaN if none, or zero AUM last period).
    """
    o = open_customers(customers)
    sel = o[o["asset_tier"].isin(HIGH_VALUE_TIERS) & (o["activity_tier"] == "dormant")]
    both = sel[sel["open_prev"].fillna(False).astype(bool)]
    prev = float(both["aum_prev"].sum())
    return {
        "count": float(len(sel)),
        "aum": float(sel["aum"].sum()),
        "aum_prev": prev,
        "aum_change": float(both["aum"].sum()) / prev - 1 if prev > 0 else math.nan,
    }


def _bench_rows(classified: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per branch: KPIs, Gini, share of customers (and of AUM) per category."""
    needed = ["branch_id", "open_now", "open_prev", "aum", "aum_prev", *DIMENSIONS]
    classified = classified[needed]  # fewer columns: much faster cuts per branch
    open_ = open_customers(classified)
    rows = []
    for bid, g in classified.groupby("branch_id", sort=True):
        o = open_customers(g)
        dhv = dormant_high_value(g)["count"]
        row = {"branch_id": bid, "period": period, **kpis(g), "gini": gini(o["aum"])}
        rows.append({**row, "dormant_high_value": dhv})
    out = pd.DataFrame(
        rows, columns=["branch_id", "period", *KPI_NAMES, "gini", "dormant_high_value"]
    )
    out = out.set_index("branch_id")
    n = open_.groupby("branch_id").size()
    aum = open_.groupby("branch_id")["aum"].sum()
    for dim, cats in DIMENSIONS.items():
        known = open_[dim].notna().groupby(open_["branch_id"]).any()
        counts = pd.crosstab(open_["branch_id"], open_[dim]) if len(open_) else pd.DataFrame()
        counts = counts.reindex(index=out.index, columns=list(cats), fill_value=0)
        for cat in cats:
            share = counts[cat] / n.reindex(out.index)
            out[f"share_{dim}_{cat}"] = share.where(known.reindex(out.index, fill_value=False))
        if dim in ("asset_tier", "customer_type"):
            sums = (
                open_.pivot_table(index="branch_id", columns=dim, values="aum", aggfunc="sum")
                if len(open_)
                else pd.DataFrame()
            )
            sums = sums.reindex(index=out.index, columns=list(cats)).fillna(0.0)
            total = aum.reindex(out.index)
            for cat in cats:
                out[f"aum_share_{dim}_{cat}"] = (sums[cat] / total.where(total > 0)).astype(float)
    return out.reset_index()


def bank_median(bench: pd.DataFrame, column: str, period: str) -> float:
    """Median over the bank's branches of one ``bench_segmentation`` column at ``period``."""
    rows = (
        bench.loc[bench["period"] == period, column] if column in bench else pd.Series(dtype=float)
    )
    return float(rows.median()) if rows.notna().any() else math.nan


def branch_vs_bank(
    customers: pd.DataFrame, bench: pd.DataFrame, *, period: str, by: str = "asset_tier"
) -> pd.DataFrame:
    """The branch's share of customers per category of ``by`` beside the bank median.

    Columns ``branch_share``, ``bank_median``, ``gap`` (branch - median, share points)
    and, for ``asset_tier`` and ``customer_type``, ``branch_aum_share`` and
    ``bank_median_aum_share``. The median is over branches (each branch counts once).
    """
    summary = tier_summary(customers, by)
    out = pd.DataFrame(index=summary.index)
    out["branch_share"] = summary["customer_share"]
    out["bank_median"] = [bank_median(bench, f"share_{by}_{c}", period) for c in summary.index]
    out["gap"] = out["branch_share"] - out["bank_median"]
    if by in ("asset_tier", "customer_type"):
        out["branch_aum_share"] = summary["aum_share"]
        out["bank_median_aum_share"] = [
            bank_median(bench, f"aum_share_{by}_{c}", period) for c in summary.index
        ]
    return out


def rag_status(value: float, rag: Rag | None) -> str | None:
    """``green`` / ``amber`` / ``red`` of a value against its thresholds; None if none/NaN."""
    if rag is None or value is None or not math.isfinite(value):
        return None
    return rag.status(value)


def kpi_table(
    current: dict[str, float],
    previous_kpis: dict[str, float],
    *,
    bench: pd.DataFrame,
    branch_id: str,
    period: str,
    settings: Settings,
) -> pd.DataFrame:
    """KPI cards: one row per KPI with value, previous, change, bank median, rank, status.

    ``change`` is value - previous (share points for shares); ``change_rel`` is
    change / previous (NaN when previous is 0). ``rank`` is 1 for the best branch (in
    the KPI's good direction) among ``branches``: the branch's own value against the
    other branches' values of ``bench`` at ``period``.
    """
    rows = bench[(bench["period"] == period) & (bench["branch_id"] != branch_id)]
    out = []
    for k in KPI_NAMES:
        v, p = current.get(k, math.nan), previous_kpis.get(k, math.nan)
        others = rows[k].dropna() if k in rows else pd.Series(dtype=float)
        better = (others > v) if KPI_GOOD[k] == "high" else (others < v)
        out.append(
            {
                "kpi": k,
                "value": v,
                "previous": p,
                "change": v - p,
                "change_rel": (v - p) / p if p else math.nan,
                "bank_median": bank_median(bench, k, period),
                "rank": float(1 + better.sum()) if math.isfinite(v) else math.nan,
                "branches": float(len(others) + 1),
                "status": rag_status(v, settings.kpi_status.get(k)),
            }
        )
    return pd.DataFrame(out)


def summary_facts(
    current: pd.DataFrame,
    previous_rows: pd.DataFrame,
    *,
    bench: pd.DataFrame,
    period: str,
    settings: Settings,
) -> list[tuple[str, dict[str, Any]]]:
    """3 to 6 facts for the summary: ``(catalogue key, values)``, most important first.

    ``current`` = ``classify(rows, s)``, ``previous_rows`` = ``classify(previous(rows),
    s)``. Always: the overview (customers, AUM, change; ``overview_first_period`` when
    nobody was open before) and the AUM concentration against the bank. When they
    apply: dormant high-value customers (``..._above_bank`` when their share of the
    high-value customers is ``fact_gap`` or more above the bank median), net tier
    slippage or upgrades (net movers at least ``fact_migration`` of the customers open
    at both periods), an active share or a decline-stage share ``fact_gap`` or more
    from the bank median; the high-value customers fill up to three facts. An empty
    branch gives the single fact ``segmentation.summary.no_customers``.
    """
    key = "segmentation.summary."
    now, before = kpis(current), kpis(previous_rows)
    if now["customers"] == 0:
        return [(key + "no_customers", {})]
    facts: list[tuple[str, dict[str, Any]]] = []
    if before["customers"] == 0:
        facts.append(
            (
                key + "overview_first_period",
                {"customers": now["customers"], "aum": now["aum_total"]},
            )
        )
    else:
        facts.append(
            (
                key + "overview",
                {
                    "customers": now["customers"],
                    "customers_change": now["customers"] / before["customers"] - 1,
                    "aum": now["aum_total"],
                    "aum_change": now["aum_total"] / before["aum_total"] - 1
                    if before["aum_total"]
                    else math.nan,
                },
            )
        )
    dhv = dormant_high_value(current)
    if dhv["count"] > 0:
        share, median = (
            now["dormant_high_value_share"],
            bank_median(bench, "dormant_high_value_share", period),
        )
        above = share - median >= settings.fact_gap
        values = {"count": dhv["count"], "aum": dhv["aum"], "aum_change": dhv["aum_change"]}
        if above:
            values |= {"share": share, "bank_median": median}
        facts.append(
            (key + ("dormant_high_value_above_bank" if above else "dormant_high_value"), values)
        )
    moves = migration_counts(current)
    stayed = moves["upgraded"] + moves["downgraded"] + moves["unchanged"]
    net = (moves["downgraded"] - moves["upgraded"]) / stayed if stayed else 0.0
    if net >= settings.fact_migration:
        facts.append(
            (
                key + "tier_slippage",
                {"downgraded": moves["downgraded"], "upgraded": moves["upgraded"]},
            )
        )
    elif -net >= settings.fact_migration:
        facts.append(
            (
                key + "tier_upgrades",
                {"upgraded": moves["upgraded"], "downgraded": moves["downgraded"]},
            )
        )
    facts.append(
        (
            key + "aum_concentration",
            {
                "top20_share": now["top20_share"],
                "bank_median": bank_median(bench, "top20_share", period),
            },
        )
    )
    active_median = bank_median(bench, "active_share", period)
    if abs(now["active_share"] - active_median) >= settings.fact_gap:
        side = "below" if now["active_share"] < active_median else "above"
        facts.append(
            (
                key + f"active_{side}_bank",
                {"active_share": now["active_share"], "bank_median": active_median},
            )
        )
    decline = tier_summary(current, "lifecycle").loc["decline", "customer_share"]
    decline_median = bank_median(bench, "share_lifecycle_decline", period)
    if decline - decline_median >= settings.fact_gap:
        facts.append(
            (key + "decline_above_bank", {"decline_share": decline, "bank_median": decline_median})
        )
    if len(facts) < 3:
        tiers = tier_summary(current, "asset_tier")
        facts.append(
            (
                key + "high_value",
                {
                    "count": now["high_value_customers"],
                    "aum_share": float(
                        tiers.loc[list(HIGH_VALUE_TIERS), "aum_share"].sum(min_count=1)
                    ),
                },
            )
        )
    return facts[:6]


DEFINITIONS: dict[str, str] = {
    m: f"segmentation.definitions.{m}"
    for m in (
        "customers",
        "aum",
        "aum_total",
        "customer_type",
        "asset_tier",
        "txn_90d",
        "activity_tier",
        "credit_grade",
        "products_held",
        "tenure_months",
        "percentile_rank",
        "composite",
        "level",
        "aum_trend",
        "lifecycle",
        "recency_days",
        "rfm",
        "cluster",
        "customer_share",
        "aum_share",
        "top20_share",
        "gini",
        "lorenz",
        "migration",
        "active_share",
        "high_value_customers",
        "dormant_high_value",
        "dormant_high_value_share",
        "bank_median",
        "action_list",
    )
}


# --------------------------------------------------------------------------- prepare

_CUSTOMERS_SQL = """
WITH flags AS (
    SELECT customer_id, branch_id, manager_id, name, customer_type, opened_on,
           opened_on <= $period_end AND (closed_on IS NULL OR closed_on > $period_end) AS open_now,
           opened_on <= $prev_end AND (closed_on IS NULL OR closed_on > $prev_end) AS open_prev,
           (year($period_end) * 12 + month($period_end))
             - (year(opened_on) * 12 + month(opened_on)) AS tenure_months
    FROM customers
    WHERE opened_on <= $period_end AND (closed_on IS NULL OR closed_on > $prev_end)
),
c AS (SELECT * FROM flags WHERE open_now OR open_prev),
b AS (
    SELECT customer_id,
        sum(deposits) FILTER (WHERE month = $period) AS deposits,
        sum(wealth) FILTER (WHERE month = $period) AS wealth,
        sum(products_held) FILTER (WHERE month = $period) AS products_held,
        sum(coalesce(deposits, 0) + coalesce(wealth, 0)) FILTER (WHERE month = $prev_period) AS aum_prev,
        sum(products_held) FILTER (WHERE month = $prev_period) AS products_held_prev,
        avg(coalesce(deposits, 0) + coalesce(wealth, 0))
            FILTER (WHERE month BETWEEN $recent_from AND $period) AS aum_recent_3m,
        avg(coalesce(deposits, 0) + coalesce(wealth, 0))
            FILTER (WHERE month BETWEEN $earlier_from AND $earlier_to) AS aum_earlier_3m,
        avg(coalesce(deposits, 0) + coalesce(wealth, 0))
            FILTER (WHERE month BETWEEN $earlier_to AND $prev_period) AS aum_recent_3m_prev,
        avg(coalesce(deposits, 0) + coalesce(wealth, 0))
            FILTER (WHERE month BETWEEN $first_month AND $earlier_to_prev) AS aum_earlier_3m_prev
    FROM balances
    WHERE month BETWEEN $first_month AND $period
    GROUP BY customer_id
),
t AS (
    SELECT customer_id,
        count(*) FILTER (WHERE txn_date >= $activity_from) AS txn_90d,
        count(*) FILTER (WHERE txn_date BETWEEN $activity_from_prev AND $prev_end) AS txn_90d_prev,
        count(*) FILTER (WHERE txn_date >= $year_from) AS frequency_12m,
        sum(amount) FILTER (WHERE txn_date >= $year_from) AS monetary_12m,
        max(txn_date) AS last_txn,
        max(txn_date) FILTER (WHERE txn_date <= $prev_end) AS last_txn_prev
    FROM transactions
    WHERE txn_date <= $period_end
    GROUP BY customer_id
),
k AS (
    SELECT l.customer_id,
        max(CASE s.five_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2
            WHEN 'substandard' THEN 3 WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 END)
            FILTER (WHERE s.month = $period) AS worst_class,
        max(CASE s.five_class WHEN 'pass' THEN 1 WHEN 'special_mention' THEN 2
            WHEN 'substandard' THEN 3 WHEN 'doubtful' THEN 4 WHEN 'loss' THEN 5 END)
            FILTER (WHERE s.month = $prev_period) AS worst_class_prev
    FROM loan_snapshots s JOIN loans l ON l.loan_id = s.loan_id
    WHERE s.month IN ($period, $prev_period) AND s.outstanding > 0
    GROUP BY l.customer_id
)
SELECT c.customer_id, c.branch_id, c.manager_id, c.name, c.customer_type, c.opened_on,
       c.open_now, c.open_prev, c.tenure_months,
       b.deposits, b.wealth, b.products_held, b.aum_prev, b.products_held_prev,
       b.aum_recent_3m, b.aum_earlier_3m, b.aum_recent_3m_prev, b.aum_earlier_3m_prev,
       coalesce(t.txn_90d, 0) AS txn_90d, coalesce(t.txn_90d_prev, 0) AS txn_90d_prev,
       date_diff('day', t.last_txn, $period_end) AS recency_days,
       date_diff('day', t.last_txn_prev, $prev_end) AS recency_days_prev,
       coalesce(t.frequency_12m, 0) AS frequency_12m, coalesce(t.monetary_12m, 0) AS monetary_12m,
       k.worst_class, k.worst_class_prev
FROM c
LEFT JOIN b ON b.customer_id = c.customer_id
LEFT JOIN t ON t.customer_id = c.customer_id
LEFT JOIN k ON k.customer_id = c.customer_id
ORDER BY c.customer_id
"""

#: The SQL's codes 1..5 of the five classes, best first, back to credit grades.
_GRADE_OF_CLASS = {i + 1: FIVE_CLASS_GRADE[c] for i, c in enumerate(FIVE_CLASS_GRADE)}


def _sql_params(ctx) -> dict[str, Any]:
    months = ctx.months(2 * TREND_MONTHS + 1)  # oldest first, ending at the period
    period_start: date = ctx.period_start
    prev_end = period_start - timedelta(days=1)
    return {
        "period": ctx.period,
        "prev_period": ctx.prev_period,
        "period_end": ctx.period_end,
        "prev_end": prev_end,
        "first_month": months[0],
        "earlier_to_prev": months[TREND_MONTHS - 1],
        "earlier_from": months[1],
        "earlier_to": months[TREND_MONTHS],
        "recent_from": months[TREND_MONTHS + 1],
        "activity_from": ctx.period_end - timedelta(days=ACTIVITY_DAYS - 1),
        "activity_from_prev": prev_end - timedelta(days=ACTIVITY_DAYS - 1),
        "year_from": date.fromisoformat(ctx.months(RFM_MONTHS)[0] + "-01"),
    }


def _tidy(raw: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Types, AUM and credit grades of the SQL rows; amounts NaN where not open."""
    df = raw.copy()
    open_now = df["open_now"].astype(bool)
    open_prev = df["open_prev"].astype(bool)
    df["open_now"], df["open_prev"] = open_now, open_prev
    for col in df.columns.drop(
        [
            "customer_id",
            "branch_id",
            "manager_id",
            "name",
            "customer_type",
            "opened_on",
            "open_now",
            "open_prev",
        ]
    ):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    for col in ("deposits", "wealth", "products_held"):
        df[col] = df[col].fillna(0.0).where(open_now)
    df["aum"] = df["deposits"] + df["wealth"]
    df["aum_prev"] = df["aum_prev"].fillna(0.0).where(open_prev)
    df["products_held_prev"] = df["products_held_prev"].fillna(0.0).where(open_prev)
    for col in ("txn_90d", "recency_days", "frequency_12m", "monetary_12m"):
        df[col] = df[col].where(open_now)
    for col in ("txn_90d_prev", "recency_days_prev"):
        df[col] = df[col].where(open_prev)
    df["credit_grade"] = df["worst_class"].map(_GRADE_OF_CLASS).fillna("no_credit").where(open_now)
    df["credit_grade_prev"] = (
        df["worst_class_prev"].map(_GRADE_OF_CLASS).fillna("no_credit").where(open_prev)
    )
    df["credit_grade"] = df["credit_grade"].astype("str")
    df["credit_grade_prev"] = df["credit_grade_prev"].astype("str")
    for col in ("customer_id", "branch_id", "manager_id", "name", "customer_type"):
        df[col] = df[col].astype("str")
    return df.drop(columns=["worst_class", "worst_class_prev"])


def _bank_wide_scores(customers: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Percentile ranks (0-100) among the bank's open customers, and RFM scores."""
    o = customers["open_now"]
    credit = credit_quality(customers["credit_grade"], settings.bank_wide.no_credit_as)
    ranks = {
        "pct_aum": customers["aum"],
        "pct_activity": customers["txn_90d"],
        "pct_products": customers["products_held"],
        "pct_tenure": customers["tenure_months"],
        "pct_credit": credit,
    }
    out = customers.assign(**{k: percentile_rank(v.where(o)) for k, v in ranks.items()})
    return out.join(rfm_scores(out))


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Aggregate the bank once per period; see the module docstring.

    Returns:

    ``segmentation_customers``: one row per customer open at the period or the
    previous one (cut per branch): ids, ``name`` (raw), ``customer_type``,
    ``open_now`` / ``open_prev``, ``tenure_months``, ``deposits``, ``wealth``, ``aum``,
    ``products_held``, ``aum_prev``, ``products_held_prev``, 3-month AUM averages
    (``aum_recent_3m``, ``aum_earlier_3m`` and their ``_prev``), ``txn_90d``,
    ``txn_90d_prev``, ``recency_days`` (``_prev``), ``frequency_12m``,
    ``monetary_12m``, ``credit_grade`` (``_prev``), the bank-wide percentile ranks
    ``pct_*``, ``r_score`` / ``f_score`` / ``m_score``, ``cluster``, ``cluster_label``.

    ``bench_segmentation``: one row per branch x period (the period and the previous
    one) with the KPIs, ``gini``, ``dormant_high_value`` (count) and
    ``share_<dimension>_<category>`` /
    ``aum_share_<dimension>_<category>`` columns, classified with the bank's settings.

    ``bench_segmentation_clusters``: the fitted clusters (:func:`fit_clusters`).
    """
    settings: Settings = ctx.settings
    raw = ctx.sql(_CUSTOMERS_SQL, **_sql_params(ctx))
    customers = _bank_wide_scores(_tidy(raw, settings), settings)
    clusters = fit_clusters(customers, settings)
    cluster = assign_clusters(customers, clusters)
    labels = dict(zip(clusters["cluster"], clusters["label"], strict=True))
    customers = customers.assign(
        cluster=cluster,
        cluster_label=pd.Series(
            cluster.map(labels).astype(object), index=customers.index, dtype="str"
        ),
    )
    bench = pd.concat(
        [
            _bench_rows(classify(customers, settings), ctx.period),
            _bench_rows(classify(previous(customers), settings), ctx.prev_period),
        ],
        ignore_index=True,
    )
    return {
        "segmentation_customers": customers.reset_index(drop=True),
        "bench_segmentation": bench,
        "bench_segmentation_clusters": clusters,
    }
