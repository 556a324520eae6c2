"""Risk assessment (客户风险管理): the loan book, the scorecard, early warning,
collateral, concentration, compliance and the risk matrix of one branch.

:func:`prepare` runs once per period over the whole bank: it aggregates the loan
book in SQL, fits the :class:`~branchbook.scorecard.Scorecard` bank-wide on the loan
book (a loan is bad when it goes more than ``default_dpd`` days past due within
``performance_months`` of the development snapshot) and returns the per-branch inputs
and the ``bench_risk_*`` benchmarks. Everything else is a pure function over those
frames, called by the notebook on one branch's extract and by :func:`prepare` on every
branch, so branch values and bank medians are measured the same way.

A report on one branch (``x``: its extract, ``bench``: the benchmarks, ``s``: its
settings) calls, in order::

    sc = load_scorecard(bench["bench_risk_scorecard"])          # None: say so, skip scores
    book = score_book(x["risk_loans"], scorecard=sc, lgd=s.lgd,
                      default_dpd=s.scorecard.default_dpd)
    flags = early_warning(x["risk_borrowers"], rules=s.early_warning)
    status = compliance_status(x["risk_customers"], rules=s.compliance)
    k = kpis(book=book, warnings=flags, compliance=status)
    prev, bank = kpi_context(bench["bench_risk_kpis"], branch_id=..., period=..., prev_period=...)
    # loan book
    five_class_mix(x["risk_book"], month=period); dpd_mix(x["risk_book"], month=period)
    npl_trend(x["risk_book"], bench_trend=bench["bench_risk_trend"], months=...)
    roll_rates(x["risk_rolls"], month=period)
    # scorecard
    sc.iv_table(); dist = score_distribution(book, bins=bench["bench_risk_score_bins"])
    psi(dist["bank_share"], dist["loans"]); psi_band(...)
    validation(score_book(x["risk_outcomes"], scorecard=sc, lgd=s.lgd), min_defaults=...)
    expected_loss(book, by="product")
    # early warning, collateral, concentration, compliance, matrix
    warning_list(flags); ltv_distribution(book, bands=s.ltv_bands)
    ltv_breaches(book, limit=s.ltv_limit); industry_shares(book); hhi(...)
    top_borrowers(book, n=s.top_borrowers); compliance_table(status)
    alert_ageing(x["aml_alerts"], as_of=period_end, ageing_days=s.compliance.ageing_days)
    risk_matrix(borrower_risk(book, pd_bands=s.pd_bands, exposure_bands=s.exposure_bands))
    summary_facts(kpis=k, prev=prev, bank=bank, ..., trend=...)

Ratios are shares in 0..1; money is in the bank's currency; a ratio with a zero
denominator (an empty branch) is NaN, never 0.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator

from .params import Rag, Section, Share, check_increasing
from .privacy import mask_name
from .scorecard import MISSING, OTHER, Scorecard, auc, gini, ks, psi  # noqa: F401 - re-exported

REPORT = "risk"
# The data contract tables this report reads (in prepare and in its notebook): a
# warning-level finding about another table is not shown in it.
SOURCES: tuple[str, ...] = (
    "branches", "customers", "balances", "loans", "loan_snapshots", "financials", "aml_alerts",
)  # fmt: skip

FIVE_CLASSES = ("pass", "special_mention", "substandard", "doubtful", "loss")
NPL_CLASSES = ("substandard", "doubtful", "loss")
DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
CLOSED = "closed"
EW_RULES = (
    "revenue_down_inventory_up",
    "receivable_days_up",
    "debt_to_asset_high",
    "current_ratio_low",
    "negative_cash_flow",
    "overdue",
)
COMPLIANCE_CLASSES = ("compliant", "watch", "risk")
SCORE_FEATURES = (
    "product",
    "collateral_type",
    "customer_type",
    "industry",
    "ltv",
    "interest_rate",
    "loan_age_months",
    "remaining_months",
    "dpd",
    "max_dpd_6m",
    "aum",
    "products_held",
    "tenure_months",
    "debt_to_asset",
    "current_ratio",
)
KPI_KINDS = {
    "npl_ratio": "pct",
    "special_mention_ratio": "pct",
    "expected_loss_rate": "pct",
    "warning_exposure_share": "pct",
    "top10_share": "pct",
    "risk_customer_share": "pct",
}
_DEFAULT_RAG = {
    "npl_ratio": Rag(good="low", green=0.015, amber=0.03),
    "special_mention_ratio": Rag(good="low", green=0.03, amber=0.05),
    "expected_loss_rate": Rag(good="low", green=0.01, amber=0.02),
    "warning_exposure_share": Rag(good="low", green=0.05, amber=0.15),
    "top10_share": Rag(good="low", green=0.30, amber=0.50),
    "risk_customer_share": Rag(good="low", green=0.01, amber=0.03),
}


# -- parameters ---------------------------------------------------------------------
class ScorecardSettings(Section):
    """The bank-wide scorecard. Fitted once per period with the bank's values (``bank.yaml``);
    a branch file cannot change how the bank's scorecard is built. Floats may be written as
    whole numbers."""

    features: list[str] = list(SCORE_FEATURES)
    performance_months: int = Field(12, ge=1, le=36)
    default_dpd: int = Field(90, ge=1, le=365)
    max_bins: int = Field(5, ge=2, le=20)
    min_bin_share: float = Field(0.05, ge=0.0, lt=0.5)
    rare_level_share: Share = 0.02
    min_iv: float = Field(0.02, ge=0.0)
    max_correlation: float = Field(0.9, gt=0.0, le=1.0)
    base_score: float = 600.0
    base_odds: float = Field(50.0, gt=0.0)
    pdo: float = Field(20.0, gt=0.0)
    min_fit_defaults: int = Field(20, ge=1)
    min_defaults: int = Field(10, ge=1)
    score_bins: int = Field(10, ge=2, le=50)
    psi_watch: float = Field(0.10, gt=0.0)
    psi_shift: float = Field(0.25, gt=0.0)

    @field_validator("features")
    @classmethod
    def _features(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(SCORE_FEATURES))
        if unknown or not v or len(set(v)) != len(v):
            raise ValueError(
                f"features are expected to be distinct names among ({', '.join(SCORE_FEATURES)}). "
                f"Got {v} instead."
            )
        return v

    @model_validator(mode="after")
    def _psi(self) -> ScorecardSettings:
        if self.psi_watch >= self.psi_shift:
            raise ValueError(
                f"psi_watch ({self.psi_watch}) must be below psi_shift ({self.psi_shift})"
            )
        return self


class Lgd(Section):
    """Loss given default by collateral type (share of the exposure lost)."""

    none: Share = 0.75
    guarantee: Share = 0.60
    receivables: Share = 0.55
    equipment: Share = 0.50
    real_estate: Share = 0.35
    deposit: Share = 0.10


class EarlyWarning(Section):
    """Thresholds of the early-warning rules for corporate borrowers."""

    revenue_drop: Share = 0.10  # revenue down by at least this share year on year ...
    inventory_rise: float = Field(0.10, ge=0.0)  # ... while inventory is up by at least this share
    receivable_days_increase: float = Field(30.0, ge=0.0)  # days, year on year
    debt_to_asset_max: float = Field(0.70, gt=0.0)  # tripped above
    current_ratio_min: float = Field(1.0, gt=0.0)  # tripped below
    cash_flow_min: float = 0.0  # operating cash flow below this (CNY)
    overdue_days: int = Field(0, ge=0)  # any loan more than this many days past due


class Compliance(Section):
    """How KYC status and AML alerts classify a customer as compliant / watch / risk."""

    lookback_months: int = Field(12, ge=1, le=60)
    open_alert_risk_days: int = Field(30, ge=1)
    kyc_incomplete: Literal["compliant", "watch", "risk"] = "watch"
    kyc_expired: Literal["compliant", "watch", "risk"] = "risk"
    ageing_days: list[int] = [7, 30, 90]

    @field_validator("ageing_days")
    @classmethod
    def _ageing(cls, v: list[int]) -> list[int]:
        check_increasing(v)
        if not v or v[0] <= 0:
            raise ValueError(f"ageing_days must be positive, got {v}")
        return v


class Settings(Section):
    """The ``risk:`` section of the parameters. Floats may be written as whole numbers.

    The benchmarks (``bench_risk_*``, bank medians) are computed with the bank's values;
    a branch file that overrides, say, ``lgd`` or ``early_warning`` changes its own
    report's figures but not the bank medians they are compared with.
    ``kpi_status`` may name only the KPIs it changes; the others keep their defaults.
    """

    trend_months: int = Field(12, ge=2, le=36)
    scorecard: ScorecardSettings = ScorecardSettings()
    lgd: Lgd = Lgd()
    early_warning: EarlyWarning = EarlyWarning()
    ltv_limit: float = Field(0.70, gt=0.0)
    ltv_bands: list[float] = [0.3, 0.5, 0.7, 0.9, 1.0]
    top_borrowers: int = Field(10, ge=1, le=100)  # rows of the largest-borrower table
    list_rows: int = Field(20, ge=1, le=500)  # rows of a borrower or loan list before the appendix
    compliance: Compliance = Compliance()
    pd_bands: list[float] = [0.01, 0.03, 0.08, 0.20]
    exposure_bands: list[float] = [100_000.0, 500_000.0, 2_000_000.0, 10_000_000.0]
    npl_change_alert: float = Field(0.005, ge=0.0)  # a change on last period worth a sentence
    npl_trend_alert: float = Field(0.01, ge=0.0)  # a rise over the trend window worth one
    kpi_status: dict[str, Rag] = dict(_DEFAULT_RAG)

    @field_validator("ltv_bands", "pd_bands", "exposure_bands")
    @classmethod
    def _bands(cls, v: list[float], info) -> list[float]:
        check_increasing(v)
        if not v or v[0] <= 0:
            raise ValueError(f"{info.field_name} must be positive, got {v}")
        if info.field_name != "ltv_bands" and len(v) != 4:
            raise ValueError(f"{info.field_name} needs 4 cut points (5 bands), got {len(v)}")
        if info.field_name == "pd_bands" and v[-1] >= 1:
            raise ValueError(f"pd_bands must be below 1, got {v}")
        return v

    @field_validator("kpi_status")
    @classmethod
    def _rag(cls, v: dict[str, Rag]) -> dict[str, Rag]:
        unknown = sorted(set(v) - set(KPI_KINDS))
        if unknown:
            raise ValueError(
                f"kpi_status keys are expected among ({', '.join(KPI_KINDS)}). Got {unknown}."
            )
        return {**_DEFAULT_RAG, **v}


# -- small helpers -------------------------------------------------------------------
def _shift(month: str, k: int) -> str:
    y, m = (int(p) for p in month.split("-"))
    i = y * 12 + m - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def trend_months(period: str, n: int) -> list[str]:
    """The ``n`` months ending with ``period``, oldest first (``n`` = 13 spans a year)."""
    return [_shift(period, -i) for i in range(n - 1, -1, -1)]


def _month_end(month: str) -> dt.date:
    y, m = (int(p) for p in month.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den and den > 0 else float("nan")


def _sum(df: pd.DataFrame, col: str) -> float:
    return float(df[col].sum()) if len(df) else 0.0


# -- loan book -----------------------------------------------------------------------
def dpd_bucket(dpd: pd.Series) -> pd.Series:
    """Days-past-due bucket of each value: current (0), 1-30, 31-60, 61-90, 90+ (over 90)."""
    d = pd.to_numeric(dpd, errors="coerce")
    labels = np.select([d <= 0, d <= 30, d <= 60, d <= 90, d > 90], DPD_BUCKETS, default="")
    return pd.Series(labels, index=dpd.index, dtype="string").replace("", pd.NA)


def book_ratios(history: pd.DataFrame) -> pd.DataFrame:
    """NPL and special-mention ratios per month (per branch and month if ``branch_id`` is a column).

    ``history``: ``month``, ``five_class``, ``loans``, ``outstanding`` (the ``risk_book``
    artifact). NPL ratio = outstanding of substandard + doubtful + loss / all
    outstanding; special-mention ratio likewise; NaN for a month with no outstanding.
    """
    keys = [k for k in ("branch_id", "month") if k in history.columns]
    h = history.assign(
        npl=history["outstanding"].where(history["five_class"].isin(NPL_CLASSES), 0.0),
        sm=history["outstanding"].where(history["five_class"] == "special_mention", 0.0),
    )
    g = h.groupby(keys, as_index=False)[["loans", "outstanding", "npl", "sm"]].sum()
    den = g["outstanding"].where(g["outstanding"] > 0)
    return g.assign(npl_ratio=g["npl"] / den, special_mention_ratio=g["sm"] / den).rename(
        columns={"npl": "npl_outstanding", "sm": "special_mention_outstanding"}
    )


def _mix(history: pd.DataFrame, month: str, col: str, order: tuple[str, ...]) -> pd.DataFrame:
    h = history[history["month"] == month]
    g = h.groupby(col)[["loans", "outstanding"]].sum().reindex(list(order), fill_value=0)
    total = g["outstanding"].sum()
    return (
        g.assign(share=g["outstanding"] / total if total > 0 else np.nan)
        .rename_axis(col)
        .reset_index()
    )


def five_class_mix(history: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """Loans, outstanding and share of outstanding per five-class category in ``month``
    (all five rows, in order; shares NaN when the branch has no loans)."""
    return _mix(history, month, "five_class", FIVE_CLASSES)


def dpd_mix(history: pd.DataFrame, *, month: str) -> pd.DataFrame:
    """Loans, outstanding and share of outstanding per days-past-due bucket in ``month``."""
    return _mix(history, month, "dpd_bucket", DPD_BUCKETS)


def past_due_share(mix: pd.DataFrame) -> float:
    """Share of outstanding at least one day past due, from :func:`dpd_mix` (NaN with no loans)."""
    return _ratio(
        _sum(mix[mix["dpd_bucket"] != "current"], "outstanding"), _sum(mix, "outstanding")
    )


def npl_trend(
    history: pd.DataFrame, *, bench_trend: pd.DataFrame, months: list[str]
) -> pd.DataFrame:
    """The branch's NPL and special-mention ratios per month beside the bank's median
    over branches (``bank_npl_ratio``, ``bank_special_mention_ratio``); a month with no
    loans is NaN. ``history`` of several branches is taken as one book."""
    own = book_ratios(history.drop(columns="branch_id", errors="ignore"))
    own = own.groupby("month")[["npl_ratio", "special_mention_ratio"]].first() if len(own) else None
    bank = bench_trend.groupby("month")[["npl_ratio", "special_mention_ratio"]].median()
    out = pd.DataFrame(index=pd.Index(months, name="month"))
    out = (
        out.join(own)
        if own is not None
        else out.assign(npl_ratio=np.nan, special_mention_ratio=np.nan)
    )
    out = out.join(bank.add_prefix("bank_"))
    return out.reset_index()


def roll_rates(
    rolls: pd.DataFrame, *, month: str, weight: Literal["outstanding", "loans"] = "outstanding"
) -> pd.DataFrame:
    """Month-on-month roll-rate matrix into ``month``: rows the bucket last month, columns
    the bucket this month (or ``closed``: repaid or gone), each row summing to 1.

    Weighted by last month's outstanding (or by loan count). A bucket that held no loans
    has a row of NaN.
    """
    r = rolls[rolls["month"] == month]
    m = r.groupby(["from_bucket", "to_bucket"])[weight].sum().astype(float).unstack()
    m = m.reindex(index=list(DPD_BUCKETS), columns=[*DPD_BUCKETS, CLOSED]).fillna(0.0)
    total = m.sum(axis=1)
    m = m.div(total.where(total > 0), axis=0)
    m.index.name, m.columns.name = "from_bucket", None
    return m


def roll_forward_rate(matrix: pd.DataFrame, *, bucket: str = "current") -> float:
    """Share of last month's balance in ``bucket`` that is in a worse bucket this month,
    from :func:`roll_rates` (for ``current``: the balance that fell past due); NaN when
    the bucket held no loans."""
    worse = list(DPD_BUCKETS[DPD_BUCKETS.index(bucket) + 1 :])
    row = matrix.loc[bucket]
    return float(row[worse].sum()) if row.notna().any() else float("nan")


# -- scoring and expected loss -------------------------------------------------------
def load_scorecard(frame: pd.DataFrame | None) -> Scorecard | None:
    """The bank's scorecard from the ``bench_risk_scorecard`` artifact; None if none was fitted."""
    if frame is None or len(frame) != 1 or "scorecard" not in frame.columns:
        return None
    if pd.isna(frame["scorecard"].iloc[0]):
        return None
    return Scorecard.from_frame(frame[["scorecard"]])


