"""The tables and charts of the branch's managers: KPIs per manager, the scorecard,
ratings, the veto and the indicative incentive view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .settings import GRADES, KPIS, RATINGS, Settings


def _month(frame: pd.DataFrame, month: str) -> pd.DataFrame:
    return frame[frame["month"] == month]


def _label(frame: pd.DataFrame) -> pd.Series:
    """A display label per row: the staff name, or the staff id where the name is
    missing or shared by two managers of ``frame``."""
    name = frame["staff_name"].astype("string")
    ids = frame["staff_id"].astype("string")
    shared = ids.groupby(name).transform("nunique").fillna(0) > 1
    return name.where(~shared, name + " (" + ids + ")").fillna(ids)


def _rating_code(ratings: pd.Series) -> pd.Series:
    """Ratings with ``"none"`` (the catalogue's "not rated") where there is none."""
    return ratings.astype("string").fillna("none")


#: The columns of :func:`manager_table`, in display order.
MANAGER_COLUMNS = tuple(
    "staff_id staff_name grade n_customers new_customers net_new_aum deposit_growth loan_growth "
    "products_per_customer npl_ratio new_npl new_npl_rate csat complaint_rate closure_rate kyc_complete_rate "
    "aml_open_rate".split()
)


def manager_table(scorecard: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """The KPIs of each manager of the branch in ``month``, by staff id."""
    return (
        _month(scorecard, month)[list(MANAGER_COLUMNS)]
        .sort_values("staff_id")
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
    scorecard: pd.DataFrame, *, month: str, dimensions: Sequence[str], across: bool = False
) -> pd.DataFrame:
    """Dimension scores, composite, rank in branch, bank percentile and rating, best first.

    Managers not rated come last with NaN scores and no rating. ``across=True`` (a
    region's or the bank's report): ``rank_in_branch`` ranks the managers across all
    the rows, the scope's pooled managers (1 the highest composite, equal scores share
    the better rank), not within each one's own branch.
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
    if across:
        rated = m["composite"].where(m["rated"].astype(bool))
        m = m.assign(rank_in_branch=rated.rank(ascending=False, method="min"))
    return m.sort_values(
        ["composite", "staff_id"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)


# Managers up to this many get a bar each in the composite chart (a branch has 5-25);
# more (a region's, the bank's) are drawn as the scores' spread: 162 bars with a name
# each could not be read.
BARS_MAX = 40


def composite_bars(scorecard: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """The rated managers' composite in ``month``, indexed by manager label, best first."""
    m = _month(scorecard, month)
    m = m[m["rated"].astype(bool)].sort_values(["composite", "staff_id"], ascending=[False, True])
    return pd.DataFrame(
        {"composite": m["composite"].astype("float64").to_numpy()}, index=_label(m).to_numpy()
    )


def grades(scorecard: pd.DataFrame, *, month: str, rated: bool = True) -> list[str]:
    """The grades of the branch's (rated) managers in ``month``, in :data:`GRADES` order."""
    m = _month(scorecard, month)
    if rated:
        m = m[m["rated"].astype(bool)]
    present = set(m["grade"].dropna())
    return [g for g in GRADES if g in present] + sorted(present - set(GRADES))


def _scored(scorecard: pd.DataFrame, month: str, grade: str | None) -> pd.DataFrame:
    """The rated managers of ``month`` (of ``grade`` when given), best composite first."""
    m = _month(scorecard, month)
    m = m[m["rated"].astype(bool)]
    if grade is not None:
        m = m[m["grade"] == grade]
    return m.sort_values(["composite", "staff_id"], ascending=[False, True])


def score_matrix(
    scorecard: pd.DataFrame, *, month: str, kpis: Sequence[str], grade: str | None = None
) -> pd.DataFrame:
    """KPI scores (0-100) of the rated managers in ``month``: one row per KPI of
    ``kpis`` (in order), one column per manager label, best composite first; only
    ``grade`` when given. A KPI that cannot be measured for a manager is NaN."""
    m = _scored(scorecard, month, grade)
    scores = m[[f"score_{k}" for k in kpis]].astype("float64")
    scores.columns = list(kpis)
    scores.index = _label(m).to_numpy()
    return scores.T


def score_names(
    scorecard: pd.DataFrame,
    *,
    month: str,
    grade: str | None = None,
    branches: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Who each column of :func:`score_matrix` is, in its order (best composite
    first): ``staff_name``, the same label, and ``branch``, the manager's branch named
    by ``branches`` (its id where it has no name), only when the managers work in more
    than one branch (a region's or the bank's report: one branch's report would repeat
    its own name on every row).

    >>> sc = pd.DataFrame({"month": "2026-10", "rated": True, "grade": "senior",
    ...     "composite": [40.0, 90.0], "staff_id": ["S1", "S2"],
    ...     "staff_name": ["Li", "Wang"], "branch_id": ["0101", "0102"]})
    >>> score_names(sc, month="2026-10", branches={"0101": "Riverside (0101)"}).values.tolist()
    [['Wang', '0102'], ['Li', 'Riverside (0101)']]
    """
    m = _scored(scorecard, month, grade)
    out = pd.DataFrame({"staff_name": _label(m).to_numpy()})
    ids = m["branch_id"].astype("string")
    if ids.nunique() > 1:
        named = ids.map(dict(branches or {})).fillna(ids)
        out["branch"] = named.to_numpy()
    return out


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
