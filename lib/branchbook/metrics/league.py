"""League tables for head office: a headline KPI for each unit under a scope.

A region's report ranks its branches, the bank's ranks its regions and then its
branches. Each unit's value is computed from its pooled sums (a region's NPL ratio is
its NPL balance over its outstanding, never an average of its branches' ratios), for
the period, last period and the start of the year. A rate with its numerator and
denominator is also set against the scope's own level on a funnel, with the exact
limits and overdispersion handling the staff KPI report sets its managers on
(:mod:`branchbook.stats.funnel`); a count, a money total or a mean score has no
funnel (there is no count of events out of a number of trials to test), and its
position reads "n/a".

The functions are pure: a frame in, a new frame out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd

from ..period import shift_month
from ..stats import funnel
from .cards import year_start_period
from .declare import get

#: The funnel limit beyond which a unit is named in the summary sentences: the 99.8%
#: one, as the staff KPI report names its managers (the 95% position is in the table).
NAMED = ("above_998", "below_998")
#: How a funnel's limits are widened when the units vary more than chance allows, and
#: at which level the overdispersion test counts (the staff KPI report's defaults).
DISPERSION = "additive"
ALPHA = 0.05

LEAGUE_COLUMNS = (
    "unit",
    "value",
    "rank",
    "previous",
    "change",
    "year_start",
    "change_ytd",
    "n",
    "lo998",
    "hi998",
    "position",
)


def units_of(region: Mapping[str, str], members: Iterable[str], *, level: str) -> dict[str, str]:
    """``{branch: unit}`` for the branches ``members``: the branch itself
    (``level="branch"``) or its region (``level="region"``, from ``region``, the org
    tree's branch -> region).

    >>> units_of({"1": "East", "2": "East", "3": "North"}, ["1", "3"], level="region")
    {'1': 'East', '3': 'North'}
    """
    if level not in ("branch", "region"):
        raise ValueError(f"level is expected to be one of (branch, region). Got {level!r} instead.")
    if level == "branch":
        return {b: b for b in members}
    return {b: region.get(b, "") for b in members}


def pool(
    frame: pd.DataFrame,
    units: Mapping[str, str],
    *,
    sums: Sequence[str],
    period_col: str = "period",
    unit_col: str = "branch_id",
) -> pd.DataFrame:
    """The sums ``sums`` of ``frame``'s rows per unit and period: ``unit, <period_col>,
    *sums``. Rows of a branch not in ``units`` are left out; a sum over no row is 0
    (a unit without rows in a period has no row).

    >>> f = pd.DataFrame({"branch_id": ["1", "2", "3"], "period": ["m"] * 3, "x": [1, 2, 4]})
    >>> pool(f, {"1": "E", "2": "E"}, sums=["x"]).to_dict("records")
    [{'unit': 'E', 'period': 'm', 'x': 3}]
    """
    rows = frame[frame[unit_col].isin(list(units))]
    rows = rows.assign(unit=rows[unit_col].map(dict(units)))
    out = rows.groupby(["unit", period_col], as_index=False, sort=True)[list(sums)].sum()
    return out[["unit", period_col, *sums]]


def ranks(values: pd.Series, *, good: str | None) -> pd.Series:
    """1 for the best value in the ``good`` direction (``"high"`` or ``"low"``), ties
    share the best rank; NaN for a missing value or a metric without a direction."""
    if good not in ("high", "low"):
        return pd.Series(math.nan, index=values.index)
    return values.astype("float64").rank(ascending=good == "low", method="min")


def league_table(
    values: pd.DataFrame,
    *,
    period: str,
    good: str | None,
    p0: float = math.nan,
    period_col: str = "period",
) -> pd.DataFrame:
    """One row per unit with a value in ``period``, best first.

    ``values``: ``unit, <period_col>, value`` and, for a rate to set on a funnel, ``n``
    (its denominator as a number of trials: loans, customers, responses). Columns:
    ``value``, ``rank`` (1 best), ``previous`` (last month) and ``change`` (value -
    previous), ``year_start`` (last December, :func:`~.cards.year_start_period`) and
    ``change_ytd``, NaN where the unit has no value then; ``n``, the 99.8% limits
    ``lo998``/``hi998`` around ``p0`` (the scope's own level) and ``position``
    (``above_998``, ``above_95``, ``within``, ``below_95``, ``below_998``; NA without a
    funnel: no ``n`` or no ``p0``), by :func:`funnel_positions`.
    """

    def at(month: str) -> pd.Series:
        rows = values[values[period_col] == month]
        return rows.set_index("unit")["value"].astype("float64")

    cur = values[values[period_col] == period].set_index("unit")
    out = pd.DataFrame({"value": cur["value"].astype("float64")}, index=cur.index)
    out["rank"] = ranks(out["value"], good=good)
    out["previous"] = at(shift_month(period, -1)).reindex(out.index)
    out["change"] = out["value"] - out["previous"]
    out["year_start"] = at(year_start_period(period)).reindex(out.index)
    out["change_ytd"] = out["value"] - out["year_start"]
    n = cur["n"].astype("float64") if "n" in cur else pd.Series(math.nan, index=cur.index)
    out = out.join(funnel_positions(out["value"], n, p0))
    out = out.reset_index().rename(columns={"index": "unit"})
    out = out.sort_values(["rank", "unit"], na_position="last", kind="stable")
    return out[list(LEAGUE_COLUMNS)].reset_index(drop=True)


def funnel_positions(rate: pd.Series, n: pd.Series, p0: float) -> pd.DataFrame:
    """``n, lo998, hi998, position`` of each unit's ``rate`` on a funnel around ``p0``:
    the staff KPI report's exact binomial limits, widened (additive random effect) when
    the units' overdispersion test is significant at :data:`ALPHA`. All NA when ``p0``
    is missing or no unit has an ``n`` (no funnel for this metric)."""
    out = pd.DataFrame(
        {"n": n.astype("float64"), "lo998": math.nan, "hi998": math.nan}, index=rate.index
    )
    out["position"] = pd.Series(pd.NA, index=rate.index, dtype="string")
    ok = n.notna() & (n > 0) & rate.notna()
    if not p0 == p0 or not ok.any():
        return out
    spread = funnel.widening(
        funnel.overdispersion(rate[ok], n[ok], p0), method=DISPERSION, alpha=ALPHA
    )
    lim = funnel.funnel_limits(p0, n[ok], **spread).set_index(rate[ok].index)
    out.loc[ok, "lo998"] = lim["lo998"]
    out.loc[ok, "hi998"] = lim["hi998"]
    out.loc[ok, "position"] = funnel.funnel_position(rate[ok], n[ok], p0, **spread)
    return out


def beyond(table: pd.DataFrame) -> list[str]:
    """The units of a :func:`league_table` beyond its 99.8% limits (either side), in
    the table's order: the ones the summary names."""
    return [str(u) for u in table.loc[table["position"].isin(NAMED).fillna(False), "unit"]]


def scope_leagues(
    values_of: Callable[..., pd.DataFrame],
    inputs: Mapping[str, object],
    *,
    region: Mapping[str, str],
    members: Sequence[str],
    scope: str,
    period: str,
    key: str,
) -> tuple[dict[str, pd.DataFrame], float]:
    """The league tables of the metric ``key`` at a scope, and the scope's own level
    this period.

    ``values_of(units, **inputs)`` is a report's ``league_values``: ``unit, period,
    value`` (and ``n`` for a rate) with the branches' sums pooled per unit of ``units``
    (branch -> unit). A region's scope has one table (its branches); the bank's two
    (its regions, then its branches); a branch has none. The level ``p0`` is the scope's
    value pooled over all of ``members`` (the centre of the funnels).
    """
    if scope == "branch":
        return {}, math.nan
    good = get(key).good
    whole = values_of(dict.fromkeys(members, "*"), **inputs)
    at = whole.loc[whole["period"] == period, "value"]
    p0 = float(at.iloc[0]) if len(at) else math.nan
    levels = ("region", "branch") if scope == "bank" else ("branch",)
    tables = {
        level: league_table(
            values_of(units_of(region, members, level=level), **inputs),
            period=period,
            good=good,
            p0=p0,
        )
        for level in levels
    }
    return tables, p0


def facts(
    tables: Mapping[str, pd.DataFrame], *, label: str, names: Mapping[str, str], sep: str = ", "
) -> list[tuple[str, dict[str, object]]]:
    """Summary facts (catalogue key, values) naming the units beyond the 99.8% limits
    of each table, high and low apart (:func:`beyond`), and only those; one fact saying
    none is when a table with a funnel has none. Nothing for a metric without a funnel.
    ``label`` is the KPI's name and ``names`` the units' names, in the page's locale.
    """
    out: list[tuple[str, dict[str, object]]] = []
    for level, table in tables.items():
        if not table["position"].notna().any():
            continue
        found = False
        for side in ("above", "below"):
            rows = table[table["position"] == f"{side}_998"]
            if len(rows):
                found = True
                who = sep.join(names.get(u, u) for u in rows["unit"])
                values = {"kpi": label, "n": len(rows), "names": who}
                out.append((f"common.league.facts.{side}.{level}", values))
        if not found:
            out.append((f"common.league.facts.none.{level}", {"kpi": label}))
    return out
