"""The notebooks: stored clean, thin, in step with their text twins, runnable as-is."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import jupytext
import nbformat
import pytest

from branchbook.reports import NOTEBOOK_DIR, REPORTS, registry

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = [NOTEBOOK_DIR / f"{name}.ipynb" for name in REPORTS]
PARAMETER_NAMES = [
    "branch_id",
    "period",
    "locale",
    "scope",
    "settings",
    "common",
    "build_dir",
    "run_id",
]


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb_path(request) -> Path:
    return request.param


def test_every_report_has_a_notebook():
    assert {p.stem for p in NOTEBOOKS} == set(registry())


def test_stored_without_outputs(nb_path):
    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, nb_path


def test_one_parameters_cell_with_the_standard_names(nb_path):
    nb = nbformat.read(str(nb_path), as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = [t.targets[0].id for t in ast.parse(tagged[0].source).body]
    assert names == PARAMETER_NAMES


def test_no_functions_or_classes_in_notebooks(nb_path):
    nb = nbformat.read(str(nb_path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
            ), (
                nb_path,
                cell.source[:80],
            )


def test_text_twin_in_step(nb_path):
    twin = nb_path.with_suffix(".py")
    assert twin.is_file(), f"{twin} missing: jupytext --set-formats ipynb,py:percent {nb_path}"
    a = nbformat.read(str(nb_path), as_version=4)
    b = jupytext.read(str(twin))
    assert [(c.cell_type, c.source) for c in a.cells] == [(c.cell_type, c.source) for c in b.cells]


@pytest.fixture(scope="module")
def lab_root(small_bank) -> Path:
    """A bank folder as an analyst has it after ``make lab``: a small demo warehouse
    and its latest period prepared (a notebook never prepares one itself)."""
    return small_bank


@pytest.mark.slow
def test_notebook_runs_top_to_bottom_with_defaults(nb_path, tmp_path, lab_root):
    """What an analyst does in JupyterLab: open it and run all, no parameters given."""
    import papermill as pm

    os.environ["BRANCHBOOK_ROOT"] = str(lab_root)
    try:
        out = pm.execute_notebook(
            str(nb_path),
            str(tmp_path / "out.ipynb"),
            cwd=str(NOTEBOOK_DIR),
            kernel_name="python3",
            progress_bar=False,
        )
    finally:
        del os.environ["BRANCHBOOK_ROOT"]
    html = [
        o
        for c in out.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") == "display_data" and "text/html" in o.get("data", {})
    ]
    assert any("bb-title" in o["data"]["text/html"] for o in html)
    assert any("bb-provenance" in o["data"]["text/html"] for o in html)
    # the analyst sees the report's own styles inline; the published page leaves them out
    preview = [o for o in html if (o.get("metadata") or {}).get("branchbook", {}).get("preview")]
    assert len(preview) == 1 and ".bb-kpi" in preview[0]["data"]["text/html"]
    from branchbook.output.html import notebook_to_html

    page, _meta = notebook_to_html(out)
    assert "bb-preview" not in page and "bb-title" in page


def test_a_period_not_prepared_names_the_command(tmp_path):
    """A notebook opened before its period is prepared does not start the bank-wide
    prepare inside a kernel: it says which command does."""
    from branchbook.data import load
    from branchbook.errors import BranchbookError

    with pytest.raises(BranchbookError, match=r"branchbook prepare --period 2026-10"):
        load("2026-10", "0101", build_dir=tmp_path / "build")
