"""The staff KPI report's headline metrics, each declared once (key, kind, good
direction, the function that computes it), and the branch- and bank-level tables and
KPI cards read from those declarations.

Every headline metric is a ratio of sums over the branch's manager rows, so a branch,
a region or the bank is measured the same way (pool the sums, then divide). None of
them is the same number as another report's metric of a similar name: they cover only
what the branch's managers manage, hence the ``managed_`` keys (the risk report's
``npl_ratio`` is over all the branch's loans, the satisfaction report's ``churn_rate``
is monthly and ``csat_mean`` is over all the branch's responses).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from ..metrics import Metric, declare, league, ratio
from ..metrics.cards import bank_median, card_frame, year_start_period
from ..params import Rag
from .settings import RATINGS, REPORT
from .views import _month


def composite_mean(sums: pd.DataFrame) -> pd.Series:
    """Mean composite score (0-100) of the rated managers; NaN when nobody is rated."""
    return ratio(sums["comp_sum"], sums["comp_n"])


def targets_met_share(sums: pd.DataFrame) -> pd.Series:
    """Of the managers' targets with a valid year-to-date attainment, the share met (year
    to date at or above 100% of the targets of the year to date); NaN without one."""
    return ratio(sums["met_n"], sums["valid_n"])


def managed_aum_growth(sums: pd.DataFrame) -> pd.Series:
    """AUM of the managers' customers at month end minus at the previous month end, over
    the latter (a share); NaN when there was no AUM."""
    return ratio(sums["aum"] - sums["aum_prev"], sums["aum_prev"])


def managed_npl_ratio(sums: pd.DataFrame) -> pd.Series:
    """NPL outstanding (substandard, doubtful, loss) of the loans the managers handle over
    the outstanding of those loans, at month end; NaN without loans. Loans without a
    manager are outside it: not the risk report's ``npl_ratio`` of all the branch's loans."""
    return ratio(sums["npl"], sums["book"])


def managed_csat(sums: pd.DataFrame) -> pd.Series:
    """Mean CSAT (0-100, on the bank's one ``csat_scale``, as the satisfaction report's
    ``csat_mean``) of the survey responses attributed to the managers over the service
    window; NaN without responses."""
    return ratio(sums["csat_points"], sums["n_surveys"])


def managed_closure_rate(sums: pd.DataFrame) -> pd.Series:
    """Of the managers' customers open at the start of the churn window
    (``churn_window_months`` ending at the month), the share that closed their
    relationship (``customers.closed_on``) by month end; NaN when none was open. Closures
    only, over the window: not the satisfaction report's monthly ``churn_rate``, which
    also counts a customer whose AUM was drained."""
    return ratio(sums["churned"], sums["churn_base"])


#: The report's KPI cards, in display order; the first is the index's headline.
CARDS: tuple[Metric, ...] = declare(
    Metric("composite_mean", REPORT, "num", "high", composite_mean, headline=True),
    Metric("targets_met_share", REPORT, "pct", "high", targets_met_share),
    Metric("managed_aum_growth", REPORT, "pct", "high", managed_aum_growth, on_basis=True),
    Metric("managed_npl_ratio", REPORT, "pct", "low", managed_npl_ratio),
    Metric("managed_csat", REPORT, "num", "high", managed_csat),
    Metric("managed_closure_rate", REPORT, "pct", "low", managed_closure_rate),
)
CARD_KEYS: tuple[str, ...] = tuple(m.key for m in CARDS)


def _sums(scorecard: pd.DataFrame, attainment: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """The sums every card is computed from, per group of ``by``. Sums run over every
    manager row (rated or not), so customers without a manager are outside the report."""
    s = scorecard.assign(
        rated_n=scorecard["rated"].astype(bool).astype("int64"),
        comp=scorecard["composite"].astype("float64").where(scorecard["rated"].astype(bool)),
    )
    sums = s.groupby(by).agg(
        n_managers=("staff_id", "size"),
        n_rated=("rated_n", "sum"),
        comp_sum=("comp", "sum"),
        comp_n=("comp", "count"),
        aum=("aum", "sum"),
        aum_prev=("aum_prev", "sum"),
        npl=("npl_outstanding", "sum"),
        book=("book_outstanding", "sum"),
        csat_points=("csat_points", "sum"),
        n_surveys=("n_surveys", "sum"),
        churned=("churned", "sum"),
        churn_base=("churn_base", "sum"),
    )
    valid = attainment.dropna(subset=["ytd_attainment"])
    met = valid.assign(met_n=valid["met"].astype("boolean").fillna(False).astype("int64"))
    met = met.groupby(by).agg(met_n=("met_n", "sum"), valid_n=("met_n", "size"))
    return sums.join(met, how="left")


#: The sums of :func:`_sums` the cards are computed from, kept per branch and month in
#: ``bench_branch_kpis`` so a region or the bank adds them up and computes every card
#: from its own sums (:func:`pooled_kpis`), never from its branches' ratios.
SUM_COLUMNS = ("comp_sum", "comp_n", "aum", "aum_prev", "npl", "book", "csat_points",
               "n_surveys", "churned", "churn_base", "met_n", "valid_n")  # fmt: skip


def _cards(sums: pd.DataFrame) -> pd.DataFrame:
    """``n_managers``, ``n_rated`` and every card of :data:`CARDS` (its declaration's
    ``compute``) from a frame of sums, on its index."""
    return pd.DataFrame(
        {
            "n_managers": sums["n_managers"].astype("int64"),
            "n_rated": sums["n_rated"].astype("int64"),
            **{m.key: m.compute(sums) for m in CARDS},
        },
        index=sums.index,
    )


def headline_table(
    scorecard: pd.DataFrame, attainment: pd.DataFrame, *, by: Sequence[str] = ("branch_id", "month")
) -> pd.DataFrame:
    """The card metrics (:data:`CARDS`) per group of ``by``, with ``n_managers`` and
    ``n_rated``; each metric is its declaration's ``compute`` over the group's sums.
    NaN when there is nothing to measure (no rated manager, no valid target, no AUM ...).
    """
    return _cards(_sums(scorecard, attainment, list(by))).reset_index()


def bench_branches(scored: pd.DataFrame, att: pd.DataFrame) -> pd.DataFrame:
    """One row per branch and month: ``n_managers``, ``n_rated``, the headline KPIs and
    the sums they are computed from (:data:`SUM_COLUMNS`; no valid target: 0 targets,
    0 met), which a region or the bank adds up (:func:`pooled_kpis`)."""
    sums = _sums(scored, att, ["branch_id", "month"])
    kept = sums[list(SUM_COLUMNS)].fillna({"met_n": 0, "valid_n": 0}).astype("float64")
    return _cards(sums).join(kept).reset_index()


def bench_grades(scored: pd.DataFrame) -> pd.DataFrame:
    """One row per month and grade over rated managers: count, composite quartiles, band counts."""
    r = scored[scored["rated"].astype(bool)]
    cols = [
        "month",
        "grade",
        "n_rated",
        "composite_p25",
        "composite_median",
        "composite_p75",
        *[f"n_{b}" for b in RATINGS],
    ]
    if r.empty:
        return pd.DataFrame(columns=cols)
    g = r.groupby(["month", "grade"], sort=True)
    out = g["composite"].agg(
        n_rated="count",
        composite_p25=lambda s: s.quantile(0.25),
        composite_median="median",
        composite_p75=lambda s: s.quantile(0.75),
    )
    bands = pd.crosstab([r["month"], r["grade"]], r["rating"]).reindex(
        columns=list(RATINGS), fill_value=0
    )
    bands.columns = [f"n_{b}" for b in RATINGS]
    return out.join(bands).fillna({c: 0 for c in bands.columns}).reset_index()[cols]


def kpis(scorecard: pd.DataFrame, attainment: pd.DataFrame, *, month: str) -> dict[str, float]:
    """The branch's card metrics for ``month`` (same code as ``bench_branch_kpis``; see
    :func:`headline_table`). All NaN when the branch has no manager that month."""
    t = headline_table(_month(scorecard, month), _month(attainment, month), by=("month",))
    if t.empty:
        return dict.fromkeys(CARD_KEYS, float("nan"))
    return {k: float(t[k].iloc[0]) for k in CARD_KEYS}


def bank_medians(bench: pd.DataFrame, *, month: str) -> dict[str, float]:
    """Median over branches of each card metric in ``month`` (NaN if no branch has it)."""
    return {k: bank_median(bench, k, month, period_col="month") for k in CARD_KEYS}


def kpi_cards(
    scorecard: pd.DataFrame,
    attainment: pd.DataFrame,
    bench: pd.DataFrame,
    *,
    branch_id: str,
    period: str,
    prev_period: str,
    status: Mapping[str, Rag],
) -> pd.DataFrame:
    """One row per card (:data:`CARDS`), as :func:`branchbook.metrics.cards.card_frame`
    builds it: ``kpi, value, previous, change, change_rel, bank_median, rank, branches,
    status, year_start, change_ytd``. ``change`` = value - previous (in the metric's
    unit; share points for shares); ``year_start`` is the value at the end of last
    December (NaN when the scorecard does not reach back to it); ``status`` is
    green/amber/red against ``status``, None when missing.
    """
    return card_frame(
        CARDS,
        kpis(scorecard, attainment, month=period),
        kpis(scorecard, attainment, month=prev_period),
        year_start=kpis(scorecard, attainment, month=year_start_period(period)),
        bench=bench,
        unit_id=branch_id,
        period=period,
        rag=status,
        period_col="month",
    )


def unit_kpis(bench, settings=None) -> pd.DataFrame:
    """Every declared KPI per branch and period from prepare's benchmark (``branch_id``,
    ``period``, one column per key): what the index and head-office views read."""
    frame = bench("bench_branch_kpis").rename(columns={"month": "period"})
    return frame[["branch_id", "period", *CARD_KEYS]]


def league_values(units: Mapping[str, str], *, bench: pd.DataFrame) -> pd.DataFrame:
    """Mean composite score per unit and month for the league tables
    (:mod:`branchbook.metrics.league`): the composite points of its branches' rated
    managers over their number (``bench_branch_kpis``: ``composite_mean x n_rated``
    pooled, over pooled ``n_rated``), so a region is the mean over its managers, not
    over its branches. A mean score: no funnel. Columns ``unit, period, value``."""
    rows = bench.rename(columns={"month": "period"})
    rows = rows.assign(points=rows["composite_mean"].fillna(0.0) * rows["n_rated"])
    sums = league.pool(rows, units, sums=["points", "n_rated"])
    sums["value"] = ratio(sums["points"], sums["n_rated"])
    return sums[["unit", "period", "value"]]


def pooled_kpis(bench, units: Mapping[str, str], settings=None) -> pd.DataFrame:
    """Every card of each unit of ``units`` (branch -> unit: a region, the bank) per
    month: its branches' sums in ``bench_branch_kpis`` (:data:`SUM_COLUMNS`; ``bench``:
    name -> frame, as :func:`unit_kpis`) added, then each card's declaration computed
    on them as on a branch's, so the mean composite is over the unit's rated managers
    and the managed NPL ratio its NPL outstanding over its book, never a mean of its
    branches' values. Columns ``unit, period`` and :data:`CARD_KEYS`."""
    rows = bench("bench_branch_kpis").rename(columns={"month": "period"})
    sums = league.pool(rows, units, sums=list(SUM_COLUMNS))
    cards = pd.DataFrame({m.key: m.compute(sums) for m in CARDS}, index=sums.index)
    return pd.concat([sums[["unit", "period"]], cards], axis=1)


def bank_values(bench: pd.DataFrame, *, period: str) -> dict[str, float]:
    """The bank's own value of every card at ``period``: every branch's sums of
    ``bench_branch_kpis`` pooled (:func:`pooled_kpis`). What a region's cards set
    beside its own values; NaN where the bank has nothing to measure."""
    whole = pooled_kpis(lambda _name: bench, dict.fromkeys(bench["branch_id"].unique(), "*"))
    row = whole[whole["period"] == period]
    return {k: float(row[k].iloc[0]) if len(row) else math.nan for k in CARD_KEYS}
