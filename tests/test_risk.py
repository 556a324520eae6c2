"""Risk assessment: hand-computed loan-book, scorecard, early-warning, collateral,
concentration and compliance figures, and prepare() on a tiny in-memory warehouse."""

import datetime as dt
import math
import types

import duckdb
import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from branchbook import risk
from branchbook.risk import (
    Compliance,
    EarlyWarning,
    Lgd,
    Scorecard,
    Settings,
)
from branchbook.scorecard import auc, gini, ks, psi, woe_iv

S = Settings()


def approx(x, rel=1e-6):
    return pytest.approx(x, rel=rel, abs=1e-9, nan_ok=True)


# -- loan book ------------------------------------------------------------------------
def test_dpd_bucket_edges():
    got = risk.dpd_bucket(pd.Series([0, 1, 30, 31, 60, 61, 90, 91, None]))
    assert got.iloc[:8].tolist() == [
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
    ]
    assert pd.isna(got.iloc[8])


HISTORY = pd.DataFrame(
    {
        "month": ["2026-10"] * 5 + ["2026-09"],
        "five_class": ["pass", "special_mention", "substandard", "doubtful", "loss", "pass"],
        "dpd_bucket": ["current", "1-30", "61-90", "90+", "90+", "current"],
        "loans": [8, 1, 1, 1, 1, 0],
        "outstanding": [800.0, 100.0, 50.0, 30.0, 20.0, 0.0],
    }
)


def test_npl_and_special_mention_ratio():
    r = risk.book_ratios(HISTORY).set_index("month")
    # NPL = (50 + 30 + 20) / (800 + 100 + 50 + 30 + 20) = 100 / 1000
    assert r.loc["2026-10", "npl_ratio"] == approx(0.10)
    # special mention = 100 / 1000
    assert r.loc["2026-10", "special_mention_ratio"] == approx(0.10)
    # a month with no outstanding has no ratio, not 0
    assert math.isnan(r.loc["2026-09", "npl_ratio"])


def test_five_class_and_dpd_mix():
    fc = risk.five_class_mix(HISTORY, month="2026-10").set_index("five_class")
    assert fc.index.tolist() == list(risk.FIVE_CLASSES)
    assert fc["share"].tolist() == approx([0.8, 0.1, 0.05, 0.03, 0.02])
    dpd = risk.dpd_mix(HISTORY, month="2026-10").set_index("dpd_bucket")
    # 90+ holds doubtful 30 + loss 20 = 50 of 1000; 31-60 holds nothing
    assert dpd.loc["90+", "share"] == approx(0.05)
    assert dpd.loc["31-60", "loans"] == 0
    empty = risk.five_class_mix(HISTORY, month="2026-09")
    assert empty["share"].isna().all()


def test_npl_trend_against_bank_median():
    bench = pd.DataFrame(
        {
            "branch_id": ["A", "B", "C"],
            "month": ["2026-10"] * 3,
            "npl_ratio": [0.01, 0.02, 0.06],
            "special_mention_ratio": [0.0, 0.1, 0.2],
        }
    )
    t = risk.npl_trend(HISTORY, bench_trend=bench, months=["2026-09", "2026-10"]).set_index("month")
    assert t.loc["2026-10", "npl_ratio"] == approx(0.10)
    assert t.loc["2026-10", "bank_npl_ratio"] == approx(0.02)  # median of 1%, 2%, 6%
    assert math.isnan(t.loc["2026-09", "bank_npl_ratio"])


ROLLS = pd.DataFrame(
    {
        "month": ["2026-10"] * 5 + ["2026-09"],
        "from_bucket": ["current", "current", "current", "1-30", "1-30", "current"],
        "to_bucket": ["current", "1-30", "closed", "current", "31-60", "current"],
        "loans": [90, 8, 2, 1, 3, 50],
        "outstanding": [900.0, 80.0, 20.0, 10.0, 30.0, 500.0],
    }
)


def test_roll_rates_by_balance_and_by_count():
    m = risk.roll_rates(ROLLS, month="2026-10")
    assert list(m.columns) == [*risk.DPD_BUCKETS, "closed"]
    # current: 900 / 1000 stay, 80 / 1000 roll to 1-30, 20 / 1000 repaid
    assert m.loc["current"].tolist() == approx([0.9, 0.08, 0, 0, 0, 0.02])
    # 1-30: 10 / 40 cure, 30 / 40 roll forward
    assert m.loc["1-30", "current"] == approx(0.25)
    assert m.loc["1-30", "31-60"] == approx(0.75)
    # no loan was 31-60 last month: a row of NaN, not zeros
    assert m.loc["31-60"].isna().all()
    by_count = risk.roll_rates(ROLLS, month="2026-10", weight="loans")
    assert by_count.loc["1-30", "31-60"] == approx(0.75)  # 3 / (1 + 3)
    assert by_count.loc["current", "closed"] == approx(0.02)  # 2 / 100


def test_past_due_share_and_roll_forward_rate():
    # 200 of the 1000 outstanding in October is past due; September has no outstanding
    assert risk.past_due_share(risk.dpd_mix(HISTORY, month="2026-10")) == approx(0.2)
    assert math.isnan(risk.past_due_share(risk.dpd_mix(HISTORY, month="2026-09")))
    m = risk.roll_rates(ROLLS, month="2026-10")
    assert risk.roll_forward_rate(m) == approx(0.08)  # current -> 1-30
    assert risk.roll_forward_rate(m, bucket="1-30") == approx(0.75)  # 1-30 -> 31-60
    assert math.isnan(risk.roll_forward_rate(m, bucket="31-60"))  # held no loans


def test_trend_months_and_kpi_table():
    assert risk.trend_months("2026-02", 4) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert len(risk.trend_months("2026-10", 13)) == 13
    bench = pd.DataFrame(
        {
            "branch_id": ["A", "A", "B"],
            "month": ["2026-09", "2026-10", "2026-10"],
            **{k: [0.1, 0.2, 0.4] for k in risk.KPI_KINDS},
        }
    )
    # the previous period defaults to the month before
    prev, bank = risk.kpi_context(bench, branch_id="A", period="2026-10")
    assert prev["npl_ratio"] == approx(0.1)
    assert bank["npl_ratio"] == approx(0.3)  # median of A 0.2 and B 0.4
    t = risk.kpi_table({"npl_ratio": 0.2}, prev, bank).set_index("kpi")
    assert t.index.tolist() == list(risk.KPI_KINDS)
    assert t.loc["npl_ratio"].tolist() == approx([0.2, 0.1, 0.3])
    assert math.isnan(t.loc["top10_share", "value"])  # not given: missing, not 0


# -- scorecard: WoE, IV, binning -------------------------------------------------------
def test_woe_iv_of_a_categorical_table():
    # A: 5 rows, 1 bad; B: 3 rows, 2 bad; C: 2 rows, 1 bad. 4 bad, 6 good in all.
    X = pd.DataFrame({"city": list("AAAAABBBCC")})
    y = [1, 0, 0, 0, 0, 1, 1, 0, 1, 0]
    sc = Scorecard(rare_level_share=0.0, min_iv=0.0).fit(X, y)
    t = sc.iv_table().set_index("bin")
    assert t.index.tolist() == ["A", "B", "C"]
    # A: ln((4/6) / (1/4)) = ln(2.6667) = 0.980829; IV (0.6667 - 0.25) * 0.980829 = 0.408679
    assert t.loc["A", "woe"] == approx(0.980829)
    assert t.loc["A", "iv"] == approx(0.408679)
    # B: ln((1/6) / (2/4)) = ln(1/3) = -1.098612; IV (0.1667 - 0.5) * -1.098612 = 0.366204
    assert t.loc["B", "woe"] == approx(-1.098612)
    assert t.loc["B", "iv"] == approx(0.366204)
    # C: ln((1/6) / (1/4)) = ln(2/3) = -0.405465; IV (0.1667 - 0.25) * -0.405465 = 0.033789
    assert t.loc["C", "woe"] == approx(-0.405465)
    assert t.loc["C", "iv"] == approx(0.033789, rel=1e-4)
    assert t["iv"].sum() == approx(0.808672, rel=1e-5)
    assert t.loc["B", "event_rate"] == approx(2 / 3)


