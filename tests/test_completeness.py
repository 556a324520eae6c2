"""Completeness: a month is reported only when its feeds are complete (hand-built data)."""

import datetime as dt

import duckdb
import pytest

from branchbook import completeness
from branchbook.errors import DataContractError
from branchbook.params import Completeness


def bank(last_month_balances: int = 10, snapshots_last: int = 4) -> duckdb.DuckDBPyConnection:
    """Ten customers open throughout, four loans; balances and snapshots for 2026-07..10."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE customers AS SELECT 'C' || i AS customer_id, DATE '2020-01-01' AS opened_on, "
        "NULL::DATE AS closed_on FROM range(10) t(i)"
    )
    con.execute("CREATE TABLE balances (customer_id VARCHAR, month VARCHAR, deposits DOUBLE)")
    for month in ("2026-07", "2026-08", "2026-09"):
        con.execute(f"INSERT INTO balances SELECT customer_id, '{month}', 1 FROM customers")
    con.execute(
        f"INSERT INTO balances SELECT customer_id, '2026-10', 1 FROM customers LIMIT {last_month_balances}"
    )
    con.execute(
        "CREATE TABLE loans AS SELECT 'L' || i AS loan_id, DATE '2030-01-01' AS maturity_on FROM range(4) t(i)"
    )
    con.execute("CREATE TABLE loan_snapshots (loan_id VARCHAR, month VARCHAR, outstanding DOUBLE)")
    for month in ("2026-07", "2026-08", "2026-09"):
        con.execute(f"INSERT INTO loan_snapshots SELECT loan_id, '{month}', 100 FROM loans")
    con.execute(
        f"INSERT INTO loan_snapshots SELECT loan_id, '2026-10', 100 FROM loans LIMIT {snapshots_last}"
    )
    return con


def test_rows_vs_history_by_hand():
    counts = {"2026-07": 100, "2026-08": 120, "2026-09": 110, "2026-10": 54}
    ok, detail = completeness.rows_vs_history(counts, "2026-10", 0.5, 3)
    assert not ok and "median of 110" in detail  # 54 < 0.5 * 110
    assert completeness.rows_vs_history(counts, "2026-09", 0.5, 3)[0]
    assert completeness.rows_vs_history(counts, "2026-07", 0.5, 3) is None  # no history


def test_complete_month_passes_every_rule():
    con = bank()
    findings = completeness.check(con, "2026-10")
    assert findings and all(f.ok for f in findings)
    assert {f.rule for f in findings} == {
        "rows_vs_history",
        "balances_coverage",
        "snapshot_coverage",
    }
    assert completeness.latest_complete(con) == "2026-10"


def test_a_month_of_stray_rows_is_refused_and_the_default_steps_back():
    con = bank(last_month_balances=2)
    with pytest.raises(DataContractError) as err:
        completeness.require(con, "2026-10")
    msg = str(err.value)
    assert msg.startswith("balances: 2026-10 is incomplete: 2 rows against a median of 10")
    assert "rule rows_vs_history" in msg and "the latest complete period is 2026-09" in msg
    assert completeness.latest_complete(con) == "2026-09"


def test_missing_snapshots_of_open_loans():
    con = bank(snapshots_last=3)  # 3 of 4 loans outstanding last month: 75% < 98%
    failed = [f for f in completeness.check(con, "2026-10") if not f.ok]
    assert [(f.table, f.rule) for f in failed] == [
        ("loan_snapshots", "rows_vs_history"),
        ("loan_snapshots", "snapshot_coverage"),
    ]
    loose = Completeness(stock_tolerance=0.3, coverage=0.7)
    assert all(f.ok for f in completeness.check(con, "2026-10", loose))


def test_a_month_without_balances_is_not_present():
    con = bank()
    [finding] = completeness.check(con, "2026-11")
    assert (finding.rule, finding.ok) == ("present", False)


def test_a_table_never_recorded_is_not_incomplete():
    """A bank that keeps no surveys has no history to judge: its month is complete."""
    con = bank()
    con.execute("CREATE TABLE surveys (response_id VARCHAR, responded_on DATE)")
    assert all(f.ok for f in completeness.check(con, "2026-10"))


def test_events_dropping_to_a_trickle():
    con = bank()
    con.execute("CREATE TABLE complaints (complaint_id VARCHAR, received_at TIMESTAMP)")
    for month, n in (("2026-07", 20), ("2026-08", 22), ("2026-09", 18), ("2026-10", 3)):
        day = dt.datetime.fromisoformat(f"{month}-15T10:00:00")
        con.execute(
            "INSERT INTO complaints SELECT 'K' || i, $d FROM range($n) t(i)", {"d": day, "n": n}
        )
    failed = [f for f in completeness.check(con, "2026-10") if not f.ok]
    assert [(f.table, f.rule) for f in failed] == [("complaints", "rows_vs_history")]


def test_validate_table_marks_the_incomplete_month():
    text = completeness.table(bank(last_month_balances=2), None, months=4)
    assert "2026-07 to 2026-10" in text
    assert "2!" in text and "balances: 2026-10 is incomplete" in text
