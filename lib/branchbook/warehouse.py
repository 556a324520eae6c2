"""Opening a warehouse: one DuckDB connection on which every contract table is a view.

:func:`open_warehouse` accepts

- a DuckDB file, attached read-only; each contract table becomes a view of the same
  name (other tables stay reachable as ``warehouse.<name>``);
- a folder holding, per table, ``<table>.parquet``, ``<table>/*.parquet`` or
  ``<table>.csv`` (in that order of preference). CSV is read as text and converted
  to the contract's types, so ids such as ``0101`` keep their leading zeros;
- a SQLAlchemy URL (``postgresql+psycopg://user:pass@host/db``): the rows a period
  needs are streamed from the server in chunks into Parquet files
  (:mod:`branchbook.server`), which the connection then reads. SQLAlchemy and the
  driver are needed only for this. The password never appears in a message:
  :func:`mask_url` shows it as ``***``;
- ``None``: the URL in ``BRANCHBOOK_WAREHOUSE_URL`` when set, else the demo warehouse
  :data:`DEFAULT_WAREHOUSE` in the project folder (see :func:`branchbook.paths.project_root`).

A bank's own names are mapped to the contract's by ``params/warehouse.yaml``
(:mod:`branchbook.mapping`), for every kind of source.

Where a column's stored type differs from the contract's but every value converts
losslessly (text dates in CSV, integers for a DOUBLE, whole-number floats for a BIGINT
as pandas reads a nullable integer column from a SQL database, an ENUM for a VARCHAR),
the view converts it; otherwise the column is left as stored and
:func:`branchbook.contract.validate` names it.

**One time model.** The contract declares each date or time column either a *date*
(``DATE``: a business date such as ``opened_on``) or an *instant* (``TIMESTAMP``: a
moment such as ``received_at``, in the bank's local time). A date stored as a timestamp
becomes the business date it falls on; a time-zone-aware timestamp is first converted
to the bank's time zone (``time_zone`` in ``params/bank.yaml``, default Asia/Shanghai),
so an instant at 20:00 UTC on 31 October is 1 November in Beijing. Downstream, every
period boundary is on dates: a month runs from its first day to the first day of the
next (:class:`branchbook.period.Period`), so the last day of a period is never lost.

:func:`fingerprint` and :func:`branch_fingerprints` hash table contents in SQL,
independently of row order, so a rerun can tell whether its inputs changed. The hashes
come from DuckDB's ``hash()``, stable for a given DuckDB version.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

from . import mapping as mapping_module
from . import redact
from .contract import BIGINT, BRANCH_ROUTES, DATE, DOUBLE, TABLES, TIMESTAMP, VARCHAR, compatible
from .errors import WarehouseError
from .mapping import Mapping
from .sources import DEFAULT_WAREHOUSE as DEFAULT_WAREHOUSE
from .sources import URL_VARIABLE, resolve

MEMORY_VARIABLE = "BRANCHBOOK_DUCKDB_MEMORY"
DEFAULT_MEMORY = "3GB"
"""DuckDB's memory limit for the contract checks and the prepare pass (DuckDB's own
default is 80% of the machine). Past it, DuckDB spills to a private temporary folder.
Set ``BRANCHBOOK_DUCKDB_MEMORY`` (e.g. ``8GB``) on a larger machine."""

_SMALL_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT", "UINTEGER"}
_TIMESTAMPS = {"TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}
_TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"


DEFAULT_TIME_ZONE = "Asia/Shanghai"


def open_warehouse(
    source: str | os.PathLike | None = None,
    *,
    time_zone: str = DEFAULT_TIME_ZONE,
    mapping: Mapping | None = None,
    period: str | None = None,
    stage_dir: str | os.PathLike | None = None,
    transaction_months: int = 0,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection on which every contract table found is a view by its name,
    its dates and instants on the bank's ``time_zone`` (see the module's time model).

    ``mapping`` (:mod:`branchbook.mapping`) says which of the bank's tables and columns
    hold the contract's; it is checked first. For a database URL, the rows ``period``
    needs (every row when None) are streamed into Parquet files in ``stage_dir`` (a
    private temporary folder when None, removed at exit) by :func:`branchbook.server.stage`,
    and the connection reads those; ``transaction_months``: how many months before
    ``period`` the reports' prepares read transactions from (:mod:`branchbook.lookback`).

    Raises :class:`WarehouseError` when the path does not exist, the file is not a
    DuckDB database, a folder holds no contract table, or a URL cannot be read;
    :class:`~branchbook.errors.ParamsError` for a mapping that names what is not there.
    Missing tables are not an error here: :func:`branchbook.contract.check` names them.
    """
    kind, target = _resolve(source)
    _TIME_ZONE[0] = time_zone
    if kind == "url":
        from . import server

        folder = Path(stage_dir) if stage_dir else Path(_private_folder("branchbook-stage-"))
        server.stage(str(target), folder, mapping=mapping, period=period, time_zone=time_zone,
                     transaction_months=transaction_months)  # fmt: skip
        return _open_folder(folder)
    path = Path(target)
    if not path.exists():
        hint = " (build the demo warehouse with `make demo`)" if kind == "default" else ""
        raise WarehouseError(f"warehouse not found: {path}{hint}")
    if path.is_dir():
        return _open_folder(path, mapping)
    return _open_duckdb(path, mapping)


