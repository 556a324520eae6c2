import datetime as dt

import duckdb
import pytest

from branchbook import contract
from branchbook.contract import TABLES, Violation, check, compatible, validate
from branchbook.errors import DataContractError

PHONE = "13812345678"
ID_NUMBER = "31011519900101123X"
NAME = "王芳"

ROWS = {
    "branches": [
        ("0101", "Pudong Lujiazui Sub-branch", "浦东陆家嘴支行", "East", "Shanghai", "2001-05-01",
         None),
        ("0102", "Xuhui Xujiahui Sub-branch", None, "East", "Shanghai", None, None),
    ],
    "staff": [
        ("S1", "0101", "张伟", "senior", "2012-03-01", True),
        ("S2", "0102", "李娜", "assistant", "2022-07-15", False),
    ],
    "customers": [
        ("C1", "0101", "S1", "individual", NAME, ID_NUMBER, PHONE, "1990-01-01", "F", None,
         "2015-03-01", None, "R2", "complete", "clerk", "5k_10k"),
        ("C2", "0102", None, "corporate", "上海恒达贸易有限公司", "91310115MA1K4XXX2Y", "13900139000",
         None, None, "wholesale_retail", "2018-06-01", "2026-09-30", "R3", "expired", None, None),
    ],
    "balances": [
        ("C1", "2026-09", 1000.0, 0.0, 0.0, 1, 950.0, 0.0),
        ("C1", "2026-10", 1200.5, 300.0, 0.0, 2, 1100.0, 150.0),
        ("C2", "2026-09", 50000.0, 0.0, 800000.0, 3, None, None),
    ],
    "transactions": [
        ("T1", "C1", "2026-10-02", "mobile", 100.0, "out"),
        ("T2", "C2", "2026-09-12", "online", 2500.0, "in"),
    ],
    "loans": [
        ("L1", "C2", "0102", "S2", "business", "2025-01-10", "2027-01-10", 1_000_000.0, 0.045,
         "real_estate", 2_000_000.0, "wholesale_retail", None, "2025-12-20"),
    ],
    "loan_snapshots": [
        ("L1", "2026-08", 850000.0, 0, "pass", 150000.0),
        ("L1", "2026-09", 800000.0, 35, "special_mention", 0.0),
    ],
    "financials": [
        ("C2", "2025-12-31", 9e6, -1e5, 5e6, 3e6, 2e6, 1.5e6, 6e5, 4e5, -2e5),
    ],
    "surveys": [
        ("R1", "C1", "0101", "S1", "2026-10-05", "counter", 5, 9, 4, 5, 5, None, 4, None),
    ],
    "complaints": [
        ("K1", "C1", "0101", "S1", "2026-10-01 09:00:00", "2026-10-01 11:00:00",
         "2026-10-02 09:00:00", "2026-10-06 17:30:00", "service", "phone", "low"),
        ("K2", "C2", "0102", None, "2026-09-20 15:00:00", None, None, None, "product",
         "letter", "high"),
    ],
    "aml_alerts": [("A1", "C2", "2026-09-03", "large_cash", "closed", "2026-09-20")],
    "targets": [
        ("S1", "2026-10", "new_customers", 2.0),
        ("S1", "2026-10", "net_new_aum", 500000.0),
    ],
    "kyc_history": [
        ("C1", "2015-03-01", "complete"),
        ("C2", "2018-06-01", "complete"),
        ("C2", "2025-06-01", "expired"),
    ],
    "staff_training": [("S1", "2026-09-15", 8.0, "Credit risk")],
    "staff_certifications": [("S1", "primary", "2020-05-01")],
    "customer_branch_history": [
        ("C1", "2015-03-01", "0101"),
        ("C2", "2018-06-01", "0101"),
        ("C2", "2024-01-01", "0102"),
    ],
    "holdings": [
        ("C1", "2026-10", "D01", "deposit", "R1", 1200.5),
        ("C1", "2026-10", "F03", "fund", "R5", 300.0),
    ],
    "contacts": [
        ("T1", "C1", None, "2026-10-08", "phone", "follow_up"),
        ("T2", "C2", None, "2026-09-01", "visit", None),
    ],
}  # fmt: skip


