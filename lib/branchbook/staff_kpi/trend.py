"""Each manager's composite over the trend window against the median of their grade."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..period import window
from .settings import GRADES
from .views import _label, _month


def trend(
    scorecard: pd.DataFrame,
    bench_grade: pd.DataFrame,
    *,
    month: str | None = None,
    months: int | None = None,
) -> pd.DataFrame:
    """Each manager's composite per month against the median of their grade in the bank.

    Returns ``staff_id, staff_name, grade, month, composite, rating, grade_median``,
    by staff and month; months a manager was not rated have a NaN composite. With
    ``month`` and ``months``, only the ``months`` months ending at ``month`` (the
    scorecard of a December also holds last December, for the cards' start of the year).
    """
    cols = ["staff_id", "staff_name", "grade", "month", "composite", "rating"]
    med = bench_grade[["month", "grade", "composite_median"]].rename(
        columns={"composite_median": "grade_median"}
    )
    rows = scorecard
    if month is not None and months is not None:
        rows = rows[rows["month"].isin(window(month, months))]
    out = rows[cols].merge(med, on=["month", "grade"], how="left")
    return out.sort_values(["staff_id", "month"]).reset_index(drop=True)


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
