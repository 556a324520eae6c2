"""A bank's own schema: ``params/warehouse.yaml`` maps its tables to the contract's.

A bank's data team writes, once, which of its tables holds each contract table and
which of its columns (or which SQL expression over them) holds each contract column::

    schema: core                      # where the bank's tables are (optional)
    tables:
      customers:
        from: cust_master             # the bank's table or view
        where: record_status = 'A'    # optional filter, in the database's SQL
        columns:
          customer_id: cust_no        # a column of cust_master
          branch_id: org_code
          customer_type: "CASE cust_kind WHEN 'P' THEN 'individual' ELSE 'corporate' END"

Only what differs is written: a contract column not listed is read from the column of
the same name when the table has one (else it is absent, and
:mod:`branchbook.coverage` says what that removes); a contract table not listed is read
from the table of the same name. Names are matched without regard to case.

Why a column map rather than SQL views: each line names one contract column, so a
mistake is reported at its file and line (``params/warehouse.yaml, line 12:
customers.phone maps to mobile_no, which core.cust_master does not have``); the same
map serves a DuckDB file, a folder of files and a database server, and the queries
built from it keep the period's filters next to the bank's tables, where the server
can use its indexes. What a column map cannot say (a join of two of the bank's
tables) is a view in the bank's database, named in ``from``.

:func:`load` reads and checks the file's shape; :func:`check` checks it against the
tables found (every name it uses exists; every expression runs) and raises
:class:`~branchbook.errors.ParamsError` naming the file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .contract import TABLES
from .errors import ParamsError

FILE_NAME = "warehouse.yaml"
"""The mapping's file name in the parameter folder."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class Source:
    """What one contract column is read from: a column name or an SQL expression."""

    text: str
    line: int

    @property
    def is_column(self) -> bool:
        return bool(_NAME.match(self.text))


@dataclass(frozen=True)
class TableMap:
    """One contract table read from one of the bank's tables."""

    table: str
    source: str
    line: int
    where: Source | None = None
    columns: dict[str, Source] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    """The whole file: the schema the bank's tables are in and the tables mapped."""

    path: Path
    schema: str | None
    tables: dict[str, TableMap]

    def where(self, line: int) -> str:
        return f"{self.path}, line {line}"

    def source_of(self, table: str) -> str:
        """The bank's table that holds contract ``table`` (its own name when unmapped)."""
        tm = self.tables.get(table)
        return tm.source if tm else table


def find(params_dir: str | os.PathLike | None) -> Path | None:
    """``<params_dir>/warehouse.yaml`` when it exists."""
    if params_dir is None:
        return None
    path = Path(params_dir) / FILE_NAME
    return path if path.is_file() else None


