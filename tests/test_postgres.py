"""A real PostgreSQL server holding the demo bank under its own names: validate, prepare
and a full run through the mapping give what the DuckDB warehouse gives.

The server is Debian's PostgreSQL (``scripts/install-system-deps.sh`` installs it),
started by :mod:`pg_server` in a temporary folder on a free port; the tests are skipped
only when its binaries are absent."""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from own_schema import MAPPING, build

from branchbook import lookback, server
from branchbook.params import ParamSet
from branchbook.prepare import prepare, transaction_months
from branchbook.reports import settings_classes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        __import__("pg_server").binaries() is None,
        reason="PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
        "run scripts/install-system-deps.sh",
    ),
]
pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[dev]'")

PERIOD = "2026-10"
INSTANTS = tuple(
    f"svc_complaint.{c}" for c in ("received_at", "first_response_at", "plan_at", "resolved_at")
)


@pytest.fixture(scope="module")
def pg(small_bank, tmp_path_factory):
    """The small bank under its own names on a running server; its URL and params."""
    import pg_server

    own = build(
        small_bank / "build" / "demo" / "warehouse.duckdb",
        tmp_path_factory.mktemp("own") / "core_bank.duckdb",
    )
    # not under pytest's tmp folder: the server's user must be able to reach it
    folder = Path(tempfile.mkdtemp(prefix="branchbook-pg-"))
    srv = pg_server.Server(folder)
    try:
        pg_server.load(srv, own, "core", instants=INSTANTS)
        params = tmp_path_factory.mktemp("pg_params")
        shutil.copytree(small_bank / "params", params, dirs_exist_ok=True)
        shutil.copy(MAPPING, params / "warehouse.yaml")
        yield {"server": srv, "url": srv.url, "params": params}
    finally:
        srv.stop()
        shutil.rmtree(folder, ignore_errors=True)


def cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *args],
        cwd=cwd, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_validate_through_the_mapping(pg, tmp_path):
    proc = cli("validate", "--warehouse", pg["url"], "--params", str(pg["params"]),
               "--period", PERIOD, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "data contract: ok" in proc.stdout
    assert "segmentation     produced, every section" in proc.stdout
    assert f"period {PERIOD}: complete" in proc.stdout


def test_a_mapping_naming_a_missing_column_is_refused_at_its_line(pg, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(pg["params"], params)
    text = (
        (params / "warehouse.yaml").read_text().replace("outstanding: bal", "outstanding: bal_amt")
    )
    (params / "warehouse.yaml").write_text(text)
    line = text.splitlines().index("      outstanding: bal_amt") + 1
    proc = cli("validate", "--warehouse", pg["url"], "--params", str(params), cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        f"{params / 'warehouse.yaml'}, line {line}: loan_snapshots.outstanding maps to "
        "bal_amt, which core.loan_month_end does not have"
    ) in proc.stderr


def frames(root: Path) -> dict[str, pd.DataFrame]:
    """Every Parquet file of a prepared period, rows in a fixed order."""
    out = {}
    for path in sorted(root.rglob("*.parquet")):
        frame = pd.read_parquet(path)
        if len(frame.columns):
            frame = frame.sort_values(list(frame.columns), ignore_index=True)
        out[str(path.relative_to(root))] = frame
    return out


@pytest.fixture(scope="module")
def prepared_from_pg(pg, tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("pg_build")
    return prepare(PERIOD, source=pg["url"], params_dir=pg["params"], build_dir=build_dir)


def test_prepare_from_the_server_equals_duckdb(small_bank, prepared_from_pg):
    direct = frames(small_bank / "build" / PERIOD / "prepared")
    served = frames(prepared_from_pg.root)
    assert sorted(served) == sorted(direct)
    for name, frame in direct.items():
        pd.testing.assert_frame_equal(served[name], frame, obj=name)
    meta = json.loads((small_bank / "build" / PERIOD / "prepared" / "prepare.json").read_text())
    assert prepared_from_pg.meta["branches"] == meta["branches"]
    assert prepared_from_pg.meta["coverage"] == meta["coverage"]
    assert prepared_from_pg.meta["warnings"] == meta["warnings"]
    # the average daily balances came through the mapping: AUM on the same basis
    assert prepared_from_pg.meta["balance_basis"] == meta["balance_basis"]
    assert meta["balance_basis"]["used"] == "average_daily"


def test_an_unchanged_server_is_not_read_again(pg, prepared_from_pg, monkeypatch):
    def no_pull(*args, **kwargs):
        raise AssertionError("rows were pulled for an unchanged period")

    monkeypatch.setattr(server, "stage", no_pull)
    again = prepare(PERIOD, source=pg["url"], params_dir=pg["params"],
                    build_dir=prepared_from_pg.root.parents[1])  # fmt: skip
    assert again.meta["created"] == prepared_from_pg.meta["created"]


def test_the_server_fingerprint_sees_one_changed_row(pg):
    before = server.branch_fingerprints(pg["url"], mapping=_mapping())
    one = (
        "WHERE (cust_no, stat_month) = "
        "(SELECT cust_no, stat_month FROM core.cust_month_bal ORDER BY 1, 2 LIMIT 1)"
    )
    with pg["server"].connect() as con:
        con.execute(f"UPDATE core.cust_month_bal SET dep_bal = dep_bal + 1 {one}")
        try:
            after = server.branch_fingerprints(pg["url"], mapping=_mapping())
        finally:
            con.execute(f"UPDATE core.cust_month_bal SET dep_bal = dep_bal - 1 {one}")
    changed = [b for b in before if before[b] != after[b]]
    assert len(changed) == 1
    assert server.branch_fingerprints(pg["url"], mapping=_mapping()) == before


def _mapping():
    from branchbook import mapping

    return mapping.load(MAPPING)


def test_copy_and_cursor_in_small_chunks_give_the_same_rows(pg, small_bank, tmp_path):
    import duckdb

    cursor = tmp_path / "cursor"
    counts = server.stage(pg["url"], tmp_path, mapping=_mapping(), period=PERIOD)
    assert counts == server.stage(pg["url"], cursor, mapping=_mapping(), period=PERIOD,
                                  chunk_rows=97, method="cursor")  # fmt: skip
    for table in counts:
        a = pd.read_parquet(tmp_path / f"{table}.parquet")
        b = pd.read_parquet(cursor / f"{table}.parquet")
        key = list(a.columns)
        pd.testing.assert_frame_equal(
            a.sort_values(key, ignore_index=True), b.sort_values(key, ignore_index=True),
            check_dtype=False, obj=table,
        )  # fmt: skip
    direct = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    assert counts["customers"] == direct.execute("SELECT count(*) FROM customers").fetchone()[0]
    assert (
        counts["balances"]
        == direct.execute("SELECT count(*) FROM balances WHERE month <= ?", [PERIOD]).fetchone()[0]
    )
    staged = pd.read_parquet(tmp_path / "complaints.parquet")
    wanted = direct.execute("SELECT * FROM complaints WHERE received_at < DATE '2026-11-01'").df()
    key = ["complaint_id"]
    pd.testing.assert_frame_equal(
        staged.sort_values(key, ignore_index=True)[list(wanted.columns)],
        wanted.sort_values(key, ignore_index=True),
        check_dtype=False,
    )


def test_the_transactions_a_prepare_reads_are_staged_as_duckdb_has_them(pg, small_bank, tmp_path):
    """The churn model's samples read transactions from further back than the extracts'
    days: staged with the months the reports' settings give, the server's rows from
    there on are the warehouse's, those before the extracts' window included."""
    import duckdb

    months = transaction_months(ParamSet(pg["params"], settings_classes()))
    server.stage(pg["url"], tmp_path, mapping=_mapping(), period=PERIOD,
                 transaction_months=months)  # fmt: skip
    since = lookback.transactions_since(PERIOD, months=months)
    staged = pd.read_parquet(tmp_path / "transactions.parquet")
    direct = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    wanted = direct.execute(
        "SELECT * FROM transactions WHERE txn_date >= ? AND txn_date < DATE '2026-11-01'", [since]
    ).df()
    staged, wanted = (f.assign(txn_date=pd.to_datetime(f["txn_date"])) for f in (staged, wanted))
    assert (wanted["txn_date"] < pd.Timestamp(server.bounds(PERIOD)["since"])).any()
    staged = staged[staged["txn_date"] >= pd.Timestamp(since)]
    key = ["txn_id"]
    pd.testing.assert_frame_equal(
        staged.sort_values(key, ignore_index=True)[list(wanted.columns)],
        wanted.sort_values(key, ignore_index=True),
        check_dtype=False,
    )


def _html(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*.html")):
        if path.name == "index.html":
            continue
        text = re.sub(r'<footer class="bb-provenance">.*?</footer>', "", path.read_text(),
                      flags=re.S)  # fmt: skip
        out[str(path.relative_to(folder))] = text
    return out


def test_a_full_run_through_the_mapping_equals_the_duckdb_run(pg, small_bank, tmp_path):
    common = ["run", "--period", PERIOD, "--branches", "0101", "--formats", "html",
              "--no-progress", "--workers", "2", "--scopes", "branch"]  # fmt: skip
    served = cli(*common, "--warehouse", pg["url"], "--params", str(pg["params"]),
                 "--build", str(tmp_path / "b1"), "--out", str(tmp_path / "r1"), cwd=tmp_path)  # fmt: skip
    assert served.returncode == 0, served.stderr[-3000:]
    direct = cli(*common, "--warehouse", str(small_bank / "build" / "demo" / "warehouse.duckdb"),
                 "--params", str(small_bank / "params"), "--build", str(tmp_path / "b2"),
                 "--out", str(tmp_path / "r2"), cwd=tmp_path)  # fmt: skip
    assert direct.returncode == 0, direct.stderr[-3000:]
    a, b = _html(tmp_path / "r1"), _html(tmp_path / "r2")
    assert sorted(a) == sorted(b) and len(a) == 4
    for name in a:
        assert a[name] == b[name], name