def test_rare_levels_merge_into_other_which_takes_unseen_levels():
    X = pd.DataFrame({"city": list("AAAAABBBCC")})
    y = [1, 0, 0, 0, 0, 1, 1, 0, 1, 0]
    # C holds 2 of 10 rows, below 25%: merged into (other), with C's counts (1 bad, 1 good)
    sc = Scorecard(rare_level_share=0.25, min_iv=0.0).fit(X, y)
    t = sc.iv_table().set_index("bin")
    assert t.index.tolist() == ["A", "B", "(other)"]
    assert t.loc["(other)", "woe"] == approx(-0.405465)
    # a level first seen when scoring gets the (other) bin's WoE
    w = sc.transform(pd.DataFrame({"city": ["Z", "C", None]}))["city"]
    assert w.iloc[0] == approx(-0.405465)
    assert w.iloc[1] == approx(-0.405465)
    assert w.iloc[2] == 0.0  # no missing value when fitting: scored as average


def test_numeric_bins_woe_iv_and_zero_count_adjustment():
    # x=1: 3 bad of 4; x=2: 2 bad of 4; x=3: 0 bad of 4 (5 bad, 7 good in all)
    X = pd.DataFrame({"x": [1] * 4 + [2] * 4 + [3] * 4})
    y = [1, 1, 1, 0] + [1, 1, 0, 0] + [0, 0, 0, 0]
    t = Scorecard(min_bin_share=0.05, min_iv=0.0).fit(X, y).iv_table().set_index("bin")
    assert t.index.tolist() == ["< 2", "[2, 3)", ">= 3"]
    # < 2: ln((1/7) / (3/5)) = ln(0.238095) = -1.435085; IV (0.142857 - 0.6) * WoE = 0.656039
    assert t.loc["< 2", "woe"] == approx(-1.435085)
    assert t.loc["< 2", "iv"] == approx(0.656039)
    # [2, 3): ln((2/7) / (2/5)) = ln(0.714286) = -0.336472; IV 0.114286 * 0.336472 = 0.038454
    assert t.loc["[2, 3)", "woe"] == approx(-0.336472)
    assert t.loc["[2, 3)", "iv"] == approx(0.038454, rel=1e-4)
    # >= 3 has no bad: 0.5 added to both counts: ln((4.5/7) / (0.5/5)) = ln(6.428571) = 1.860752
    assert t.loc[">= 3", "woe"] == approx(1.860752)
    assert t.loc[">= 3", "iv"] == approx(1.010123)  # (0.642857 - 0.1) * 1.860752


def test_numeric_bins_are_made_monotone_and_capped():
    # event rates by value 2/3, 1/3, 2/3, 0: not monotone
    X = pd.DataFrame({"x": [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3})
    y = [1, 1, 0] + [1, 0, 0] + [1, 1, 0] + [0, 0, 0]
    t = Scorecard(min_iv=0.0).fit(X, y).iv_table()
    # falling: 2 and 3 merge into 3 of 6 = 0.5, giving 0.667, 0.5, 0 (rising would end in one bin)
    assert t["bin"].tolist() == ["< 2", "[2, 4)", ">= 4"]
    assert t["count"].tolist() == [3, 6, 3]
    assert t["events"].tolist() == [2, 3, 0]
    # at most two bins: the closest rates (0.667 and 0.5) merge
    t2 = Scorecard(max_bins=2, min_iv=0.0).fit(X, y).iv_table()
    assert t2["bin"].tolist() == ["< 4", ">= 4"]
    assert t2["events"].tolist() == [5, 0]


def test_small_bins_merge_and_missing_values_get_their_own_bin():
    X = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, np.nan, np.nan]})
    y = [1, 1, 1, 0, 1, 0, 0, 0, 1, 0]
    t = Scorecard(min_bin_share=0.3, min_iv=0.0).fit(X, y).iv_table()
    assert t["bin"].iloc[-1] == "(missing)"
    assert t["count"].iloc[-1] == 2 and t["events"].iloc[-1] == 1
    numeric = t.iloc[:-1]
    assert (numeric["count"] >= 3).all()  # 30% of 10 rows
    assert numeric["count"].sum() == 8
    rates = numeric["event_rate"].to_numpy()
    assert np.all(np.diff(rates) <= 0) or np.all(np.diff(rates) >= 0)


def test_a_column_seen_only_missing_scores_values_as_average():
    X = pd.DataFrame({"x": [np.nan] * 4, "g": list("aabb")})
    sc = Scorecard(min_iv=0.0).fit(X, [1, 0, 1, 0])
    t = sc.iv_table()
    assert t.loc[t["feature"] == "x", "bin"].tolist() == ["(missing)"]
    assert sc.transform(pd.DataFrame({"x": [5.0, np.nan], "g": ["a", "a"]})).shape == (2, 0)
    assert sc.bins_["x"].woe_of(pd.Series([5.0, np.nan])).tolist() == [0.0, 0.0]


def test_woe_iv_function_matches_the_table():
    w, iv = woe_iv(np.array([1, 3]), np.array([3, 1]))
    # ln((3/4) / (1/4)) = ln 3
    assert w.tolist() == approx([math.log(3), -math.log(3)])
    assert iv.sum() == approx(math.log(3))  # 0.5 ln3 + 0.5 ln3


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