def warehouse(skip: tuple[str, ...] = ()) -> duckdb.DuckDBPyConnection:
    """A tiny warehouse that keeps every rule of the contract."""
    con = duckdb.connect()
    for name, table in TABLES.items():
        if name in skip:
            continue
        con.execute(table.ddl(constraints=False))
        marks = ", ".join("?" for _ in table.columns)
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", ROWS[name])
    return con


def messages(report) -> list[str]:
    return [v.message() for v in report.errors]


def only_error(con) -> Violation:
    report = validate(con)
    assert len(report.errors) == 1, messages(report)
    return report.errors[0]


def test_valid_warehouse_passes():
    report = check(warehouse())
    assert report.ok
    assert report.errors == [] and report.warnings == []
    assert str(report) == "data contract: ok"


def test_tables_lists_the_tables_in_order():
    assert list(TABLES) == [
        "branches", "staff", "customers", "balances", "transactions", "loans",
        "loan_snapshots", "financials", "surveys", "complaints", "aml_alerts", "targets",
        "kyc_history", "staff_training", "staff_certifications", "customer_branch_history",
        "holdings", "contacts",
    ]  # fmt: skip
    assert TABLES["balances"].key == ("customer_id", "month")
    assert TABLES["customers"].types["branch_id"] == "VARCHAR"
    assert ("customer_id", "customers", "customer_id") in TABLES["loans"].foreign_keys
    assert TABLES["customers"].column("phone").personal


def test_ddl_with_constraints_creates_every_table():
    con = duckdb.connect()
    for table in TABLES.values():
        con.execute(table.ddl())
    assert validate(con).ok
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO branches VALUES ('0101', NULL, NULL, 'East', NULL, NULL, NULL)")


def test_missing_required_table_is_an_error():
    v = only_error(warehouse(skip=("balances",)))
    assert (v.table, v.column, v.rule) == ("balances", None, "missing_table")
    assert v.message() == "balances: table missing"


def test_missing_table_that_sections_need_is_a_note():
    report = validate(warehouse(skip=("aml_alerts",)))
    assert report.ok
    [v] = report.absent
    assert (v.table, v.column, v.rule, v.level) == ("aml_alerts", None, "missing_table", "note")


def test_missing_required_column_is_an_error():
    con = warehouse()
    con.execute("ALTER TABLE customers DROP COLUMN customer_type")
    v = only_error(con)
    assert (v.table, v.column, v.rule) == ("customers", "customer_type", "missing_column")
    assert v.message() == "customers.customer_type: column missing"


def test_missing_column_that_a_section_needs_is_a_note():
    con = warehouse()
    con.execute("ALTER TABLE customers DROP COLUMN kyc_status")
    report = validate(con)
    assert report.ok
    assert [(v.table, v.column, v.level) for v in report.absent] == [
        ("customers", "kyc_status", "note")
    ]


def test_dated_history_is_optional():
    """A warehouse without the dated history still passes: the reports fall back to
    today's status and say so."""
    con = warehouse(
        skip=(
            "kyc_history",
            "staff_training",
            "staff_certifications",
            "customer_branch_history",
            "holdings",
            "contacts",
        )
    )
    con.execute("ALTER TABLE aml_alerts DROP COLUMN closed_on")
    con.execute("ALTER TABLE loans DROP COLUMN closed_reason")
    con.execute("ALTER TABLE loan_snapshots DROP COLUMN undrawn")
    assert check(con).ok
    assert contract.OPTIONAL_TABLES == {
        "kyc_history",
        "staff_training",
        "staff_certifications",
        "customer_branch_history",
        "holdings",
        "contacts",
    }
    assert contract.OPTIONAL_COLUMNS == {
        ("aml_alerts", "closed_on"),
        ("loans", "closed_reason"),
        ("loan_snapshots", "undrawn"),
    }