_TIME_ZONE = [DEFAULT_TIME_ZONE]  # the zone of the connection being opened


def url_of(source: str | os.PathLike | None) -> str | None:
    """The database URL ``source`` names (or ``$BRANCHBOOK_WAREHOUSE_URL`` gives), else None."""
    kind, target = _resolve(source)
    return str(target) if kind == "url" else None


def describe(source: str | os.PathLike | None = None) -> str:
    """A one-line description of ``source`` that is safe to log (passwords masked)."""
    kind, target = _resolve(source)
    if kind == "url":
        origin = " (from $" + URL_VARIABLE + ")" if source is None else ""
        return f"database {mask_url(str(target))}{origin}"
    path = Path(target)
    if kind == "default":
        return f"demo warehouse {path}"
    if path.is_dir():
        return f"folder {path}"
    return f"DuckDB file {path}"


def mask_url(url: str) -> str:
    """``url`` with its password and every query value masked (:func:`branchbook.redact.mask_url`).

    >>> mask_url("postgresql://ana:s3cret@db.example/bank")
    'postgresql://ana:***@db.example/bank'
    """
    return redact.mask_url(url)


def fingerprint(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None
) -> dict[str, str]:
    """An order-independent content hash per table (default: every contract table present).

    Two tables with the same columns, types and rows, in any order, get the same value;
    changing, adding or removing a row changes it.
    """
    names = list(tables) if tables is not None else _present(con)
    out = {}
    for name in names:
        schema = _schema(con, name)
        if schema is None:
            raise WarehouseError(f"cannot fingerprint table {name!r}: not in the warehouse")
        row = con.execute(
            f"SELECT count(*), coalesce(sum(hash(t)), 0), coalesce(bit_xor(hash(t)), 0) "
            f"FROM {_q(name)} AS t"
        ).fetchone()
        out[name] = _digest(name, schema, *row)
    return out


