"""What a run has to do: one job per branch x report x locale, its fingerprint, and the
order (longest first, from how long each report took the last time).

A job is one set of published files: a branch's report in one locale, named by
:mod:`branchbook.output.names` (``0101/risk`` in the branch's own locale, ``0101/risk.en``
in another). Each locale has its own fingerprint (the locale is among the parameters),
so a locale added later makes only its own files, and one made before is not redone.
Anything else made per branch and locale plans its jobs the same way: the branch's
parameters for the locale (:meth:`~branchbook.params.BranchParams.with_locale`), the
stem from ``names``, one job each.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import codekey, iorw
from ..coverage import Coverage
from ..errors import BranchbookError
from ..output import names
from ..params import BranchParams
from ..reports import ReportSpec

log = logging.getLogger("branchbook.run")


@dataclass
class Job:
    """One report of one branch in one locale: ``params`` are the branch's parameters
    in that locale, ``stem`` names its files (``risk``, ``risk.en``)."""

    branch_id: str
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
) -> list[Job]:
    """One job per branch x report x locale, with the fingerprint that decides whether to
    rerun. ``locales`` (in the order given) replace each branch's own locale; without
    them each branch is made in the locale of its parameter file."""
    jobs = []
    nb_hash = {s.name: hashlib.sha256(s.notebook.read_bytes()).hexdigest()[:16] for s in specs}
    # what shapes each report's page besides its data and parameters: its own code key
    # (package, notebook, catalogues, the shared modules it imports), not the whole package
    code = {s.name: codekey.report_code(s.name, s.module.__name__, s.notebook) for s in specs}
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
                        "parameters": stable,
                        "data": prepared_meta["branch_fingerprints"].get(bid, ""),
                        "bank": prepared_meta["fingerprint"],
                        "formats": sorted(formats),
                    }
                )
                stem = names.stem(spec.name, locale, own=own)
                jobs.append(Job(bid, spec, lp, parameters, fingerprint, locale, stem))
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