def test_holdings_are_checked_like_every_table():
    """A holding's product type and risk level are from their lists, its balance is not
    negative and its customer exists."""
    con = warehouse()
    con.execute("INSERT INTO holdings VALUES ('C9', '2026-10', 'X1', 'crypto', 'R6', -1.0)")
    found = {(v.table, v.column, v.rule) for v in validate(con).errors}
    assert found == {
        ("holdings", "customer_id", "orphan"),
        ("holdings", "product_type", "domain"),
        ("holdings", "risk_level", "domain"),
        ("holdings", "balance", "range"),
    }


def test_collateral_valuation_dates_are_optional_nullable_and_not_after_the_data():
    """``loans.collateral_valued_on``: a warehouse without it passes, a value without a
    date passes ("date not recorded"), a date after the data's latest month is a
    warning naming the loan, and text that is no date is an error."""
    con = warehouse()
    con.execute("ALTER TABLE loans DROP COLUMN collateral_valued_on")
    report = check(con)
    assert report.ok and report.warnings == []
    assert [(v.table, v.column) for v in report.absent] == [("loans", "collateral_valued_on")]
    con = warehouse()
    con.execute("UPDATE loans SET collateral_valued_on = NULL")
    assert check(con).ok and check(con).warnings == []
    con = warehouse()
    con.execute("UPDATE loans SET collateral_valued_on = DATE '2026-11-02'")  # data ends 2026-10
    (late,) = check(con).warnings
    assert (late.table, late.column, late.rule) == (
        "loans",
        "collateral_valued_on",
        "implausible_date",
    )
    assert late.examples == ("L1",) and "after the data's latest month" in late.message()
    con = warehouse()
    con.execute("ALTER TABLE loans ALTER collateral_valued_on TYPE VARCHAR")
    con.execute("UPDATE loans SET collateral_valued_on = 'last spring'")
    err = only_error(con)
    assert (err.table, err.column, err.rule) == ("loans", "collateral_valued_on", "wrong_type")


def test_dated_history_keeps_its_rules():
    con = warehouse()
    con.execute("UPDATE aml_alerts SET closed_on = '2026-08-01'")  # before it was raised
    con.execute("INSERT INTO kyc_history VALUES ('C9', '2020-01-01', 'lapsed')")
    con.execute("UPDATE loans SET closed_reason = 'sold'")
    got = {(v.table, v.column, v.rule) for v in validate(con).errors}
    assert got == {
        ("aml_alerts", "closed_on", "order"),
        ("kyc_history", "customer_id", "orphan"),
        ("kyc_history", "kyc_status", "domain"),
        ("loans", "closed_reason", "domain"),
    }


def test_wrong_type_text_in_a_date_column_names_rows_that_do_not_convert():
    con = warehouse()
    con.execute(
        "CREATE OR REPLACE TABLE customers AS "
        "SELECT * REPLACE (CAST(opened_on AS VARCHAR) AS opened_on) FROM customers"
    )
    con.execute("UPDATE customers SET opened_on = 'last spring' WHERE customer_id = 'C2'")
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.count, v.examples) == (
        "customers", "opened_on", "wrong_type", 1, ("C2",)
    )  # fmt: skip
    assert v.message() == (
        "customers.opened_on: wrong type (declared DATE, found VARCHAR) in 1 row, "
        "e.g. customer_id=C2"
    )


def test_wrong_type_an_id_stored_as_a_number():
    con = warehouse()
    con.execute(
        "CREATE OR REPLACE TABLE targets AS "
        "SELECT * REPLACE (CAST(target AS VARCHAR) AS target) FROM targets"
    )
    con.execute(
        "CREATE OR REPLACE TABLE staff AS "
        "SELECT * REPLACE (CAST(active AS INTEGER) AS active) FROM staff"
    )
    report = validate(con)
    assert "staff.active: wrong type (declared BOOLEAN, found INTEGER)" in messages(report)
    assert [v.column for v in report.errors if v.table == "staff"] == ["active"]  # said once
    # text that converts is still the wrong type, without example rows
    assert "targets.target: wrong type (declared DOUBLE, found VARCHAR)" in messages(report)


