"""Prepare a period once: validate, cut per-branch extracts, compute bank-wide artifacts.

One pass over the warehouse with DuckDB SQL:

1. check the data contract (:mod:`branchbook.contract`) and every parameter file,
   before anything else is done; judge what the tables and columns found allow
   (:mod:`branchbook.coverage`: recorded as ``coverage`` in ``prepare.json``) and read
   what is absent as empty, so the sections that have their data are computed;
2. build the tables several reports read (customer-month, loan-month, scored surveys,
   churn: :mod:`branchbook.metrics.shared`) once, then give every report module's
   ``prepare(ctx)`` the whole bank, so what must be measured the same way everywhere
   (percentile ranks, clusters, the scorecard, peer groups, benchmarks) is computed once;
3. write each branch's extract (contract tables and report artifacts cut to the
   branch) and the bank-wide ``bench_*`` frames as Parquet.

From a database server (a URL), the rows the period needs are first streamed into a
private folder inside the build folder (:mod:`branchbook.server`), after the server
has hashed its rows: an unchanged period is known without pulling them.

The result lives in ``build/<period>/prepared/`` (swapped in whole, so a failed
prepare never leaves a half-written folder) with ``prepare.json`` describing it. A
second call with the same data, parameters and code does nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import (
    codekey,
    completeness,
    contract,
    coverage,
    holding,
    lookback,
    mapping,
    redact,
    server,
    warehouse,
)
from .errors import DataContractError, ParamsError
from .params import SHARED_KEYS, Common, ParamSet, validate_period
from .period import Period, month_bounds, shift_month
from .reports import registry, settings_classes

log = logging.getLogger("branchbook.prepare")

# How each contract table reaches a branch (its documented key: its own branch_id, or
# its customer's, loan's or staff member's), and which rows of it a period needs. Only
# the contract's columns are copied (see :func:`extract_query`): an extra column in the
# warehouse (a free-text note, a stray branch_id in a child table) never reaches an
# extract. Period bounds are half-open on dates: $stop is the first day after the period.
ROUTES: dict[str, tuple[str, str, str]] = {
    # table: (join, branch column, filter)
    "branches": ("", "t.branch_id", ""),
    "staff": ("", "t.branch_id", ""),
    "customers": ("", "t.branch_id", ""),
    "balances": ("JOIN customers p USING (customer_id)", "p.branch_id", "t.month <= $period"),
    "transactions": (
        "JOIN customers p USING (customer_id)",
        "p.branch_id",
        f"t.txn_date >= $stop - INTERVAL {lookback.EXTRACT_DAYS} DAY AND t.txn_date < $stop",
    ),
    "loans": ("", "t.branch_id", "t.originated_on < $stop"),
    "loan_snapshots": ("JOIN loans p USING (loan_id)", "p.branch_id", "t.month <= $period"),
    "financials": ("JOIN customers p USING (customer_id)", "p.branch_id", "t.period_end < $stop"),
    "surveys": ("", "t.branch_id", "t.responded_on < $stop"),
    "complaints": ("", "t.branch_id", "t.received_at < $stop"),
    "aml_alerts": ("JOIN customers p USING (customer_id)", "p.branch_id", "t.raised_on < $stop"),
    "targets": ("JOIN staff p USING (staff_id)", "p.branch_id", "t.period <= $period"),
    "kyc_history": ("JOIN customers p USING (customer_id)", "p.branch_id", "t.valid_from < $stop"),
    "staff_training": ("JOIN staff p USING (staff_id)", "p.branch_id", "t.completed_on < $stop"),
    "staff_certifications": (
        "JOIN staff p USING (staff_id)",
        "p.branch_id",
        "t.obtained_on < $stop",
    ),
    "holdings": ("JOIN customers p USING (customer_id)", "p.branch_id", "t.month <= $period"),
    "contacts": ("JOIN customers p USING (customer_id)", "p.branch_id", "t.contacted_on < $stop"),
}


def extract_query(con, table: str) -> str:
    """The SQL of one table's extract: the contract's columns present in the warehouse,
    the routing branch_id, the period's rows."""
    join, branch, where = ROUTES[table]
    found = {r[0] for r in con.execute(f'DESCRIBE SELECT * FROM "{table}"').fetchall()}
    cols = [f't."{c}"' for c in contract.TABLES[table].types if c in found and c != "branch_id"]
    select = ", ".join([*cols, f"{branch} AS branch_id"])
    return f'SELECT {select} FROM "{table}" t {join}' + (f" WHERE {where}" if where else "")


