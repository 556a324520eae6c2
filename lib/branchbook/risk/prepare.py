"""Once per period, over the whole bank: the loan book aggregated in SQL, the bank's
scorecard fitted on the loans performing ``performance_months`` ago, and every branch's
inputs and the ``bench_risk_*`` benchmarks.

Branch values and bank medians are measured by the same functions the notebook calls on
one branch's extract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..period import Period, shift_month
from .book import book_ratios
from .compliance import compliance_status
from .exposure import early_warning, industry_shares
from .metrics import kpis
from .scorecard import Scorecard, psi
from .scoring import score_bins, score_book, validation
from .settings import CLOSED, NPL_CLASSES, ScorecardSettings, Settings

_BUCKET_SQL = """CASE WHEN {d} <= 0 THEN 'current' WHEN {d} <= 30 THEN '1-30' WHEN {d} <= 60 THEN '31-60'
    WHEN {d} <= 90 THEN '61-90' ELSE '90+' END"""

_BOOK_SQL = f"""
SELECT l.branch_id, s.month, s.five_class, {_BUCKET_SQL.format(d="s.dpd")} AS dpd_bucket,
       count(*) AS loans, sum(s.outstanding) AS outstanding
FROM loan_snapshots s JOIN loans l USING (loan_id)
WHERE s.month BETWEEN $first AND $last AND s.outstanding > 0
GROUP BY ALL
"""

_ROLLS_SQL = f"""
WITH s AS (SELECT loan_id, month, dpd, outstanding FROM loan_snapshots
           WHERE month BETWEEN $first AND $last AND outstanding > 0)
SELECT l.branch_id,
       strftime(strptime(a.month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH, '%Y-%m') AS month,
       {_BUCKET_SQL.format(d="a.dpd")} AS from_bucket,
       CASE WHEN b.loan_id IS NULL THEN '{CLOSED}' ELSE {_BUCKET_SQL.format(d="b.dpd")} END AS to_bucket,
       count(*) AS loans, sum(a.outstanding) AS outstanding
FROM s a JOIN loans l USING (loan_id)
LEFT JOIN s b ON b.loan_id = a.loan_id
     AND b.month = strftime(strptime(a.month || '-01', '%Y-%m-%d') + INTERVAL 1 MONTH, '%Y-%m')
WHERE a.month < $last
GROUP BY ALL
"""

# One row per loan outstanding at the end of $month, with the scorecard's features then.
_LOANS_SQL = f"""
WITH snap AS (SELECT loan_id, outstanding, dpd, five_class FROM loan_snapshots
              WHERE month = $month AND outstanding > 0),
hist AS (SELECT loan_id, max(dpd) AS max_dpd_6m FROM loan_snapshots
         WHERE month BETWEEN $month6 AND $month GROUP BY loan_id),
bal AS (SELECT customer_id, deposits + wealth AS aum, products_held FROM balances WHERE month = $month),
fin AS (SELECT customer_id,
               CASE WHEN total_assets > 0 THEN total_liabilities / total_assets END AS debt_to_asset,
               CASE WHEN current_liabilities > 0 THEN current_assets / current_liabilities END AS current_ratio
        FROM financials WHERE period_end <= $month_end
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY period_end DESC) = 1)
SELECT l.loan_id, l.customer_id, l.branch_id, l.manager_id, c.name, c.customer_type, l.product,
       l.collateral_type, l.collateral_value, coalesce(l.industry, c.industry) AS industry,
       l.principal, l.interest_rate, snap.outstanding, snap.dpd, snap.five_class,
       {_BUCKET_SQL.format(d="snap.dpd")} AS dpd_bucket, hist.max_dpd_6m,
       CASE WHEN l.collateral_value > 0 THEN snap.outstanding / l.collateral_value END AS ltv,
       date_diff('month', l.originated_on, $month_end) AS loan_age_months,
       date_diff('month', $month_end, l.maturity_on) AS remaining_months,
       date_diff('month', c.opened_on, $month_end) AS tenure_months,
       bal.aum, bal.products_held, fin.debt_to_asset, fin.current_ratio
