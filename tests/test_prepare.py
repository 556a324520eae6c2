"""Prepare: extracts carry only the contract's columns, routed by the documented key;
what a killed prepare leaves behind is removed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from branchbook.contract import TABLES
from branchbook.prepare import prepare, remove_stale_work

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small(small_bank):
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", small_bank / "w.duckdb")
    return small_bank


@pytest.mark.slow
def test_extra_columns_never_reach_an_extract(small, tmp_path):
    """A free-text note and a stray branch_id in a child table: the note is not copied,
    and balances still reach a branch only through their customer."""
    w = tmp_path / "w.duckdb"
    shutil.copy(small / "w.duckdb", w)
    con = duckdb.connect(str(w))
    con.execute("ALTER TABLE customers ADD COLUMN note VARCHAR DEFAULT 'called about a mortgage'")
    con.execute("ALTER TABLE balances ADD COLUMN branch_id VARCHAR DEFAULT '0101'")
    branches = dict(con.execute("SELECT customer_id, branch_id FROM customers").fetchall())
    con.close()
    prep = prepare(None, source=w, params_dir=small / "params", build_dir=tmp_path / "b")
    for bid in prep.branch_ids:
        folder = prep.root / "extracts" / bid
        for name, table in TABLES.items():
            path = folder / f"{name}.parquet"
            if path.is_file():
                extra = set(pd.read_parquet(path).columns) - set(table.types) - {"branch_id"}
                assert not extra, f"{name}: {extra}"
        bal = pd.read_parquet(folder / "balances.parquet")
        assert len(bal) and (bal["customer_id"].map(branches) == bid).all()


def test_stale_prepare_folders_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (tmp_path / f"prepared.tmp-{dead}" / "extracts").mkdir(parents=True)
    (tmp_path / f"prepared.tmp-{os.getpid()}").mkdir()  # this process: kept
    removed = remove_stale_work(tmp_path)
    assert [p.name for p in removed] == [f"prepared.tmp-{dead}"]
    assert (tmp_path / f"prepared.tmp-{os.getpid()}").is_dir()
