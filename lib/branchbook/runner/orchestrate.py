"""Run reports: prepare the period, execute every branch x report, render, publish.

:func:`run` is what ``branchbook run`` calls and what an orchestrator imports. It

- validates everything first (folders, parameters, data contract, branches, reports):
  bad input raises before any notebook starts;
- holds the report folder's lock (:mod:`branchbook.runner.guard`) for the whole run:
  one run at a time per folder;
- executes each notebook with papermill, several at once, each report bounded by a
  time limit; a failing report stops no other;
- renders HTML and PDF in memory and publishes both only when both succeeded, by
  atomic rename, so a reader never opens a half-written or failed report; the
  executed notebook of a failure stays in ``build/<period>/executed/`` for debugging;
- records every report in ``reports/<period>/manifest.json`` (written atomically, every
  few seconds and at the end, so an interrupted run leaves a true manifest) and
  rewrites the index; once stopped (a signal) it publishes nothing more;
- removes a report's files of formats this run did not make, so formats never disagree,
  and, for the branches and reports it ran, the files of locales it was not asked for
  (a report in a language made from older data is not left beside the new one);
- skips a report whose notebook, code, parameters and data are unchanged and whose
  published files still match their checksums;
- does not make a report whose core data the warehouse does not record
  (:mod:`branchbook.coverage`): its entry says ``not_produced`` and why, any earlier
  page of it for the period is removed, and the run's exit code is not affected.
- then makes each branch's pack (:mod:`branchbook.runner.packs`) from its published
  reports.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import iorw, paths
from ..errors import ParamsError
from ..output import names
from ..params import ParamSet, validate_branch_id
from ..prepare import prepare
from ..reports import module_names, select, settings_classes
from . import guard
from .execute import task
from .executors import (
    import_for_reports,
    progress_steps,
    run_here,
    run_on_dask,
    start_fork_server,
)
from .guard import EXIT_ERROR as EXIT_ERROR
from .guard import EXIT_FAILED, EXIT_OK
from .guard import EXIT_REFUSED as EXIT_REFUSED
from .manifest import Manifest, remove_other_locales, up_to_date
from .packs import make_packs
from .plan import (
    longest_first,
    not_produced,
    parse_scopes,
    plan,
    read_durations,
    scope_folder,
    scope_rows,
    scope_units,
    write_durations,
)

log = logging.getLogger("branchbook.run")

FORMATS = ("html", "pdf")


@dataclass
class RunResult:
    """What a run did: one entry per report, and the exit code it implies."""

    period: str
    run_id: str
    entries: dict[str, dict] = field(default_factory=dict)
    manifest_path: Path | None = None
    packs: dict[str, dict] = field(default_factory=dict)  # branch -> its pack's entry

    @property
    def failed(self) -> list[dict]:
        return [e for e in self.entries.values() if e["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failed else EXIT_OK


def run(
    period: str | None = None,
    *,
    branches: list[str] | None = None,
    reports: list[str] | None = None,
    formats: tuple[str, ...] | list[str] = FORMATS,
    workers: int | None = None,
    warehouse: str | os.PathLike | None = None,
    params_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool | None = None,
    notebooks: str | os.PathLike | None = None,
    warm: bool | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    wait_lock: bool = False,
    locales: tuple[str, ...] | list[str] | None = None,
    scopes: tuple[str, ...] | list[str] | str = ("branch",),
) -> RunResult:
    """Run ``reports`` (default all) for ``branches`` (default all) of ``period``
    (default: the latest month in the warehouse).

    ``locales`` (``("zh-CN", "en")``) makes every report in each of those languages
    instead of each branch's own (the ``locale`` of its parameter file); a report in
    the branch's own locale keeps its name, one in another has the locale in its name
    (:mod:`branchbook.output.names`).
    ``notebooks`` is a folder of report notebooks other than the project's own.
    ``warm`` (default: on where the platform can fork, off when the environment sets
    ``BRANCHBOOK_WARM=0``) forks kernels and renderers from one process that has the
    imports done (:mod:`branchbook.runner.forkserver`) instead of starting Python for each.
    ``executor="dask"`` makes the reports on the Dask cluster at ``scheduler``
    (default ``$DASK_SCHEDULER_ADDRESS``) and publishes them here.
    ``scopes`` (some of ``branch``, ``region``, ``bank``) makes each report for the
    selected branches, for their regions and for the whole bank (the latter two from the
    pooled rows of their branches, in ``<period>/region-<name>/`` and ``<period>/bank/``).
    Called from Python the default is ``("branch",)``, the branches' reports a caller
    names; the ``branchbook run`` command's default is all three
    (:data:`~branchbook.runner.plan.SCOPES`).

    One run at a time writes a report folder (``out``): a second one waits for the
    first with ``wait_lock``, and otherwise raises
    :class:`~branchbook.runner.guard.FolderBusy` before anything runs. Interrupted
    (KeyboardInterrupt, or the exception a SIGTERM handler raises), the run publishes
    nothing more, flushes the manifest (it lists exactly the reports on disk) and lets
    the exception through.

    Raises :class:`~branchbook.errors.ParamsError`, ``DataContractError`` or
    ``WarehouseError`` before anything runs when the input is bad (``OutputError`` for a
    report or build folder that is a file or cannot be written). Otherwise returns a
    :class:`RunResult` whose ``exit_code`` is 0 when every report was published and
    1 when some failed.
    """
    root = paths.project_root()
    params_dir = Path(params_dir) if params_dir else root / "params"
    build_dir = Path(build_dir).resolve() if build_dir else root / "build"
    out_dir_root = Path(out).resolve() if out else root / "reports"
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS] or (["(none)"] if not formats else [])
    if bad or "html" not in formats:
        raise ParamsError(
            f"formats is expected to include html, from ({', '.join(FORMATS)}). Got {list(formats)} instead."
        )
    if locales is not None:
        try:
            locales = names.parse_locales(locales, "locales")
        except ValueError as exc:
            raise ParamsError(str(exc)) from None
    if executor not in ("local", "dask"):
        raise ParamsError(
            f"executor is expected to be 'local' or 'dask'. Got {executor!r} instead."
        )
    if executor == "dask":
        scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip()
        if not scheduler:
            raise ParamsError(
                "--executor dask needs --scheduler <address> (or $DASK_SCHEDULER_ADDRESS)"
            )
    scopes = parse_scopes(scopes)
    if branches is not None:
        if not branches:
            raise ParamsError(
                "branches: an empty list selects nothing; omit it to run every branch"
            )
        branches = [validate_branch_id(b) for b in branches]
    notebook_dir = Path(notebooks).resolve() if notebooks else None
    made = guard.check_folders(out_dir_root, build_dir, params_dir)
    try:
        lock = guard.FolderLock(out_dir_root, wait=wait_lock).__enter__()
    except BaseException:
        guard.tidy(made)
        raise
    # The fork server does its imports (two seconds of one core) while this process
    # imports the reports and papermill and checks the data on the other core;
    # run_here waits for it. It is closed however the run ends.
    server = None
    try:
        if executor == "local":
            server = start_fork_server(
                warm, tuple(module_names(reports, notebook_dir)), root, wait=False
            )
        specs = select(reports, notebook_dir)
        modules = tuple(s.module.__name__ for s in specs)  # what the fork servers import ahead
        if server is not None:
            import_for_reports()
        # ``force`` redoes reports; the prepared period is redone when its inputs changed
        # (its own fingerprint), or by ``branchbook prepare --force``.
        prepared = prepare(period, source=warehouse, params_dir=params_dir, build_dir=build_dir)
        period = prepared.period
        if branches is not None:
            unknown = [b for b in branches if b not in prepared.branch_ids]
            if unknown:
                raise ParamsError(
                    f"branch(es) {', '.join(map(repr, unknown))} not in the warehouse's branches table"
                )
        ps = ParamSet(params_dir, settings_classes())
        ids = branches if branches is not None else prepared.branch_ids
        branch_params = {b: ps.for_branch(b) for b in ids} if "branch" in scopes else {}
        from ..data import BranchData

        # the bank-wide view of the period, read once a run: the tree, the branches' rows
        # for the index and the packs, the headlines
        bank = BranchData(prepared, "BANK", scope="bank")
        tree = bank.org
        scope_params = {u: ps.for_scope(scope_folder(u)) for u in scope_units(tree, scopes, ids)}
        run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        jobs = plan(
            period,
            prepared.meta,
            specs,
            branch_params,
            build_dir=build_dir,
            run_id=run_id,
            formats=formats,
            locales=locales,
            scope_params=scope_params,
            tree=tree,
        )
        out_dir = out_dir_root / period
        for folder in [out_dir, *(out_dir / b for b in dict.fromkeys(j.branch_id for j in jobs))]:
            iorw.refuse_symlinks(out_dir_root, folder)  # before anything runs
        out_dir.mkdir(parents=True, exist_ok=True)
        # a killed run's half-written files (published pages, manifest, executed notebooks)
        for stale in [
            *iorw.remove_stale_temporaries(out_dir),
            *iorw.remove_stale_temporaries(build_dir / period / "executed"),
        ]:
            log.info("removed %s, left by a run that was killed while writing it", stale)
        manifest = Manifest(out_dir / "manifest.json", period, run_id)
        result = RunResult(period=period, run_id=run_id, manifest_path=manifest.path)

        # a report whose core data the warehouse does not record is not made: recorded
        # with its reason (the index shows it), and not a failure of the run
        jobs, absent = not_produced(jobs, prepared.meta)
        for key, entry in absent.items():
            manifest.put(key, entry)
            result.entries[key] = entry
            log.info("%s not produced: %s", key, entry["reason"])
            for fmt_name in (*FORMATS, "xlsx"):  # made from data the warehouse no longer has
                iorw.remove(out_dir / entry["branch_id"] / f"{entry['report']}.{fmt_name}")
        todo = []
        for job in jobs:
            entry = manifest.get(job.key)
            if not force and up_to_date(entry, job.fingerprint, out_dir, formats):
                result.entries[job.key] = {**entry, "skipped_unchanged": True}
            else:
                todo.append(job)
        todo = longest_first(todo, read_durations(build_dir))
        bar = progress_steps(len(todo), progress)

        stop = guard.Stop()

        def record(key: str, entry: dict) -> None:  # a report published (or failed)
            manifest.put(key, entry)
            result.entries[key] = entry
            status = "ok" if entry["status"] == "ok" else f"FAILED: {entry['error']}"
            bar(f"{key} {status} ({entry['duration_s']:.1f}s)")

        try:
            if executor == "dask":
                log.info(
                    "run %s: %d reports, %d up to date, %d to do on the Dask cluster at %s",
                    run_id,
                    len(jobs),
                    len(jobs) - len(todo),
                    len(todo),
                    scheduler,
                )
                tasks = [
                    task(
                        j,
                        period=period,
                        build_dir=build_dir,
                        formats=formats,
                        root=root,
                        warm_modules=modules,
                    )
                    for j in todo
                ]
                run_on_dask(tasks, scheduler, run_id, out_dir, formats, record, stop=stop)
            else:
                # One more than the cores: a report waits on its kernel's start-up and on
                # the runner between cells; the extra one keeps the cores busy meanwhile
                # (12 branches x 4 reports: 2 workers 82 s, 3 workers 70.6 s, 4 workers
                # 70.6-71.9 s).
                workers = max(1, workers or (os.cpu_count() or 1) + 1)
                log.info(
                    "run %s: %d reports, %d up to date, %d to do on %d workers",
                    run_id,
                    len(jobs),
                    len(jobs) - len(todo),
                    len(todo),
                    workers,
                )
                run_here(
                    todo,
                    workers,
                    server,
                    record,
                    stop=stop,
                    period=period,
                    build_dir=build_dir,
                    out_dir=out_dir,
                    formats=formats,
                    root=root,
                )
        except BaseException:  # stopped: the index links what the manifest lists, no more
            with guard.held_signals(swallow=True):
                manifest.flush()
                try:
                    _publish(out_dir_root, out_dir, manifest, ps, prepared, bank, headlines=False)
                except Exception as exc:  # the index is rewritten by the next run
                    log.warning("the index was not rewritten after the stop: %s", exc)
            raise
        finally:  # finished, stopped or failed: every entry recorded reaches the file
            manifest.flush()
            write_durations(build_dir, result.entries)
        ran = {j.key: (j.branch_id, j.spec.name) for j in jobs}
        with guard.held_signals():  # files removed and the manifest saying so, together
            for key in remove_other_locales(manifest, ran, out_dir):
                log.info("removed %s: a locale this run was not asked for", key)
            manifest.flush()
        # each branch's pack, once its four reports are published (none without the PDFs)
        result.packs = make_packs(
            out_dir,
            manifest,
            # branches only: a region's or the bank's reports make no branch pack
            _pack_branches(
                ps,
                bank,
                [b for b in dict.fromkeys(j.branch_id for j in jobs) if b in branch_params],
            ),
            stop=stop,
            force=force,
            server=server,
        )
        if server is not None:
            server.close()
        _publish(out_dir_root, out_dir, manifest, ps, prepared, bank)
        for e in result.failed:
            print(f"FAILED {failed_name(e)}: {e['error']}", file=sys.stderr)
        return result
    finally:
        if server is not None:  # closed already after the packs; closing is idempotent
            server.close()
        lock.__exit__(None, None, None)
        guard.tidy(made)  # the folders this run made, if it was refused before using them


def failed_name(entry: dict) -> str:
    """``0101 risk``, or ``0101 risk (en)`` for a report in another locale than its
    branch's own: how a failure is named on its line."""
    name = f"{entry['branch_id']} {entry['report']}"
    stem = entry.get("stem") or entry["report"]
    return name if stem == entry["report"] else f"{name} ({entry.get('locale')})"


