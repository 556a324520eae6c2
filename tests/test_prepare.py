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


@pytest.mark.slow
def test_a_change_in_one_report_redoes_only_its_models(small_bank, tmp_path, monkeypatch):
    from branchbook import codekey
    from branchbook.prepare import load_prepared

    build = tmp_path / "build"
    shutil.copytree(small_bank / "build", build)
    package = tmp_path / "branchbook"
    shutil.copytree(codekey.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codekey, "PACKAGE_DIR", package)
    wh = build / "demo" / "warehouse.duckdb"
    # the period as this code prepares it (the session's bank may have been prepared by
    # another test's state of the code), then one report's module edited
    prepare(None, source=wh, params_dir=small_bank / "params", build_dir=build)
    before = load_prepared(build, "2026-10")
    seg = next((before.root / "bench").glob("bench_segmentation*.parquet"))
    seg_bytes, seg_inode = seg.read_bytes(), seg.stat().st_ino
    binning = package / "risk" / "binning.py"
    binning.write_text(binning.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    after = prepare(None, source=wh, params_dir=small_bank / "params", build_dir=build)
    assert after.meta["redone"] == ["risk"]
    kept = after.root / "bench" / seg.name
    assert kept.stat().st_ino == seg_inode and kept.read_bytes() == seg_bytes  # linked, not redone
    # and nothing at all when nothing changed
    again = prepare(None, source=wh, params_dir=small_bank / "params", build_dir=build)
    assert again.meta["created"] == after.meta["created"]


@pytest.mark.slow
def test_a_change_in_the_churn_model_redoes_the_reports_reading_its_scores(
    small_bank, tmp_path, monkeypatch, caplog
):
    """Segmentation reads satisfaction's churn scores (codekey.READS_PREPARED): an edit to
    the churn model redoes both, satisfaction's models first, and nothing else."""
    import logging

    from branchbook import codekey

    build = tmp_path / "build"
    shutil.copytree(small_bank / "build", build)
    package = tmp_path / "branchbook"
    shutil.copytree(codekey.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(codekey, "PACKAGE_DIR", package)
    wh = build / "demo" / "warehouse.duckdb"
    prepare(None, source=wh, params_dir=small_bank / "params", build_dir=build)
    model = package / "satisfaction" / "churn_model.py"
    model.write_text(model.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="branchbook.prepare"):
        after = prepare(None, source=wh, params_dir=small_bank / "params", build_dir=build)
    assert after.meta["redone"] == ["satisfaction", "segmentation"]
    made = [
        r.getMessage().split(": ")[1].split(" ")[0]
        for r in caplog.records
        if "artifacts in" in r.getMessage()
    ]
    assert made == ["satisfaction", "segmentation"]
    assert list(after.meta["artifacts"]) == list(codekey.REPORTS)  # the registry's order kept
