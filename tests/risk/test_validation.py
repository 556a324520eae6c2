"""Out-of-time validation by hand: DeLong's AUC interval, the binomial test, the PD
correction, calibration by band, PSI and CSI against the development sample."""

import math

import numpy as np
import pandas as pd

from branchbook import risk
from branchbook.risk import Scorecard
from branchbook.risk.validation import VALIDATION_COLUMNS
from branchbook.stats.measures import auc, auc_ci, binomial_p

from .helpers import approx, credit_data


def test_delong_interval_by_hand():
    # events score 0.35 and 0.8, non-events 0.1 and 0.4; AUC 3 of 4 pairs = 0.75
    r = auc_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    # per event, share of non-events below: 0.5, 1 -> variance 0.125; per non-event,
    # share of events above: 1, 0.5 -> 0.125; se = sqrt(0.125 / 2 + 0.125 / 2) = 0.353553
    assert r["auc"] == approx(0.75) and r["se"] == approx(math.sqrt(0.125))
    assert r["low"] == approx(0.75 - 1.959964 * math.sqrt(0.125))  # 0.057049
    assert r["high"] == 1.0  # 1.44 clipped
    assert (r["events"], r["non_events"]) == (2, 2)
    # one event: no variance to estimate
    assert math.isnan(auc_ci([0, 0, 1], [0.1, 0.2, 0.3])["se"])


def test_delong_interval_covers_and_narrows_with_the_sample():
    rng = np.random.default_rng(5)
    y = (rng.random(4000) < 0.1).astype(int)
    s = rng.normal(size=4000) + y
    big, small = auc_ci(y, s), auc_ci(y[:400], s[:400])
    assert big["low"] < big["auc"] < big["high"]
    assert big["auc"] == approx(auc(y, s))
    assert big["high"] - big["low"] < small["high"] - small["low"]


def test_binomial_test_by_hand():
    assert binomial_p(10, 10, 0.5) == approx(2 * 0.5**10)  # 0.001953
    assert binomial_p(5, 10, 0.5) == approx(1.0)
    # 0 of 10 at 20%: P(0) = 0.8^10 = 0.107374, plus the as-unlikely tail P(X >= 4) = 0.120874
    assert binomial_p(0, 10, 0.2) == approx(0.107374 + 0.120874, rel=1e-5)
    assert math.isnan(binomial_p(0, 0, 0.1))


def test_calibration_shift_and_corrected_pd_by_hand():
    # every PD 10%, 2 defaults in 10 (20%): shift = logit 0.2 - logit 0.1 = 0.810930
    d = risk.calibration_shift([1, 1] + [0] * 8, [0.1] * 10)
    assert d == approx(math.log(0.25) - math.log(1 / 9))
    assert risk.corrected_pd([0.1], d)[0] == approx(0.2)
    # unequal PDs: the corrected mean equals the observed rate
    p = np.array([0.01, 0.05, 0.2, 0.4])
    d = risk.calibration_shift([0, 0, 1, 1], p)
    assert risk.corrected_pd(p, d).mean() == approx(0.5)
    assert math.isnan(risk.calibration_shift([0, 0], [0.1, 0.2]))  # no default: no shift


def test_calibration_shift_meets_the_observed_rate_on_a_real_sized_book():
    rng = np.random.default_rng(9)
    p = np.clip(rng.beta(0.6, 30, 20_000), 1e-6, None)  # PDs of a book: mostly under 5%
    bad = rng.random(20_000) < 1.7 * p  # the model underestimates by about 40%
    d = risk.calibration_shift(bad, p)
    assert d > 0
    assert risk.corrected_pd(p, d).mean() == approx(bad.mean(), rel=1e-10)


def test_calibration_by_band_by_hand():
    bins = pd.DataFrame({"bin": [1, 2], "lower": [-np.inf, 600.0], "upper": [600.0, np.inf]})
    sample = pd.DataFrame(
        {
            "score": [550.0] * 10 + [650.0] * 10,
            "pd_model": [0.2] * 10 + [0.05] * 10,
            "bad": [1] * 10 + [0] * 10,
        }
    )
    t = risk.calibration(sample, bins=bins).set_index("bin")
    assert t["loans"].tolist() == [10, 10] and t["defaults"].tolist() == [10, 0]
    assert t["predicted"].tolist() == approx([0.2, 0.05])
    assert t["observed"].tolist() == approx([1.0, 0.0])
    # 10 of 10 at 20%: p = 0.2^10 = 1.0e-7, off; 0 of 10 at 5%: p = 1 (nothing less likely)
    assert t.loc[1, "p_value"] == approx(0.2**10) and bool(t.loc[1, "off"])
    assert t.loc[2, "p_value"] == approx(1.0) and not t.loc[2, "off"]
    # with a shift the corrected PD moves, the model's does not
    shifted = risk.calibration(sample, bins=bins, shift=math.log(9) - math.log(0.25)).set_index(
        "bin"
    )
    assert shifted.loc[1, "corrected"] == approx(0.9) and shifted.loc[1, "predicted"] == 0.2