def test_compatible_type_families():
    assert compatible("BIGINT", "INTEGER") and compatible("BIGINT", "UTINYINT")
    assert compatible("DOUBLE", "DECIMAL(18,2)") and compatible("DOUBLE", "BIGINT")
    assert compatible("DATE", "TIMESTAMP_NS") and compatible("TIMESTAMP", "DATE")
    assert not compatible("VARCHAR", "INTEGER")
    assert not compatible("BIGINT", "DOUBLE")
    assert not compatible("DATE", "VARCHAR")
    assert not compatible("BOOLEAN", "INTEGER")


def test_null_in_a_composite_key_names_the_rest_of_the_key():
    con = warehouse()
    con.execute("UPDATE balances SET month = NULL WHERE customer_id = 'C2'")
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.count) == ("balances", "month", "null", 1)
    assert v.message() == (
        "balances.month: null in a non-nullable column in 1 row, "
        "e.g. (customer_id, month)=(C2, NULL)"
    )


def test_null_in_a_non_nullable_column():
    con = warehouse()
    con.execute("UPDATE customers SET customer_type = NULL WHERE customer_id = 'C1'")
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.examples) == (
        "customers",
        "customer_type",
        "null",
        ("C1",),
    )


def test_null_key_is_counted():
    con = warehouse()
    con.execute(
        "INSERT INTO aml_alerts VALUES (NULL, 'C1', DATE '2026-10-01', 'structuring', 'open', NULL)"
    )
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.count) == ("aml_alerts", "alert_id", "null", 1)
    assert v.message().startswith("aml_alerts.alert_id: null in a non-nullable column in 1 row")


def test_duplicate_key():
    con = warehouse()
    con.execute("INSERT INTO transactions VALUES ('T1', 'C2', DATE '2026-10-03', 'atm', 50, 'out')")
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.count, v.examples) == (
        "transactions", "txn_id", "duplicate_key", 2, ("T1",)
    )  # fmt: skip
    assert v.message() == "transactions.txn_id: duplicate key in 2 rows, e.g. txn_id=T1"


def test_duplicate_composite_key():
    con = warehouse()
    con.execute("INSERT INTO balances VALUES ('C1', '2026-10', 1, 0, 0, 1, 1, 0)")
    v = only_error(con)
    assert v.message() == (
        "balances: duplicate key (customer_id, month) in 2 rows, "
        "e.g. (customer_id, month)=(C1, 2026-10)"
    )


def test_orphan_foreign_key():
    con = warehouse()
    con.execute("UPDATE loans SET customer_id = 'C404'")
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.examples) == ("loans", "customer_id", "orphan", ("L1",))
    assert v.message() == (
        "loans.customer_id: orphan foreign key (not in customers.customer_id) in 1 row, "
        "e.g. loan_id=L1"
    )


def test_orphan_nullable_foreign_key_ignores_nulls():
    con = warehouse()
    con.execute("UPDATE customers SET manager_id = 'S9' WHERE customer_id = 'C1'")
    v = only_error(con)
    assert (v.table, v.column, v.rule, v.examples) == ("customers", "manager_id", "orphan", ("C1",))


def test_value_out_of_domain():
    con = warehouse()
    con.execute("UPDATE customers SET kyc_status = 'pending'")
    v = only_error(con)
    assert v.message() == (
        "customers.kyc_status: value out of domain (allowed: complete, incomplete, expired) "
        "in 2 rows, e.g. customer_id=C1, C2"
    )


def test_negative_amount():
    con = warehouse()
    con.execute("UPDATE balances SET wealth = -5 WHERE customer_id = 'C2'")
    v = only_error(con)
    assert v.message() == (
        "balances.wealth: value out of range (must be >= 0) in 1 row, "
        "e.g. (customer_id, month)=(C2, 2026-09)"
    )


def test_average_daily_balances_follow_the_month_end_rules():
    """日均 columns: wealth_avg may not be negative; deposits_avg may (an overdraft for part
    of the month); both may be empty (not recorded for the row)."""
    con = warehouse()
    con.execute(
        "UPDATE balances SET wealth_avg = -5 WHERE customer_id = 'C1' AND month = '2026-10'"
    )
    v = only_error(con)
    assert v.message() == (
        "balances.wealth_avg: value out of range (must be >= 0) in 1 row, "
        "e.g. (customer_id, month)=(C1, 2026-10)"
    )
    con = warehouse()
    con.execute("UPDATE balances SET deposits_avg = -40.0 WHERE customer_id = 'C1'")
    con.execute("UPDATE balances SET wealth_avg = NULL")
    assert validate(con).errors == []


