"""The index's headline numbers come from the prepared period through each report's
declared headline metric, and equal what the report's own KPI card shows: a branch's,
and a region's and the bank's (pooled from their branches' sums)."""

from __future__ import annotations

import json
import math

import nbformat
import pytest

from branchbook.metrics.headlines import headline_metric
from branchbook.output.html import notebook_to_html
from branchbook.reports import REPORTS, registry
from branchbook.runner.orchestrate import run

pytestmark = pytest.mark.slow


def test_every_report_declares_one_headline():
    registry()  # the packages declare their metrics when they load
    for name in REPORTS:
        metric = headline_metric(name)
        assert metric is not None and metric.report == name


def test_index_headlines_equal_the_cards(small_bank, tmp_path):
    result = run(
        "2026-10",
        branches=["0101", "0102"],
        formats=("html",),
        warehouse=small_bank / "build" / "demo" / "warehouse.duckdb",
        params_dir=small_bank / "params",
        build_dir=tmp_path / "build",
        out=tmp_path / "reports",
        progress=False,
        scopes=("branch", "region", "bank"),
    )
    assert result.exit_code == 0
    text = (tmp_path / "reports" / "2026-10" / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))
    folders = {key.split("/")[0] for key in manifest["reports"]}
    assert {"bank", "region-East"} <= folders  # the small bank's two branches are in East
    for key, entry in manifest["reports"].items():
        bid, report = key.split("/")
        [(kpi, item)] = entry["headline"].items()
        assert kpi == headline_metric(report).key
        executed = tmp_path / "build" / "2026-10" / "executed" / bid / f"{report}.ipynb"
        _page, meta = notebook_to_html(nbformat.read(str(executed), as_version=4))
        card = meta["headline"][kpi]
        if bid in ("bank", "region-East"):  # pooled: a number, never "n/a" on this bank
            assert item["value"] is not None, key
        if card["value"] is None:
            assert item["value"] is None
        else:
            assert math.isclose(item["value"], card["value"], rel_tol=1e-9), (key, item, card)
        assert item["status"] == card["status"], key