@dataclass
class PrepareContext:
    """What a report module's ``prepare`` gets: SQL over the warehouse and the period."""

    con: Any
    period: str
    settings: Any = None

    @property
    def prev_period(self) -> str:
        return shift_month(self.period, -1)

    @property
    def period_start(self) -> dt.date:
        return month_bounds(self.period)[0]

    @property
    def period_end(self) -> dt.date:
        return month_bounds(self.period)[1]

    def months(self, n: int) -> list[str]:
        """The last ``n`` months ending at the period, oldest first."""
        return [shift_month(self.period, -i) for i in range(n - 1, -1, -1)]

    def sql(self, query: str, **params: Any) -> pd.DataFrame:
        """Run DuckDB SQL over the contract tables; ``$name`` parameters from ``params``."""
        return self.con.execute(query, params).df() if params else self.con.execute(query).df()

    def with_settings(self, settings: Any) -> PrepareContext:
        return PrepareContext(self.con, self.period, settings)


def latest_period(con) -> str:
    """The latest month with balances in the warehouse."""
    row = con.execute("SELECT max(month) FROM balances").fetchone()
    if not row or row[0] is None:
        raise DataContractError("balances: the table is empty, so no period can be reported")
    return str(row[0])


def check_period(con, period: str) -> None:
    validate_period(period)
    months = con.execute("SELECT min(month), max(month) FROM balances").fetchone()
    if months[0] is None or not (months[0] <= period <= months[1]):
        raise ParamsError(
            f"period {period} has no data in the warehouse (balances cover {months[0]} to {months[1]})"
        )


def _bank_common(ps: ParamSet) -> Common:
    """The bank file's common keys (validated when the ParamSet was read)."""
    return Common.model_validate({k: v for k, v in ps.bank.items() if k in Common.model_fields})


def _params_hash(ps: ParamSet, mapping_file: Path | None = None) -> str:
    h = hashlib.sha256()
    extra = [mapping_file] if mapping_file else []
    for path in [ps.bank_file, *ps.branch_files().values(), *extra]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Prepared:
    """A prepared period on disk."""

    period: str
    root: Path
    meta: dict

    @property
    def branch_ids(self) -> list[str]:
        return list(self.meta["branches"])


def prepared_dir(build_dir: Path, period: str) -> Path:
    return Path(build_dir) / period / "prepared"


