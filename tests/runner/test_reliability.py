"""Faults of the process itself, reruns, and what data can and cannot do to a report.

Each test drives the real command or the real library on a small warehouse.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import nbformat
import psutil
import pytest
from bs4 import BeautifulSoup

import branchbook
from branchbook import demo
from branchbook.reports import NOTEBOOK_DIR, registry

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


def bank(tmp: Path, *, branches=3, customers=1_500, seed=5, timeout=600) -> dict:
    params = tmp / "params"
    (params / "branches").mkdir(parents=True)
    text = (ROOT / "params" / "bank.yaml").read_text()
    (params / "bank.yaml").write_text(
        text.replace("report_timeout_s: 600", f"report_timeout_s: {timeout}")
    )
    wh = tmp / "wh.duckdb"
    demo.build(wh, branches=branches, customers=customers, months=13, seed=seed)
    return {
        "warehouse": wh,
        "params_dir": params,
        "build_dir": tmp / "build",
        "out": tmp / "reports",
    }


def cli_args(b: dict) -> list[str]:
    return [
        "--warehouse",
        str(b["warehouse"]),
        "--params",
        str(b["params_dir"]),
        "--build",
        str(b["build_dir"]),
        "--out",
        str(b["out"]),
        "--no-progress",
        "--scopes",
        "branch",  # the branches' reports: what a kill or a stop leaves of them
    ]


def kernels_of(proc: psutil.Process) -> list[psutil.Process]:
    try:
        kids = proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for p in kids:
        try:  # a kernel started as a new Python, or forked warm (with its fork server)
            if p.name() in (
                "bb-kernel",
                "bb-render",
                "bb-forkserver",
                "bb-renderserver",
            ) or "ipykernel_launcher" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.NoSuchProcess:
            pass
    return found


def complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]
    return data.rstrip().endswith(b"</html>")


def test_run_killed_midway_leaves_only_whole_reports_and_the_rerun_finishes(tmp_path):
    b = bank(tmp_path)
    cmd = [sys.executable, "-m", "branchbook.cli", "run", *cli_args(b), "--reports", "segmentation"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    manifest = b["out"] / PERIOD / "manifest.json"
    deadline = time.time() + 300
    while time.time() < deadline and not manifest.exists():
        time.sleep(0.2)
    assert manifest.exists(), "no report finished in time"
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait()
    time.sleep(3)  # kernels notice their parent is gone and exit
    for path in (b["out"] / PERIOD).rglob("*"):
        if path.suffix in (".html", ".pdf"):
            assert complete(path), path
        # a write the kill interrupted leaves only its hidden temporary, never a part file
        assert not path.name.endswith(".tmp") or path.name.startswith("."), path
    json.loads(manifest.read_text())  # still valid JSON
    # the kill can land inside a write: what that leaves (the killed run's pid is gone)
    half = manifest.with_name(f".manifest.json.{proc.pid}.x7k2m9q1.tmp")
    half.write_text('{"period": "2026-')
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    entries = json.loads(manifest.read_text())["reports"]
    assert all(e["status"] == "ok" for e in entries.values()) and len(entries) == 3
    leftovers = [p for p in (b["out"] / PERIOD).rglob("*") if ".tmp" in p.name]
    assert leftovers == []  # the rerun removed any temporary the killed run left


def test_sigterm_stops_the_run_and_its_kernels(tmp_path):
    b = bank(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "branchbook.cli",
        "run",
        *cli_args(b),
        "--reports",
        "segmentation",
        "--formats",
        "html",
    ]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    me = psutil.Process(proc.pid)
    deadline = time.time() + 120
    while time.time() < deadline and not kernels_of(me):
        time.sleep(0.1)
    kernels = kernels_of(me)
    assert kernels, "no kernel started"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert "terminated" in err
    gone, alive = psutil.wait_procs(kernels, timeout=10)
    assert alive == []
    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]


KILL_CELL = """
import os, pathlib, signal
_flag = pathlib.Path(build_dir) / f"died-once-{branch_id}"
if branch_id == "0101" and not _flag.exists():
    _flag.touch()
    os.kill(os.getpid(), signal.SIGKILL)
