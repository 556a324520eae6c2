"""A run with nothing to do is known from files' metadata; anything changed means the full run."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from branchbook import cli
from branchbook.runner import quick
from branchbook.runner.orchestrate import RunResult


def test_a_signature_changes_with_content_of_the_same_size(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("abc")
    before = quick.signature([tmp_path])
    assert quick.signature([tmp_path]) == before
    time.sleep(0.02)
    f.write_text("xyz")  # same size, new times
    assert quick.signature([tmp_path]) != before


def test_a_signature_sees_a_file_added_removed_or_a_root_missing(tmp_path):
    (tmp_path / "a").write_text("1")
    before = quick.signature([tmp_path])
    (tmp_path / "b").write_text("2")
    added = quick.signature([tmp_path])
    assert added != before
    (tmp_path / "b").unlink()
    assert quick.signature([tmp_path / "gone"]) != quick.signature([tmp_path])
    # caches of Python are not inputs
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"0")
    assert quick.signature([tmp_path]) == quick.signature([tmp_path])


def test_a_database_server_has_no_quick_answer(monkeypatch):
    monkeypatch.delenv("BRANCHBOOK_WAREHOUSE_URL", raising=False)
    assert quick.warehouse_files("postgresql://u:p@db/bank") is None
    w = quick.warehouse_files("/data/w.duckdb")
    assert [p.name for p in w] == ["w.duckdb", "w.duckdb.wal"]


# -- the command, with the full run replaced by one that writes its report -------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder: parameters, a warehouse file, and a fake full run counting calls."""
    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    (root / "params" / "bank.yaml").write_text("locale: en\n")
    wh = root / "wh.duckdb"
    wh.write_bytes(b"data")
    old = time.time() - 60  # inputs written well before the runs (see quick.RACY_S)
    for p in (root / "params" / "bank.yaml", wh):
        os.utime(p, (old, old))
    calls = []

    def fake_run(period, **kw):
        calls.append(kw)
        out = Path(kw["out"]) / "2026-10"
        out.mkdir(parents=True, exist_ok=True)
        (out / "risk.html").write_text("<p>report</p>")
        (out / "manifest.json").write_text("{}")
        r = RunResult(
            period="2026-10", run_id=f"run{len(calls)}", manifest_path=out / "manifest.json"
        )
        r.entries = {"0101/risk": {"status": "ok"}}
        return r

    monkeypatch.setattr("branchbook.runner.orchestrate.run", fake_run)
    monkeypatch.setattr(quick, "newest_change_ns", lambda roots: 0)  # code files are fresh
    args = ["run", "--warehouse", str(wh), "--params", str(root / "params"),
            "--out", str(root / "reports"), "--build", str(root / "build"), "--no-progress"]  # fmt: skip
    return root, args, calls


def test_the_second_run_with_nothing_changed_does_not_run(project, capsys):
    root, args, calls = project
    assert cli.main(args) == 0
    assert cli.main(args) == 0
    assert len(calls) == 1
    err = capsys.readouterr().err
    assert err.count("2026-10: 1 of 1 reports published, 0 failed") == 2


def test_force_another_request_or_any_change_means_the_full_run(project):
    root, args, calls = project
    cli.main(args)
    cli.main([*args, "--force"])
    assert len(calls) == 2
    cli.main([*args, "--reports", "risk"])  # another request: its own stamp
    assert len(calls) == 3
    cli.main(args)
    assert len(calls) == 4  # the other run rewrote the published files
    cli.main(args)
    assert len(calls) == 4

    (root / "wh.duckdb").write_bytes(b"dat2")  # the data changed
    cli.main(args)
    assert len(calls) == 5
    (root / "params" / "bank.yaml").write_text("locale: zh-CN\n")  # a parameter
    cli.main(args)
    assert len(calls) == 6
    (root / "reports" / "2026-10" / "risk.html").unlink()  # a published file removed
    cli.main(args)
    assert len(calls) == 7
    (root / "reports" / "2026-10" / "risk.html").write_text("<p>edited</p>")  # or edited
    cli.main(args)
    assert len(calls) == 8
    shutil.rmtree(root / "build" / quick.STAMP_DIR)  # no stamp
    cli.main(args)
    assert len(calls) == 9
    cli.main(args)
    assert len(calls) == 9


def test_a_failed_run_or_a_racy_input_is_not_stamped(project, monkeypatch):
    root, args, calls = project
    monkeypatch.setattr(RunResult, "exit_code", property(lambda self: 1))
    assert cli.main(args) == 1
    assert cli.main(args) == 1
    assert len(calls) == 2
    monkeypatch.setattr(RunResult, "exit_code", property(lambda self: 0))
    monkeypatch.setattr(quick, "newest_change_ns", lambda roots: time.time_ns())
    cli.main(args)
    cli.main(args)
    assert len(calls) == 4  # written just before the run: not trusted, no stamp


def test_a_busy_report_folder_is_refused_on_the_quick_path_too(project, capsys):
    from branchbook.runner.guard import FolderLock

    root, args, calls = project
    cli.main(args)
    with FolderLock(root / "reports"):
        assert cli.main(args) == 4
    assert "busy" in capsys.readouterr().err


@pytest.mark.slow
def test_a_real_rerun_is_quick_and_still_sees_a_change_in_the_data(
    small_bank, tmp_path, caplog, monkeypatch
):
    import logging

    import duckdb

    shutil.copytree(small_bank / "build", tmp_path / "build")
    wh = tmp_path / "build" / "demo" / "warehouse.duckdb"
    monkeypatch.setattr(quick, "RACY_S", 0.0)  # the copy's change time is now
    args = ["run", "--period", "2026-10", "--branches", "0101", "--reports", "segmentation",
            "--formats", "html", "--warehouse", str(wh), "--params", str(small_bank / "params"),
            "--out", str(tmp_path / "reports"), "--build", str(tmp_path / "build"),
            "--no-progress"]  # fmt: skip
    page = tmp_path / "reports" / "2026-10" / "0101" / "segmentation.html"
    assert cli.main(args) == 0
    first = page.read_bytes()
    caplog.set_level(logging.INFO, logger="branchbook.run")
    assert cli.main(args) == 0
    assert "nothing to do" in caplog.text
    caplog.clear()
    with duckdb.connect(str(wh)) as con:  # one customer's deposits change
        con.execute(
            "UPDATE balances SET deposits = deposits + 1e6 WHERE customer_id = "
            "(SELECT min(customer_id) FROM customers WHERE branch_id = '0101') "
            "AND month = '2026-10'"
        )
    assert cli.main(args) == 0
    assert "nothing to do" not in caplog.text
    assert page.read_bytes() != first  # the new data reached the report
