"""The six KPI cards of the risk report, each declared once.

Every card, the bank medians (``bench_risk_kpis``), the index's headline column (the NPL
ratio), the definitions appendix and the summary sentences read these declarations. Each
KPI is a share in 0..1, lower is better, and NaN when its denominator is zero or
missing (an empty branch), never 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from ..metrics import Metric, declare, league, ratio
from ..metrics.cards import bank_median, card_frame, unit_values, year_start_period
from ..period import shift_month
from ..stats.funnel import effective_loans
from .exposure import top_share
from .settings import NPL_CLASSES, REPORT


def npl_ratio(book: pd.DataFrame) -> float:
    """Outstanding classed substandard, doubtful or loss / all outstanding."""
    npl = book.loc[book["five_class"].isin(NPL_CLASSES), "outstanding"].sum()
    return ratio(npl, book["outstanding"].sum())


def special_mention_ratio(book: pd.DataFrame) -> float:
    """Outstanding classed special mention / all outstanding."""
    sm = book.loc[book["five_class"] == "special_mention", "outstanding"].sum()
    return ratio(sm, book["outstanding"].sum())


def expected_loss_rate(book: pd.DataFrame) -> float:
    """Expected loss (PD x LGD x EAD summed over loans) / EAD; NaN when a loan has no
    expected loss (no scorecard) or the book is empty."""
    if not len(book) or not book["el"].notna().all():
        return math.nan
    return ratio(book["el"].sum(), book["ead"].sum())


def warning_exposure_share(book: pd.DataFrame, warnings: pd.DataFrame) -> float:
    """Exposure of corporate borrowers tripping at least one early-warning rule / the
    branch's outstanding."""
    flagged = warnings.loc[warnings["n_rules"] > 0, "exposure"].sum()
    return ratio(flagged, book["outstanding"].sum())


def top10_share(book: pd.DataFrame) -> float:
    """Share of outstanding held by the ten largest borrowers."""
    return top_share(book, n=10)


def risk_customer_share(compliance: pd.DataFrame) -> float:
    """Open customers classed ``risk`` / all open customers."""
    return ratio((compliance["status"] == "risk").sum(), len(compliance))


KPIS: tuple[Metric, ...] = declare(
    Metric("npl_ratio", REPORT, "pct", "low", npl_ratio, headline=True),
    Metric("special_mention_ratio", REPORT, "pct", "low", special_mention_ratio),
    Metric("expected_loss_rate", REPORT, "pct", "low", expected_loss_rate),
    Metric("warning_exposure_share", REPORT, "pct", "low", warning_exposure_share),
    Metric("top10_share", REPORT, "pct", "low", top10_share),
    Metric("risk_customer_share", REPORT, "pct", "low", risk_customer_share),
)
KPI_KEYS: tuple[str, ...] = tuple(m.key for m in KPIS)


def kpis(
    *, book: pd.DataFrame, warnings: pd.DataFrame, compliance: pd.DataFrame
) -> dict[str, float]:
    """The six KPIs of one branch (or any set of loans), in card order.

    ``book``: :func:`~.scoring.score_book` output; ``warnings``:
    :func:`~.exposure.early_warning` output; ``compliance``:
    :func:`~.compliance.compliance_status` output.
    """
    return {
        "npl_ratio": npl_ratio(book),
        "special_mention_ratio": special_mention_ratio(book),
        "expected_loss_rate": expected_loss_rate(book),
        "warning_exposure_share": warning_exposure_share(book, warnings),
        "top10_share": top10_share(book),
        "risk_customer_share": risk_customer_share(compliance),
    }


def kpi_context(
    bench_kpis: pd.DataFrame, *, branch_id: str, period: str, prev_period: str | None = None
) -> tuple[dict, dict]:
    """Last period's values of the branch and the bank's median over branches this period
    (``prev_period`` defaults to the month before ``period``)."""
    prev_period = prev_period or shift_month(period, -1)
    prev = bench_kpis[(bench_kpis["month"] == prev_period) & (bench_kpis["branch_id"] == branch_id)]
    prev_d = {k: float(prev[k].iloc[0]) if len(prev) else math.nan for k in KPI_KEYS}
    bank = {k: bank_median(bench_kpis, k, period, period_col="month") for k in KPI_KEYS}
    return prev_d, bank


def kpi_cards(
    current: dict,
    previous: dict,
    *,
    bench: pd.DataFrame,
    branch_id: str,
    period: str,
    rag: dict | None = None,
) -> pd.DataFrame:
    """The KPI cards' frame (:func:`branchbook.metrics.cards.card_frame`): value, last
    period, change, the bank's median and the branch's rank among branches, status, and
    the value at the start of the year from the bench's row of last December."""
    year = unit_values(bench, branch_id, year_start_period(period), period_col="month")
    return card_frame(
        KPIS,
        current,
        previous,
        year_start=year,
        bench=bench,
        unit_id=branch_id,
        period=period,
        rag=rag,
        period_col="month",
    )


