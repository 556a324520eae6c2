import datetime as dt
from pathlib import Path

import duckdb
import pytest

from branchbook import warehouse
from branchbook.contract import TABLES, validate
from branchbook.errors import WarehouseError
from branchbook.warehouse import (
    branch_fingerprints,
    describe,
    fingerprint,
    mask_url,
    open_warehouse,
)

SECRET = "s3cr3t-Pa55"


def small_bank(con: duckdb.DuckDBPyConnection, order: str = "ASC") -> duckdb.DuckDBPyConnection:
    """Branches, staff, customers and balances for two branches, rows in ``order``."""
    con.execute(TABLES["branches"].ddl())
    con.execute(TABLES["staff"].ddl())
    con.execute(TABLES["customers"].ddl(constraints=False))
    con.execute(TABLES["balances"].ddl(constraints=False))
    con.execute(
        "INSERT INTO branches VALUES"
        " ('0101', 'Lujiazui', '陆家嘴支行', 'East', 'Shanghai', DATE '2001-05-01', NULL),"
        " ('0102', 'Xujiahui', '徐家汇支行', 'East', 'Shanghai', NULL, NULL)"
    )
    con.execute(
        "INSERT INTO staff VALUES ('S1', '0101', '张伟', 'senior', DATE '2012-03-01', true),"
        " ('S2', '0102', '李娜', 'assistant', DATE '2022-07-15', true)"
    )
    con.execute(
        f"""
        INSERT INTO customers
        SELECT 'C' || i, CASE WHEN i % 2 = 0 THEN '0101' ELSE '0102' END,
               CASE WHEN i % 3 = 0 THEN NULL WHEN i % 2 = 0 THEN 'S1' ELSE 'S2' END,
               'individual', '客户' || i, '3101151990010100' || lpad(i::VARCHAR, 2, '0'),
               '138000000' || lpad(i::VARCHAR, 2, '0'), DATE '1990-01-01', 'M', NULL,
               DATE '2020-01-01' + i::INTEGER, NULL, 'R2', 'complete', NULL, NULL
        FROM range(1, 11) r(i) ORDER BY i {order}
        """
    )
    con.execute(
        f"""
        INSERT INTO balances (customer_id, month, deposits, wealth, loans_outstanding, products_held)
        SELECT 'C' || i, m, 1000.0 * i, 10.0 * i, 0.0, 1 + i % 3
        FROM range(1, 11) r(i), (VALUES ('2026-09'), ('2026-10')) v(m) ORDER BY i {order}, m {order}
        """
    )
    return con


def duckdb_file(path, order: str = "ASC"):
    con = duckdb.connect(str(path))
    small_bank(con, order)
    con.close()
    return path