FROM snap JOIN loans l USING (loan_id) JOIN customers c ON c.customer_id = l.customer_id
LEFT JOIN hist USING (loan_id) LEFT JOIN bal ON bal.customer_id = l.customer_id
LEFT JOIN fin ON fin.customer_id = l.customer_id
ORDER BY l.loan_id
"""

_OUTCOME_SQL = """
SELECT loan_id, max(dpd) AS max_dpd FROM loan_snapshots
WHERE month > $month AND month <= $last GROUP BY loan_id
"""

# Corporate borrowers with a loan outstanding at $month_end: exposure and the latest
# statement against the latest one at least 11 months older (a year earlier).
_BORROWERS_SQL = """
WITH ex AS (SELECT l.customer_id, l.branch_id, count(*) AS loans, sum(s.outstanding) AS exposure,
                   max(s.dpd) AS max_dpd
            FROM loan_snapshots s JOIN loans l USING (loan_id)
            WHERE s.month = $month AND s.outstanding > 0 GROUP BY ALL),
f AS (SELECT * FROM financials WHERE period_end <= $month_end
      AND customer_id IN (SELECT customer_id FROM ex)),
cur AS (SELECT * FROM f QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY period_end DESC) = 1),
pri AS (SELECT f.* FROM f JOIN cur ON cur.customer_id = f.customer_id
        WHERE f.period_end <= cur.period_end - INTERVAL 11 MONTH
        QUALIFY row_number() OVER (PARTITION BY f.customer_id ORDER BY f.period_end DESC) = 1)
SELECT ex.customer_id, ex.branch_id, c.name, c.industry, ex.loans, ex.exposure, ex.max_dpd,
       cur.period_end AS statement_date, cur.revenue, cur.net_profit, cur.total_assets,
       cur.total_liabilities, cur.current_assets, cur.current_liabilities, cur.inventory,
       cur.receivables, cur.operating_cash_flow, pri.period_end AS prior_statement_date,
       pri.revenue AS revenue_prev, pri.inventory AS inventory_prev, pri.receivables AS receivables_prev
FROM ex JOIN customers c ON c.customer_id = ex.customer_id
LEFT JOIN cur ON cur.customer_id = ex.customer_id LEFT JOIN pri ON pri.customer_id = ex.customer_id
WHERE c.customer_type = 'corporate'
ORDER BY ex.customer_id, ex.branch_id
"""

# Every customer open at $month_end with its KYC status and AML alerts then.
_CUSTOMERS_SQL = """
WITH a AS (SELECT customer_id,
                  count(*) FILTER (WHERE status = 'open') AS open_alerts,
                  max(date_diff('day', raised_on, $month_end)) FILTER (WHERE status = 'open') AS oldest_open_days,
                  count(*) FILTER (WHERE status = 'reported' AND raised_on >= $since) AS reported_alerts,
                  count(*) FILTER (WHERE status = 'closed' AND raised_on >= $since) AS closed_alerts
           FROM aml_alerts WHERE raised_on <= $month_end GROUP BY customer_id)
SELECT c.customer_id, c.branch_id, c.customer_type, c.kyc_status,
       coalesce(a.open_alerts, 0) AS open_alerts, a.oldest_open_days,
       coalesce(a.reported_alerts, 0) AS reported_alerts, coalesce(a.closed_alerts, 0) AS closed_alerts
