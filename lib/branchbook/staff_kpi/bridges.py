"""Who drove it: each manager's contribution to the branch's change in managed AUM,
loans and NPL ratio, against last month (比上月) and the start of the year (比年初).

The stocks are the managers' books as the scorecard measures them: ``aum`` and
``loans`` are the balances of the customers whose manager is the manager (one entity
per customer with a balance row at the month), ``book`` and ``npl`` the outstanding
and the NPL outstanding (substandard, doubtful, loss) of the loans the manager handles
(one entity per loan with a snapshot at the month). :func:`manager_bridges` runs once
per period in :func:`.prepare.prepare`; the views below read its rows.

The branch's change of a stock is the sum of its managers' changes (each split into
new, growth, decline and lost, :func:`branchbook.stats.stock_bridge`); the change of
the branch's NPL ratio is split per manager into a rate effect (the manager's own NPL
ratio moved) and a mix effect (the manager's share of the branch's book moved), by the
symmetric shift-share of :func:`branchbook.stats.rate_mix`; the parts add up exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..period import Period
from ..stats import STOCK_COLUMNS, largest_driver, rate_mix, stock_bridge

#: The bases of a bridge and the month end each one opens at.
BASES: tuple[str, ...] = ("month", "year")
#: The stocks bridged per manager.
STOCKS: tuple[str, ...] = ("aum", "loans", "book", "npl")
#: The headlines whose change the summary explains, in order.
HEADLINES: tuple[str, ...] = ("aum", "loans", "npl_ratio")

# the shared customer-month and loan-month tables (:mod:`branchbook.metrics.shared`); a
# manager's customers are those open at the month's end, as the scorecard's book counts
# them (a customer closed by then is out of it, whatever rows it has)
_CUSTOMERS_SQL = """
SELECT b.customer_id AS entity, b.manager_id AS staff_id, b.month, b.aum,
       coalesce(b.loans_outstanding, 0) AS loans
FROM customer_month b
WHERE b.manager_id IS NOT NULL AND b.open AND b.month IN ($period, $prev_period, $year_period)
"""

_LOANS_SQL = """
SELECT s.loan_id AS entity, s.manager_id AS staff_id, s.month,
       coalesce(s.outstanding, 0) AS book,
       CASE WHEN s.npl THEN coalesce(s.outstanding, 0) ELSE 0 END AS npl
FROM loan_month s
WHERE s.manager_id IS NOT NULL AND s.month IN ($period, $prev_period, $year_period)
"""


def base_months(period: str) -> dict[str, str]:
    """``{"month": previous month, "year": December of the previous year}``."""
    p = Period.parse(period)
    return {"month": str(p.prev), "year": str(p.year_start.prev)}


def _entity_bridges(
    rows: pd.DataFrame, stocks: tuple[str, ...], period: str, opening: str
) -> list[pd.DataFrame]:
    """Stock bridges per manager of entity rows (entity, staff_id, month, stocks...)."""
    out = []
    for stock in stocks:
        wide = rows.pivot_table(index=["entity", "staff_id"], columns="month", values=stock)
        wide = wide.reindex(columns=[opening, period]).reset_index()
        b = stock_bridge(wide, opening=opening, closing=period, by="staff_id")
        out.append(b.reset_index().assign(stock=stock))
    return out


def manager_bridges(customers: pd.DataFrame, loans: pd.DataFrame, *, period: str) -> pd.DataFrame:
    """One row per manager, base and stock (:data:`STOCKS`) with :data:`STOCK_COLUMNS`.

    ``customers``: rows of the customers SQL (entity, staff_id, month, aum, loans);
    ``loans``: rows of the loans SQL (entity, staff_id, month, book, npl). A manager
    without a book at either end has no row.
    """
    frames = []
    for base, opening in base_months(period).items():
        parts = _entity_bridges(customers, ("aum", "loans"), period, opening)
        parts += _entity_bridges(loans, ("book", "npl"), period, opening)
        frames += [p.assign(base=base) for p in parts]
    cols = ["staff_id", "base", "stock", *STOCK_COLUMNS]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def prepare_bridges(ctx, staff: pd.DataFrame) -> pd.DataFrame:
    """``staff_bridge``: :func:`manager_bridges` of the period with the staff's
    ``branch_id`` and ``staff_name``, AUM on the balance basis (``customer_month``); cut per branch like
    the scorecard."""
    p = Period.parse(ctx.period)
    months = base_months(ctx.period)
    args = {"period": str(p), "prev_period": months["month"], "year_period": months["year"]}
    out = manager_bridges(
        ctx.sql(_CUSTOMERS_SQL, **args), ctx.sql(_LOANS_SQL, **args), period=str(p)
    )
    who = staff[["staff_id", "branch_id", "staff_name"]].drop_duplicates("staff_id")
    out = out.merge(who, on="staff_id", how="inner")
    return out[["branch_id", "staff_id", "staff_name", *out.columns[1:-2]]].reset_index(drop=True)


def _stock(bridge: pd.DataFrame, *, base: str, stock: str) -> pd.DataFrame:
    rows = bridge[(bridge["base"] == base) & (bridge["stock"] == stock)]
    return rows.set_index("staff_id")[["staff_name", *STOCK_COLUMNS]].sort_index()


def branch_bridge(bridge: pd.DataFrame, *, base: str, stock: str) -> pd.Series:
    """The branch's (or the scope's) bridge of ``stock``: the sum over its managers."""
    return _stock(bridge, base=base, stock=stock)[list(STOCK_COLUMNS)].sum().astype(float)


def contribution_table(bridge: pd.DataFrame, *, base: str, stock: str) -> pd.DataFrame:
    """Each manager's part of the branch's change in ``stock`` (``aum`` or ``loans``):
    ``staff_name``, opening, new, growth, decline, lost, closing and ``change``
    (closing - opening), largest change first. A customer counts in the book of the
    manager it has now at both ends (the warehouse keeps no history of assignments), as
    the scorecard's ``aum_prev`` does."""
    t = _stock(bridge, base=base, stock=stock)
    t = t.assign(change=t["closing"] - t["opening"])
    t = t[["staff_name", "opening", "new", "growth", "decline", "lost", "closing", "change"]]
    return t.sort_values("change", ascending=False, kind="stable").reset_index()


