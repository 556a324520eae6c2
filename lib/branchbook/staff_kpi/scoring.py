"""Per-manager KPIs and the balanced scorecard: normalisation within the peer group,
dimension scores, the composite, ranks, forced ratings and the asset-quality veto."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..startup import LazyModule
from .settings import KPIS, RATINGS, Settings

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings


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
    ``closure_rate``, ``kyc_complete_rate``. Ratios with a zero denominator are NaN
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
        closure_rate=ratio(b["churned"], b["churn_base"]),
        kyc_complete_rate=ratio(b["kyc_complete"], b["n_customers"]),
        aml_open_rate=1000.0 * ratio(b["aml_open"], b["n_customers"]),
    )


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


def scorecard_kpis(settings: Settings) -> list[str]:
    """The KPIs the scorecard uses, dimension by dimension, in the order configured."""
    return [k for ks in settings.scorecard.values() for k in ks]