def types(con, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def test_open_duckdb_file_read_only(tmp_path):
    con = open_warehouse(duckdb_file(tmp_path / "bank.duckdb"))
    assert con.execute("SELECT branch_id FROM branches ORDER BY 1").fetchall() == [
        ("0101",),
        ("0102",),
    ]
    assert con.execute("SELECT count(*) FROM balances").fetchone() == (20,)
    assert types(con, "branches")["opened_on"] == "DATE"
    with pytest.raises(duckdb.Error):
        con.execute("INSERT INTO warehouse.branches VALUES ('0103', 'x', 'x', 'x', 'x', NULL)")
    report = validate(con)
    assert {v.table for v in report.absent if v.rule == "missing_table"} == {
        "transactions", "loans", "loan_snapshots", "financials", "surveys", "complaints",
        "aml_alerts", "targets",
    }  # fmt: skip
    assert report.errors == []


def test_open_parquet_folder(tmp_path):
    src = small_bank(duckdb.connect())
    folder = tmp_path / "wh"
    (folder / "balances").mkdir(parents=True)
    src.execute(f"COPY branches TO '{folder / 'branches.parquet'}'")
    src.execute(f"COPY customers TO '{folder / 'customers.parquet'}'")
    for part, month in (("a", "2026-09"), ("b", "2026-10")):
        src.execute(
            f"COPY (SELECT * REPLACE (products_held::INTEGER AS products_held) FROM balances "
            f"WHERE month = '{month}') TO '{folder / 'balances' / part}.parquet'"
        )
    # pandas writes dates as timestamps: midnight timestamps come back as dates
    src.execute(
        f"COPY (SELECT * REPLACE (hired_on::TIMESTAMP AS hired_on) FROM staff) TO '{folder / 'staff.parquet'}'"
    )
    con = open_warehouse(folder)
    assert con.execute("SELECT count(*) FROM balances").fetchone() == (20,)
    assert con.execute("SELECT min(branch_id) FROM customers").fetchone() == ("0101",)
    assert types(con, "staff")["hired_on"] == "DATE"
    assert types(con, "balances")["products_held"] == "BIGINT"


def test_open_csv_folder_keeps_ids_as_strings(tmp_path):
    (tmp_path / "branches.csv").write_text(
        "branch_id,name,name_zh,region,city,opened_on,parent_id\n"
        "0101,Lujiazui,陆家嘴支行,East,Shanghai,2001-05-01,\n"
        "0102,Xujiahui,,East,Shanghai,,0101\n",
        encoding="utf-8",
    )
    (tmp_path / "staff.csv").write_text(
        "staff_id,branch_id,name,grade,hired_on,active\n"
        "007,0101,张伟,senior,2012-03-01,true\n"
        "008,0102,李娜,assistant,2022-07-15,false\n",
        encoding="utf-8",
    )
    con = open_warehouse(tmp_path)
    assert con.execute(
        "SELECT branch_id, name_zh, opened_on, parent_id FROM branches ORDER BY 1"
    ).fetchall() == [
        ("0101", "陆家嘴支行", dt.date(2001, 5, 1), None),
        ("0102", None, None, "0101"),
    ]
    assert con.execute("SELECT staff_id, active FROM staff ORDER BY 1").fetchall() == [
        ("007", True),
        ("008", False),
    ]
    assert types(con, "branches") == TABLES["branches"].types
    assert types(con, "staff") == TABLES["staff"].types


def test_csv_value_that_does_not_convert_is_named_by_the_contract(tmp_path):
    (tmp_path / "branches.csv").write_text(
        "branch_id,name,name_zh,region,city,opened_on\n"
        "0101,Lujiazui,,East,Shanghai,2001-05-01\n"
        "0102,Xujiahui,,East,Shanghai,May 2003\n"
    )
    con = open_warehouse(tmp_path)
    assert types(con, "branches")["opened_on"] == "VARCHAR"
    messages = [v.message() for v in validate(con).errors]
    assert (
        "branches.opened_on: wrong type (declared DATE, found VARCHAR) in 1 row, e.g. branch_id=0102"
        in messages
    )


def test_missing_path_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "bank.duckdb"
    with pytest.raises(WarehouseError, match="warehouse not found: .*nowhere.*bank.duckdb"):
        open_warehouse(missing)


def test_default_is_the_demo_warehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(warehouse.URL_VARIABLE, raising=False)
    monkeypatch.delenv("BRANCHBOOK_ROOT", raising=False)
    assert warehouse.DEFAULT_WAREHOUSE.as_posix() == "build/demo/warehouse.duckdb"
    with pytest.raises(WarehouseError, match="build/demo/warehouse.duckdb"):
        open_warehouse(None)
    (tmp_path / "build" / "demo").mkdir(parents=True)
    duckdb_file(tmp_path / warehouse.DEFAULT_WAREHOUSE)
    assert open_warehouse().execute("SELECT count(*) FROM customers").fetchone() == (10,)
    assert describe() == f"demo warehouse {tmp_path.resolve() / 'build/demo/warehouse.duckdb'}"


def test_folder_without_tables_and_a_file_that_is_not_duckdb(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(WarehouseError, match="no warehouse tables in folder"):
        open_warehouse(tmp_path)
    with pytest.raises(WarehouseError, match="notes.txt is not a readable DuckDB file"):
        open_warehouse(tmp_path / "notes.txt")


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"postgresql://ana:{SECRET}@db.example:5432/bank", "postgresql://ana:***@db.example:5432/bank"),
        ("postgresql+psycopg2://ana:p@ss:w/rd@db/bank", "postgresql+psycopg2://ana:***@db/bank"),
        (f"mssql+pyodbc://db/bank?user=ana&password={SECRET}&x=1", "mssql+pyodbc://db/bank?user=***&password=***&x=***"),
        ("postgresql://db.example/bank", "postgresql://db.example/bank"),
        ("sqlite:///bank.db", "sqlite:///bank.db"),
    ],
)  # fmt: skip
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_describe_masks_the_password_from_the_environment(monkeypatch, tmp_path):
    url = f"postgresql://ana:{SECRET}@db.example/bank"
    monkeypatch.setenv(warehouse.URL_VARIABLE, url)
    assert (
        describe()
        == "database postgresql://ana:***@db.example/bank (from $BRANCHBOOK_WAREHOUSE_URL)"
    )
    assert describe(url) == "database postgresql://ana:***@db.example/bank"
    assert describe(tmp_path) == f"folder {tmp_path}"


