"""Tests of the KPI cards: their declarations, values, bank medians, ranks and status."""

import math

import pandas as pd
import pytest

from branchbook import metrics
from branchbook import segmentation as sg

from .rows import S, bench_rows, kpi_rows


def test_the_cards_are_declared_once_in_card_order():
    assert [(m.key, m.kind, m.good) for m in sg.METRICS] == [
        ("customers", "int", "high"),
        ("aum_total", "money", "high"),
        ("top20_share", "pct", "low"),
        ("active_share", "pct", "high"),
        ("high_value_customers", "int", "high"),
        ("dormant_high_value_share", "pct", "low"),
        ("suitability_mismatches", "int", "low"),
        ("suitability_mismatch_share", "pct", "low"),
    ]
    # the index shows the report's first card, the customers
    assert [m.key for m in sg.METRICS if m.headline] == ["customers"]
    assert metrics.of_report("segmentation") == sg.METRICS
    assert all(metrics.get(m.key) is m for m in sg.METRICS)
    rows = kpi_rows()
    assert {m.key: m.compute(rows) for m in sg.METRICS} == sg.kpis(rows)


def test_kpis():
    got = sg.kpis(kpi_rows())
    assert set(got) == {m.key for m in sg.METRICS}
    assert got["customers"] == 5.0
    assert got["aum_total"] == 7_652_000.0  # 7,000,000 + 600,000 + 40,000 + 10,000 + 2,000
    assert got["top20_share"] == pytest.approx(7_000_000 / 7_652_000)  # ceil(0.2*5) = 1 customer
    assert got["active_share"] == pytest.approx(0.6)  # 3 of 5 not dormant
    assert got["high_value_customers"] == 2.0
    assert got["dormant_high_value_share"] == 0.5  # 1 of the 2 high-value customers


def test_bank_median_uses_the_period_only():
    assert sg.bank_median(bench_rows(), "active_share", "2026-10") == 0.6  # median of 0.6, 0.5, 0.9
    assert sg.bank_median(bench_rows(), "active_share", "2026-09") == 0.1
    assert math.isnan(sg.bank_median(bench_rows(), "active_share", "2020-01"))
    assert math.isnan(sg.bank_median(bench_rows(), "no_such_column", "2026-10"))


def test_kpi_table_change_median_rank_status():
    now = {**sg.kpis(kpi_rows())}
    before = {**now, "customers": 4.0, "active_share": 0.5}
    got = sg.kpi_table(
        now, before, bench=bench_rows(), branch_id="0101", period="2026-10", settings=S
    ).set_index("kpi")
    assert got.index.tolist() == [m.key for m in sg.METRICS]
    assert got.loc["customers", "change"] == 1.0 and got.loc[
        "customers", "change_rel"
    ] == pytest.approx(0.25)
    assert got.loc["active_share", "change"] == pytest.approx(0.1)
    assert got.loc["customers", "bank_median"] == 5.0  # median of 5, 10, 2
    # customers 5 against the other branches 10 and 2: one better -> rank 2 of 3
    assert (got.loc["customers", "rank"], got.loc["customers", "branches"]) == (2.0, 3.0)
    # active share 0.6 against 0.5 and 0.9 (higher is better): rank 2
    assert got.loc["active_share", "rank"] == 2.0
    # top-20 share 0.915 against 0.8 and 0.7 (lower is better): rank 3
    assert got.loc["top20_share", "rank"] == 3.0
    assert got.loc["top20_share", "status"] == "red"  # 0.915 > amber 0.90
    assert got.loc["active_share", "status"] == "green"  # 0.6 >= green 0.60
    assert got.loc["dormant_high_value_share", "status"] == "red"  # 0.5 > amber 0.25
    assert pd.isna(got.loc["customers", "status"])  # no thresholds