def _credit_data(n=5000, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    grade = rng.choice(["a", "b", "c", "rare"], size=n, p=[0.45, 0.35, 0.19, 0.01])
    logit = -2.0 + 1.2 * x + np.select([grade == "a", grade == "b"], [-0.8, 0.0], 0.8)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    x_miss = np.where(rng.random(n) < 0.05, np.nan, x)
    X = pd.DataFrame({"x": x_miss, "grade": grade, "noise": rng.normal(size=n)})
    return X, y


def test_fit_selects_informative_features_with_negative_coefficients():
    X, y = _credit_data()
    sc = Scorecard().fit(X, y)
    assert set(sc.features) == {"x", "grade"}  # noise has IV below 0.02
    assert all(c < 0 for c in sc.coef_.values())  # WoE = ln(good/bad): higher is safer
    t = sc.iv_table()
    assert set(t.loc[t["feature"] == "grade", "bin"]) == {"a", "b", "c", "(other)"}
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
    X, y = _credit_data()
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


def test_scorecard_features_bins_and_note_for_the_report():
    X, y = _credit_data()
    sc = Scorecard().fit(X, y)
    f = risk.scorecard_features(sc)
    t = sc.iv_table()
    assert f["feature"].tolist() == sc.feature_iv().index.tolist()  # strongest first
    assert f.set_index("feature")["iv"].to_dict() == approx(
        t.groupby("feature")["iv"].sum().to_dict()
    )
    assert f.set_index("feature")["bins"].to_dict() == t.groupby("feature").size().to_dict()
    noise = f.set_index("feature").loc["noise"]
    assert not noise["in_model"] and math.isnan(noise["coefficient"])
    assert f.set_index("feature").loc["x", "coefficient"] == approx(sc.coef_["x"])
    b = risk.scorecard_bins(sc)
    # only the model's characteristics, in the model's order, with every one of their bins
    assert b["feature"].unique().tolist() == sc.features
    assert len(b) == len(t[t["in_model"]])
    labels = dict(zip(b["bin"], b["label"], strict=True))
    assert labels["a"] == "grade.a" and labels["(other)"] == "bin.(other)"
    assert labels["(missing)"] == "bin.(missing)"
    x_labels = b.loc[b["feature"] == "x", "label"].tolist()
    assert x_labels[0].startswith("< ") and x_labels[-2].startswith("≥ ")
    key, values = risk.scorecard_note(sc)
    assert key == "risk.notes.scorecard"
    assert values["loans"] == 5000 and values["defaults"] == int(np.sum(y))
    assert (values["pdo"], values["base_score"], values["base_odds"]) == (20.0, 600.0, 50.0)


def test_interval_labels_read_as_numbers():
    assert risk._interval_labels([]) == ["all"]
    assert risk._interval_labels([0.0401, 0.0457, 1234.6]) == [
        "< 0.0401",
        "0.0401 – 0.0457",
        "0.0457 – 1,235",
        "≥ 1,235",
    ]


def test_fit_refuses_a_target_without_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        Scorecard().fit(pd.DataFrame({"x": [1, 2, 3]}), [0, 0, 0])
    with pytest.raises(ValueError, match="only 0 and 1"):
        Scorecard().fit(pd.DataFrame({"x": [1, 2, 3]}), [0, 2, 1])
    with pytest.raises(ValueError, match="not fitted"):
        Scorecard().score(pd.DataFrame({"x": [1]}))


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


def test_score_distribution_and_validation_edge_cases():
    bins = risk.score_bins([500, 510, 520, 530, 540, 550, 560, 570, 580, 590], bins=2)
    # the median 545 cuts the bank into two bands of 5
    assert bins["lower"].tolist()[1] == approx(545.0)
    assert bins["share"].tolist() == [0.5, 0.5]
    book = pd.DataFrame(
        {"score": [500.0, 600, 610, np.nan], "in_default": [False, False, True, False]}
    )
    d = risk.score_distribution(book, bins=bins)
    assert d["loans"].tolist() == [1, 1]  # the loan in default and the unscored one are left out
    # a branch with no defaults: nothing measured
    v = risk.validation(
        pd.DataFrame({"bad": [0, 0, 0], "pd_model": [0.1, 0.2, 0.3]}), min_defaults=1
    )
    assert v["defaults"] == 0 and v["sufficient"] == 0.0 and math.isnan(v["auc"])
    # below the minimum: not measured; at it: measured
    o = pd.DataFrame({"bad": [0, 0, 1, 1], "pd_model": [0.1, 0.3, 0.2, 0.4]})
    assert math.isnan(risk.validation(o, min_defaults=3)["ks"])
    v2 = risk.validation(o, min_defaults=2)
    assert v2["auc"] == approx(0.75) and v2["gini"] == approx(0.5) and v2["sufficient"] == 1.0


def test_score_distribution_shows_open_ends_as_missing():
    bins = risk.score_bins([500, 510, 520, 530, 540, 550, 560, 570, 580, 590], bins=2)
    d = risk.score_distribution(pd.DataFrame({"score": [500.0], "in_default": [False]}), bins=bins)
    assert math.isnan(d["lower"].iloc[0]) and math.isnan(d["upper"].iloc[-1])
    assert d["upper"].iloc[0] == approx(545.0)


def test_psi_note_reads_the_bands_from_params():
    assert risk.psi_note(0.05)[0] == "risk.notes.psi_stable"
    assert risk.psi_note(0.10)[0] == "risk.notes.psi_watch"
    assert risk.psi_note(0.30)[0] == "risk.notes.psi_shift"
    assert risk.psi_note(float("nan"))[0] == "risk.notes.psi_none"
    key, values = risk.psi_note(0.15, watch=0.2, shift=0.3)
    assert key == "risk.notes.psi_stable" and values == {"psi": 0.15, "watch": 0.2, "shift": 0.3}


def test_branch_validation_without_scorecard_loans_or_defaults():
    X, y = _credit_data()
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
    assert row.columns.tolist() == ["loans", "defaults", "default_rate", "auc", "ks", "gini"]
    assert len(row) == 1 and row.loc[0, "ks"] == approx(v["ks"])


# -- expected loss ---------------------------------------------------------------------
def _flat_scorecard(bad: int, n: int) -> Scorecard:
    """A scorecard giving every loan PD = bad / n (no feature carries information)."""
    return Scorecard(min_iv=0.0).fit(pd.DataFrame({"k": [1.0] * n}), [1] * bad + [0] * (n - bad))


def _loans(**cols):
    base = {
        "loan_id": ["L1", "L2", "L3", "L4"],
        "customer_id": ["C1", "C2", "C3", "C3"],
        "name": ["张三", "李四", "王五公司", "王五公司"],
        "customer_type": ["individual", "individual", "corporate", "corporate"],
        "product": ["mortgage", "consumer", "business", "business"],
        "collateral_type": ["real_estate", "none", "guarantee", "vehicle"],
        "collateral_value": [1400.0, np.nan, np.nan, np.nan],
        "industry": [None, None, "manufacturing", "manufacturing"],
        "outstanding": [1000.0, 2000.0, 500.0, 100.0],
        "dpd": [0, 0, 95, 0],
        "five_class": ["pass", "pass", "substandard", "pass"],
        "ltv": [1000 / 1400, np.nan, np.nan, np.nan],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_expected_loss_pd_lgd_ead():
    book = risk.score_book(_loans(), scorecard=_flat_scorecard(1, 10), lgd=Lgd(), default_dpd=90)
    assert book["pd_model"].tolist() == approx([0.1] * 4)
    # L3 is in default (95 dpd, substandard): PD 1
    assert book["pd"].tolist() == approx([0.1, 0.1, 1.0, 0.1])
    # LGD: real estate 0.35, unsecured 0.75, guarantee 0.60, unknown type -> unsecured 0.75
    assert book["lgd"].tolist() == approx([0.35, 0.75, 0.60, 0.75])
    # EL: 0.1*0.35*1000 = 35; 0.1*0.75*2000 = 150; 1*0.6*500 = 300; 0.1*0.75*100 = 7.5
    assert book["el"].tolist() == approx([35.0, 150.0, 300.0, 7.5])
    el = risk.expected_loss(book).set_index("product")
    assert el.loc["business", "el"] == approx(307.5)
    assert el.loc["business", "el_rate"] == approx(307.5 / 600)
    assert el.loc["business", "pd"] == approx((1.0 * 500 + 0.1 * 100) / 600)  # EAD-weighted
    assert el.index[0] == "business"  # largest EL first
    k = risk.kpis(book=book, warnings=_flags_none(), compliance=_compliance_none())
    assert k["expected_loss_rate"] == approx(492.5 / 3600)  # 0.136806


def test_expected_loss_total_is_the_whole_book():
    book = risk.score_book(_loans(), scorecard=_flat_scorecard(1, 10), lgd=Lgd(), default_dpd=90)
    total = risk.expected_loss_total(book)
    assert total["loans"] == 4 and total["ead"] == approx(3600.0)
    assert total["el"] == approx(492.5) and total["el_rate"] == approx(492.5 / 3600)
    # EAD-weighted PD: (0.1 * 1000 + 0.1 * 2000 + 1 * 500 + 0.1 * 100) / 3600
    assert total["pd"] == approx(810 / 3600)
    empty = risk.expected_loss_total(book.iloc[0:0])
    assert math.isnan(empty["el"]) and math.isnan(empty["loans"])


def test_without_a_scorecard_scores_and_expected_loss_are_missing():
    book = risk.score_book(_loans(), scorecard=None, lgd=Lgd())
    assert book["score"].isna().all() and book["pd_model"].isna().all()
    assert book.loc[2, "pd"] == 1.0  # defaulted loans still PD 1
    k = risk.kpis(book=book, warnings=_flags_none(), compliance=_compliance_none())
    assert math.isnan(k["expected_loss_rate"])
    assert k["npl_ratio"] == approx(500 / 3600)


def _flags_none():
    return pd.DataFrame({"exposure": pd.Series(dtype=float), "n_rules": pd.Series(dtype=int)})


def _compliance_none():
    return pd.DataFrame({"status": pd.Series(dtype="string")})


# -- early warning -----------------------------------------------------------------------
def _borrower(**changes):
    """A healthy borrower: no rule tripped; ``changes`` move one input."""
    row = {
        "customer_id": "C1",
        "name": "星河贸易有限公司",
        "industry": "wholesale_retail",
        "exposure": 1000.0,
        "max_dpd": 0,
        "revenue": 100.0,
        "revenue_prev": 100.0,
        "inventory": 20.0,
        "inventory_prev": 20.0,
        "receivables": 10.0,
        "receivables_prev": 10.0,
        "total_assets": 200.0,
        "total_liabilities": 100.0,
        "current_assets": 60.0,
        "current_liabilities": 40.0,
        "operating_cash_flow": 5.0,
    }
    row.update(changes)
    return row


@pytest.mark.parametrize(
    "rule, tripped, held",
    [
        # revenue -15% and inventory +20% trips; revenue -5% or inventory +5% does not
        (
            "revenue_down_inventory_up",
            {"revenue": 85.0, "inventory": 24.0},
            {"revenue": 95.0, "inventory": 24.0},
        ),
        (
            "revenue_down_inventory_up",
            {"revenue": 85.0, "inventory": 24.0},
            {"revenue": 85.0, "inventory": 21.0},
        ),
        # receivable days 36.5 -> 73.0 (+36.5 >= 30) trips; -> 62.05 (+25.55) does not
        ("receivable_days_up", {"receivables": 20.0}, {"receivables": 17.0}),
        # debt-to-asset 150/200 = 0.75 > 0.70 trips; 130/200 = 0.65 does not
        ("debt_to_asset_high", {"total_liabilities": 150.0}, {"total_liabilities": 130.0}),
        # current ratio 38/40 = 0.95 < 1 trips; 42/40 = 1.05 does not
        ("current_ratio_low", {"current_assets": 38.0}, {"current_assets": 42.0}),
        # operating cash flow -1 < 0 trips; 0 does not
        ("negative_cash_flow", {"operating_cash_flow": -1.0}, {"operating_cash_flow": 0.0}),
        # any day past due trips (overdue_days = 0)
        ("overdue", {"max_dpd": 5}, {"max_dpd": 0}),
    ],
)
def test_each_early_warning_rule_at_both_sides(rule, tripped, held):
    f = risk.early_warning(
        pd.DataFrame([_borrower(), _borrower(**tripped), _borrower(**held)]), rules=EarlyWarning()
    )
    assert f[rule].tolist() == [False, True, False]
    assert f["n_rules"].tolist() == [0, 1, 0]


def test_early_warning_ratios_missing_data_and_list():
    rows = [
        _borrower(customer_id="C1", exposure=500.0, revenue=85.0, inventory=24.0, max_dpd=10),
        _borrower(customer_id="C2", exposure=900.0, total_liabilities=150.0),
        _borrower(customer_id="C3", exposure=2000.0),
        {
            **{k: np.nan for k in _borrower()},
            "customer_id": "C4",
            "name": "无报表公司",
            "industry": None,
            "exposure": 300.0,
            "max_dpd": 0,
        },
    ]
    f = risk.early_warning(pd.DataFrame(rows), rules=EarlyWarning())
    assert f.loc[0, "revenue_change"] == approx(-0.15)
    assert f.loc[0, "inventory_change"] == approx(0.20)
    assert f.loc[0, "receivable_days"] == approx(10 / 85 * 365)
    assert f.loc[1, "debt_to_asset"] == approx(0.75)
    assert f.loc[2, "current_ratio"] == approx(1.5)
    assert f["n_rules"].tolist() == [2, 1, 0, 0]  # no statements: nothing tripped
    w = risk.warning_list(f)
    assert w["customer_id"].tolist() == ["C2", "C1"]  # largest exposure first
    assert w["name"].tolist() == ["星***", "星***"]
    # stricter thresholds from params
    f2 = risk.early_warning(pd.DataFrame(rows), rules=EarlyWarning(debt_to_asset_max=0.4))
    assert f2["debt_to_asset_high"].tolist() == [True, True, True, False]
    # the rules each borrower tripped, in words
    names = [r.upper() for r in risk.EW_RULES]
    w = risk.warning_list(f, rule_names=names, sep=" / ")
    assert w["rules"].tolist() == ["DEBT_TO_ASSET_HIGH", "REVENUE_DOWN_INVENTORY_UP / OVERDUE"]
    r = risk.warning_rules(f).set_index("rule")
    assert r.index.tolist() == list(risk.EW_RULES)
    assert r.loc["overdue", "borrowers"] == 1 and r.loc["overdue", "exposure"] == 500.0
    assert r.loc["debt_to_asset_high", "exposure_share"] == approx(900 / 3700)
    assert r.loc["negative_cash_flow", "borrowers"] == 0
    # a branch without corporate borrowers
    none = risk.warning_rules(f.iloc[0:0])
    assert none["borrowers"].sum() == 0 and none["exposure_share"].isna().all()
    assert risk.warning_list(f.iloc[0:0], rule_names=names).empty


# -- collateral and concentration --------------------------------------------------------
def test_ltv_flags_and_distribution():
    book = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "name": ["张三", "李四", "王五", "赵六", "钱七"],
            "product": ["mortgage"] * 5,
            "collateral_type": ["real_estate"] * 4 + ["none"],
            "outstanding": [69.0, 70.0, 71.0, 120.0, 50.0],
            "collateral_value": [100.0, 100.0, 100.0, 100.0, np.nan],
            "ltv": [0.69, 0.70, 0.71, 1.2, np.nan],
        }
    )
    b = risk.ltv_breaches(book, limit=0.70)
    assert b["loan_id"].tolist() == ["L4", "L3"]  # above 70% only, largest first; 70% itself is not
    assert b["name"].tolist() == ["赵*", "王*"]
    # 71 + 120 of the secured 69 + 70 + 71 + 120 = 330
    assert risk.ltv_breach_share(book, limit=0.70) == approx(191 / 330)
    d = risk.ltv_distribution(book, bands=[0.3, 0.5, 0.7, 0.9, 1.0]).set_index("band")
    assert d.index.tolist() == [
        "<=30%",
        "30%-50%",
        "50%-70%",
        "70%-90%",
        "90%-100%",
        ">100%",
        "no_collateral",
    ]
    assert d["loans"].tolist() == [0, 0, 2, 1, 0, 1, 1]  # 0.70 falls in 50%-70% (right-closed)
    assert d.loc["no_collateral", "share"] == approx(50 / 380)


