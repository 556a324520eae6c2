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
from ..metrics.scopes import scope_value
from ..orgtree import BANK
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


#: The cards that are a ratio of sums kept per branch and month in ``bench_risk_kpis``
#: (:func:`kpi_sums`): each card's numerator and denominator, so a region or the bank
#: adds its branches' sums and divides (:func:`sum_ratios`).
SUMS: dict[str, tuple[str, str]] = {
    "expected_loss_rate": ("el", "ead"),
    "warning_exposure_share": ("warning_exposure", "book_outstanding"),
    "risk_customer_share": ("risk_customers", "open_customers"),
}
#: The columns :func:`kpi_sums` adds to ``bench_risk_kpis``: the sums of :data:`SUMS`
#: and the loans without an expected loss (no scorecard: the rate is not known).
SUM_COLUMNS = ("el", "ead", "loans_without_el", "warning_exposure", "book_outstanding",
               "risk_customers", "open_customers")  # fmt: skip


def kpi_sums(
    *, book: pd.DataFrame, warnings: pd.DataFrame, compliance: pd.DataFrame
) -> dict[str, float]:
    """The numerators and denominators of the cards of :data:`SUMS` for one branch (or
    any set of loans), as :func:`kpis` takes them: ``el`` and ``ead`` summed over the
    loans (``loans_without_el`` counts the loans with no expected loss, which leave the
    rate unknown), the flagged borrowers' exposure and the book's outstanding, the
    customers classed ``risk`` and the open customers. Prepare keeps them per branch and
    month so a region's or the bank's last month, start of the year and bank value are
    its pooled sums divided (:func:`sum_ratios`), not an average of branch ratios."""
    return {
        "el": float(book["el"].sum()),
        "ead": float(book["ead"].sum()),
        "loans_without_el": float(book["el"].isna().sum()),
        "warning_exposure": float(warnings.loc[warnings["n_rules"] > 0, "exposure"].sum()),
        "book_outstanding": float(book["outstanding"].sum()),
        "risk_customers": float((compliance["status"] == "risk").sum()),
        "open_customers": float(len(compliance)),
    }


def sum_ratios(sums: pd.DataFrame) -> pd.DataFrame:
    """The cards of :data:`SUMS` from a frame of :func:`kpi_sums` columns (one branch's,
    or several added): numerator over denominator, NaN without a denominator, and the
    expected loss rate NaN while any loan has no expected loss, as :func:`kpis` has
    them. A new frame with one column per card, on ``sums``' index."""
    out = pd.DataFrame(index=sums.index)
    for key, (num, den) in SUMS.items():
        out[key] = ratio(sums[num], sums[den]).to_numpy()
    out["expected_loss_rate"] = out["expected_loss_rate"].where(sums["loans_without_el"] == 0)
    return out


#: The cards a region or the bank pools from its branches' rows (:func:`pooled_kpis`):
#: the NPL and special-mention ratios from ``bench_risk_trend`` (each with its
#: outstanding), the others of :data:`SUMS` from ``bench_risk_kpis``.
TREND_KEYS = ("npl_ratio", "special_mention_ratio")
POOLED_KEYS = (*TREND_KEYS, *SUMS)
#: The card that is not a ratio of sums: measured on each scope's pooled loans in
#: prepare (``bench_risk_scopes``, :func:`scope_kpis`).
SCOPE_KEYS = ("top10_share",)


def scope_kpis(book: pd.DataFrame) -> dict[str, float]:
    """The cards of :data:`SCOPE_KEYS` of a scope's pooled ``book`` (:func:`top10_share`:
    a borrower with loans at two of its branches counts once, with both)."""
    return {"top10_share": top10_share(book)}


def pooled_kpis(bench, units: Mapping[str, str], settings=None) -> pd.DataFrame:
    """The cards of each unit of ``units`` (branch -> unit: a region, the bank) per
    month that its branches' rows pool (``bench``: name -> frame, as :func:`unit_kpis`):
    the NPL and special-mention ratios from ``bench_risk_trend``, each ratio times its
    branch's outstanding (the NPL, or special-mention, outstanding) summed over the
    summed outstanding; the cards of :data:`SUMS` from the sums ``bench_risk_kpis``
    keeps (:func:`sum_ratios`, the months prepare measured: the period, the one before
    and last December). NaN without a denominator, never an average of the branches'
    ratios. Columns ``unit, period`` and :data:`POOLED_KEYS`; a unit without rows has
    none."""
    rows = bench("bench_risk_trend").rename(columns={"month": "period"})
    out_ = rows["outstanding"].astype("float64")
    rows = rows.assign(**{f"{k}_out": rows[k].astype("float64") * out_ for k in TREND_KEYS})
    sums = league.pool(rows, units, sums=["outstanding", *(f"{k}_out" for k in TREND_KEYS)])
    for key in TREND_KEYS:
        sums[key] = ratio(sums[f"{key}_out"], sums["outstanding"])
    kept = league.pool(bench("bench_risk_kpis").rename(columns={"month": "period"}), units,
                       sums=list(SUM_COLUMNS))  # fmt: skip
    kept = pd.concat([kept[["unit", "period"]], sum_ratios(kept)], axis=1)
    out = sums[["unit", "period", *TREND_KEYS]].merge(kept, on=["unit", "period"], how="outer")
    return out[["unit", "period", *POOLED_KEYS]]


def scope_context(bench, *, scope: str, members, branches, period: str) -> tuple[dict, dict, dict]:
    """A region's or the bank's (``scope``, made of the branches ``members``) last
    month and start of the year, and the bank's value (``branches``: every branch) this
    month: what its cards and summary compare with in place of a branch's row and the
    median branch. The cards of :data:`POOLED_KEYS` pool the branches' rows
    (:func:`pooled_kpis`); the top-10 borrower share is prepare's measure on the
    scope's pooled loans (``bench_risk_scopes``). ``bench``: name -> frame. A month
    prepare has no rows for (the warehouse starts later) is NaN: "n/a"."""
    own = pooled_kpis(bench, dict.fromkeys(members, scope))
    whole = pooled_kpis(bench, dict.fromkeys(branches, BANK))
    measured = bench("bench_risk_scopes")

    def at(frame: pd.DataFrame, unit: str, month: str) -> dict[str, float]:
        row = frame[frame["period"] == month]
        pooled = {k: float(row[k].iloc[0]) if len(row) else math.nan for k in POOLED_KEYS}
        concentration = scope_value(measured, scope=unit, period=month)
        return {**pooled, **{k: concentration.get(k, math.nan) for k in SCOPE_KEYS}}

    return (
        at(own, scope, shift_month(period, -1)),
        at(own, scope, year_start_period(period)),
        at(whole, BANK, period),
    )
