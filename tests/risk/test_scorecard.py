"""The scorecard: points scaling, fitting, persistence."""

import numpy as np
import pandas as pd
import pytest

from branchbook.risk import Scorecard
from branchbook.stats.measures import auc

from .helpers import approx, credit_data


# -- scorecard: points, model, persistence -----------------------------------------------
def test_points_scaling_formula():
    sc = Scorecard(base_score=600, base_odds=50, pdo=20)
    # factor = 20 / ln 2 = 28.853901; offset = 600 - 28.853901 * ln 50 = 487.122876
    assert sc.factor == approx(28.853901)
    assert sc.offset == approx(487.122876)
    X = pd.DataFrame({"k": [1.0] * 51})
    # intercept only (a constant has no IV): P(bad) = 1/51, odds 50:1 against -> 600 points
    sc.fit(X, [1] + [0] * 50)
    assert sc.features == []
    assert sc.score(X[:1])[0] == approx(600.0)
    # odds 100:1, twice the base odds -> base + pdo = 620
    X2 = pd.DataFrame({"k": [1.0] * 101})
    sc2 = Scorecard(base_score=600, base_odds=50, pdo=20).fit(X2, [1] + [0] * 100)
    assert sc2.score(X2[:1])[0] == approx(620.0)
    assert sc2.predict_proba(X2[:1])[0].tolist() == approx([100 / 101, 1 / 101])


def test_fit_selects_informative_features_with_negative_coefficients():
    X, y = credit_data()
    sc = Scorecard().fit(X, y)
    assert set(sc.features) == {"x", "grade"}  # noise has IV below 0.02
    assert all(c < 0 for c in sc.coef_.values())  # WoE = ln(good/bad): higher is safer
    t = sc.iv_table()
    # "rare" (1%) goes to (other), whose rows are below min_bin_share (1% = 50 rows): the
    # group joins the level whose default rate is closer, b
    assert set(t.loc[t["feature"] == "grade", "bin"]) == {"a", "b, (other)", "c"}
    assert "(missing)" in set(t.loc[t["feature"] == "x", "bin"])
    # the bins' points add up to the score
    w = sc.transform(X)
    pts = {
        f: dict(zip(t.loc[t.feature == f, "woe"], t.loc[t.feature == f, "points"], strict=True))
        for f in sc.features
    }
    total = sum(w[f].map(pts[f]) for f in sc.features)
    assert np.allclose(total.to_numpy(), sc.score(X))
    p = sc.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1)
    # higher score, lower PD
    assert np.corrcoef(sc.score(X), p[:, 1])[0, 1] < -0.9
    assert auc(y, p[:, 1]) > 0.7


def test_scorecard_round_trips_through_json_and_parquet(tmp_path):
    X, y = credit_data()
    sc = Scorecard().fit(X, y)
    path = tmp_path / "scorecard.parquet"
    sc.to_frame().to_parquet(path)
    back = Scorecard.from_frame(pd.read_parquet(path))
    assert np.array_equal(back.score(X), sc.score(X))
    assert np.array_equal(back.predict_proba(X), sc.predict_proba(X))
    pd.testing.assert_frame_equal(back.iv_table(), sc.iv_table())
    assert Scorecard.from_dict(sc.to_dict()).to_dict() == sc.to_dict()
    with pytest.raises(ValueError, match="not a saved scorecard"):
        Scorecard.from_dict({"format": "other"})


def test_fit_refuses_a_target_without_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        Scorecard().fit(pd.DataFrame({"x": [1, 2, 3]}), [0, 0, 0])
    with pytest.raises(ValueError, match="only 0 and 1"):
        Scorecard().fit(pd.DataFrame({"x": [1, 2, 3]}), [0, 2, 1])
    with pytest.raises(ValueError, match="not fitted"):
        Scorecard().score(pd.DataFrame({"x": [1]}))