def test_industry_shares_hhi_and_top_borrowers():
    book = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
            "customer_id": ["A", "A", "B", "C", "D", "E"],
            "name": ["甲公司", "甲公司", "乙公司", "丙公司", "丁先生", "戊女士"],
            "customer_type": ["corporate"] * 4 + ["individual"] * 2,
            "industry": [
                "manufacturing",
                "manufacturing",
                "wholesale_retail",
                "construction",
                None,
                None,
            ],
            "outstanding": [300.0, 200.0, 300.0, 200.0, 700.0, 300.0],
        }
    )
    ind = risk.industry_shares(book)
    # corporate book 1000: manufacturing 500, wholesale 300, construction 200
    assert ind["industry"].tolist() == ["manufacturing", "wholesale_retail", "construction"]
    assert ind["share"].tolist() == approx([0.5, 0.3, 0.2])
    assert risk.hhi(ind["share"]) == approx(0.38)  # 0.25 + 0.09 + 0.04
    bank = pd.DataFrame({"industry": ["manufacturing", "logistics"], "share": [0.4, 0.6]})
    with_bank = risk.industry_shares(book, bank=bank)
    assert with_bank["bank_share"].tolist() == approx([0.4, 0.0, 0.0])
    assert risk.hhi([1.0]) == 1.0
    assert math.isnan(risk.hhi([]))
    # the two largest borrowers D 700 and A 500 hold 1200 of 2000
    assert risk.top_share(book, n=2) == approx(0.6)
    top = risk.top_borrowers(book, n=3)
    assert top["customer_id"].tolist() == ["D", "A", "B"]  # B and E tie at 300: by id
    assert top["loans"].tolist() == [1, 2, 1]
    assert top["share"].tolist() == approx([0.35, 0.25, 0.15])
    assert top["name"].tolist() == ["丁**", "甲**", "乙**"]


