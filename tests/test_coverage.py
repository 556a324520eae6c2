"""Tiers: what each table and column is needed for, and the verdict per report."""

import shutil

import duckdb
import pytest

from branchbook import contract, coverage
from branchbook.contract import TABLES
from branchbook.coverage import need, verdict

REPORTS = ("segmentation", "risk", "satisfaction", "staff_kpi")


def everything(**drop) -> dict[str, set[str]]:
    """Every contract table with every column, less ``drop`` (table -> columns, or
    None for the whole table)."""
    out = {name: set(t.names) for name, t in TABLES.items()}
    for table, cols in drop.items():
        if cols is None:
            del out[table]
        else:
            out[table] -= set(cols)
    return out


def test_every_table_and_column_named_in_the_tiers_is_in_the_contract():
    for key in coverage.NEEDS:
        table, _, column = key.partition(".")
        assert table in TABLES, key
        assert not column or column in TABLES[table].names, key
    for n in coverage.NEEDS.values():
        for use in n.uses:
            assert use in REPORTS or use in coverage.SECTIONS, use


def test_a_column_takes_its_tables_need_unless_listed():
    assert need("balances", "deposits").tier == "required"
    assert need("customers", "phone").tier == "optional"
    assert need("financials", "revenue").uses == ("risk.early_warning",)
    assert need("some_new_table").tier == "optional"


def test_optional_columns_are_nullable_in_the_contract():
    for table, column in coverage.optional_columns():
        assert TABLES[table].column(column).nullable, (table, column)


def test_everything_present_produces_every_section():
    cov = verdict(everything(), REPORTS)
    assert cov.ok and cov.missing == ()
    assert all(r.produced and not r.sections_off for r in cov.reports.values())


def test_a_missing_section_table_removes_exactly_its_sections():
    cov = verdict(everything(financials=None, aml_alerts=None), REPORTS)
    assert cov.ok
    risk = cov.reports["risk"]
    assert risk.produced
    assert risk.sections_off == {
        "risk.early_warning": ("financials",),
        "risk.compliance": ("aml_alerts",),
    }
    assert cov.reports["staff_kpi"].sections_off == {"staff_kpi.compliance": ("aml_alerts",)}
    assert not cov.reports["segmentation"].sections_off
    assert not cov.shows("risk.early_warning") and cov.shows("risk.collateral")
    assert risk.notes() == [
        "early-warning signals of corporate borrowers: not shown, the warehouse has no financials",
        "compliance classification and AML alert ageing: not shown, the warehouse has no aml_alerts",
    ]


def test_missing_columns_name_the_section_once_with_each_column():
    cov = verdict(everything(loans=("collateral_type", "collateral_value")), REPORTS)
    assert cov.reports["risk"].sections_off == {
        "risk.collateral": ("loans.collateral_type", "loans.collateral_value")
    }


def test_a_missing_core_table_means_the_report_is_not_produced():
    cov = verdict(everything(loans=None), REPORTS)
    risk = cov.reports["risk"]
    assert not risk.produced and risk.reason == "the warehouse has no loans"
    assert not cov.produced("risk") and not cov.shows("risk.collateral")
    # the other reports lose the sections that read loans
    assert "segmentation.credit" in cov.reports["segmentation"].sections_off
    assert cov.produced("segmentation")


def test_a_missing_optional_column_changes_nothing():
    cov = verdict(everything(customers=("phone", "birth_date")), REPORTS)
    assert [m.name for m in cov.missing] == ["customers.phone", "customers.birth_date"]
    assert all(r.produced and not r.sections_off for r in cov.reports.values())


def test_a_missing_required_table_is_not_ok():
    assert not verdict(everything(balances=None), REPORTS).ok


def test_verdict_round_trips_through_json():
    cov = verdict(everything(financials=None, surveys=None), REPORTS)
    back = coverage.Coverage.from_json(cov.to_json(), REPORTS)
    assert back.reports == cov.reports
    assert back.missing == cov.missing
    assert coverage.Coverage.from_json(None, REPORTS).shows("risk.collateral")


def test_the_coverage_table_names_tables_columns_and_verdicts():
    text = coverage.table(verdict(everything(financials=None, loans=("interest_rate",)), REPORTS))
    lines = text.splitlines()
    assert any(line.startswith("financials") and "absent" in line for line in lines)
    n = len(contract.TABLES["loans"].types)
    assert any(line.startswith("loans") and f"{n - 1} of {n}" in line and "interest_rate" in line
               for line in lines)  # fmt: skip
    assert "risk             produced without: scorecard" in text
    assert "segmentation     produced, every section" in text


