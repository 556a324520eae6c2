"""Build the demo bank under its own names (tests/data/own_schema.yaml) from a contract
warehouse: the inverse of the mapping, plus a deleted customer record the mapping's
``where`` must leave out."""

from __future__ import annotations

from pathlib import Path

import duckdb

from branchbook import mapping

MAPPING = Path(__file__).resolve().parent / "data" / "own_schema.yaml"

# contract column -> (the bank's column, SQL over the contract column): the inverse of
# the mapping's expressions
_CODED = {("customers", "customer_type"): ("cust_kind", "CASE customer_type WHEN 'individual' THEN 'P' ELSE 'C' END")}  # fmt: skip


def inverse_selects(con, prefix: str = "") -> dict[str, str]:
    """The bank's table -> ``SELECT`` over the contract table ``<prefix><name>`` on ``con``."""
    mp = mapping.load(MAPPING)
    out = {}
    for name, tm in mp.tables.items():
        cols = [r[0] for r in con.execute(f'DESCRIBE {prefix}"{name}"').fetchall()]
        parts = []
        for col in cols:
            coded = _CODED.get((name, col))
            src = tm.columns.get(col)
            if coded:
                parts.append(f"{coded[1]} AS {coded[0]}")
            elif src is not None:
                parts.append(f'"{col}" AS {src.text}')
            else:
                parts.append(f'"{col}"')
        if name == "customers":
            parts.append("'A' AS rec_status")
        out[tm.source] = f'SELECT {", ".join(parts)} FROM {prefix}"{name}"'
    return out


def build(contract_duckdb: Path, out: Path) -> Path:
    """A DuckDB file with schema ``core`` holding the bank's own tables."""
    con = duckdb.connect(str(out))
    con.execute(f"ATTACH '{contract_duckdb}' AS src (READ_ONLY)")
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    for table, select in inverse_selects(con, "src.main.").items():
        con.execute(f"CREATE TABLE core.{table} AS {select}")
    # a deleted record: the mapping's where keeps it out (else a 'customer' too many)
    con.execute(
        "INSERT INTO core.cust_master BY NAME SELECT * REPLACE "
        "('X-DELETED' AS cust_no, 'D' AS rec_status) "
        "FROM core.cust_master LIMIT 1"
    )
    con.close()
    return out