def unit_kpis(bench, settings=None) -> pd.DataFrame:
    """Every declared KPI per branch and period from prepare's benchmark (``branch_id``,
    ``period``, one column per key): what the index and head-office views read."""
    frame = bench("bench_risk_kpis").rename(columns={"month": "period"})
    return frame[["branch_id", "period", *KPI_KEYS]]


def league_values(
    units: Mapping[str, str], *, history: pd.DataFrame, loans: pd.DataFrame, period: str
) -> pd.DataFrame:
    """The NPL ratio per unit and month for the league tables
    (:mod:`branchbook.metrics.league`): the unit's NPL outstanding over its outstanding,
    both pooled from its branches' ``risk_book`` rows (``history``: ``branch_id,
    month, five_class, outstanding``), and at ``period`` the effective number of loans
    ``n`` of the pooled book of ``loans`` (``risk_loans``: ``branch_id, outstanding``),
    the trials of the balance-weighted ratio's funnel. ``units``: branch -> unit.
    Columns ``unit, period, value, n``."""
    rows = history.rename(columns={"month": "period"})
    rows = rows.assign(npl=rows["outstanding"].where(rows["five_class"].isin(NPL_CLASSES), 0.0))
    sums = league.pool(rows, units, sums=["npl", "outstanding"])
    sums["value"] = ratio(sums["npl"], sums["outstanding"])
    book = loans.assign(period=period, sq=loans["outstanding"].astype("float64") ** 2)
    n = league.pool(book, units, sums=["outstanding", "sq"])
    n["n"] = effective_loans(n["outstanding"], n["sq"])
    return sums[["unit", "period", "value"]].merge(n[["unit", "period", "n"]], how="left")


#: The cards whose sums ``bench_risk_trend`` keeps per branch and month (each ratio
#: with its outstanding), so a region or the bank can be pooled (:func:`pooled_kpis`).
POOLED_KEYS = ("npl_ratio", "special_mention_ratio")


def pooled_kpis(bench, units: Mapping[str, str], settings=None) -> pd.DataFrame:
    """The NPL and special-mention ratios of each unit of ``units`` (branch -> unit: a
    region, the bank) per month, pooled from its branches' rows of ``bench_risk_trend``
    (``bench``: name -> frame, as :func:`unit_kpis`): each ratio times its branch's
    outstanding (the NPL, or special-mention, outstanding), summed, over the summed
    outstanding; NaN without outstanding, never an average of the branches' ratios.
    Columns ``unit, period`` and :data:`POOLED_KEYS`; a unit without rows has none."""
    rows = bench("bench_risk_trend").rename(columns={"month": "period"})
    out_ = rows["outstanding"].astype("float64")
    rows = rows.assign(**{f"{k}_out": rows[k].astype("float64") * out_ for k in POOLED_KEYS})
    sums = league.pool(rows, units, sums=["outstanding", *(f"{k}_out" for k in POOLED_KEYS)])
    for key in POOLED_KEYS:
        sums[key] = ratio(sums[f"{key}_out"], sums["outstanding"])
    return sums[["unit", "period", *POOLED_KEYS]]


def pooled_ratios(bench_trend: pd.DataFrame, branches, *, month: str) -> dict[str, float]:
    """The NPL and special-mention ratios of ``branches`` pooled at ``month`` from their
    rows of ``bench_risk_trend`` (:func:`pooled_kpis`); NaN without outstanding. How a
    region's or the bank's card reads its last month, its start of the year and, for a
    region, the bank's value."""
    pooled = pooled_kpis(lambda _name: bench_trend, dict.fromkeys(branches, "*"))
    row = pooled[pooled["period"] == month]
    return {k: float(row[k].iloc[0]) if len(row) else math.nan for k in POOLED_KEYS}


def scope_context(
    bench_trend: pd.DataFrame, *, members, branches, period: str
) -> tuple[dict, dict, dict]:
    """A region's or the bank's (``members``) last month, start of the year and the
    bank's value (over ``branches``, every branch) of the NPL and special-mention
    ratios, pooled (:func:`pooled_ratios`): what its cards and summary compare with in
    place of a branch's row and the median branch. The other KPIs are not in the
    benchmark per branch as sums, so they have no value here (NaN: "n/a")."""
    return (
        pooled_ratios(bench_trend, members, month=shift_month(period, -1)),
        pooled_ratios(bench_trend, members, month=year_start_period(period)),
        pooled_ratios(bench_trend, branches, month=period),
    )
