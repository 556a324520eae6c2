"""Staff KPI evaluation (客户经理绩效考核): per-manager KPIs, balanced scorecard, ratings.

The report evaluates every customer manager of a branch on one month (the period):

* **KPIs** of the manager's book (growth, service and compliance over the
  customers whose ``manager_id`` is the manager; asset quality over the loans whose
  ``manager_id`` is the manager), each defined in :func:`manager_kpis` and in the
  catalogue's ``staff_kpi.definitions``;
* **attainment** against the monthly targets of the ``targets`` table;
* a **balanced scorecard**: each KPI is normalised within the peer group (the same
  grade across the whole bank, the same month) to a 0-100 score, by percentile or
  by a z-score winsorised at the 1st/99th percentile, flipped for lower-is-better
  KPIs; dimension scores (growth, quality, service, compliance) are the mean of
  their KPIs' scores; the composite (0-100) is their weighted mean;
* **ratings** A/B/C/D by a forced distribution, an asset-quality veto, and an
  indicative bonus coefficient per rating;
* **funnel plots** of NPL ratio and churn rate against book size, so a small book
  is not judged on noise.

Everything measured across the bank (scores, ranks, ratings, funnel centre lines)
is computed once in :func:`prepare`, so every branch's report uses the same yardstick.
The notebook calls, on its branch's extract (``staff_scorecard``,
``staff_attainment``, ``staff_funnel``) and the ``bench_`` frames:

1. :func:`kpi_cards` (with :data:`KPI_FORMATS`) and :func:`summary_facts` (summary);
2. :func:`manager_table` (KPIs per manager);
3. :func:`attainment_table` and :func:`attainment_bars` (targets);
4. :func:`scorecard_design` and :func:`scorecard_kpis` (how the scorecard is built);
5. :func:`scorecard_table` and :func:`composite_bars` (dimension scores, composite,
   rank, percentile, rating); :func:`grades` and :func:`score_matrix` (KPI scores
   within the grade);
6. :func:`rating_distribution` and :func:`veto_table` (ratings);
7. :func:`funnel_points`, :func:`funnel_p0`, :func:`funnel_band` and
   :func:`funnel_outside` (fair comparison);
8. :func:`trend`, :func:`trend_panels` and :func:`trend_table` (composite over the
   trend window against the grade median);
9. :func:`bonus_scale`, :func:`bonus_pool_factor` and :func:`incentive_table`
   (indicative incentive view).

Conventions: money is in the bank's currency (CNY); rates are shares (0.05 = 5%);
scores are 0-100; a zero denominator gives NaN, never 0 or an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from .params import Rag, Section, Share, check_weights
from .startup import LazyModule

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings

REPORT = "staff_kpi"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = (
    "staff", "customers", "balances", "loans", "loan_snapshots", "surveys", "complaints",
    "aml_alerts", "targets",
)  # fmt: skip

DIMENSIONS = ("growth", "quality", "service", "compliance")
RATINGS = ("A", "B", "C", "D")
GRADES = ("assistant", "professional", "senior")
NPL_CLASSES = ("substandard", "doubtful", "loss")

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
    "churn_rate": "low",  # customers closed / customers at window start, 12 months
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

#: The report's headline KPIs (cards, bank benchmark), in display order.
HEADLINE = ("composite_mean", "targets_met_share", "aum_growth", "npl_ratio", "csat", "churn_rate")

#: How each headline KPI is shown on its card (a :mod:`branchbook.fmt` kind).
KPI_FORMATS = {
    "composite_mean": "num",
    "targets_met_share": "pct",
    "aum_growth": "pct",
    "npl_ratio": "pct",
    "csat": "num",
    "churn_rate": "pct",
}

#: Funnel control limits: name -> upper-tail probability of the two-sided z (95% and
#: 99.8%, Spiegelhalter's levels); see :func:`funnel_z`.
FUNNEL_LEVELS = {"95": 0.975, "998": 0.999}


def funnel_z() -> dict[str, float]:
    """The funnel levels' z values: 1.960 (95%) and 3.090 (99.8%)."""
    return {name: float(stats.norm.ppf(p)) for name, p in FUNNEL_LEVELS.items()}


FUNNEL_METRICS = ("npl_ratio", "churn_rate")


# --------------------------------------------------------------------------- settings


#: RAG thresholds of the headline KPIs (see :data:`HEADLINE` for their units).
DEFAULT_STATUS: dict[str, Rag] = {
    "composite_mean": Rag(good="high", green=55.0, amber=45.0),
    "targets_met_share": Rag(good="high", green=0.6, amber=0.4),
    "aum_growth": Rag(good="high", green=0.005, amber=0.0),
    "npl_ratio": Rag(good="low", green=0.015, amber=0.03),
    "csat": Rag(good="high", green=80.0, amber=70.0),
    "churn_rate": Rag(good="low", green=0.08, amber=0.12),
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
        "service": ["csat", "complaint_rate", "churn_rate"],
        "compliance": ["kyc_complete_rate", "aml_open_rate"],
    }


class Settings(Section):
    """The ``staff_kpi:`` section of the parameter files.

    Shares are written as decimals (``0.2`` for 20%). Scores, ranks and ratings are
    computed bank-wide with the bank's values; a branch file can override only what
    the branch's notebook computes itself (RAG thresholds, bonus coefficients).
    """

    trend_months: int = Field(default=12, ge=2, le=24)
    """Months of composite history shown in the trend, ending at the period."""
    service_window_months: int = Field(default=3, ge=1, le=12)
    """Months (ending at the period's month) over which CSAT and complaints are counted."""
    churn_window_months: int = Field(default=12, ge=1, le=24)
    """Months (ending at the period's month) over which churn is measured."""
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
    attainment_cap: float = Field(default=1.5, gt=0.0, le=10.0)
    """Attainment above this counts as this in ``target_attainment`` (1.5 = 150%)."""
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
    kpi_status: dict[str, Rag] = Field(default_factory=lambda: dict(DEFAULT_STATUS))
    """RAG thresholds of the headline KPIs; a file may name only those it changes."""

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
    def _status(cls, v: dict[str, Rag]) -> dict[str, Rag]:
        unknown = sorted(set(v) - set(HEADLINE))
        if unknown:
            raise ValueError(
                f"kpi_status keys are expected among ({', '.join(HEADLINE)}). Got {unknown}."
            )
        return {**DEFAULT_STATUS, **v}

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


