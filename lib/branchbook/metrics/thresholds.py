"""Where a KPI card's colour comes from: a regulatory norm, the bank's own branches, or
a number the bank set.

Each KPI's entry of ``kpi_status`` is one of three rules:

- :class:`~branchbook.params.Rag` (``fixed``): green/amber thresholds the bank set, e.g.
  ``{good: low, green: 0.30, amber: 0.50}``;
- :class:`Norm` (``regulatory``): the same, with the norm it applies named
  (``norm: npl_ceiling``): red is beyond the regulator's limit;
- :class:`Percentile` (``bank_distribution``): relative to the bank's branches this
  period. Amber beyond the ``amber`` percentile of the branches' values in the good
  direction, red beyond the ``red`` one: for a KPI where low is good, amber above the
  75th percentile, red above the 90th; where high is good, amber below the 25th, red
  below the 10th. A value equal to a cut-off is not beyond it. With fewer than
  ``min_branches`` branches having a value, the rule's ``fallback`` (fixed thresholds)
  applies instead.

The percentile cut-offs are computed once per period, in prepare, from each report's
benchmark (:func:`cutoffs`, the ``bench_<report>_cutoffs`` artifact), so every card, the
index and every report that shows a KPI colour it by the same numbers; :func:`resolve`
turns the rules into this period's thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Discriminator, Field, Tag, model_validator

from .. import fmt, i18n
from ..errors import BranchbookError
from ..params import Rag, Section
from .declare import Metric, of_report

Source = Literal["regulatory", "bank_distribution", "fixed"]

#: Regulatory norms a ``norm:`` may name: the limit and where it is written.
NORMS: dict[str, str] = {
    # CBRC (now NFRA), Core Indicators for the Risk-based Supervision of Commercial Banks
    # (trial), 2005: the NPL ratio (non-performing loans / all loans) is not above 5%.
    "npl_ceiling": "common.thresholds.norms.npl_ceiling",
}

CUTOFF_COLUMNS = (
    "kpi",
    "period",
    "good",
    "amber_pct",
    "red_pct",
    "amber_cut",
    "red_cut",
    "branches",
)


class Norm(Rag):
    """Fixed thresholds whose red line is a regulatory norm (``norm`` names it)."""

    norm: Literal["npl_ceiling"]


class Percentile(Section):
    """Amber beyond the ``amber`` percentile of the bank's branches (in the good
    direction), red beyond the ``red`` one; ``fallback`` (fixed thresholds) with fewer
    than ``min_branches`` branches."""

    rule: Literal["percentile"]
    amber: float = Field(default=75.0, ge=50.0, lt=100.0)
    red: float = Field(default=90.0, gt=50.0, lt=100.0)
    min_branches: int = Field(default=8, ge=3, le=1000)
    fallback: Rag | None = None

    @model_validator(mode="after")
    def _order(self) -> Percentile:
        if self.red <= self.amber:
            raise ValueError(
                f"red ({self.red}) must be a higher percentile than amber ({self.amber})"
            )
        return self


def relative(fallback: Rag) -> Percentile:
    """The default percentile rule (amber beyond the 75th, red beyond the 90th, at least
    8 branches), with ``fallback`` for fewer branches."""
    return Percentile(rule="percentile", fallback=fallback)


def _kind(v: Any) -> str:
    if isinstance(v, Mapping):
        return "percentile" if "rule" in v else "regulatory" if "norm" in v else "fixed"
    return (
        "percentile"
        if isinstance(v, Percentile)
        else "regulatory"
        if isinstance(v, Norm)
        else "fixed"
    )


#: One KPI's ``kpi_status`` entry: fixed thresholds, a norm, or the percentile rule.
StatusRule = Annotated[
    Annotated[Rag, Tag("fixed")]
    | Annotated[Norm, Tag("regulatory")]
    | Annotated[Percentile, Tag("percentile")],
    Discriminator(_kind),
]


def source(rule: Any) -> Source:
    """The source of a rule: ``regulatory``, ``bank_distribution`` or ``fixed``."""
    kind = _kind(rule)
    return "bank_distribution" if kind == "percentile" else kind  # type: ignore[return-value]


def check_kpi_status(
    given: Mapping[str, Any], defaults: Mapping[str, Any], known: Iterable[str]
) -> dict[str, Any]:
    """A report's ``kpi_status``: its ``defaults`` with ``given`` entries replacing
    them. A key not among ``known`` (the report's declared KPIs) is refused; a percentile
    rule without a ``fallback`` keeps the default's fixed thresholds as its fallback."""
    known = list(known)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValueError(f"unknown KPI(s) {', '.join(unknown)}; allowed: {', '.join(known)}")
    out = {**defaults, **given}
    for key, rule in given.items():
        if isinstance(rule, Percentile) and rule.fallback is None:
            out[key] = rule.model_copy(update={"fallback": as_rag(defaults.get(key))})
    return out


def as_rag(rule: Any) -> Rag | None:
    """Fixed thresholds of a rule: itself for fixed and regulatory ones, the fallback of
    a percentile rule whose cut-offs are not known (no prepared period at hand)."""
    if rule is None:
        return None
    if isinstance(rule, Mapping):
        rule = _from_mapping(rule)
    if isinstance(rule, Percentile):
        return rule.fallback
    return rule


def _from_mapping(rule: Mapping[str, Any]) -> Any:
    kind = _kind(rule)
    cls = Percentile if kind == "percentile" else Norm if kind == "regulatory" else Rag
    return cls.model_validate(dict(rule))


def percentile_cuts(values: pd.Series, good: str, amber: float, red: float) -> tuple[float, float]:
    """``(amber_cut, red_cut)`` of ``values`` (NaN dropped, linear interpolation): for
    ``good="low"`` the ``amber``-th and ``red``-th percentiles, for ``"high"`` the
    ``100 - amber``-th and ``100 - red``-th."""
    v = pd.Series(values, dtype=float).dropna()
    if not len(v):
        return math.nan, math.nan
    if good == "low":
        return float(v.quantile(amber / 100)), float(v.quantile(red / 100))
    return float(v.quantile(1 - amber / 100)), float(v.quantile(1 - red / 100))


def cutoffs(
    frame: pd.DataFrame,
    metrics: Iterable[Metric],
    rules: Mapping[str, Any],
    *,
    period: str,
    unit_col: str = "branch_id",
    period_col: str = "period",
) -> pd.DataFrame:
    """This period's cut-offs of every metric whose rule is a percentile rule, from a
    frame with one row per unit (branch) and period: ``kpi, period, good, amber_pct,
    red_pct, amber_cut, red_cut, branches`` (branches with a value). With fewer than
    the rule's ``min_branches`` branches, or no good direction, the cuts are NaN and
    the rule's fallback applies."""
    now = frame[frame[period_col] == period] if period_col in frame else frame.iloc[0:0]
    rows = []
    for m in metrics:
        rule = rules.get(m.key)
        if not isinstance(rule, Percentile) or m.good is None:
            continue
        values = now[m.key].dropna() if m.key in now else pd.Series(dtype=float)
        n = int(now.loc[values.index, unit_col].nunique()) if len(values) else 0
        amber_cut, red_cut = (
            percentile_cuts(values, m.good, rule.amber, rule.red)
            if n >= rule.min_branches
            else (math.nan, math.nan)
        )
        rows.append(
            {
                "kpi": m.key,
                "period": period,
                "good": m.good,
                "amber_pct": rule.amber,
                "red_pct": rule.red,
                "amber_cut": amber_cut,
                "red_cut": red_cut,
                "branches": n,
            }
        )
    return pd.DataFrame(rows, columns=list(CUTOFF_COLUMNS))


def artifact(report: str) -> str:
    """The name of the prepared artifact holding ``report``'s cut-offs."""
    return f"bench_{report}_cutoffs"


def prepare_cutoffs(
    report: str,
    unit_kpis: Callable,
    frames: Mapping[str, pd.DataFrame],
    settings: Any,
    *,
    period: str,
) -> dict[str, pd.DataFrame]:
    """``{artifact(report): cut-offs}`` of the metrics ``report`` owns, from the frames its
    prepare just made (read through its ``unit_kpis``) under the bank's ``settings``:
    what prepare writes once per period beside the report's other benchmarks."""
    frame = unit_kpis(lambda name: frames[name], settings)
    owned = [m for m in of_report(report) if m.report == report]
    return {artifact(report): cutoffs(frame, owned, settings.kpi_status, period=period)}


def read_cutoffs(bench: Callable[[str], pd.DataFrame], report: str) -> pd.DataFrame:
    """The cut-offs of every metric ``report`` shows, from the prepared artifacts of the
    reports that own them (``bench``: name -> frame); a period prepared without them
    gives an empty frame, and each percentile rule its fallback."""
    parts = []
    for owner in sorted({m.report for m in of_report(report)} | {report}):
        try:
            parts.append(bench(artifact(owner)))
        except (OSError, LookupError, ValueError, BranchbookError):
            continue
    parts = [p for p in parts if len(p)]
    return (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(CUTOFF_COLUMNS))
    )