# -- compliance -------------------------------------------------------------------------
def test_compliance_classification():
    c = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(1, 9)],
            "kyc_status": [
                "complete",
                "incomplete",
                "expired",
                "complete",
                "complete",
                "complete",
                "complete",
                "complete",
            ],
            "open_alerts": [0, 0, 0, 0, 1, 1, 1, 0],
            "oldest_open_days": [np.nan, np.nan, np.nan, np.nan, 10, 31, 30, np.nan],
            "reported_alerts": [0, 0, 0, 1, 0, 0, 0, 0],
            "closed_alerts": [0, 0, 0, 0, 0, 0, 0, 1],
        }
    )
    s = risk.compliance_status(c, rules=Compliance())
    assert s["status"].tolist() == [
        "compliant",
        "watch",
        "risk",
        "risk",
        "watch",
        "risk",
        "watch",
        "watch",
    ]
    assert s["reason"].tolist() == [
        "",
        "kyc",
        "kyc",
        "reported_alert",
        "open_alert",
        "open_alert_overdue",
        "open_alert",
        "closed_alert",
    ]
    t = risk.compliance_table(s).set_index("status")
    assert t["customers"].tolist() == [1, 4, 3]
    assert t.loc["risk", "share"] == approx(3 / 8)
    lenient = risk.compliance_status(c, rules=Compliance(kyc_expired="watch"))
    assert lenient.loc[2, "status"] == "watch"
    r = risk.compliance_reasons(s)
    # risk first, then watch; within a class the most customers first, ties by reason
    assert list(zip(r["status"], r["reason"], r["customers"], strict=True)) == [
        ("risk", "kyc", 1),
        ("risk", "open_alert_overdue", 1),
        ("risk", "reported_alert", 1),
        ("watch", "open_alert", 2),
        ("watch", "closed_alert", 1),
        ("watch", "kyc", 1),
    ]
    assert r["share"].iloc[3] == approx(2 / 8)
    assert risk.compliance_reasons(s[s["status"] == "compliant"]).empty


def test_open_alert_ageing():
    as_of = dt.date(2026, 10, 31)
    ages = [0, 7, 8, 30, 31, 90, 91]
    a = pd.DataFrame(
        {
            "alert_id": [f"A{i}" for i in range(9)],
            "raised_on": [as_of - dt.timedelta(days=d) for d in ages]
            + [dt.date(2026, 1, 1), dt.date(2026, 11, 5)],
            "status": ["open"] * 7 + ["closed", "open"],  # closed, and raised after as_of
        }
    )
    g = risk.alert_ageing(a, as_of=as_of, ageing_days=[7, 30, 90])
    assert g["bucket"].tolist() == ["0-7", "8-30", "31-90", ">90"]
    assert g["alerts"].tolist() == [2, 2, 2, 1]


# -- risk matrix -----------------------------------------------------------------------
def test_risk_matrix_bands():
    book = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "customer_id": ["A", "B", "C", "C", "D"],
            "name": ["甲", "乙", "丙", "丙", "丁"],
            "outstanding": [99_999.0, 100_000.0, 6_000_000.0, 4_000_000.0, 50.0],
            "ead": [99_999.0, 100_000.0, 6_000_000.0, 4_000_000.0, 50.0],
            "pd": [0.005, 0.01, 0.1, 0.4, np.nan],
        }
    )
    b = risk.borrower_risk(book, pd_bands=S.pd_bands, exposure_bands=S.exposure_bands)
    b = b.set_index("customer_id")
    assert "D" not in b.index  # no PD, no place in the matrix
    # PD 0.5% -> 1; 1% (at the cut) -> 2; C: (0.1*6m + 0.4*4m) / 10m = 0.22 -> 5
    assert b["probability"].tolist() == [1, 2, 5]
    assert b.loc["C", "pd"] == approx(0.22)
    # exposure 99,999 -> 1; 100,000 -> 2; 10,000,000 -> 5
    assert b["impact"].tolist() == [1, 2, 5]
    m = risk.risk_matrix(b)
    assert m.shape == (5, 5) and m.to_numpy().sum() == 3
    assert m.loc[5, 5] == 1 and m.loc[1, 1] == 1
    top = risk.matrix_list(b.reset_index(), n=2)
    assert top["customer_id"].tolist() == ["C", "B"]  # ratings 25 and 4
    assert top["rating"].tolist() == [25, 4]
    summary = risk.matrix_summary(b)
    assert summary == {"borrowers": 3, "high": 1, "exposure": 10_000_000.0}
    bands = risk.matrix_bands(S.pd_bands, S.exposure_bands).set_index("matrix_band")
    assert bands.index.tolist() == [1, 2, 3, 4, 5]
    assert math.isnan(bands.loc[1, "pd_from"]) and bands.loc[1, "pd_to"] == 0.01
    assert bands.loc[5, "exposure_from"] == 10_000_000.0 and math.isnan(bands.loc[5, "exposure_to"])


# -- settings --------------------------------------------------------------------------
def test_settings_defaults_and_validation():
    s = Settings()
    assert s.ltv_limit == 0.70 and s.scorecard.pdo == 20.0 and s.list_rows == 20
    assert set(s.kpi_status) == set(risk.KPI_KINDS)
    # one KPI's thresholds overridden, the others keep their defaults
    s2 = Settings.model_validate(
        {"kpi_status": {"npl_ratio": {"good": "low", "green": 0.01, "amber": 0.02}}}
    )
    assert s2.kpi_status["npl_ratio"].green == 0.01 and "top10_share" in s2.kpi_status
    assert Settings.model_validate({"ltv_limit": 1}).ltv_limit == 1.0  # whole numbers accepted
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
    ]
    for data in bad:
        with pytest.raises(ValidationError):
            Settings.model_validate(data)


# -- prepare on a tiny warehouse ---------------------------------------------------------
MONTHS = [f"2025-{m:02d}" for m in (9, 10, 11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]


def _tiny_tables() -> dict[str, pd.DataFrame]:
    """Branch 0101 with four loans, branch 0102 with none."""
    d = dt.date
    branches = pd.DataFrame(
        {
            "branch_id": ["0101", "0102"],
            "name": ["East", "West"],
            "name_zh": ["东区", "西区"],
            "region": ["R", "R"],
            "city": ["X", "X"],
            "opened_on": [d(2000, 1, 1)] * 2,
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "branch_id": ["0101"] * 4 + ["0102"] * 2,
            "manager_id": [None] * 6,
            "customer_type": [
                "individual",
                "corporate",
                "corporate",
                "individual",
                "individual",
                "individual",
            ],
            "name": ["张三", "华东机械有限公司", "宏达建设有限公司", "李四", "王五", "赵六"],
            "industry": [None, "manufacturing", "construction", None, None, None],
            "opened_on": [d(2020, 1, 1)] * 6,
            "closed_on": [None] * 5 + [d(2026, 6, 30)],
            "kyc_status": ["complete", "complete", "complete", "expired", "complete", "complete"],
        }
    )
    balances = pd.DataFrame(
        [(c, m, 1000.0, 0.0, 0.0, 1) for c in customers["customer_id"] for m in MONTHS],
        columns=[
            "customer_id",
            "month",
            "deposits",
            "wealth",
            "loans_outstanding",
            "products_held",
        ],
    )
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "customer_id": ["C1", "C2", "C3", "C4"],
            "branch_id": ["0101"] * 4,
            "manager_id": [None] * 4,
            "product": ["mortgage", "working_capital", "business", "consumer"],
            "originated_on": [d(2024, 1, 15), d(2025, 1, 10), d(2025, 3, 1), d(2025, 6, 1)],
            "maturity_on": [d(2044, 1, 15), d(2027, 1, 10), d(2028, 3, 1), d(2026, 12, 1)],
            "principal": [700_000.0, 300_000.0, 100_000.0, 30_000.0],
            "interest_rate": [0.04, 0.06, 0.07, 0.09],
            "collateral_type": ["real_estate", "none", "equipment", "none"],
            "collateral_value": [1_000_000.0, None, 100_000.0, None],
            "industry": [None, "manufacturing", None, None],
        }
    )
    snaps = []
    for m in MONTHS:
        snaps.append(("L1", m, 600_000.0, 0, "pass"))
        l2 = {"2026-09": (15, "special_mention"), "2026-10": (45, "special_mention")}.get(
            m, (0, "pass")
        )
        snaps.append(("L2", m, 300_000.0, *l2))
        snaps.append(
            ("L3", m, 80_000.0, *((100, "substandard") if m >= "2026-04" else (0, "pass")))
        )
        if m <= "2026-09":  # repaid in October
            snaps.append(("L4", m, 20_000.0, 0, "pass"))
    loan_snapshots = pd.DataFrame(
        snaps, columns=["loan_id", "month", "outstanding", "dpd", "five_class"]
    )
    fin_cols = [
        "customer_id",
        "period_end",
        "revenue",
        "net_profit",
        "total_assets",
        "total_liabilities",
        "current_assets",
        "current_liabilities",
        "inventory",
        "receivables",
        "operating_cash_flow",
    ]
    financials = pd.DataFrame(
        [
            ("C2", d(2024, 12, 31), 1000.0, 50.0, 2000.0, 1000.0, 600.0, 400.0, 100.0, 100.0, 50.0),
            ("C2", d(2025, 12, 31), 800.0, 10.0, 2000.0, 1000.0, 600.0, 400.0, 150.0, 80.0, 50.0),
            # after the period: must not be used
            ("C2", d(2026, 12, 31), 1.0, -5.0, 2000.0, 1990.0, 1.0, 400.0, 999.0, 1.0, -50.0),
        ],
        columns=fin_cols,
    )
    aml_alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2", "A3", "A4"],
            "customer_id": ["C1", "C2", "C5", "C3"],
            "raised_on": [d(2026, 10, 20), d(2026, 5, 10), d(2026, 11, 5), d(2024, 1, 1)],
            "alert_type": ["large_cash"] * 4,
            "status": ["open", "reported", "open", "closed"],
        }
    )
    return {
        "branches": branches,
        "customers": customers,
        "balances": balances,
        "loans": loans,
        "loan_snapshots": loan_snapshots,
        "financials": financials,
        "aml_alerts": aml_alerts,
    }


