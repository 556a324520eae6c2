"""The index's headline numbers: a KPI whose data the warehouse does not record, and a
region's and the bank's, pooled from their branches' sums (by hand on tiny frames)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from branchbook import risk, satisfaction, segmentation, staff_kpi
from branchbook.metrics.headlines import headlines
from branchbook.params import Rag
from branchbook.reports import registry
from branchbook.risk.metrics import SUM_COLUMNS
from branchbook.satisfaction.metrics import MONTHLY_COLUMNS
from branchbook.staff_kpi.metrics import SUM_COLUMNS as STAFF_SUMS


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


def npl_bench(name):
    """Two branches of region East, one of North, at 2026-10: NPL ratios 10% on 100,
    2% on 300 and 0% on 600 outstanding."""
    frames = {
        "bench_risk_kpis": pd.DataFrame(
            {"branch_id": ["1", "2", "3"], "month": ["2026-10"] * 3,
             **{k: [0.10, 0.02, 0.0] if k == "npl_ratio" else [0.0] * 3 for k in risk.KPI_KEYS},
             **{k: [0.0] * 3 for k in SUM_COLUMNS}}
        ),
        "bench_risk_trend": pd.DataFrame(
            {"branch_id": ["1", "2", "3"], "month": ["2026-10"] * 3,
             "loans": [10, 30, 60], "outstanding": [100.0, 300.0, 600.0],
             "npl_ratio": [0.10, 0.02, 0.0], "special_mention_ratio": [0.0, 0.01, 0.0]}
        ),
    }  # fmt: skip
    if name not in frames:
        raise OSError(name)
    return frames[name]


def test_a_regions_and_the_banks_headline_is_pooled_not_the_mean_of_their_branches():
    out = headlines(
        {"risk": risk},
        bench=npl_bench,
        branch_settings={"1": {}, "2": {}, "region-East": {}, "bank": {}},
        period="2026-10",
        locale="en",
        members={"region-East": ["1", "2"], "bank": ["1", "2", "3"]},
    )
    assert out["1/risk"]["npl_ratio"]["value"] == 0.10
    east = out["region-East/risk"]["npl_ratio"]
    assert east["value"] == pytest.approx((10 + 6) / 400)  # 4.0%: NPL over outstanding
    assert east["value"] != pytest.approx((0.10 + 0.02) / 2)  # not 6.0%, the branches' mean
    assert east["text"] == "4.0%" and east["label"] == "NPL ratio"
    assert out["bank/risk"]["npl_ratio"]["value"] == pytest.approx(16 / 1000)


def test_a_scopes_headline_takes_the_status_of_its_own_thresholds():
    rules = {"npl_ratio": Rag(good="low", green=0.02, amber=0.05)}
    out = headlines(
        {"risk": risk},
        bench=npl_bench,
        branch_settings={"region-East": {"risk": SimpleNamespace(kpi_status=rules)}},
        period="2026-10",
        locale="en",
        members={"region-East": ["1", "2"]},
    )
    assert out["region-East/risk"]["npl_ratio"]["status"] == "amber"  # 4.0%


def test_a_scope_of_a_report_that_cannot_pool_its_headline_reads_n_a():
    out = headlines(
        {"risk": SimpleNamespace(unit_kpis=risk.unit_kpis)},  # no pooled_kpis
        bench=npl_bench,
        branch_settings={"1": {}, "bank": {}},
        period="2026-10",
        locale="en",
        members={"bank": ["1", "2", "3"]},
    )
    assert out["1/risk"]["npl_ratio"]["value"] == 0.10
    bank = out["bank/risk"]["npl_ratio"]
    assert bank["value"] is None and bank["status"] == "none"


def test_each_reports_pooled_kpis_add_the_sums_then_divide():
    seg = pd.DataFrame(
        {"branch_id": ["1", "2", "3"], "period": ["2026-10"] * 3,
         "customers": [10.0, 20.0, 40.0], "aum_total": [1.0, 2.0, 4.0],
         "high_value_customers": [2.0, 4.0, 8.0], "dormant_high_value": [1.0, 2.0, 8.0],
         "active_share": [0.5, 1.0, 0.0], "suitability_mismatches": [1.0, 1.0, 0.0],
         "suitability_holders": [2.0, 8.0, 0.0]}
    )  # fmt: skip
    got = segmentation.pooled_kpis(lambda _: seg, {"1": "E", "2": "E", "3": "N"})
    east = got.set_index("unit").loc["E"]
    assert east["customers"] == 30.0 and east["aum_total"] == 3.0
    assert east["active_share"] == pytest.approx(25 / 30)  # not (0.5 + 1.0) / 2
    assert east["dormant_high_value_share"] == pytest.approx(3 / 6)
    assert east["suitability_mismatch_share"] == pytest.approx(2 / 10)  # not (0.5 + 0.125) / 2
    staff = pd.DataFrame(
        {**{k: [0.0, 0.0] for k in STAFF_SUMS}, "branch_id": ["1", "2"], "month": ["2026-10"] * 2,
         "comp_sum": [120.0, 70.0], "comp_n": [3.0, 1.0]}
    )  # fmt: skip
    got = staff_kpi.pooled_kpis(lambda _: staff, {"1": "E", "2": "E"})
    assert got["composite_mean"].iloc[0] == pytest.approx(47.5)  # not 55: over managers
    sums = dict.fromkeys(MONTHLY_COLUMNS[2:], [0.0, 0.0])
    monthly = pd.DataFrame(
        {**sums, "branch_id": ["1", "2"], "month": ["2026-10"] * 2,
         "csat_n": [10.0, 30.0], "csat_sum": [1000.0, 1800.0]}
    )  # fmt: skip
    window = SimpleNamespace(score_window_months=1)
    got = satisfaction.pooled_kpis(lambda _: monthly, {"1": "E", "2": "E"}, window)
    assert got["csat_mean"].iloc[0] == pytest.approx(2800 / 40)  # 70, not (100 + 60) / 2
