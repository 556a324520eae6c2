"""AUC, KS, Gini and PSI by hand."""

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from branchbook import risk
from branchbook.stats.measures import auc, auc_ci, gini, ks, psi


def approx(x, rel=1e-6):
    return pytest.approx(x, rel=rel, abs=1e-9, nan_ok=True)


# -- measures --------------------------------------------------------------------------
def test_auc_ks_gini_by_hand():
    y = [0, 0, 0, 1, 1]
    p = [0.1, 0.2, 0.6, 0.4, 0.9]
    # event 0.4 beats 0.1 and 0.2; event 0.9 beats all three: 5 of 6 pairs
    assert auc(y, p) == approx(5 / 6)
    assert gini(y, p) == approx(2 / 3)  # 2 * 5/6 - 1
    # cumulative bad vs good at 0.1 .. 0.9: 0/.33, 0/.67, .5/.67, .5/1, 1/1 -> max gap 2/3
    assert ks(y, p) == approx(2 / 3)
    assert auc([0, 1], [0.5, 0.5]) == 0.5  # a tie counts half
    assert math.isnan(auc([0, 0], [0.1, 0.2]))  # one class only
    assert math.isnan(ks([1, 1], [0.1, 0.2]))


def test_auc_and_ks_are_their_definitions_with_ties_and_gaps():
    rng = np.random.default_rng(11)
    y = (rng.random(300) < 0.2).astype(float)
    s = rng.integers(0, 12, 300) + 3 * y  # few distinct scores: many ties across classes
    y[[3, 40]], s[7] = np.nan, np.nan  # missing rows are left out
    keep = ~(np.isnan(y) | np.isnan(s))
    pos, neg = s[keep & (y == 1)], s[keep & (y == 0)]
    # every (event, non-event) pair: 1 when the event scores higher, 1/2 on a tie
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    assert auc(y, s) == approx(pairs.mean(), rel=1e-12)
    # largest gap of the cumulative shares over every cut-off
    gaps = [abs((pos <= c).mean() - (neg <= c).mean()) for c in np.unique(s[keep])]
    assert ks(y, s) == approx(max(gaps), rel=1e-12)


def test_delong_auc_equals_the_library_auc():
    rng = np.random.default_rng(3)
    y = (rng.random(2000) < 0.05).astype(int)
    s = np.round(rng.normal(size=2000) + 0.8 * y, 1)  # rounded: ties as real PDs have
    assert auc_ci(y, s)["auc"] == approx(roc_auc_score(y, s), rel=1e-12)
    assert auc_ci(y, -s)["auc"] == approx(roc_auc_score(y, -s), rel=1e-12)


def test_psi_by_hand_and_bands():
    # (0.4 - 0.5) ln(0.4/0.5) + (0.4 - 0.3) ln(0.4/0.3) + 0 = 0.022314 + 0.028768
    assert psi([0.5, 0.3, 0.2], [0.4, 0.4, 0.2]) == approx(0.051083, rel=1e-4)
    assert psi([50, 30, 20], [4, 4, 2]) == approx(0.051083, rel=1e-4)  # counts work too
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert math.isnan(psi([0.5, 0.5], [0, 0]))
    assert risk.psi_band(0.0999) == "stable"
    assert risk.psi_band(0.10) == "watch"
    assert risk.psi_band(0.2499) == "watch"
    assert risk.psi_band(0.25) == "shift"
    assert risk.psi_band(float("nan")) == "none"