def _shift(month, k):
    y, m = (int(p) for p in month.split("-"))
    i = y * 12 + m - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _ctx(tables, settings=None, period="2026-10"):
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period=period,
        prev_period=_shift(period, -1),
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31),
        months=lambda n: [_shift(period, -i) for i in range(n - 1, -1, -1)],
        settings=settings or Settings(),
    )


@pytest.fixture(scope="module")
def tiny():
    return risk.prepare(_ctx(_tiny_tables()))


def _branch(out, branch_id):
    return {
        k: v[v["branch_id"] == branch_id].reset_index(drop=True)
        for k, v in out.items()
        if not k.startswith("bench_")
    }


def _notebook(out, branch_id, s=S, period="2026-10"):
    """The calls the risk notebook makes, in its order, on one branch's extract."""
    x = _branch(out, branch_id)
    sc = risk.load_scorecard(out["bench_risk_scorecard"])
    book = risk.score_book(
        x["risk_loans"], scorecard=sc, lgd=s.lgd, default_dpd=s.scorecard.default_dpd
    )
    flags = risk.early_warning(x["risk_borrowers"], rules=s.early_warning)
    status = risk.compliance_status(x["risk_customers"], rules=s.compliance)
    k = risk.kpis(book=book, warnings=flags, compliance=status)
    prev_k, bank = risk.kpi_context(out["bench_risk_kpis"], branch_id=branch_id, period=period)
    val = risk.branch_validation(
        x["risk_outcomes"], scorecard=sc, min_defaults=s.scorecard.min_defaults
    )
    dist = risk.score_distribution(book, bins=out["bench_risk_score_bins"])
    psi_value = risk.psi(dist["bank_share"], dist["loans"])
    breaches = risk.ltv_breaches(book, limit=s.ltv_limit)
    ind = risk.industry_shares(book)
    trend = risk.npl_trend(
        x["risk_book"], bench_trend=out["bench_risk_trend"], months=risk.trend_months(period, 12)
    )
    facts = risk.summary_facts(
        kpis=k,
        prev=prev_k,
        bank=bank,
        warnings=flags,
        breaches=breaches,
        validation=val,
        psi_value=psi_value,
        industries=ind,
        settings=s,
        has_scorecard=sc is not None,
        trend=trend,
    )
    return {
        "x": x,
        "scorecard": sc,
        "book": book,
        "flags": flags,
        "status": status,
        "kpis": k,
        "prev": prev_k,
        "bank": bank,
        "validation": val,
        "dist": dist,
        "psi": psi_value,
        "breaches": breaches,
        "industries": ind,
        "facts": facts,
        "five_class": risk.five_class_mix(x["risk_book"], month=period),
        "dpd": risk.dpd_mix(x["risk_book"], month=period),
        "trend": trend,
        "rolls": risk.roll_rates(x["risk_rolls"], month=period),
        "el": risk.expected_loss(book),
        "warnings": risk.warning_list(flags),
        "ltv": risk.ltv_distribution(book, bands=s.ltv_bands),
        "top": risk.top_borrowers(book, n=s.top_borrowers),
        "compliance": risk.compliance_table(status),
        "matrix": risk.risk_matrix(
            risk.borrower_risk(book, pd_bands=s.pd_bands, exposure_bands=s.exposure_bands)
        ),
    }


def test_prepare_returns_the_artifacts(tiny):
    assert set(tiny) == {
        "risk_loans",
        "risk_outcomes",
        "risk_book",
        "risk_rolls",
        "risk_borrowers",
        "risk_customers",
        "bench_risk_scorecard",
        "bench_risk_kpis",
        "bench_risk_trend",
        "bench_risk_rolls",
        "bench_risk_score_bins",
        "bench_risk_industry",
    }
    for name, frame in tiny.items():
        assert name.startswith("bench_") or "branch_id" in frame.columns, name


def test_prepare_loan_book_by_hand(tiny):
    loans = tiny["risk_loans"].set_index("loan_id")
    assert sorted(loans.index) == ["L1", "L2", "L3"]  # L4 repaid in October
    assert loans.loc["L1", "ltv"] == approx(0.6)  # 600,000 / 1,000,000
    assert loans.loc["L3", "industry"] == "construction"  # from the customer
    assert loans.loc["L1", "loan_age_months"] == 33  # Jan 2024 -> Oct 2026
    assert loans.loc["L2", "max_dpd_6m"] == 45
    assert loans.loc["L2", "dpd_bucket"] == "31-60"
    r = risk.book_ratios(tiny["risk_book"]).set_index(["branch_id", "month"])
    # Oct: NPL 80,000 / (600,000 + 300,000 + 80,000) = 0.081633; SM 300,000 / 980,000
    assert r.loc[("0101", "2026-10"), "npl_ratio"] == approx(80 / 980)
    assert r.loc[("0101", "2026-10"), "special_mention_ratio"] == approx(300 / 980)
    # Sep: NPL 80,000 / 1,000,000
    assert r.loc[("0101", "2026-09"), "npl_ratio"] == approx(0.08)
    assert tiny["risk_book"]["month"].min() == "2025-10"  # 13 months: trend plus the one before


def test_prepare_roll_rates_by_hand(tiny):
    rolls = tiny["risk_rolls"]
    m = risk.roll_rates(rolls[rolls["branch_id"] == "0101"], month="2026-10")
    # current last month: L1 600,000 stays current, L4 20,000 repaid
    assert m.loc["current", "current"] == approx(600 / 620)
    assert m.loc["current", "closed"] == approx(20 / 620)
    assert m.loc["1-30", "31-60"] == 1.0  # L2: 15 -> 45 days
    assert m.loc["90+", "90+"] == 1.0  # L3
    assert m.loc["61-90"].isna().all()
    bank = risk.roll_rates(tiny["bench_risk_rolls"], month="2026-10")
    pd.testing.assert_frame_equal(bank, m)  # one branch with loans: bank = branch


def test_prepare_without_enough_defaults_fits_no_scorecard(tiny):
    sc = tiny["bench_risk_scorecard"]
    # dev month Oct 2025: L1-L4 performing; only L3 goes over 90 days past due
    assert sc.loc[0, "status"] == "too_few_defaults"
    assert sc.loc[0, "development_month"] == "2025-10"
    assert (sc.loc[0, "loans"], sc.loc[0, "defaults"]) == (4, 1)
    assert risk.load_scorecard(sc) is None
    dev = tiny["risk_outcomes"].set_index("loan_id")
    assert dev["bad"].to_dict() == {"L1": 0, "L2": 0, "L3": 1, "L4": 0}