@dataclass(frozen=True)
class Threshold:
    """One KPI's thresholds in force this period: ``rag`` (None: no colour), its
    ``source``, and for a percentile rule its percentiles, the branches they were taken
    over and whether the fallback applies (too few branches)."""

    key: str
    source: Source
    rag: Rag | None
    amber_pct: float = math.nan
    red_pct: float = math.nan
    branches: int = 0
    fallback: bool = False
    norm: str = ""
    min_branches: int = 0


def resolve(
    rules: Mapping[str, Any], cuts: pd.DataFrame | None, *, period: str
) -> dict[str, Threshold]:
    """This period's :class:`Threshold` of every rule: a fixed or regulatory rule as it
    is; a percentile rule at ``cuts``' cut-offs for ``period`` (its fallback when the cuts
    are missing or NaN: too few branches, or a period prepared without them)."""
    out = {}
    for key, rule in rules.items():
        if isinstance(rule, Mapping):
            rule = _from_mapping(rule)
        if not isinstance(rule, Percentile):
            norm = rule.norm if isinstance(rule, Norm) else ""
            out[key] = Threshold(key, source(rule), Rag(**_rag_fields(rule)), norm=norm)
            continue
        row = (
            cuts[(cuts["kpi"] == key) & (cuts["period"] == period)]
            if cuts is not None and len(cuts)
            else pd.DataFrame()
        )
        cut = row.iloc[0] if len(row) else None
        usable = (
            cut is not None and math.isfinite(cut["amber_cut"]) and math.isfinite(cut["red_cut"])
        )
        rag = (
            Rag(good=cut["good"], green=float(cut["amber_cut"]), amber=float(cut["red_cut"]))
            if usable
            else rule.fallback
        )
        out[key] = Threshold(
            key,
            "bank_distribution",
            rag,
            amber_pct=rule.amber,
            red_pct=rule.red,
            branches=int(cut["branches"]) if cut is not None else 0,
            fallback=not usable,
            min_branches=rule.min_branches,
        )
    return out


