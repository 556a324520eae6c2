"""Applying the scorecard: the report's scorecard tables, score bands, validation, expected loss."""

import math

import numpy as np
import pandas as pd

from branchbook import risk
from branchbook.risk import Lgd, Scorecard, scoring

from .helpers import approx, compliance_none, credit_data, flags_none, flat_scorecard, loans_frame


def test_scorecard_features_bins_and_note_for_the_report():
    X, y = credit_data()
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
    # grade: a, c, and b grouped with (other) (which holds the 1% level "rare")
    assert labels["a"] == "grade.a" and labels["b, (other)"] == "b, (other)"
    assert labels["(missing)"] == "bin.(missing)"
    # a group is labelled by its levels' display names; the rare level inside (other) is not named
    shown = risk.scorecard_bins(sc, names=lambda v, p: [f"<{p}.{x}>" for x in v], sep=" + ")
    assert shown.loc[shown["bin"] == "b, (other)", "label"].tolist() == [
        "<grade.b> + <bin.(other)>"
    ]
    assert shown.loc[shown["bin"] == "a", "label"].tolist() == ["grade.a"]
    x_labels = b.loc[b["feature"] == "x", "label"].tolist()
    assert x_labels[0].startswith("< ") and x_labels[-2].startswith("≥ ")
    key, values = risk.scorecard_note(sc)
    assert key == "risk.notes.scorecard"
    assert values["loans"] == 5000 and values["defaults"] == int(np.sum(y))
    assert (values["pdo"], values["base_score"], values["base_odds"]) == (20.0, 600.0, 50.0)


def test_interval_labels_read_as_numbers():
    assert scoring._interval_labels([]) == ["all"]
    assert scoring._interval_labels([0.0401, 0.0457, 1234.6]) == [
        "< 0.0401",
        "0.0401 – 0.0457",
        "0.0457 – 1,235",
        "≥ 1,235",
    ]


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


def test_expected_loss_pd_lgd_ead():
    book = risk.score_book(
        loans_frame(), scorecard=flat_scorecard(1, 10), lgd=Lgd(), default_dpd=90
    )
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
    k = risk.kpis(book=book, warnings=flags_none(), compliance=compliance_none())
    assert k["expected_loss_rate"] == approx(492.5 / 3600)  # 0.136806


def test_expected_loss_total_is_the_whole_book():
    book = risk.score_book(
        loans_frame(), scorecard=flat_scorecard(1, 10), lgd=Lgd(), default_dpd=90
    )
    total = risk.expected_loss_total(book)
    assert total["loans"] == 4 and total["ead"] == approx(3600.0)
    assert total["el"] == approx(492.5) and total["el_rate"] == approx(492.5 / 3600)
    # EAD-weighted PD: (0.1 * 1000 + 0.1 * 2000 + 1 * 500 + 0.1 * 100) / 3600
    assert total["pd"] == approx(810 / 3600)
    empty = risk.expected_loss_total(book.iloc[0:0])
    assert math.isnan(empty["el"]) and math.isnan(empty["loans"])


def test_without_a_scorecard_scores_and_expected_loss_are_missing():
    book = risk.score_book(loans_frame(), scorecard=None, lgd=Lgd())
    assert book["score"].isna().all() and book["pd_model"].isna().all()
    assert book.loc[2, "pd"] == 1.0  # defaulted loans still PD 1
    k = risk.kpis(book=book, warnings=flags_none(), compliance=compliance_none())
    assert math.isnan(k["expected_loss_rate"])
    assert k["npl_ratio"] == approx(500 / 3600)


def test_undrawn_commitments_enter_ead_with_the_credit_conversion_factor():
    loans = loans_frame(undrawn=[0.0, 400.0, np.nan, 0.0])
    book = risk.score_book(loans, scorecard=flat_scorecard(1, 10), lgd=Lgd(), ccf=0.5)
    # L2: 2000 + 0.5 x 400 = 2200; L3's missing undrawn counts as none
    assert book["ead"].tolist() == approx([1000.0, 2200.0, 500.0, 100.0])
    assert book.loc[1, "el"] == approx(0.1 * 0.75 * 2200)  # 165
    assert risk.ead_note(book, ccf=0.5) == (
        "risk.notes.el_method_ccf",
        {"ccf": 0.5, "undrawn": 400.0},
    )
    # a lower factor from the parameters; a book without the column: EAD = outstanding
    low = risk.score_book(loans, scorecard=flat_scorecard(1, 10), lgd=Lgd(), ccf=0.2)
    assert low.loc[1, "ead"] == approx(2080.0)
    plain = risk.score_book(loans_frame(), scorecard=flat_scorecard(1, 10), lgd=Lgd())
    assert plain["ead"].tolist() == approx([1000.0, 2000.0, 500.0, 100.0])
    assert risk.ead_note(plain, ccf=0.5) == ("risk.notes.el_method", {})
    assert risk.ead_note(loans.assign(undrawn=0.0), ccf=0.5) == ("risk.notes.el_method", {})