def _branch_info(bank) -> list[dict[str, Any]]:
    """The branches table's rows with dates as text (the index and the pack covers)."""
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        for r in bank.table("branches").to_dict("records")
    ]


def _publish(
    out_root: Path,
    out_dir: Path,
    manifest: Manifest,
    ps: ParamSet,
    prepared,
    bank,
    headlines=True,
) -> None:
    from ..output import levels, publish

    common = ps.for_branch(prepared.branch_ids[0]).common if prepared.branch_ids else None
    bank_locale = ps.bank.get("locale", "en")
    bank_name = common.bank_name.get(bank_locale) if common else ""
    info = _branch_info(bank)
    folders = {str(e.get("branch_id")) for e in (manifest.data.get("reports") or {}).values()}
    info += scope_rows(bank.org, folders)
    if headlines:  # after a stop, the index is rewritten at once, with the numbers it has
        _headlines_from_prepare(manifest, ps, prepared, bank, bank_locale, common)
    publish.write_period_index(
        out_dir, manifest.data, locale=bank_locale, bank_name=bank_name, branches=info
    )
    # each report's links to the same report one level up and down, to pages on disk
    found = levels.links(
        bank.org,
        manifest.data.get("reports") or {},
        period_dir=out_dir,
        names_={str(r["branch_id"]): r for r in info},
    )
    levels.write(out_dir, found)
    publish.write_root_index(out_root, locale=bank_locale, bank_name=bank_name)


