"""prepare() on a tiny in-memory warehouse: artifacts and benchmarks by hand, and the
branch values equal to the benchmark rows."""

import math

import pandas as pd

from branchbook import risk

from .helpers import S, approx, make_ctx, notebook_calls, tiny_tables


def test_prepare_returns_the_artifacts(tiny):
    assert set(tiny) == {
        "risk_loans",
        "risk_outcomes",
        "risk_book",
        "risk_rolls",
        "risk_borrowers",
        "risk_customers",
        "risk_bridge",
        "risk_loss",
        "bench_risk_loss",
        "bench_risk_scorecard",
        "bench_risk_kpis",
        "bench_risk_scopes",
        "bench_risk_trend",
        "bench_risk_rolls",
        "bench_risk_score_bins",
        "bench_risk_industry",
        "bench_risk_history",
        "bench_risk_validation",
        "bench_risk_calibration",
        "bench_risk_stability",
        "bench_risk_dev_bins",
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
    # development: Oct 2024 followed to Oct 2025, L1-L4 performing, none defaults
    assert sc.loc[0, "status"] == "too_few_defaults"
    assert sc.loc[0, "development_month"] == "2024-10"
    assert sc.loc[0, "validation_month"] == "2025-10"
    assert (sc.loc[0, "loans"], sc.loc[0, "defaults"]) == (4, 0)
    assert risk.load_scorecard(sc) is None
    # the branch's validation sample: Oct 2025 followed to Oct 2026; L3 goes 100 days past due
    oot = tiny["risk_outcomes"].set_index("loan_id")
    assert oot["bad"].to_dict() == {"L1": 0, "L2": 0, "L3": 1, "L4": 0}
    val = tiny["bench_risk_validation"].iloc[0]
    assert (val["loans"], val["defaults"], val["sufficient"]) == (4, 1, 0.0)
    assert tiny["bench_risk_calibration"].empty and tiny["bench_risk_stability"].empty


def test_prepare_without_history_keeps_the_outcomes_table():
    # eleven months of history before the period: not the six months of outcomes a
    # development sample needs before the validation month (Sep 2024, before the data)
    out = risk.prepare(make_ctx(tiny_tables(), period="2025-09"))
    assert out["bench_risk_scorecard"].loc[0, "status"] == "no_history"
    dev = out["risk_outcomes"]
    assert dev.empty and {"branch_id", "loan_id", "bad", "ltv"} <= set(dev.columns)
    nb = notebook_calls(out, "0101", period="2025-09")
    assert nb["validation"]["loans"] == 0.0 and math.isnan(nb["validation"]["auc"])
    assert "risk.summary.no_scorecard" in [k for k, _ in nb["facts"]]


def test_prepare_early_warning_and_compliance_by_hand(tiny):
    flags = risk.early_warning(tiny["risk_borrowers"], rules=S.early_warning).set_index(
        "customer_id"
    )
    # C2: revenue 1000 -> 800 (-20%), inventory 100 -> 150 (+50%); the 2026 statement is ignored
    assert flags.loc["C2", "revenue_change"] == approx(-0.2)
    assert bool(flags.loc["C2", "revenue_down_inventory_up"])
    # net profit 50 -> 10 (-80%): profitability down
    assert flags.loc["C2", "profit_change"] == approx(-0.8)
    assert bool(flags.loc["C2", "profit_down"])
    assert bool(flags.loc["C2", "overdue"]) and flags.loc["C2", "n_rules"] == 3
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
    # two branches x (period, previous period, last December: the base of 比年初), the
    # empty branch included
    assert len(b) == 6
    assert math.isnan(b.loc[("0101", "2025-12"), "loans"])  # the card KPIs only
    # last December every loan was performing (L3 is substandard from April 2026)
    assert b.loc[("0101", "2025-12"), "npl_ratio"] == 0.0
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


def test_prepare_keeps_each_ratio_cards_sums_and_the_scopes_top10_by_hand(tiny):
    """The sums behind the ratio cards per branch and month (a region pools them), and
    the top-10 borrower share of the bank and its region on their pooled loans."""
    b = tiny["bench_risk_kpis"].set_index(["branch_id", "month"])
    east = b.loc[("0101", "2026-10")]
    assert east["warning_exposure"] == approx(380_000.0)  # C2 300,000 + C3 80,000
    assert east["book_outstanding"] == approx(980_000.0)
    assert (east["risk_customers"], east["open_customers"]) == (2.0, 4.0)  # C2, C4 of four
    # no scorecard: L1 and L2 have no PD, so no expected loss (L3, in default, has PD 1)
    assert east["loans_without_el"] == 2.0
    assert b.loc[("0101", "2026-09"), "book_outstanding"] == approx(1_000_000.0)
    west = b.loc[("0102", "2026-10")]
    assert (west["book_outstanding"], west["open_customers"]) == (0.0, 1.0)
    scopes = tiny["bench_risk_scopes"].set_index(["scope", "period"])
    assert sorted(scopes.index) == [
        (s, m) for s in ("bank", "region:R") for m in ("2025-12", "2026-09", "2026-10")
    ]
    # three borrowers, fewer than ten: they hold the whole book
    assert scopes.loc[("region:R", "2026-10"), "top10_share"] == 1.0
    assert scopes.loc[("bank", "2025-12"), "top10_share"] == 1.0


def test_a_pooled_expected_loss_rate_is_the_pooled_books(fitted):
    """With a fitted scorecard, the bank's expected loss rate pooled from the branches'
    sums equals the rate of the bank's whole book scored at once, not the branches'
    mean rate; last month and last December are known too."""
    s, out = fitted
    bench = out["bench_risk_kpis"]
    pooled = risk.pooled_kpis(out.get, dict.fromkeys(bench["branch_id"].unique(), "bank"))
    pooled = pooled.set_index("period")["expected_loss_rate"]
    sc = risk.load_scorecard(out["bench_risk_scorecard"])
    book = risk.score_book(out["risk_loans"], scorecard=sc, lgd=s.lgd,
                           default_dpd=s.scorecard.default_dpd, ccf=s.ccf)  # fmt: skip
    assert pooled["2026-10"] == approx(book["el"].sum() / book["ead"].sum())
    rates = bench.loc[bench["month"] == "2026-10", "expected_loss_rate"]
    assert pooled["2026-10"] != approx(rates.mean())
    assert pooled[["2025-12", "2026-09"]].notna().all()


def test_cards_show_the_change_since_last_december(tiny):
    bench = tiny["bench_risk_kpis"]
    k = bench.set_index(["branch_id", "month"]).loc[("0101", "2026-10")].to_dict()
    cards = risk.kpi_cards(k, {}, bench=bench, branch_id="0101", period="2026-10")
    npl = cards.set_index("kpi").loc["npl_ratio"]
    assert npl["year_start"] == 0.0 and npl["change_ytd"] == approx(80 / 980)


def test_branch_values_equal_the_benchmark_row(tiny):
    nb = notebook_calls(tiny, "0101")
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
    nb = notebook_calls(tiny, "0102")
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
        nb = notebook_calls(out, b, s=s)
        row = bench.loc[(b, "2026-10")]
        for k, v in nb["kpis"].items():
            assert v == approx(row[k]), (b, k)
        assert nb["psi"] == approx(row["mix_psi"])
        assert nb["drift_psi"] == approx(row["drift_psi"])
        assert nb["validation"]["defaults"] == row["defaults"]
        assert nb["validation"]["auc"] == approx(row["auc"])
        assert risk.hhi(nb["industries"]["share"]) == approx(row["hhi"])
        keys = [k for k, _ in nb["facts"]]
        if nb["validation"]["defaults"] >= 5:
            assert nb["validation"]["auc"] > 0.6
            assert nb["validation"]["auc_low"] < nb["validation"]["auc"]
        else:  # too few to measure, and the summary says so
            assert math.isnan(nb["validation"]["auc"])
            assert "risk.summary.discrimination" not in keys
        # the loaded scorecard scores the branch exactly as the bank's fit did
        scored = risk.score_book(out["risk_loans"], scorecard=sc, lgd=s.lgd)
        assert (
            nb["book"]["score"].tolist() == scored.loc[scored["branch_id"] == b, "score"].tolist()
        )
        assert 3 <= len(keys) <= 6
    # the bank's out-of-time figures: on the validation sample only, with its sizes
    val = out["bench_risk_validation"].iloc[0]
    oot = out["risk_outcomes"]
    assert (val["loans"], val["defaults"]) == (len(oot), oot["bad"].sum())
    assert val["sufficient"] == 1.0 and val["auc_low"] < val["auc"] < val["auc_high"]
    assert sc.meta_["validation_month"] == "2025-10" and sc.meta_["development_month"] == "2024-10"
    # the corrected PD's mean on the validation sample is the observed default rate
    assert val["corrected_rate"] == approx(val["default_rate"])
    raw = sc.predict_proba(oot)[:, 1]
    assert risk.score_book(oot, scorecard=sc, lgd=s.lgd)["pd_model"].mean() == approx(
        risk.corrected_pd(raw, sc.meta_["calibration_shift"]).mean()
    )
    cal = out["bench_risk_calibration"]
    assert cal["loans"].sum() == len(oot) and cal["defaults"].sum() == oot["bad"].sum()
    stab = out["bench_risk_stability"]
    assert stab["feature"].tolist() == ["score", *sc.features] and stab["psi"].notna().all()
    bins = out["bench_risk_score_bins"]
    # ten quantile bands at most: fewer when scores take few distinct values
    assert 2 <= len(bins) <= 10 and bins["share"].sum() == approx(1.0)
