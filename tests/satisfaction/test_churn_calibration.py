"""The churn model's recalibration (Platt scaling on the log-odds) by hand, the
calibration verdict by hand, and a bank whose churn rate drifts after the development
months: the development scale fails the validation sample's calibration test, the
recalibrated one passes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook.satisfaction.churn_model import (
    ChurnModel,
    calibrated,
    calibration,
    fit,
    recalibrate,
    rejected_bands,
    spline_columns,
)
from branchbook.satisfaction.churn_risk import sample_months


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_platt_scaling_fits_each_level_of_two_exactly():
    # log-odds 0: 1 churner in 4; log-odds 1: 2 in 4
    y = [1, 0, 0, 0, 1, 1, 0, 0]
    x = [0, 0, 0, 0, 1, 1, 1, 1]
    a, b = recalibrate(y, x)
    assert a == pytest.approx(_logit(0.25))  # -ln 3
    assert a + b == pytest.approx(_logit(0.5))  # so b = ln 3
    assert b == pytest.approx(math.log(3))


def test_constant_log_odds_get_a_shift_only():
    # every prediction 10%, 1 churner in 5: the shift is logit 0.2 - logit 0.1 = ln 2.25
    a, b = recalibrate([1, 0, 0, 0, 0], [_logit(0.1)] * 5)
    assert (a, b) == (pytest.approx(math.log(2.25)), 1.0)


def test_no_event_or_only_events_has_no_recalibration():
    assert all(math.isnan(v) for v in recalibrate([0, 0, 0], [0.0, 1.0, 2.0]))
    assert all(math.isnan(v) for v in recalibrate([1, 1], [0.0, 1.0]))
    assert all(math.isnan(v) for v in recalibrate([], []))


def test_the_probability_applies_the_recalibration_to_the_log_odds():
    m = ChurnModel(["f"], np.array([0.0]), np.array([1.0]), np.array([2.0]), -3.0)
    x = pd.DataFrame({"f": [0.5, -1.0]})
    raw = m.log_odds(x)
    assert raw.tolist() == pytest.approx([-2.0, -5.0])
    assert m.predict(x) == pytest.approx(1 / (1 + np.exp(-raw)))  # (0, 1): as fitted
    m.calibration = (0.5, 0.8)
    assert m.predict(x) == pytest.approx([1 / (1 + math.exp(-(0.5 - 1.6))),
                                          1 / (1 + math.exp(-(0.5 - 4.0)))])  # fmt: skip
    # the ranking (the score) is the development scale's
    assert m.log_odds(x).tolist() == pytest.approx(raw.tolist())


def test_a_band_is_rejected_below_the_level_shared_by_the_bands():
    t = pd.DataFrame({"p_value": [0.9, 0.02, 0.009, 0.5, 0.011]})
    # Bonferroni over 5 bands: rejected below 0.05 / 5 = 0.01 (0.009 only)
    assert rejected_bands(t) == 1 and not calibrated(t)
    assert calibrated(t.assign(p_value=[0.9, 0.02, 0.01, 0.5, 0.011]))
    assert rejected_bands(pd.DataFrame({"p_value": [np.nan]})) == 1
    assert not calibrated(pd.DataFrame({"p_value": []}))  # nothing checked: not calibrated


def test_the_calibration_window_lies_between_development_and_validation():
    dev, cal, val = sample_months("2026-10", "2024-01", horizon=3, dev_months=3)
    assert (dev, cal, val) == (["2026-01", "2026-02", "2026-03"], ["2026-04"], "2026-07")
    dev, cal, val = sample_months(
        "2026-10", "2024-01", horizon=3, dev_months=2, calibration_months=2
    )
    assert (dev, cal, val) == (["2026-01", "2026-02"], ["2026-03", "2026-04"], "2026-07")
    # the calibration outcomes (to 2026-07) end before the validation's begin (2026-08)


def _window(rng, n: int, base: float) -> tuple[pd.DataFrame, np.ndarray]:
    x = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    eta = base + 1.2 * x["a"] - 0.6 * x["b"]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return x, y.to_numpy()


def test_a_drifting_churn_rate_fails_uncorrected_and_passes_recalibrated():
    """Development months churn about 1.8%, the later months about 4.6% (the same
    features, the same effects): the development probabilities are too low in the
    validation sample and its calibration test says so; recalibrated on a window between
    development and validation, no band is rejected."""
    rng = np.random.default_rng(7)
    x_dev, y_dev = _window(rng, 20_000, -4.5)
    x_cal, y_cal = _window(rng, 20_000, -3.5)
    x_val, y_val = _window(rng, 20_000, -3.5)
    m = fit(x_dev, y_dev)
    raw = calibration(y_val, m.predict(x_val))
    assert not calibrated(raw) and rejected_bands(raw) >= 3
    a, b = recalibrate(y_cal, m.log_odds(x_cal))
    # the same effects (slope about 1), the average customer's log-odds moved -4.5 to -3.5
    assert b == pytest.approx(1.0, abs=0.1) and a + b * -4.5 == pytest.approx(-3.5, abs=0.1)
    m.calibration = (a, b)
    fixed = calibration(y_val, m.predict(x_val))
    assert calibrated(fixed)
    assert m.predict(x_val).mean() == pytest.approx(y_val.mean(), rel=0.1)


def test_without_drift_the_recalibration_is_close_to_none():
    rng = np.random.default_rng(8)
    x_dev, y_dev = _window(rng, 20_000, -3.5)
    x_cal, y_cal = _window(rng, 20_000, -3.5)
    m = fit(x_dev, y_dev)
    a, b = recalibrate(y_cal, m.log_odds(x_cal))
    assert abs(a) < 0.15 and b == pytest.approx(1.0, abs=0.1)


# -- known answers: a logistic churn law calibrates, a broken one is refused ----------


def _law(rng, n: int, *, slope: float = 1.0) -> tuple[pd.DataFrame, np.ndarray]:
    """Customers with a balance trend and a complaint count churning by a known logistic
    law: logit p = -4 + slope x (1.5 x complaints - 2 x trend)."""
    x = pd.DataFrame({"aum_trend": rng.normal(0, 0.3, n), "complaints_12m": rng.poisson(0.3, n)})
    eta = -4.0 + slope * (1.5 * x["complaints_12m"] - 2.0 * x["aum_trend"])
    return x, (rng.random(n) < 1 / (1 + np.exp(-eta))).to_numpy().astype(int)


def _validated(x_dev, y_dev, x_cal, y_cal, x_val, y_val) -> tuple[ChurnModel, pd.DataFrame]:
    m = fit(x_dev, y_dev)
    m.calibration = recalibrate(y_cal, m.log_odds(x_cal))
    return m, calibration(y_val, m.predict(x_val))


def test_a_known_logistic_law_is_recovered_and_calibrates_out_of_time():
    rng = np.random.default_rng(31)
    m, table = _validated(*_law(rng, 30_000), *_law(rng, 30_000), *_law(rng, 30_000))
    assert m.coef == pytest.approx([-2.0, 1.5], abs=0.15)
    assert calibrated(table) and rejected_bands(table) == 0
    # the recalibration finds nothing to correct
    a, b = m.calibration
    assert abs(a) < 0.3 and b == pytest.approx(1.0, abs=0.1)


def test_probabilities_whose_spread_changed_out_of_time_are_refused():
    """The validation month's customers follow a law twice as steep as the development
    and calibration months' (the same mean risk, a different shape): recalibrating on
    the calibration window cannot see it and the validation sample rejects the bands."""
    rng = np.random.default_rng(32)
    dev, cal = _law(rng, 30_000), _law(rng, 30_000)
    x_val, y_val = _law(rng, 30_000, slope=2.0)
    _, table = _validated(*dev, *cal, x_val, y_val)
    assert not calibrated(table) and rejected_bands(table) >= 2


def _one_sided(rng, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A falling balance raises the risk, a rising one does not lower it below the base
    rate: logit p = -4.5 - 6 x min(trend, 0)."""
    x = pd.DataFrame({"aum_trend": rng.normal(0, 0.4, n)})
    eta = -4.5 - 6.0 * np.minimum(x["aum_trend"], 0.0)
    return x, (rng.random(n) < 1 / (1 + np.exp(-eta))).to_numpy().astype(int)


