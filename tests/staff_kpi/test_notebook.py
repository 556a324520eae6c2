"""The notebook's code on edge cases (run in-process, without a kernel)."""

from __future__ import annotations

import types
from pathlib import Path

import pandas as pd
import pytest

from branchbook import staff_kpi

from .tiny import (
    PERIOD,
    SMALL,
    _branch,
    _tables,
    approx,
)

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "staff_kpi.py"


def _contract_tables() -> dict[str, pd.DataFrame]:
    """The contract tables the notebook reads itself, as the extract holds them (with the
    routing ``branch_id``): the tiny bank's staff, and its managers' training (S2 has 40
    hours of the 80) and certifications (S1 and S2 hold the primary one)."""
    t = _tables()
    branch = t["staff"].set_index("staff_id")["branch_id"]
    training = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3"],
            "completed_on": pd.to_datetime(["2026-03-01", "2026-04-01", "2026-05-01"]),
            "hours": [90.0, 40.0, 80.0],
            "course": ["Credit risk"] * 3,
        }
    )
    certifications = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3"],
            "certification": ["primary", "primary", "primary"],
            "obtained_on": pd.to_datetime(["2016-01-01", "2017-01-01", "2018-01-01"]),
        }
    )
    return {
        "staff": t["staff"],
        "staff_training": training.assign(branch_id=training["staff_id"].map(branch)),
        "staff_certifications": certifications.assign(
            branch_id=certifications["staff_id"].map(branch)
        ),
    }


def _run_notebook(monkeypatch, prepared, branch, locale, settings=SMALL):
    """Run the notebook's code cells on the tiny bank's frames, without a kernel."""
    import jupytext

    from branchbook import context
    from branchbook.page import Page

    frames = {
        k: (v if k.startswith("bench_") else v[v["branch_id"] == branch])
        for k, v in {**_contract_tables(), **prepared}.items()
    }
    coverage = types.SimpleNamespace(shows=lambda section: True)
    data = types.SimpleNamespace(
        period=PERIOD,
        branch_id=branch,
        table=frames.__getitem__,
        bench=frames.__getitem__,
        coverage=coverage,
        org=types.SimpleNamespace(region={branch: "East"}),  # a branch: no league tables
        members=(branch,),
    )
    page = Page(
        report="staff_kpi",
        locale=locale,
        bank_name="Bank",
        period=PERIOD,
        branch={"branch_id": branch, "name": "Branch"},
        live=False,
    )
    rc = context.ReportContext("staff_kpi", data, settings, None, page)
    monkeypatch.setattr(context, "open_report", lambda *a, **k: rc)
    ns: dict = {}
    for cell in jupytext.read(NOTEBOOK).cells:
        if cell.cell_type == "code":
            exec(cell.source, ns)  # noqa: S102 - our own notebook
    # the action list's workbook link names the file (staff_kpi.xlsx): not a raw catalogue key
    return page.html().replace('href="staff_kpi.xlsx"', 'href="workbook.xlsx"')


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_notebook_runs_on_a_branch_of_two_managers(monkeypatch, prepared, locale):
    html = _run_notebook(monkeypatch, prepared, "0101", locale)
    for key in ("managers", "attainment", "scorecard", "scores", "ratings", "funnel", "trend"):
        assert f'id="sec-{key}"' in html
    assert "王伟" in html and "bb-provenance" in html
    # the development list names S2 (40 of 80 hours), not S1 (90 hours, primary held)
    listed = html[html.index('id="sec-development"') : html.index('id="sec-incentive"')]
    assert "40.00" in listed and "李娜" in listed
    assert listed.count("王伟") == 1  # in the full table, not in the list
    assert "staff_kpi." not in html  # no raw catalogue key reaches the reader
    if locale == "zh-CN":
        assert "Rating" not in html and "Composite" not in html


@pytest.mark.slow
def test_notebook_runs_on_a_branch_with_one_rated_manager_and_no_loans(monkeypatch, prepared):
    html = _run_notebook(monkeypatch, prepared, "0102", "en")
    assert "no NPL funnel" in html  # S3 has no loan book
    assert "张敏" in html and "刘洋" in html  # S4 shown, though not rated
    assert "staff_kpi." not in html


@pytest.mark.slow
def test_notebook_runs_on_an_empty_branch(monkeypatch, prepared):
    html = _run_notebook(monkeypatch, prepared, "0999", "en")
    assert "No customer manager holds customers or loans of this branch" in html
    assert "could be rated this month" in html  # the summary
    assert "bb-provenance" in html and "staff_kpi." not in html


def test_notebook_functions_read_the_parquet_extract(prepared, tmp_path):
    # the notebook reads the branch's extract back from Parquet: nullable columns change type
    d = {}
    for name, frame in _branch(prepared).items():
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
        d[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    sc, att = d["staff_scorecard"], d["staff_attainment"]
    assert staff_kpi.kpis(sc, att, month=PERIOD) == approx(
        staff_kpi.kpis(
            _branch(prepared)["staff_scorecard"],
            _branch(prepared)["staff_attainment"],
            month=PERIOD,
        )
    )
    facts = staff_kpi.summary_facts(
        sc,
        att,
        d["staff_funnel"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=0.05,
    )
    assert "staff_kpi.summary.veto" in dict(facts)
    assert staff_kpi.attainment_table(att, sc, month=PERIOD)["met"].tolist() == [1, 0]
    assert staff_kpi.incentive_table(sc, month=PERIOD, coefficients=SMALL.bonus_coefficients)[
        "bonus_coefficient"
    ].tolist() == [0.9, 0.9]
