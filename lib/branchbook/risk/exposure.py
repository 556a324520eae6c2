"""Exposure risks: early-warning signals of corporate borrowers, collateral (loan to
value) and concentration (industry shares, HHI, the largest borrowers).

Shares are in 0..1 and NaN for an empty book; names in lists are masked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import ratio
from ..privacy import mask_name
from .settings import EW_RULES, EarlyWarning


def early_warning(borrowers: pd.DataFrame, *, rules: EarlyWarning) -> pd.DataFrame:
    """Every corporate borrower with its ratios and one boolean column per rule.

    Ratios: ``revenue_change``, ``inventory_change`` and ``profit_change`` (latest
    statement against the one a year earlier, NaN when the earlier value is not
    positive), ``margin`` (net profit / revenue, NaN without revenue) and its year-on-year
    ``margin_change`` (in points of revenue), ``receivable_days``
    (receivables / revenue x 365, revenue taken as annual) and its year-on-year
    ``receivable_days_change``, ``debt_to_asset``, ``current_ratio``. Rules: revenue down
    by at least ``revenue_drop`` while inventory up by at least ``inventory_rise``;
    profitability down: net profit down by at least ``profit_drop`` (a profit turned into
    a loss included) or the net margin down by at least ``margin_drop``; receivable days up by at least ``receivable_days_increase``; debt-to-asset above
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
        profit_change=div("net_profit", "net_profit_prev") - 1,
        margin=div("net_profit", "revenue"),
        margin_change=div("net_profit", "revenue") - div("net_profit_prev", "revenue_prev"),
        receivable_days=div("receivables", "revenue") * 365,
        receivable_days_change=div("receivables", "revenue") * 365
        - div("receivables_prev", "revenue_prev") * 365,
        debt_to_asset=div("total_liabilities", "total_assets"),
        current_ratio=div("current_assets", "current_liabilities"),
    )
    flags = {
        "revenue_down_inventory_up": (out["revenue_change"] <= -rules.revenue_drop)
        & (out["inventory_change"] >= rules.inventory_rise),
        "profit_down": (out["profit_change"] <= -rules.profit_drop)
        | (out["margin_change"] <= -rules.margin_drop),
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
    flags: pd.DataFrame,
    *,
    rule_names: list[str] | None = None,
    sep: str = "; ",
    customers: pd.DataFrame | None = None,
    staff: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Borrowers tripping at least one rule, largest exposure first, names masked.

    With ``rule_names`` (one text per rule of :data:`EW_RULES`, in that order) a ``rules``
    column lists the rules each borrower tripped, joined by ``sep``. ``manager_name``
    is the borrower's manager (``customers``: customer_id, manager_id) by name
    (``staff``: staff_id, name), the id where the name is not known, empty without
    ``customers``. ``next_step``: ``collect`` for a borrower past due (call about the
    payment), else ``review`` (ask for recent statements and review the line).
    """
    w = flags[flags["n_rules"] > 0]
    cols = ["customer_id", "name", "industry", "exposure", "max_dpd", "n_rules", *EW_RULES]
    out = w.assign(name=w["name"].map(mask_name)).sort_values(
        ["exposure", "customer_id"], ascending=[False, True], ignore_index=True
    )[cols]
    managers = (
        {}
        if customers is None
        else dict(zip(customers["customer_id"], customers["manager_id"], strict=True))
    )
    names = {} if staff is None else dict(zip(staff["staff_id"], staff["name"], strict=True))
    ids = [managers.get(c) for c in out["customer_id"]]
    out["manager_name"] = [names.get(m, m) if m is not None else "" for m in ids]
    out["next_step"] = np.where(out["max_dpd"].fillna(0) > 0, "collect", "review")
    if rule_names is not None:
        names = dict(zip(EW_RULES, rule_names, strict=True))
        out["rules"] = [sep.join(names[r] for r in EW_RULES if row[r]) for _, row in out.iterrows()]
    return out


def warning_rules(flags: pd.DataFrame) -> pd.DataFrame:
    """Per early-warning rule, in :data:`EW_RULES` order: ``borrowers`` tripping it,
    their ``exposure`` and its ``exposure_share`` of all corporate borrowers' exposure
    (NaN without corporate borrowers)."""
    total = float(flags["exposure"].sum())
    rows = [
        {
            "rule": r,
            "borrowers": int(flags[r].sum()) if len(flags) else 0,
            "exposure": float(flags[flags[r]]["exposure"].sum()) if len(flags) else 0.0,
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


def loan_ltv_limit(book: pd.DataFrame, *, limit: float, limits: dict | None = None) -> pd.Series:
    """Each loan's LTV limit: its collateral type's in ``limits``, else ``limit``."""
    own = book["collateral_type"].map(dict(limits or {}))
    return pd.to_numeric(own, errors="coerce").astype(float).fillna(float(limit))


def _above(book: pd.DataFrame, limit: float, limits: dict | None) -> pd.Series:
    ltv = pd.to_numeric(book["ltv"]).astype(float)
    return ltv > loan_ltv_limit(book, limit=limit, limits=limits)


def ltv_breaches(book: pd.DataFrame, *, limit: float, limits: dict | None = None) -> pd.DataFrame:
    """Loans whose LTV (outstanding / collateral value) is above their collateral type's
    limit (``limits``, else ``limit``), largest first, names masked, with ``ltv_limit``
    and, where ``book`` has it, ``collateral_valued_on`` (the day the value is as of)."""
    b = book.assign(ltv_limit=loan_ltv_limit(book, limit=limit, limits=limits))
    b = b[_above(book, limit, limits)]
    cols = [
        "loan_id",
        "customer_id",
        "name",
        "product",
        "collateral_type",
        "outstanding",
        "collateral_value",
        *(["collateral_valued_on"] if "collateral_valued_on" in book.columns else []),
        "ltv",
        "ltv_limit",
    ]
    return b.assign(name=b["name"].map(mask_name)).sort_values(
        ["outstanding", "loan_id"], ascending=[False, True], ignore_index=True
    )[cols]


def ltv_breach_share(book: pd.DataFrame, *, limit: float, limits: dict | None = None) -> float:
    """Share of the secured outstanding (loans with a collateral value) whose LTV is above
    its collateral type's limit (``limits``, else ``limit``); NaN with no secured loans."""
    secured = pd.to_numeric(book["ltv"]).astype(float).notna()
    above = book.loc[_above(book, limit, limits), "outstanding"].sum()
    return ratio(float(above), float(book.loc[secured, "outstanding"].sum()))


def ltv_by_collateral(
    book: pd.DataFrame, *, limit: float, limits: dict | None = None
) -> pd.DataFrame:
    """The secured book per collateral type: ``collateral_type``, ``ltv_limit``, ``loans``,
    ``outstanding``, ``above`` (loans above the limit), ``above_outstanding`` and
    ``above_share`` (of the type's secured outstanding), largest type first."""
    secured = book[pd.to_numeric(book["ltv"]).astype(float).notna()]
    up = _above(secured, limit, limits)
    b = secured.assign(
        ltv_limit=loan_ltv_limit(secured, limit=limit, limits=limits),
        above=up.astype(int),
        above_outstanding=secured["outstanding"].where(up, 0.0),
    )
    g = b.groupby("collateral_type", as_index=False).agg(
        ltv_limit=("ltv_limit", "first"),
        loans=("loan_id", "size"),
        outstanding=("outstanding", "sum"),
        above=("above", "sum"),
        above_outstanding=("above_outstanding", "sum"),
    )
    g = g.assign(above_share=ratio(g["above_outstanding"], g["outstanding"]))
    return g.sort_values(
        ["outstanding", "collateral_type"], ascending=[False, True], ignore_index=True
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
    return ratio(by.nlargest(n).sum(), by.sum())
