"""What each table and column is needed for, and what a warehouse's coverage allows.

The contract (:mod:`branchbook.contract`) says what a column must look like; this
module says what it is *for*. Each table, and each column that differs from its
table, has one tier:

``required``
    without it nothing can be computed (the branches, the customers and their monthly
    balances). Missing, it is an error: ``branchbook validate`` and ``prepare`` refuse.
``report``
    the core of the named reports: missing, those reports are not produced and the
    index says why (e.g. no ``loans`` table: no risk report).
``section``
    needed by named sections: missing, exactly those sections are left out, each with
    one line in its report's data-coverage note (e.g. no ``financials``: the risk
    report has no early-warning section).
``optional``
    used where present. Missing, or NULL in some rows, is fine: a value that is not
    there is shown as "not recorded", never as 0.

A table or column not listed here (one added to the contract later) is optional. An
optional column is nullable whatever its declaration says
(:data:`branchbook.contract.TABLES` applies this).

:func:`verdict` turns "which tables and columns were found" into a :class:`Coverage`:
per report, whether it is produced and which sections are left out, and why. The
verdict is stored in the prepared period's ``prepare.json`` (``coverage``) and read by
the reports through :attr:`branchbook.data.BranchData.coverage`. What a section left out
removes from a page (sections, summary sentences, KPI cards and columns "not recorded")
is in :mod:`branchbook.not_recorded`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from .not_recorded import COLUMN_NEEDS, KPI_NEEDS, PAGE_SECTIONS, SUMMARY_FACTS

Tier = Literal["required", "report", "section", "optional"]
TIERS_ORDER: tuple[Tier, ...] = ("required", "report", "section", "optional")


@dataclass(frozen=True)
class Need:
    """What a table or column is needed for: its tier and, below ``required``, the
    reports (tier ``report``) or sections (tier ``section``, ``<report>.<section>``)
    that cannot be shown without it."""

    tier: Tier
    uses: tuple[str, ...] = ()


def _req() -> Need:
    return Need("required")


def _core(*reports: str) -> Need:
    return Need("report", reports)


def _sec(*sections: str) -> Need:
    return Need("section", sections)


_OPT = Need("optional")

#: Sections a report can leave out, with the words its data-coverage note uses.
SECTIONS: Mapping[str, str] = MappingProxyType(
    {
        "segmentation.activity": "activity tiers and transaction features (90-day transactions)",
        "segmentation.credit": "credit exposure by segment",
        "segmentation.suitability": "suitability of the products held (risk level against risk appetite)",
        "segmentation.occupation": "customer profile by occupation",
        "segmentation.income": "customer profile by income band",
        "segmentation.cross_sell": "product penetration by tier and the customers without their tier's usual products",
        "risk.collateral": "collateral and loan-to-value",
        "risk.revaluation": "collateral revaluation dates and overdue revaluations",
        "risk.early_warning": "early-warning signals of corporate borrowers",
        "risk.compliance": "compliance classification and AML alert ageing",
        "risk.scorecard": "scorecard, score bands and expected loss",
        "satisfaction.attributes": "service attributes (importance and performance)",
        "satisfaction.followup": "follow-up contacts of high-value customers",
        "satisfaction.complaints": "complaints and their handling times",
        "staff_kpi.attainment": "target attainment",
        "staff_kpi.service": "service quality (surveys and complaints)",
        "staff_kpi.compliance": "compliance dimension (AML alerts)",
        "staff_kpi.credit": "loan growth and loan quality of managed books",
        "staff_kpi.development": "training hours and certification against the grade",
    }
)

#: ``table`` or ``table.column`` -> what it is needed for. A column not listed takes
#: its table's need.
NEEDS: Mapping[str, Need] = MappingProxyType(
    {
        "branches": _req(),
        "branches.name_zh": _OPT,
        "branches.city": _OPT,
        "branches.opened_on": _OPT,
        "branches.parent_id": _OPT,
        "staff": _core("staff_kpi"),
        "customers": _req(),
        "customers.manager_id": _core("staff_kpi"),
        "customers.name": _OPT,
        "customers.id_number": _OPT,
        "customers.phone": _OPT,
        "customers.birth_date": _OPT,
        "customers.gender": _OPT,
        "customers.industry": _OPT,
        "customers.closed_on": _OPT,
        "customers.risk_appetite": _sec("segmentation.suitability"),
        "customers.occupation": _sec("segmentation.occupation"),
        "customers.income_band": _sec("segmentation.income"),
        "customers.kyc_status": _sec("risk.compliance", "staff_kpi.compliance"),
        "balances": _req(),
        "balances.products_held": _OPT,
        "balances.deposits_avg": _OPT,
        "balances.wealth_avg": _OPT,
        "transactions": _sec("segmentation.activity"),
        "loans": _core("risk"),
        "loans.manager_id": _OPT,
        "loans.interest_rate": _sec("risk.scorecard"),
        "loans.collateral_type": _sec("risk.collateral"),
        "loans.collateral_value": _sec("risk.collateral"),
        "loans.collateral_valued_on": _sec("risk.revaluation"),
        "loans.industry": _OPT,
        # the dated history the contract lists as optional (contract.OPTIONAL_COLUMNS):
        # without it a report falls back (FALLBACKS), it is not left out
        "loans.closed_reason": _OPT,
        "loan_snapshots.undrawn": _OPT,
        "aml_alerts.closed_on": _OPT,
        "loan_snapshots": _core("risk"),
        "financials": _sec("risk.early_warning"),
        "financials.current_assets": _OPT,
        "financials.current_liabilities": _OPT,
        "financials.inventory": _OPT,
        "financials.receivables": _OPT,
        "financials.operating_cash_flow": _OPT,
        "surveys": _core("satisfaction"),
        "surveys.manager_id": _OPT,
        "surveys.channel": _OPT,
        "surveys.wait_time": _sec("satisfaction.attributes"),
        "surveys.attitude": _sec("satisfaction.attributes"),
        "surveys.professionalism": _sec("satisfaction.attributes"),
        "surveys.explanation": _sec("satisfaction.attributes"),
        "surveys.environment": _sec("satisfaction.attributes"),
        "surveys.digital": _sec("satisfaction.attributes"),
        "complaints": _sec("satisfaction.complaints", "staff_kpi.service"),
        "complaints.manager_id": _OPT,
        "complaints.first_response_at": _OPT,
        "complaints.plan_at": _OPT,
        "complaints.resolved_at": _OPT,
        "aml_alerts": _sec("risk.compliance", "staff_kpi.compliance"),
        "targets": _sec("staff_kpi.attainment"),
        "staff_training": _sec("staff_kpi.development"),
        "staff_certifications": _sec("staff_kpi.development"),
        "holdings": _sec("segmentation.suitability", "segmentation.cross_sell"),
        "contacts": _sec("satisfaction.followup"),
        "contacts.purpose": _OPT,
    }
)

#: Sections that also go when a report-tier table they read is absent, beyond the
#: report itself (a report's core removes the report, hence all its sections).
_ALSO: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "loans": ("segmentation.credit", "staff_kpi.credit"),
        "loan_snapshots": ("segmentation.credit", "staff_kpi.credit"),
        "surveys": ("staff_kpi.service",),
    }
)


def need(table: str, column: str | None = None) -> Need:
    """The need of ``table`` or of one of its columns (optional when not listed).

    >>> need("customers", "phone").tier, need("loans").uses
    ('optional', ('risk',))
    """
    if column is not None:
        own = NEEDS.get(f"{table}.{column}")
        if own is not None:
            return own
    return NEEDS.get(table, _OPT)


def optional_columns() -> set[tuple[str, str]]:
    """``(table, column)`` of every column listed as optional."""
    return {tuple(k.split(".", 1)) for k, n in NEEDS.items() if "." in k and n.tier == "optional"}


@dataclass(frozen=True)
class Missing:
    """A table (``column`` None) or column the warehouse does not have, and its need."""

    table: str
    column: str | None
    need: Need

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table


@dataclass(frozen=True)
class ReportCoverage:
    """One report's verdict: produced or not (and why), the sections left out."""

    report: str
    produced: bool
    reason: str = ""
    sections_off: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line per section left out, naming what is missing, for the report's
        data-coverage note (empty when nothing is left out)."""
        return [
            f"{SECTIONS.get(s, s)}: not shown, the warehouse has no {', '.join(names)}"
            for s, names in self.sections_off.items()
        ]


@dataclass(frozen=True)
class Coverage:
    """What a warehouse's tables and columns allow: the missing items and, per
    report, whether it is produced and which sections are left out."""

    found: Mapping[str, tuple[str, ...]]
    missing: tuple[Missing, ...]
    reports: Mapping[str, ReportCoverage]

    @property
    def ok(self) -> bool:
        """False when a required table or column is missing."""
        return not any(m.need.tier == "required" for m in self.missing)

    def produced(self, report: str) -> bool:
        r = self.reports.get(report)
        return r is None or r.produced

    def shows(self, section: str) -> bool:
        """Whether ``<report>.<section>`` has its data (and its report is produced)."""
        report = section.split(".", 1)[0]
        r = self.reports.get(report)
        return r is None or (r.produced and section not in r.sections_off)

    def core_missing(self, report: str) -> tuple[str, ...]:
        """The tables and columns missing from ``report``'s core (why it is not produced)."""
        return tuple(
            m.name for m in self.missing if m.need.tier == "report" and report in m.need.uses
        )

    def hidden_sections(self, report: str) -> frozenset[str]:
        """The page sections of ``report`` that are not drawn: those of every coverage
        section its data leaves out (:data:`PAGE_SECTIONS`)."""
        r = self.reports.get(report)
        off = r.sections_off if r is not None else {}
        return frozenset(p for s in off for p in PAGE_SECTIONS.get(s, ()))

    def hidden_facts(self, report: str) -> tuple[str, ...]:
        """The summary sentences of ``report`` (catalogue keys or their start) that are
        not said: those of every coverage section left out (:data:`SUMMARY_FACTS`)."""
        r = self.reports.get(report)
        off = r.sections_off if r is not None else {}
        return tuple(f for s in off for f in SUMMARY_FACTS.get(s, ()))

    def not_recorded(self, keys) -> frozenset[str]:
        """Of the KPI or column ``keys``, those whose data is not recorded
        (:data:`KPI_NEEDS`, :data:`COLUMN_NEEDS`): a table or column they need is
        missing (absent, or a table with no rows)."""
        needs = {**COLUMN_NEEDS, **KPI_NEEDS}
        names = {m.name for m in self.missing}
        tables = {m.table for m in self.missing if m.column is None}
        return frozenset(
            k
            for k in keys
            if any(n in names or n.split(".", 1)[0] in tables for n in needs.get(k, ()))
        )

    def to_json(self) -> dict:
        return {
            "missing": [
                {
                    "table": m.table,
                    "column": m.column,
                    "tier": m.need.tier,
                    "uses": list(m.need.uses),
                }
                for m in self.missing
            ],
            "reports": {
                name: {
                    "produced": r.produced,
                    "reason": r.reason,
                    "sections_off": {s: list(v) for s, v in r.sections_off.items()},
                    "notes": r.notes(),
                }
                for name, r in self.reports.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping | None, reports: tuple[str, ...] = ()) -> Coverage:
        """The verdict stored in ``prepare.json`` (everything produced when absent)."""
        data = data or {}
        missing = tuple(
            Missing(m["table"], m.get("column"), Need(m["tier"], tuple(m.get("uses", ()))))
            for m in data.get("missing", [])
        )
        stored = data.get("reports", {})
        out = {
            name: ReportCoverage(
                name,
                bool(r.get("produced", True)),
                r.get("reason", ""),
                {s: tuple(v) for s, v in r.get("sections_off", {}).items()},
            )
            for name, r in stored.items()
        }
        for name in reports:
            out.setdefault(name, ReportCoverage(name, True))
        return cls({}, missing, out)


_CONTRACT: dict = {}


def use_tables(tables: Mapping) -> None:
    """The contract's tables, handed over by :mod:`branchbook.contract` as it loads (this
    module is the data that contract reads: it does not import contract back)."""
    _CONTRACT.update(tables)


def _tables() -> Mapping:
    if not _CONTRACT:  # every caller imports branchbook.contract, which fills it
        raise RuntimeError("branchbook.contract has not handed its tables over yet")
    return _CONTRACT


def verdict(
    found: Mapping[str, set[str] | tuple[str, ...]],
    reports: tuple[str, ...],
    *,
    empty: Collection[str] = (),
) -> Coverage:
    """The coverage of a warehouse in which ``found`` maps each table present to its
    columns present (with a usable type), for the named ``reports``. A table of
    ``empty`` (present, with no rows at all) records nothing: missing, like an absent one.

    A missing table is one :class:`Missing` (its columns are not listed again).
    """
    TABLES = _tables()
    missing: list[Missing] = []
    for table in TABLES.values():
        if table.name not in found or table.name in empty:
            missing.append(Missing(table.name, None, need(table.name)))
            continue
        cols = set(found[table.name])
        missing += [
            Missing(table.name, c, need(table.name, c)) for c in table.names if c not in cols
        ]
    out = {}
    for report in reports:
        core = [m.name for m in missing if m.need.tier == "report" and report in m.need.uses]
        off: dict[str, list[str]] = {}
        for m in missing:
            sections = [*m.need.uses] if m.need.tier == "section" else []
            if m.need.tier == "report" and m.column is None:
                sections += _ALSO.get(m.table, ())
            for s in sections:
                if s.split(".", 1)[0] == report:
                    off.setdefault(s, []).append(m.name)
        if core:
            reason = f"the warehouse has no {', '.join(core)}"
            out[report] = ReportCoverage(report, False, reason)
        else:
            out[report] = ReportCoverage(report, True, "", {s: tuple(v) for s, v in off.items()})
    found_cols = {t: tuple(c for c in TABLES[t].names if c in set(cs)) for t, cs in found.items()
                  if t in TABLES}  # fmt: skip
    return Coverage(found_cols, tuple(missing), out)


def table(cov: Coverage) -> str:
    """The coverage table ``branchbook validate`` prints: per table, the columns found
    and missing, then per report what is produced and which sections are left out."""
    TABLES = _tables()
    lines = [f"{'table':<16} {'columns':<10} missing (what it is needed for)"]
    by_table: dict[str, list[Missing]] = {}
    for m in cov.missing:
        by_table.setdefault(m.table, []).append(m)
    for name, t in TABLES.items():
        ms = by_table.get(name, [])
        if any(m.column is None for m in ms):
            state = "no rows" if name in cov.found else "absent"
            lines.append(f"{name:<16} {state:<10} {_needed_for(need(name), name)}")
            continue
        have = len(t.names) - len(ms)
        gaps = "; ".join(f"{m.column} ({_needed_for(m.need, m.name)})" for m in ms) or "-"
        lines.append(f"{name:<16} {f'{have} of {len(t.names)}':<10} {gaps}")
    lines.append("")
    lines.append(f"{'report':<16} verdict")
    for name, r in cov.reports.items():
        if not r.produced:
            lines.append(f"{name:<16} not produced: {r.reason}")
        elif r.sections_off:
            lines.append(f"{name:<16} produced without: {'; '.join(r.notes())}")
        else:
            lines.append(f"{name:<16} produced, every section")
    return "\n".join(lines)


#: What the reports read in place of an optional column that is missing, when that
#: is more than "not recorded": the line ``branchbook validate`` prints beside it.
FALLBACKS: Mapping[str, str] = MappingProxyType(
    {
        "balances.deposits_avg": "AUM on the average daily basis falls back to month end",
        "balances.wealth_avg": "AUM on the average daily basis falls back to month end",
        "loans.closed_reason": "loans that left the book are one column, reason not recorded",
        "loan_snapshots.undrawn": "exposure at default is the outstanding balance",
        "aml_alerts.closed_on": "every month uses the alert's status today",
        "kyc_history": "every month uses customers.kyc_status",
        "customer_branch_history": "every period counts a customer in customers.branch_id",
    }
)


def _needed_for(n: Need, name: str = "") -> str:
    if n.tier == "required":
        return "required: nothing can be computed without it"
    if n.tier == "report":
        return f"needed by the {', '.join(n.uses)} report"
    if n.tier == "section":
        return f"needed by {', '.join(n.uses)}"
    return f"optional: {FALLBACKS[name]}" if name in FALLBACKS else "optional"