def test_real_shapes_are_accepted():
    """An overdraft, a customer without a phone or a manager, a loan without a rate or
    recorded collateral, a branch without staff: data a real bank holds on purpose."""
    con = warehouse()
    con.execute("UPDATE balances SET deposits = -250.0 WHERE customer_id = 'C1'")
    con.execute("UPDATE customers SET phone = NULL, id_number = NULL, name = NULL")
    con.execute("UPDATE customers SET manager_id = NULL WHERE customer_id = 'C1'")
    con.execute("UPDATE loans SET interest_rate = NULL, collateral_type = NULL")
    con.execute("UPDATE loans SET collateral_value = NULL")
    con.execute("DELETE FROM targets")
    for table in ("staff_training", "staff_certifications"):  # a manager's own records go
        con.execute(f"DELETE FROM {table} WHERE staff_id = 'S1'")  # with them
    con.execute("DELETE FROM staff WHERE branch_id = '0101'")
    con.execute("UPDATE customers SET manager_id = NULL WHERE manager_id = 'S1'")
    con.execute("DELETE FROM surveys")
    con.execute("UPDATE complaints SET manager_id = NULL")
    report = validate(con)
    assert report.errors == [], messages(report)


def test_transaction_amount_must_be_positive_and_finite():
    con = warehouse()
    con.execute("UPDATE transactions SET amount = 0 WHERE txn_id = 'T1'")
    con.execute("UPDATE transactions SET amount = 'NaN'::DOUBLE WHERE txn_id = 'T2'")
    v = only_error(con)
    assert (v.column, v.rule, v.count, v.examples) == ("amount", "range", 2, ("T1", "T2"))
    assert "(must be > 0)" in v.message()


def test_ratings_out_of_range():
    con = warehouse()
    con.execute("UPDATE surveys SET nps = 11, digital = 0")
    report = validate(con)
    assert sorted(v.column for v in report.errors) == ["digital", "nps"]
    assert "surveys.nps: value out of range (must be 0..10) in 1 row, e.g. response_id=R1" in (
        messages(report)
    )


def test_bad_month_format():
    con = warehouse()
    con.execute("UPDATE balances SET month = '2026-13' WHERE customer_id = 'C2'")
    con.execute("UPDATE targets SET period = '2026-1' WHERE kpi = 'net_new_aum'")
    report = validate(con)
    assert messages(report) == [
        "balances.month: bad format (expected YYYY-MM) in 1 row, "
        "e.g. (customer_id, month)=(C2, 2026-13)",
        "targets.period: bad format (expected YYYY-MM) in 1 row, "
        "e.g. (staff_id, period, kpi)=(S1, 2026-1, net_new_aum)",
    ]


def test_resolved_before_received():
    con = warehouse()
    con.execute(
        "UPDATE complaints SET resolved_at = TIMESTAMP '2026-09-30 10:00' WHERE complaint_id = 'K1'"
    )
    v = only_error(con)
    assert v.message() == (
        "complaints.resolved_at: dates out of order (must be >= received_at) in 1 row, "
        "e.g. complaint_id=K1"
    )


def test_closed_before_opened_and_maturity_before_origination():
    con = warehouse()
    con.execute("UPDATE customers SET closed_on = DATE '2010-01-01' WHERE customer_id = 'C2'")
    con.execute("UPDATE loans SET maturity_on = DATE '2024-01-01'")
    report = validate(con)
    assert [(v.table, v.column, v.rule, v.examples) for v in report.errors] == [
        ("customers", "closed_on", "order", ("C2",)),
        ("loans", "maturity_on", "order", ("L1",)),
    ]


