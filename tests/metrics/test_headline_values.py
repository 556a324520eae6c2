"""The index's headline of a KPI whose data the warehouse does not record."""

from __future__ import annotations

from types import SimpleNamespace

from branchbook.metrics.headlines import headlines
from branchbook.reports import registry


def test_a_headline_not_recorded_has_no_value_and_no_status():
    registry()  # the report packages declare their metrics on import

    def unit_kpis(bench, settings):  # never read: there is nothing recorded to read
        raise AssertionError("unit_kpis read for a headline that is not recorded")

    for locale, text in (("en", "Not recorded"), ("zh-CN", "未记录")):
        out = headlines(
            {"satisfaction": SimpleNamespace(unit_kpis=unit_kpis)},
            bench=lambda name: None,
            branch_settings={"0101": {}, "0102": {}},
            period="2026-10",
            locale=locale,
            not_recorded={"csat_mean"},
        )
        assert set(out) == {"0101/satisfaction", "0102/satisfaction"}
        item = out["0101/satisfaction"]["csat_mean"]
        assert item["value"] is None and item["text"] == text and item["status"] == "none"
