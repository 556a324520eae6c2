"""A bank's own schema mapped to the contract's: shape checks with file and line, the
mapped warehouse equal to the contract one."""

import textwrap

import duckdb
import pytest
from own_schema import MAPPING, build

from branchbook import mapping
from branchbook.contract import TABLES, validate
from branchbook.errors import ParamsError
from branchbook.warehouse import open_warehouse


def write(tmp_path, text: str):
    path = tmp_path / "warehouse.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_find_only_when_the_file_exists(tmp_path):
    assert mapping.find(tmp_path) is None
    write(tmp_path, "tables: {}\n")
    assert mapping.find(tmp_path) == tmp_path / "warehouse.yaml"


def test_load_reads_tables_columns_and_lines():
    mp = mapping.load(MAPPING)
    assert mp.schema == "core"
    customers = mp.tables["customers"]
    assert customers.source == "cust_master"
    assert customers.columns["customer_id"].text == "cust_no"
    assert customers.columns["customer_id"].is_column
    assert not customers.columns["customer_type"].is_column
    assert customers.where.text == "rec_status = 'A'"
    assert MAPPING.read_text().splitlines()[customers.line - 1].strip() == "customers:"
    assert mp.source_of("customers") == "cust_master"


@pytest.mark.parametrize(
    "text, message",
    [
        ("tables:\n  clients:\n    from: x\n", "line 2: 'clients' is not a contract table"),
        (
            "tables:\n  customers:\n    from: x\n    columns:\n      mobile: y\n",
            "line 5: 'mobile' is not a column of contract table customers",
        ),
        ("tables:\n  customers:\n    columns: {}\n", "line 2: customers has no 'from'"),
        ("tables:\n  customers:\n    from: 'a b'\n", "line 3: customers.from is expected"),
        ("shema: core\n", "line 1: unknown key 'shema'"),
    ],
)
def test_a_malformed_mapping_names_file_and_line(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ParamsError) as caught:
        mapping.load(path)
    assert str(caught.value).startswith(f"{path}, {message}")


@pytest.fixture(scope="module")
def own_bank(small_bank, tmp_path_factory):
    """The session's small bank under the bank's own names (a DuckDB file)."""
    out = tmp_path_factory.mktemp("own") / "core_bank.duckdb"
    return build(small_bank / "build" / "demo" / "warehouse.duckdb", out)


def rows(con, table: str) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in TABLES[table].names)
    return con.execute(f'SELECT {cols} FROM "{table}" ORDER BY ALL').fetchall()


def test_the_mapped_warehouse_equals_the_contract_one(small_bank, own_bank):
    direct = open_warehouse(small_bank / "build" / "demo" / "warehouse.duckdb")
    mapped = open_warehouse(own_bank, mapping=mapping.load(MAPPING))
    for table in TABLES:
        assert rows(mapped, table) == rows(direct, table), table
        assert (
            mapped.execute(f'DESCRIBE "{table}"').fetchall()
            == direct.execute(f'DESCRIBE "{table}"').fetchall()
        ), table


def test_a_mapping_naming_a_missing_column_is_an_error_at_its_line(own_bank, tmp_path):
    text = MAPPING.read_text().replace("phone: mobile_no", "phone: mobile_phone_no")
    path = write(tmp_path, text)
    line = text.splitlines().index("      phone: mobile_phone_no") + 1
    with pytest.raises(ParamsError) as caught:
        open_warehouse(own_bank, mapping=mapping.load(path))
    message = str(caught.value)
    assert f"{path}, line {line}: customers.phone maps to mobile_phone_no, which " in message
    assert "core.cust_master does not have (it has: " in message


def test_a_broken_expression_and_a_missing_table_are_named(own_bank, tmp_path):
    text = (
        MAPPING.read_text()
        .replace("WHEN 'C' THEN", "WHEN 'C' THEN_")
        .replace("from: aml_case", "from: aml_cases")
    )
    path = write(tmp_path, text)
    with pytest.raises(ParamsError) as caught:
        open_warehouse(own_bank, mapping=mapping.load(path))
    lines = str(caught.value).splitlines()
    assert lines[0] == "the warehouse mapping has 2 mistakes:"
    assert "customers.customer_type: the expression does not run over core.cust_master" in lines[1]
    assert "aml_alerts is read from core.aml_cases, which the warehouse does not have" in lines[2]


def test_an_unmapped_contract_column_is_absent_not_an_error(own_bank, tmp_path):
    text = MAPPING.read_text().replace("      phone: mobile_no\n", "")
    mapped = open_warehouse(own_bank, mapping=mapping.load(write(tmp_path, text)))
    cols = [r[0] for r in mapped.execute("DESCRIBE customers").fetchall()]
    assert "phone" not in cols and "customer_id" in cols


def test_the_mapping_reads_a_folder_of_files_by_the_banks_names(own_bank, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    con = duckdb.connect(str(own_bank), read_only=True)
    for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'core'"
    ).fetchall():
        con.execute(f"COPY core.{name} TO '{files / name}.parquet' (FORMAT parquet)")
    con.close()
    text = MAPPING.read_text().replace("schema: core\n", "")
    mapped = open_warehouse(files, mapping=mapping.load(write(tmp_path, text)))
    direct = open_warehouse(own_bank, mapping=mapping.load(MAPPING))
    assert rows(mapped, "customers") == rows(direct, "customers")


def test_the_banks_parent_column_carries_the_tree_and_its_checks(own_bank, tmp_path):
    copy = tmp_path / "core_bank.duckdb"
    copy.write_bytes(own_bank.read_bytes())
    con = duckdb.connect(str(copy))
    ids = [r[0] for r in con.execute("SELECT unit_code FROM core.org_unit ORDER BY 1").fetchall()]
    con.execute("UPDATE core.org_unit SET parent_unit = ? WHERE unit_code = ?", [ids[1], ids[0]])
    con.execute("UPDATE core.org_unit SET parent_unit = ? WHERE unit_code = ?", [ids[0], ids[1]])
    con.close()
    mapped = open_warehouse(copy, mapping=mapping.load(MAPPING))
    found = [v for v in validate(mapped).errors if v.table == "branches"]
    assert [(v.column, v.rule, v.examples) for v in found] == [
        ("parent_id", "cycle", tuple(ids[:2]))
    ]