def test_examples_are_keys_never_personal_values():
    con = warehouse()
    con.execute("UPDATE customers SET gender = 'X', risk_appetite = 'R9', birth_date = NULL")
    con.execute("UPDATE customers SET opened_on = DATE '2030-01-01', closed_on = DATE '2029-01-01'")
    con.execute("UPDATE customers SET branch_id = '9999' WHERE customer_id = 'C1'")
    con.execute("DELETE FROM customer_branch_history")  # its own rules: tested apart
    report = validate(con)
    assert len(report.errors) == 4
    text = "\n".join(messages(report))
    for personal in (PHONE, ID_NUMBER, NAME, "1990-01-01"):
        assert personal not in text
    assert "customer_id=C1" in text


def test_examples_are_capped_at_five():
    con = warehouse()
    for i in range(12):
        con.execute(
            f"INSERT INTO transactions VALUES ('X{i:02d}', 'C1', DATE '2026-10-01', 'fax', 1, 'out')"
        )
    v = only_error(con)
    assert v.count == 12
    assert v.examples == ("X00", "X01", "X02", "X03", "X04")


def test_rules_on_a_missing_or_mistyped_column_are_skipped():
    con = warehouse()
    con.execute("ALTER TABLE loans DROP COLUMN customer_id")
    con.execute(
        "CREATE OR REPLACE TABLE complaints AS "
        "SELECT * REPLACE (CAST(received_at AS VARCHAR) AS received_at) FROM complaints"
    )
    report = validate(con)
    assert [(v.table, v.column, v.rule) for v in report.errors] == [
        ("complaints", "received_at", "wrong_type"),
    ]
    assert [(v.table, v.column, v.rule) for v in report.absent] == [
        ("loans", "customer_id", "missing_column"),
    ]


def test_check_raises_with_every_error_line():
    con = warehouse()
    con.execute("UPDATE customers SET kyc_status = 'pending'")
    con.execute("UPDATE loans SET interest_rate = 4.5")
    with pytest.raises(DataContractError) as caught:
        check(con)
    text = str(caught.value)
    assert text.splitlines()[0] == "the warehouse breaks the data contract (2 errors):"
    assert "  customers.kyc_status: value out of domain" in text
    assert (
        "  loans.interest_rate: value out of range (must be 0..1) in 1 row, e.g. loan_id=L1" in text
    )
    assert PHONE not in text


def test_warnings_are_reported_not_raised():
    con = warehouse()
    con.execute(
        "UPDATE surveys SET wait_time = NULL, attitude = NULL, professionalism = NULL, environment = NULL"
    )
    con.execute("UPDATE loan_snapshots SET outstanding = 1300000 WHERE month = '2026-09'")
    con.execute("UPDATE customers SET manager_id = 'S2' WHERE customer_id = 'C1'")
    con.execute("INSERT INTO complaints VALUES ('K0', 'C1', '0101', NULL, TIMESTAMP '2026-05-01 10:00', "
                "NULL, NULL, NULL, 'policy', 'online', 'medium')")  # fmt: skip
    report = check(con)
    assert report.ok
    assert [(v.table, v.rule, v.examples, v.level) for v in report.warnings] == [
        ("complaints", "stale_complaint", ("K0",), "warning"),
        ("surveys", "empty_survey", ("R1",), "warning"),
        ("loan_snapshots", "outstanding_above_principal", ("(L1, 2026-09)",), "warning"),
        ("customers", "manager_elsewhere", ("C1",), "warning"),
    ]
    assert report.warnings[0].message() == (
        "complaints.resolved_at: complaint open too long (more than 90 days) in 1 row, "
        "e.g. complaint_id=K0"
    )
    assert str(report).startswith("warning: complaints.resolved_at")


def test_stale_complaints_count_from_as_of():
    con = warehouse()
    report = validate(con, as_of=dt.date(2027, 3, 1))
    assert [(v.rule, v.examples) for v in report.warnings] == [("stale_complaint", ("K2",))]
    assert "as of 2027-03-01" in report.warnings[0].message()


def test_an_unreadable_table_is_named(tmp_path):
    con = warehouse()
    path = tmp_path / "targets.parquet"
    con.execute(f"COPY targets TO '{path}'")
    con.execute("DROP TABLE targets")
    con.execute(f"CREATE VIEW targets AS SELECT * FROM read_parquet('{path}')")
    path.unlink()
    v = only_error(con)
    assert (v.table, v.rule) == ("targets", "unreadable")


