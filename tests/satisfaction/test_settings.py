"""The report's parameters: defaults, whole numbers, refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from branchbook.satisfaction import Settings


def test_settings_defaults_are_valid_and_accept_whole_numbers():
    s = Settings()
    assert s.first_response_hours == 24.0 and s.plan_hours == 72.0
    assert s.band_bounds == [60.0, 85.0]
    # neutral (3) at 60 where the neutral band starts, satisfied (4) at 85
    assert s.csat_scale == [0.0, 30.0, 60.0, 85.0, 100.0]
    # csat_mean is read against the bank's branches; 85 / 75 with too few branches
    csat = s.kpi_status["csat_mean"]
    assert csat.rule == "percentile" and (csat.fallback.green, csat.fallback.amber) == (85.0, 75.0)
    tiers = {"affluent": 10_000, "wealth": 100_000, "private": 1_000_000}
    s2 = Settings.model_validate({"plan_hours": 48, "asset_tiers": tiers})
    assert s2.plan_hours == 48.0 and s2.asset_tiers.wealth == 100_000.0
    # what the runner injects (a JSON dump) validates back to the same settings
    assert Settings.model_validate(s.model_dump(mode="json")) == s


@pytest.mark.parametrize(
    "bad",
    [
        {"asset_tiers": {"affluent": 500_000.0, "wealth": 50_000.0}},
        {"asset_tiers": {"affluent": 0.0}},
        {"tier_bounds": [50_000.0, 500_000.0, 6_000_000.0]},  # replaced by the shared asset_tiers
        {"band_bounds": [85.0, 60.0]},
        {"band_bounds": [0.0, 60.0]},
        {"csat_scale": [0.0, 30.0, 60.0, 85.0]},
        {"csat_scale": [0.0, 60.0, 30.0, 85.0, 100.0]},
        {"csat_scale": [0.0, 30.0, 60.0, 85.0, 120.0]},
        {"backlog_age_days": [30, 7]},
        {"first_response_hours": 0.0},
        {"fdr": 0.9},
        {"score_window_months": "3"},
        {"kpi_status": {"nps": {"good": "high", "green": 10.0, "amber": 30.0}}},
        {"fact_bridge": {"csat_top2": 0.01}},  # not a bridged KPI
        {"fact_bridge": {"nps": -1.0}},
        {"kpi_status": {"speed": {"good": "high", "green": 1.0, "amber": 0.0}}},
        {"unknown_key": 1},
    ],
)
def test_settings_refuse_bad_values(bad):
    with pytest.raises(ValidationError):
        Settings.model_validate(bad)


def test_fact_bridge_a_file_names_only_the_kpis_it_changes():
    s = Settings.model_validate({"fact_bridge": {"nps": 8}})
    assert s.fact_bridge == {
        "csat_mean": 2.0, "nps": 8.0, "complaints_per_1000": 0.5, "churn_rate": 0.002,
    }  # fmt: skip