# --------------------------------------------------------------------------- small helpers


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """First and last day of ``'YYYY-MM'``."""
    y, m = (int(p) for p in month.split("-"))
    first = dt.date(y, m, 1)
    nxt = dt.date(y + m // 12, m % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def shift_month(month: str, k: int) -> str:
    """``'YYYY-MM'`` moved by ``k`` months (negative: back)."""
    y, m = (int(p) for p in month.split("-"))
    i = y * 12 + m - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def ratio(num, den):
    """``num / den`` element-wise; NaN where ``den`` is 0 or missing."""
    num = pd.to_numeric(num, errors="coerce")
    den = pd.to_numeric(den, errors="coerce")
    if np.isscalar(den) or isinstance(den, float):
        return float(num) / float(den) if den and den == den else float("nan")
    den = den.astype("float64")
    return num.astype("float64") / den.where(den != 0)


def rag_status(value: float, rag: Rag | None) -> str | None:
    """``"green"``, ``"amber"`` or ``"red"`` for ``value``; None if it or ``rag`` is missing."""
    if rag is None or value is None or value != value:
        return None
    return rag.status(value)


# --------------------------------------------------------------------------- KPIs


def manager_kpis(book: pd.DataFrame) -> pd.DataFrame:
    """KPI columns from a manager-month frame of sums (a new frame; input untouched).

    ``book`` has one row per manager and month with the sums of the manager's
    book: ``n_customers`` (open customers at month end), ``aum``/``aum_prev`` and
    ``deposits``/``deposits_prev`` (customers' AUM = deposits + wealth and deposits
    at this and the previous month end, a customer absent in a month counting 0),
    ``loans``/``loans_prev`` (customers' loans outstanding, same rule),
    ``products_held``, ``new_customers``, ``book_outstanding`` (outstanding of the
    loans whose ``manager_id`` is the manager), ``npl_outstanding``, ``new_npl``
    (outstanding of those loans NPL this month and not last month), ``n_surveys``/``csat_points`` (service window),
    ``n_complaints`` (service window), ``churn_base``/``churned`` (churn window),
    ``kyc_complete`` and ``aml_open``.

    Added: ``net_new_aum``, ``aum_growth``, ``deposit_growth``, ``loan_growth`` (CNY
    or share), ``products_per_customer``, ``npl_ratio``, ``new_npl_rate``, ``csat``
    (0-100), ``complaint_rate`` and ``aml_open_rate`` (per 1,000 customers),
    ``churn_rate``, ``kyc_complete_rate``. Ratios with a zero denominator are NaN
    (a manager with no customers has NaN ratios but 0 new customers and 0 growth).
    """
    b = book
    return book.assign(
        net_new_aum=b["aum"] - b["aum_prev"],
        aum_growth=ratio(b["aum"] - b["aum_prev"], b["aum_prev"]),
        deposit_growth=b["deposits"] - b["deposits_prev"],
        loan_growth=b["loans"] - b["loans_prev"],
        products_per_customer=ratio(b["products_held"], b["n_customers"]),
        npl_ratio=ratio(b["npl_outstanding"], b["book_outstanding"]),
        new_npl_rate=ratio(b["new_npl"], b["book_outstanding"]),
        csat=ratio(b["csat_points"], b["n_surveys"]),
        complaint_rate=1000.0 * ratio(b["n_complaints"], b["n_customers"]),
        churn_rate=ratio(b["churned"], b["churn_base"]),
        kyc_complete_rate=ratio(b["kyc_complete"], b["n_customers"]),
        aml_open_rate=1000.0 * ratio(b["aml_open"], b["n_customers"]),
    )


def attainment(actuals: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Attainment of each target: one row per manager, month and target KPI.

    ``actuals`` has ``staff_id``, ``month`` and the KPI columns of
    :data:`TARGET_KPIS`; ``targets`` has ``staff_id``, ``month``, ``kpi``, ``target``
    (same unit as the KPI: a count, CNY, or products per customer). Returns
    ``staff_id, month, kpi, target, actual, attainment, met``: attainment =
    actual / target (1.0 = 100%), NaN when the target is not positive or the actual
    is missing; ``met`` is attainment >= 1 (NA when attainment is NaN). Targets of
    other KPIs are ignored; a target without a manager-month row has a NaN actual.
    """
    t = targets[targets["kpi"].isin(TARGET_KPIS)][["staff_id", "month", "kpi", "target"]]
    long = actuals.melt(
        id_vars=["staff_id", "month"],
        value_vars=list(TARGET_KPIS),
        var_name="kpi",
        value_name="actual",
    )
    out = t.merge(long, on=["staff_id", "month", "kpi"], how="left")
    target = out["target"].astype("float64")
    att = out["actual"].astype("float64") / target.where(target > 0)
    met = pd.array(np.where(att.isna(), None, att >= 1.0), dtype="boolean")
    return out.assign(attainment=att, met=met).reset_index(drop=True)


def target_attainment(att: pd.DataFrame, *, cap: float) -> pd.DataFrame:
    """Mean attainment per manager and month, each attainment kept within 0 and ``cap``.

    A result that went backwards (negative net new AUM against a positive target)
    counts as 0, not as a negative attainment that would outweigh every other target.
    Returns ``staff_id, month, target_attainment``; managers without a valid target
    are absent (their KPI is NaN). Example: attainments 0.8, 2.0 and -3.0 with cap
    1.5 give (0.8 + 1.5 + 0) / 3 = 0.7667.
    """
    a = att.dropna(subset=["attainment"]).assign(
        capped=lambda d: d["attainment"].clip(lower=0.0, upper=cap)
    )
    return (
        a.groupby(["staff_id", "month"], as_index=False)["capped"]
        .mean()
        .rename(columns={"capped": "target_attainment"})
    )


# --------------------------------------------------------------------------- scorecard


def percentile_score(
    values: pd.Series, groups: pd.Series | None = None, *, good: str = "high"
) -> pd.Series:
    """Percentile score 0-100 of each value within its group (ties share the mid-rank).

    score = 100 x (number below + half the number equal) / n, over the group's
    non-missing values; flipped (100 - score) when ``good="low"``. A group of one
    scores 50; a missing value scores NaN. Example: [10, 20, 20, 40] ->
    [12.5, 50, 50, 87.5].
    """
    v = values.astype("float64")
    keys = groups if groups is not None else pd.Series(0, index=v.index)
    rank = v.groupby(keys).rank(method="average")
    n = v.groupby(keys).transform("count")
    score = 100.0 * (rank - 0.5) / n
    return 100.0 - score if good == "low" else score


def winsorise(values: pd.Series, lower: float = 0.01, upper: float = 0.99) -> pd.Series:
    """``values`` clipped to their ``lower`` and ``upper`` quantiles (linear interpolation)."""
    v = values.astype("float64")
    if v.notna().sum() == 0:
        return v
    return v.clip(v.quantile(lower), v.quantile(upper))


def zscore_score(
    values: pd.Series,
    groups: pd.Series | None = None,
    *,
    good: str = "high",
    lower: float = 0.01,
    upper: float = 0.99,
) -> pd.Series:
    """Winsorised z-score within each group, mapped to 0-100 by the normal CDF.

    Values are clipped to the group's ``lower``/``upper`` quantiles, then
    z = (x - mean) / sd (population sd of the clipped values), negated when
    ``good="low"``; score = 100 x Phi(z). A group of one, or with no spread, scores
    50; a missing value NaN.
    """
    v = values.astype("float64")
    keys = groups if groups is not None else pd.Series(0, index=v.index)
    w = v.groupby(keys).transform(lambda s: winsorise(s, lower, upper))
    mean = w.groupby(keys).transform("mean")
    sd = w.groupby(keys).transform(lambda s: s.std(ddof=0))
    z = ((w - mean) / sd.where(sd > 0)).where(w.isna() | (sd > 0), 0.0)
    if good == "low":
        z = -z
    return pd.Series(100.0 * stats.norm.cdf(z), index=v.index).where(v.notna())


def _keys(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series | None:
    """One string key per row joining the ``by`` columns (None when ``by`` is empty)."""
    if not by:
        return None
    key = frame[by[0]].astype("string")
    for col in by[1:]:
        key = key + "|" + frame[col].astype("string")
    return key


def normalise(
    frame: pd.DataFrame,
    kpis: Sequence[str],
    *,
    by: Sequence[str] = ("month", "grade"),
    method: str = "percentile",
    lower: float = 0.01,
    upper: float = 0.99,
) -> pd.DataFrame:
    """A ``score_<kpi>`` column (0-100, higher is better) per KPI, scored within ``by``.

    Every row of ``frame`` is scored against the rows sharing its ``by`` values
    (the peer group): pass only the rated managers. Direction comes from :data:`KPIS`.
    """
    keys = _keys(frame, by)
    out = {}
    for k in kpis:
        if method == "percentile":
            out[f"score_{k}"] = percentile_score(frame[k], keys, good=KPIS[k])
        else:
            out[f"score_{k}"] = zscore_score(frame[k], keys, good=KPIS[k], lower=lower, upper=upper)
    return pd.DataFrame(out, index=frame.index)


def composite(
    scores: pd.DataFrame, scorecard: Mapping[str, Sequence[str]], weights: Mapping[str, float]
) -> pd.DataFrame:
    """Dimension scores and the composite (both 0-100) from ``score_<kpi>`` columns.

    ``dim_<dimension>`` is the mean of its KPIs' available scores (NaN if none);
    ``composite`` is the weighted mean of the available dimension scores, the weights
    rescaled to sum to 1 over what is available (a manager without a loan book is
    scored on growth, service and compliance only); NaN if no dimension is available.
    Example: growth 80 (w 0.5), quality NaN (w 0.3), service 40 (w 0.2) ->
    (0.5 x 80 + 0.2 x 40) / 0.7 = 68.57.
    """
    dims = pd.DataFrame(
        {
            f"dim_{d}": scores[[f"score_{k}" for k in ks]].mean(axis=1)
            for d, ks in scorecard.items()
        },
        index=scores.index,
    )
    w = pd.Series({f"dim_{d}": weights[d] for d in scorecard})
    avail = dims.notna()
    total = (dims.fillna(0.0) * w).sum(axis=1)
    used = (avail * w).sum(axis=1)
    return dims.assign(composite=(total / used.where(used > 0)).where(avail.any(axis=1)))


def rank_within(values: pd.Series, groups: pd.Series | None = None) -> pd.Series:
    """Rank (1 = highest value) within each group; ties share the best rank; NaN unranked."""
    keys = groups if groups is not None else pd.Series(0, index=values.index)
    return values.astype("float64").groupby(keys).rank(method="min", ascending=False)


def forced_ratings(
    scores: pd.Series, shares: Mapping[str, float], groups: pd.Series | None = None
) -> pd.Series:
    """Bands A/B/C/D by a forced distribution of ``scores`` within each group.

    Each band's place count is its cumulative share times n rounded to the nearest
    whole manager (halves up): band b ends at rank round(n x (share of A .. b)).
    Managers are ranked by score, best first, and ties share the best rank
    (``method="min"``); a manager at rank r gets the first band ending at or after r.
    With 20/30/40/10: n = 10 gives ranks 1-2 A, 3-5 B, 6-9 C, 10 D; n = 7 gives
    1 A (1.4 -> 1), 3 B (3.5 -> 4), 2 C (6.3 -> 6), 1 D; a pool of one gets B
    (0.2 -> 0 A places, 0.5 -> 1). Ties go in the managers' favour: a tie across a
    band boundary puts every tied manager in the better band, which can then exceed
    its count by the tie. A missing score gives NA (not rated).
    """
    keys = groups if groups is not None else pd.Series(0, index=scores.index)
    s = scores.astype("float64")
    rank = s.groupby(keys).rank(method="min", ascending=False)
    n = s.groupby(keys).transform("count")
    cum = np.cumsum([shares[b] for b in RATINGS])
    out = pd.Series(pd.NA, index=s.index, dtype="string")
    for band, c in zip(reversed(RATINGS), reversed(cum), strict=True):
        last = n if band == RATINGS[-1] else np.floor(c * n + 0.5 + 1e-9)
        out = out.mask(rank <= last, band)
    return out.where(s.notna())


def apply_veto(ratings: pd.Series, npl_ratio: pd.Series, *, limit: float, cap: str) -> pd.Series:
    """Ratings with the asset-quality veto: NPL ratio above ``limit`` caps the band at ``cap``.

    A manager rated better than ``cap`` with an NPL ratio strictly above ``limit``
    gets ``cap``; a rating already at or below it is kept; a missing NPL ratio (no
    loan book) never triggers the veto. Freed places are not redistributed.
    """
    order = {b: i for i, b in enumerate(RATINGS)}
    hit = npl_ratio.astype("float64") > limit
    better = ratings.map(lambda r: order.get(r, -1) if isinstance(r, str) else 99) < order[cap]
    return ratings.mask(hit & better & ratings.notna(), cap).astype("string")


def score_managers(kpi_frame: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Scores, composite, rank in branch, bank percentile and rating of every manager-month.

    ``kpi_frame`` has ``branch_id, staff_id, grade, month, rated`` and the KPI
    columns; only ``rated`` rows are scored (others get NaN/NA). The peer group is
    (month, grade) across the whole frame, so pass the whole bank.
    ``bank_percentile`` is the mid-rank percentile (0-100) of the composite among
    all rated managers of the bank that month; ``rating_raw`` is the forced band,
    ``rating`` after the NPL veto, ``veto`` True where the veto lowered the band.
    """
    kpis = scorecard_kpis(settings)
    rated = kpi_frame[kpi_frame["rated"].astype(bool)]
    scores = normalise(
        rated,
        kpis,
        method=settings.normalisation,
        lower=settings.winsor_lower,
        upper=settings.winsor_upper,
    )
    comp = composite(scores, settings.scorecard, settings.dimension_weights)
    out = pd.concat([scores, comp], axis=1)
    c = out["composite"]
    month = rated["month"]
    out["rank_in_branch"] = rank_within(c, month + "|" + rated["branch_id"])
    out["bank_percentile"] = percentile_score(c, month)
    pool = {
        "grade": month + "|" + rated["grade"],
        "bank": month,
        "branch": month + "|" + rated["branch_id"],
    }
    raw = forced_ratings(c, settings.rating_shares, pool[settings.rating_pool])
    out["rating_raw"] = raw
    out["rating"] = apply_veto(
        raw, rated["npl_ratio"], limit=settings.npl_veto_limit, cap=settings.veto_cap
    )
    out["veto"] = (out["rating"] != raw).fillna(False).astype(bool)
    full = kpi_frame.join(out)
    return full.assign(
        veto=full["veto"].astype("boolean").fillna(False).astype(bool),
        rating=full["rating"].astype("string"),
        rating_raw=full["rating_raw"].astype("string"),
    )


# --------------------------------------------------------------------------- funnel


def funnel_limits(p0: float, n) -> pd.DataFrame:
    """Funnel control limits around the bank rate ``p0`` for book sizes ``n``.

    limit = p0 +/- z x sqrt(p0 (1 - p0) / n), z = 1.960 (95%) and 3.090 (99.8%),
    clipped to [0, 1]. Returns ``n, lo95, hi95, lo998, hi998``; NaN where n <= 0
    or ``p0`` is missing.
    """
    n = np.asarray(n, dtype="float64").reshape(-1)
    se = np.sqrt(p0 * (1.0 - p0) / np.where(n > 0, n, np.nan))
    out = {"n": n}
    for name, z in funnel_z().items():
        out[f"lo{name}"] = np.clip(p0 - z * se, 0.0, 1.0)
        out[f"hi{name}"] = np.clip(p0 + z * se, 0.0, 1.0)
    return pd.DataFrame(out)


def funnel_curve(p0: float, n_max: float, points: int = 60, *, n_min: float = 1.0) -> pd.DataFrame:
    """:func:`funnel_limits` on a log grid of book sizes from ``n_min`` (at least 1) to
    ``n_max`` (for drawing)."""
    lo = max(float(n_min), 1.0)
    grid = np.unique(np.geomspace(lo, max(float(n_max), 2.0 * lo), points))
    return funnel_limits(p0, grid)


def funnel_band(points: pd.DataFrame, p0: float, *, margin: float = 0.2) -> pd.DataFrame:
    """The funnel limits to draw behind ``points`` (:func:`funnel_points`): from
    ``1 - margin`` times the smallest book to ``1 + margin`` times the largest, so the
    chart is not stretched by the very wide limits of a book of one. Empty without points.
    """
    n = points["n"].astype("float64").dropna()
    n = n[n > 0]
    if n.empty or p0 != p0:
        return funnel_limits(p0, [])
    return funnel_curve(p0, n.max() * (1 + margin), n_min=n.min() * (1 - margin))


def funnel_position(rate: pd.Series, n: pd.Series, p0: float) -> pd.Series:
    """Where each point lies: ``above_998``, ``above_95``, ``within``, ``below_95``, ``below_998``.

    A point exactly on a limit is within it; a point without a rate or size is NA.
    """
    lim = funnel_limits(p0, n).set_index(rate.index)
    r = rate.astype("float64")
    pos = pd.Series("within", index=r.index, dtype="string")
    pos = pos.mask(r > lim["hi95"], "above_95").mask(r > lim["hi998"], "above_998")
    pos = pos.mask(r < lim["lo95"], "below_95").mask(r < lim["lo998"], "below_998")
    return pos.where(r.notna() & lim["hi95"].notna())


def effective_loans(outstanding: pd.Series, outstanding_sq: pd.Series) -> pd.Series:
    """Effective number of loans (sum x)^2 / sum x^2 of a book (0 for an empty book).

    The NPL ratio is balance-weighted, so its sampling variance is
    p(1 - p) x sum x^2 / (sum x)^2: this n makes the funnel's binomial limits exact
    for it, and equals the number of loans when all balances are equal.
    """
    sq = outstanding_sq.astype("float64")
    return (outstanding.astype("float64") ** 2 / sq.where(sq > 0)).fillna(0.0)


def funnel_frame(scored: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-manager funnel points and the bank's centre lines, for every month of ``scored``.

    NPL ratio: n = effective number of loans (:func:`effective_loans`), p0 = the
    bank's NPL outstanding / book outstanding of all managed loans. Churn rate:
    n = customers at the window start, p0 = bank churned / bank base. Managers with
    n = 0 are left out. Returns (points: ``branch_id, staff_id, staff_name, month,
    metric, n, rate, p0, lo95..hi998, position, outside``; bench: ``month, metric,
    p0, n_total, events``).
    """
    specs = {
        "npl_ratio": ("npl_outstanding", "book_outstanding"),
        "churn_rate": ("churned", "churn_base"),
    }
    points, bench = [], []
    for metric, (num, den) in specs.items():
        for month, g in scored.groupby("month", sort=True):
            p0 = ratio(g[num].sum(), g[den].sum())
            bench.append(
                {
                    "month": month,
                    "metric": metric,
                    "p0": p0,
                    "n_total": float(g[den].sum()),
                    "events": float(g[num].sum()),
                }
            )
            n = effective_loans(g[den], g["outstanding_sq"]) if metric == "npl_ratio" else g[den]
            rows = g.assign(metric=metric, n=n.astype("float64"), rate=g[metric], p0=p0)
            rows = rows[rows["n"] > 0]
            lim = funnel_limits(p0, rows["n"]).drop(columns="n").set_index(rows.index)
            pos = funnel_position(rows["rate"], rows["n"], p0)
            points.append(
                pd.concat([rows, lim], axis=1).assign(
                    position=pos,
                    outside=pos.isin(["above_998", "above_95", "below_95", "below_998"]),
                )
            )
    cols = (
        "branch_id staff_id staff_name month metric n rate p0 lo95 hi95 lo998 hi998 position outside"
    ).split()
    pts = pd.concat(points, ignore_index=True)[cols] if points else pd.DataFrame(columns=cols)
    return pts, pd.DataFrame(bench, columns=["month", "metric", "p0", "n_total", "events"])


# --------------------------------------------------------------------------- branch headline


def headline_table(
    scorecard: pd.DataFrame, attainment: pd.DataFrame, *, by: Sequence[str] = ("branch_id", "month")
) -> pd.DataFrame:
    """The headline KPIs (:data:`HEADLINE`) per group of ``by``, with ``n_managers`` and ``n_rated``.

    ``composite_mean``: mean composite of the rated managers (0-100);
    ``targets_met_share``: share of targets with a valid attainment that were met;
    ``aum_growth``: managed AUM change / managed AUM at the previous month end;
    ``npl_ratio``: NPL outstanding / outstanding of the managers' loans at month end;
    ``csat``: mean CSAT (0-100) over the service window; ``churn_rate``: churned /
    base over the churn window. Sums run over every manager row (rated or not), so
    customers without a manager are outside the staff report. NaN when there is
    nothing to measure (no rated manager, no valid target, no AUM, no loans ...).
    """
    by = list(by)
    s = scorecard.assign(
        rated_n=scorecard["rated"].astype(bool).astype("int64"),
        comp=scorecard["composite"].astype("float64").where(scorecard["rated"].astype(bool)),
    )
    sums = s.groupby(by).agg(
        n_managers=("staff_id", "size"),
        n_rated=("rated_n", "sum"),
        comp_sum=("comp", "sum"),
        comp_n=("comp", "count"),
        aum=("aum", "sum"),
        aum_prev=("aum_prev", "sum"),
        npl=("npl_outstanding", "sum"),
        book=("book_outstanding", "sum"),
        csat_points=("csat_points", "sum"),
        n_surveys=("n_surveys", "sum"),
        churned=("churned", "sum"),
        churn_base=("churn_base", "sum"),
    )
    valid = attainment.dropna(subset=["attainment"])
    met = valid.assign(met_n=valid["met"].astype("boolean").fillna(False).astype("int64"))
    met = met.groupby(by).agg(met_n=("met_n", "sum"), valid_n=("met_n", "size"))
    sums = sums.join(met, how="left")
    out = pd.DataFrame(
        {
            "n_managers": sums["n_managers"].astype("int64"),
            "n_rated": sums["n_rated"].astype("int64"),
            "composite_mean": ratio(sums["comp_sum"], sums["comp_n"]),
            "targets_met_share": ratio(sums["met_n"], sums["valid_n"]),
            "aum_growth": ratio(sums["aum"] - sums["aum_prev"], sums["aum_prev"]),
            "npl_ratio": ratio(sums["npl"], sums["book"]),
            "csat": ratio(sums["csat_points"], sums["n_surveys"]),
            "churn_rate": ratio(sums["churned"], sums["churn_base"]),
        },
        index=sums.index,
    )
    return out.reset_index()


def bench_branches(scored: pd.DataFrame, att: pd.DataFrame) -> pd.DataFrame:
    """One row per branch and month: ``n_managers``, ``n_rated`` and the headline KPIs."""
    return headline_table(scored, att, by=("branch_id", "month"))


def bench_grades(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per month and grade over rated managers: count, composite quartiles, band counts."""
    r = scored[scored["rated"].astype(bool)]
    cols = [
        "month",
        "grade",
        "n_rated",
        "composite_p25",
        "composite_median",
        "composite_p75",
        *[f"n_{b}" for b in RATINGS],
    ]
    if r.empty:
        return pd.DataFrame(columns=cols)
    g = r.groupby(["month", "grade"], sort=True)
    out = g["composite"].agg(
        n_rated="count",
        composite_p25=lambda s: s.quantile(0.25),
        composite_median="median",
        composite_p75=lambda s: s.quantile(0.75),
    )
    bands = pd.crosstab([r["month"], r["grade"]], r["rating"]).reindex(
        columns=list(RATINGS), fill_value=0
    )
    bands.columns = [f"n_{b}" for b in RATINGS]
    return out.join(bands).fillna({c: 0 for c in bands.columns}).reset_index()[cols]


# --------------------------------------------------------------------------- prepare (SQL)

_BALANCES_SQL = """
SELECT c.manager_id AS staff_id, b.month,
       count(*) AS n_customers,
       sum(coalesce(b.deposits, 0) + coalesce(b.wealth, 0)) AS aum,
       sum(coalesce(b.deposits, 0)) AS deposits,
       sum(coalesce(b.loans_outstanding, 0)) AS loans,
       sum(coalesce(b.products_held, 0)) AS products_held,
       count(*) FILTER (WHERE c.kyc_status = 'complete') AS kyc_complete
FROM balances b JOIN customers c ON c.customer_id = b.customer_id
WHERE c.manager_id IS NOT NULL AND b.month BETWEEN $first AND $last
GROUP BY ALL
"""

_NEW_CUSTOMERS_SQL = """
SELECT manager_id AS staff_id, strftime(opened_on, '%Y-%m') AS month, count(*) AS new_customers
FROM customers
WHERE manager_id IS NOT NULL AND opened_on BETWEEN $start AND $end
GROUP BY ALL
"""

_CHURN_SQL = """
WITH m AS (SELECT unnest($months) AS month),
w AS (
    SELECT month,
           CAST(strptime(month || '-01', '%Y-%m-%d') AS DATE) - to_months($window - 1) AS ws,
           last_day(CAST(strptime(month || '-01', '%Y-%m-%d') AS DATE)) AS we
    FROM m
)
SELECT c.manager_id AS staff_id, w.month,
       count(*) AS churn_base,
       count(*) FILTER (WHERE c.closed_on <= w.we) AS churned
FROM customers c JOIN w
  ON c.opened_on < w.ws AND (c.closed_on IS NULL OR c.closed_on >= w.ws)
WHERE c.manager_id IS NOT NULL
GROUP BY ALL
"""

_LOANS_SQL = """
WITH s AS (
    SELECT s.loan_id, s.month, coalesce(s.outstanding, 0) AS outstanding, l.manager_id,
           s.five_class IN ('substandard', 'doubtful', 'loss') AS npl,
           strftime(CAST(strptime(s.month || '-01', '%Y-%m-%d') AS DATE) - INTERVAL 1 MONTH, '%Y-%m')
               AS prev_month
    FROM loan_snapshots s JOIN loans l ON l.loan_id = s.loan_id
    WHERE l.manager_id IS NOT NULL AND s.month BETWEEN $first AND $last
)
SELECT s.manager_id AS staff_id, s.month,
       count(*) FILTER (WHERE s.outstanding > 0) AS n_loans,
       sum(s.outstanding) AS book_outstanding,
       coalesce(sum(s.outstanding) FILTER (WHERE s.npl), 0) AS npl_outstanding,
       coalesce(sum(s.outstanding) FILTER (WHERE s.npl AND NOT coalesce(p.npl, false)), 0) AS new_npl,
       sum(s.outstanding * s.outstanding) AS outstanding_sq
FROM s LEFT JOIN s AS p ON p.loan_id = s.loan_id AND p.month = s.prev_month
GROUP BY ALL
"""

_SURVEYS_SQL = """
SELECT coalesce(s.manager_id, c.manager_id) AS staff_id, strftime(s.responded_on, '%Y-%m') AS month,
       count(s.csat) AS n_surveys, coalesce(sum((s.csat - 1) * 25.0), 0) AS csat_points
FROM surveys s LEFT JOIN customers c ON c.customer_id = s.customer_id
WHERE s.responded_on BETWEEN $start AND $end AND coalesce(s.manager_id, c.manager_id) IS NOT NULL
GROUP BY ALL
"""

_COMPLAINTS_SQL = """
SELECT coalesce(k.manager_id, c.manager_id) AS staff_id, strftime(k.received_at, '%Y-%m') AS month,
       count(*) AS n_complaints
FROM complaints k LEFT JOIN customers c ON c.customer_id = k.customer_id
WHERE k.received_at >= $start AND k.received_at < $end_excl
  AND coalesce(k.manager_id, c.manager_id) IS NOT NULL
GROUP BY ALL
"""

_AML_SQL = """
WITH m AS (SELECT unnest($months) AS month)
SELECT c.manager_id AS staff_id, m.month, count(*) AS aml_open
FROM aml_alerts a JOIN customers c ON c.customer_id = a.customer_id
JOIN m ON a.raised_on <= last_day(CAST(strptime(m.month || '-01', '%Y-%m-%d') AS DATE))
WHERE a.status = 'open' AND c.manager_id IS NOT NULL
GROUP BY ALL
"""

_STAFF_SQL = "SELECT staff_id, branch_id, name AS staff_name, grade, hired_on, active FROM staff"

_TARGETS_SQL = """
SELECT staff_id, period AS month, kpi, target FROM targets WHERE period BETWEEN $first AND $last
"""

_SUM_COLUMNS = tuple(
    "n_customers aum deposits loans products_held kyc_complete new_customers churn_base churned n_loans "
    "book_outstanding npl_outstanding new_npl outstanding_sq n_surveys csat_points n_complaints "
    "aml_open".split()
)


def _rolling(
    frame: pd.DataFrame, cols: Sequence[str], months: Sequence[str], window: int
) -> pd.DataFrame:
    """Sums of ``cols`` per staff over the ``window`` months ending at each of ``months``."""
    rows = []
    for m in months:
        span = {shift_month(m, -i) for i in range(window)}
        g = frame[frame["month"].isin(span)].groupby("staff_id", as_index=False)[list(cols)].sum()
        rows.append(g.assign(month=m))
    return (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["staff_id", "month", *cols])
    )


def manager_months(
    parts: Mapping[str, pd.DataFrame], months: Sequence[str], settings: Settings
) -> pd.DataFrame:
    """The manager x month frame of sums from the SQL aggregates in ``parts``.

    One row per staff member hired by the month's end and month of ``months``;
    inactive staff are kept only while they still hold customers or loans. Missing
    sums are 0; ``rated`` = active and at least ``min_book_customers`` customers.
    """
    staff = parts["staff"]
    grid = staff.merge(pd.DataFrame({"month": list(months)}), how="cross")
    month_end = pd.to_datetime(grid["month"].map(lambda m: month_bounds(m)[1].isoformat()))
    hired = pd.to_datetime(grid["hired_on"])
    grid = grid[hired.isna() | (hired <= month_end)]
    prev = {m: shift_month(m, -1) for m in months}
    bal = parts["balances"]
    bal_prev = (
        bal[["staff_id", "month", "aum", "deposits", "loans"]]
        .assign(month=lambda d: d["month"].map({v: k for k, v in prev.items()}))
        .dropna(subset=["month"])
        .rename(columns={"aum": "aum_prev", "deposits": "deposits_prev", "loans": "loans_prev"})
    )
    w = settings.service_window_months
    frames = [
        bal,
        bal_prev,
        parts["new_customers"],
        parts["churn"],
        parts["loans"],
        _rolling(parts["surveys"], ["n_surveys", "csat_points"], months, w),
        _rolling(parts["complaints"], ["n_complaints"], months, w),
        parts["aml"],
    ]
    out = grid
    for f in frames:
        out = out.merge(f, on=["staff_id", "month"], how="left")
    sums = [*_SUM_COLUMNS, "aum_prev", "deposits_prev", "loans_prev"]
    out[sums] = out[sums].astype("float64").fillna(0.0)
    active = out["active"].astype("boolean").fillna(False).astype(bool)
    holds = (out["n_customers"] > 0) | (out["n_loans"] > 0)
    out = out[active | holds].reset_index(drop=True)
    active = out["active"].astype("boolean").fillna(False).astype(bool)
    return out.assign(
        active=active, rated=active & (out["n_customers"] >= settings.min_book_customers)
    )


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Bank-wide staff KPIs, scores, ratings and funnels for the period (run once per period).

    Returns (frames with ``branch_id`` are cut per branch; ``bench_`` frames are kept
    whole and hold no staff identity):

    * ``staff_scorecard``: one row per manager and month of the last
      ``trend_months`` months: identity (``branch_id, staff_id, staff_name, grade,
      active, rated``), the sums of :func:`manager_kpis`, every KPI, ``score_<kpi>``,
      ``dim_<dimension>``, ``composite``, ``rank_in_branch``, ``bank_percentile``,
      ``rating_raw``, ``veto``, ``rating``;
    * ``staff_attainment``: ``branch_id, staff_id, month, kpi, target, actual,
      attainment, met`` for the same months;
    * ``staff_funnel``: the period's funnel points (see :func:`funnel_frame`);
    * ``bench_branch_kpis``: headline KPIs per branch and month (:func:`bench_branches`);
    * ``bench_grade``: composite quartiles and band counts per grade and month;
    * ``bench_funnel``: the bank rate (``p0``) of each funnel metric, per month.
    """
    s: Settings = ctx.settings
    months = list(ctx.months(s.trend_months))
    first, last = months[0], months[-1]
    start = month_bounds(first)[0]
    end = month_bounds(last)[1]
    svc_first = shift_month(first, -(s.service_window_months - 1))
    svc_start = month_bounds(svc_first)[0]
    parts = {
        "staff": ctx.sql(_STAFF_SQL),
        "balances": ctx.sql(_BALANCES_SQL, first=shift_month(first, -1), last=last),
        "new_customers": ctx.sql(_NEW_CUSTOMERS_SQL, start=start, end=end),
        "churn": ctx.sql(_CHURN_SQL, months=months, window=s.churn_window_months),
        "loans": ctx.sql(_LOANS_SQL, first=shift_month(first, -1), last=last),
        "surveys": ctx.sql(_SURVEYS_SQL, start=svc_start, end=end),
        "complaints": ctx.sql(
            _COMPLAINTS_SQL, start=svc_start, end_excl=end + dt.timedelta(days=1)
        ),
        "aml": ctx.sql(_AML_SQL, months=months),
    }
    targets = ctx.sql(_TARGETS_SQL, first=first, last=last)
    book = manager_kpis(manager_months(parts, months, s))
    att = attainment(book, targets)
    book = book.merge(
        target_attainment(att, cap=s.attainment_cap), on=["staff_id", "month"], how="left"
    )
    scored = score_managers(book, s)
    att = att.merge(book[["staff_id", "month", "branch_id"]], on=["staff_id", "month"], how="inner")
    att = att[["branch_id", "staff_id", "month", "kpi", "target", "actual", "attainment", "met"]]
    points, bench_funnel = funnel_frame(scored[scored["month"] == ctx.period])
    scored = scored.drop(columns=["hired_on"]).sort_values(["branch_id", "staff_id", "month"])
    return {
        "staff_scorecard": scored.reset_index(drop=True),
        "staff_attainment": att.reset_index(drop=True),
        "staff_funnel": points,
        "bench_branch_kpis": bench_branches(scored, att),
        "bench_grade": bench_grades(scored),
        "bench_funnel": bench_funnel,
    }


# --------------------------------------------------------------------------- notebook API


def _month(frame: pd.DataFrame, month: str) -> pd.DataFrame:
    return frame[frame["month"] == month]


def kpis(scorecard: pd.DataFrame, attainment: pd.DataFrame, *, month: str) -> dict[str, float]:
    """The branch's headline KPIs for ``month`` (same code as ``bench_branch_kpis``; see
    :func:`headline_table`). All NaN when the branch has no manager that month."""
    t = headline_table(_month(scorecard, month), _month(attainment, month), by=("month",))
    if t.empty:
        return dict.fromkeys(HEADLINE, float("nan"))
    return {k: float(t[k].iloc[0]) for k in HEADLINE}


def bank_medians(bench: pd.DataFrame, *, month: str) -> dict[str, float]:
    """Median over branches of each headline KPI in ``month`` (NaN if no branch has it)."""
    b = _month(bench, month)
    return {k: float(b[k].median()) if b[k].notna().any() else float("nan") for k in HEADLINE}


def kpi_cards(
    scorecard: pd.DataFrame,
    attainment: pd.DataFrame,
    bench: pd.DataFrame,
    *,
    period: str,
    prev_period: str,
    status: Mapping[str, Rag],
) -> pd.DataFrame:
    """One row per headline KPI: ``kpi, value, previous, change, bank_median, status``.

    ``change`` = value - previous (in the KPI's unit; percentage points for shares);
    ``status`` is green/amber/red against ``status`` thresholds, None when missing.
    """
    now = kpis(scorecard, attainment, month=period)
    before = kpis(scorecard, attainment, month=prev_period)
    med = bank_medians(bench, month=period)
    return pd.DataFrame(
        [
            {
                "kpi": k,
                "value": now[k],
                "previous": before[k],
                "change": now[k] - before[k],
                "bank_median": med[k],
                "status": rag_status(now[k], status.get(k)),
            }
            for k in HEADLINE
        ]
    )


#: The columns of :func:`manager_table`, in display order.
MANAGER_COLUMNS = tuple(
    "staff_id staff_name grade n_customers new_customers net_new_aum deposit_growth loan_growth "
    "products_per_customer npl_ratio new_npl new_npl_rate csat complaint_rate churn_rate kyc_complete_rate "
    "aml_open_rate".split()
)


def manager_table(scorecard: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """The KPIs of each manager of the branch in ``month``, by staff id."""
    return (
        _month(scorecard, month)[list(MANAGER_COLUMNS)]
        .sort_values("staff_id")
        .reset_index(drop=True)
    )


def attainment_table(
    attainment: pd.DataFrame, scorecard: pd.DataFrame, *, month: str
) -> pd.DataFrame:
    """Attainment per manager (rows) and target KPI (columns), plus targets set and met.

    One row per manager of the branch in ``month``; a column per target KPI of
    :data:`TARGET_KPIS`, holding attainment (1.0 = 100%), NaN where no valid target
    was set; ``target_attainment`` is the capped mean that the scorecard uses;
    ``targets`` counts the valid targets, ``met`` those at or above 100%.
    """
    a = _month(attainment, month)
    valid = a.dropna(subset=["attainment"])
    wide = valid.pivot_table(index="staff_id", columns="kpi", values="attainment", aggfunc="first")
    wide = wide.reindex(columns=list(TARGET_KPIS))
    counts = valid.groupby("staff_id").agg(
        targets=("attainment", "count"), met=("met", lambda s: int(s.fillna(False).sum()))
    )
    names = _month(scorecard, month)[["staff_id", "staff_name", "grade"]]
    if "target_attainment" in scorecard:
        names = names.assign(
            target_attainment=_month(scorecard, month)["target_attainment"].astype("float64")
        )
    out = names.merge(wide.join(counts, how="outer").reset_index(), on="staff_id", how="left")
    out[["targets", "met"]] = out[["targets", "met"]].fillna(0).astype("int64")
    return out.sort_values("staff_id").reset_index(drop=True)


def scorecard_kpis(settings: Settings) -> list[str]:
    """The KPIs the scorecard uses, dimension by dimension, in the order configured."""
    return [k for ks in settings.scorecard.values() for k in ks]


def veto_table(scorecard: pd.DataFrame, *, month: str, limit: float) -> pd.DataFrame:
    """Rated managers whose loan book's NPL ratio is above the veto ``limit`` in
    ``month``: ``staff_id, staff_name, grade, npl_ratio, rating_raw, rating, veto``
    (``veto`` True where the cap lowered the band), highest NPL ratio first."""
    m = _month(scorecard, month)
    m = m[m["rated"].astype(bool) & (m["npl_ratio"].astype("float64") > limit)]
    cols = ["staff_id", "staff_name", "grade", "npl_ratio", "rating_raw", "rating", "veto"]
    return (
        m[cols]
        .assign(rating_raw=_rating_code(m["rating_raw"]), rating=_rating_code(m["rating"]))
        .sort_values(["npl_ratio", "staff_id"], ascending=[False, True])
        .reset_index(drop=True)
    )


def scorecard_design(settings: Settings) -> pd.DataFrame:
    """The scorecard as configured: ``dimension, weight, kpi, direction`` (for the method note)."""
    return pd.DataFrame(
        [
            {
                "dimension": d,
                "weight": settings.dimension_weights[d],
                "kpi": k,
                "direction": KPIS[k],
            }
            for d, ks in settings.scorecard.items()
            for k in ks
        ]
    )


def scorecard_table(
    scorecard: pd.DataFrame, *, month: str, dimensions: Sequence[str]
) -> pd.DataFrame:
    """Dimension scores, composite, rank in branch, bank percentile and rating, best first.

    Managers not rated come last with NaN scores and no rating.
    """
    cols = [
        "staff_id",
        "staff_name",
        "grade",
        "rated",
        *[f"dim_{d}" for d in dimensions],
        "composite",
        "rank_in_branch",
        "bank_percentile",
        "rating_raw",
        "veto",
        "rating",
    ]
    m = _month(scorecard, month)[cols]
    m = m.assign(rating_raw=_rating_code(m["rating_raw"]), rating=_rating_code(m["rating"]))
    return m.sort_values(
        ["composite", "staff_id"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)


def _rating_code(ratings: pd.Series) -> pd.Series:
    """Ratings with ``"none"`` (the catalogue's "not rated") where there is none."""
    return ratings.astype("string").fillna("none")


def rating_distribution(
    scorecard: pd.DataFrame, *, month: str, shares: Mapping[str, float]
) -> pd.DataFrame:
    """Rated managers per band in ``month``: ``rating, count, share, target_share``."""
    r = _month(scorecard, month)["rating"].dropna()
    counts = r.value_counts().reindex(list(RATINGS), fill_value=0)
    total = int(counts.sum())
    return pd.DataFrame(
        {
            "rating": list(RATINGS),
            "count": counts.to_numpy(dtype="int64"),
            "share": counts.to_numpy(dtype="float64") / total if total else np.nan,
            "target_share": [shares[b] for b in RATINGS],
        }
    )


def funnel_points(funnel: pd.DataFrame, *, metric: str) -> pd.DataFrame:
    """The branch's managers on one funnel (``npl_ratio`` or ``churn_rate``)."""
    return funnel[funnel["metric"] == metric].reset_index(drop=True)


def funnel_p0(bench_funnel: pd.DataFrame, *, metric: str, month: str) -> float:
    """The bank rate that centres the funnel of ``metric`` in ``month`` (NaN if none)."""
    b = bench_funnel[(bench_funnel["metric"] == metric) & (bench_funnel["month"] == month)]
    return float(b["p0"].iloc[0]) if len(b) else float("nan")


def funnel_outliers(
    funnel: pd.DataFrame, *, level: str = "998", side: str = "above"
) -> pd.DataFrame:
    """Managers beyond the ``level`` limit (``"95"`` or ``"998"``) on ``side`` (above/below)."""
    wanted = {f"{side}_998"} if level == "998" else {f"{side}_95", f"{side}_998"}
    return funnel[funnel["position"].isin(wanted)].reset_index(drop=True)


def trend(scorecard: pd.DataFrame, bench_grade: pd.DataFrame) -> pd.DataFrame:
    """Each manager's composite per month against the median of their grade in the bank.

    Returns ``staff_id, staff_name, grade, month, composite, rating, grade_median``,
    by staff and month; months a manager was not rated have a NaN composite.
    """
    cols = ["staff_id", "staff_name", "grade", "month", "composite", "rating"]
    med = bench_grade[["month", "grade", "composite_median"]].rename(
        columns={"composite_median": "grade_median"}
    )
    out = scorecard[cols].merge(med, on=["month", "grade"], how="left")
    return out.sort_values(["staff_id", "month"]).reset_index(drop=True)


def grades(scorecard: pd.DataFrame, *, month: str, rated: bool = True) -> list[str]:
    """The grades of the branch's (rated) managers in ``month``, in :data:`GRADES` order."""
    m = _month(scorecard, month)
    if rated:
        m = m[m["rated"].astype(bool)]
    present = set(m["grade"].dropna())
    return [g for g in GRADES if g in present] + sorted(present - set(GRADES))


def _label(frame: pd.DataFrame) -> pd.Series:
    """A display label per row: the staff name, or the staff id where the name is
    missing or shared by two managers of ``frame``."""
    name = frame["staff_name"].astype("string")
    ids = frame["staff_id"].astype("string")
    shared = ids.groupby(name).transform("nunique").fillna(0) > 1
    return name.where(~shared, name + " (" + ids + ")").fillna(ids)


def trend_lines(
    trend_frame: pd.DataFrame, *, grade: str, staff: Sequence[str] | None = None
) -> pd.DataFrame:
    """One grade's composite trend, wide: one row per month (``YYYY-MM``), one column
    per manager (labelled by name), best composite in the last month first.

    ``grade_median`` (the bank's median of the grade) comes second, so that the house
    chart style draws it in the benchmark's grey. ``staff`` keeps only those staff ids.
    A month a manager was not rated is NaN.
    """
    months = sorted(trend_frame["month"].unique())
    t = trend_frame[trend_frame["grade"] == grade]
    if staff is not None:
        t = t[t["staff_id"].isin(list(staff))]
    people = t.drop_duplicates("staff_id", keep="last")
    t = t.assign(
        label=t["staff_id"].map(dict(zip(people["staff_id"], _label(people), strict=True)))
    )
    wide = t.pivot_table(index="month", columns="label", values="composite", aggfunc="first")
    wide = wide.reindex(index=months)
    last = wide.ffill().iloc[-1] if len(wide) and len(wide.columns) else pd.Series(dtype="float64")
    order = list(last.sort_values(ascending=False, na_position="last").index)
    median = trend_frame[trend_frame["grade"] == grade].groupby("month")["grade_median"].first()
    out = wide.assign(grade_median=median.reindex(months).to_numpy())
    out.index.name = "month"
    out.columns.name = None
    return out[[*order[:1], "grade_median", *order[1:]]]


def trend_panels(
    trend_frame: pd.DataFrame, *, month: str, size: int = 5
) -> list[tuple[str, int, int, int, pd.DataFrame]]:
    """The trend cut into readable charts: per grade (:data:`GRADES` order), the rated
    managers of ``month`` best first, at most ``size`` per chart, in charts of nearly
    equal size (7 managers with size 5: 4 and 3, not 5 and 2).

    Each panel is ``(grade, first, last, total, lines)``: the places ``first`` to
    ``last`` of the grade's ``total`` rated managers, and :func:`trend_lines` for them.
    """
    cur = _month(trend_frame, month).dropna(subset=["composite"])
    panels = []
    for grade in [g for g in GRADES if g in set(cur["grade"])]:
        ids = (
            cur[cur["grade"] == grade]
            .sort_values(["composite", "staff_id"], ascending=[False, True])["staff_id"]
            .tolist()
        )
        parts = np.array_split(np.arange(len(ids)), -(-len(ids) // size))
        for part in parts:
            staff = [ids[i] for i in part]
            lines = trend_lines(trend_frame, grade=grade, staff=staff)
            panels.append((grade, int(part[0]) + 1, int(part[-1]) + 1, len(ids), lines))
    return panels


def trend_table(trend_frame: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """Each manager's composite now, at the start of the trend and the change, against
    the grade median: ``staff_id, staff_name, grade, composite_start, composite,
    change, grade_median, gap_to_grade, months_rated``, best composite first.

    ``composite_start`` is the first rated month's composite in the window;
    ``gap_to_grade`` = composite - grade median this month (NaN when not rated).
    """
    t = trend_frame.dropna(subset=["composite"]).sort_values("month")
    first = t.groupby("staff_id")["composite"].first().rename("composite_start")
    n = t.groupby("staff_id")["composite"].count().rename("months_rated")
    now = _month(trend_frame, month)[
        ["staff_id", "staff_name", "grade", "composite", "grade_median"]
    ]
    out = now.join(first, on="staff_id").join(n, on="staff_id")
    out = out.assign(
        change=out["composite"] - out["composite_start"],
        gap_to_grade=out["composite"] - out["grade_median"],
        months_rated=out["months_rated"].fillna(0).astype("int64"),
    )
    cols = [
        "staff_id",
        "staff_name",
        "grade",
        "composite_start",
        "composite",
        "change",
        "grade_median",
        "gap_to_grade",
        "months_rated",
    ]
    return (
        out[cols]
        .sort_values(["composite", "staff_id"], ascending=[False, True], na_position="last")
        .reset_index(drop=True)
    )


def composite_bars(scorecard: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """The rated managers' composite in ``month``, indexed by manager label, best first."""
    m = _month(scorecard, month)
    m = m[m["rated"].astype(bool)].sort_values(["composite", "staff_id"], ascending=[False, True])
    return pd.DataFrame(
        {"composite": m["composite"].astype("float64").to_numpy()}, index=_label(m).to_numpy()
    )


def attainment_bars(attainment_wide: pd.DataFrame) -> pd.DataFrame:
    """``target_attainment`` of :func:`attainment_table` per manager label, best first,
    managers without a valid target left out."""
    a = attainment_wide.dropna(subset=["target_attainment"])
    a = a.sort_values(["target_attainment", "staff_id"], ascending=[False, True])
    return pd.DataFrame(
        {"target_attainment": a["target_attainment"].to_numpy()}, index=_label(a).to_numpy()
    )


def score_matrix(
    scorecard: pd.DataFrame, *, month: str, kpis: Sequence[str], grade: str | None = None
) -> pd.DataFrame:
    """KPI scores (0-100) of the rated managers in ``month``: one row per KPI of
    ``kpis`` (in order), one column per manager label, best composite first; only
    ``grade`` when given. A KPI that cannot be measured for a manager is NaN."""
    m = _month(scorecard, month)
    m = m[m["rated"].astype(bool)]
    if grade is not None:
        m = m[m["grade"] == grade]
    m = m.sort_values(["composite", "staff_id"], ascending=[False, True])
    scores = m[[f"score_{k}" for k in kpis]].astype("float64")
    scores.columns = list(kpis)
    scores.index = _label(m).to_numpy()
    return scores.T


def funnel_outside(funnel: pd.DataFrame) -> pd.DataFrame:
    """The managers outside the 95% limits of either funnel, with where they lie:
    ``staff_id, staff_name, metric, n, rate, p0, position``, by metric (NPL ratio
    first) then rate, highest first."""
    cols = ["staff_id", "staff_name", "metric", "n", "rate", "p0", "position"]
    out = funnel[funnel["outside"].astype(bool)]
    order = {m: i for i, m in enumerate(FUNNEL_METRICS)}
    out = out.assign(_o=out["metric"].map(order)).sort_values(
        ["_o", "rate"], ascending=[True, False]
    )
    return out[cols].reset_index(drop=True)


def incentive_table(
    scorecard: pd.DataFrame, *, month: str, coefficients: Mapping[str, float]
) -> pd.DataFrame:
    """Indicative performance-bonus coefficient of each manager (x the standard bonus),
    by rating (A first, not rated last) then staff id.

    Indicative only: pay = base + performance bonus + commission, and only the
    performance bonus scales with the rating. A manager not rated has no coefficient.
    """
    m = _month(scorecard, month)[["staff_id", "staff_name", "grade", "rating"]]
    coef = m["rating"].map(lambda r: coefficients.get(r, np.nan) if isinstance(r, str) else np.nan)
    return (
        m.assign(
            rating=_rating_code(m["rating"]),
            bonus_coefficient=coef.astype("float64"),
            _o=m["rating"].map({b: i for i, b in enumerate(RATINGS)}).astype("float64"),
        )
        .sort_values(["_o", "staff_id"], na_position="last")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def bonus_scale(shares: Mapping[str, float], coefficients: Mapping[str, float]) -> pd.DataFrame:
    """The indicative bonus coefficient of each band with its forced share:
    ``rating, target_share, bonus_coefficient`` (A to D)."""
    return pd.DataFrame(
        {
            "rating": list(RATINGS),
            "target_share": [float(shares[b]) for b in RATINGS],
            "bonus_coefficient": [float(coefficients[b]) for b in RATINGS],
        }
    )


def bonus_pool_factor(shares: Mapping[str, float], coefficients: Mapping[str, float]) -> float:
    """Bonus pool at the target distribution, x the standard bonus: sum(share x coefficient).

    1.0 means the coefficients are budget-neutral; 0.2 x 1.3 + 0.3 x 1.1 + 0.4 x 0.9 +
    0.1 x 0.5 = 1.00 with the defaults.
    """
    return float(sum(shares[b] * coefficients[b] for b in RATINGS))


def _names(frame: pd.DataFrame) -> str:
    """Staff names (the id where a name is missing), joined with 、 when all are Chinese."""
    names = frame["staff_name"].astype("string").fillna(frame["staff_id"].astype("string"))
    unique = list(dict.fromkeys(names.tolist()))
    cjk = all(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in unique)
    return ("、" if cjk else ", ").join(unique)


def _manager_fact(row: pd.Series, attainment: pd.DataFrame, month: str) -> dict:
    a = attainment[(attainment["staff_id"] == row["staff_id"]) & (attainment["month"] == month)]
    valid = a.dropna(subset=["attainment"])
    return {
        "name": _names(row.to_frame().T),
        "composite": float(row["composite"]),
        "rating": row["rating"],
        "met": int(valid["met"].astype("boolean").fillna(False).sum()),
        "targets": len(valid),
    }


def summary_facts(
    scorecard: pd.DataFrame,
    attainment: pd.DataFrame,
    funnel: pd.DataFrame,
    bench: pd.DataFrame,
    *,
    period: str,
    prev_period: str,
    npl_veto_limit: float,
) -> list[tuple[str, dict]]:
    """Up to 6 facts for the summary, most important first, as (catalogue key, values).

    In order: the branch's average composite against the median of branches (or
    ``no_rated`` when nobody could be rated, the only fact then), managers above the
    99.8% funnel limit for NPL ratio or churn, managers whose rating the veto
    lowered, the rating counts, the top and the bottom manager (with targets met),
    the share of targets met and its change. Names are the staff names of the branch.
    """
    now = kpis(scorecard, attainment, month=period)
    before = kpis(scorecard, attainment, month=prev_period)
    med = bank_medians(bench, month=period)
    cur = _month(scorecard, period)
    rated = cur[cur["rated"].astype(bool)].sort_values(
        ["composite", "staff_id"], ascending=[False, True]
    )
    if rated.empty:
        return [("staff_kpi.summary.no_rated", {"n_managers": len(cur)})]
    facts: list[tuple[str, dict]] = [
        (
            "staff_kpi.summary.composite",
            {
                "composite": now["composite_mean"],
                "bank_median": med["composite_mean"],
                "n_rated": len(rated),
            },
        )
    ]
    points = funnel[funnel["month"] == period]
    for metric in FUNNEL_METRICS:
        out = funnel_outliers(funnel_points(points, metric=metric))
        if len(out):
            facts.append(
                (f"staff_kpi.summary.funnel_{metric}", {"n": len(out), "names": _names(out)})
            )
    vetoed = rated[rated["veto"].astype(bool)]
    if len(vetoed):
        facts.append(
            (
                "staff_kpi.summary.veto",
                {"n": len(vetoed), "names": _names(vetoed), "limit": npl_veto_limit},
            )
        )
    counts = rated["rating"].value_counts()
    facts.append(
        (
            "staff_kpi.summary.ratings",
            {"n_rated": len(rated), **{f"n_{b.lower()}": int(counts.get(b, 0)) for b in RATINGS}},
        )
    )
    facts.append(
        ("staff_kpi.summary.top_manager", _manager_fact(rated.iloc[0], attainment, period))
    )
    if len(rated) > 1:
        facts.append(
            ("staff_kpi.summary.bottom_manager", _manager_fact(rated.iloc[-1], attainment, period))
        )
    if now["targets_met_share"] == now["targets_met_share"]:
        change = now["targets_met_share"] - before["targets_met_share"]
        facts.append(
            (
                "staff_kpi.summary.targets_met",
                {
                    "share": now["targets_met_share"],
                    "change": change,
                    "bank_median": med["targets_met_share"],
                },
            )
        )
    return facts[:6]


#: Metric -> catalogue key of its definition (every metric the report shows).
DEFINITIONS: dict[str, str] = {
    k: f"staff_kpi.definitions.{k}"
    for k in (
        *KPIS,
        *"n_customers new_npl aum_growth attainment targets_met_share score dimension_score".split(),
        *"composite composite_mean rank_in_branch bank_percentile rating veto funnel".split(),
        *"bonus_coefficient grade_median composite_start gap_to_grade rated".split(),
    )
}
