"""What changed since last month and since the start of the year, and why: the four
ratio KPIs (CSAT, NPS, complaints per 1,000 customers, churn rate) split into a rate
effect and a mix effect per segment (:func:`branchbook.stats.rate_mix_by`).

Each KPI is a ratio of sums, written in the KPI's own unit so that the effects are too:

* ``csat_mean``: sum of the 0-100 CSAT of the responses / responses answering CSAT,
  over the scoring window ending at the month (points);
* ``nps``: sum of each respondent's score, +100 for a promoter (9-10), 0 for a passive
  and -100 for a detractor (0-6) / responses answering NPS, over the scoring window
  (points; equal to % promoters - % detractors, so the split is exact);
* ``complaints_per_1000``: 1,000 x complaints received in the month / customers open at
  its end (per 1,000 customers);
* ``churn_rate``: customers who churned in the month / customers active at the end of
  the month before (a share).

Segments are the asset tier the customer had *then* (the one rule of
:func:`branchbook.metrics.models.asset_tier`): a response in the tier of its month, a
complaint in the tier of the month it was received, a customer at a month end in its
tier then, a customer at risk of churning in its tier at the end of the month before.
CSAT and NPS are also split by survey channel. The base is ``"month"`` (比上月, the
previous month end) or ``"year"`` (比年初, the end of the previous year).

The sums per segment are computed once per period for every branch
(:func:`bridge_sums`, in prepare); a branch (or a region) adds its rows up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..memo import FrameMemo
from ..metrics.models import ASSET_TIERS, csat_100
from ..period import Period
from ..stats import largest_driver, rate_mix_by, rate_mix_total
from .scores import SURVEY_CHANNELS

#: The bases of a bridge.
BASES: tuple[str, ...] = ("month", "year")
#: The KPIs bridged, in summary order.
MEASURES: tuple[str, ...] = ("csat_mean", "nps", "complaints_per_1000", "churn_rate")
#: The segments each KPI is split by (the survey channel only where the KPI has one).
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "csat_mean": ("tier", "channel"),
    "nps": ("tier", "channel"),
    "complaints_per_1000": ("tier",),
    "churn_rate": ("tier",),
}
#: Known segments of each dimension, in display order (others follow, sorted).
ORDER: dict[str, tuple[str, ...]] = {"tier": ASSET_TIERS, "channel": SURVEY_CHANNELS}
#: The columns of :func:`bridge_sums`.
SUM_COLUMNS: tuple[str, ...] = (
    "branch_id",
    "month",
    "measure",
    "dimension",
    "segment",
    "num",
    "den",
)


def base_months(period: str) -> dict[str, str]:
    """``{"closing": period, "month": previous month, "year": December of last year}``."""
    p = Period.parse(period)
    return {"closing": str(p), "month": str(p.prev), "year": str(p.year_start.prev)}


def _long(frame: pd.DataFrame, measure: str, dimension: str, num: str, den: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "branch_id": frame["branch_id"].astype(str),
            "month": frame["month"].astype(str),
            "measure": measure,
            "dimension": dimension,
            "segment": frame[dimension].astype(str),
            "num": frame[num].astype(float),
            "den": frame[den].astype(float),
        }
    )


def score_sums_at(
    responses: pd.DataFrame, *, month: str, window_months: int, scale
) -> pd.DataFrame:
    """CSAT and NPS sums per branch x segment over the ``window_months`` months ending at
    ``month``: rows of :data:`SUM_COLUMNS`. ``responses``: one row per response with
    ``branch_id``, ``month``, ``channel``, ``tier`` (the customer's asset tier that
    month), ``csat`` (1-5) and ``nps`` (0-10), either may be empty."""
    first = str(Period.parse(month).shift(-(window_months - 1)))
    r = responses[(responses["month"].astype(str) >= first) & (responses["month"] <= month)]
    c100 = csat_100(r["csat"], scale=scale)
    rec = pd.to_numeric(r["nps"], errors="coerce")
    r = r.assign(
        month=month,
        csat_num=c100.fillna(0.0),
        csat_den=c100.notna().astype(float),
        nps_num=np.select([rec >= 9, rec <= 6], [100.0, -100.0], 0.0) * rec.notna(),
        nps_den=rec.notna().astype(float),
    )
    out = []
    for dim in ("tier", "channel"):
        g = r.groupby(["branch_id", "month", dim], as_index=False)[
            ["csat_num", "csat_den", "nps_num", "nps_den"]
        ].sum()
        out += [_long(g, "csat_mean", dim, "csat_num", "csat_den")]
        out += [_long(g, "nps", dim, "nps_num", "nps_den")]
    return pd.concat(out, ignore_index=True)


def bridge_sums(
    responses: pd.DataFrame,
    complaints: pd.DataFrame,
    customers: pd.DataFrame,
    churn: pd.DataFrame,
    *,
    period: str,
    window_months: int,
    scale,
) -> pd.DataFrame:
    """The numerators and denominators of every bridged KPI per branch, month end
    (:func:`base_months`) and segment: rows of :data:`SUM_COLUMNS`.

    ``responses`` as :func:`score_sums_at`; ``complaints``: one row per complaint with
    ``branch_id``, ``month`` (received) and ``tier``; ``customers``: ``branch_id``,
    ``month``, ``tier``, ``customers`` (open at the month end); ``churn``:
    ``branch_id``, ``month``, ``tier``, ``at_risk``, ``churned``. Rows of other months
    are ignored; a segment with nothing in it has no row.
    """
    months = sorted(set(base_months(period).values()))
    parts = [
        score_sums_at(responses, month=m, window_months=window_months, scale=scale) for m in months
    ]
    k = complaints[complaints["month"].astype(str).isin(months)]
    k = k.groupby(["branch_id", "month", "tier"], as_index=False).size()
    c = customers[customers["month"].astype(str).isin(months)]
    rate = c.merge(k, on=["branch_id", "month", "tier"], how="outer").fillna(
        {"size": 0, "customers": 0}
    )
    parts.append(
        _long(
            rate.assign(num=rate["size"] * 1000.0),
            "complaints_per_1000",
            "tier",
            "num",
            "customers",
        )
    )
    ch = churn[churn["month"].astype(str).isin(months)]
    parts.append(_long(ch, "churn_rate", "tier", "churned", "at_risk"))
    out = pd.concat(parts, ignore_index=True)[list(SUM_COLUMNS)]
    out = out.groupby(list(SUM_COLUMNS[:5]), as_index=False)[["num", "den"]].sum()
    return out.sort_values(list(SUM_COLUMNS[:5]), kind="stable").reset_index(drop=True)


def _order(dimension: str, segments) -> list[str]:
    known = list(ORDER.get(dimension, ()))
    return known + sorted(set(map(str, segments)) - set(known))


def _ends(sums: pd.DataFrame, *, measure: str, base: str, dimension: str, period: str):
    months = base_months(period)
    rows = sums[(sums["measure"] == measure) & (sums["dimension"] == dimension)]
    ends = {}
    for end, month in (("opening", months[base]), ("closing", months["closing"])):
        at = rows[rows["month"].astype(str) == month]
        ends[end] = at.groupby(at["segment"].astype(str))[["num", "den"]].sum()
    return ends


def bridge_split(
    sums: pd.DataFrame, *, measure: str, base: str, dimension: str, period: str
) -> pd.DataFrame:
    """The change of ``measure`` from the ``base`` month end to ``period`` split per
    segment of ``dimension`` into rate and mix effects (the rows of every branch in
    ``sums`` added up: a branch, a region or the bank). Columns of
    :func:`branchbook.stats.rate_mix`, in the KPI's unit; every known segment is a row.
    A segment without a denominator at one end (a tier with no responses that month)
    has only a mix effect; with no denominator at the opening at all (an empty prior
    period) the effects are NaN. A numerator in a segment with no denominator (a
    complaint of a wealth customer who left in a month when no wealth customer is open
    at its end) has no rate to split: :func:`bridge_total` shows it as the residual."""
    return _split(sums, measure=measure, base=base, dimension=dimension, period=period).copy()


# The report asks for each split and total several times (the overview, the charts,
# the tables, the summary sentences and each total's own split): made once per frame.
_MADE = FrameMemo()


def _split(sums: pd.DataFrame, *, measure: str, base: str, dimension: str, period: str):
    """:func:`bridge_split`, made once per ``sums`` frame and arguments; the caller must
    not change what it gets."""
    key = ("split", measure, base, dimension, period)
    return _MADE.get(
        sums,
        key,
        lambda: _make_split(sums, measure=measure, base=base, dimension=dimension, period=period),
    )


def _make_split(
    sums: pd.DataFrame, *, measure: str, base: str, dimension: str, period: str
) -> pd.DataFrame:
    if base not in BASES:
        raise ValueError(f"`base` is expected to be one of {BASES}. Got {base!r} instead.")
    e = _ends(sums, measure=measure, base=base, dimension=dimension, period=period)
    wide = pd.concat(
        [e["opening"].add_suffix("_opening"), e["closing"].add_suffix("_closing")], axis=1
    )
    wide = wide.rename_axis("segment").reset_index()
    order = _order(dimension, wide["segment"])
    out = rate_mix_by(
        wide,
        num=("num_opening", "num_closing"),
        den=("den_opening", "den_closing"),
        by="segment",
        order=order,
    )
    return out.rename_axis(dimension)


def bridge_total(
    sums: pd.DataFrame, *, measure: str, base: str, period: str, dimension: str = "tier"
) -> dict[str, float]:
    """``measure`` at the opening and the closing (ratios of the summed rows, NaN
    without a denominator), the whole rate and mix effects of the split by
    ``dimension``, the change and the residual: 0 up to floating point, but for the
    part of a numerator that has no denominator in its segment (see
    :func:`bridge_split`), which it shows instead of hiding."""
    key = ("total", measure, base, dimension, period)
    return dict(
        _MADE.get(
            sums,
            key,
            lambda: _make_total(
                sums, measure=measure, base=base, period=period, dimension=dimension
            ),
        )
    )


def _make_total(
    sums: pd.DataFrame, *, measure: str, base: str, period: str, dimension: str
) -> dict[str, float]:
    e = _ends(sums, measure=measure, base=base, dimension=dimension, period=period)
    value = {
        end: (float(f["num"].sum() / f["den"].sum()) if f["den"].sum() > 0 else float("nan"))
        for end, f in e.items()
    }
    s = _split(sums, measure=measure, base=base, dimension=dimension, period=period)
    return rate_mix_total(s, opening=value["opening"], closing=value["closing"])


#: The unit a KPI is shown in by :func:`bridge_overview` and the charts (times the ratio):
#: the churn rate, a share, in percent; the others in their own unit.
SHOWN_AS: dict[str, float] = {
    "csat_mean": 1.0,
    "nps": 1.0,
    "complaints_per_1000": 1.0,
    "churn_rate": 100.0,
}


def bridge_overview(sums: pd.DataFrame, *, base: str, period: str) -> pd.DataFrame:
    """One row per bridged KPI (:data:`MEASURES`, the index ``kpi``): ``opening``,
    ``closing``, ``change``, ``rate_effect``, ``mix_effect`` (by asset tier) and
    ``residual``, in the unit shown (:data:`SHOWN_AS`: the churn rate in percent)."""
    rows = {}
    for measure in MEASURES:
        t = bridge_total(sums, measure=measure, base=base, period=period)
        rows[measure] = {k: v * SHOWN_AS[measure] for k, v in t.items()}
    cols = ["opening", "closing", "change", "rate_effect", "mix_effect", "residual"]
    return pd.DataFrame.from_dict(rows, orient="index")[cols].rename_axis("kpi")


def bridge_table(split: pd.DataFrame, *, scale: float = 1.0) -> pd.DataFrame:
    """A :func:`bridge_split` for the report: the segment, its denominator and KPI then and
    now, its rate and mix effects and their sum, the KPI and effects times ``scale``
    (:data:`SHOWN_AS`)."""
    shown = ["rate_opening", "rate_closing", "rate_effect", "mix_effect", "contribution"]
    out = split[["den_opening", "rate_opening", "den_closing", "rate_closing"] + shown[2:]]
    return out.assign(**{c: out[c] * scale for c in shown}).reset_index()


def bridge_facts(
    sums: pd.DataFrame,
    *,
    period: str,
    min_change: Mapping[str, float],
    label: Callable[[str, Any], str],
    base: str = "month",
) -> list[tuple[str, dict[str, Any]]]:
    """One summary sentence per bridged KPI that moved by ``min_change[kpi]`` or more
    (in the KPI's unit) against ``base``, naming the largest effect in one segment of
    any of its dimensions, and its size. Per dimension the effect named is of the kind
    (rate or mix) that moved the KPI more in total: the mix effects of single segments
    can be large and cancel (a shift of answers from one channel to another), and are
    then no driver of the change. ``label(prefix, code)`` translates the base, the
    effect and the segment. Nothing without a value at both ends. Segments are tiers
    and channels: no customer is named."""
    facts = []
    for measure in MEASURES:
        t = bridge_total(sums, measure=measure, base=base, period=period)
        change = t["change"]
        if not np.isfinite(change) or abs(change) < min_change[measure]:
            continue
        best = None
        for dim in DIMENSIONS[measure]:
            s = _split(sums, measure=measure, base=base, dimension=dim, period=period)
            kind = max(("rate_effect", "mix_effect"), key=lambda p: abs(s[p].sum()))
            d = largest_driver(s, parts=(kind,))
            if d is not None and (best is None or abs(d[2]) > abs(best[1][2])):
                best = (dim, d)
        if best is None:
            continue
        dim, (segment, part, amount) = best
        facts.append(
            (
                f"satisfaction.summary.bridge_{measure}",
                {
                    "base": label("common.bridge.bases", base),
                    "opening": t["opening"],
                    "closing": t["closing"],
                    "change": change,
                    "part": label("satisfaction.bridge_words", part),
                    "segment": label(f"satisfaction.bridge_segments.{dim}", segment),
                    "amount": amount,
                },
            )
        )
    return facts