if branch_id == "0102":
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_kernel_is_retried_then_recorded_as_failed(tmp_path):
    b = bank(tmp_path)
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nb = nbformat.read(str(NOTEBOOK_DIR / "segmentation.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "open_report(" in c.source) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(KILL_CELL))
    nbformat.write(nb, str(nbdir / "segmentation.ipynb"))
    result = branchbook.run(
        **b, notebooks=nbdir, reports=["segmentation"], formats=("html",), progress=False
    )
    status = {k: e["status"] for k, e in result.entries.items()}
    assert status == {
        "0101/segmentation": "ok",
        "0102/segmentation": "failed",
        "0103/segmentation": "ok",
    }
    assert "DeadKernel" in result.entries["0102/segmentation"]["error"]
    assert result.exit_code == 1
    assert kernels_of(psutil.Process()) == []


def test_changing_one_branch_redoes_only_that_branch(tmp_path):
    b = bank(tmp_path)
    kw = dict(**b, reports=["segmentation"], formats=("html",), progress=False)
    first = branchbook.run(**kw)
    assert first.exit_code == 0
    stamp = {k: e["input_fingerprint"] for k, e in first.entries.items()}
    (b["params_dir"] / "branches" / "0102.yaml").write_text("segmentation:\n  action_rows: 5\n")
    second = branchbook.run(**kw)
    redone = sorted(k for k, e in second.entries.items() if not e.get("skipped_unchanged"))
    assert redone == ["0102/segmentation"]
    assert second.entries["0102/segmentation"]["input_fingerprint"] != stamp["0102/segmentation"]


HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"><a href="javascript:alert(2)">j</a><!-- c -->'


def test_hostile_text_in_the_data_renders_as_text(tmp_path):
    b = bank(tmp_path)
    con = duckdb.connect(str(b["warehouse"]))
    con.execute(
        "UPDATE branches SET name = ?, name_zh = ?, city = ? WHERE branch_id = '0101'",
        [HOSTILE, HOSTILE, HOSTILE],
    )
    con.execute(
        "UPDATE customers SET name = ?, industry = CASE WHEN industry IS NULL THEN NULL ELSE ? END "
        "WHERE branch_id = '0101'",
        [HOSTILE, HOSTILE],
    )
    con.execute("UPDATE staff SET name = ? WHERE branch_id = '0101'", [HOSTILE])
    con.close()
    result = branchbook.run(**b, branches=["0101"], formats=("html",), progress=False)
    assert result.exit_code == 0, [e["error"] for e in result.failed]
    pages = list((b["out"] / PERIOD).rglob("*.html")) + [b["out"] / "index.html"]
    assert len(pages) >= 3
    for page in pages:
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for tag in soup.find_all(True):
            assert not any(a.lower().startswith("on") for a in tag.attrs), (page, tag.name)
            for attr in ("href", "src"):
                assert not str(tag.get(attr, "")).lower().startswith("javascript:"), page
        scripts = soup.find_all("script")
        assert all('alert("x")' not in s.get_text() for s in scripts), page
        assert not soup.find("img", src="x")


def test_a_branch_sees_only_its_own_customers_and_staff(tmp_path):
    b = bank(tmp_path)
    con = duckdb.connect(str(b["warehouse"]))
    con.execute("UPDATE staff SET name = 'MARKERSTAFF' || staff_id WHERE branch_id = '0102'")
    con.execute("UPDATE customers SET customer_id = customer_id WHERE branch_id = '0102'")
    ids = [
        r[0]
        for r in con.execute(
            "SELECT customer_id FROM customers WHERE branch_id = '0102'"
        ).fetchall()
    ]
    con.close()
    result = branchbook.run(**b, formats=("html",), progress=False)
    assert result.exit_code == 0, [e["error"] for e in result.failed]
    seen_own = False
    for page in (b["out"] / PERIOD).rglob("*.html"):
        text = page.read_text()
        own = page.parent.name == "0102"
        if own:
            seen_own = seen_own or "MARKERSTAFF" in text
        else:
            assert "MARKERSTAFF" not in text, page
            assert not any(cid in text for cid in ids), page
    if "staff_kpi" in registry():
        assert seen_own, "the staff marker should appear in its own branch's staff report"


def test_empty_and_thin_branches_render_complete_reports(tmp_path):
    """0102: no customers at all (and so nothing else); 0103: no surveys, complaints or loans."""
    b = bank(tmp_path)
    con = duckdb.connect(str(b["warehouse"]))
    gone = "SELECT customer_id FROM customers WHERE branch_id = '0102'"
    for table in (
        "balances", "transactions", "financials", "aml_alerts", "kyc_history",
        "customer_branch_history", "holdings", "contacts",
    ):  # fmt: skip
        con.execute(f"DELETE FROM {table} WHERE customer_id IN ({gone})")
    con.execute(
        "DELETE FROM loan_snapshots WHERE loan_id IN (SELECT loan_id FROM loans WHERE branch_id = '0102')"
    )
    for table in ("loans", "surveys", "complaints"):
        con.execute(f"DELETE FROM {table} WHERE branch_id = '0102'")
    con.execute("DELETE FROM customers WHERE branch_id = '0102'")
    con.execute(
        "DELETE FROM loan_snapshots WHERE loan_id IN (SELECT loan_id FROM loans WHERE branch_id = '0103')"
    )
    for table in ("loans", "surveys", "complaints"):
        con.execute(f"DELETE FROM {table} WHERE branch_id = '0103'")
    con.execute(
        "UPDATE balances SET loans_outstanding = 0 WHERE customer_id IN "
        "(SELECT customer_id FROM customers WHERE branch_id = '0103')"
    )
    con.close()
    result = branchbook.run(**b, formats=("html",), progress=False)
    assert result.exit_code == 0, [
        (k, e["error"]) for k, e in result.entries.items() if e["status"] != "ok"
    ]
    for bid in ("0102", "0103"):
        for name in registry():
            soup = BeautifulSoup(
                (b["out"] / PERIOD / bid / f"{name}.html").read_text(), "html.parser"
            )
            assert soup.select(".bb-summary li"), (bid, name)
            assert soup.select(".bb-definitions"), (bid, name)
            assert "nan" not in soup.get_text().split(), (bid, name)
