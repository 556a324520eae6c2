"""What a run has to do: one job per branch (or region, or the bank) x report x locale,
its fingerprint, and the order (longest first, from how long each report took the last
time).

A job is one set of published files: a branch's report in one locale, named by
:mod:`branchbook.output.names` (``0101/risk`` in the branch's own locale, ``0101/risk.en``
in another). Each locale has its own fingerprint (the locale is among the parameters),
so a locale added later makes only its own files, and one made before is not redone.
Anything else made per branch and locale plans its jobs the same way: the branch's
parameters for the locale (:meth:`~branchbook.params.BranchParams.with_locale`), the
stem from ``names``, one job each.

A region's or the bank's report (``--scopes``) is made once, in the bank's own locale.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import codekey, i18n, iorw, orgtree
from ..coverage import Coverage
from ..errors import BranchbookError, ParamsError
from ..output import names
from ..params import BranchParams
from ..reports import ReportSpec

log = logging.getLogger("branchbook.run")


SCOPES = orgtree.SCOPES


@dataclass
class Job:
    """One report of one branch in one locale: ``params`` are the branch's parameters
    in that locale, ``stem`` names its files (``risk``, ``risk.en``)."""

    branch_id: str  # the folder: a branch id, ``region-<name>`` or ``bank``
    spec: ReportSpec
    params: BranchParams
    parameters: dict[str, Any]
    fingerprint: str
    locale: str = ""
    stem: str = ""

    @property
    def key(self) -> str:
        return f"{self.branch_id}/{self.stem or self.spec.name}"


def _sha(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:16]


def parse_scopes(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``branch,region,bank`` as a tuple in that order; anything else is one line.

    >>> parse_scopes("bank,branch")
    ('branch', 'bank')
    """
    items = [s.strip() for s in (value.split(",") if isinstance(value, str) else value)]
    bad = [s for s in items if s not in SCOPES]
    if bad or not items:
        got = ", ".join(map(repr, bad)) if bad else "nothing"
        raise ParamsError(
            f"scopes is expected to be some of ({', '.join(SCOPES)}). Got {got} instead."
        )
    return tuple(s for s in SCOPES if s in items)


scope_folder = orgtree.folder


def scope_units(tree: orgtree.OrgTree, scopes: tuple[str, ...], branch_ids) -> list[str]:
    """The region and bank scopes a run makes: the regions of ``branch_ids`` (every
    branch when the run selects none) and the bank."""
    out = []
    if "region" in scopes:
        regions = {tree.region.get(b, "") for b in branch_ids}
        out += [f"region:{r}" for r in tree.regions() if r in regions]
    if "bank" in scopes:
        out.append(orgtree.BANK)
    return out


def made_for(spec: ReportSpec) -> tuple[str, ...]:
    """The scopes a report is made for: its package's ``SCOPES``, else all three."""
    return tuple(getattr(spec.module, "SCOPES", SCOPES))


def scope_rows(tree: orgtree.OrgTree, folders: set[str]) -> list[dict[str, str]]:
    """The index's rows for the region and bank folders among ``folders``, named from
    the catalogues in English and Chinese (the index shows the one of its locale)."""
    en, zh = i18n.Translator("en"), i18n.Translator("zh-CN")
    rows = []
    for r in tree.regions():
        if scope_folder(f"region:{r}") in folders:
            rows.append({
                "branch_id": scope_folder(f"region:{r}"),
                "name": en("common.scope_name.region", name=en.label("common.regions", r)),
                "name_zh": zh("common.scope_name.region", name=zh.label("common.regions", r)),
                "region": r,
            })  # fmt: skip
    if "bank" in folders:
        rows.append({"branch_id": "bank", "name": en("common.scope_name.bank"),
                     "name_zh": zh("common.scope_name.bank")})  # fmt: skip
    return rows