def complete_shape(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Give every contract table its full shape on ``con``, after the contract check:
    an absent table becomes an empty view with the contract's columns and types, an
    absent column a column of NULLs. Returns what was filled in (``table`` or
    ``table.column``).

    What a missing table or column means for the reports is decided by
    :mod:`branchbook.coverage` (a section left out, "not recorded"); this only lets the
    code that reads the tables run, so that a bank without ``financials`` still gets
    every other section. A table stored without a column keeps its data under
    ``<table>__as_found``.
    """
    filled = []
    for table in TABLES.values():
        schema = _schema(con, table.name)
        if schema is None:
            cols = ", ".join(f"CAST(NULL AS {c.type}) AS {_q(c.name)}" for c in table.columns)
            con.execute(f"CREATE VIEW {_q(table.name)} AS SELECT {cols} WHERE false")
            filled.append(table.name)
            continue
        have = {part.split(":", 1)[0] for part in schema.split(",")}
        absent = [c for c in table.columns if c.name not in have]
        if not absent:
            continue
        kind = "TABLE" if _is_table(con, table.name) else "VIEW"
        found = f"{table.name}__as_found"
        con.execute(f"ALTER {kind} {_q(table.name)} RENAME TO {_q(found)}")
        extra = ", ".join(f"CAST(NULL AS {c.type}) AS {_q(c.name)}" for c in absent)
        con.execute(f"CREATE VIEW {_q(table.name)} AS SELECT *, {extra} FROM {_q(found)}")
        filled += [f"{table.name}.{c.name}" for c in absent]
    return filled


def _is_table(con, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = current_database()",
        [name],
    ).fetchone()
    return bool(row[0])


_ROUTE_PARENT = {
    "balances": "customers",
    "transactions": "customers",
    "financials": "customers",
    "aml_alerts": "customers",
    "loan_snapshots": "loans",
    "targets": "staff",
    "kyc_history": "customers",
    "staff_training": "staff",
    "staff_certifications": "staff",
    "holdings": "customers",
    "contacts": "customers",
}


def branch_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """One order-independent content hash per branch over that branch's rows.

    A row belongs to a branch through its own ``branch_id`` (branches, staff,
    customers, loans, surveys, complaints), its customer's (balances, transactions,
    financials, aml_alerts), its loan's (loan_snapshots) or its staff member's
    (targets). Computed in one grouped query. Bank-wide benchmarks depend on every
    branch: combine with :func:`fingerprint` when that matters.
    """
    present = set(_present(con))
    schemas = {name: _schema(con, name) for name in present}
    parts = []
    for name, (join, branch) in BRANCH_ROUTES.items():
        if name not in present or _ROUTE_PARENT.get(name, name) not in present:
            continue
        parts.append(
            f"SELECT {_lit(name)} AS tbl, CAST({branch} AS VARCHAR) AS branch_id, count(*) AS n, "
            f"sum(hash(t)) AS s, bit_xor(hash(t)) AS x FROM {_q(name)} AS t {join} GROUP BY ALL"
        )
    if not parts:
        return {}
    rows = con.execute(" UNION ALL ".join(parts) + " ORDER BY branch_id, tbl").fetchall()
    per_branch: dict[str, list[str]] = {}
    for tbl, branch_id, n, s, x in rows:
        if branch_id is not None:
            per_branch.setdefault(branch_id, []).append(_digest(tbl, schemas[tbl], n, s, x))
    return {b: hashlib.sha256("|".join(d).encode()).hexdigest()[:32] for b, d in per_branch.items()}


# --- sources ------------------------------------------------------------------------


_resolve = resolve


def _open_duckdb(path: Path, mapping: Mapping | None = None) -> duckdb.DuckDBPyConnection:
    con = _connect()
    try:
        con.execute(f"ATTACH {_lit(str(path))} AS warehouse (READ_ONLY)")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"{path} is not a readable DuckDB file: {_first_line(exc)}") from None
    schema = mapping.schema if mapping and mapping.schema else "main"
    # table names are matched without regard to case (a warehouse may store CUSTOMERS)
    names = {
        r[0].lower(): r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'warehouse' AND table_schema = ?",
            [schema],
        ).fetchall()
    }
    relations = {low: f"warehouse.{_q(schema)}.{_q(stored)}" for low, stored in names.items()}
    try:
        _define_all(con, relations, mapping, f"in {path}")
    except BaseException:
        con.close()
        raise
    return con


def _open_folder(path: Path, mapping: Mapping | None = None) -> duckdb.DuckDBPyConnection:
    con = _connect()
    relations = {}
    wanted = {mapping.source_of(n) if mapping else n for n in TABLES}
    if mapping:
        wanted |= {tm.source for tm in mapping.tables.values()}
    for name in sorted(wanted):
        relation = _file_relation(path, name)
        if relation:
            relations[name.lower()] = relation
    try:
        found = _define_all(con, relations, mapping, f"in {path}")
    except BaseException:
        con.close()
        raise
    if not found:
        con.close()
        raise WarehouseError(
            f"no warehouse tables in folder {path}: expected files such as customers.parquet, "
            "customers/*.parquet or customers.csv"
        )
    return con


def _file_relation(path: Path, name: str) -> str | None:
    """DuckDB's reader of ``<name>.parquet``, ``<name>/*.parquet`` or ``<name>.csv``."""
    single, folder, csv = path / f"{name}.parquet", path / name, path / f"{name}.csv"
    if single.is_file():
        return f"read_parquet({_lit(str(single.resolve()))})"
    if folder.is_dir() and any(folder.glob("*.parquet")):
        return f"read_parquet({_lit(str(folder.resolve() / '*.parquet'))}, union_by_name=true)"
    if csv.is_file():
        return f"read_csv({_lit(str(csv.resolve()))}, header=true, all_varchar=true)"
    return None