def test_url_errors_never_show_the_password(monkeypatch):
    url = f"postgresql://ana:{SECRET}@127.0.0.1:9/bank"
    monkeypatch.setenv(warehouse.URL_VARIABLE, url)
    for source in (url, None):
        with pytest.raises(WarehouseError) as caught:
            open_warehouse(source)
        text = str(caught.value)
        assert SECRET not in text
        assert "postgresql://ana:***@127.0.0.1:9/bank" in text
        assert caught.value.__suppress_context__


def test_url_source_reads_and_converts_tables(tmp_path):
    pytest.importorskip("sqlalchemy")
    import sqlite3

    db = tmp_path / "bank.db"
    with sqlite3.connect(db) as lite:
        lite.execute(
            "CREATE TABLE branches (branch_id TEXT, name TEXT, name_zh TEXT, region TEXT,"
            " city TEXT, opened_on TEXT)"
        )
        lite.execute(
            "INSERT INTO branches VALUES ('0101', 'Lujiazui', '陆家嘴支行', 'East', 'Shanghai', '2001-05-01'),"
            " ('0102', 'Xujiahui', NULL, 'East', 'Shanghai', NULL)"
        )
    con = open_warehouse(f"sqlite:///{db}")
    assert con.execute("SELECT * FROM branches ORDER BY 1").fetchall() == [
        ("0101", "Lujiazui", "陆家嘴支行", "East", "Shanghai", dt.date(2001, 5, 1)),
        ("0102", "Xujiahui", None, "East", "Shanghai", None),
    ]
    declared = {k: v for k, v in TABLES["branches"].types.items() if k != "parent_id"}
    assert types(con, "branches") == declared  # the optional parent_id left out


def test_fingerprint_ignores_row_order_and_storage(tmp_path):
    a = open_warehouse(duckdb_file(tmp_path / "a.duckdb", "ASC"))
    b = open_warehouse(duckdb_file(tmp_path / "b.duckdb", "DESC"))
    assert set(fingerprint(a)) == {"branches", "staff", "customers", "balances"}
    assert fingerprint(a) == fingerprint(b)
    folder = tmp_path / "parquet"
    folder.mkdir()
    for table in ("branches", "staff", "customers", "balances"):
        a.execute(f"COPY (SELECT * FROM {table} ORDER BY random()) TO '{folder / table}.parquet'")
    assert fingerprint(open_warehouse(folder)) == fingerprint(a)


def test_fingerprint_changes_with_one_value(tmp_path):
    con = small_bank(duckdb.connect())
    before = fingerprint(con, ["customers", "balances"])
    con.execute(
        "UPDATE balances SET wealth = wealth + 0.01 WHERE customer_id = 'C7' AND month = '2026-10'"
    )
    after = fingerprint(con, ["customers", "balances"])
    assert after["customers"] == before["customers"]
    assert after["balances"] != before["balances"]
    with pytest.raises(WarehouseError, match="loans"):
        fingerprint(con, ["loans"])