FROM customers c LEFT JOIN a USING (customer_id)
WHERE c.opened_on <= $month_end AND (c.closed_on IS NULL OR c.closed_on > $month_end)
ORDER BY c.customer_id
"""


def _loans(ctx, month: str) -> pd.DataFrame:
    end = Period.parse(month).end
    return ctx.sql(_LOANS_SQL, month=month, month6=shift_month(month, -5), month_end=end)


def _snapshot(ctx, month: str, s: Settings, scorecard: Scorecard | None) -> dict[str, pd.DataFrame]:
    """Scored book, early-warning flags and compliance classes of every branch at ``month``."""
    end = Period.parse(month).end
    since = Period.parse(month).shift(1 - s.compliance.lookback_months).start
    book = score_book(
        _loans(ctx, month), scorecard=scorecard, lgd=s.lgd, default_dpd=s.scorecard.default_dpd
    )
    borrowers = ctx.sql(_BORROWERS_SQL, month=month, month_end=end)
    customers = ctx.sql(_CUSTOMERS_SQL, month_end=end, since=since)
    return {
        "book": book,
        "borrowers": borrowers,
        "customers": customers,
        "flags": early_warning(borrowers, rules=s.early_warning),
        "status": compliance_status(customers, rules=s.compliance),
    }


def _fit(ctx, s: ScorecardSettings) -> tuple[Scorecard | None, pd.DataFrame, dict]:
    """Fit the bank's scorecard on the loans performing ``performance_months`` ago."""
    first = ctx.sql("SELECT min(month) AS m FROM loan_snapshots")["m"].iloc[0]
    dev_month = shift_month(ctx.period, -s.performance_months)
    if first is not None and not pd.isna(first) and first > dev_month:
        dev_month = str(first)
    info = {"development_month": dev_month, "loans": 0, "defaults": 0, "status": "no_history"}
    if first is None or pd.isna(first) or dev_month >= ctx.period:
        empty = _loans(ctx, ctx.period).iloc[0:0].drop(columns="name")
        return None, empty.assign(bad=pd.Series(dtype=int)), info
    dev = _loans(ctx, dev_month)
    dev = dev[(dev["dpd"] <= s.default_dpd) & ~dev["five_class"].isin(NPL_CLASSES)]
    out = ctx.sql(_OUTCOME_SQL, month=dev_month, last=ctx.period)
    dev = dev.merge(out, on="loan_id", how="left")
    dev = dev.assign(bad=(dev["max_dpd"].fillna(0) > s.default_dpd).astype(int)).drop(
        columns=["max_dpd", "name"]
    )
    info.update(loans=len(dev), defaults=int(dev["bad"].sum()), status="too_few_defaults")
    if info["defaults"] < s.min_fit_defaults or info["defaults"] == len(dev):
        return None, dev, info
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
    sc.meta_.update(
        development_month=dev_month, performance_end=ctx.period, default_dpd=s.default_dpd
    )
    info["status"] = "fitted"
    return sc, dev, info


def _by_branch(df: pd.DataFrame, branch: str, groups: dict) -> pd.DataFrame:
    return groups[branch] if branch in groups else df.iloc[0:0]


def _bench_kpis(snap: dict, branches: list[str], month: str) -> pd.DataFrame:
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
        rows.append(
            {
                "branch_id": b,
                "month": month,
                **kpis(book=book, warnings=flags, compliance=status),
            }
        )
    return pd.DataFrame(rows)


def _bench_extra(
    book: pd.DataFrame,
    dev: pd.DataFrame,
    branches: list[str],
    bins: pd.DataFrame | None,
    s: Settings,
) -> pd.DataFrame:
    """Per branch: loans, outstanding, HHI, LTV breach share, PSI and the scorecard's measures,
    computed for all branches at once with the same definitions as the functions above."""
    idx = pd.Index(branches, name="branch_id")
    out = pd.DataFrame(index=idx)
    g = book.groupby("branch_id")
    out["loans"] = g.size().reindex(idx).fillna(0).astype(float)
    out["outstanding"] = g["outstanding"].sum().reindex(idx).fillna(0.0)
    ind = book.dropna(subset=["industry"]).groupby(["branch_id", "industry"])["outstanding"].sum()
    share = ind / ind.groupby(level=0).transform("sum").where(lambda v: v > 0)
    out["hhi"] = (share**2).groupby(level=0).sum(min_count=1).reindex(idx)
    secured = book[pd.to_numeric(book["ltv"]).astype(float).notna()]
    above = (
        secured["outstanding"]
        .where(secured["ltv"] > s.ltv_limit, 0.0)
        .groupby(secured["branch_id"])
        .sum()
    )
    den = secured.groupby("branch_id")["outstanding"].sum()
    out["ltv_breach_share"] = (above / den.where(den > 0)).reindex(idx)
    out["psi"] = np.nan
    if bins is not None:
        scored = book[~book["in_default"] & book["score"].notna()]
        which = np.searchsorted(
            bins["lower"].to_numpy()[1:], scored["score"].to_numpy(dtype=float), side="right"
        )
        counts = pd.crosstab(scored["branch_id"], which).reindex(
            columns=range(len(bins)), fill_value=0
        )
        out.loc[counts.index, "psi"] = [psi(bins["share"], row) for row in counts.to_numpy()]
    val = {
        b: validation(d, min_defaults=s.scorecard.min_defaults)
        for b, d in (dev.groupby("branch_id") if len(dev) else [])
    }
    for k in ("defaults", "auc", "ks", "gini"):
        out[k] = [val[b][k] if b in val else (0.0 if k == "defaults" else np.nan) for b in branches]
    return out.reset_index()