def _interval_number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _interval_labels(cuts: list[float]) -> list[str]:
    """Readable labels of left-closed numeric bins: ``< a``, ``a – b``, ``≥ b``."""
    if not cuts:
        return ["all"]
    n = [_interval_number(c) for c in cuts]
    return [f"< {n[0]}", *(f"{a} – {b}" for a, b in zip(n[:-1], n[1:], strict=True)), f"≥ {n[-1]}"]


def scorecard_features(sc: Scorecard) -> pd.DataFrame:
    """Every characteristic the scorecard binned, strongest first: ``feature``, ``bins``
    (including a missing bin), ``iv`` (the sum of its bins' IV), ``in_model`` and
    ``coefficient`` (of its WoE in the logistic regression; NaN when left out)."""
    iv = sc.feature_iv()
    return pd.DataFrame(
        {
            "feature": iv.index.astype(str),
            "bins": [len(sc.bins_[f].labels) for f in iv.index],
            "iv": iv.to_numpy(dtype=float),
            "in_model": [f in sc.coef_ for f in iv.index],
            "coefficient": [sc.coef_.get(f, np.nan) for f in iv.index],
        }
    )


def scorecard_bins(sc: Scorecard) -> pd.DataFrame:
    """The points table: the bins of the characteristics in the model, in the model's
    order, with the columns of :meth:`Scorecard.iv_table` and ``label``, the bin as a
    code under the catalogue's ``values`` (``product.mortgage``, ``bin.(missing)``) or,
    for a numeric bin, its interval (``< 0.7217``, ``0.0401 – 0.0457``, ``≥ 0.0732``;
    bins include their lower bound)."""
    t = sc.iv_table()
    t = t[t["in_model"]].copy()
    order = {f: i for i, f in enumerate(sc.features)}
    t = t.sort_values("feature", key=lambda c: c.map(order), kind="stable")
    labels = []
    for f, group in t.groupby("feature", sort=False):
        b = sc.bins_[f]
        names = _interval_labels(b.cuts) if b.kind == "numeric" else None
        for i, raw in enumerate(group["bin"]):
            if raw in (MISSING, OTHER, "all"):
                labels.append(f"bin.{raw}")
            elif names is not None:
                labels.append(names[i])
            else:
                labels.append(f"{f}.{raw}")
    return t.assign(label=labels).reset_index(drop=True)


