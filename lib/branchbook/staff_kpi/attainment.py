"""Attainment of each manager's targets, and the views of it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .settings import TARGET_KPIS
from .views import _label, _month


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


def attainment_bars(attainment_wide: pd.DataFrame) -> pd.DataFrame:
    """``target_attainment`` of :func:`attainment_table` per manager label, best first,
    managers without a valid target left out."""
    a = attainment_wide.dropna(subset=["target_attainment"])
    a = a.sort_values(["target_attainment", "staff_id"], ascending=[False, True])
    return pd.DataFrame(
        {"target_attainment": a["target_attainment"].to_numpy()}, index=_label(a).to_numpy()
    )
