"""Funnel plots of the branch's managers: each manager's NPL ratio and closure rate
against book size, around the bank rate, with the exact limits and overdispersion
handling of :mod:`branchbook.stats.funnel` (re-exported here), so that a small book is
not judged on chance.
"""

from __future__ import annotations

import math

import pandas as pd

from ..metrics import ratio
from ..stats.funnel import (
    FUNNEL_TAILS,
    Dispersion,
    Family,
    effective_loans,
    funnel_band,
    funnel_curve,
    funnel_limits,
    funnel_position,
    overdispersion,
    widening,
)

__all__ = [
    "BENCH_COLUMNS",
    "FUNNEL_METRICS",
    "FUNNEL_TAILS",
    "Dispersion",
    "Family",
    "effective_loans",
    "funnel_band",
    "funnel_curve",
    "funnel_frame",
    "funnel_limits",
    "funnel_notes",
    "funnel_outliers",
    "funnel_outside",
    "funnel_p0",
    "funnel_points",
    "funnel_position",
    "funnel_spread",
    "overdispersion",
    "widening",
]

FUNNEL_METRICS = ("npl_ratio", "closure_rate")


BENCH_COLUMNS = ("month", "metric", "p0", "n_total", "events", "units", "phi_test")
BENCH_COLUMNS += ("p_value", "tau2_test", "phi", "tau2")


def funnel_frame(
    scored: pd.DataFrame, *, dispersion: Dispersion = "additive", alpha: float = 0.05
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-manager funnel points and the bank's centre lines, for every month of ``scored``.

    NPL ratio: n = effective number of loans (:func:`effective_loans`), p0 = the
    bank's NPL outstanding / book outstanding of all managed loans. Churn rate:
    n = customers at the window start, p0 = bank churned / bank base. Both binomial.
    Managers with n = 0 are left out. The overdispersion test (:func:`overdispersion`)
    runs over the bank's managers; where its p-value is below ``alpha`` the limits are
    widened by ``dispersion`` (:func:`widening`). Returns (points: ``branch_id,
    staff_id, staff_name, month, metric, n, rate, p0, lo95..hi998, position,
    outside``; bench: ``month, metric, p0, n_total, events``, the test's ``units,
    phi_test, p_value, tau2_test`` and the ``phi``, ``tau2`` applied).
    """
    specs = {
        "npl_ratio": ("npl_outstanding", "book_outstanding"),
        "closure_rate": ("churned", "churn_base"),
    }
    points, bench = [], []
    for metric, (num, den) in specs.items():
        for month, g in scored.groupby("month", sort=True):
            p0 = ratio(g[num].sum(), g[den].sum())
            n = effective_loans(g[den], g["outstanding_sq"]) if metric == "npl_ratio" else g[den]
            rows = g.assign(metric=metric, n=n.astype("float64"), rate=g[metric], p0=p0)
            rows = rows[rows["n"] > 0]
            test = overdispersion(rows["rate"], rows["n"], p0)
            spread = widening(test, method=dispersion, alpha=alpha)
            bench.append(
                {
                    "month": month,
                    "metric": metric,
                    "p0": p0,
                    "n_total": float(g[den].sum()),
                    "events": float(g[num].sum()),
                    "units": test["units"],
                    "phi_test": test["phi"],
                    "p_value": test["p_value"],
                    "tau2_test": test["tau2"],
                    **spread,
                }
            )
            lim = funnel_limits(p0, rows["n"], **spread).drop(columns="n").set_index(rows.index)
            pos = funnel_position(rows["rate"], rows["n"], p0, **spread)
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
    return pts, pd.DataFrame(bench, columns=list(BENCH_COLUMNS))


def funnel_points(funnel: pd.DataFrame, *, metric: str) -> pd.DataFrame:
    """The branch's managers on one funnel (``npl_ratio`` or ``closure_rate``)."""
    return funnel[funnel["metric"] == metric].reset_index(drop=True)


def funnel_p0(bench_funnel: pd.DataFrame, *, metric: str, month: str) -> float:
    """The bank rate that centres the funnel of ``metric`` in ``month`` (NaN if none)."""
    b = bench_funnel[(bench_funnel["metric"] == metric) & (bench_funnel["month"] == month)]
    return float(b["p0"].iloc[0]) if len(b) else float("nan")


def funnel_spread(bench_funnel: pd.DataFrame, *, metric: str, month: str) -> dict[str, float]:
    """The widening (``phi``, ``tau2``) applied to the funnel of ``metric`` in ``month``
    (none when the month is missing), for :func:`funnel_band`."""
    b = bench_funnel[(bench_funnel["metric"] == metric) & (bench_funnel["month"] == month)]
    if b.empty:
        return {"phi": 1.0, "tau2": 0.0}
    return {"phi": float(b["phi"].iloc[0]), "tau2": float(b["tau2"].iloc[0])}


def funnel_notes(bench_funnel: pd.DataFrame, *, month: str) -> list[tuple[str, dict]]:
    """A note (catalogue key, values) per funnel whose limits were widened in ``month``:
    ``phi`` the test's dispersion, ``tau`` the spread between managers (sqrt tau2)."""
    notes = []
    for metric in FUNNEL_METRICS:
        b = bench_funnel[(bench_funnel["metric"] == metric) & (bench_funnel["month"] == month)]
        if b.empty or (b["phi"].iloc[0] <= 1.0 and b["tau2"].iloc[0] <= 0.0):
            continue
        method = "multiplicative" if b["phi"].iloc[0] > 1.0 else "additive"
        values = {"phi": float(b["phi_test"].iloc[0]), "tau": math.sqrt(b["tau2_test"].iloc[0])}
        notes.append((f"staff_kpi.notes.funnel_widened.{method}.{metric}", values))
    return notes


def funnel_outliers(
    funnel: pd.DataFrame, *, level: str = "998", side: str = "above"
) -> pd.DataFrame:
    """Managers beyond the ``level`` limit (``"95"`` or ``"998"``) on ``side`` (above/below)."""
    wanted = {f"{side}_998"} if level == "998" else {f"{side}_95", f"{side}_998"}
    return funnel[funnel["position"].isin(wanted)].reset_index(drop=True)


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
