"""A warehouse on a database server (PostgreSQL, or any SQLAlchemy URL).

:func:`stage` streams the rows a period needs into one Parquet file per contract table,
which :func:`branchbook.warehouse.open_warehouse` then reads with DuckDB like any
folder. The server does the reading work: each table is one query with the contract's
columns only (through the bank's :mod:`~branchbook.mapping`) and the period's filter
next to the bank's table, so the server can use its indexes; rows come through a
server-side cursor in chunks of :data:`CHUNK_ROWS` and each chunk is written before the
next is fetched, so memory stays bounded whatever the table's size.

Which rows a period needs (:data:`PERIOD_FILTERS`): every branch, staff member and
customer; balances, loan snapshots and targets up to the period's month; loans,
financials, surveys, complaints and AML alerts before the period's end; transactions
from :func:`branchbook.lookback.transactions_since` (the branch extracts' window, or the
first month a report's prepare reads when that is earlier: the caller says how many
months back) and each customer's latest earlier transaction (its recency). Dates and
instants are compared in the bank's time zone (the session's ``TimeZone`` is set to it).

:func:`branch_fingerprints` hashes each branch's rows on the server (PostgreSQL), so a
rerun with unchanged data knows it without pulling a row (``hashtext`` of each row's
text, summed and xor-ed per branch and table; stable for a given server version).

On PostgreSQL the rows come as ``COPY ... TO STDOUT`` in CSV, block by block, and DuckDB
writes them as Parquet with the types the server described; elsewhere through a
server-side cursor in chunks (:data:`CHUNK_ROWS`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from pathlib import Path
from typing import Any

from .contract import BIGINT, BOOLEAN, BRANCH_ROUTES, DATE, DOUBLE, TABLES, TIMESTAMP
from .errors import ParamsError, WarehouseError
from .lookback import transactions_since
from .mapping import Mapping, select_list
from .mapping import check as check_mapping
from .period import Period
from .redact import mask_url

CHUNK_ROWS = 50_000
"""Rows fetched and written at a time."""

#: table -> (column, operator, bound): the rows a period needs. Bounds: ``period``
#: (YYYY-MM), ``stop`` (the first day after the period), ``since`` (the first day of
#: transactions the period needs, :func:`branchbook.lookback.transactions_since`).
PERIOD_FILTERS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "balances": (("month", "<=", "period"),),
    "transactions": (("txn_date", ">=", "since"), ("txn_date", "<", "stop")),
    "loans": (("originated_on", "<", "stop"),),
    "loan_snapshots": (("month", "<=", "period"),),
    "financials": (("period_end", "<", "stop"),),
    "surveys": (("responded_on", "<", "stop"),),
    "complaints": (("received_at", "<", "stop"),),
    "aml_alerts": (("raised_on", "<", "stop"),),
    "targets": (("period", "<=", "period"),),
    "holdings": (("month", "<=", "period"),),
    "contacts": (("contacted_on", "<", "stop"),),
}


def bounds(period: str, *, transaction_months: int = 0) -> dict[str, Any]:
    """The filter bounds of ``period``; ``transaction_months``: how many months before
    the period a report's prepare reads transactions from (0: the extracts' window)."""
    return {
        "period": period,
        "stop": Period.parse(period).stop,
        "since": transactions_since(period, months=transaction_months),
    }


class _Source:
    """An open connection to the server and the contract tables it can give."""

    def __init__(self, url: str, mapping: Mapping | None, time_zone: str):
        try:
            import sqlalchemy
        except ImportError:
            raise WarehouseError(
                f"reading {mask_url(url)} needs SQLAlchemy and the database's driver "
                "(pip install 'branchbook[sql]', which brings psycopg for PostgreSQL)"
            ) from None
        self.sa = sqlalchemy
        self.url = url
        self.mapping = mapping
        self.engine = sqlalchemy.create_engine(url, hide_parameters=True)
        self.db = self.engine.connect()
        self.dialect = self.db.dialect.name
        if self.dialect == "postgresql":
            self.db.exec_driver_sql("SET TIME ZONE " + _lit(time_zone))
        self.quote = self.db.dialect.identifier_preparer.quote
        self.schema = mapping.schema if mapping else None
        inspector = sqlalchemy.inspect(self.db)
        names = [*inspector.get_table_names(self.schema), *inspector.get_view_names(self.schema)]
        self.names = {n.lower(): n for n in names}
        self._inspector = inspector
        self._columns: dict[str, dict[str, str] | None] = {}

    def close(self) -> None:
        self.db.close()
        self.engine.dispose()

    def relation(self, source: str) -> str:
        stored = self.names[source.lower()]
        prefix = f"{self.quote(self.schema)}." if self.schema else ""
        return prefix + self.quote(stored)

    def columns_of(self, source: str) -> dict[str, str] | None:
        if source.lower() not in self.names:
            return None
        if source not in self._columns:
            cols = self._inspector.get_columns(self.names[source.lower()], self.schema)
            self._columns[source] = {c["name"].lower(): c["name"] for c in cols}
        return self._columns[source]

    def probe(self, source: str, expression: str) -> str | None:
        sql = f"SELECT {expression} FROM {self.relation(source)} WHERE 1 = 0"
        try:
            with self.db.begin_nested() if self.dialect == "postgresql" else _null():
                self.db.exec_driver_sql(sql).fetchall()
        except self.sa.exc.DBAPIError as exc:
            return _first_line(exc.orig)
        return None

    def check(self) -> None:
        if self.mapping:
            check_mapping(self.mapping, self.columns_of, self.probe)

    def contract_query(self, table: str) -> tuple[str, list[str]] | None:
        """``SELECT <contract columns> FROM <bank's table> [WHERE mapping]`` and the
        columns it gives, or None when the server has no such table."""
        source = self.mapping.source_of(table) if self.mapping else table
        have = self.columns_of(source)
        if have is None:
            return None
        select = select_list(table, self.mapping, have, self.quote)
        if not select:
            return None
        cols = ", ".join(f"{expr} AS {self.quote(col)}" for col, expr in select.items())
        tm = self.mapping.tables.get(table) if self.mapping else None
        where = f" WHERE {tm.where.text}" if tm and tm.where else ""
        return f"SELECT {cols} FROM {self.relation(source)}{where}", list(select)


#: table -> (group, date, tie-break): besides the window, each group's latest earlier row
#: (a customer's last transaction before the window gives its recency).
LATEST_BEFORE = {"transactions": ("customer_id", "txn_date", "txn_id")}


def _latest_before(src: _Source, table: str, inner: str, columns: list[str]) -> str | None:
    spec = LATEST_BEFORE.get(table)
    if not spec or not set(spec) <= set(columns):
        return None
    group, date, tie = (src.quote(c) for c in spec)
    cols = ", ".join(f"x.{src.quote(c)}" for c in columns)
    return (
        f"SELECT {cols} FROM (SELECT t.*, row_number() OVER (PARTITION BY t.{group} "
        f"ORDER BY t.{date} DESC, t.{tie} DESC) AS bb_rank FROM ({inner}) AS t "
        f"WHERE t.{date} < :since) AS x WHERE x.bb_rank = 1"
    )


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def stage(
    url: str,
    folder: Path,
    *,
    mapping: Mapping | None = None,
    period: str | None = None,
    time_zone: str = "Asia/Shanghai",
    chunk_rows: int = CHUNK_ROWS,
    method: str = "auto",
    transaction_months: int = 0,
) -> dict[str, int]:
    """Stream each contract table's rows that ``period`` needs (all rows when None) into
    ``folder/<table>.parquet``; returns the row count per table written.
    ``transaction_months``: how many months before the period the reports' prepares
    read transactions from (:func:`bounds`; prepare derives it from the reports'
    settings, :func:`branchbook.prepare.transaction_months`).

    ``method``: ``copy`` (PostgreSQL's COPY, the default there), ``cursor`` (a
    server-side cursor, ``chunk_rows`` at a time, the default elsewhere) or ``auto``."""
    folder.mkdir(parents=True, exist_ok=True)
    src = _open(url, mapping, time_zone)
    counts = {}
    try:
        src.check()
        limits = bounds(period, transaction_months=transaction_months) if period else None
        for table in TABLES:
            query = src.contract_query(table)
            if query is None:
                continue
            sql, columns = query
            params: dict[str, Any] = {}
            if limits:
                conds = []
                for col, op, bound in PERIOD_FILTERS.get(table, ()):
                    if col in columns:
                        conds.append(f"t.{src.quote(col)} {op} :{bound}")
                        params[bound] = limits[bound]
                if conds:
                    inner = sql
                    sql = f"SELECT * FROM ({inner}) AS t WHERE {' AND '.join(conds)}"
                    latest = _latest_before(src, table, inner, columns)
                    if latest:
                        sql = f"{sql} UNION ALL {latest}"
            use_copy = src.dialect == "postgresql" and method in ("auto", "copy")
            counts[table] = _stream(src, sql, params, table, columns, folder, chunk_rows, use_copy)
    except (WarehouseError, ParamsError):
        raise
    except Exception as exc:  # driver errors vary; never echo the secret
        raise WarehouseError(
            f"cannot read {mask_url(url)}: {type(exc).__name__}: {_hide(exc, url)}"
        ) from None
    finally:
        src.close()
    return counts


def _open(url: str, mapping: Mapping | None, time_zone: str) -> _Source:
    try:
        return _Source(url, mapping, time_zone)
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(
            f"cannot read {mask_url(url)}: {type(exc).__name__}: {_hide(exc, url)}"
        ) from None


def _stream(src: _Source, sql: str, params: dict, table: str, columns: list[str],
            folder: Path, chunk_rows: int, use_copy: bool) -> int:  # fmt: skip
    if use_copy:
        return _copy(src, sql, params, table, columns, folder)
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = TABLES[table].types
    path = folder / f"{table}.parquet"
    result = src.db.execution_options(stream_results=True, max_row_buffer=chunk_rows).execute(
        src.sa.text(sql), params
    )
    writer = None
    schema = None
    n = 0
    try:
        for rows in result.partitions(chunk_rows):
            batch = _batch(rows, columns, types, schema, table)
            if writer is None:
                schema = batch.schema
                writer = pq.ParquetWriter(path, schema)
            writer.write_batch(batch)
            n += len(rows)
        if writer is None:
            empty = pa.schema([(c, _ARROW[types[c]]()) for c in columns])
            pq.write_table(empty.empty_table(), path)
    finally:
        result.close()
        if writer is not None:
            writer.close()
    return n


# PostgreSQL type OIDs -> the DuckDB type its CSV text is read as
_PG_TYPES = {
    16: "BOOLEAN",
    20: "BIGINT",
    21: "BIGINT",
    23: "BIGINT",
    700: "DOUBLE",
    701: "DOUBLE",
    1700: "DOUBLE",
    1082: "DATE",
    1114: "TIMESTAMP",
    1184: "TIMESTAMP",  # sent as the session's (the bank's) local time
}


def _copy(src: _Source, sql: str, params: dict, table: str, columns: list[str],
          folder: Path) -> int:  # fmt: skip
    """PostgreSQL: ``COPY (query) TO STDOUT`` in CSV, block by block into a file, then
    DuckDB turns it into Parquet with the types the server described. No row passes
    through Python, and memory holds one block."""
    import duckdb

    for name, value in params.items():  # our own bounds: a month or a date
        literal = f"DATE '{value.isoformat()}'" if isinstance(value, dt.date) else _lit(value)
        sql = sql.replace(f":{name}", literal)
    raw = src.db.connection.dbapi_connection
    with raw.cursor() as cur:
        cur.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0")
        oids = [d.type_code for d in cur.description]
    kinds = [_PG_TYPES.get(oid, "VARCHAR") for oid in oids]
    select = ", ".join(
        f"CAST(q.{src.quote(c)} AS timestamp) AS {src.quote(c)}" if oid == 1184
        else f"q.{src.quote(c)}"
        for c, oid in zip(columns, oids, strict=True)
    )  # fmt: skip
    csv = folder / f"{table}.csv.part"
    with raw.cursor() as cur, open(csv, "wb") as fh:
        with cur.copy(f"COPY (SELECT {select} FROM ({sql}) AS q) TO STDOUT (FORMAT csv)") as cp:
            for block in cp:
                fh.write(block)
    types = ", ".join(f"{_lit(c)}: {_lit(k)}" for c, k in zip(columns, kinds, strict=True))
    out = folder / f"{table}.parquet"
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            f"COPY (SELECT * FROM read_csv({_lit(str(csv))}, header = false, auto_detect = false, "
            f"columns = {{{types}}}, quote = '\"', escape = '\"', nullstr = '', "
            f"allow_quoted_nulls = false)) TO {_lit(str(out))} (FORMAT parquet)"
        )
        n = con.execute(f"SELECT count(*) FROM read_parquet({_lit(str(out))})").fetchone()[0]
    finally:
        con.close()
        csv.unlink(missing_ok=True)
    return n


_ARROW = {
    "VARCHAR": lambda: __import__("pyarrow").string(),
    BIGINT: lambda: __import__("pyarrow").int64(),
    DOUBLE: lambda: __import__("pyarrow").float64(),
    DATE: lambda: __import__("pyarrow").date32(),
    TIMESTAMP: lambda: __import__("pyarrow").timestamp("us"),
    BOOLEAN: lambda: __import__("pyarrow").bool_(),
}


def _batch(rows, columns: list[str], types: dict[str, str], schema, table: str):
    """One chunk as an Arrow record batch: the contract's type where every value fits
    (the first chunk decides), else the type the values have (the contract check then
    names the column, or the warehouse converts it)."""
    import pyarrow as pa

    arrays = []
    for i, col in enumerate(columns):
        values = [_plain(r[i]) for r in rows]
        if types[col] == DATE:  # an instant where a business date is declared: its day
            values = [v.date() if isinstance(v, dt.datetime) else v for v in values]
        want = schema.field(col).type if schema is not None else _ARROW[types[col]]()
        try:
            arr = pa.array(values, type=want)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            if schema is not None:
                raise WarehouseError(
                    f"{table}.{col}: values of more than one type (expected {want})"
                ) from None
            arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=columns)


def _plain(v):
    """A driver's value as Arrow takes it: decimals as floats, aware instants as the
    session's (the bank's) local time."""
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    return v


# --- fingerprints on the server -----------------------------------------------------

_PARENT = {"loan_snapshots": "loans", "targets": "staff"}


def branch_fingerprints(
    url: str, *, mapping: Mapping | None = None, time_zone: str = "Asia/Shanghai"
) -> dict[str, str] | None:
    """One order-independent hash per branch of that branch's rows, computed by the
    server in one grouped query; None when the server is not PostgreSQL (the hashes
    are then computed over the staged rows)."""
    src = _open(url, mapping, time_zone)
    try:
        if src.dialect != "postgresql":
            return None
        src.check()
        ctes, cols = [], {}
        for table in TABLES:
            query = src.contract_query(table)
            if query is not None:
                ctes.append(f"{src.quote(table)} AS ({query[0]})")
                cols[table] = query[1]
        parts = []
        for table, (join, branch) in BRANCH_ROUTES.items():
            parent = _PARENT.get(table, "customers" if join else table)
            if table not in cols or parent not in cols:
                continue
            h = "hashtext(t::text)::bigint"
            parts.append(
                f"SELECT '{table}' AS tbl, CAST({branch} AS text) AS branch_id, count(*) AS n, "
                f"sum({h}) AS s, bit_xor({h}) AS x FROM {src.quote(table)} AS t {join} "
                "GROUP BY 1, 2"
            )
        if not parts:
            return {}
        sql = f"WITH {', '.join(ctes)} " + " UNION ALL ".join(parts) + " ORDER BY 2, 1"
        rows = src.db.exec_driver_sql(sql).fetchall()
    except (WarehouseError, ParamsError):
        raise
    except Exception as exc:
        raise WarehouseError(
            f"cannot read {mask_url(url)}: {type(exc).__name__}: {_hide(exc, url)}"
        ) from None
    finally:
        src.close()
    per_branch: dict[str, list[str]] = {}
    for tbl, branch_id, n, s, x in rows:
        if branch_id is not None:
            digest = f"{tbl}|{','.join(cols[tbl])}|{n}|{s}|{x}"
            per_branch.setdefault(branch_id, []).append(
                hashlib.sha256(digest.encode()).hexdigest()[:32]
            )
    return {b: hashlib.sha256("|".join(d).encode()).hexdigest()[:32] for b, d in per_branch.items()}


def latest_month(url: str, *, mapping: Mapping | None = None, time_zone: str = "Asia/Shanghai"):
    """The latest month in the server's balances (None when it has none)."""
    src = _open(url, mapping, time_zone)
    try:
        query = src.contract_query("balances")
        if query is None or "month" not in query[1]:
            return None
        return src.db.exec_driver_sql(f"SELECT max(month) FROM ({query[0]}) AS t").scalar()
    finally:
        src.close()


def _hide(exc: Exception, url: str) -> str:
    from . import redact

    return redact.scrub(_first_line(exc), extra=redact._url_secrets(url))


def _first_line(exc) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