def load_prepared(build_dir: Path, period: str) -> Prepared | None:
    root = prepared_dir(build_dir, period)
    try:
        meta = json.loads((root / "prepare.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Prepared(period=period, root=root, meta=meta)


def prepare(
    period: str | None = None,
    *,
    source: str | os.PathLike | None = None,
    params_dir: str | os.PathLike = "params",
    build_dir: str | os.PathLike = "build",
    force: bool = False,
) -> Prepared:
    """Validate and prepare ``period`` (default: the latest month in the warehouse)."""
    t0 = time.perf_counter()
    ps = ParamSet(params_dir, settings_classes())
    common = _bank_common(ps)
    mapping_file = mapping.find(params_dir)
    mp = mapping.load(mapping_file) if mapping_file else None
    build_dir = Path(build_dir)
    url = warehouse.url_of(source)
    served = None
    if url:
        # the server hashes its rows: an unchanged period is known without pulling a row
        served = server.branch_fingerprints(url, mapping=mp, time_zone=common.time_zone)
        target = period or server.latest_month(url, mapping=mp, time_zone=common.time_zone)
        if served is not None and target and not force:
            key = _key(served, ps, mapping_file)
            current = load_prepared(build_dir, target)
            report_keys = {
                n: _report_key(key["fingerprint"], ps, spec) for n, spec in registry().items()
            }
            if (
                current
                and all(current.meta.get(k) == v for k, v in key.items())
                and current.meta.get("report_keys") == report_keys
            ):
                log.info("prepare %s: up to date (%s)", target, key["fingerprint"])
                return current
    stage = build_dir / f".source-{os.getpid()}"
    for old in build_dir.glob(".source-*") if build_dir.is_dir() else []:
        pid = old.name.rsplit("-", 1)[1]  # rows staged by a prepare that was killed
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    try:
        return _prepare(
            period, source, ps, common, mp, mapping_file, build_dir, stage, served, t0, force
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _key(fingerprints: dict[str, str], ps: ParamSet, mapping_file: Path | None) -> dict:
    bank_fp = hashlib.sha256(json.dumps(fingerprints, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "fingerprint": bank_fp,
        "params": _params_hash(ps, mapping_file),
        "code": codekey.extracts_code(),
    }


def transaction_months(ps: ParamSet) -> int:
    """How many months before the period the reports' prepares read transactions from at
    most, by the bank's parameters: the largest that a report package's
    ``transaction_months(settings)`` gives (0 when none reads further back than the
    extracts' window; :mod:`branchbook.lookback`)."""
    return max(
        (
            spec.module.transaction_months(_bank_section(ps, name, spec))
            for name, spec in registry().items()
            if hasattr(spec.module, "transaction_months")
        ),
        default=0,
    )


def _open(source, common: Common, mp, period: str | None, stage: Path, ps: ParamSet):
    """The warehouse on DuckDB; for a server, the rows ``period`` needs staged first
    (transactions as far back as the reports' prepares read them)."""
    months = 0
    if warehouse.url_of(source):
        shutil.rmtree(stage, ignore_errors=True)
        months = transaction_months(ps)
        if period is None:
            period = server.latest_month(warehouse.url_of(source), mapping=mp,
                                         time_zone=common.time_zone)  # fmt: skip
    return warehouse.open_warehouse(
        source, time_zone=common.time_zone, mapping=mp, period=period, stage_dir=stage,
        transaction_months=months,
    )  # fmt: skip


def empty_tables(con, found) -> set[str]:
    """The tables of ``found`` below the required tier that have no rows at all: a bank
    that keeps an empty ``surveys`` table records no surveys, so
    :func:`branchbook.coverage.verdict` counts them as missing (its scores are "not
    recorded", not 0)."""
    return {
        t
        for t in found
        if coverage.need(t).tier != "required"
        and con.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is None
    }


def _verdict(con) -> coverage.Coverage:
    found = contract.found_columns(con)
    return coverage.verdict(found, tuple(registry()), empty=empty_tables(con, found))


def _unchanged(con, period, ps, mapping_file, build_dir, rules) -> Prepared | None:
    """The prepared period when its data (the branches' fingerprints), parameters and
    code are those it was prepared from, else None. Asked before the contract check: the
    same data under the same rules and code passed it when it was prepared, and what it
    found is in the prepared period's record. Anything unexpected (a table the
    fingerprints cannot read, no complete month) leaves the answer to the full path,
    which names the problem."""
    try:
        target = period or completeness.latest_complete(con, rules)
        current = load_prepared(build_dir, target)
        if current is None:
            return None
        key = _key(warehouse.branch_fingerprints(con), ps, mapping_file)
    except Exception:  # the full path checks and says what is wrong
        return None
    report_keys = {n: _report_key(key["fingerprint"], ps, spec) for n, spec in registry().items()}
    if (
        all(current.meta.get(k) == v for k, v in key.items())
        and current.meta.get("report_keys") == report_keys
    ):
        log.info("prepare %s: up to date (%s)", target, key["fingerprint"])
        return current
    return None


def _prepare(period, source, ps, common, mp, mapping_file, build_dir, stage, served, t0, force):
    con = _open(source, common, mp, period, stage, ps)
    if not force and served is None:
        unchanged = _unchanged(con, period, ps, mapping_file, build_dir, common.completeness)
        if unchanged is not None:
            con.close()
            return unchanged
    bounds = contract.Bounds(**common.plausibility.model_dump())
    report = contract.check(con, bounds=bounds)
    cov = _verdict(con)
    filled = warehouse.complete_shape(con)
    if filled:
        log.info("prepare: not in the warehouse, read as empty: %s", ", ".join(filled))
    rules = common.completeness
    if period:
        check_period(con, period)
        completeness.require(con, period, rules)
    else:
        staged = latest_period(con)  # an empty balances table is named as such
        period = completeness.latest_complete(con, rules)
        if warehouse.url_of(source) and period != staged:
            con.close()  # staged for a later month: stage the rows this one needs
            con = _open(source, common, mp, period, stage, ps)
            report = contract.check(con, bounds=bounds)
            cov = _verdict(con)
            warehouse.complete_shape(con)
    branch_ids = [
        r[0] for r in con.execute("SELECT branch_id FROM branches ORDER BY branch_id").fetchall()
    ]
    ps.check_all(branch_ids)
    fingerprints = served if served is not None else warehouse.branch_fingerprints(con)
    key = _key(fingerprints, ps, mapping_file)
    bank_fp = key["fingerprint"]
    reports = registry()
    report_keys = {name: _report_key(bank_fp, ps, spec) for name, spec in reports.items()}
    current = load_prepared(build_dir, period)
    if force:
        current = None
    if (
        current
        and all(current.meta.get(k) == v for k, v in key.items())
        and current.meta.get("report_keys") == report_keys
    ):
        log.info("prepare %s: up to date (%s)", period, bank_fp)
        return current
    # what the current prepared period already holds for the same data and code is
    # kept (hard links): a change in one report's code redoes that report's models only
    same_extracts = bool(
        current
        and current.meta.get("fingerprint") == bank_fp
        and current.meta.get("code") == key["code"]
    )
    kept = {
        name
        for name in reports
        if current
        and (current.meta.get("report_keys") or {}).get(name) == report_keys[name]
        and name in (current.meta.get("artifacts") or {})
    }

    final = prepared_dir(build_dir, period)
    remove_stale_work(final.parent)
    tmp = final.with_name(f"prepared.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "bench").mkdir(parents=True)
    start, end = month_bounds(period)
    qparams = {"period": period, "period_end": end, "stop": Period.parse(period).stop}
    artifacts: dict[str, list[str]] = {n: [] for n in reports}  # the registry's order
    try:
        # every customer in the branch holding it at the period's end (holding.py)
        branch_history = {
            "recorded": holding.hold_as_of(con, end),
            "moves": holding.moves(con, Period.parse(period).year_start.prev.end, end),
        }
        for table in ROUTES:
            if same_extracts:
                _keep(current.root, tmp, table)
            else:
                _write_partitioned(
                    con, f"{extract_query(con, table)} ORDER BY ALL", qparams, tmp, table
                )
        # imported here: their code joins each report's key (codekey.SHARED_STEP; the
        # reports reach the cut-offs and the basis through their settings), not the
        # extracts' (an edit there redoes the reports, not the extracts)
        from .metrics import basis, shared, thresholds

        ctx = PrepareContext(con, period)
        # the balance basis the warehouse allows: the one place every AUM is read on
        balance_basis = basis.record(common.balance_basis, basis.has_averages(ctx))
        if set(reports) - kept:  # the building blocks the reports' prepares read
            shared.prepare_shared(
                con,
                period,
                end,
                tiers=common.asset_tiers,
                csat_scale=common.csat_scale,
                basis=balance_basis["used"],
            )
        # a report after the reports whose prepared tables it reads (codekey.READS_PREPARED)
        for name in codekey.prepare_order(reports):
            spec = reports[name]
            if name in kept:
                artifacts[name] = list(current.meta["artifacts"][name])
                for art in artifacts[name]:
                    _keep(current.root, tmp, art)
                log.info("prepare %s: %s unchanged, its models kept", period, name)
                continue
            artifacts[name] = []
            if spec.prepare is None or not cov.produced(name):
                continue
            t1 = time.perf_counter()
            bank_settings = _bank_section(ps, name, spec)
            frames = dict(spec.prepare(ctx.with_settings(bank_settings)))
            if hasattr(spec.module, "unit_kpis") and hasattr(bank_settings, "kpi_status"):
                frames |= thresholds.prepare_cutoffs(
                    name, spec.module.unit_kpis, frames, bank_settings, period=period
                )
            log.info("prepare %s: %s artifacts in %.1fs", period, name, time.perf_counter() - t1)
            for art, frame in frames.items():
                _write_artifact(con, tmp, art, frame)
                artifacts[name].append(art)
        meta = {
            "period": period,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            **key,
            "report_keys": report_keys,
            "artifacts": artifacts,
            "redone": sorted(set(reports) - kept),
            "branch_fingerprints": fingerprints,
            "branches": branch_ids,
            "org": {
                str(b): [r, p]
                for b, r, p in con.execute(
                    "SELECT branch_id, region, parent_id FROM branches"
                ).fetchall()
            },
            "warehouse": redact.scrub(warehouse.describe(source)),
            "warnings": [redact.scrub(v.message()) for v in report.warnings],
            **warning_details(con, report, bounds),
            "coverage": cov.to_json(),
            "balance_basis": balance_basis,
            "branch_history": branch_history,
            "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - t0, 2),
        }
        shutil.rmtree(tmp / "_staging", ignore_errors=True)
        (tmp / "prepare.json").write_text(
            json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        old = final.with_name("prepared.old")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        con.close()
    log.info("prepare %s: done in %.1fs", period, time.perf_counter() - t0)
    return Prepared(period=period, root=final, meta=meta)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_work(folder: Path) -> list[Path]:
    """Remove ``prepared.tmp-<pid>`` folders (customer data) left by a prepare that was
    killed: those whose process is gone. Returns what was removed."""
    removed = []
    for path in Path(folder).glob("prepared.tmp-*") if Path(folder).is_dir() else []:
        pid = path.name.rsplit("-", 1)[1]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def warning_details(
    con, report: contract.Report, bounds: contract.Bounds = contract.DEFAULT_BOUNDS
) -> dict[str, Any]:
    """The data contract's warnings as data, for ``prepare.json`` and the reports.

    ``warning_details``: one dict per warning over the whole bank (rule, table,
    column, count, key, up to five example keys, detail, message), in the order of
    ``warnings``. ``branch_warnings``: the same per branch the rows concern (see
    :func:`branchbook.contract.branch_warnings`), with the counts and examples of that
    branch's rows only; ``"*"`` holds rows that reach no branch (they concern every
    report). A report shows its branch's list (see :attr:`BranchData.warnings
    <branchbook.data.BranchData.warnings>`).
    """
    if not report.warnings:
        return {"warning_details": [], "branch_warnings": {}}
    per_branch = contract.branch_warnings(con, bounds=bounds)
    return {
        "warning_details": [_warning(v) for v in report.warnings],
        "branch_warnings": {b: [_warning(v) for v in vs] for b, vs in sorted(per_branch.items())},
    }


def _warning(v: contract.Violation) -> dict[str, Any]:
    return {
        "rule": v.rule,
        "table": v.table,
        "column": v.column,
        "count": v.count,
        "key": list(v.key),
        "examples": list(v.examples),
        "detail": v.detail,
        "message": v.message(),
    }


def _report_key(bank_fp: str, ps: ParamSet, spec) -> str:
    """What one report's bank-wide models depend on: the data, the report's bank-level
    parameters, the parameters of the shared tables (:mod:`branchbook.metrics.shared`)
    and the code its package and the shared step reach."""
    section = _bank_section(ps, spec.name, spec).model_dump(mode="json")
    common = _bank_common(ps).model_dump(mode="json")
    inputs = {k: common[k] for k in SHARED_KEYS}
    text = json.dumps(
        [bank_fp, section, inputs, codekey.prepare_code(spec.module.__name__)], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _keep(old_root: Path, new_root: Path, name: str) -> None:
    """Carry one extract or artifact (every branch's file, its schema, its bench file)
    from the current prepared period into the new one, by hard link where possible."""
    for src in [
        *old_root.glob(f"extracts/*/{name}.parquet"),
        old_root / "_schema" / f"{name}.parquet",
        old_root / "bench" / f"{name}.parquet",
    ]:
        if not src.is_file():
            continue
        dest = new_root / src.relative_to(old_root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dest)
        except OSError:
            shutil.copy2(src, dest)


def _bank_section(ps: ParamSet, name: str, spec) -> Any:
    """The bank-level settings of one report (``bank.yaml`` without branch overrides)."""
    raw = ps.bank.get(name, {})
    return spec.settings.model_validate(dict(raw))


def _write_partitioned(con, query: str, qparams: dict, root: Path, table: str) -> None:
    """Write ``query``'s rows as ``extracts/<branch>/<table>.parquet`` plus an empty schema file."""
    staging = root / "_staging" / table
    staging.parent.mkdir(parents=True, exist_ok=True)
    # Parameters cannot be bound inside COPY, so the query is materialised first.
    used = {k: v for k, v in qparams.items() if re.search(rf"\${k}\b", query)}
    con.execute(f"CREATE OR REPLACE TEMP TABLE __extract AS {query}", used)
    con.execute(
        f"COPY (SELECT * FROM __extract) TO '{_sql_path(staging)}' "
        "(FORMAT parquet, PARTITION_BY (branch_id), OVERWRITE_OR_IGNORE true)"
    )
    schema = root / "_schema"
    schema.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY (SELECT * FROM __extract LIMIT 0) TO '{_sql_path(schema / (table + '.parquet'))}' (FORMAT parquet)"
    )
    con.execute("DROP TABLE __extract")
    _collect(staging, root, table)


def _collect(staging: Path, root: Path, name: str) -> None:
    for part in sorted(staging.glob("branch_id=*")) if staging.is_dir() else []:
        bid = part.name.split("=", 1)[1]
        files = sorted(part.glob("*.parquet"))
        dest = root / "extracts" / bid
        dest.mkdir(parents=True, exist_ok=True)
        if len(files) == 1:
            files[0].rename(dest / f"{name}.parquet")
        else:
            frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
            frame.to_parquet(dest / f"{name}.parquet", index=False)
    shutil.rmtree(staging, ignore_errors=True)


def _write_artifact(con, root: Path, name: str, frame: pd.DataFrame) -> None:
    if name.startswith("bench_") or "branch_id" not in frame.columns:
        frame.to_parquet(root / "bench" / f"{name}.parquet", index=False)
        return
    con.register("__artifact", frame)
    try:
        staging = root / "_staging" / name
        staging.parent.mkdir(parents=True, exist_ok=True)
        (root / "_schema").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT * FROM __artifact) TO '{_sql_path(staging)}' "
            "(FORMAT parquet, PARTITION_BY (branch_id), OVERWRITE_OR_IGNORE true)"
        )
        con.execute(
            f"COPY (SELECT * FROM __artifact LIMIT 0) TO '{_sql_path(root / '_schema' / (name + '.parquet'))}' (FORMAT parquet)"
        )
    finally:
        con.unregister("__artifact")
    _collect(staging, root, name)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