def _define_all(con, relations: dict[str, str], mapping: Mapping | None, where: str) -> int:
    """Define each contract table found in ``relations`` (the bank's table names in
    lower case -> DuckDB relation), through ``mapping`` when given. Returns how many."""

    def columns_of(source: str) -> dict[str, str] | None:
        relation = relations.get(source.lower())
        if relation is None:
            return None
        rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return {r[0].lower(): r[0] for r in rows}

    def probe(source: str, expression: str) -> str | None:
        try:
            con.execute(f"DESCRIBE SELECT {expression} FROM {relations[source.lower()]}")
        except duckdb.Error as exc:
            return _scrub_db(exc)
        return None

    if mapping:
        mapping_module.check(mapping, columns_of, probe)
    found = 0
    for name in TABLES:
        source = mapping.source_of(name) if mapping else name
        relation = relations.get(source.lower())
        if relation is None:
            continue
        if mapping and name in mapping.tables:
            have = columns_of(source) or {}
            select = mapping_module.select_list(name, mapping, have, _q)
            if not select:
                continue
            tm = mapping.tables[name]
            filt = f" WHERE {tm.where.text}" if tm.where else ""
            cols = ", ".join(f"{expr} AS {_q(col)}" for col, expr in select.items())
            relation = f"(SELECT {cols} FROM {relation}{filt})"
        try:
            _define(con, name, relation)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot read table {name} {where}: {_first_line(exc)}") from None
        found += 1
    return found


def _scrub_db(exc: Exception) -> str:
    """A database error's first line without quoted values (they may be personal)."""
    return re.sub(r"'[^']*'", "'...'", _first_line(exc))[:200]