def test_prepare_without_history_keeps_the_outcomes_table():
    # the first month of the warehouse: no earlier month to fit on
    out = risk.prepare(_ctx(_tiny_tables(), period="2025-09"))
    assert out["bench_risk_scorecard"].loc[0, "status"] == "no_history"
    dev = out["risk_outcomes"]
    assert dev.empty and {"branch_id", "loan_id", "bad", "ltv"} <= set(dev.columns)
    nb = _notebook(out, "0101", period="2025-09")
    assert nb["validation"]["loans"] == 0.0 and math.isnan(nb["validation"]["auc"])
    assert "risk.summary.no_scorecard" in [k for k, _ in nb["facts"]]


def test_prepare_early_warning_and_compliance_by_hand(tiny):
    flags = risk.early_warning(tiny["risk_borrowers"], rules=S.early_warning).set_index(
        "customer_id"
    )
    # C2: revenue 1000 -> 800 (-20%), inventory 100 -> 150 (+50%); the 2026 statement is ignored
    assert flags.loc["C2", "revenue_change"] == approx(-0.2)
    assert bool(flags.loc["C2", "revenue_down_inventory_up"])
    assert bool(flags.loc["C2", "overdue"]) and flags.loc["C2", "n_rules"] == 2
    assert flags.loc["C3", "n_rules"] == 1  # overdue only: no statements
    status = risk.compliance_status(tiny["risk_customers"], rules=S.compliance).set_index(
        "customer_id"
    )
    # C1 open alert 11 days: watch; C2 reported: risk; C3 alert closed in 2024: compliant;
    # C4 KYC expired: risk; C5 alert raised after the period: compliant; C6 closed: absent
    assert status["status"].to_dict() == {
        "C1": "watch",
        "C2": "risk",
        "C3": "compliant",
        "C4": "risk",
        "C5": "compliant",
    }


def test_prepare_benchmarks_by_hand(tiny):
    b = tiny["bench_risk_kpis"].set_index(["branch_id", "month"])
    assert len(b) == 4  # two branches x (period, previous period), the empty branch included
    east, east_prev = b.loc[("0101", "2026-10")], b.loc[("0101", "2026-09")]
    assert east["npl_ratio"] == approx(80 / 980)
    assert east_prev["npl_ratio"] == approx(0.08)
    assert east["warning_exposure_share"] == approx(380 / 980)  # C2 300,000 + C3 80,000
    assert east_prev["warning_exposure_share"] == approx(0.38)  # of 1,000,000
    assert east["top10_share"] == 1.0
    assert east["risk_customer_share"] == 0.5  # C2, C4 of four
    assert math.isnan(east["expected_loss_rate"])  # no scorecard
    assert east["hhi"] == approx((300 / 380) ** 2 + (80 / 380) ** 2)  # 0.667590
    assert east["ltv_breach_share"] == approx(80 / 680)  # L3 at 80% of secured 680,000
    west = b.loc[("0102", "2026-10")]
    assert math.isnan(west["npl_ratio"]) and math.isnan(west["top10_share"])
    assert west["risk_customer_share"] == 0.0 and west["loans"] == 0
    ind = tiny["bench_risk_industry"].set_index("industry")["share"]
    assert ind.to_dict() == approx({"manufacturing": 300 / 380, "construction": 80 / 380})


def test_branch_values_equal_the_benchmark_row(tiny):
    nb = _notebook(tiny, "0101")
    row = tiny["bench_risk_kpis"].set_index(["branch_id", "month"]).loc[("0101", "2026-10")]
    for k, v in nb["kpis"].items():
        assert v == approx(row[k]), k
    assert nb["prev"]["npl_ratio"] == approx(0.08)
    assert nb["warnings"]["customer_id"].tolist() == ["C2", "C3"]
    assert nb["breaches"]["loan_id"].tolist() == ["L3"]
    keys = [k for k, _ in nb["facts"]]
    assert 3 <= len(keys) <= 6
    assert keys[0] == "risk.summary.npl_level"  # +0.16 pp, below the 0.5 pp alert
    assert "risk.summary.no_scorecard" in keys and "risk.summary.early_warning" in keys
    # NPL 0% in Nov 2025 (L3 still performing) to 8.16% now: a rise over the trend window
    assert dict(nb["facts"])["risk.summary.npl_trend"] == approx(
        {"npl_ratio": 80 / 980, "start": 0.0, "months": 11}
    )


def test_empty_branch_runs_every_section(tiny):
    nb = _notebook(tiny, "0102")
    assert nb["book"].empty and nb["warnings"].empty and nb["breaches"].empty
    assert all(
        math.isnan(nb["kpis"][k]) for k in ("npl_ratio", "top10_share", "expected_loss_rate")
    )
    assert nb["kpis"]["risk_customer_share"] == 0.0
    assert nb["five_class"]["share"].isna().all() and nb["dpd"]["loans"].sum() == 0
    assert nb["trend"]["npl_ratio"].isna().all() and nb["trend"]["bank_npl_ratio"].notna().any()
    assert nb["rolls"].isna().all().all()
    assert nb["el"].empty and nb["top"].empty and nb["industries"].empty
    assert nb["ltv"]["loans"].sum() == 0 and nb["matrix"].to_numpy().sum() == 0
    assert nb["validation"]["sufficient"] == 0.0 and math.isnan(nb["psi"])
    assert [k for k, _ in nb["facts"]] == ["risk.summary.no_loans", "risk.summary.compliance"]
    assert nb["compliance"]["customers"].tolist() == [1, 0, 0]


# -- prepare with a fitted scorecard ---------------------------------------------------------
def _generated_tables(n_loans=600, seed=3) -> dict[str, pd.DataFrame]:
    """Three branches, loans whose default depends on their rate, 14 months."""
    rng = np.random.default_rng(seed)
    t = _tiny_tables()
    branches = pd.DataFrame(
        {
            "branch_id": ["0101", "0102", "0103"],
            "name": list("ABC"),
            "name_zh": list("甲乙丙"),
            "region": "R",
            "city": "X",
            "opened_on": dt.date(2000, 1, 1),
        }
    )
    ids = [f"C{i:05d}" for i in range(n_loans)]
    corporate = rng.random(n_loans) < 0.3
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "branch_id": rng.choice(branches["branch_id"], n_loans),
            "manager_id": None,
            "customer_type": np.where(corporate, "corporate", "individual"),
            "name": [f"客户{i}" for i in range(n_loans)],
            "industry": np.where(
                corporate, rng.choice(["manufacturing", "construction", "logistics"], n_loans), None
            ),
            "opened_on": dt.date(2019, 1, 1),
            "closed_on": None,
            "kyc_status": rng.choice(
                ["complete", "incomplete", "expired"], n_loans, p=[0.9, 0.07, 0.03]
            ),
        }
    )
    rate = rng.uniform(0.03, 0.10, n_loans)
    bad = rng.random(n_loans) < 1 / (1 + np.exp(-(-3.5 + 60 * (rate - 0.065))))
    loans = pd.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(n_loans)],
            "customer_id": ids,
            "branch_id": customers["branch_id"],
            "manager_id": None,
            "product": np.where(corporate, "business", "consumer"),
            "originated_on": dt.date(2025, 1, 1),
            "maturity_on": dt.date(2029, 1, 1),
            "principal": rng.uniform(5e4, 2e6, n_loans),
            "interest_rate": rate,
            "collateral_type": rng.choice(["none", "real_estate", "deposit"], n_loans),
            "collateral_value": np.nan,
            "industry": None,
        }
    )
    loans["collateral_value"] = np.where(
        loans["collateral_type"] == "none",
        np.nan,
        loans["principal"] * rng.uniform(1.0, 2.0, n_loans),
    )
    month_idx = np.tile(np.arange(len(MONTHS)), n_loans)
    loan_idx = np.repeat(np.arange(n_loans), len(MONTHS))
    dpd = np.where(bad[loan_idx] & (month_idx >= 8), 100, 0)
    snaps = pd.DataFrame(
        {
            "loan_id": loans["loan_id"].to_numpy()[loan_idx],
            "month": np.array(MONTHS)[month_idx],
            "outstanding": loans["principal"].to_numpy()[loan_idx] * 0.9,
            "dpd": dpd,
            "five_class": np.where(dpd > 0, "substandard", "pass"),
        }
    )
    balances = pd.DataFrame(
        {
            "customer_id": np.repeat(ids, len(MONTHS)),
            "month": np.tile(MONTHS, n_loans),
            "deposits": 1e4,
            "wealth": 0.0,
            "loans_outstanding": 0.0,
            "products_held": 2,
        }
    )
    return {
        **t,
        "branches": branches,
        "customers": customers,
        "loans": loans,
        "loan_snapshots": snaps,
        "balances": balances,
        "financials": t["financials"],
        "aml_alerts": t["aml_alerts"],
    }