def scorecard_note(sc: Scorecard) -> tuple[str, dict]:
    """The sentence describing how the scorecard was fitted and scaled: ``(key, values)``."""
    return (
        "risk.notes.scorecard",
        {
            "loans": sc.meta_.get("rows", 0),
            "defaults": sc.meta_.get("events", 0),
            "month": sc.meta_.get("development_month", ""),
            "pdo": sc.params["pdo"],
            "base_score": sc.params["base_score"],
            "base_odds": sc.params["base_odds"],
        },
    )


def score_book(
    loans: pd.DataFrame, *, scorecard: Scorecard | None, lgd: Lgd, default_dpd: int = 90
) -> pd.DataFrame:
    """``loans`` with ``in_default``, ``score``, ``pd_model``, ``pd``, ``lgd``, ``ead`` and ``el``.

    In default: more than ``default_dpd`` days past due or classed substandard or worse.
    ``pd_model`` is the scorecard's 12-month PD; ``pd`` is 1 for a loan in default and
    ``pd_model`` otherwise. LGD by collateral type (an unknown type counts as unsecured,
    ``none``); EAD = outstanding; expected loss ``el = pd * lgd * ead`` (money). Without a
    scorecard, score, PDs and expected loss are NaN.
    """
    out = loans.copy()
    in_default = (pd.to_numeric(out["dpd"]) > default_dpd) | out["five_class"].isin(NPL_CLASSES)
    if scorecard is None or out.empty:
        score = p = np.full(len(out), np.nan)
    else:
        score = scorecard.score(out)
        p = scorecard.predict_proba(out)[:, 1]
    rates = lgd.model_dump()
    loss = out["collateral_type"].map(rates).astype(float).fillna(rates["none"])
    ead = pd.to_numeric(out["outstanding"]).astype(float)
    pd_all = np.where(in_default, 1.0, p)
    return out.assign(
        in_default=in_default.to_numpy(dtype=bool),
        score=score,
        pd_model=p,
        pd=pd_all,
        lgd=loss.to_numpy(),
        ead=ead,
        el=pd_all * loss.to_numpy() * ead,
    )


