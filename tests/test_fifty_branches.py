"""One branch of fifty fails: forty-nine publish, the manifest and the index say so.

One run of the cheapest report (segmentation, HTML only) for a 50-branch warehouse,
with a copy of the notebook that fails for one branch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import nbformat
import pytest
from bs4 import BeautifulSoup

import branchbook
from branchbook import demo
from branchbook.reports import NOTEBOOK_DIR

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def fifty(tmp_path_factory):
    base = tmp_path_factory.mktemp("fifty")
    wh = demo.build(base / "wh.duckdb", branches=50, customers=50 * 150, months=13, seed=23)
    with duckdb.connect(str(wh), read_only=True) as con:
        ids = [r[0] for r in con.execute("SELECT branch_id FROM branches ORDER BY 1").fetchall()]
    bad = ids[len(ids) // 2]  # one in the middle: not the first or last to run
    nbdir = base / "notebooks"
    nbdir.mkdir()
    nb = nbformat.read(str(NOTEBOOK_DIR / "segmentation.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "open_report(" in c.source) + 1
    fault = f'if branch_id == "{bad}":\n    raise RuntimeError("planted failure for one branch")\n'
    nb.cells.insert(at, nbformat.v4.new_code_cell(fault))
    nbformat.write(nb, str(nbdir / "segmentation.ipynb"))
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "bank.yaml", params / "bank.yaml")
    result = branchbook.run(
        warehouse=wh,
        params_dir=params,
        build_dir=base / "build",
        out=base / "reports",
        notebooks=nbdir,
        reports=["segmentation"],
        formats=("html",),
        workers=2,
        progress=False,
    )
    return {"base": base, "ids": ids, "bad": bad, "result": result}


def test_the_result_and_the_manifest_say_49_ok_and_1_failed(fifty):
    ids, bad, result = fifty["ids"], fifty["bad"], fifty["result"]
    assert len(ids) == 50
    assert result.exit_code == 1
    status = {k: e["status"] for k, e in result.entries.items()}
    assert status == {f"{b}/segmentation": "failed" if b == bad else "ok" for b in ids}
    assert [e["branch_id"] for e in result.failed] == [bad]
    assert "RuntimeError: planted failure for one branch" in result.failed[0]["error"]
    manifest = json.loads((fifty["base"] / "reports" / PERIOD / "manifest.json").read_text())
    assert {k: e["status"] for k, e in manifest["reports"].items()} == status
    assert manifest["reports"][f"{bad}/segmentation"]["error"] == result.failed[0]["error"]


def test_49_reports_are_published_and_the_failed_one_is_not(fifty):
    period = fifty["base"] / "reports" / PERIOD
    published = sorted(p.parent.name for p in period.glob("*/segmentation.html"))
    assert published == [b for b in fifty["ids"] if b != fifty["bad"]]
    assert not (period / fifty["bad"] / "segmentation.html").exists()
    assert (
        fifty["base"] / "build" / PERIOD / "executed" / fifty["bad"] / "segmentation.failed.ipynb"
    ).is_file()


def test_the_index_shows_the_failed_branch(fifty):
    period = fifty["base"] / "reports" / PERIOD
    soup = BeautifulSoup((period / "index.html").read_text(encoding="utf-8"), "html.parser")
    rows = {tr.find("td").get_text(strip=True): tr for tr in soup.select("tbody tr")}
    assert sorted(rows) == fifty["ids"]
    for bid, tr in rows.items():
        cell = tr.select_one('td.bb-cell[data-report="segmentation"]')
        badge = cell.select_one(".bb-badge").get_text(strip=True)
        links = [a["href"] for a in cell.select("a")]
        if bid == fifty["bad"]:
            assert "bb-st-failed" in cell["class"], bid
            assert badge == "Failed"
            assert (
                "RuntimeError: planted failure for one branch"
                in cell.select_one(".bb-error").get_text()
            )
            assert links == []
            assert "failed" in tr["data-status"].split()
        else:
            assert "bb-st-ok" in cell["class"], bid
            assert badge == "Published"
            assert cell.select_one(".bb-error") is None
            # the report and its action-list workbook
            assert links == [f"{bid}/segmentation.html", f"{bid}/segmentation.xlsx"]
            assert (period / links[0]).is_file()
            assert "failed" not in tr["data-status"].split()
    summary = soup.select_one(".bb-index-summary").get_text(" ", strip=True)
    assert summary.startswith("49 of 200 reports published, 1 failed.")  # 50 branches x 4 reports
