"""Applying the bank's scorecard to a branch: scores, corrected PDs and expected loss;
the branch's score distribution against the bank's bands (a mix comparison, not drift);
and the tables that describe the scorecard in the report. Its validation is in
:mod:`.validation`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from .scorecard import MISSING, OTHER, Scorecard
from .settings import NPL_CLASSES, Lgd
from .validation import corrected_pd


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


def scorecard_bins(
    sc: Scorecard,
    *,
    names: Callable[[list[str], str], list[str]] | None = None,
    sep: str = "; ",
) -> pd.DataFrame:
    """The points table: the bins of the characteristics in the model, in the model's
    order, with the columns of :meth:`Scorecard.iv_table` and ``label``, the bin as a
    code under the catalogue's ``values`` (``product.mortgage``, ``bin.(missing)``) or,
    for a numeric bin, its interval (``< 0.7217``, ``0.0401 – 0.0457``, ``≥ 0.0732``;
    bins include their lower bound). A text bin holding several levels is labelled by
    their display names joined by ``sep``: ``names(levels, feature)`` gives them (the
    report's ``Page.labels``; ``(other)`` under ``bin``); without ``names``, the bin's
    own label (``consumer, mortgage``)."""
    t = sc.iv_table()
    t = t[t["in_model"]].copy()
    order = {f: i for i, f in enumerate(sc.features)}
    t = t.sort_values("feature", key=lambda c: c.map(order), kind="stable")
    labels = []
    for f, group in t.groupby("feature", sort=False):
        b = sc.bins_[f]
        names_ = _interval_labels(b.cuts) if b.kind == "numeric" else None
        for i, raw in enumerate(group["bin"]):
            members = _members(b.levels, raw) if b.kind != "numeric" else []
            if len(members) > 1:
                labels.append(_group_label(members, f, names, sep) if names else raw)
            elif raw in (MISSING, OTHER, "all"):
                labels.append(f"bin.{raw}")
            elif names_ is not None:
                labels.append(names_[i])
            else:
                labels.append(f"{f}.{raw}")
    return t.assign(label=labels).reset_index(drop=True)


def _members(levels: dict[str, str], label: str) -> list[str]:
    """The levels a text bin's label names (``a, b, (other)``; the rare levels inside
    ``(other)`` are not named), ``(other)`` last."""
    parts = set(label.split(", "))
    got = sorted(lvl for lvl, lab in levels.items() if lab == label and lvl in parts)
    return [g for g in got if g != OTHER] + [OTHER] * (levels.get(OTHER) == label)


def _group_label(members: list[str], feature: str, names, sep: str) -> str:
    levels = [m for m in members if m != OTHER]
    shown = names(levels, feature) + (names([OTHER], "bin") if OTHER in members else [])
    return sep.join(shown)


def scorecard_note(sc: Scorecard) -> tuple[str, dict]:
    """The sentence describing how the scorecard was fitted and scaled: ``(key, values)``."""
    return (
        "risk.notes.scorecard",
        {
            "loans": sc.meta_.get("rows", 0),
            "defaults": sc.meta_.get("events", 0),
            "month": sc.meta_.get("development_month", ""),
            "until": sc.meta_.get("validation_month", ""),
            "pdo": sc.params["pdo"],
            "base_score": sc.params["base_score"],
            "base_odds": sc.params["base_odds"],
        },
    )


def score_book(
    loans: pd.DataFrame,
    *,
    scorecard: Scorecard | None,
    lgd: Lgd,
    default_dpd: int = 90,
    ccf: float = 0.5,
) -> pd.DataFrame:
    """``loans`` with ``in_default``, ``score``, ``pd_model``, ``pd``, ``lgd``, ``ead`` and ``el``.

    In default: more than ``default_dpd`` days past due or classed substandard or worse.
    ``pd_model`` is the scorecard's 12-month PD corrected to the default rate observed out
    of time (its log-odds shifted by ``calibration_shift``, kept with the scorecard; see
    :mod:`.validation`); ``pd`` is 1 for a loan in default and ``pd_model`` otherwise. LGD by collateral type (an unknown type counts as unsecured,
    ``none``); EAD = outstanding + ``ccf`` x ``undrawn`` (the undrawn commitment, where
    the frame has one; a missing value counts as none); expected loss
    ``el = pd * lgd * ead`` (money). Without a scorecard, score, PDs and expected loss
    are NaN.
    """
    out = loans.copy()
    in_default = (pd.to_numeric(out["dpd"]) > default_dpd) | out["five_class"].isin(NPL_CLASSES)
    if scorecard is None or out.empty:
        score = p = np.full(len(out), np.nan)
    else:
        score = scorecard.score(out)
        shift = scorecard.meta_.get("calibration_shift") or 0.0
        p = corrected_pd(scorecard.predict_proba(out)[:, 1], shift if math.isfinite(shift) else 0.0)
    rates = lgd.model_dump()
    loss = out["collateral_type"].map(rates).astype(float).fillna(rates["none"])
    ead = pd.to_numeric(out["outstanding"]).astype(float)
    if "undrawn" in out.columns:
        ead = ead + ccf * pd.to_numeric(out["undrawn"]).astype(float).fillna(0.0)
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


def ead_note(book: pd.DataFrame, *, ccf: float) -> tuple[str, dict]:
    """The sentence saying how PD, LGD and EAD are obtained: ``(key, values)``; with
    undrawn commitments in the book, the credit conversion factor and their amount."""
    undrawn = (
        float(pd.to_numeric(book["undrawn"]).astype(float).fillna(0.0).sum())
        if "undrawn" in book.columns
        else 0.0
    )
    if undrawn > 0:
        return "risk.notes.el_method_ccf", {"ccf": ccf, "undrawn": undrawn}
    return "risk.notes.el_method", {}


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


def psi_note(
    value: float, *, watch: float = 0.10, shift: float = 0.25, against: str = "bank"
) -> tuple[str, dict]:
    """The sentence reading a PSI against its bands: ``(key, values)``; ``against`` the
    ``bank`` (a mix comparison) or the ``development`` sample (drift)."""
    band = psi_band(value, watch=watch, shift=shift)
    prefix = "psi" if against == "bank" else "drift"
    return f"risk.notes.{prefix}_{band}", {"psi": value, "watch": watch, "shift": shift}