def test_rule_words_cover_every_rule():
    assert set(contract.RULES) >= {
        "missing_table", "missing_column", "wrong_type", "null", "duplicate_key", "orphan",
        "domain", "range", "format", "order",
    }  # fmt: skip


# -- plausibility: warnings, never a silent drop -------------------------------------


def test_implausible_dates_amounts_and_jumps_are_warnings(small_bank, tmp_path):
    import shutil

    import duckdb

    from branchbook import contract
    from branchbook.warehouse import open_warehouse

    w = tmp_path / "w.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", w)
    with duckdb.connect(str(w)) as con:
        first = con.execute("SELECT min(customer_id) FROM customers").fetchone()[0]
        con.execute(
            "UPDATE customers SET opened_on = DATE '2099-01-01' WHERE customer_id = ?", [first]
        )
        con.execute(  # the branch history follows the opening (else an error, not a warning)
            "UPDATE customer_branch_history SET valid_from = DATE '2099-01-01' "
            "WHERE customer_id = ?",
            [first],
        )
        con.execute(
            "UPDATE balances SET deposits = 5e12 WHERE customer_id = ? AND month = '2026-10'",
            [first],
        )
        # half of branch 0102's customers lose their 2026-06 balance: a partial load
        con.execute(
            "DELETE FROM balances WHERE month = '2026-06' AND customer_id IN "
            "(SELECT customer_id FROM customers WHERE branch_id = '0102' AND hash(customer_id) % 2 = 0)"
        )
    con = open_warehouse(w)
    report = contract.check(con)
    found = {(v.table, v.column, v.rule): v for v in report.warnings}
    date = found[("customers", "opened_on", "implausible_date")]
    assert date.count == 1 and date.examples == (first,)
    assert found[("balances", "deposits", "implausible_amount")].count == 1
    jump = found[("balances", None, "customer_count_jump")]
    assert jump.key == ("branch_id", "month") and "0102 2026-06" in jump.examples
    assert "customer count jumps" in jump.message()
    per_branch = contract.branch_warnings(con)
    assert any(v.rule == "customer_count_jump" for v in per_branch["0102"])
    assert not any(v.rule == "customer_count_jump" for v in per_branch.get("0101", []))
    # a bank that allows larger amounts hears nothing about them
    relaxed = contract.check(con, bounds=contract.Bounds(max_amount=1e13))
    assert not any(v.rule == "implausible_amount" for v in relaxed.warnings)


def test_the_organisation_tree_is_checked_with_the_table():
    con = warehouse()
    con.execute(
        "INSERT INTO branches VALUES ('0103', 'A', NULL, 'East', NULL, NULL, '0104'),"
        " ('0104', 'B', NULL, 'East', NULL, NULL, '0103'), ('0105', 'C', NULL, 'North', NULL, NULL, '0101'),"
        " ('0106', 'D', NULL, 'East', NULL, NULL, '0999'), ('0107', 'E', NULL, 'East', NULL, NULL, '0106')"
    )
    found = {(v.column, v.rule): v for v in validate(con).errors}
    assert set(found) == {
        ("parent_id", "cycle"),
        ("region", "region_mismatch"),
        ("parent_id", "unreachable"),
        ("parent_id", "orphan"),
    }
    assert found["parent_id", "cycle"].message() == (
        "branches.parent_id: parent chain loops (a branch is its own ancestor: "
        "0103 -> 0104 -> 0103) in 2 rows, e.g. branch_id=0103, 0104"
    )
    assert found["region", "region_mismatch"].examples == ("0105",)
    assert found["parent_id", "unreachable"].examples == ("0107",)
    assert found["parent_id", "orphan"].examples == ("0106",)


def test_a_warehouse_without_parent_id_is_a_flat_tree():
    con = warehouse()
    con.execute("ALTER TABLE branches DROP COLUMN parent_id")
    report = validate(con)
    assert report.ok
    assert [(v.table, v.column) for v in report.absent] == [("branches", "parent_id")]
