"""Tests of the segmentation parameters: defaults, accepted and refused values."""

import math

import pytest
from pydantic import ValidationError

from branchbook import metrics
from branchbook import segmentation as sg
from branchbook.metrics.cards import status

from .rows import S


def test_default_settings_are_valid_and_documented_defaults():
    assert S.asset_tiers.affluent == 50_000.0 and S.asset_tiers.private == 6_000_000.0
    assert (S.activity_tiers.low, S.activity_tiers.medium, S.activity_tiers.high) == (1, 6, 21)
    assert math.isclose(sum(S.weights.model_dump().values()), 1.0)
    assert S.level_cutoffs == [30.0, 45.0, 60.0, 75.0]


def test_settings_accept_whole_numbers_for_floats_and_refuse_floats_for_ints():
    s = sg.Settings.model_validate(
        {"asset_tiers": {"affluent": 10000, "wealth": 100000, "private": 1000000}}
    )
    assert s.asset_tiers.affluent == 10_000.0
    with pytest.raises(ValidationError):
        sg.Settings.model_validate({"activity_tiers": {"low": 1.5}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weights": {"aum": 0.5}}, "sum to 1"),
        ({"asset_tiers": {"wealth": 40_000.0}}, "strictly increase"),
        ({"activity_tiers": {"medium": 30}}, "strictly increase"),
        ({"level_cutoffs": [10.0, 20.0, 30.0]}, "expected 4 cut-offs"),
        ({"level_cutoffs": [10.0, 20.0, 30.0, 100.0]}, "between 0 and 100"),
        ({"level_cutoffs": [10.0, 30.0, 20.0, 40.0]}, "strictly increase"),
        ({"kpi_status": {"nps": {"good": "high", "green": 1.0, "amber": 0.5}}}, "unknown KPI"),
        (
            {"kpi_status": {"active_share": {"good": "high", "green": 0.3, "amber": 0.5}}},
            "green >= amber",
        ),
        ({"lifecycle": {"decline_ratio": 1.2}}, "less than 1"),
        ({"colour": "red"}, "Extra inputs"),
        ({"bank_wide": {"credit_points": {"special_mention": 10.0}}}, "strictly increase"),
        ({"bank_wide": {"credit_points": {"pass": 40.0}}}, "between loss"),  # no_credit 50
        ({"bank_wide": {"credit_points": {"pass": 120.0}}}, "less than or equal to 100"),
        ({"bank_wide": {"no_credit_as": "A"}}, "Extra inputs"),
    ],
)
def test_settings_refuse_bad_values(data, message):
    with pytest.raises(ValidationError, match=message):
        sg.Settings.model_validate(data)


def test_default_status_thresholds_under_the_one_rag_rule():
    rag = S.kpi_status
    # active share: good high, green from 0.60, amber from 0.40
    assert [status(v, rag["active_share"]) for v in (0.6, 0.59, 0.4, 0.39)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    # top-20% share: good low, green to 0.80, amber to 0.90
    assert [status(v, rag["top20_share"]) for v in (0.8, 0.81, 0.9, 0.91)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    assert status(math.nan, rag["active_share"]) is None
    assert "customers" not in rag


def test_kpi_status_keys_are_the_declared_metrics():
    keys = [m.key for m in metrics.of_report("segmentation")]
    assert set(S.kpi_status) <= set(keys)
    ok = sg.Settings.model_validate(
        {"kpi_status": {"customers": {"good": "high", "green": 100, "amber": 50}}}
    )
    assert ok.kpi_status["customers"].green == 100.0
    with pytest.raises(ValidationError, match="allowed: customers, aum_total"):
        sg.Settings.model_validate(
            {"kpi_status": {"nps": {"good": "high", "green": 1.0, "amber": 0.5}}}
        )