def _pack_branches(ps: ParamSet, bank, ids: list[str]) -> dict[str, dict]:
    """What each branch's pack cover needs besides its reports: the branch's locale,
    bank name and classification (its parameters) and its row of the branches table."""
    keep = ("branch_id", "name", "name_zh", "region")
    rows = {
        str(r["branch_id"]): {k: v for k, v in r.items() if k in keep} for r in _branch_info(bank)
    }
    out = {}
    for bid in ids:
        common = ps.for_branch(bid).common
        out[bid] = {
            "locale": common.locale,
            "bank_name": common.bank_name.get(common.locale),
            "classification": common.classification.get(common.locale),
            "info": rows.get(bid, {"branch_id": bid}),
        }
    return out


def _headlines_from_prepare(
    manifest: Manifest, ps: ParamSet, prepared, bank, locale: str, common
) -> None:
    """Each published report's headline number, read from the prepared period through
    the report's declared headline metric (never scraped from the page), under the
    branch's own thresholds, in the index's locale; recorded in the manifest. A
    region's and the bank's are their branches' pooled, under the scope's thresholds."""
    from ..coverage import KPI_NEEDS, Coverage
    from ..metrics.headlines import headlines
    from ..reports import registry

    entries = manifest.data.get("reports", {})
    ids = sorted({e.get("branch_id") for e in entries.values() if e.get("status") == "ok"})
    tree = bank.org
    scopes = {scope_folder(s): s for s in ("bank", *(f"region:{r}" for r in tree.regions()))}
    members = {f: tree.branches(scopes[f]) for f in ids if f in scopes}
    settings = {b: ps.for_branch(b).sections for b in ids if b in prepared.branch_ids}
    settings |= {f: ps.for_scope(f).sections for f in members}
    if not settings:
        return
    cov = Coverage.from_json(prepared.meta.get("coverage"))
    values = headlines(
        # a report not produced has no benchmarks to read its headline from
        {name: spec.module for name, spec in registry().items() if cov.produced(name)},
        bank.bench,
        settings,
        period=prepared.period,
        locale=locale,
        currency=common.currency if common else "CNY",
        not_recorded=cov.not_recorded(KPI_NEEDS),
        members=members,
    )
    with manifest.lock:
        for entry in entries.values():  # every locale of a report: the same numbers
            if entry.get("status") == "ok":
                entry["headline"] = values.get(f"{entry['branch_id']}/{entry['report']}", {})
        manifest._dirty = True
    manifest.flush()
