"""AUC, KS, Gini and PSI by hand."""

import math

from branchbook import risk
from branchbook.risk.measures import auc, gini, ks, psi

from .helpers import approx


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