@pytest.fixture(scope="module")
def fitted():
    s = Settings.model_validate({"scorecard": {"min_fit_defaults": 5, "min_defaults": 5}})
    return s, risk.prepare(_ctx(_generated_tables(), settings=s))


def test_prepare_fits_the_scorecard_and_branches_match_the_bank(fitted, tmp_path):
    s, out = fitted
    sc_frame = out["bench_risk_scorecard"]
    assert sc_frame.loc[0, "status"] == "fitted"
    path = tmp_path / "bench_risk_scorecard.parquet"
    sc_frame.to_parquet(path)
    sc = risk.load_scorecard(pd.read_parquet(path))
    assert "interest_rate" in sc.features
    bench = out["bench_risk_kpis"].set_index(["branch_id", "month"])
    for b in ("0101", "0102", "0103"):
        nb = _notebook(out, b, s=s)
        row = bench.loc[(b, "2026-10")]
        for k, v in nb["kpis"].items():
            assert v == approx(row[k]), (b, k)
        assert nb["psi"] == approx(row["psi"])
        assert nb["validation"]["defaults"] == row["defaults"]
        assert nb["validation"]["auc"] == approx(row["auc"])
        assert risk.hhi(nb["industries"]["share"]) == approx(row["hhi"])
        keys = [k for k, _ in nb["facts"]]
        if nb["validation"]["defaults"] >= 5:
            assert nb["validation"]["auc"] > 0.6
        else:  # 0103 has 4 defaults: too few to measure, and the summary says so
            assert math.isnan(nb["validation"]["auc"])
        # the loaded scorecard scores the branch exactly as the bank's fit did
        scored = risk.score_book(out["risk_loans"], scorecard=sc, lgd=s.lgd)
        assert (
            nb["book"]["score"].tolist() == scored.loc[scored["branch_id"] == b, "score"].tolist()
        )
        assert 3 <= len(keys) <= 6
    bins = out["bench_risk_score_bins"]
    assert len(bins) == 10 and bins["share"].sum() == approx(1.0)


# -- texts -------------------------------------------------------------------------------
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_shown_key_has_a_text(locale, tiny, fitted):
    from branchbook import i18n

    cat = i18n.catalogue(locale)
    assert set(risk.DEFINITIONS.values()) <= set(cat)
    assert {f"risk.terms.{m}" for m in risk.DEFINITIONS} <= set(cat)
    assert {f"risk.kpis.{k}" for k in risk.KPI_KINDS} <= set(cat)
    coded = {
        "five_class": risk.FIVE_CLASSES,
        "dpd_bucket": (*risk.DPD_BUCKETS, risk.CLOSED),
        "ew_rule": risk.EW_RULES,
        "compliance": risk.COMPLIANCE_CLASSES,
        "feature": risk.SCORE_FEATURES,
        "psi_band": ("stable", "watch", "shift", "none"),
        "collateral_type": tuple(Lgd.model_fields),
    }
    for prefix, codes in coded.items():
        assert {f"risk.values.{prefix}.{c}" for c in codes} <= set(cat), prefix
    assert {f"risk.columns.{c}" for c in risk.EW_RULES} <= set(cat)
    # every summary fact renders, with the values it is given
    facts = _notebook(tiny, "0101")["facts"] + _notebook(tiny, "0102")["facts"]
    s, out = fitted
    for b in ("0101", "0102", "0103"):
        facts += _notebook(out, b, s=s)["facts"]
    for key, values in facts:
        assert i18n.t(key, locale, **values)
    # and every summary sentence renders with the values summary_facts gives it
    samples = {
        "npl_level": {"npl_ratio": 0.02, "bank_median": 0.015},
        "npl_up": {"npl_ratio": 0.02, "bank_median": 0.015, "change": 0.006},
        "npl_down": {"npl_ratio": 0.02, "bank_median": 0.015, "change": -0.006},
        "npl_trend": {"npl_ratio": 0.04, "start": 0.004, "months": 11},
        "early_warning": {"borrowers": 3, "exposure": 1.2e7, "share": 0.1},
        "ltv": {"loans": 4, "outstanding": 3.5e6, "limit": 0.7},
        "psi_watch": {"psi": 0.12},
        "psi_shift": {"psi": 0.3},
        "concentration": {"top10_share": 0.5, "bank_median": 0.3, "industry_share": 0.4},
        "discrimination": {"auc": 0.78, "ks": 0.41},
        "few_defaults": {"defaults": 3, "minimum": 10},
        "expected_loss": {"el_rate": 0.012, "bank_median": 0.01},
        "no_scorecard": {},
        "compliance": {"risk_share": 0.03, "bank_median": 0.02},
        "no_loans": {},
    }
    assert {f"risk.summary.{k}" for k in samples} == {
        k for k in cat if k.startswith("risk.summary.")
    }
    for key, values in samples.items():
        assert "{" not in i18n.t(f"risk.summary.{key}", locale, **values)


def test_summary_facts_pick_what_changed():
    k = {
        "npl_ratio": 0.031,
        "special_mention_ratio": 0.04,
        "expected_loss_rate": 0.012,
        "warning_exposure_share": 0.2,
        "top10_share": 0.6,
        "risk_customer_share": 0.02,
    }
    prev = {**k, "npl_ratio": 0.025}
    bank = {**k, "npl_ratio": 0.02, "top10_share": 0.3}
    warn = pd.DataFrame({"exposure": [100.0, 50.0, 10.0], "n_rules": [2, 1, 0]})
    breaches = pd.DataFrame({"outstanding": [70.0]})
    ind = pd.DataFrame({"industry": ["construction"], "share": [0.4]})
    val = {"defaults": 3.0, "sufficient": 0.0}
    facts = dict(
        risk.summary_facts(
            kpis=k,
            prev=prev,
            bank=bank,
            warnings=warn,
            breaches=breaches,
            validation=val,
            psi_value=0.3,
            industries=ind,
            settings=S,
        )
    )
    keys = list(facts)
    # NPL up 0.6 pp (>= 0.5 pp), then at most three findings, then EL and compliance
    assert keys == [
        "risk.summary.npl_up",
        "risk.summary.early_warning",
        "risk.summary.ltv",
        "risk.summary.psi_shift",
        "risk.summary.expected_loss",
        "risk.summary.compliance",
    ]
    assert facts["risk.summary.npl_up"]["change"] == approx(0.006)
    assert facts["risk.summary.early_warning"] == {"borrowers": 2, "exposure": 150.0, "share": 0.2}
    down = risk.summary_facts(
        kpis=k,
        prev={**k, "npl_ratio": 0.04},
        bank=bank,
        warnings=warn.iloc[0:0],
        breaches=breaches.iloc[0:0],
        validation=val,
        psi_value=0.05,
        industries=ind,
        settings=S,
    )
    assert [key for key, _ in down] == [
        "risk.summary.npl_down",
        "risk.summary.concentration",
        "risk.summary.few_defaults",
        "risk.summary.expected_loss",
        "risk.summary.compliance",
    ]
