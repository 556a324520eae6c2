"""Customers who move branch (``customer_branch_history``): a report of period P counts
a customer in the branch holding it at the end of P, with a known answer on a small
demo bank and an independent SQL recompute of each branch's customers and AUM."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pandas as pd
import pytest

from branchbook import contract, holding
from branchbook.context import branch_notes
from branchbook.prepare import prepare
from branchbook.warehouse import open_warehouse

MOVED_ON = dt.date(2026, 8, 1)  # from 0101 to 0102: in 0101 until July, in 0102 from August


@pytest.fixture(scope="module")
def moved(small_bank, tmp_path_factory):
    """The small bank with one customer, open throughout and held by 0102 today, held by
    0101 from opening until 31 July 2026; periods 2026-07 and 2026-08 prepared."""
    root = tmp_path_factory.mktemp("moved")
    wh = root / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    con = duckdb.connect(str(wh))
    cid = con.execute(
        "SELECT c.customer_id FROM customers c WHERE c.branch_id = '0102' "
        "AND c.closed_on IS NULL AND c.opened_on < DATE '2025-06-01' "
        "AND c.customer_id NOT IN (SELECT customer_id FROM customer_branch_history "
        "  GROUP BY 1 HAVING count(*) > 1) "
        "AND (SELECT count(*) FROM balances b WHERE b.customer_id = c.customer_id "
        "     AND b.month IN ('2026-07', '2026-08') AND b.deposits + b.wealth > 0) = 2 "
        "ORDER BY c.customer_id LIMIT 1"
    ).fetchone()[0]
    con.execute("DELETE FROM customer_branch_history WHERE customer_id = ?", [cid])
    con.execute(
        "INSERT INTO customer_branch_history SELECT customer_id, opened_on, '0101' "
        "FROM customers WHERE customer_id = ?",
        [cid],
    )
    con.execute("INSERT INTO customer_branch_history VALUES (?, ?, '0102')", [cid, MOVED_ON])
    con.close()
    builds = {}
    for period in ("2026-07", "2026-08"):
        builds[period] = root / f"build-{period}"
        prepare(period, source=wh, params_dir=small_bank / "params", build_dir=builds[period])
    return {"cid": cid, "warehouse": wh, "builds": builds}


def _extract(build, period: str, branch: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(build / period / "prepared" / "extracts" / branch / f"{name}.parquet")


def _bench(build, period: str) -> pd.DataFrame:
    frame = pd.read_parquet(build / period / "prepared" / "bench" / "bench_segmentation.parquet")
    return frame[frame["period"] == period].set_index("branch_id")


@pytest.mark.parametrize(("period", "holder", "other"), [("2026-07", "0101", "0102"),
                                                         ("2026-08", "0102", "0101")])  # fmt: skip
def test_a_moved_customer_is_in_the_branch_holding_it_at_the_period_end(
    moved, period, holder, other
):
    build, cid = moved["builds"][period], moved["cid"]
    for name in ("customers", "balances"):
        assert cid in set(_extract(build, period, holder, name)["customer_id"]), name
        assert cid not in set(_extract(build, period, other, name)["customer_id"]), name
    seg = pd.read_parquet(
        build / period / "prepared" / "extracts" / holder / "segmentation_customers.parquet"
    )
    assert cid in set(seg["customer_id"])


def _recompute(wh, period: str) -> pd.DataFrame:
    """Each branch's open customers and AUM at ``period`` from the raw warehouse: the
    branch of the customer's latest history row on or before the month's end (before its
    first row, its first row's), written apart from the library's SQL."""
    end = pd.Period(period, "M").end_time.date()
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return (
            con.execute(
                """
            WITH held AS (
                SELECT c.customer_id, c.opened_on, c.closed_on,
                       coalesce(
                         (SELECT h.branch_id FROM customer_branch_history h
                          WHERE h.customer_id = c.customer_id AND h.valid_from <= $end
                          ORDER BY h.valid_from DESC LIMIT 1),
                         (SELECT h.branch_id FROM customer_branch_history h
                          WHERE h.customer_id = c.customer_id ORDER BY h.valid_from LIMIT 1),
                         c.branch_id) AS branch_id
                FROM customers c
            )
            SELECT h.branch_id, count(*) AS customers,
                   sum(coalesce(greatest(coalesce(b.deposits_avg, b.deposits, 0), 0)
                                + coalesce(b.wealth_avg, b.wealth, 0), 0)) AS aum_total
            FROM held h LEFT JOIN balances b ON b.customer_id = h.customer_id AND b.month = $m
            WHERE h.opened_on <= $end AND (h.closed_on IS NULL OR h.closed_on > $end)
            GROUP BY 1 ORDER BY 1
            """,
                {"end": end, "m": period},
            )
            .df()
            .set_index("branch_id")
        )
    finally:
        con.close()


@pytest.mark.parametrize("period", ["2026-07", "2026-08"])
def test_branches_add_up_to_the_bank_and_match_an_independent_recompute(moved, period):
    bench = _bench(moved["builds"][period], period)
    want = _recompute(moved["warehouse"], period)
    got = bench.loc[want.index, ["customers", "aum_total"]]
    assert got["customers"].astype(int).tolist() == want["customers"].astype(int).tolist()
    assert got["aum_total"].to_numpy() == pytest.approx(want["aum_total"].to_numpy(), rel=1e-9)
    con = duckdb.connect(str(moved["warehouse"]), read_only=True)
    bank = con.execute(
        "SELECT count(*) FROM customers WHERE opened_on <= $e AND (closed_on IS NULL OR closed_on > $e)",
        {"e": pd.Period(period, "M").end_time.date()},
    ).fetchone()[0]
    con.close()
    assert int(bench["customers"].sum()) == bank


def test_the_move_is_counted_and_named_in_both_branches_notes(moved):
    meta = json.loads(
        (moved["builds"]["2026-08"] / "2026-08" / "prepared" / "prepare.json").read_text()
    )
    hist = meta["branch_history"]
    assert hist["recorded"] is True
    assert hist["moves"]["0102"]["in"] >= 1 and hist["moves"]["0101"]["out"] >= 1
    (key, values), = branch_notes(meta, "0102")  # fmt: skip
    assert key == holding.NOTE_MOVES and values["moved_in"] == hist["moves"]["0102"]["in"]
    assert branch_notes(meta, "0102", scope="bank") == []


def test_without_the_table_today_s_branch_and_a_note_say_so():
    assert branch_notes({"branch_history": {"recorded": False, "moves": {}}}, "0101") == [
        holding.NOTE_TODAY
    ]
    assert branch_notes({}, "0101") == []  # prepared before the table was read


def test_hold_as_of_reads_the_branch_at_the_day_and_before_the_first_row_the_first():
    con = duckdb.connect()
    con.execute("CREATE TABLE customers AS SELECT * FROM (VALUES ('C1', 'B'), ('C2', 'A'), "
                "('C3', 'C')) t(customer_id, branch_id)")  # fmt: skip
    con.execute(
        "CREATE TABLE customer_branch_history AS SELECT customer_id, valid_from::DATE AS "
        "valid_from, branch_id FROM (VALUES ('C1', '2026-01-01', 'A'), ('C1', '2026-08-01', 'B'), "
        "('C2', '2026-03-01', 'A')) t(customer_id, valid_from, branch_id)"
    )
    assert holding.moves(con, dt.date(2025, 12, 31), dt.date(2026, 8, 31)) == {
        "A": {"in": 0, "out": 1},
        "B": {"in": 1, "out": 0},
    }
    assert holding.hold_as_of(con, dt.date(2026, 7, 31))
    held = dict(con.execute("SELECT customer_id, branch_id FROM customers").fetchall())
    # C1 in A until July; C2 before its first row: its first row's; C3 no row: its own
    assert held == {"C1": "A", "C2": "A", "C3": "C"}


def test_the_contract_checks_the_history(small_bank, tmp_path):
    wh = tmp_path / "w.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    con = duckdb.connect(str(wh))
    cid, opened, branch = con.execute(
        "SELECT customer_id, opened_on, branch_id FROM customers ORDER BY 1 LIMIT 1"
    ).fetchone()
    other = "0101" if branch != "0101" else "0102"
    con.execute("DELETE FROM customer_branch_history WHERE customer_id = ?", [cid])
    con.execute(
        "INSERT INTO customer_branch_history VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)",
        [cid, opened - dt.timedelta(days=3), branch, cid, opened + dt.timedelta(days=9), other,
         "C9999999", opened, branch],
    )  # fmt: skip
    con.execute("INSERT INTO customer_branch_history VALUES (?, ?, '9999')",
                [cid, opened + dt.timedelta(days=20)])  # fmt: skip
    con.close()
    report = contract.validate(open_warehouse(wh))
    got = {(v.table, v.column, v.rule): v for v in report.errors}
    t = "customer_branch_history"
    assert set(got) == {
        (t, "customer_id", "orphan"),
        (t, "branch_id", "orphan"),
        (t, "valid_from", "before_opening"),
        (t, "branch_id", "not_current_branch"),
    }
    line = got[(t, "valid_from", "before_opening")].message()
    assert line.startswith("customer_branch_history.valid_from: dated before the customer opened")
    assert cid in line


def test_the_bridge_restates_last_month_to_the_branch_holding_the_customer_now(moved):
    """The stated rule: in August's reports the customer moved in August is in 0102's
    bridge as an existing customer (opening restated, not new business) and not in
    0101's (not a lost customer); July's reports had it in 0101."""
    build, cid = moved["builds"]["2026-08"], moved["cid"]
    b = _extract(build, "2026-08", "0102", "segmentation_bridge").set_index("customer_id")
    assert bool(b.loc[cid, "open_prev"]) and bool(b.loc[cid, "open_now"])
    assert b.loc[cid, "aum_prev"] > 0
    assert cid not in set(_extract(build, "2026-08", "0101", "segmentation_bridge")["customer_id"])
    july = moved["builds"]["2026-07"]
    assert cid in set(_extract(july, "2026-07", "0101", "segmentation_bridge")["customer_id"])