def plan(
    period: str,
    prepared_meta: dict,
    specs: list[ReportSpec],
    branch_params: dict[str, BranchParams],
    *,
    build_dir: Path,
    run_id: str,
    formats: tuple[str, ...],
    locales: tuple[str, ...] | None = None,
    scope_params: dict[str, BranchParams] | None = None,
    tree: orgtree.OrgTree | None = None,
) -> list[Job]:
    """One job per branch x report x locale (``locales``, in the order given, replace
    each branch's own locale; without them each branch is made in the locale of its
    parameter file), then per scope x report (``scope_params``: ``region:<name>`` or
    ``bank`` -> the bank's parameters), each with the fingerprint that decides whether
    to rerun: a scope's data fingerprint is its branches', so a change in one branch
    redoes that branch, its region and the bank; and, since every report is also keyed
    by the bank's fingerprint (its comparisons with the bank, the bank-wide models), the
    other branches' and regions' reports too."""
    jobs = []
    nb_hash = {s.name: hashlib.sha256(s.notebook.read_bytes()).hexdigest()[:16] for s in specs}
    # what shapes each report's page besides its data and parameters: its own code key
    # (package, notebook, catalogues, the shared modules it imports), not the whole package
    code = {s.name: codekey.report_code(s.name, s.module.__name__, s.notebook) for s in specs}
    # the other reports' prepared tables a report reads: their prepare keys (data,
    # parameters, code), so a page is made again when the tables it reads were redone
    made = prepared_meta.get("report_keys") or {}
    reads = {
        s.name: {r: made.get(r, "") for r in codekey.prepared_reads(s.module.__name__)}
        for s in specs
    }
    for bid, bp in branch_params.items():
        own = bp.common.locale
        for spec in specs:
            for locale in locales or (own,):
                lp = bp.with_locale(locale)
                parameters = lp.notebook_parameters(
                    spec.name, period=period, build_dir=str(build_dir), run_id=run_id
                )
                stable = {k: v for k, v in parameters.items() if k not in ("run_id", "build_dir")}
                fingerprint = _sha(
                    {
                        "notebook": nb_hash[spec.name],
                        "code": code[spec.name],
                        **({"reads": reads[spec.name]} if reads[spec.name] else {}),
                        "parameters": stable,
                        "data": prepared_meta["branch_fingerprints"].get(bid, ""),
                        "bank": prepared_meta["fingerprint"],
                        "formats": sorted(formats),
                    }
                )
                stem = names.stem(spec.name, locale, own=own)
                jobs.append(Job(bid, spec, lp, parameters, fingerprint, locale, stem))
    fps = prepared_meta["branch_fingerprints"]
    level = {u: "bank" if u == orgtree.BANK else "region" for u in scope_params or {}}
    for name in sorted({s.name for s in specs for u in level if level[u] not in made_for(s)}):
        log.info("%s is made per branch only, not yet for a region or the bank", name)
    for scope, bp in (scope_params or {}).items():
        members = tree.branches(scope) if tree is not None else ()
        data = _sha({b: fps.get(b, "") for b in members})
        for spec in (s for s in specs if level[scope] in made_for(s)):
            parameters = bp.notebook_parameters(
                spec.name, period=period, build_dir=str(build_dir), run_id=run_id
            ) | {"scope": scope, "branch_id": ""}
            stable = {k: v for k, v in parameters.items() if k not in ("run_id", "build_dir")}
            fingerprint = _sha(
                {
                    "notebook": nb_hash[spec.name],
                    "code": code[spec.name],
                    **({"reads": reads[spec.name]} if reads[spec.name] else {}),
                    "parameters": stable,
                    "data": data,
                    "bank": prepared_meta["fingerprint"],
                    "formats": sorted(formats),
                }
            )
            jobs.append(
                Job(
                    scope_folder(scope),
                    spec,
                    bp,
                    parameters,
                    fingerprint,
                    bp.common.locale,
                    spec.name,
                )
            )
    return jobs


def not_produced(jobs: list[Job], prepared_meta: dict) -> tuple[list[Job], dict[str, dict]]:
    """``jobs`` split by the prepared period's coverage verdict: the jobs to run, and a
    manifest entry (status ``not_produced``, the reason, the missing tables or columns)
    for each job whose report's core data the warehouse does not record. Such a report
    is not a failure of the run: it is not made, and the index says why."""
    cov = Coverage.from_json(prepared_meta.get("coverage"))
    run, skipped = [], {}
    for job in jobs:
        if cov.produced(job.spec.name):
            run.append(job)
            continue
        skipped[job.key] = {
            "branch_id": job.branch_id,
            "report": job.spec.name,
            "status": "not_produced",
            "reason": cov.reports[job.spec.name].reason,
            "missing": list(cov.core_missing(job.spec.name)),
        }
    return run, skipped


DURATIONS = "durations.json"


def read_durations(build_dir: Path) -> dict[str, float]:
    """Seconds each report (``branch/report``) took the last time it was made, any
    period: ``build/durations.json``; empty when missing or unreadable."""
    try:
        data = json.loads((Path(build_dir) / DURATIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and v >= 0}


def write_durations(build_dir: Path, entries: dict[str, dict]) -> None:
    """Add the made reports' durations to ``build/durations.json`` (best effort: it only
    orders the next run)."""
    made = {
        key: e["duration_s"]
        for key, e in entries.items()
        if e.get("status") == "ok" and not e.get("skipped_unchanged") and "duration_s" in e
    }
    if not made:
        return
    durations = {**read_durations(build_dir), **made}
    try:
        iorw.atomic_write(
            Path(build_dir) / DURATIONS,
            json.dumps(durations, sort_keys=True, indent=0).encode(),
            sync=False,
        )
    except (OSError, BranchbookError) as exc:
        log.warning("could not record the reports' durations: %s", exc)


def longest_first(jobs: list[Job], durations: dict[str, float]) -> list[Job]:
    """``jobs`` with the longest expected first, so that a run ends on short reports and
    does not finish on one busy core while the others idle. A job's expected time is
    its own last duration, else the mean of its report's known durations; jobs with
    neither keep their order, before the others (no history: the plan's order).
    """
    by_report: dict[str, list[float]] = {}
    for key, seconds in durations.items():  # 0101/risk and 0101/risk.en: both a risk report
        by_report.setdefault(key.rsplit("/", 1)[-1].split(".")[0], []).append(seconds)
    means = {name: sum(v) / len(v) for name, v in by_report.items()}

    def expected(job: Job) -> float:
        if job.key in durations:
            return durations[job.key]
        return means.get(job.spec.name, float("inf"))

    return sorted(jobs, key=expected, reverse=True)  # stable: ties keep the plan's order
