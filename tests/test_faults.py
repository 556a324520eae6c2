"""Faults in one report never stop the others, never publish, never hide.

A copy of the segmentation notebook with a planted fault for one branch: a cell
error for 0102, a hang for 0103 (stopped by the report time limit).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

import branchbook
from branchbook import demo
from branchbook.reports import NOTEBOOK_DIR

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]

FAULT = """
if branch_id == "0102":
    raise RuntimeError("planted failure")
if branch_id == "0103":
    import time
    time.sleep(600)
"""


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    nbdir = base / "notebooks"
    nbdir.mkdir()
    nb = nbformat.read(str(NOTEBOOK_DIR / "segmentation.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "open_report(" in c.source) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell(FAULT))
    nbformat.write(nb, str(nbdir / "segmentation.ipynb"))
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    text = (ROOT / "params" / "bank.yaml").read_text()
    text = text.replace("report_timeout_s: 600", "report_timeout_s: 20")
    (params / "bank.yaml").write_text(text)
    wh = base / "wh.duckdb"
    demo.build(wh, branches=3, customers=1_500, months=13, seed=11)
    kw = dict(
        warehouse=wh,
        params_dir=params,
        build_dir=base / "build",
        out=base / "reports",
        notebooks=nbdir,
        reports=["segmentation"],
        formats=("html",),
        progress=False,
    )
    # a first good run for 0102, so there is a previous report to keep
    good = base / "good"
    good.mkdir()
    shutil.copy(NOTEBOOK_DIR / "segmentation.ipynb", good / "segmentation.ipynb")
    first = branchbook.run(branches=["0102"], **{**kw, "notebooks": good})
    assert first.exit_code == 0
    before = (base / "reports" / "2026-10" / "0102" / "segmentation.html").read_bytes()
    result = branchbook.run(**kw)
    return {"base": base, "result": result, "before": before}


def test_the_run_goes_on_and_exits_non_zero(faulty):
    result = faulty["result"]
    assert result.exit_code == 1
    status = {k: e["status"] for k, e in result.entries.items()}
    assert status == {
        "0101/segmentation": "ok",
        "0102/segmentation": "failed",
        "0103/segmentation": "failed",
    }


def test_cell_error_is_recorded_with_the_cell(faulty):
    entry = faulty["result"].entries["0102/segmentation"]
    assert "RuntimeError: planted failure" in entry["error"]
    assert entry["error"].startswith("cell ")
    manifest = json.loads((faulty["base"] / "reports" / "2026-10" / "manifest.json").read_text())
    assert manifest["reports"]["0102/segmentation"]["error"] == entry["error"]


def test_previous_good_report_stays_and_evidence_is_kept(faulty):
    base = faulty["base"]
    assert (base / "reports" / "2026-10" / "0102" / "segmentation.html").read_bytes() == faulty[
        "before"
    ]
    evidence = base / "build" / "2026-10" / "executed" / "0102" / "segmentation.failed.ipynb"
    nb = nbformat.read(str(evidence), as_version=4)
    assert any(
        o.get("output_type") == "error"
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


def test_a_hanging_report_is_stopped_at_the_time_limit(faulty):
    entry = faulty["result"].entries["0103/segmentation"]
    assert "time limit of 20 s" in entry["error"]
    assert entry["duration_s"] < 60
    assert not (faulty["base"] / "reports" / "2026-10" / "0103" / "segmentation.html").exists()


def test_no_kernel_is_left_running(faulty):
    import psutil

    kids = psutil.Process().children(recursive=True)
    kernels = [p for p in kids if "ipykernel" in " ".join(p.cmdline())]
    assert kernels == []
