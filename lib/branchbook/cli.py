"""The ``branchbook`` command.

Exit codes (for schedulers):

- 0: everything asked for was published (or was already up to date), or is not
  produced because the warehouse does not record its core data (the index says why);
- 1: the run finished but some reports failed (each printed on one line), or some
  messages of `deliver` (or `run --deliver`) could not be sent;
- 2: bad input refused before anything ran (an option, parameters, data contract,
  warehouse, unknown branch, report or period, a report or build folder that is a file
  or cannot be written, a manifest of another shape);
- 3: an unexpected internal error, or a file the run could not write (disk full, no
  permission, a symbolic link inside the report folder): one line naming the file;
- 4: another run is writing the same report folder (``run`` without ``--wait-lock``);
- 130 / 143: interrupted by SIGINT (Ctrl-C) / SIGTERM: nothing more was published and
  the manifest lists exactly the reports on disk; a rerun does the rest.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import redact
from .about import __version__
from .errors import BranchbookError, DataContractError, OutputError, ParamsError, WarehouseError
from .orgtree import SCOPES
from .runner.guard import EXIT_BUSY, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, FolderBusy, FolderLock


def _csv(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",")]
    if any(not v for v in items):
        raise argparse.ArgumentTypeError(f"empty item in {value!r}")
    return items


def _locales(value: str) -> list[str]:
    """``--locales``: one or more supported locales, comma-separated, none twice."""
    from .output.names import parse_locales

    try:
        return list(parse_locales(value, None))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _locale(value: str) -> str:
    """``--locale``: one supported locale."""
    from .i18n import LOCALES

    if value not in LOCALES:
        raise argparse.ArgumentTypeError(f"expected one of ({', '.join(LOCALES)}); got {value!r}")
    return value


def _path(value: str) -> str:
    """A folder, file or URL option: never empty (``--out "$UNSET"`` would otherwise mean
    the default folder, silently)."""
    if not value.strip():
        raise argparse.ArgumentTypeError(
            "expected a path, got an empty value (omit the option for the default)"
        )
    return value


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--warehouse",
        type=_path,
        help="DuckDB file, folder of Parquet/CSV, or SQLAlchemy URL "
        "(default: $BRANCHBOOK_WAREHOUSE_URL or the demo warehouse); a bank's own table "
        "and column names are mapped in <params>/warehouse.yaml",
    )
    p.add_argument(
        "--params", dest="params_dir", type=_path, help="parameter folder (default: params/)"
    )
    p.add_argument("--build", dest="build_dir", type=_path, help="build folder (default: build/)")


class _Parser(argparse.ArgumentParser):
    """An argument error is one line (the option and the rule) and exit code 2; the
    usage is one ``--help`` away instead of filling the log."""

    def error(self, message: str):
        self.exit(EXIT_REFUSED, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="branchbook", description="Per-branch bank reports.")
    ap.add_argument("--version", action="version", version=f"branchbook {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="prepare a period and publish its reports")
    r.add_argument("--period", help="YYYY-MM (default: the latest month in the warehouse)")
    r.add_argument("--branches", type=_csv, help="comma-separated branch ids (default: all)")
    r.add_argument("--reports", type=_csv, help="comma-separated report names (default: all)")
    r.add_argument("--formats", type=_csv, default=["html", "pdf"], help="html,pdf (default both)")
    r.add_argument(
        "--locales",
        type=_locales,
        help="comma-separated locales to make every report in, e.g. zh-CN,en (default: "
        "each branch's own locale from its parameter file); another locale than the "
        "branch's own has it in the file name: risk.en.html",
    )
    r.add_argument(
        "--scopes",
        type=_scopes,
        default=SCOPES,
        help="some of branch,region,bank: the levels each report is made for, each "
        "branch, the regions of the selected branches and the whole bank (default: all "
        "three; branch: the branches' reports only; see the README's head office section)",
    )
    r.add_argument(
        "--workers",
        type=_workers,
        help=f"reports made at once, 1 to {MAX_WORKERS} (default: CPU count + 1)",
    )
    r.add_argument("--out", type=_path, help="report folder (default: reports/)")
    r.add_argument(
        "--force",
        action="store_true",
        help="redo reports even when up to date (the prepared period is redone only "
        "when its inputs changed; see prepare --force)",
    )
    r.add_argument(
        "--no-warm",
        action="store_true",
        help="start a new Python for every kernel instead of forking warm ones",
    )
    r.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where reports are made: this machine (default) or a Dask cluster",
    )
    r.add_argument(
        "--scheduler",
        help="Dask scheduler address for --executor dask (default: $DASK_SCHEDULER_ADDRESS)",
    )
    r.add_argument("--no-progress", action="store_true", help="log lines instead of a progress bar")
    r.add_argument(
        "--wait-lock",
        action="store_true",
        help="if another run is writing the report folder, wait for it to end "
        f"(default: refuse at once with exit {EXIT_BUSY})",
    )
    r.add_argument(
        "--deliver",
        action="store_true",
        help="after the run, deliver the period to the people of params/access.yaml",
    )
    _common(r)

    pv = sub.add_parser(
        "preview", help="make one branch's report as HTML, as published, for an analyst"
    )
    pv.add_argument("--branch", required=True)
    pv.add_argument("--report", required=True)
    pv.add_argument("--period", help="YYYY-MM (default: the latest complete month)")
    pv.add_argument("--locale", type=_locale, help="en or zh-CN (default: the branch's own locale)")
    _common(pv)

    p = sub.add_parser("prepare", help="validate the data and cut the period's extracts")
    p.add_argument("--period")
    p.add_argument(
        "--force", action="store_true", help="prepare again even when the inputs are unchanged"
    )
    _common(p)

    v = sub.add_parser(
        "validate",
        help="check the mapping and the data contract; show what the data covers and "
        "the completeness per month",
    )
    v.add_argument(
        "--warehouse",
        type=_path,
        help="as for run (from a URL, --period reads only the rows that period needs)",
    )
    v.add_argument(
        "--period",
        help="YYYY-MM: refuse (exit 2) unless this month is complete; the table ends there",
    )
    v.add_argument("--params", dest="params_dir", type=_path)

    s = sub.add_parser("params", help="print a branch's validated, merged parameters")
    s.add_argument("--branch", required=True)
    s.add_argument("--report", help="only this report's section")
    s.add_argument("--params", dest="params_dir", type=_path)

    dl = sub.add_parser("deliver", help="send each person of the access list their reports")
    dl.add_argument("--period", required=True, help="YYYY-MM")
    dl.add_argument("--to", nargs="+", metavar="ID", help="only these people (access list ids)")
    dl.add_argument(
        "--dry-run", action="store_true", help="write the messages as .eml files; send nothing"
    )
    dl.add_argument(
        "--outbox", type=_path, help="folder for --dry-run (default: build/outbox/<period>)"
    )
    dl.add_argument("--out", type=_path, help="report folder (default: reports/)")
    dl.add_argument("--warehouse", type=_path, help="where branches and regions are read")
    dl.add_argument(
        "--params", dest="params_dir", type=_path, help="parameter folder (default: params/)"
    )

    sv = sub.add_parser("serve", help="serve the reports, each request checked against access")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8080)
    sv.add_argument("--out", type=_path, help="report folder (default: reports/)")
    sv.add_argument("--warehouse", type=_path, help="where branches and regions are read")
    sv.add_argument(
        "--params", dest="params_dir", type=_path, help="parameter folder (default: params/)"
    )
    sv.add_argument(
        "--access-log", help="JSON lines of every report opened (default: build/access.log)"
    )

    sub.add_parser(
        "hash-password", help="read a password (twice) and print its hash for access.yaml"
    )

    d = sub.add_parser("demo", help="build the demo warehouse")
    d.add_argument(
        "--out", type=_path, default=None, help="DuckDB file (default build/demo/warehouse.duckdb)"
    )
    d.add_argument("--branches", type=int, default=12)
    d.add_argument("--customers", type=int, default=30_000)
    d.add_argument("--months", type=int, default=24)
    d.add_argument("--end-month", default="2026-10")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--if-missing", action="store_true", help="do nothing if the file exists")
    d.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    return ap


MAX_WORKERS = 64


def _scopes(text: str) -> tuple[str, ...]:
    """``--scopes``: some of branch, region, bank, comma-separated."""
    from .runner.plan import parse_scopes

    try:
        return parse_scopes(text)
    except ParamsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _workers(text: str) -> int:
    """``--workers``: a whole number from 1 to :data:`MAX_WORKERS`, never remapped silently."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= n <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_WORKERS}, got {n}")
    return n


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM)."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    import signal

    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("papermill", "traitlets", "fontTools", "weasyprint", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redact.install_log_filter()
    try:
        return _dispatch(args)
    except (ParamsError, DataContractError, WarehouseError) as exc:
        print(f"branchbook: refused: {redact.scrub(str(exc))}", file=sys.stderr)
        return EXIT_REFUSED
    except FolderBusy as exc:
        print(f"branchbook: busy: {redact.scrub(str(exc))}", file=sys.stderr)
        return EXIT_BUSY
    except OutputError as exc:  # not bad input: the run could not write (disk full, permissions)
        print(f"branchbook: {redact.scrub(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except BranchbookError as exc:
        print(f"branchbook: {redact.scrub(str(exc))}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print(f"branchbook: interrupted (SIGINT); {_STOPPED}", file=sys.stderr)
        return 130
    except Terminated:
        print(f"branchbook: terminated (SIGTERM); {_STOPPED}", file=sys.stderr)
        return 143
    except Exception as exc:  # an internal error: show it, and exit with its own code
        if line := _out_of_memory(exc):
            print(f"branchbook: {line}; {_STOPPED}", file=sys.stderr)
            return EXIT_ERROR
        import traceback

        print(redact.scrub(traceback.format_exc()), file=sys.stderr, end="")
        return EXIT_ERROR


def _out_of_memory(exc: BaseException) -> str:
    """The line for DuckDB running out of memory under its limit ("" for any other
    error): not bad input and not a bug, but a machine or a limit too small for the
    bank, which the operator can change."""
    if type(exc).__name__ != "OutOfMemoryException" or "duckdb" not in type(exc).__module__:
        return ""
    from .warehouse import DEFAULT_MEMORY, MEMORY_VARIABLE

    limit = os.environ.get(MEMORY_VARIABLE, "").strip() or DEFAULT_MEMORY
    return (
        f"DuckDB ran out of memory under its limit of {limit} ({MEMORY_VARIABLE}): on a "
        f"machine with more memory set it higher, e.g. {MEMORY_VARIABLE}=8GB"
    )


_STOPPED = (
    "nothing more was published, the manifest lists the reports on disk; "
    "rerun to finish the remaining reports"
)


def _dispatch(args) -> int:
    from . import paths

    root = paths.project_root()
    if args.command == "preview":
        from .runner.orchestrate import failed_name, run

        out = Path(args.build_dir or root / "build") / "preview"
        result = run(
            args.period,
            branches=[args.branch],
            reports=[args.report],
            formats=("html",),
            warehouse=args.warehouse,
            params_dir=args.params_dir,
            out=out,
            build_dir=args.build_dir,
            force=True,
            progress=False,
            locales=[args.locale] if args.locale else None,
            scopes=("branch",),  # one branch's report: never its region's or the bank's
        )
        for e in result.failed:
            print(f"FAILED {failed_name(e)}: {e['error']}", file=sys.stderr)
        for e in result.entries.values():
            if e["status"] == "not_produced":
                print(f"NOT PRODUCED {failed_name(e)}: {e['reason']}", file=sys.stderr)
                return EXIT_OK
        if result.exit_code == EXIT_OK:
            (entry,) = result.entries.values()  # its file is named as a run names it
            print(out / result.period / entry["outputs"]["html"]["path"])
        return result.exit_code
    if args.command == "run":
        return _run(args, root)
    if args.command == "deliver":
        from .deliver import deliver
        from .params import validate_period

        delivered = deliver(
            validate_period(args.period),
            reports_dir=args.out or root / "reports",
            params_dir=args.params_dir or root / "params",
            warehouse=args.warehouse,
            only=args.to,
            dry_run=args.dry_run,
            outbox=args.outbox or root / "build" / "outbox" / args.period,
        )
        return _report_delivery(delivered)
    if args.command == "serve":
        from .deliver.access import org_from_warehouse
        from .serve import serve

        try:
            serve(
                args.out or root / "reports",
                args.params_dir or root / "params",
                org_from_warehouse(args.warehouse),
                host=args.host,
                port=args.port,
                access_log=Path(args.access_log or root / "build" / "access.log"),
            )
        except Terminated:  # uvicorn has shut down cleanly and passes the signal on
            pass
        print("branchbook: portal stopped", file=sys.stderr)
        return EXIT_OK
    if args.command == "hash-password":
        import getpass

        from .serve.passwords import hash_password

        first = getpass.getpass("password: ")
        if len(first) < 12 or first != getpass.getpass("again: "):
            print("branchbook: passwords differ or are shorter than 12 characters", file=sys.stderr)
            return EXIT_REFUSED
        print(hash_password(first))
        return EXIT_OK
    if args.command == "prepare":
        from .prepare import prepare
        from .runner.guard import check_writable

        check_writable("--build", Path(args.build_dir or root / "build"))
        prep = prepare(
            args.period,
            source=args.warehouse,
            params_dir=args.params_dir or root / "params",
            build_dir=args.build_dir or root / "build",
            force=args.force,
        )
        print(f"prepared {prep.period}: {len(prep.branch_ids)} branches in {prep.root}")
        for w in prep.meta.get("warnings", []):
            print(f"warning: {w}", file=sys.stderr)
        return EXIT_OK
    if args.command == "validate":
        from . import completeness, contract, coverage, mapping, warehouse
        from .metrics import basis
        from .params import ParamSet, validate_period
        from .prepare import empty_tables, transaction_months
        from .reports import REPORTS, settings_classes

        params_dir = Path(args.params_dir or root / "params")
        mapping_file = mapping.find(params_dir)
        mp = mapping.load(mapping_file) if mapping_file else None
        zone = warehouse.DEFAULT_TIME_ZONE
        months = 0  # from a server, the transactions prepare stages are the ones checked
        if (params_dir / "bank.yaml").is_file():  # else the warehouse is named first
            ps = ParamSet(params_dir, settings_classes())
            zone = _common_params(ps.bank).time_zone
            months = transaction_months(ps)
        con = warehouse.open_warehouse(
            args.warehouse, time_zone=zone, mapping=mp, period=args.period,
            transaction_months=months,
        )  # fmt: skip
        rules = _common_params(ParamSet(params_dir, settings_classes()).bank)
        bounds = contract.Bounds(**rules.plausibility.model_dump())
        report = contract.check(con, bounds=bounds)
        for w in report.warnings:
            print(f"warning: {redact.scrub(w.message())}", file=sys.stderr)
        print("data contract: ok")
        found = contract.found_columns(con)
        empty = empty_tables(con, found)
        print(coverage.table(coverage.verdict(found, tuple(REPORTS), empty=empty)))
        month = args.period or con.execute("SELECT max(month) FROM balances").fetchone()[0]
        empty = basis.empty_line(con, str(month), found.get("balances", ())) if month else None
        if empty:
            print(empty)
        warehouse.complete_shape(con)
        print(
            completeness.table(
                con, validate_period(args.period) if args.period else None, rules.completeness
            )
        )
        if args.period:
            completeness.require(con, args.period, rules.completeness)
            print(f"period {args.period}: complete")
        return EXIT_OK
    if args.command == "params":
        from .params import ParamSet
        from .reports import REPORTS, settings_classes

        if args.report and args.report not in REPORTS:
            raise ParamsError(
                f"--report is expected to be one of ({', '.join(REPORTS)}). "
                f"Got {args.report!r} instead."
            )
        bp = ParamSet(args.params_dir or root / "params", settings_classes()).for_branch(
            args.branch
        )
        out = {
            "branch_id": bp.branch_id,
            "files": list(bp.source_files),
            **bp.common.model_dump(mode="json", by_alias=True),
        }
        for name, sec in bp.sections.items():
            if not args.report or name == args.report:
                out[name] = sec.model_dump(mode="json", by_alias=True)
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return EXIT_OK
    if args.command == "demo":
        from . import demo

        out = Path(args.out) if args.out else root / "build" / "demo" / "warehouse.duckdb"
        if args.if_missing and out.is_file():
            print(f"demo warehouse exists: {out}")
            return EXIT_OK
        if out.exists() and not args.force:
            raise ParamsError(
                f"{out} exists: branchbook demo does not overwrite a warehouse unless given "
                "--force (or --out another file)"
            )
        demo.build(
            out,
            branches=args.branches,
            customers=args.customers,
            months=args.months,
            end_month=args.end_month,
            seed=args.seed,
        )
        print(f"demo warehouse written: {out}")
        return EXIT_OK
    return EXIT_ERROR


def _run(args, root: Path) -> int:
    """``branchbook run``: a run with nothing to do is known first, from the metadata of
    the files it reads and wrote (:mod:`branchbook.runner.quick`), without importing the
    reporting stack; otherwise the full run, and its stamp when it published everything."""
    from .runner import quick

    fast = quick.QuickRun.for_args(args, root)
    if fast is not None and not args.force and fast.nothing_to_do() is not None:
        with FolderLock(fast.out_root, wait=args.wait_lock):  # not while a run writes
            stamp = fast.nothing_to_do()
        if stamp is not None:
            logging.getLogger("branchbook.run").info(
                "nothing to do: no input or published file changed since run %s",
                stamp["summary"].get("run_id"),
            )
            print(stamp["summary"]["line"], file=sys.stderr)
            return _deliver_after_run(args, root, stamp["period"])
    from .runner.orchestrate import run

    result = run(
        args.period,
        branches=args.branches,
        reports=args.reports,
        formats=tuple(args.formats),
        workers=args.workers,
        warehouse=args.warehouse,
        params_dir=args.params_dir,
        out=args.out,
        build_dir=args.build_dir,
        force=args.force,
        progress=False if args.no_progress else None,
        warm=False if args.no_warm else None,
        executor=args.executor,
        scheduler=args.scheduler,
        wait_lock=args.wait_lock,
        locales=args.locales,
        scopes=args.scopes,
    )
    ok = sum(e["status"] == "ok" for e in result.entries.values())
    line = (
        f"branchbook: {result.period}: {ok} of {len(result.entries)} reports published, "
        f"{len(result.failed)} failed; index: {result.manifest_path.parent / 'index.html'}"
    )
    print(line, file=sys.stderr)
    if result.exit_code != EXIT_OK:
        return result.exit_code
    if fast is not None:
        fast.record(result.period, {"run_id": result.run_id, "line": line})
    return _deliver_after_run(args, root, result.period)


def _deliver_after_run(args, root: Path, period: str) -> int:
    """``run --deliver``: deliver the period once every report is published."""
    if not args.deliver:
        return EXIT_OK
    from .deliver import deliver

    delivered = deliver(
        period,
        reports_dir=args.out or root / "reports",
        params_dir=args.params_dir or root / "params",
        warehouse=args.warehouse,
    )
    return _report_delivery(delivered)


def _report_delivery(result) -> int:
    """One line per message sent (or written) and per recipient that failed."""
    for line in result.sent:
        print(f"delivered: {line}", file=sys.stderr)
    for path in result.written:
        print(f"written: {path}", file=sys.stderr)
    for who, why in result.failed.items():
        print(f"not delivered: {who}: {redact.scrub(why)}", file=sys.stderr)
    print(
        f"branchbook: {result.period}: {len(result.sent)} message(s), {len(result.failed)} failed",
        file=sys.stderr,
    )
    return EXIT_ERROR if result.failed else EXIT_OK


def _common_params(bank: dict):
    from .params import Common

    return Common.model_validate({k: v for k, v in bank.items() if k in Common.model_fields})


def entry() -> None:
    """The ``branchbook`` command: :func:`main`, then :func:`leave` with its exit code."""
    leave(main())


def leave(code: int) -> None:
    """End the process with ``code`` without tearing the interpreter down.

    Python's own shutdown frees every module and object one by one (pandas, matplotlib,
    statsmodels, pyarrow, DuckDB and the rest): 0.5-0.6 s of a core at the end of every
    run (measured from ``main`` returning to the process ending), writing nothing. By
    then ``main`` has closed its files and stopped its fork server; this runs the exit
    handlers (logging's flush, the removal of the kernel socket folder), flushes stdout
    and stderr and ends the process. If any other thread is still alive, it exits the
    ordinary way instead.
    """
    import atexit
    import os
    import threading

    if threading.active_count() != 1 or not hasattr(atexit, "_run_exitfuncs"):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a reader that went away
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