@pytest.mark.slow
def test_prepare_without_some_tables_records_the_verdict(small_bank, tmp_path):
    """A warehouse without financials and aml_alerts, and loans without collateral
    columns: prepared, every extract has the contract's shape, and the verdict is in
    prepare.json and in BranchData."""
    from branchbook.data import load
    from branchbook.prepare import prepare

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("DROP TABLE financials")
        con.execute("DROP TABLE aml_alerts")
        con.execute("ALTER TABLE loans DROP COLUMN collateral_type")
        con.execute("ALTER TABLE loans DROP COLUMN collateral_value")
    prep = prepare("2026-10", source=wh, params_dir=small_bank / "params", build_dir=tmp_path)
    stored = prep.meta["coverage"]["reports"]["risk"]
    assert stored["produced"] and set(stored["sections_off"]) == {
        "risk.early_warning", "risk.compliance", "risk.collateral",
    }  # fmt: skip
    data = load("2026-10", prep.branch_ids[0], build_dir=tmp_path)
    assert not data.coverage.shows("risk.collateral")
    assert data.coverage.shows("segmentation.activity")
    assert data.table("financials").empty
    assert list(data.table("aml_alerts").columns)[:2] == ["alert_id", "customer_id"]
    assert data.table("loans")["collateral_type"].isna().all()


@pytest.mark.slow
def test_real_shapes_are_prepared(small_bank, tmp_path):
    """Overdrafts, customers without contact data or a manager, loans without a rate,
    collateral or a snapshot in a month, a branch without staff and a closed branch
    with no customers left: validated and prepared, each as its documented rule says."""
    from branchbook.data import load
    from branchbook.prepare import prepare

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        first, second = (r[0] for r in con.execute(
            "SELECT branch_id FROM branches ORDER BY 1").fetchall())  # fmt: skip
        con.execute(
            "UPDATE balances SET deposits = -deposits - 100 "
            "WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY 1 LIMIT 20)"
        )
        con.execute("UPDATE customers SET phone = NULL, birth_date = NULL WHERE random() < 0.3")
        con.execute("UPDATE customers SET manager_id = NULL WHERE random() < 0.2")
        con.execute("UPDATE loans SET interest_rate = NULL WHERE random() < 0.2")
        con.execute("UPDATE loans SET collateral_type = NULL, collateral_value = NULL "
                    "WHERE random() < 0.2")  # fmt: skip
        con.execute(
            "DELETE FROM loan_snapshots WHERE month = '2026-08' AND loan_id IN "
            "(SELECT loan_id FROM loans ORDER BY 1 LIMIT 3)"
        )
        # a branch without staff: its customers and loans have no manager
        con.execute(f"UPDATE customers SET manager_id = NULL WHERE branch_id = '{second}'")
        con.execute(f"UPDATE loans SET manager_id = NULL WHERE branch_id = '{second}'")
        for table in ("surveys", "complaints"):
            con.execute(f"UPDATE {table} SET manager_id = NULL WHERE branch_id = '{second}'")
        con.execute(
            f"DELETE FROM targets WHERE staff_id IN "
            f"(SELECT staff_id FROM staff WHERE branch_id = '{second}')"
        )
        con.execute(f"DELETE FROM staff WHERE branch_id = '{second}'")
        # a closed branch: still in branches, no customers any more
        con.execute("INSERT INTO branches SELECT '0999', 'Closed Sub-branch', NULL, region, "
                    f"city, DATE '2001-01-01', NULL FROM branches WHERE branch_id = '{first}'")  # fmt: skip
    prep = prepare("2026-10", source=wh, params_dir=small_bank / "params", build_dir=tmp_path)
    assert "0999" in prep.branch_ids
    assert all(r["produced"] for r in prep.meta["coverage"]["reports"].values())
    closed = load("2026-10", "0999", build_dir=tmp_path)
    assert closed.table("customers").empty and len(closed.table("branches")) == 1
    data = load("2026-10", first, build_dir=tmp_path)
    assert (data.table("balances")["deposits"] < 0).any()  # kept as stored: rules are the reports'
    assert data.table("loans")["interest_rate"].isna().any()
    assert load("2026-10", second, build_dir=tmp_path).table("staff").empty


def test_validate_prints_the_coverage_table(small_bank, tmp_path, capsys):
    from branchbook import cli

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("DROP TABLE loan_snapshots")
        con.execute("ALTER TABLE customers DROP COLUMN phone")
    code = cli.main(["validate", "--warehouse", str(wh), "--params", str(small_bank / "params")])
    out = capsys.readouterr().out
    assert code == 0
    assert "loan_snapshots   absent     needed by the risk report" in out
    assert "customers        13 of 14   phone (optional)" in out
    assert "risk             not produced: the warehouse has no loan_snapshots" in out