def load(path: str | os.PathLike) -> Mapping:
    """Read a mapping file and check its shape: known contract tables and columns, a
    ``from`` per table, text values. Raises :class:`ParamsError` naming file and line."""
    path = Path(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ParamsError(f"{path}: not a readable YAML file: {exc}") from None
    if root is None:
        return Mapping(path, None, {})

    def fail(node, text: str):
        raise ParamsError(f"{path}, line {node.start_mark.line + 1}: {text}")

    def entries(node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            fail(node, f"{what} is expected to be a mapping of names to values")
        return [(k.value, k, v) for k, v in node.value]

    def text(node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            fail(node, f"{what} is expected to be a name or an SQL expression")
        return str(node.value).strip()

    schema = None
    tables: dict[str, TableMap] = {}
    for key, knode, value in entries(root, "the file"):
        if key == "schema":
            schema = text(value, "schema")
        elif key == "tables":
            for name, tnode, spec in entries(value, "tables"):
                if name not in TABLES:
                    fail(tnode, f"{name!r} is not a contract table (expected one of: "
                                f"{', '.join(TABLES)})")  # fmt: skip
                tables[name] = _table(name, tnode, spec, entries, text, fail)
        else:
            fail(knode, f"unknown key {key!r} (expected schema, tables)")
    return Mapping(path, schema, tables)


def _table(name, tnode, spec, entries, text, fail) -> TableMap:
    source, where, columns = None, None, {}
    for key, knode, value in entries(spec, f"tables.{name}"):
        if key == "from":
            source = text(value, f"{name}.from")
            if not _NAME.match(source):
                fail(value, f"{name}.from is expected to be a table or view name, got {source!r}")
        elif key == "where":
            where = Source(text(value, f"{name}.where"), value.start_mark.line + 1)
        elif key == "columns":
            declared = TABLES[name].names
            for col, cnode, cval in entries(value, f"{name}.columns"):
                if col not in declared:
                    fail(cnode, f"{col!r} is not a column of contract table {name} "
                                f"(expected one of: {', '.join(declared)})")  # fmt: skip
                columns[col] = Source(text(cval, f"{name}.{col}"), cval.start_mark.line + 1)
        else:
            fail(knode, f"unknown key {key!r} in {name} (expected from, where, columns)")
    if source is None:
        fail(tnode, f"{name} has no 'from': the bank's table or view that holds it")
    return TableMap(name, source, tnode.start_mark.line + 1, where, columns)


def select_list(
    table: str,
    mapping: Mapping | None,
    have: dict[str, str],
    quote: Callable[[str], str],
) -> dict[str, str]:
    """Contract column -> SQL over the bank's table, for the columns it can give.

    ``have`` maps the bank's table's column names in lower case to their stored
    spelling. A mapped column or expression is used as written; an unmapped contract
    column is read from the column of the same name, when there is one.
    """
    tm = mapping.tables.get(table) if mapping else None
    out = {}
    for col in TABLES[table].names:
        src = tm.columns.get(col) if tm else None
        if src is None:
            if col.lower() in have:
                out[col] = quote(have[col.lower()])
        elif src.is_column:
            out[col] = quote(have.get(src.text.lower(), src.text))
        else:
            out[col] = f"({src.text})"
    return out


def check(
    mapping: Mapping,
    columns_of: Callable[[str], dict[str, str] | None],
    probe: Callable[[str, str], str | None],
) -> None:
    """Check the mapping against the bank's tables; raise :class:`ParamsError` listing
    every mistake with its file and line.

    ``columns_of(source)`` gives a bank table's columns (lower case -> stored name), or
    None when there is no such table; ``probe(source, expression)`` runs the expression
    over the table and returns the database's error, or None when it runs.
    """
    problems = []
    where = (mapping.schema + ".") if mapping.schema else ""
    for name, tm in mapping.tables.items():
        have = columns_of(tm.source)
        if have is None:
            problems.append(
                f"{mapping.where(tm.line)}: {name} is read from {where}{tm.source}, "
                "which the warehouse does not have"
            )
            continue
        for col, src in tm.columns.items():
            if src.is_column:
                if src.text.lower() not in have:
                    problems.append(
                        f"{mapping.where(src.line)}: {name}.{col} maps to {src.text}, which "
                        f"{where}{tm.source} does not have (it has: {', '.join(sorted(have.values()))})"
                    )
            else:
                error = probe(tm.source, src.text)
                if error:
                    problems.append(
                        f"{mapping.where(src.line)}: {name}.{col}: the expression does not "
                        f"run over {where}{tm.source}: {error}"
                    )
        if tm.where:
            error = probe(tm.source, f"CASE WHEN {tm.where.text} THEN 1 END")
            if error:
                problems.append(
                    f"{mapping.where(tm.where.line)}: {name}.where does not run over "
                    f"{where}{tm.source}: {error}"
                )
    if problems:
        n = len(problems)
        raise ParamsError(
            f"the warehouse mapping has {n} mistake{'' if n == 1 else 's'}:\n  "
            + "\n  ".join(problems)
        )