def expected_loss(book: pd.DataFrame, *, by: str = "product") -> pd.DataFrame:
    """Expected loss per ``by`` group: ``loans``, ``ead``, EAD-weighted ``pd`` and ``lgd``,
    ``el`` (money) and ``el_rate`` (el / ead; NaN for no exposure), largest EL first."""
    b = book.assign(pd_ead=book["pd"] * book["ead"], lgd_ead=book["lgd"] * book["ead"])
    g = b.groupby(by, as_index=False).agg(
        loans=("loan_id", "size"),
        ead=("ead", "sum"),
        pd_ead=("pd_ead", "sum"),
        lgd_ead=("lgd_ead", "sum"),
        el=("el", lambda s: s.sum(min_count=len(s))),
    )
    den = g["ead"].where(g["ead"] > 0)
    g = g.assign(pd=g["pd_ead"] / den, lgd=g["lgd_ead"] / den, el_rate=g["el"] / den)
    return g.drop(columns=["pd_ead", "lgd_ead"]).sort_values(
        "el", ascending=False, ignore_index=True
    )


def expected_loss_total(book: pd.DataFrame) -> dict[str, float]:
    """The whole book's line of :func:`expected_loss` (for a table's totals row)."""
    row = expected_loss(book.assign(_all="all"), by="_all")
    cols = ["loans", "ead", "pd", "lgd", "el", "el_rate"]
    return {c: float(row[c].iloc[0]) if len(row) else float("nan") for c in cols}


def score_bins(scores, *, bins: int = 10) -> pd.DataFrame:
    """Score bands from the quantiles of ``scores`` (the bank's performing book):
    ``bin`` (1 = lowest scores, riskiest), ``lower`` (inclusive), ``upper``, ``loans``, ``share``."""
    s = pd.Series(scores, dtype=float).dropna().to_numpy()
    cuts = np.unique(np.quantile(s, np.linspace(0, 1, bins + 1)[1:-1])) if len(s) else np.array([])
    cuts = cuts[cuts > s.min()] if len(s) else cuts
    counts = np.bincount(np.searchsorted(cuts, s, side="right"), minlength=len(cuts) + 1)
    return pd.DataFrame(
        {
            "bin": np.arange(1, len(cuts) + 2),
            "lower": np.r_[-np.inf, cuts],
            "upper": np.r_[cuts, np.inf],
            "loans": counts,
            "share": counts / counts.sum() if counts.sum() else np.nan,
        }
    )


def score_distribution(book: pd.DataFrame, *, bins: pd.DataFrame) -> pd.DataFrame:
    """The branch's performing loans per bank score band: ``bin``, ``lower``, ``upper``
    (NaN for the open ends), ``loans``, ``share`` (of the branch's scored loans; NaN if
    none) and ``bank_share``."""
    s = book.loc[~book["in_default"], "score"].dropna().to_numpy(dtype=float)
    cuts = bins["lower"].to_numpy()[1:]
    counts = np.bincount(np.searchsorted(cuts, s, side="right"), minlength=len(bins))
    bounds = bins[["lower", "upper"]].astype(float)
    return bins[["bin"]].assign(
        lower=bounds["lower"].where(np.isfinite(bounds["lower"])),
        upper=bounds["upper"].where(np.isfinite(bounds["upper"])),
        loans=counts,
        share=counts / counts.sum() if counts.sum() else np.nan,
        bank_share=bins["share"].to_numpy(),
    )


def psi_band(value: float, *, watch: float = 0.10, shift: float = 0.25) -> str:
    """``stable`` below ``watch``, ``watch`` up to ``shift``, ``shift`` at or above; ``none`` for NaN."""
    if value is None or value != value:
        return "none"
    return "stable" if value < watch else "watch" if value < shift else "shift"


def psi_note(value: float, *, watch: float = 0.10, shift: float = 0.25) -> tuple[str, dict]:
    """The sentence reading a PSI against its bands: ``(key, values)``."""
    band = psi_band(value, watch=watch, shift=shift)
    return f"risk.notes.psi_{band}", {"psi": value, "watch": watch, "shift": shift}


def validation(outcomes: pd.DataFrame, *, min_defaults: int) -> dict[str, float]:
    """How well the scorecard ranked the branch's development-sample loans.

    ``outcomes``: scored (``pd_model``) with ``bad``. Returns ``loans``, ``defaults``,
    ``default_rate``, ``auc``, ``ks``, ``gini`` and ``sufficient`` (1.0 when the branch has
    at least ``min_defaults`` defaults and one good loan, and the loans are scored; otherwise
    AUC, KS and Gini are NaN).
    """
    n, d = len(outcomes), int(outcomes["bad"].sum()) if len(outcomes) else 0
    scored = bool(len(outcomes)) and bool(outcomes["pd_model"].notna().all())
    ok = scored and d >= min_defaults and n > d
    y, p = (outcomes["bad"].to_numpy(), outcomes["pd_model"].to_numpy()) if ok else ([], [])
    return {
        "loans": float(n),
        "defaults": float(d),
        "default_rate": _ratio(d, n),
        "auc": auc(y, p) if ok else np.nan,
        "ks": ks(y, p) if ok else np.nan,
        "gini": gini(y, p) if ok else np.nan,
        "sufficient": float(ok),
    }


