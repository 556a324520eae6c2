"""The report registry: declared in the package, never found by reading a folder."""

import shutil

import pytest

from branchbook import reports
from branchbook.errors import BranchbookError


def test_the_four_reports_in_the_house_order():
    assert list(reports.registry()) == ["segmentation", "risk", "satisfaction", "staff_kpi"]
    for name, spec in reports.registry().items():
        assert spec.module.REPORT == name and spec.notebook.name == f"{name}.ipynb"
        assert spec.settings is spec.module.Settings
    assert set(reports.settings_classes()) == set(reports.REPORTS)


def test_stray_notebooks_are_not_reports(tmp_path):
    """What JupyterLab leaves in the folder is never taken for a report."""
    for name in reports.REPORTS:
        shutil.copy(reports.NOTEBOOK_DIR / f"{name}.ipynb", tmp_path)
    (tmp_path / "Untitled.ipynb").write_text("not even json")
    shutil.copy(tmp_path / "segmentation.ipynb", tmp_path / "segmentation-Copy1.ipynb")
    assert list(reports.registry(tmp_path)) == list(reports.REPORTS)
    assert [s.name for s in reports.select(None, tmp_path)] == list(reports.REPORTS)


def test_a_missing_notebook_or_unknown_report_is_named(tmp_path):
    assert reports.registry(tmp_path) == {}  # another folder may hold some reports only
    with pytest.raises(BranchbookError, match="report 'segmentation': notebook .* not found"):
        reports.select(["segmentation"], tmp_path)
    with pytest.raises(BranchbookError, match="expected to be one of"):
        reports.select(["segmentation", "nosuch"])


def test_module_names_need_no_import():
    assert reports.module_names(["risk"]) == ["branchbook.risk"]
    assert reports.module_names(None) == list(reports.REPORTS.values())
