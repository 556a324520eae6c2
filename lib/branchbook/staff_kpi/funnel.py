"""Funnel plots: each manager's rate against book size, with control limits around the
bank rate, so that a small book is not judged on chance."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..startup import LazyModule

stats = LazyModule("scipy.stats")  # 0.5 s to import: not for the runner, which only reads Settings

#: Funnel control limits: name -> upper-tail probability of the two-sided z (95% and
#: 99.8%, Spiegelhalter's levels); see :func:`funnel_z`.
FUNNEL_LEVELS = {"95": 0.975, "998": 0.999}


def funnel_z() -> dict[str, float]:
    """The funnel levels' z values: 1.960 (95%) and 3.090 (99.8%)."""
    return {name: float(stats.norm.ppf(p)) for name, p in FUNNEL_LEVELS.items()}


FUNNEL_METRICS = ("npl_ratio", "churn_rate")


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
