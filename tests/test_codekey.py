"""Reruns follow the seams: an edit changes the key of exactly the reports it reaches."""

import shutil

import pytest

from branchbook import codekey
from branchbook.reports import NOTEBOOK_DIR, REPORTS


def keys(root):
    return {
        r: codekey.report_code(r, m, NOTEBOOK_DIR / f"{r}.ipynb", root) for r, m in REPORTS.items()
    }


@pytest.fixture
def package(tmp_path):
    root = tmp_path / "branchbook"
    shutil.copytree(codekey.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_same_code_same_keys(package):
    assert keys(package) == keys(codekey.PACKAGE_DIR)


@pytest.mark.parametrize(
    "edit, changed",
    [
        ("locales/en/risk.yaml", {"risk"}),  # one label in one catalogue
        ("locales/zh-CN/staff_kpi.yaml", {"staff_kpi"}),
        ("segmentation/views.py", {"segmentation"}),
        ("risk/scorecard.py", {"risk"}),
        # segmentation's lifetime value reads the churn scores satisfaction prepares
        ("satisfaction/churn_model.py", {"satisfaction", "segmentation"}),
        ("satisfaction/views.py", {"satisfaction"}),  # the page only: no prepared table
        ("page.py", set(REPORTS)),  # shared by every report
        ("locales/en/common.yaml", set(REPORTS)),
        ("templates/report.css", set(REPORTS)),
        # the branch pack's own files: the pack is made again, no report
        ("templates/pack.html.j2", set()),
        ("templates/pack.css", set()),
        ("output/pack.py", set()),
    ],
)
def test_an_edit_changes_only_the_reports_it_reaches(package, edit, changed):
    before = keys(package)
    path = package / edit
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = keys(package)
    assert {r for r in REPORTS if before[r] != after[r]} == changed


@pytest.mark.parametrize(
    "edit, changed",
    [
        ("templates/pack.html.j2", True),
        ("templates/pack.css", True),
        ("output/pack.py", True),
        ("templates/report.css", True),  # the cover is printed with the report's styles
        ("locales/en/common.yaml", True),
        ("locales/en/risk.yaml", False),
        ("risk/scorecard.py", False),
    ],
)
def test_the_packs_key_follows_its_own_files(package, edit, changed):
    before = codekey.pack_code(package)
    path = package / edit
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert (codekey.pack_code(package) != before) is changed


def test_prepare_keys_follow_the_report_packages(package):
    before = {m: codekey.prepare_code(m, package) for m in REPORTS.values()}
    (package / "risk" / "binning.py").write_text(
        (package / "risk" / "binning.py").read_text() + "\n# edited\n"
    )
    after = {m: codekey.prepare_code(m, package) for m in REPORTS.values()}
    assert {m for m in before if before[m] != after[m]} == {"branchbook.risk"}
    assert codekey.extracts_code(package) == codekey.extracts_code(codekey.PACKAGE_DIR)


def test_imports_are_read_not_run():
    found = codekey._imports(
        "from . import fmt\nfrom .metrics import Metric\nimport branchbook.period\n"
        "def f():\n    from .runner import run\n",
        "branchbook.page",
        False,
    )
    assert found >= {"branchbook.fmt", "branchbook.metrics", "branchbook.period"}
    assert "branchbook.runner" not in found  # inside a function: not a dependency


def test_the_key_does_not_depend_on_where_the_package_lies(tmp_path):
    """The notebook lies outside the package: its place in the hash must not depend on
    how the two folders' paths sort (a copy under another root gave other keys)."""
    for parent in ("a", "zz"):
        root = tmp_path / parent / "branchbook"
        shutil.copytree(codekey.PACKAGE_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert keys(tmp_path / "a" / "branchbook") == keys(tmp_path / "zz" / "branchbook")
    assert keys(tmp_path / "a" / "branchbook") == keys(codekey.PACKAGE_DIR)


def test_the_shared_step_joins_every_reports_prepare_key(package):
    """An edit in the shared tables of prepare redoes every report's models (they all
    read them), and cuts no extract again."""
    before = {m: codekey.prepare_code(m, package) for m in REPORTS.values()}
    extracts = codekey.extracts_code(package)
    path = package / "metrics" / "shared.py"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = {m: codekey.prepare_code(m, package) for m in REPORTS.values()}
    assert {m for m in before if before[m] != after[m]} == set(REPORTS.values())
    assert codekey.extracts_code(package) == extracts


@pytest.mark.parametrize(
    "edit, changed",
    [
        ("satisfaction/churn_model.py", {"branchbook.satisfaction", "branchbook.segmentation"}),
        ("satisfaction/churn_risk.py", {"branchbook.satisfaction", "branchbook.segmentation"}),
        ("risk/binning.py", {"branchbook.risk"}),
    ],
)
def test_a_report_reading_anothers_prepared_tables_follows_their_code(package, edit, changed):
    """The segmentation report reads satisfaction's churn scores as data: an edit to the
    churn model redoes segmentation's models (prepare key) and pages (report key); an
    edit to a risk-only module does neither."""
    before = {m: codekey.prepare_code(m, package) for m in REPORTS.values()}
    pages = keys(package)
    path = package / edit
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = {m: codekey.prepare_code(m, package) for m in REPORTS.values()}
    assert {m for m in before if before[m] != after[m]} == changed
    now = keys(package)
    assert {REPORTS[r] for r in REPORTS if pages[r] != now[r]} == changed


def test_the_reads_are_declared_in_the_reading_package():
    reads = codekey.prepared_reads("branchbook.segmentation")
    assert reads == {
        "satisfaction": ("satisfaction_churn_risk", "bench_satisfaction_churn_validation")
    }
    assert codekey.producers("branchbook.segmentation") == ["branchbook.satisfaction.prepare"]
    assert codekey.prepared_reads("branchbook.risk") == {}


def test_prepare_makes_the_tables_a_report_reads_first(package):
    assert codekey.prepare_order(REPORTS) == ["risk", "satisfaction", "segmentation", "staff_kpi"]
    assert codekey.prepare_order(["segmentation", "satisfaction"]) == [
        "satisfaction",
        "segmentation",
    ]
    # a report that reads nothing keeps its place
    assert codekey.prepare_order(["risk", "staff_kpi"]) == ["risk", "staff_kpi"]
    # a cycle, and an unknown report, are named
    path = package / "satisfaction" / "settings.py"
    path.write_text(
        path.read_text(encoding="utf-8") + '\nREADS_PREPARED = {"segmentation": ("x",)}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="segmentation, satisfaction"):
        codekey.prepare_order(["segmentation", "satisfaction"], package)
    path.write_text(
        path.read_text(encoding="utf-8") + '\nREADS_PREPARED = {"loans_report": ("x",)}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="unknown report.*loans_report"):
        codekey.prepared_reads("branchbook.satisfaction", package)