def branch_validation(
    outcomes: pd.DataFrame, *, scorecard: Scorecard | None, min_defaults: int
) -> dict[str, float]:
    """:func:`validation` of the branch's development-sample loans (``risk_outcomes``),
    scored with ``scorecard``; without a scorecard or without loans nothing is measured."""
    p = (
        scorecard.predict_proba(outcomes)[:, 1]
        if scorecard is not None and len(outcomes)
        else np.nan
    )
    return validation(outcomes.assign(pd_model=p), min_defaults=min_defaults)


def validation_table(val: dict) -> pd.DataFrame:
    """:func:`validation`'s measures as a one-row frame, for a table."""
    cols = ["loans", "defaults", "default_rate", "auc", "ks", "gini"]
    return pd.DataFrame([{c: val.get(c, np.nan) for c in cols}])


def validation_note(val: dict, *, min_defaults: int, month: str) -> tuple[str, dict]:
    """What the accuracy figures rest on, or why they are not shown: ``(key, values)``."""
    if val.get("sufficient"):
        return "risk.notes.validation_sample", {
            "loans": val["loans"],
            "defaults": val["defaults"],
            "month": month,
        }
    return "risk.notes.few_defaults", {"defaults": val.get("defaults", 0), "minimum": min_defaults}


# -- early warning ---------------------------------------------------------------------
def early_warning(borrowers: pd.DataFrame, *, rules: EarlyWarning) -> pd.DataFrame:
    """Every corporate borrower with its ratios and one boolean column per rule.

    Ratios: ``revenue_change`` and ``inventory_change`` (latest statement against the one
    a year earlier, NaN when the earlier value is not positive), ``receivable_days``
    (receivables / revenue x 365, revenue taken as annual) and its year-on-year
    ``receivable_days_change``, ``debt_to_asset``, ``current_ratio``. Rules: revenue down
    by at least ``revenue_drop`` while inventory up by at least ``inventory_rise``;
    receivable days up by at least ``receivable_days_increase``; debt-to-asset above
    ``debt_to_asset_max``; current ratio below ``current_ratio_min``; operating cash flow
    below ``cash_flow_min``; a loan more than ``overdue_days`` past due. A rule whose
    inputs are missing is not tripped. ``n_rules`` counts the rules tripped.
    """
    b = borrowers

    def div(a, c):
        den = pd.to_numeric(b[c]).astype(float)
        return pd.to_numeric(b[a]).astype(float) / den.where(den > 0)

    out = b.assign(
        revenue_change=div("revenue", "revenue_prev") - 1,
        inventory_change=div("inventory", "inventory_prev") - 1,
        receivable_days=div("receivables", "revenue") * 365,
        receivable_days_change=div("receivables", "revenue") * 365
        - div("receivables_prev", "revenue_prev") * 365,
        debt_to_asset=div("total_liabilities", "total_assets"),
        current_ratio=div("current_assets", "current_liabilities"),
    )
    flags = {
        "revenue_down_inventory_up": (out["revenue_change"] <= -rules.revenue_drop)
        & (out["inventory_change"] >= rules.inventory_rise),
        "receivable_days_up": out["receivable_days_change"] >= rules.receivable_days_increase,
        "debt_to_asset_high": out["debt_to_asset"] > rules.debt_to_asset_max,
        "current_ratio_low": out["current_ratio"] < rules.current_ratio_min,
        "negative_cash_flow": pd.to_numeric(out["operating_cash_flow"]).astype(float)
        < rules.cash_flow_min,
        "overdue": pd.to_numeric(out["max_dpd"]).astype(float) > rules.overdue_days,
    }
    flags = {k: v.fillna(False).astype(bool) for k, v in flags.items()}
    return out.assign(
        **flags, n_rules=sum(v.astype(int) for v in flags.values()) if len(out) else 0
    )


def warning_list(
    flags: pd.DataFrame, *, rule_names: list[str] | None = None, sep: str = "; "
) -> pd.DataFrame:
    """Borrowers tripping at least one rule, largest exposure first, names masked.

    With ``rule_names`` (one text per rule of :data:`EW_RULES`, in that order) a ``rules``
    column lists the rules each borrower tripped, joined by ``sep``.
    """
    w = flags[flags["n_rules"] > 0]
    cols = ["customer_id", "name", "industry", "exposure", "max_dpd", "n_rules", *EW_RULES]
    out = w.assign(name=w["name"].map(mask_name)).sort_values(
        ["exposure", "customer_id"], ascending=[False, True], ignore_index=True
    )[cols]
    if rule_names is not None:
        names = dict(zip(EW_RULES, rule_names, strict=True))
        out["rules"] = [sep.join(names[r] for r in EW_RULES if row[r]) for _, row in out.iterrows()]
    return out


def warning_rules(flags: pd.DataFrame) -> pd.DataFrame:
    """Per early-warning rule, in :data:`EW_RULES` order: ``borrowers`` tripping it,
    their ``exposure`` and its ``exposure_share`` of all corporate borrowers' exposure
    (NaN without corporate borrowers)."""
    total = _sum(flags, "exposure")
    rows = [
        {
            "rule": r,
            "borrowers": int(flags[r].sum()) if len(flags) else 0,
            "exposure": _sum(flags[flags[r]], "exposure") if len(flags) else 0.0,
        }
        for r in EW_RULES
    ]
    out = pd.DataFrame(rows)
    return out.assign(exposure_share=out["exposure"] / total if total > 0 else np.nan)