def _rag_fields(rule: Rag) -> dict[str, Any]:
    return {"good": rule.good, "green": rule.green, "amber": rule.amber}


def rags(thresholds: Mapping[str, Threshold]) -> dict[str, Rag]:
    """``{key: Rag}`` of the thresholds that colour a card (what ``card_frame`` takes)."""
    return {k: t.rag for k, t in thresholds.items() if t.rag is not None}


def cut_text(value: float, kind: str, locale: str) -> str:
    """A threshold as printed: in the KPI's format, shares with two decimals (a cut-off
    between branches is often within 0.1 point of a branch's value, 3.27% against 3.29%)."""
    if kind == "pct":
        return fmt.pct(value, locale, digits=2)
    return fmt.format_value(value, "num" if kind == "money" else kind, locale)


def explain(th: Threshold, kind: str, locale: str) -> str:
    """One sentence for the definitions appendix: how the KPI's colour is set and, for
    a percentile rule, this period's cut-offs (or why the fixed fallback applies)."""
    rag = th.rag

    def num(x: float) -> str:
        return cut_text(x, kind, locale)

    def t(key: str, **values: Any) -> str:
        return i18n.t(f"common.thresholds.{key}", locale, **values)

    if rag is None:
        return t("none")
    worse = t("above" if rag.good == "low" else "below")
    rule = t(
        "rule", sym="≤" if rag.good == "low" else "≥", green=num(rag.green), amber=num(rag.amber)
    )
    if th.source == "regulatory":
        return t(
            "regulatory",
            norm=i18n.t(NORMS[th.norm], locale),
            dir=worse,
            red=num(rag.amber),
            amber=num(rag.green),
        )
    if th.source == "fixed":
        return t("fixed", rule=rule)
    if th.fallback:
        return t("fallback", branches=th.branches, min=th.min_branches, rule=rule)
    low = rag.good == "low"
    return t(
        "percentile",
        branches=th.branches,
        dir=worse,
        amber_pct=f"{th.amber_pct if low else 100 - th.amber_pct:g}",
        red_pct=f"{th.red_pct if low else 100 - th.red_pct:g}",
        amber=num(rag.green),
        red=num(rag.amber),
    )