def test_fingerprint_counts_duplicate_rows():
    con = duckdb.connect()
    con.execute("CREATE TABLE branches AS SELECT '0101' AS branch_id")
    before = fingerprint(con)["branches"]
    con.execute("INSERT INTO branches VALUES ('0101'), ('0101')")
    assert fingerprint(con)["branches"] != before


def test_branch_fingerprints_follow_each_branchs_rows():
    a = small_bank(duckdb.connect(), "ASC")
    b = small_bank(duckdb.connect(), "DESC")
    prints = branch_fingerprints(a)
    assert set(prints) == {"0101", "0102"}
    assert prints == branch_fingerprints(b)
    # C7 is a 0102 customer: only 0102 changes
    b.execute("UPDATE balances SET deposits = 1 WHERE customer_id = 'C7' AND month = '2026-09'")
    changed = branch_fingerprints(b)
    assert changed["0101"] == prints["0101"]
    assert changed["0102"] != prints["0102"]
    # moving a customer changes both branches
    b.execute("UPDATE customers SET branch_id = '0101' WHERE customer_id = 'C7'")
    moved = branch_fingerprints(b)
    assert moved["0101"] != prints["0101"] and moved["0102"] != changed["0102"]


def test_duckdb_memory_is_bounded_and_spills_to_a_private_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(warehouse.MEMORY_VARIABLE, raising=False)
    con = warehouse._connect()
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit == "2.7 GiB"  # 3GB as DuckDB shows it
    assert Path(spill).is_dir() and Path(spill).name.startswith("branchbook-duckdb-")
    assert oct(Path(spill).stat().st_mode & 0o777) == "0o700"
    monkeypatch.setenv(warehouse.MEMORY_VARIABLE, "512MB")
    con = warehouse._connect()
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "488.2 MiB"


def test_a_memory_limit_duckdb_cannot_read_names_the_variable(monkeypatch):
    monkeypatch.setenv(warehouse.MEMORY_VARIABLE, "plenty")
    with pytest.raises(WarehouseError, match="BRANCHBOOK_DUCKDB_MEMORY='plenty'"):
        warehouse._connect()


def test_upper_case_table_names_are_found(tmp_path):
    """A warehouse that stores BRANCHES is read, not reported as missing."""
    import duckdb

    path = tmp_path / "upper.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute('CREATE TABLE "BRANCHES" (branch_id VARCHAR, name VARCHAR)')
        con.execute("INSERT INTO \"BRANCHES\" VALUES ('0101', 'Main')")
    con = open_warehouse(path)
    assert con.execute("SELECT branch_id FROM branches").fetchall() == [("0101",)]


def test_complete_shape_reads_absent_tables_and_columns_as_empty(tmp_path):
    path = tmp_path / "bank.duckdb"
    con = duckdb.connect(str(path))
    small_bank(con)
    con.execute("ALTER TABLE customers DROP COLUMN phone")
    con.close()
    con = open_warehouse(path)
    filled = warehouse.complete_shape(con)
    assert "customers.phone" in filled and "financials" in filled
    assert con.execute("SELECT count(*), count(phone) FROM customers").fetchone() == (10, 0)
    assert con.execute("SELECT count(*) FROM financials").fetchone() == (0,)
    cols = [r[0] for r in con.execute("DESCRIBE financials").fetchall()]
    assert cols == list(TABLES["financials"].names)
    assert warehouse.complete_shape(con) == []  # nothing left to fill


def test_url_of_names_only_database_urls(monkeypatch):
    monkeypatch.delenv(warehouse.URL_VARIABLE, raising=False)
    assert warehouse.url_of("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert warehouse.url_of("/data/bank.duckdb") is None
    assert warehouse.url_of(None) is None
    monkeypatch.setenv(warehouse.URL_VARIABLE, "postgresql://u@h/db")
    assert warehouse.url_of(None) == "postgresql://u@h/db"
