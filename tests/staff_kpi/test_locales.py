"""The report's catalogues in both locales."""

from __future__ import annotations

import re

from branchbook import staff_kpi

from .tiny import (
    _catalogue,
    _placeholders,
)


def test_catalogues_hold_the_same_keys_and_placeholders():
    en, zh = _catalogue("en"), _catalogue("zh-CN")
    assert set(en) == set(zh)
    assert all(k.startswith("staff_kpi.") for k in en)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(zh[key]), key
        for spec in re.findall(r"\{\w+:(\w+)\}", en[key] + zh[key]):
            assert spec in {
                "pct",
                "money",
                "int",
                "num",
                "text",
                "delta_pct",
                "delta",
                "month",
                "date",
            }


def test_catalogue_covers_definitions_kpis_columns_and_values():
    en = _catalogue("en")
    assert set(staff_kpi.DEFINITIONS.values()) <= set(en)
    assert {m.label_key for m in staff_kpi.CARDS} <= set(en)
    assert {f"staff_kpi.columns.{c}" for c in staff_kpi.MANAGER_COLUMNS} <= set(en)
    assert {f"staff_kpi.values.metrics.{k}" for k in staff_kpi.KPIS} <= set(en)
    assert {f"staff_kpi.values.ratings.{r}" for r in staff_kpi.RATINGS} <= set(en)
    assert {f"staff_kpi.values.dimensions.{d}" for d in staff_kpi.DIMENSIONS} <= set(en)
    positions = {"above_998", "above_95", "within", "below_95", "below_998"}
    assert {f"staff_kpi.values.position.{p}" for p in positions} <= set(en)
    assert {f"staff_kpi.summary.funnel_{m}" for m in staff_kpi.FUNNEL_METRICS} <= set(en)
