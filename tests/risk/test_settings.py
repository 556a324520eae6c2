"""The risk: section of the parameters."""

import pytest
from pydantic import ValidationError

from branchbook import risk
from branchbook.risk import Settings


# -- settings --------------------------------------------------------------------------
def test_settings_defaults_and_validation():
    s = Settings()
    assert s.ltv_limit == 0.70 and s.scorecard.pdo == 20.0 and s.list_rows == 20
    assert set(s.kpi_status) == set(risk.KPI_KEYS)
    # one KPI's thresholds overridden, the others keep their defaults
    s2 = Settings.model_validate(
        {"kpi_status": {"npl_ratio": {"good": "low", "green": 0.01, "amber": 0.02}}}
    )
    assert s2.kpi_status["npl_ratio"].green == 0.01 and "top10_share" in s2.kpi_status
    assert Settings.model_validate({"ltv_limit": 1}).ltv_limit == 1.0  # whole numbers accepted
    assert s.ltv_limits["equipment"] == 0.5 and s.scorecard.trends["dpd"] == "ascending"
    # a file names only the limits it changes
    limits = Settings.model_validate({"ltv_limits": {"deposit": 1}}).ltv_limits
    assert limits["deposit"] == 1.0 and limits["equipment"] == 0.5
    bad = [
        {"pd_bands": [0.05, 0.01, 0.1, 0.2]},
        {"pd_bands": [0.01, 0.03]},
        {"exposure_bands": [1.0, 2.0, 3.0, 2.0]},
        {"scorecard": {"psi_watch": 0.3, "psi_shift": 0.25}},
        {"scorecard": {"features": ["ltv", "shoe_size"]}},
        {"kpi_status": {"npl": {"good": "low", "green": 0.01, "amber": 0.02}}},
        {"lgd": {"none": 1.5}},
        {"compliance": {"ageing_days": [30, 7]}},
        {"unknown_key": 1},
        {"top_borrowers": "10"},
        {"ltv_limits": {"boat": 0.5}},
        {"ltv_limits": {"equipment": 0}},
        {"scorecard": {"trends": {"dpd": "up"}}},
        {"scorecard": {"merge_p": 0}},
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            Settings.model_validate(data)