# -- collateral and concentration ----------------------------------------------------
def ltv_distribution(book: pd.DataFrame, *, bands: list[float]) -> pd.DataFrame:
    """Secured loans (collateral value > 0) per loan-to-value band, right-closed
    (``<=30%``, ``30%-50%`` ... ``>100%``), plus ``no_collateral``: ``loans``,
    ``outstanding``, ``share`` of all outstanding (NaN for an empty book)."""
    labels = (
        [f"<={bands[0]:.0%}"]
        + [f"{a:.0%}-{b:.0%}" for a, b in zip(bands[:-1], bands[1:], strict=True)]
        + [f">{bands[-1]:.0%}", "no_collateral"]
    )
    ltv = pd.to_numeric(book["ltv"]).astype(float).to_numpy()
    idx = np.where(
        np.isnan(ltv),
        len(bands) + 1,
        np.searchsorted(np.array(bands), np.nan_to_num(ltv), side="left"),
    )
    g = (
        book.assign(band=np.array(labels, dtype=object)[idx] if len(book) else [])
        .groupby("band")
        .agg(loans=("loan_id", "size"), outstanding=("outstanding", "sum"))
    )
    g = g.reindex(labels, fill_value=0).rename_axis("band").reset_index()
    total = g["outstanding"].sum()
    return g.assign(share=g["outstanding"] / total if total > 0 else np.nan)


def ltv_breaches(book: pd.DataFrame, *, limit: float) -> pd.DataFrame:
    """Loans whose LTV (outstanding / collateral value) is above ``limit``, largest first, names masked."""
    b = book[pd.to_numeric(book["ltv"]).astype(float) > limit]
    cols = [
        "loan_id",
        "customer_id",
        "name",
        "product",
        "collateral_type",
        "outstanding",
        "collateral_value",
        "ltv",
    ]
    return b.assign(name=b["name"].map(mask_name)).sort_values(
        ["outstanding", "loan_id"], ascending=[False, True], ignore_index=True
    )[cols]


def ltv_breach_share(book: pd.DataFrame, *, limit: float) -> float:
    """Share of the secured outstanding (loans with a collateral value) whose LTV is above
    ``limit``; NaN with no secured loans."""
    ltv = pd.to_numeric(book["ltv"]).astype(float)
    secured = book[ltv.notna()]
    return _ratio(
        _sum(secured[ltv[ltv.notna()] > limit], "outstanding"), _sum(secured, "outstanding")
    )


def industry_shares(book: pd.DataFrame, *, bank: pd.DataFrame | None = None) -> pd.DataFrame:
    """Outstanding per industry of the loans that have one (the corporate book):
    ``industry``, ``loans``, ``outstanding``, ``share`` (of that book), largest first.

    With ``bank`` (the same frame for the whole bank, ``bench_risk_industry``) a
    ``bank_share`` column gives the bank's share of each industry (0 where the bank has none).
    """
    b = book.dropna(subset=["industry"])
    g = b.groupby("industry", as_index=False).agg(
        loans=("loan_id", "size"), outstanding=("outstanding", "sum")
    )
    total = g["outstanding"].sum()
    out = g.assign(share=g["outstanding"] / total if total > 0 else np.nan).sort_values(
        ["outstanding", "industry"], ascending=[False, True], ignore_index=True
    )
    if bank is not None:
        shares = bank.set_index("industry")["share"]
        out["bank_share"] = out["industry"].map(shares).fillna(0.0).astype(float)
    return out


def hhi(shares) -> float:
    """Herfindahl-Hirschman index: the sum of squared shares (0..1; 1 = one industry).
    Shares are normalised to sum to 1 first; NaN when empty."""
    s = pd.Series(shares, dtype=float).dropna()
    return float(((s / s.sum()) ** 2).sum()) if len(s) and s.sum() > 0 else float("nan")


