"""A run refuses bad input before anything starts; its result says what the exit is."""

from __future__ import annotations

import pytest

import branchbook
from branchbook.errors import ParamsError
from branchbook.runner import orchestrate


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"formats": ["pdf"]}, "formats is expected to include html"),
        ({"formats": ["html", "docx"]}, "formats is expected to include html"),
        ({"executor": "spark"}, "executor is expected to be 'local' or 'dask'"),
        ({"branches": []}, "an empty list selects nothing"),
        ({"branches": ["01/01"]}, "branch id '01/01' is not allowed"),
        ({"locales": ["zh-CN", "fr"]}, r"locales: expected one or more of \(en, zh-CN\)"),
        ({"locales": ["en", "en"]}, r"got 'en,en' \('en' given twice\)"),
        ({"locales": []}, r"got '' \(empty\)"),
        (
            {"scopes": "branch,district"},
            r"scopes is expected to be some of \(branch, region, bank\). Got 'district' instead.",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_runs(tmp_path, kwargs, message):
    with pytest.raises(ParamsError, match=message):
        branchbook.run(period="2026-10", out=tmp_path / "out", build_dir=tmp_path, **kwargs)
    assert not (tmp_path / "out").exists()


def test_dask_needs_a_scheduler(tmp_path, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(ParamsError, match="--scheduler"):
        orchestrate.run(executor="dask", out=tmp_path, build_dir=tmp_path)


def test_the_exit_code_is_one_when_a_report_failed():
    result = orchestrate.RunResult(period="2026-10", run_id="r")
    result.entries["0101/risk"] = {"status": "ok"}
    assert result.exit_code == orchestrate.EXIT_OK and result.failed == []
    result.entries["0102/risk"] = {"status": "failed"}
    assert result.exit_code == orchestrate.EXIT_FAILED
    assert result.failed == [{"status": "failed"}]


def test_a_failure_in_another_locale_is_named_with_it():
    entry = {"branch_id": "0101", "report": "risk", "locale": "en", "stem": "risk.en"}
    assert orchestrate.failed_name(entry) == "0101 risk (en)"
    assert orchestrate.failed_name({"branch_id": "0101", "report": "risk"}) == "0101 risk"
