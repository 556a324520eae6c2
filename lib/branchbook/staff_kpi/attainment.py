"""Attainment of each manager's targets, year to date (比年初) and in the month, and the
views of it.

The ``targets`` table holds monthly targets. A month's flow (net new AUM, deposit or
loan growth, new customers) swings far more than its monthly target, so a monthly
attainment of -3,000% says little; the year to date against the targets of the year to
date does, and is what the scorecard and "targets met" use. A monthly attainment is
shown only where the month's target is not near zero against the book it moves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .settings import TARGET_KPIS
from .views import _label, _month

#: The target KPIs that are flows in money, and the stock each one moves (at the previous
#: month end): a monthly target small against that stock is near zero.
FLOW_BASES = {
    "net_new_aum": "aum_prev",
    "deposit_growth": "deposits_prev",
    "loan_growth": "loans_prev",
}
#: The target KPIs that are levels at month end, not flows: the year to date is the level.
LEVEL_KPIS = ("products_per_customer",)


def attainment(actuals: pd.DataFrame, targets: pd.DataFrame, *, floor: float = 0.0) -> pd.DataFrame:
    """Attainment of each target, year to date and in the month: one row per manager,
    month and target KPI.

    ``actuals`` has ``staff_id``, ``month``, the KPI columns of :data:`TARGET_KPIS` and
    (for ``floor``) the stock columns of :data:`FLOW_BASES`, for every month since
    January of the earliest month wanted; ``targets`` has ``staff_id``, ``month``,
    ``kpi``, ``target`` (monthly, in the KPI's unit). Targets of other KPIs are ignored;
    a target without a manager-month row has a NaN actual.

    * Year to date (比年初): for a flow, ``ytd_target`` and ``ytd_actual`` are the sums
      of the monthly targets and results over the months of the year up to ``month``
      that have a target of the KPI (for a manager there all year, the result is the
      change since the year start); for a level (:data:`LEVEL_KPIS`) they are the
      month's own. ``ytd_attainment`` = ytd_actual / ytd_target (1.0 = 100%), NaN when
      the YTD target is not positive or the month's actual is missing; ``met`` is
      ytd_attainment >= 1 (NA when NaN).
    * In the month: ``attainment`` = actual / target, NaN when the target is not
      positive or, for a money flow, below ``floor`` times the stock it moves at the
      previous month end (``near_zero`` True).

    Example: targets 100 in January and 100 in February, results -50 and 350: February
    attainment 350%, year to date 300 / 200 = 150%.
    """
    t = targets[targets["kpi"].isin(TARGET_KPIS)][["staff_id", "month", "kpi", "target"]]
    ids = ["staff_id", "month"]
    long = actuals.melt(
        id_vars=ids, value_vars=list(TARGET_KPIS), var_name="kpi", value_name="actual"
    )
    out = t.merge(long, on=[*ids, "kpi"], how="left")
    bases = [c for c in FLOW_BASES.values() if c in actuals]
    base = actuals.melt(id_vars=ids, value_vars=bases, var_name="kpi", value_name="base")
    base["kpi"] = base["kpi"].map({v: k for k, v in FLOW_BASES.items()})
    out = out.merge(base, on=[*ids, "kpi"], how="left")
    out = out.sort_values(["staff_id", "kpi", "month"]).reset_index(drop=True)
    target = out["target"].astype("float64")
    actual = out["actual"].astype("float64")
    near_zero = out["kpi"].isin(list(FLOW_BASES)) & (
        target.abs() < floor * out["base"].astype("float64").abs()
    )
    monthly = actual / target.where((target > 0) & ~near_zero)
    year = [out["staff_id"], out["kpi"], out["month"].str[:4]]
    level = out["kpi"].isin(LEVEL_KPIS)
    ytd_t = target.groupby(year).cumsum().where(~level, target)
    ytd_a = actual.fillna(0.0).groupby(year).cumsum().where(~level, actual)
    ytd_a = ytd_a.where(actual.notna())
    ytd = ytd_a / ytd_t.where(ytd_t > 0)
    met = pd.array(np.where(ytd.isna(), None, ytd >= 1.0), dtype="boolean")
    return out.drop(columns="base").assign(
        attainment=monthly,
        near_zero=near_zero.astype(bool),
        ytd_target=ytd_t,
        ytd_actual=ytd_a,
        ytd_attainment=ytd,
        met=met,
    )[ATTAINMENT_COLUMNS]


ATTAINMENT_COLUMNS = (
    "staff_id month kpi target actual attainment near_zero ytd_target ytd_actual ytd_attainment met"
).split()


def target_attainment(att: pd.DataFrame, *, cap: float) -> pd.DataFrame:
    """Mean year-to-date attainment per manager and month, each kept within 0 and ``cap``.

    A result that went backwards (negative net new AUM against a positive target)
    counts as 0, not as a negative attainment that would outweigh every other target.
    Returns ``staff_id, month, target_attainment``; managers without a valid target
    are absent (their KPI is NaN). Example: attainments 0.8, 2.0 and -3.0 with cap
    1.5 give (0.8 + 1.5 + 0) / 3 = 0.7667.
    """
    a = att.dropna(subset=["ytd_attainment"]).assign(
        capped=lambda d: d["ytd_attainment"].clip(lower=0.0, upper=cap)
    )
    return (
        a.groupby(["staff_id", "month"], as_index=False)["capped"]
        .mean()
        .rename(columns={"capped": "target_attainment"})
    )


def _wide(attainment: pd.DataFrame, scorecard: pd.DataFrame, month: str, value: str):
    a = _month(attainment, month)
    valid = a.dropna(subset=[value])
    wide = valid.pivot_table(index="staff_id", columns="kpi", values=value, aggfunc="first")
    names = _month(scorecard, month)[["staff_id", "staff_name", "grade"]]
    return valid, wide.reindex(columns=list(TARGET_KPIS)), names


def attainment_table(
    attainment: pd.DataFrame, scorecard: pd.DataFrame, *, month: str
) -> pd.DataFrame:
    """Year-to-date attainment per manager (rows) and target KPI (columns), plus targets
    set and met.

    One row per manager of the branch in ``month``; a column per target KPI of
    :data:`TARGET_KPIS`, holding the year-to-date attainment (1.0 = 100%), NaN where no
    valid target was set; ``target_attainment`` is the capped mean that the scorecard
    uses; ``targets`` counts the valid targets, ``met`` those at or above 100%.
    """
    valid, wide, names = _wide(attainment, scorecard, month, "ytd_attainment")
    counts = valid.groupby("staff_id").agg(
        targets=("ytd_attainment", "count"), met=("met", lambda s: int(s.fillna(False).sum()))
    )
    if "target_attainment" in scorecard:
        names = names.assign(
            target_attainment=_month(scorecard, month)["target_attainment"].astype("float64")
        )
    out = names.merge(wide.join(counts, how="outer").reset_index(), on="staff_id", how="left")
    out[["targets", "met"]] = out[["targets", "met"]].fillna(0).astype("int64")
    return out.sort_values("staff_id").reset_index(drop=True)


def monthly_table(attainment: pd.DataFrame, scorecard: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """The month's own attainment per manager (rows) and target KPI (columns), NaN where
    no valid target was set or the target is near zero (see :func:`attainment`), and
    ``near_zero``: how many of the manager's targets that month were near zero."""
    _, wide, names = _wide(attainment, scorecard, month, "attainment")
    a = _month(attainment, month)
    hidden = a.groupby("staff_id")["near_zero"].sum().rename("near_zero")
    out = names.merge(wide.join(hidden, how="outer").reset_index(), on="staff_id", how="left")
    out["near_zero"] = out["near_zero"].fillna(0).astype("int64")
    return out.sort_values("staff_id").reset_index(drop=True)


def attainment_bars(attainment_wide: pd.DataFrame) -> pd.DataFrame:
    """``target_attainment`` of :func:`attainment_table` per manager label, best first,
    managers without a valid target left out."""
    a = attainment_wide.dropna(subset=["target_attainment"])
    a = a.sort_values(["target_attainment", "staff_id"], ascending=[False, True])
    return pd.DataFrame(
        {"target_attainment": a["target_attainment"].to_numpy()}, index=_label(a).to_numpy()
    )
