"""The staff KPI report's settings: defaults, refusals, RAG thresholds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from branchbook import staff_kpi

from .tiny import (
    approx,
)


def test_default_settings_are_valid_and_budget_neutral():
    s = staff_kpi.Settings()
    assert sum(s.dimension_weights.values()) == approx(1.0)
    # 0.2 x 1.3 + 0.3 x 1.1 + 0.4 x 0.9 + 0.1 x 0.5 = 0.26 + 0.33 + 0.36 + 0.05 = 1.00
    assert staff_kpi.bonus_pool_factor(s.rating_shares, s.bonus_coefficients) == approx(1.0)


@pytest.mark.parametrize(
    "override, message",
    [
        (
            {
                "dimension_weights": {
                    "growth": 0.5,
                    "quality": 0.25,
                    "service": 0.2,
                    "compliance": 0.15,
                }
            },
            "sum to 1",
        ),
        ({"scorecard": {"growth": ["new_customers", "bogus"]}}, "bogus"),
        ({"scorecard": {"growth": ["csat"], "service": ["csat"]}}, "more than once"),
        ({"scorecard": {"growth": []}}, "no KPI"),
        ({"scorecard": {"people": ["csat"]}}, "people"),
        ({"rating_shares": {"A": 0.5, "B": 0.5}}, "every band"),
        ({"rating_shares": {"A": 0.5, "B": 0.5, "C": 0.1, "D": 0.0}}, "sum to 1"),
        ({"bonus_coefficients": {"A": 1.0, "B": 1.2, "C": 0.9, "D": 0.5}}, "not rise"),
        ({"winsor_lower": 0.5, "winsor_upper": 0.4}, "winsor_lower"),
        (
            {"kpi_status": {"managed_npl_ratio": {"good": "low", "green": 0.05, "amber": 0.01}}},
            "green <= amber",
        ),
        ({"min_book_customers": 2.5}, "integer"),
        ({"funnel_dispersion": "wide"}, "'additive', 'multiplicative' or 'none'"),
        ({"monthly_target_floor": 1.5}, "less than or equal to 1"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_settings_refuse_bad_values(override, message):
    with pytest.raises(ValidationError, match=message):
        staff_kpi.Settings.model_validate(override)


def test_settings_accept_a_partial_scorecard_with_matching_weights():
    s = staff_kpi.Settings.model_validate(
        {
            "scorecard": {"growth": ["net_new_aum"], "quality": ["npl_ratio"]},
            "dimension_weights": {"growth": 0.6, "quality": 0.4},
        }
    )
    assert s.scorecard == {"growth": ["net_new_aum"], "quality": ["npl_ratio"]}


def test_kpi_status_is_the_shared_rag_and_a_file_may_change_one_kpi():
    from branchbook.metrics.thresholds import as_rag
    from branchbook.params import Rag

    s = staff_kpi.Settings.model_validate(
        {"kpi_status": {"managed_csat": {"good": "high", "green": 90.0, "amber": 85.0}}}
    )
    csat = s.kpi_status["managed_csat"]
    assert isinstance(csat, Rag) and csat.green == 90.0 and csat.status(87.0) == "amber"
    default = staff_kpi.DEFAULT_STATUS["managed_npl_ratio"]
    assert s.kpi_status["managed_npl_ratio"] == default  # default kept
    with pytest.raises(ValidationError, match="bogus"):
        staff_kpi.Settings.model_validate(
            {"kpi_status": {"bogus": {"good": "high", "green": 1.0, "amber": 0.0}}}
        )
    # every card has a default rule, in the card's good direction
    assert set(staff_kpi.CARD_KEYS) == set(staff_kpi.DEFAULT_STATUS)
    # (a percentile rule's fixed fallback too)
    assert all(as_rag(staff_kpi.DEFAULT_STATUS[m.key]).good == m.good for m in staff_kpi.CARDS)
    # the settings survive the JSON round trip the runner makes into the notebook
    again = staff_kpi.Settings.model_validate(s.model_dump(mode="json"))
    assert again.kpi_status == s.kpi_status
