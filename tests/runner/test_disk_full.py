"""The disk fills up while a report is written: nothing half-written, a clear message.

A first good run publishes 0101's segmentation report. Then ``os.write`` is made to
fail with ENOSPC (after writing half of what it was given, as a full disk does) for
files in one folder, and a forced rerun runs for real: once for the report folder
(the HTML/PDF publish), once for the executed-notebook folder (papermill's saves).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import nbformat
import pytest

import branchbook
from branchbook import demo

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    base = tmp_path_factory.mktemp("diskfull").resolve()
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    (params / "bank.yaml").write_text((ROOT / "params" / "bank.yaml").read_text())
    wh = base / "wh.duckdb"
    demo.build(wh, branches=2, customers=1_000, months=13, seed=13)
    kw = dict(
        warehouse=wh,
        params_dir=params,
        build_dir=base / "build",
        out=base / "reports",
        branches=["0101"],
        reports=["segmentation"],
        formats=("html", "pdf"),
        progress=False,
    )
    first = branchbook.run(**kw)
    assert first.exit_code == 0
    folder = base / "reports" / PERIOD / "0101"
    executed = base / "build" / PERIOD / "executed" / "0101" / "segmentation.ipynb"
    before = {
        "html": (folder / "segmentation.html").read_bytes(),
        "pdf": (folder / "segmentation.pdf").read_bytes(),
    }
    return {"base": base, "kw": kw, "before": before, "folder": folder, "executed": executed}


def disk_full_in(monkeypatch, folder: Path, *, after: int = 0) -> dict:
    """From the ``after + 1``-th write into ``folder`` on, write half and raise ENOSPC."""
    real_write = os.write
    folder_text = str(folder.resolve()) + os.sep
    seen = {"writes": 0, "failed": 0}

    def write(fd, data):
        try:
            where = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            where = ""
        if where.startswith(folder_text):
            seen["writes"] += 1
            if seen["writes"] > after:
                seen["failed"] += 1
                real_write(fd, bytes(memoryview(data)[: len(data) // 2]))
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return seen


def leftovers(base: Path) -> list[Path]:
    """Temporary files and folders anywhere under the run's folders."""
    return [
        p
        for p in base.rglob("*")
        if p.name.endswith(".tmp") or ".tmp-" in p.name or p.name.endswith(".running.ipynb")
    ]


def manifest_entry(base: Path) -> dict:
    data = json.loads((base / "reports" / PERIOD / "manifest.json").read_text())
    return data["reports"]["0101/segmentation"]


@pytest.mark.parametrize("full_at", ["html", "pdf"])
def test_disk_full_while_publishing_html_and_pdf(published, monkeypatch, capsys, full_at):
    """Full on the HTML, or only on the PDF after the HTML fitted: in both cases the
    previous pair stays (a new HTML never sits next to an old PDF)."""
    base, before = published["base"], published["before"]
    seen = disk_full_in(monkeypatch, published["folder"], after=0 if full_at == "html" else 1)
    result = branchbook.run(**published["kw"], force=True)
    monkeypatch.undo()
    assert seen["failed"] >= 1  # the fault really hit a write
    assert result.exit_code == 1
    entry = result.entries["0101/segmentation"]
    html = published["folder"] / "segmentation.html"
    full = published["folder"] / f"segmentation.{full_at}"
    assert entry["status"] == "failed"
    assert entry["error"] == f"No space left on the device while writing {full}"
    assert manifest_entry(base)["error"] == entry["error"]
    assert manifest_entry(base)["status"] == "failed"
    assert f"FAILED 0101 segmentation: No space left on the device while writing {full}" in (
        capsys.readouterr().err
    )
    # the previous good pair is untouched, nothing temporary is left anywhere
    assert html.read_bytes() == before["html"]
    assert (published["folder"] / "segmentation.pdf").read_bytes() == before["pdf"]
    assert sorted(p.name for p in published["folder"].iterdir()) == [
        "segmentation.html",
        "segmentation.pdf",
        "segmentation.xlsx",  # its action lists, published with the pair
    ]
    assert leftovers(base) == []


def test_disk_full_while_papermill_saves_the_notebook(published, monkeypatch):
    base, before = published["base"], published["before"]
    executed = published["executed"]
    last_good = executed.read_bytes()
    # papermill saves the notebook when it starts, then (the runner's engine) when a
    # cell fails, every 30 s and at the end: let the first save through
    seen = disk_full_in(monkeypatch, executed.parent, after=1)
    result = branchbook.run(**published["kw"], force=True)
    monkeypatch.undo()
    assert seen["failed"] >= 1
    assert result.exit_code == 1
    entry = result.entries["0101/segmentation"]
    running = executed.with_suffix(".running.ipynb")
    assert entry["status"] == "failed"
    assert f"No space left on the device while writing {running}" in entry["error"]
    assert manifest_entry(base)["error"] == entry["error"]
    # published files and the last good executed notebook are as they were
    folder = published["folder"]
    assert (folder / "segmentation.html").read_bytes() == before["html"]
    assert (folder / "segmentation.pdf").read_bytes() == before["pdf"]
    assert executed.read_bytes() == last_good
    # the evidence is the last save that fitted: a whole notebook, not a truncated one
    failed = executed.with_suffix(".failed.ipynb")
    nb = nbformat.read(str(failed), as_version=4)
    assert nb.cells and nb.metadata["papermill"]["output_path"] == str(running)
    assert leftovers(base) == []