def test_psi_and_csi_against_the_development_sample():
    # one numeric characteristic cut at 0: dev 50 / 50, current 40 / 60
    X = pd.DataFrame({"x": [-1.0] * 50 + [1.0] * 50})
    y = [1] * 20 + [0] * 30 + [1] * 5 + [0] * 45
    sc = Scorecard(min_iv=0.0).fit(X, y)
    assert sc.features == ["x"] and sc.bins_["x"].cuts == [1.0]
    current = pd.DataFrame({"x": [-1.0] * 40 + [1.0] * 60})
    dev_bins = risk.score_bins(sc.score(X), bins=2)
    t = risk.stability(sc, development=X, current=current, bins=dev_bins).set_index("feature")
    # CSI = (0.4 - 0.5) ln(0.4 / 0.5) + (0.6 - 0.5) ln(0.6 / 0.5) = 0.040546
    assert t.loc["x", "psi"] == approx(0.040546, rel=1e-4)
    assert t.loc["score", "psi"] == approx(0.040546, rel=1e-4)  # one feature: score = bins
    # a branch's drift: its performing, scored loans against the development bands
    book = current.assign(score=sc.score(current), in_default=False)
    assert risk.drift_psi(book, dev_bins) == approx(0.040546, rel=1e-4)
    assert math.isnan(risk.drift_psi(book.iloc[0:0], dev_bins))


def test_validation_needs_enough_defaults_and_good_loans():
    o = pd.DataFrame({"bad": [0, 0, 1, 1], "pd_model": [0.1, 0.3, 0.2, 0.4]})
    v = risk.validation(o, min_defaults=2)
    assert v["sufficient"] == 1.0 and v["auc"] == approx(0.75)
    assert v["auc_low"] < 0.75 < v["auc_high"] or v["auc_high"] == 1.0
    assert v["predicted_rate"] == approx(0.25)
    few_good = risk.validation(o.assign(bad=[0, 1, 1, 1]), min_defaults=2)
    assert few_good["sufficient"] == 0.0 and math.isnan(few_good["auc_low"])


def test_branch_validation_without_scorecard_loans_or_defaults():
    X, y = credit_data()
    sc = Scorecard().fit(X, y)
    sample = X.assign(bad=y)
    v = risk.branch_validation(sample, scorecard=sc, min_defaults=10)
    assert v["sufficient"] == 1.0
    assert v["auc"] == approx(auc(y, sc.predict_proba(X)[:, 1]))
    assert v["gini"] == approx(2 * v["auc"] - 1)
    # no scorecard: the defaults are counted, nothing is measured
    none = risk.branch_validation(sample, scorecard=None, min_defaults=10)
    assert none["defaults"] == float(np.sum(y)) and none["sufficient"] == 0.0
    assert math.isnan(none["auc"])
    # a branch with no loans in the development sample
    empty = risk.branch_validation(sample.iloc[0:0], scorecard=sc, min_defaults=10)
    assert empty["loans"] == 0.0 and empty["defaults"] == 0.0 and math.isnan(empty["ks"])
    # a branch with no defaults
    good = risk.branch_validation(sample[sample["bad"] == 0], scorecard=sc, min_defaults=1)
    assert good["defaults"] == 0.0 and good["sufficient"] == 0.0 and math.isnan(good["auc"])
    key, values = risk.validation_note(good, min_defaults=10, month="2025-10")
    assert key == "risk.notes.few_defaults" and values == {"defaults": 0.0, "minimum": 10}
    key, values = risk.validation_note(v, min_defaults=10, month="2025-10")
    assert key == "risk.notes.validation_sample" and values["month"] == "2025-10"
    row = risk.validation_table(v)
    assert row.columns.tolist() == list(VALIDATION_COLUMNS)
    assert len(row) == 1 and row.loc[0, "ks"] == approx(v["ks"])
