"""What changed since last month and since the start of the year, and why: the loan
book's bridges (:mod:`branchbook.stats.bridges`), against last month (比上月) and the
end of last year (比年初).

* **loans outstanding**, a stock: opening -> new loans -> growth (drawdowns) of loans on
  the book at both ends -> decline (repayments) of those -> loans that left the book,
  by how they left (``loans.closed_reason``: repaid, written off, restructured; closed
  when the warehouse does not say) -> closing; by product and by customer manager.
* **NPL ratio** and **special-mention ratio**: the change split per product (or
  manager) into a rate effect and a mix effect by the symmetric shift-share.
* **the five-class book**: a migration matrix of balances from each class at the
  opening (and new lending) to each class now (and repaid, written off, restructured).

The rows are ``risk_bridge`` (:func:`prepare_bridge`, computed once per period for the
whole bank and cut per branch): one per loan with a positive balance at one of the
three month ends. A loan is on the book at a month end when its snapshot then has a
positive balance, as in the KPI cards, so the bridges open and close at the ratios the
report publishes. Amounts in CNY; ratio effects in ratio units (0.001 = 0.1 pp).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..memo import FrameMemo
from ..metrics import ratio
from ..metrics.history import CLOSE_REASONS, History
from ..metrics.history import history as dated_history
from ..period import Period
from ..stats import balance_migration, largest_driver, rate_mix_by, rate_mix_total, stock_bridge
from ..stats import stock_total as _stock_total
from . import queries as q
from .settings import CLOSED, FIVE_CLASSES, NPL_CLASSES

#: The bases of a bridge: the suffix of the opening month end's columns.
BASES: dict[str, str] = {"month": "_prev", "year": "_year"}
#: The ratios bridged: the five-class categories in the numerator.
RATIOS: dict[str, tuple[str, ...]] = {
    "npl_ratio": NPL_CLASSES,
    "special_mention_ratio": ("special_mention",),
}
#: How a fall of a loan that stays on the book is read: a repayment.
REPAID = "repaid"


def prepare_bridge(ctx, h: History | None = None) -> pd.DataFrame:
    """``risk_bridge``: the loans behind the bridges (:func:`.queries.bridge_sql`), with
    ``outstanding`` / ``five_class`` now, ``_prev`` last month and ``_year`` at the end
    of last year (NaN: not on the book then). ``h``: what the warehouse dates (read
    from it when not given), for ``closed_reason``."""
    p = Period.parse(ctx.period)
    year = p.year_start.prev
    raw = ctx.sql(
        q.bridge_sql(h if h is not None else dated_history(ctx)),
        period=str(p),
        prev_period=str(p.prev),
        year_period=str(year),
    )
    out = raw.copy()
    for suffix in ("", *BASES.values()):
        out[f"outstanding{suffix}"] = pd.to_numeric(out[f"outstanding{suffix}"]).astype(float)
        out[f"five_class{suffix}"] = out[f"five_class{suffix}"].astype(object)
    return out.reset_index(drop=True)


def _suffix(base: str) -> str:
    if base not in BASES:
        raise ValueError(f"`base` is expected to be one of {tuple(BASES)}. Got {base!r} instead.")
    return BASES[base]


def bridge_rows(rows: pd.DataFrame, *, base: str, unassigned: str = "") -> pd.DataFrame:
    """One row per loan on the book at the opening (``base``) or now: ``opening`` /
    ``closing`` (CNY, NaN when not on the book), ``class_opening`` / ``class_closing``,
    the numerators ``npl_ratio_opening`` ... (the balance when in the ratio's classes,
    else 0), ``product``, ``manager`` (the name; ``unassigned`` without a manager),
    ``left_as`` (how a loan on the book at the opening and not now left it, else NaN)
    and ``exit`` (where a fall went: ``left_as``, else a repayment)."""
    return _rows(rows, base=base, unassigned=unassigned).copy()


_ROWS = FrameMemo()  # the report asks for the same rows some seventy times


def _rows(rows: pd.DataFrame, *, base: str, unassigned: str = "") -> pd.DataFrame:
    """:func:`bridge_rows` of ``rows``, made once per frame, base and ``unassigned``
    (:class:`~branchbook.memo.FrameMemo`); the caller must not change what it gets."""
    return _ROWS.get(
        rows,
        (base, unassigned),
        lambda: _make_rows(rows, base=base, unassigned=unassigned),
    )


def _make_rows(rows: pd.DataFrame, *, base: str, unassigned: str) -> pd.DataFrame:
    suffix = _suffix(base)
    a0 = pd.to_numeric(rows[f"outstanding{suffix}"]).astype(float)
    a1 = pd.to_numeric(rows["outstanding"]).astype(float)
    on0, on1 = a0.notna() & (a0 > 0), a1.notna() & (a1 > 0)
    c0 = rows[f"five_class{suffix}"].astype(object).where(on0)
    c1 = rows["five_class"].astype(object).where(on1)
    left = on0 & ~on1
    left_as = rows["exit"].astype(object).fillna(CLOSED).where(left)
    out = pd.DataFrame(
        {
            "loan_id": rows["loan_id"],
            "product": rows["product"].astype(object).fillna(""),
            "manager": rows["manager_name"].astype(object).fillna(unassigned),
            "opening": a0.where(on0),
            "closing": a1.where(on1),
            "class_opening": c0,
            "class_closing": c1,
            "left_as": left_as,
            "exit": left_as.fillna(REPAID),
        },
        index=rows.index,
    )
    for name, classes in RATIOS.items():
        out[f"{name}_opening"] = a0.where(on0 & c0.isin(classes), 0.0)
        out[f"{name}_closing"] = a1.where(on1 & c1.isin(classes), 0.0)
    return out[on0 | on1].reset_index(drop=True)


def exit_columns(rows: pd.DataFrame, *, known: bool = True) -> list[str]:
    """How loans left the book, as columns: repaid, written off and restructured when the
    warehouse records ``closed_reason`` (``known``), with ``closed`` added when some
    loan left without one since either base; else ``closed`` alone."""
    if not known:
        return [CLOSED]
    unknown = any((_rows(rows, base=b)["left_as"] == CLOSED).any() for b in BASES)
    return [*CLOSE_REASONS, *([CLOSED] if unknown else [])]


def loans_bridge(
    rows: pd.DataFrame, *, base: str, by: str = "product", known: bool = True, unassigned: str = ""
) -> pd.DataFrame:
    """The stock bridge of loans outstanding (CNY) per ``by`` (``product`` or
    ``manager``), largest book first: ``loans`` (on the book now), opening, new,
    growth, decline, lost (split into the columns of :func:`exit_columns`: the opening
    balance of the loans that left, negative), closing; the moves columns of
    :func:`branchbook.stats.stock_bridge` are 0 (a loan keeps its product and manager).
    Opening + new + growth + decline + lost = closing."""
    b = _rows(rows, base=base, unassigned=unassigned)
    out = stock_bridge(b, opening="opening", closing="closing", by=by)
    order = list(out.index)
    for e in exit_columns(rows, known=known):
        # without recorded reasons every loan that left is "closed", whatever it says
        gone = b[b["left_as"] == e] if known else b[b["left_as"].notna()]
        lost = stock_bridge(gone, opening="opening", closing="closing", by=by, order=order)
        out[e] = lost["lost"]
    out.insert(0, "loans", b.groupby(by)["closing"].count().reindex(order).fillna(0).astype(float))
    size = out[["opening", "closing"]].max(axis=1)
    return out.loc[size.sort_values(ascending=False, kind="stable").index]


def loans_total(rows: pd.DataFrame, *, base: str, known: bool = True) -> pd.Series:
    """The whole bridge of loans outstanding against ``base``: opening, new, growth,
    decline, lost and its split by how loans left, closing (the sums over products)."""
    return loans_bridge(rows, base=base, known=known).drop(columns="loans").sum().astype(float)


def ratio_split(
    rows: pd.DataFrame, *, base: str, ratio_key: str = "npl_ratio", by: str = "product",
    unassigned: str = "",
) -> pd.DataFrame:  # fmt: skip
    """The change of ``ratio_key`` (``npl_ratio`` or ``special_mention_ratio``) split
    per ``by`` into rate and mix effects (:func:`branchbook.stats.rate_mix_by`, ratio
    units), largest contribution first. A product that appears or disappears has only
    a mix effect; with no book at the opening the effects are NaN."""
    b = _rows(rows, base=base, unassigned=unassigned)
    split = rate_mix_by(
        b, num=(f"{ratio_key}_opening", f"{ratio_key}_closing"), den=("opening", "closing"), by=by
    )
    order = split["contribution"].abs().sort_values(ascending=False, kind="stable").index
    return split.loc[order]


def ratio_total(rows: pd.DataFrame, *, base: str, ratio_key: str = "npl_ratio") -> dict[str, float]:
    """The ratio at the opening and now (ratios of sums, NaN without a book), the rate
    and mix effects summed over products, the change and the residual (0 up to floating
    point; NaN when the opening ratio is not defined)."""
    b = _rows(rows, base=base)
    opening = ratio(b[f"{ratio_key}_opening"].sum(), b["opening"].sum())
    closing = ratio(b[f"{ratio_key}_closing"].sum(), b["closing"].sum())
    split = ratio_split(rows, base=base, ratio_key=ratio_key)
    return rate_mix_total(split, opening=opening, closing=closing)


def ratio_total_row(rows: pd.DataFrame, *, base: str, ratio_key: str = "npl_ratio") -> dict:
    """The totals row of a :func:`ratio_split` table: the branch's ratio then and now,
    the whole book's share (1, or NaN without a book), the effects summed and the
    contribution equal to the change."""
    t = ratio_total(rows, base=base, ratio_key=ratio_key)
    whole = {end: 1.0 if pd.notna(t[end]) else float("nan") for end in ("opening", "closing")}
    return {
        "rate_opening": t["opening"],
        "rate_closing": t["closing"],
        "weight_opening": whole["opening"],
        "weight_closing": whole["closing"],
        "rate_effect": t["rate_effect"],
        "mix_effect": t["mix_effect"],
        "contribution": t["change"],
    }


def manager_ratios_total(rows: pd.DataFrame, *, base: str) -> dict:
    """The totals row of :func:`manager_ratios`: the branch's ratios then and now and
    their changes (the managers' contributions add up to them)."""
    out = {}
    for key in RATIOS:
        t = ratio_total(rows, base=base, ratio_key=key)
        out.update(
            {
                f"{key}_opening": t["opening"],
                f"{key}_closing": t["closing"],
                f"{key}_contribution": t["change"],
            }
        )
    return out


def manager_ratios(rows: pd.DataFrame, *, base: str, unassigned: str = "") -> pd.DataFrame:
    """Per manager: the NPL and special-mention ratios of the loans they handle then and
    now and their contribution to the change of the branch's ratio (rate + mix, ratio
    units); largest NPL contribution first."""
    parts = {
        key: ratio_split(rows, base=base, ratio_key=key, by="manager", unassigned=unassigned)
        for key in RATIOS
    }
    out = pd.concat(
        {
            f"{key}_{col}": split[col]
            for key, split in parts.items()
            for col in ("rate_opening", "rate_closing", "contribution")
        },
        axis=1,
    )
    out = out.rename(columns=lambda c: c.replace("_rate_", "_"))
    order = out["npl_ratio_contribution"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order].rename_axis("manager")


def migration(rows: pd.DataFrame, *, base: str, known: bool = True) -> pd.DataFrame:
    """The five-class book as a matrix of balances (CNY) from each class at the opening
    (and ``new`` lending: new loans and drawdowns) to each class now and to how a
    balance left (repaid: repayments of loans still on the book and loans repaid off;
    written off, restructured, closed: whole loans that left so), with ``total`` per
    row: a class's row adds up to its opening balance, a class's column to its closing
    balance (:func:`branchbook.stats.balance_migration`)."""
    b = _rows(rows, base=base)
    if not known:
        b = b.assign(exit=b["exit"].where(b["left_as"].isna(), CLOSED))
    exits = [REPAID, *(e for e in exit_columns(rows, known=known) if e != REPAID)]
    m = balance_migration(
        b,
        state_opening="class_opening",
        state_closing="class_closing",
        opening="opening",
        closing="closing",
        states=FIVE_CLASSES,
        exit="exit",
        exits=exits,
    )
    return m.assign(total=m.sum(axis=1))


def bridge_facts(
    rows: pd.DataFrame,
    *,
    min_change: float,
    min_change_pp: float,
    label: Callable[[str, Any], str],
    base: str = "month",
    known: bool = True,
) -> list[tuple[str, dict[str, Any]]]:
    """One summary sentence per headline that moved against ``base``, in this order:
    the NPL ratio (by ``min_change_pp`` or more, ratio units), loans outstanding (by
    ``min_change`` or more of the opening) and the special-mention ratio (by
    ``min_change_pp``). Each names its largest driver and its size: a product's rate or
    mix effect, or a part of the loan bridge in one product. ``label(prefix, code)``
    translates the base, the part and the product. Drivers are products, never a
    customer; nothing without a book at the opening."""
    words = "risk.bridge.words"
    facts: list[tuple[str, dict[str, Any]]] = []

    def ratio_fact(key: str) -> None:
        t = ratio_total(rows, base=base, ratio_key=key)
        if not pd.notna(t["change"]) or abs(t["change"]) < min_change_pp:
            return
        driver = largest_driver(
            ratio_split(rows, base=base, ratio_key=key), parts=("rate_effect", "mix_effect")
        )
        if driver is None:
            return
        product, part, amount = driver
        facts.append(
            (
                f"risk.summary.bridge_{key}",
                {
                    "base": label("common.bridge.bases", base),
                    "change": t["change"],
                    "product": label("risk.values.product", product),
                    "part": label(words, part),
                    "amount": amount,
                },
            )
        )

    ratio_fact("npl_ratio")
    b = loans_bridge(rows, base=base, known=known)
    t = _stock_total(b)
    change = t["closing"] - t["opening"]
    if t["opening"] > 0 and abs(change) >= min_change * t["opening"]:
        parts = ("new", "growth", "decline", *exit_columns(rows, known=known))
        driver = largest_driver(b, parts=parts)
        if driver is not None:
            product, part, amount = driver
            facts.append(
                (
                    "risk.summary.bridge_loans",
                    {
                        "base": label("common.bridge.bases", base),
                        "change": change,
                        "change_rel": change / t["opening"],
                        "product": label("risk.values.product", product),
                        "part": label(words, part),
                        "amount": amount,
                    },
                )
            )
    ratio_fact("special_mention_ratio")
    return facts
