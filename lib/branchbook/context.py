"""One call that gives a report notebook its data, its settings and its page.

>>> rc = open_report("segmentation", branch_id="0101")   # doctest: +SKIP
>>> d, cfg, page = rc.data, rc.settings, rc.page

Run by ``branchbook run``, the notebook receives the validated, merged parameters
(``settings`` for its own section, ``common`` for the bank-wide keys) and they are
validated again here. Opened by an analyst with the defaults (empty ``settings`` and
``common``), the branch's parameters are read from ``params/`` the same way the
runner reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import contract, coverage, holding, i18n, paths
from . import data as data_mod
from .metrics import basis, thresholds
from .page import Page
from .params import Common, ParamSet
from .reports import registry, settings_classes


@dataclass
class ReportContext:
    report: str
    data: data_mod.BranchData
    settings: Any
    common: Common
    page: Page
    #: each KPI's thresholds in force this period (``settings.kpi_status`` holds their
    #: red/amber/green numbers): :func:`branchbook.metrics.thresholds.resolve`
    thresholds: dict[str, thresholds.Threshold] = field(default_factory=dict)


def open_report(
    report: str,
    *,
    branch_id: str,
    period: str = "",
    locale: str = "",
    scope: str = "branch",
    settings: dict | None = None,
    common: dict | None = None,
    build_dir: str = "",
    params_dir: str = "",
    run_id: str = "",
) -> ReportContext:
    """Load the data and parameters of ``report`` for one branch and start its page."""
    spec = registry()[report]
    root = paths.project_root()
    params_path = Path(params_dir) if params_dir else root / "params"
    if settings and common:
        cfg = spec.settings.model_validate(settings)
        com = Common.model_validate(common)
    else:
        ps = ParamSet(params_path, settings_classes())
        bp = ps.for_branch(branch_id) if scope == "branch" else None
        cfg = (
            bp.sections[report]
            if bp
            else spec.settings.model_validate(dict(ps.bank.get(report, {})))
        )
        com = (
            bp.common
            if bp
            else Common.model_validate(
                {k: v for k, v in ps.bank.items() if k in Common.model_fields}
            )
        )
        if settings:
            cfg = spec.settings.model_validate(
                {**cfg.model_dump(mode="json", by_alias=True), **settings}
            )
    d = data_mod.load(
        period or None,
        branch_id,
        scope=scope,
        build_dir=build_dir or None,
        params_dir=params_path,
    )
    # a percentile rule becomes this period's cut-offs, computed once in prepare: the
    # cards, the summary and the definitions read the numbers in force
    ths: dict[str, thresholds.Threshold] = {}
    if hasattr(cfg, "kpi_status"):
        cuts = thresholds.read_cutoffs(d.bench, report)
        ths = thresholds.resolve(cfg.kpi_status, cuts, period=d.period)
        cfg = cfg.model_copy(update={"kpi_status": thresholds.rags(ths)})
    loc = locale or com.locale
    cov = d.coverage
    page = Page(
        report=report,
        locale=loc,
        bank_name=com.bank_name.get(loc),
        branch=d.branch,
        period=d.period,
        data_as_of=d.meta["period_end"],
        classification=com.classification.get(loc),
        currency=com.currency,
        suppress_below=com.suppress_below,
        level=scope.partition(":")[0],
        thresholds=ths,
        hidden=cov.hidden_sections(report),
        hidden_facts=cov.hidden_facts(report),
        not_recorded=cov.not_recorded({**coverage.KPI_NEEDS, **coverage.COLUMN_NEEDS}),
        provenance_info={
            "run_id": run_id,
            "fingerprint": d.fingerprint,
            "code_version": paths.code_version(),
        },
    )
    # only the findings about tables this report reads (a module without SOURCES: all)
    sources = getattr(spec.module, "SOURCES", None)
    # a report that reads a customer's AUM on the bank's balance basis names it on its
    # cards and says when it fell back to month end (no average daily balances)
    on_basis = "balance_basis" in getattr(spec.settings, "SHARED", ())
    recorded = d.meta.get("balance_basis") if on_basis else None
    page.balance_basis = (recorded or {}).get("used", "")
    fallback = basis.fallback_note(recorded)
    show_data_warnings(
        page,
        [w for w in d.warnings if sources is None or w.get("table") in sources],
        notes=[*([fallback] if fallback else ()), *branch_notes(d.meta, branch_id, scope)],
    )
    show_coverage(page, cov.reports.get(report))
    if scope == "bank":  # its action lists are aggregated per region and branch
        customers = d.table("customers")
        page.customer_branch = dict(
            zip(customers["customer_id"], customers["branch_id"], strict=True)
        )
        page.branch_region = dict(d.org.region)
        page.branch_names = page.unit_names(d.table("branches"))
    if scope != "branch":
        show_scope_preview(page, scope)
    return ReportContext(report=report, data=d, settings=cfg, common=com, page=page, thresholds=ths)


def show_scope_preview(page: Page, scope: str) -> None:
    """The notice on a region's or the bank's report: its figures are the pooled rows'
    (right), a card shows "n/a" where the scope's last period, start of year or the
    bank's value is not kept as sums, and its named lists cover the whole scope, masked
    as in a branch's report (the bank's are not yet aggregated)."""
    if scope == "bank":
        where = page.t("common.scope_preview.bank")
    else:
        name = i18n.label("common.regions", scope.partition(":")[2], page.locale)
        where = page.t("common.scope_preview.region", name=name)
    lists = "common.scope_preview.lists_bank" if scope == "bank" else "common.scope_preview.lists"
    lines = [page.t("common.scope_preview.cards"), page.t(lists, scope=where)]
    page.notice(page.t("common.scope_preview.title", scope=where), lines)


def branch_notes(meta: dict, branch_id: str, scope: str = "branch") -> list:
    """The data-coverage lines on which branch holds a customer (:mod:`branchbook.holding`):
    without ``customer_branch_history`` every period uses today's branch; with it, a
    branch's report says how many customers moved in and out since the start of the
    year (its comparisons count them in the branch holding them now). A period prepared
    before the history was read: none."""
    hist = meta.get("branch_history")
    if not hist:
        return []
    if not hist.get("recorded"):
        return [holding.NOTE_TODAY]
    moved = (hist.get("moves") or {}).get(str(branch_id)) if scope == "branch" else None
    if not moved:
        return []
    return [(holding.NOTE_MOVES, {"moved_in": int(moved["in"]), "moved_out": int(moved["out"])})]


def show_data_warnings(page: Page, warnings: list[dict[str, Any]], *, notes: Sequence = ()) -> None:
    """The "data quality warnings" notice: one line saying what they are, then one per
    warning-level rule the branch's data break (count and up to five example keys,
    never a value of the row), in the page's locale, then one per catalogue key of
    ``notes`` (what the report reads in place of data the warehouse lacks).

    Shown by :func:`open_report` before the title; the page puts them after the
    title, the summary and the KPI cards.
    """
    if not warnings and not notes:
        return
    lines = []
    for w in warnings:
        key = list(w.get("key") or [])
        name = key[0] if len(key) == 1 else f"({', '.join(key)})"
        examples = (
            f"{name}={', '.join(map(str, w.get('examples') or []))}" if w.get("examples") else "–"
        )
        values = {
            "count": int(w.get("count") or 0),
            "examples": examples,
            "days": contract.STALE_COMPLAINT_DAYS,
            "limit": f"{contract.OUTSTANDING_LIMIT:g}",
            "where": ".".join(p for p in (w.get("table"), w.get("column")) if p),
            "rule": str(w.get("rule", "")),
            "detail": str(w.get("detail") or ""),
        }
        text_key = f"common.data_warnings.rules.{w.get('rule')}"
        if not i18n.has(text_key, page.locale):
            text_key = "common.data_warnings.other"
        if w.get("bank_wide"):
            lines.append(page.t("common.data_warnings.bank_wide", text=page.t(text_key, **values)))
        else:
            lines.append(page.t(text_key, **values))
    # a note is a catalogue key, or (key, values) for one with numbers
    lines += [page.t(n) if isinstance(n, str) else page.t(n[0], **n[1]) for n in notes]
    title = "common.data_warnings.title" if warnings else "common.data_warnings.title_coverage"
    page.notice(page.t(title), lines)


def show_coverage(page: Page, verdict: coverage.ReportCoverage | None) -> None:
    """The data-coverage note: one line per section left out because the warehouse
    does not record what it needs, naming the missing tables or columns, in the page's
    locale. Nothing when every section has its data."""
    if verdict is None or not verdict.sections_off:
        return
    lines = [
        page.t(
            "common.coverage.line",
            section=page.t(f"common.coverage.sections.{section}"),
            missing=", ".join(names),
        )
        for section, names in verdict.sections_off.items()
    ]
    page.notice(page.t("common.coverage.title"), lines)