def _private_folder(prefix: str) -> str:
    """A folder only this process uses, removed at exit."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, True)
    return folder


# --- conforming stored types to the contract ----------------------------------------


def _define(con, name: str, relation: str, *, materialize: bool = False) -> None:
    """Create ``name`` over ``relation``, converting columns that convert losslessly."""
    declared = TABLES[name].types
    found = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    exprs, pending = {}, {}
    for col, ftype in found:
        want = declared.get(col)
        expr = _q(col)
        if want is not None and ftype != want:
            cast, test = _conversion(col, want, ftype)
            if cast and test:
                pending[col] = (cast, test)
            elif cast:
                expr = cast
        exprs[col] = expr
    if pending:
        tests = ", ".join(test for _, test in pending.values())
        results = con.execute(f"SELECT {tests} FROM {relation}").fetchone()
        for (col, (cast, _)), ok in zip(pending.items(), results, strict=True):
            if ok is not False:  # True, or NULL for an empty table
                exprs[col] = cast
    select = ", ".join(
        expr if expr == _q(col) else f"{expr} AS {_q(col)}" for col, expr in exprs.items()
    )
    kind = "TABLE" if materialize else "VIEW"
    con.execute(f"CREATE {kind} {_q(name)} AS SELECT {select} FROM {relation}")


def _conversion(col: str, want: str, ftype: str) -> tuple[str | None, str | None]:
    """``(cast expression, test expression or None)`` to bring ``col`` to ``want``.

    No cast when the conversion could lose information or change meaning (an id
    stored as a number, a time-zone-aware timestamp): the contract reports those.
    """
    q = _q(col)
    cast = f"CAST({q} AS {want})"
    if ftype in ('"NULL"', "NULL"):  # a column holding nothing but nulls
        return cast, None
    if want == VARCHAR:
        return (cast, None) if ftype.startswith("ENUM") else (None, None)
    if ftype == VARCHAR:
        return cast, f"bool_and({q} IS NULL OR TRY_CAST({q} AS {want}) IS NOT NULL)"
    if want == DOUBLE and compatible(DOUBLE, ftype):
        return cast, None
    if want == BIGINT and ftype in _SMALL_INTEGERS:
        return cast, None
    if want == BIGINT and ftype in ("DOUBLE", "FLOAT"):
        # a nullable integer column read through pandas (a SQLAlchemy URL) arrives as
        # floats with NaN for NULL: convert when every value is a whole number
        whole = f"isfinite({q}) AND {q} = trunc({q}) AND abs({q}) < 9e18"
        return cast, f"bool_and({q} IS NULL OR ({whole}))"
    if want == TIMESTAMP and (ftype == DATE or ftype in _TIMESTAMPS):
        return cast, None
    if ftype == _TIMESTAMPTZ and want in (TIMESTAMP, DATE):
        # an instant with a zone: the bank's local time, then (for a date) its day
        return f"CAST(timezone({_lit(_TIME_ZONE[0])}, {q}) AS {want})", None
    if want == DATE and (ftype == "TIMESTAMP" or ftype in _TIMESTAMPS):
        return cast, None  # the business date the local timestamp falls on
    return None, None


# --- small pieces -------------------------------------------------------------------


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory connection with a memory limit and a private spill folder; no
    progress bar (it would fill logs and notebooks)."""
    con = duckdb.connect()
    limit = os.environ.get(MEMORY_VARIABLE, "").strip() or DEFAULT_MEMORY
    try:
        con.execute(f"SET memory_limit = {_lit(limit)}")
    except duckdb.Error:
        con.close()
        raise WarehouseError(
            f"{MEMORY_VARIABLE}={limit!r} is not a memory size DuckDB understands (e.g. 3GB, 512MB)"
        ) from None
    con.execute(f"SET temp_directory = {_lit(_spill_folder())}")
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        # Inside a Jupyter kernel without ipywidgets DuckDB refuses to change the
        # setting at all; it then shows no bar anyway.
        pass
    return con


def _present(con) -> list[str]:
    return [name for name in TABLES if _schema(con, name) is not None]


def _schema(con, name: str) -> str | None:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {_q(name)}").fetchall()
    except duckdb.CatalogException:
        return None
    return ",".join(f"{r[0]}:{r[1]}" for r in rows)


def _digest(name: str, schema: str, n, s, x) -> str:
    return hashlib.sha256(f"{name}|{schema}|{n}|{s}|{x}".encode()).hexdigest()[:32]


_SPILL: list[str] = []


def _spill_folder() -> str:
    """A folder only this process uses for DuckDB's spill files, removed at exit; the
    folders of processes that were killed (no exit handler ran) are removed here."""
    if not _SPILL:
        import atexit
        import shutil
        import tempfile

        base = Path(tempfile.gettempdir())
        for old in base.glob("branchbook-duckdb-*-*"):
            pid = old.name.split("-")[2]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(old, ignore_errors=True)
        _SPILL.append(tempfile.mkdtemp(prefix=f"branchbook-duckdb-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _SPILL[0], True)
    return _SPILL[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _hide_secret(text: str, url: str) -> str:
    return redact.scrub(text, extra=redact._url_secrets(url))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