def prepare(ctx) -> dict[str, pd.DataFrame]:
    """Aggregate the bank's loan book, fit the scorecard and compute the benchmarks.

    Returns, cut per branch: ``risk_loans`` (loans outstanding at period end, with the
    scorecard's features), ``risk_outcomes`` (the development sample: performing loans
    at the development month with ``bad``), ``risk_book`` (loans and outstanding per month,
    five-class and DPD bucket), ``risk_rolls`` (loans and last month's outstanding per
    month, from-bucket and to-bucket), ``risk_borrowers`` (corporate borrowers with the
    statements for early warning), ``risk_customers`` (open customers with KYC status and
    AML alert counts). Bank-wide: ``bench_risk_scorecard`` (the fitted scorecard as JSON,
    with ``status``), ``bench_risk_kpis`` (headline KPIs per branch for the period and the
    one before, plus scorecard measures for the period), ``bench_risk_trend`` (NPL and
    special-mention ratios per branch and month), ``bench_risk_rolls`` (the bank's roll
    counts), ``bench_risk_score_bins`` (the bank's score bands) and ``bench_risk_industry``.
    """
    s: Settings = ctx.settings if ctx.settings is not None else Settings()
    sc_s = s.scorecard
    months = ctx.months(s.trend_months + 1)
    branches = ctx.sql("SELECT branch_id FROM branches ORDER BY branch_id")["branch_id"].tolist()
    history = ctx.sql(_BOOK_SQL, first=months[0], last=ctx.period)
    rolls = ctx.sql(_ROLLS_SQL, first=months[0], last=ctx.period)
    scorecard, dev, info = _fit(ctx, sc_s)
    now = _snapshot(ctx, ctx.period, s, scorecard)
    before = _snapshot(ctx, ctx.prev_period, s, scorecard)

    book = now["book"]
    performing = book.loc[~book["in_default"], "score"].dropna()
    bins = score_bins(performing, bins=sc_s.score_bins)
    scored_dev = (
        score_book(dev, scorecard=scorecard, lgd=s.lgd, default_dpd=sc_s.default_dpd)
        if len(dev)
        else dev
    )
    bench = pd.concat(
        [
            _bench_kpis(before, branches, ctx.prev_period),
            _bench_kpis(now, branches, ctx.period),
        ],
        ignore_index=True,
    )
    extra = _bench_extra(book, scored_dev, branches, bins if scorecard is not None else None, s)
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
        "risk_outcomes": dev,
        "risk_book": history,
        "risk_rolls": rolls,
        "risk_borrowers": now["borrowers"],
        "risk_customers": now["customers"],
        "bench_risk_scorecard": sc_frame,
        "bench_risk_kpis": bench,
        "bench_risk_trend": trend,
        "bench_risk_rolls": bank_rolls,
        "bench_risk_score_bins": bins,
        "bench_risk_industry": industry_shares(book),
    }
