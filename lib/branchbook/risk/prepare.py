"""Once per period, over the whole bank: the loan book aggregated in SQL, the bank's
scorecard fitted on the loans performing ``performance_months`` ago, and every branch's
inputs and the ``bench_risk_*`` benchmarks.

Branch values and bank medians are measured by the same functions the notebook calls on
one branch's extract.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..metrics.cards import year_start_period
from ..metrics.history import History
from ..metrics.history import history as dated_history
from ..metrics.scopes import by_scope
from ..period import Period, shift_month
from . import queries as q
from .book import book_ratios
from .bridges import prepare_bridge
from .compliance import compliance_status
from .exposure import early_warning, industry_shares, loan_ltv_limit
from .metrics import kpi_sums, kpis, scope_kpis
from .scorecard import Scorecard, psi
from .scoring import score_bins, score_book
from .settings import NPL_CLASSES, ScorecardSettings, Settings
from .stress import loss_summary, scope_losses
from .validation import (
    CALIBRATION_COLUMNS,
    calibration,
    calibration_shift,
    corrected_pd,
    stability,
    validation,
)


def _loans(ctx, month: str) -> pd.DataFrame:
    end = Period.parse(month).end
    sql = q.loans_sql(dated_history(ctx))
    return ctx.sql(sql, month=month, month6=shift_month(month, -5), month_end=end)


def _snapshot(
    ctx, month: str, s: Settings, scorecard: Scorecard | None, h: History
) -> dict[str, pd.DataFrame]:
    """Scored book, early-warning flags and compliance classes of every branch at ``month``
    (KYC status and AML alerts as they were then, where the warehouse dates them)."""
    end = Period.parse(month).end
    since = Period.parse(month).shift(1 - s.compliance.lookback_months).start
    book = score_book(
        _loans(ctx, month),
        scorecard=scorecard,
        lgd=s.lgd,
        default_dpd=s.scorecard.default_dpd,
        ccf=s.ccf,
    )
    borrowers = ctx.sql(q.BORROWERS_SQL, month=month, month_end=end)
    customers = ctx.sql(q.customers_sql(h), month_end=end, since=since)
    return {
        "book": book,
        "borrowers": borrowers,
        "customers": customers,
        "flags": early_warning(borrowers, rules=s.early_warning),
        "status": compliance_status(customers, rules=s.compliance),
    }


def _sample(ctx, month: str, last: str, s: ScorecardSettings) -> pd.DataFrame:
    """The loans performing at ``month`` (not in default) with ``bad``: more than
    ``default_dpd`` days past due at some month after ``month`` up to ``last``."""
    d = _loans(ctx, month)
    d = d[(d["dpd"] <= s.default_dpd) & ~d["five_class"].isin(NPL_CLASSES)]
    d = d.merge(ctx.sql(q.OUTCOME_SQL, month=month, last=last), on="loan_id", how="left")
    bad = (d["max_dpd"].fillna(0) > s.default_dpd).astype(int)
    return d.assign(bad=bad).drop(columns=["max_dpd", "name"])


def _fit(ctx, s: ScorecardSettings) -> tuple[Scorecard | None, pd.DataFrame, pd.DataFrame, dict]:
    """Fit the bank's scorecard on a development window and keep an out-of-time sample.

    Validation month: ``performance_months`` before the period; its performing loans,
    followed up to the period, are the validation sample. Development month:
    ``performance_months`` before that (or the first month with data, if it leaves at
    least ``min_development_months`` of outcomes); its performing loans, followed up to
    the validation month, are the development sample the scorecard is fitted on. The PD
    correction (``calibration_shift``) is measured on the validation sample.
    """
    first = ctx.sql("SELECT min(month) AS m FROM loan_month")["m"].iloc[0]
    val_month = shift_month(ctx.period, -s.performance_months)
    dev_month = shift_month(val_month, -s.performance_months)
    known = first is not None and not pd.isna(first)
    if known and str(first) > dev_month:
        dev_month = str(first)
    info = {
        "development_month": dev_month,
        "validation_month": val_month,
        "loans": 0,
        "defaults": 0,
        "status": "no_history",
    }
    if not known or Period.parse(val_month).months_since(dev_month) < s.min_development_months:
        empty = _loans(ctx, ctx.period).iloc[0:0].drop(columns="name")
        empty = empty.assign(bad=pd.Series(dtype=int))
        return None, empty, empty, info
    dev = _sample(ctx, dev_month, val_month, s)
    oot = _sample(ctx, val_month, ctx.period, s)
    info.update(loans=len(dev), defaults=int(dev["bad"].sum()), status="too_few_defaults")
    if info["defaults"] < s.min_fit_defaults or info["defaults"] == len(dev):
        return None, dev, oot, info
    sc = Scorecard(
        max_bins=s.max_bins,
        min_bin_share=s.min_bin_share,
        min_bin_events=s.min_bin_events,
        merge_p=s.merge_p,
        trends=s.trends,
        rare_level_share=s.rare_level_share,
        min_iv=s.min_iv,
        max_correlation=s.max_correlation,
        base_score=s.base_score,
        base_odds=s.base_odds,
        pdo=s.pdo,
    )
    sc.fit(dev[s.features], dev["bad"])
    raw = sc.predict_proba(oot)[:, 1] if len(oot) else np.array([])
    checked = validation(oot.assign(pd_model=raw), min_defaults=s.min_defaults)
    shift = calibration_shift(oot["bad"], raw) if checked["sufficient"] else 0.0
    sc.meta_.update(
        development_month=dev_month,
        validation_month=val_month,
        performance_end=ctx.period,
        default_dpd=s.default_dpd,
        calibration_shift=shift if math.isfinite(shift) else 0.0,
    )
    info["status"] = "fitted"
    return sc, dev, oot, info


def _model_checks(
    sc: Scorecard | None, dev: pd.DataFrame, oot: pd.DataFrame, book: pd.DataFrame, s: Settings
) -> dict[str, pd.DataFrame]:
    """The bank-wide validation figures (see :mod:`.validation`): ``bench_risk_validation``
    (one row), ``bench_risk_calibration`` (per score band of the validation sample),
    ``bench_risk_stability`` (PSI of the score and CSI per characteristic, current book
    against the development sample) and ``bench_risk_dev_bins`` (the development
    sample's score bands)."""
    sc_s = s.scorecard
    if sc is None:
        val = validation(oot.assign(pd_model=np.nan), min_defaults=sc_s.min_defaults)
        return {
            "bench_risk_validation": pd.DataFrame([val]),
            "bench_risk_calibration": pd.DataFrame(columns=CALIBRATION_COLUMNS),
            "bench_risk_stability": pd.DataFrame({"feature": [], "psi": []}),
            "bench_risk_dev_bins": score_bins([], bins=sc_s.score_bins),
        }
    raw = oot.assign(
        pd_model=sc.predict_proba(oot)[:, 1] if len(oot) else np.nan,
        score=sc.score(oot) if len(oot) else np.nan,
    )
    val = validation(raw, min_defaults=sc_s.min_defaults)
    shift = sc.meta_.get("calibration_shift", 0.0)
    val.update(
        calibration_shift=shift,
        corrected_rate=float(corrected_pd(raw["pd_model"], shift).mean()) if len(raw) else np.nan,
        development_loans=float(len(dev)),
        development_defaults=float(dev["bad"].sum()),
    )
    bands = score_bins(raw["score"], bins=sc_s.calibration_bands)
    ends = bands[["lower", "upper"]].astype(float)
    calib = (
        bands[["bin"]]
        .assign(lower=ends["lower"].where(np.isfinite(ends["lower"])))
        .assign(upper=ends["upper"].where(np.isfinite(ends["upper"])))
        .merge(calibration(raw, bins=bands, shift=shift), on="bin")
    )
    dev_bins = score_bins(sc.score(dev), bins=sc_s.score_bins)
    current = book[~book["in_default"]]
    return {
        "bench_risk_validation": pd.DataFrame([val]),
        "bench_risk_calibration": calib,
        "bench_risk_stability": stability(sc, development=dev, current=current, bins=dev_bins),
        "bench_risk_dev_bins": dev_bins,
    }


def _by_branch(df: pd.DataFrame, branch: str, groups: dict) -> pd.DataFrame:
    return groups[branch] if branch in groups else df.iloc[0:0]


def _bench_kpis(snap: dict, branches: list[str], month: str) -> pd.DataFrame:
    """One row per branch at ``month``: the KPIs of :func:`.metrics.kpis` and the sums
    of the cards that are ratios (:func:`.metrics.kpi_sums`), so a region or the bank
    pools them."""
    cols = {
        "book": ["branch_id", "loan_id", "customer_id", "outstanding", "five_class", "ead", "el"],
        "flags": ["branch_id", "exposure", "n_rules"],
        "status": ["branch_id", "status"],
    }
    slim = {k: snap[k][c] for k, c in cols.items()}
    parts = {k: dict(tuple(v.groupby("branch_id"))) for k, v in slim.items()}
    rows = []
    for b in branches:
        book, flags, status = (_by_branch(slim[k], b, parts[k]) for k in cols)
        given = {"book": book, "warnings": flags, "compliance": status}
        rows.append({"branch_id": b, "month": month, **kpis(**given), **kpi_sums(**given)})
    return pd.DataFrame(rows)


def _scope_kpis(snap: dict, regions: pd.DataFrame, month: str) -> pd.DataFrame:
    """The bank's and each region's top-10 borrower share at ``month``, on their pooled
    loans (:func:`branchbook.metrics.scopes.by_scope`): not a ratio of the branches'
    sums, so measured here, where the whole book of the month is at hand."""
    region = dict(zip(regions["branch_id"], regions["region"], strict=True))
    loans = snap["book"][["branch_id", "customer_id", "outstanding"]]  # all the measure reads
    return by_scope(loans, region, scope_kpis, period=month)


def _bench_extra(
    book: pd.DataFrame,
    outcomes: pd.DataFrame,
    branches: list[str],
    bins: pd.DataFrame | None,
    dev_bins: pd.DataFrame | None,
    s: Settings,
) -> pd.DataFrame:
    """Per branch: loans, outstanding, HHI, LTV breach share, ``mix_psi`` (its performing
    loans' score mix against the bank's), ``drift_psi`` (against the development sample)
    and the scorecard's measures on its validation-sample ``outcomes``, computed for all
    branches at once with the same definitions as the functions the notebook calls."""
    idx = pd.Index(branches, name="branch_id")
    out = pd.DataFrame(index=idx)
    g = book.groupby("branch_id")
    out["loans"] = g.size().reindex(idx).fillna(0).astype(float)
    out["outstanding"] = g["outstanding"].sum().reindex(idx).fillna(0.0)
    ind = book.dropna(subset=["industry"]).groupby(["branch_id", "industry"])["outstanding"].sum()
    share = ind / ind.groupby(level=0).transform("sum").where(lambda v: v > 0)
    out["hhi"] = (share**2).groupby(level=0).sum(min_count=1).reindex(idx)
    secured = book[pd.to_numeric(book["ltv"]).astype(float).notna()]
    cap = loan_ltv_limit(secured, limit=s.ltv_limit, limits=s.ltv_limits)
    above = (
        secured["outstanding"].where(secured["ltv"] > cap, 0.0).groupby(secured["branch_id"]).sum()
    )
    den = secured.groupby("branch_id")["outstanding"].sum()
    out["ltv_breach_share"] = (above / den.where(den > 0)).reindex(idx)
    scored = book[~book["in_default"] & book["score"].notna()]
    for col, b in (("mix_psi", bins), ("drift_psi", dev_bins)):
        out[col] = np.nan
        if b is None:
            continue
        which = np.searchsorted(
            b["lower"].to_numpy()[1:], scored["score"].to_numpy(dtype=float), side="right"
        )
        counts = pd.crosstab(scored["branch_id"], which).reindex(
            columns=range(len(b)), fill_value=0
        )
        out.loc[counts.index, col] = [psi(b["loans"], row) for row in counts.to_numpy()]
    val = {
        b: validation(d, min_defaults=s.scorecard.min_defaults)
        for b, d in (outcomes.groupby("branch_id") if len(outcomes) else [])
    }
    for k in ("defaults", "auc", "ks", "gini"):
        out[k] = [val[b][k] if b in val else (0.0 if k == "defaults" else np.nan) for b in branches]
    return out.reset_index()


def _losses(book: pd.DataFrame, s: Settings) -> pd.DataFrame:
    """Every branch's simulated loss distribution (:func:`.stress.loss_summary`, the
    bank's parameters), one Monte Carlo per branch: too heavy for each report's run."""
    parts = [
        loss_summary(g, settings=s.stress).assign(branch_id=b)
        for b, g in book.groupby("branch_id", sort=True)
    ]
    if parts:
        return pd.concat(parts, ignore_index=True)
    return loss_summary(book.iloc[0:0], settings=s.stress).iloc[0:0].assign(branch_id="")


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Aggregate the bank's loan book, fit the scorecard and compute the benchmarks.

    Returns, cut per branch: ``risk_loans`` (loans outstanding at period end, with the
    scorecard's features), ``risk_outcomes`` (the validation sample: loans performing
    ``performance_months`` before the period, with ``bad`` over the months since), ``risk_book`` (loans and outstanding per month,
    five-class and DPD bucket), ``risk_rolls`` (loans and last month's outstanding per
    month, from-bucket and to-bucket: a DPD bucket, or how the loan left the book),
    ``risk_borrowers`` (corporate borrowers with the
    statements for early warning), ``risk_customers`` (open customers with KYC status and
    AML alert counts as of the period end). Bank-wide: ``bench_risk_scorecard`` (the fitted scorecard as JSON,
    with ``status``), ``bench_risk_kpis`` (headline KPIs per branch for the period, the
    one before and last December, with the sums of the cards that are ratios,
    :func:`.metrics.kpi_sums`, plus scorecard measures for the period),
    ``bench_risk_scopes`` (the top-10 borrower share of the bank and of each region, on
    their pooled loans, for the same months: :func:`_scope_kpis`), ``bench_risk_trend`` (NPL and
    special-mention ratios per branch and month), ``bench_risk_rolls`` (the bank's roll
    counts), ``bench_risk_score_bins`` (the bank's score bands), ``bench_risk_industry``
    ``risk_bridge`` (the loans behind the bridges against last month and the end of last
    year, :func:`.bridges.prepare_bridge`),
    ``risk_loss`` (each branch's simulated loss distribution, :func:`_losses`),
    ``bench_risk_loss`` (the bank's and each region's, on their pooled loans,
    :func:`.stress.scope_losses`),
    ``bench_risk_history`` (which figures use dated history, :class:`branchbook.metrics.history.History`)
    and the out-of-time figures of :func:`_model_checks` (``bench_risk_validation``,
    ``bench_risk_calibration``, ``bench_risk_stability``, ``bench_risk_dev_bins``).
    """
    s: Settings = ctx.settings if ctx.settings is not None else Settings()
    sc_s = s.scorecard
    months = ctx.months(s.trend_months + 1)
    regions = ctx.sql("SELECT branch_id, region FROM branches ORDER BY branch_id")
    branches = regions["branch_id"].tolist()
    history = ctx.sql(q.BOOK_SQL, first=months[0], last=ctx.period)
    dated = dated_history(ctx)
    rolls = ctx.sql(q.rolls_sql(dated), first=months[0], last=ctx.period)
    scorecard, dev, oot, info = _fit(ctx, sc_s)
    now = _snapshot(ctx, ctx.period, s, scorecard, dated)
    before = _snapshot(ctx, ctx.prev_period, s, scorecard, dated)

    book = now["book"]
    performing = book.loc[~book["in_default"], "score"].dropna()
    bins = score_bins(performing, bins=sc_s.score_bins)
    scored_oot = oot.assign(
        pd_model=scorecard.predict_proba(oot)[:, 1]
        if scorecard is not None and len(oot)
        else np.nan
    )
    # the start of the year (比年初): last December's KPIs, unless that is last month or
    # the warehouse starts later (the cards then say "n/a", never 0)
    year = year_start_period(ctx.period)
    known = ctx.sql("SELECT count(*) AS n FROM loan_month WHERE month = $m", m=year)
    snaps = {ctx.prev_period: before, ctx.period: now}
    if year != ctx.prev_period and int(known["n"].iloc[0]) > 0:
        snaps = {year: _snapshot(ctx, year, s, scorecard, dated), **snaps}
    bench = pd.concat([_bench_kpis(v, branches, m) for m, v in snaps.items()], ignore_index=True)
    at_scopes = pd.concat([_scope_kpis(v, regions, m) for m, v in snaps.items()], ignore_index=True)
    del snaps  # last December's book is needed no further
    checks = _model_checks(scorecard, dev, oot, book, s)
    fitted = scorecard is not None
    extra = _bench_extra(
        book,
        scored_oot,
        branches,
        bins if fitted else None,
        checks["bench_risk_dev_bins"] if fitted else None,
        s,
    )
    bench = bench.merge(extra.assign(month=ctx.period), on=["branch_id", "month"], how="left")

    sc_frame = (
        scorecard.to_frame()
        if scorecard is not None
        else pd.DataFrame({"scorecard": [None]}, dtype="string")
    )
    sc_frame = sc_frame.assign(**{k: [v] for k, v in info.items()})
    trend = book_ratios(history)[
        ["branch_id", "month", "loans", "outstanding", "npl_ratio", "special_mention_ratio"]
    ]
    bank_rolls = rolls.groupby(["month", "from_bucket", "to_bucket"], as_index=False)[
        ["loans", "outstanding"]
    ].sum()
    return {
        "risk_loans": book.drop(
            columns=["in_default", "score", "pd_model", "pd", "lgd", "ead", "el"]
        ),
        "risk_outcomes": oot,
        "risk_book": history,
        "risk_rolls": rolls,
        "risk_borrowers": now["borrowers"],
        "risk_customers": now["customers"],
        "risk_bridge": prepare_bridge(ctx, dated),
        "risk_loss": _losses(book, s),
        "bench_risk_loss": scope_losses(book, regions=regions, settings=s.stress),
        "bench_risk_scorecard": sc_frame,
        "bench_risk_kpis": bench,
        "bench_risk_scopes": at_scopes,
        "bench_risk_trend": trend,
        "bench_risk_rolls": bank_rolls,
        "bench_risk_score_bins": bins,
        "bench_risk_industry": industry_shares(book),
        "bench_risk_history": dated.frame(),
        **checks,
    }