def top_borrowers(book: pd.DataFrame, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` largest borrowers: ``rank``, ``customer_id``, ``name`` (masked),
    ``customer_type``, ``loans``, ``outstanding``, ``share`` of the branch's book."""
    g = book.groupby("customer_id", as_index=False).agg(
        name=("name", "first"),
        customer_type=("customer_type", "first"),
        loans=("loan_id", "size"),
        outstanding=("outstanding", "sum"),
    )
    total = g["outstanding"].sum()
    g = g.sort_values(
        ["outstanding", "customer_id"], ascending=[False, True], ignore_index=True
    ).head(n)
    return g.assign(
        rank=np.arange(1, len(g) + 1),
        name=g["name"].map(mask_name),
        share=g["outstanding"] / total if total > 0 else np.nan,
    )[["rank", "customer_id", "name", "customer_type", "loans", "outstanding", "share"]]


def top_share(book: pd.DataFrame, *, n: int = 10) -> float:
    """Share of the book's outstanding held by its ``n`` largest borrowers; NaN for an empty book."""
    by = book.groupby("customer_id")["outstanding"].sum()
    return _ratio(by.nlargest(n).sum(), by.sum())


# -- compliance ----------------------------------------------------------------------
def compliance_status(customers: pd.DataFrame, *, rules: Compliance) -> pd.DataFrame:
    """``customers`` (the ``risk_customers`` artifact) with ``status`` and its ``reason``.

    risk: an alert reported to the regulator in the look-back window, an alert open for
    more than ``open_alert_risk_days``, or a KYC status classed ``risk``; watch: any other
    open alert, an alert closed in the window, or a KYC status classed ``watch``;
    compliant otherwise. ``reason`` names the first rule that applied.
    """
    c = customers
    kyc = (
        c["kyc_status"]
        .map({"incomplete": rules.kyc_incomplete, "expired": rules.kyc_expired})
        .fillna("compliant")
    )
    old_open = pd.to_numeric(c["oldest_open_days"]).astype(float) > rules.open_alert_risk_days
    checks = [
        ("risk", "reported_alert", c["reported_alerts"] > 0),
        ("risk", "open_alert_overdue", old_open),
        ("risk", "kyc", kyc == "risk"),
        ("watch", "open_alert", c["open_alerts"] > 0),
        ("watch", "closed_alert", c["closed_alerts"] > 0),
        ("watch", "kyc", kyc == "watch"),
    ]
    status = np.select(
        [m.to_numpy(dtype=bool) for _, _, m in checks], [s for s, _, _ in checks], "compliant"
    )
    reason = np.select(
        [m.to_numpy(dtype=bool) for _, _, m in checks], [r for _, r, _ in checks], ""
    )
    return c.assign(status=status, reason=reason)


def compliance_table(status: pd.DataFrame) -> pd.DataFrame:
    """Customers and share per class (compliant / watch / risk), all three rows."""
    g = status["status"].value_counts().reindex(list(COMPLIANCE_CLASSES), fill_value=0)
    total = g.sum()
    return pd.DataFrame(
        {
            "status": list(COMPLIANCE_CLASSES),
            "customers": g.to_numpy(),
            "share": g.to_numpy() / total if total else np.nan,
        }
    )


def compliance_reasons(status: pd.DataFrame) -> pd.DataFrame:
    """Watch and risk customers by the first rule that classed them: ``status``,
    ``reason``, ``customers`` and ``share`` of all customers; most customers first within
    a class, risk first."""
    total = len(status)
    s = status[status["status"] != "compliant"]
    g = s.groupby(["status", "reason"], as_index=False).size().rename(columns={"size": "customers"})
    g = g.assign(order=g["status"].map({"risk": 0, "watch": 1})).sort_values(
        ["order", "customers", "reason"], ascending=[True, False, True], ignore_index=True
    )
    return g.drop(columns="order").assign(share=g["customers"] / total if total else np.nan)


def alert_ageing(alerts: pd.DataFrame, *, as_of: dt.date, ageing_days: list[int]) -> pd.DataFrame:
    """Open AML alerts raised on or before ``as_of`` by age in days (``0-7``, ``8-30``,
    ``31-90``, ``>90`` for the default bounds): ``bucket``, ``alerts``, ``share``."""
    a = alerts[(alerts["status"] == "open")]
    age = (pd.Timestamp(as_of) - pd.to_datetime(a["raised_on"])).dt.days
    age = age[age >= 0].to_numpy()
    bounds = list(ageing_days)
    labels = (
        [f"0-{bounds[0]}"]
        + [f"{a + 1}-{b}" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        + [f">{bounds[-1]}"]
    )
    counts = np.bincount(np.searchsorted(np.array(bounds), age, side="left"), minlength=len(labels))
    return pd.DataFrame(
        {
            "bucket": labels,
            "alerts": counts,
            "share": counts / counts.sum() if counts.sum() else np.nan,
        }
    )


# -- risk matrix -----------------------------------------------------------------------
def borrower_risk(
    book: pd.DataFrame, *, pd_bands: list[float], exposure_bands: list[float]
) -> pd.DataFrame:
    """One row per borrower: ``exposure`` (outstanding), EAD-weighted ``pd``, and its
    ``probability`` and ``impact`` band (1..5: below the first cut point is 1, at or above
    the last is 5). Borrowers without a PD are left out."""
    b = book.dropna(subset=["pd"]).assign(pd_ead=lambda d: d["pd"] * d["ead"])
    g = b.groupby("customer_id", as_index=False).agg(
        name=("name", "first"),
        exposure=("outstanding", "sum"),
        ead=("ead", "sum"),
        pd_ead=("pd_ead", "sum"),
    )
    p = g["pd_ead"] / g["ead"].where(g["ead"] > 0)
    return g.assign(
        pd=p,
        name=g["name"].map(mask_name),
        probability=1 + np.searchsorted(np.array(pd_bands), p.fillna(0).to_numpy(), side="right"),
        impact=1
        + np.searchsorted(np.array(exposure_bands), g["exposure"].to_numpy(), side="right"),
    )[["customer_id", "name", "exposure", "pd", "probability", "impact"]]


def matrix_bands(pd_bands: list[float], exposure_bands: list[float]) -> pd.DataFrame:
    """The five probability and impact bands of the risk matrix: ``matrix_band`` (1..5),
    ``pd_from`` / ``pd_to`` and ``exposure_from`` / ``exposure_to`` (each band holds its
    lower bound; NaN for the open ends)."""
    lo = [np.nan, *pd_bands]
    hi = [*pd_bands, np.nan]
    elo = [np.nan, *exposure_bands]
    ehi = [*exposure_bands, np.nan]
    return pd.DataFrame(
        {
            "matrix_band": range(1, 6),
            "pd_from": lo,
            "pd_to": hi,
            "exposure_from": elo,
            "exposure_to": ehi,
        }
    )


def matrix_list(borrowers: pd.DataFrame, *, n: int = 10) -> pd.DataFrame:
    """The ``n`` borrowers in the riskiest cells of the matrix: highest ``rating``
    (probability x impact, 1..25) first, then largest exposure."""
    b = borrowers.assign(rating=borrowers["probability"] * borrowers["impact"])
    return b.sort_values(
        ["rating", "exposure", "customer_id"], ascending=[False, False, True], ignore_index=True
    ).head(n)


def matrix_summary(borrowers: pd.DataFrame) -> dict[str, float]:
    """``borrowers`` placed on the matrix, how many are in the two highest probability
    bands (``high``) and their ``exposure`` (money)."""
    high = borrowers[borrowers["probability"] >= 4]
    return {"borrowers": len(borrowers), "high": len(high), "exposure": _sum(high, "exposure")}


def risk_matrix(borrowers: pd.DataFrame) -> pd.DataFrame:
    """Borrowers per cell of the 5 x 5 grid (rows probability 5..1, columns impact 1..5)."""
    m = pd.crosstab(borrowers["probability"], borrowers["impact"])
    return m.reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5], fill_value=0).rename_axis(
        index="probability", columns="impact"
    )


# -- headline -------------------------------------------------------------------------
def kpis(
    *, book: pd.DataFrame, warnings: pd.DataFrame, compliance: pd.DataFrame
) -> dict[str, float]:
    """The report's headline KPIs for one branch (shares, NaN with no denominator).

    ``book``: :func:`score_book` output; ``warnings``: :func:`early_warning` output;
    ``compliance``: :func:`compliance_status` output.
    """
    total = _sum(book, "outstanding")
    cls = book["five_class"]
    el = book["el"]
    flagged = _sum(warnings[warnings["n_rules"] > 0], "exposure")
    return {
        "npl_ratio": _ratio(_sum(book[cls.isin(NPL_CLASSES)], "outstanding"), total),
        "special_mention_ratio": _ratio(_sum(book[cls == "special_mention"], "outstanding"), total),
        "expected_loss_rate": _ratio(el.sum(), _sum(book, "ead"))
        if len(book) and el.notna().all()
        else float("nan"),
        "warning_exposure_share": _ratio(flagged, total),
        "top10_share": top_share(book, n=10),
        "risk_customer_share": _ratio((compliance["status"] == "risk").sum(), len(compliance)),
    }


def kpi_context(
    bench_kpis: pd.DataFrame, *, branch_id: str, period: str, prev_period: str | None = None
) -> tuple[dict, dict]:
    """Last period's values of the branch and the bank's median over branches this period
    (``prev_period`` defaults to the month before ``period``)."""
    prev_period = prev_period or _shift(period, -1)
    cur = bench_kpis[bench_kpis["month"] == period]
    prev = bench_kpis[(bench_kpis["month"] == prev_period) & (bench_kpis["branch_id"] == branch_id)]
    prev_d = {k: float(prev[k].iloc[0]) if len(prev) else np.nan for k in KPI_KINDS}
    return prev_d, {k: float(cur[k].median()) if len(cur) else np.nan for k in KPI_KINDS}


def kpi_table(kpis: dict, prev: dict, bank: dict) -> pd.DataFrame:
    """The KPI cards' frame: ``kpi``, ``value``, ``previous``, ``bank_median``, in
    :data:`KPI_KINDS` order (see :func:`kpis` and :func:`kpi_context`)."""
    return pd.DataFrame(
        {
            "kpi": list(KPI_KINDS),
            "value": [float(kpis.get(k, np.nan)) for k in KPI_KINDS],
            "previous": [float(prev.get(k, np.nan)) for k in KPI_KINDS],
            "bank_median": [float(bank.get(k, np.nan)) for k in KPI_KINDS],
        }
    )


def summary_facts(
    *,
    kpis: dict,
    prev: dict,
    bank: dict,
    warnings: pd.DataFrame,
    breaches: pd.DataFrame,
    validation: dict,
    psi_value: float,
    industries: pd.DataFrame,
    settings: Settings,
    has_scorecard: bool = True,
    trend: pd.DataFrame | None = None,
) -> list[tuple[str, dict]]:
    """3 to 6 facts ``(catalogue key, values)`` for the summary, most important first.

    Always the NPL ratio (rose / fell / level against last period, with the bank median),
    expected loss (or that no scorecard was fitted) and the share of risk customers; in
    between at most three findings, in this order: an NPL rise over the ``trend`` window
    (:func:`npl_trend`) of at least ``npl_trend_alert``, early-warning borrowers, loans
    above the LTV limit, a PSI at or above the watch band, a top-10 share off green, and
    the scorecard's accuracy on the branch (or that defaults are too few to measure it).
    A branch without loans gets two facts: no loans, and its risk customers.
    """

    def f(v):
        return float(v) if v is not None else float("nan")

    k = {n: f(v) for n, v in kpis.items()}
    if not k["top10_share"] == k["top10_share"]:  # no loans at all
        return [
            ("risk.summary.no_loans", {}),
            (
                "risk.summary.compliance",
                {
                    "risk_share": k["risk_customer_share"],
                    "bank_median": f(bank.get("risk_customer_share")),
                },
            ),
        ]
    change = k["npl_ratio"] - f(prev.get("npl_ratio"))
    alert = settings.npl_change_alert
    key = "npl_up" if change >= alert else "npl_down" if change <= -alert else "npl_level"
    first = [
        (
            f"risk.summary.{key}",
            {
                "npl_ratio": k["npl_ratio"],
                "bank_median": f(bank.get("npl_ratio")),
                "change": change,
            },
        )
    ]
    found: list[tuple[str, dict]] = []
    if trend is not None and trend["npl_ratio"].notna().sum() > 1:
        valid = trend["npl_ratio"].notna().to_numpy()
        pos = int(valid.argmax())
        start = float(trend["npl_ratio"].iloc[pos])
        if k["npl_ratio"] - start >= settings.npl_trend_alert:
            found.append(
                (
                    "risk.summary.npl_trend",
                    {"npl_ratio": k["npl_ratio"], "start": start, "months": len(trend) - 1 - pos},
                )
            )
    w = warnings[warnings["n_rules"] > 0]
    if len(w):
        found.append(
            (
                "risk.summary.early_warning",
                {
                    "borrowers": len(w),
                    "exposure": _sum(w, "exposure"),
                    "share": k["warning_exposure_share"],
                },
            )
        )
    if len(breaches):
        found.append(
            (
                "risk.summary.ltv",
                {
                    "loans": len(breaches),
                    "outstanding": _sum(breaches, "outstanding"),
                    "limit": settings.ltv_limit,
                },
            )
        )
    if psi_value == psi_value and psi_value >= settings.scorecard.psi_watch:
        band = psi_band(
            psi_value, watch=settings.scorecard.psi_watch, shift=settings.scorecard.psi_shift
        )
        found.append((f"risk.summary.psi_{band}", {"psi": psi_value}))
    if settings.kpi_status["top10_share"].status(k["top10_share"]) != "green" and len(industries):
        found.append(
            (
                "risk.summary.concentration",
                {
                    "top10_share": k["top10_share"],
                    "bank_median": f(bank.get("top10_share")),
                    "industry_share": float(industries["share"].iloc[0]),
                },
            )
        )
    if has_scorecard and validation.get("sufficient"):
        found.append(
            ("risk.summary.discrimination", {"auc": validation["auc"], "ks": validation["ks"]})
        )
    elif has_scorecard:
        found.append(
            (
                "risk.summary.few_defaults",
                {
                    "defaults": int(validation.get("defaults", 0)),
                    "minimum": settings.scorecard.min_defaults,
                },
            )
        )
    last = [
        (
            "risk.summary.expected_loss",
            {"el_rate": k["expected_loss_rate"], "bank_median": f(bank.get("expected_loss_rate"))},
        )
        if has_scorecard
        else ("risk.summary.no_scorecard", {}),
        (
            "risk.summary.compliance",
            {
                "risk_share": k["risk_customer_share"],
                "bank_median": f(bank.get("risk_customer_share")),
            },
        ),
    ]
    return first + found[:3] + last


# -- prepare: once per period, the whole bank ---------------------------------------
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
    return ctx.sql(_LOANS_SQL, month=month, month6=_shift(month, -5), month_end=_month_end(month))


def _snapshot(ctx, month: str, s: Settings, scorecard: Scorecard | None) -> dict[str, pd.DataFrame]:
    """Scored book, early-warning flags and compliance classes of every branch at ``month``."""
    end = _month_end(month)
    since = dt.date.fromisoformat(_shift(month, 1 - s.compliance.lookback_months) + "-01")
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
    dev_month = _shift(ctx.period, -s.performance_months)
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


DEFINITIONS = {
    m: f"risk.definitions.{m}"
    for m in (
        "outstanding",
        "five_class",
        "npl_ratio",
        "special_mention_ratio",
        "dpd",
        "dpd_bucket",
        "roll_rate",
        "scorecard",
        "woe",
        "iv",
        "score",
        "pd",
        "lgd",
        "ead",
        "expected_loss",
        "expected_loss_rate",
        "psi",
        "auc",
        "ks",
        "gini",
        "early_warning",
        "warning_exposure_share",
        "ltv",
        "ltv_breach",
        "industry_share",
        "hhi",
        "top10_share",
        "compliance",
        "risk_customer_share",
        "alert_age",
        "risk_matrix",
    )
}