def test_a_one_sided_trend_needs_the_spline_to_calibrate():
    """The demo's shape of risk: a straight line in the trend is refused out of time
    (too low for rising balances); the model's spline (knot at 0 among others) passes."""
    rng = np.random.default_rng(33)
    samples = [_one_sided(rng, 30_000) for _ in range(3)]
    _, straight = _validated(*(v for s in samples for v in s))
    assert not calibrated(straight)
    splined = [(spline_columns(x), y) for x, y in samples]
    _, bent = _validated(*(v for s in splined for v in s))
    assert calibrated(bent)


# -- beyond chance and large enough to matter ------------------------------------------

TOLERANCE = {"tolerance": 0.001, "relative": 0.2}  # the settings' defaults


def test_the_default_tolerances_are_the_settings():
    from branchbook.satisfaction.settings import Settings

    s = Settings()
    assert (s.churn_calibration_tolerance, s.churn_calibration_tolerance_relative) == (
        TOLERANCE["tolerance"],
        TOLERANCE["relative"],
    )


def test_a_difference_beyond_chance_but_too_small_to_matter_does_not_reject():
    """The 300-branch demo's validation fifths (170,000 customers each): every one beyond
    chance, none more than 0.21 pp or a fifth of its predicted rate off."""
    t = pd.DataFrame(
        {
            "predicted": [0.001051, 0.003841, 0.006580, 0.011436, 0.075661],
            "observed": [0.000748, 0.004468, 0.007270, 0.012002, 0.073574],
            "p_value": [0.00006, 0.000045, 0.000527, 0.029, 0.0011],
        }
    )
    assert rejected_bands(t) == 4 and not calibrated(t)  # the test alone
    assert rejected_bands(t, **TOLERANCE) == 0 and calibrated(t, **TOLERANCE)
    # one fifth 0.5 pp over its 1.1%: beyond chance and material
    off = t.assign(
        observed=t["observed"].where(t.index != 3, 0.0164),
        p_value=t["p_value"].where(t.index != 3, 1e-9),
    )
    assert rejected_bands(off, **TOLERANCE) == 1 and not calibrated(off, **TOLERANCE)
    # a large gap that chance explains (a small sample) does not reject either
    assert calibrated(off.assign(p_value=0.5), **TOLERANCE)


def test_a_law_twice_as_steep_is_still_refused_with_the_tolerances():
    rng = np.random.default_rng(32)
    dev, cal = _law(rng, 30_000), _law(rng, 30_000)
    _, table = _validated(*dev, *cal, *_law(rng, 30_000, slope=2.0))
    assert not calibrated(table, **TOLERANCE) and rejected_bands(table, **TOLERANCE) >= 2


def test_known_laws_calibrate_at_a_million_customers_with_the_tolerances():
    """Large samples: the correctly specified model passes; the steep law is refused."""
    rng = np.random.default_rng(34)
    _, table = _validated(*_law(rng, 200_000), *_law(rng, 200_000), *_law(rng, 200_000))
    assert calibrated(table, **TOLERANCE)
    _, steep = _validated(*_law(rng, 200_000), *_law(rng, 200_000), *_law(rng, 200_000, slope=2.0))
    assert not calibrated(steep, **TOLERANCE)