def npl_split(bridge: pd.DataFrame, *, base: str) -> pd.DataFrame:
    """The change of the branch's managed NPL ratio split per manager into rate and mix
    effects (:func:`branchbook.stats.rate_mix`; ratio units, 0.001 = 0.1 pp), with
    ``staff_name``, the manager's NPL ratio then and now and book share then and now;
    largest contribution in absolute value first."""
    book = _stock(bridge, base=base, stock="book")
    npl = _stock(bridge, base=base, stock="npl")
    split = rate_mix(npl["opening"], book["opening"], npl["closing"], book["closing"])
    names = pd.concat([book["staff_name"], npl["staff_name"]])
    split = split.assign(staff_name=names[~names.index.duplicated()].reindex(split.index))
    split = split.reindex(split["contribution"].abs().sort_values(ascending=False).index)
    split.index.name = "staff_id"
    return split


def npl_total(bridge: pd.DataFrame, *, base: str) -> dict[str, float]:
    """The branch's managed NPL ratio then and now (ratios of sums) and its change."""
    book = branch_bridge(bridge, base=base, stock="book")
    npl = branch_bridge(bridge, base=base, stock="npl")
    opening = npl["opening"] / book["opening"] if book["opening"] > 0 else float("nan")
    closing = npl["closing"] / book["closing"] if book["closing"] > 0 else float("nan")
    return {"opening": opening, "closing": closing, "change": closing - opening}


def bridge_facts(
    bridge: pd.DataFrame,
    *,
    base: str = "month",
    min_change: float,
    min_change_pp: float,
    label: Callable[[str, Any], str],
) -> list[tuple[str, dict[str, Any]]]:
    """One summary sentence per headline (:data:`HEADLINES`) that moved: managed AUM
    and loans when they changed by ``min_change`` or more of their opening, the managed
    NPL ratio when it moved ``min_change_pp`` (ratio units) or more; each names the
    manager and part that drove it most, with its size. ``label(prefix, code)``
    translates the base and the part. Staff are named (the report stays in its
    branch); customers never are."""
    facts: list[tuple[str, dict[str, Any]]] = []
    key = "staff_kpi.summary.bridge_"
    for stock in ("aum", "loans"):
        t = branch_bridge(bridge, base=base, stock=stock)
        change = t["closing"] - t["opening"]
        if t["opening"] <= 0 or abs(change) < min_change * t["opening"]:
            continue
        per = _stock(bridge, base=base, stock=stock)
        driver = largest_driver(per)
        if driver is None:
            continue
        staff, part, amount = driver
        facts.append(
            (
                key + stock,
                {
                    "base": label("common.bridge.bases", base),
                    "change": change,
                    "change_rel": change / t["opening"],
                    "name": str(per.loc[staff, "staff_name"]),
                    "part": label("common.bridge.words", part),
                    "amount": amount,
                },
            )
        )
    total = npl_total(bridge, base=base)
    if pd.notna(total["change"]) and abs(total["change"]) >= min_change_pp:
        split = npl_split(bridge, base=base)
        driver = largest_driver(split, parts=("contribution",))
        if driver is not None:
            staff = driver[0]
            row = split.loc[staff]
            facts.append(
                (
                    key + "npl_ratio",
                    {
                        "base": label("common.bridge.bases", base),
                        "change": total["change"],
                        "name": str(row["staff_name"]),
                        "contribution": float(row["contribution"]),
                        "rate_effect": float(row["rate_effect"]),
                        "mix_effect": float(row["mix_effect"]),
                    },
                )
            )
    return facts
