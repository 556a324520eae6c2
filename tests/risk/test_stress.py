"""Stress scenarios, standardised RWA and the simulated loss distribution, on books
whose answers are computed by hand or in closed form."""

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import risk
from branchbook.risk import stress as st
from branchbook.risk.settings import Settings, Stress

S = Stress(haircuts={"real_estate": 0.3, "equipment": 0.3})


def three_loans() -> pd.DataFrame:
    """A mortgage (PD 2%, LGD 35%, 100 out, house worth 200), an unsecured consumer loan
    (PD 10%, LGD 75%, 50) and a corporate loan in default (substandard, LGD 50%, 80 out,
    equipment worth 100)."""
    return pd.DataFrame(
        {
            "loan_id": ["A", "B", "C"],
            "product": ["mortgage", "consumer", "working_capital"],
            "customer_type": ["individual", "individual", "corporate"],
            "collateral_type": ["real_estate", "none", "equipment"],
            "collateral_value": [200.0, np.nan, 100.0],
            "outstanding": [100.0, 50.0, 80.0],
            "ead": [100.0, 50.0, 80.0],
            "five_class": ["pass", "pass", "substandard"],
            "in_default": [False, False, True],
            "pd": [0.02, 0.10, 1.0],
            "lgd": [0.35, 0.75, 0.50],
            "el": [0.7, 3.75, 40.0],
        }
    )


def test_stressed_el_npl_and_rwa_of_three_loans_by_hand():
    t = st.stress_table(three_loans(), settings=S).set_index(["scenario", "pd_multiplier",
                                                              "collateral_shock"])  # fmt: skip
    # base: EL 0.7 + 3.75 + 40; NPL (80 + 100 x 2% + 50 x 10%) / 230;
    # RWA 100 (98% x 35% + 2% x 150%) + 50 (90% x 75% + 10% x 150%) + 80 x 150%
    base = t.loc[("base", 1.0, 0.0)]
    assert base["el"] == pytest.approx(44.45)
    assert base["npl_ratio"] == pytest.approx(87 / 230)
    assert base["rwa"] == pytest.approx(37.3 + 41.25 + 120)
    assert base["rwa_density"] == pytest.approx(198.55 / 230)
    # PD x2: 1.4 + 7.5 + 40; NPL (80 + 4 + 10) / 230; RWA 39.6 + 45 + 120
    two = t.loc[("pd", 2.0, 0.0)]
    assert two["el"] == pytest.approx(48.9)
    assert two["npl_ratio"] == pytest.approx(94 / 230)
    assert two["rwa"] == pytest.approx(204.6)
    assert two["el_change"] == pytest.approx(48.9 - 44.45)
    # collateral -20%: the house still covers the mortgage after its 30% haircut (0.7 x
    # 200 x 0.8 = 112 > 100); the equipment's cover falls from 70 to 56: LGD 0.5 + 14/80
    c20 = t.loc[("collateral", 1.0, 0.2)]
    assert c20["el"] == pytest.approx(0.7 + 3.75 + 80 * 0.675)
    # collateral -40%: the mortgage's cover 84 < 100 (LGD 0.35 + 16/100), the equipment's
    # 42 (LGD 0.5 + 28/80); NPL and RWA do not move
    c40 = t.loc[("collateral", 1.0, 0.4)]
    assert c40["el"] == pytest.approx(0.02 * 0.51 * 100 + 3.75 + 0.85 * 80)
    assert c40["npl_ratio"] == pytest.approx(87 / 230) and c40["rwa"] == pytest.approx(198.55)
    both = t.loc[("combined", 2.0, 0.4)]
    assert both["el"] == pytest.approx(0.04 * 0.51 * 100 + 0.2 * 0.75 * 50 + 0.85 * 80)
    assert st.rwa_today(three_loans(), settings=S)["rwa"] == pytest.approx(35 + 37.5 + 120)


def test_pd_is_capped_at_one_and_lgd_at_one():
    book = three_loans().assign(pd=[0.6, 0.6, 1.0], collateral_value=[200.0, np.nan, 1000.0])
    loans = st.scenario(book, pd_multiplier=2.0, collateral_shock=1.0, settings=S)
    assert loans["pd"].tolist() == [1.0, 1.0, 1.0]
    assert loans["lgd"].tolist() == [1.0, 0.75, 1.0]


def test_zero_shocks_reconcile_exactly_with_the_base_book(fitted):
    """On a scored book: PD x1 and no collateral fall give each loan's base PD, LGD and
    EL bit for bit, and the table's base EL is the expected-loss section's total."""
    s, out = fitted
    sc = risk.load_scorecard(out["bench_risk_scorecard"])
    book = risk.score_book(out["risk_loans"], scorecard=sc, lgd=s.lgd, ccf=s.ccf)
    loans = st.scenario(book, settings=s.stress)
    assert (loans["el"].to_numpy() == book["el"].to_numpy()).all()
    assert (loans["lgd"].to_numpy() == book["lgd"].to_numpy()).all()
    assert (loans["pd"].to_numpy() == book["pd"].to_numpy()).all()
    base = st.stress_table(book, settings=s.stress).iloc[0]
    assert base["scenario"] == "base" and base["el_change"] == 0.0
    assert base["el"] == pytest.approx(risk.expected_loss_total(book)["el"], rel=1e-12)


def test_rwa_class_follows_product_and_customer_type():
    cls = st.rw_class(three_loans())
    assert cls.tolist() == ["residential_mortgage", "retail", "corporate"]


def test_basel_correlation_by_class():
    rho = st.asset_correlation(three_loans().assign(pd=[0.02, 0.0, 0.0]))
    w = (1 - math.exp(-35 * 0)) / (1 - math.exp(-35))
    assert rho[0] == 0.15  # residential mortgage
    assert rho[1] == pytest.approx(0.03 * w + 0.16 * (1 - w)) == pytest.approx(0.16)
    assert rho[2] == pytest.approx(0.24)  # corporate at PD 0
    assert st.asset_correlation(three_loans(), correlation=0.2).tolist() == [0.2] * 3


def test_simulated_mean_converges_to_the_formula_within_its_standard_error():
    rng = np.random.default_rng(7)
    n = 300
    book = pd.DataFrame(
        {
            "product": rng.choice(["mortgage", "consumer", "business"], n),
            "customer_type": rng.choice(["individual", "corporate"], n),
            "pd": np.r_[rng.uniform(0.005, 0.2, n - 3), 1.0, 1.0, 0.0],
            "lgd": rng.uniform(0.1, 0.75, n),
            "ead": rng.lognormal(12, 1, n),
        }
    )
    loss = st.loss_summary(book, settings=Stress(), draws=20_000).set_index("measure")
    formula = loss.loc["el_formula", "value"]
    assert formula == pytest.approx(float((book["pd"] * book["lgd"] * book["ead"]).sum()))
    mean, low = loss.loc["el_simulated", "value"], loss.loc["el_simulated", "low"]
    se = (mean - low) / 1.96
    assert abs(mean - formula) < 3 * se
    var = loss.loc["var", "value"]
    assert loss.loc["ul", "value"] == pytest.approx(var - mean)
    assert loss.loc["var", "low"] <= var <= loss.loc["var", "high"]
    # the same seed gives the same figures
    again = st.loss_summary(book, settings=Stress(), draws=20_000)
    assert again["value"].tolist() == loss["value"].tolist()


def test_simulated_quantile_of_a_granular_book_matches_vasicek():
    """2,000 equal loans (PD 2%, LGD 50%, correlation 0.15): the closed-form large-book
    99.9% loss rate lies within the simulated quantile's 95% interval, and within 10%
    of it (what is left is the book's granularity and the Monte Carlo error)."""
    n, p, lgd, rho = 2_000, 0.02, 0.5, 0.15
    losses = st.simulate_losses(np.full(n, p), np.full(n, lgd), np.ones(n), rho,
                                draws=10_000, seed=11)  # fmt: skip
    exact = st.vasicek_quantile(p, lgd, rho, 0.999)
    assert exact == pytest.approx(0.5 * 0.176329, rel=1e-5)  # Phi(-0.92945)
    got, lo, hi = st.quantile_interval(losses / n, 0.999)
    assert lo <= exact <= hi
    assert got == pytest.approx(exact, rel=0.10)
    assert losses.mean() / n == pytest.approx(p * lgd, rel=0.02)


def test_unscored_or_empty_book_gives_no_figures():
    assert st.loss_summary(three_loans().iloc[0:0], settings=S)["value"].isna().all()
    assert st.loss_summary(three_loans().assign(pd=np.nan), settings=S)["value"].isna().all()


def test_prepare_simulates_every_branch_once(fitted):
    s, out = fitted
    loss = out["risk_loss"]
    assert set(loss["measure"]) == set(st.LOSS_MEASURES)
    assert loss.groupby("branch_id").size().eq(len(st.LOSS_MEASURES)).all()
    assert set(loss["branch_id"]) == set(out["risk_loans"]["branch_id"])
    # and the bank and its one region once, on their pooled loans
    pooled = out["bench_risk_loss"]
    assert pooled.groupby("scope").size().to_dict() == {"bank": 7, "region:R": 7}
    sc = risk.load_scorecard(out["bench_risk_scorecard"])
    book = risk.score_book(out["risk_loans"], scorecard=sc, lgd=s.lgd, ccf=s.ccf)
    bank = st.loss_summary(book, settings=s.stress)
    assert pooled.loc[pooled["scope"] == "bank", "value"].tolist() == bank["value"].tolist()


def granular_book(seed=5) -> pd.DataFrame:
    """120 loans of three branches, 0101 and 0102 in region East, 0201 in West."""
    rng = np.random.default_rng(seed)
    n = 120
    return pd.DataFrame(
        {
            "branch_id": np.repeat(["0101", "0102", "0201"], n // 3),
            "product": rng.choice(["mortgage", "consumer", "business"], n),
            "customer_type": rng.choice(["individual", "corporate"], n),
            "pd": rng.uniform(0.01, 0.1, n),
            "lgd": rng.uniform(0.2, 0.75, n),
            "ead": rng.lognormal(10, 0.5, n),
        }
    )


def test_a_regions_and_the_banks_loss_distribution_are_simulated_on_their_pooled_loans():
    book = granular_book()
    regions = pd.DataFrame(
        {"branch_id": ["0101", "0102", "0201", "0301"], "region": ["East", "East", "West", ""]}
    )
    s = Stress(draws=2_000)
    got = st.scope_losses(book, regions=regions, settings=s)
    assert got["scope"].unique().tolist() == ["bank", "region:East", "region:West"]
    for scope, loans in (
        ("bank", book),
        ("region:East", book[book["branch_id"] != "0201"]),
        ("region:West", book[book["branch_id"] == "0201"]),
    ):
        rows = got[got["scope"] == scope].drop(columns="scope").reset_index(drop=True)
        pd.testing.assert_frame_equal(rows, st.loss_summary(loans, settings=s))
    # the region's VaR is less than its branches' VaRs added up: why the branches' rows
    # cannot stand for the region's
    var = {
        b: st.loss_summary(g, settings=s).set_index("measure").loc["var", "value"]
        for b, g in book.groupby("branch_id")
    }
    east = got[(got["scope"] == "region:East") & (got["measure"] == "var")]["value"].item()
    assert east < var["0101"] + var["0102"]


def test_a_report_shows_its_own_scopes_loss_distribution():
    branch = st.loss_summary(granular_book().iloc[:40], settings=Stress(draws=1_000))
    scopes = st.scope_losses(
        granular_book(),
        regions=pd.DataFrame({"branch_id": ["0101", "0102", "0201"], "region": ["E", "E", "W"]}),
        settings=Stress(draws=1_000),
    )
    assert st.loss_at_scope(branch, scopes, scope="branch") is branch
    east = st.loss_at_scope(branch, scopes, scope="region:E")
    assert east["measure"].tolist() == list(st.LOSS_MEASURES) and "scope" not in east
    assert east["value"].tolist() == scopes[scopes["scope"] == "region:E"]["value"].tolist()
    assert len(st.loss_at_scope(branch, scopes, scope="bank")) == len(st.LOSS_MEASURES)
    assert st.loss_at_scope(branch, scopes, scope="region:North").empty


def test_stress_parameters_are_checked():
    with pytest.raises(ValueError, match="risk_weights"):
        Settings.model_validate({"stress": {"risk_weights": {"sovereign": 0.0}}})
    with pytest.raises(ValueError, match="haircuts"):
        Settings.model_validate({"stress": {"haircuts": {"none": 0.1}}})
    with pytest.raises(ValueError, match="correlation"):
        Settings.model_validate({"stress": {"correlation": 1.5}})
    s = Settings.model_validate({"stress": {"risk_weights": {"retail": 0.5}}})
    assert s.stress.risk_weights["retail"] == 0.5 and s.stress.risk_weights["corporate"] == 1.0


@pytest.mark.slow
def test_base_el_and_rwa_match_the_warehouse_by_its_own_sql(small_bank):
    """Per branch of the demo bank: EAD, LGD and the standardised risk weight from a
    separate query on the warehouse (the loans on the book at the period's end), PD from
    the bank's scorecard: the EL of the stress table's base row and of the simulated
    distribution, and today's RWA, are what the query gives."""
    import duckdb

    from branchbook.period import Period

    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    prepared = small_bank / "build" / str(period) / "prepared"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    truth = con.execute(
        """SELECT l.loan_id, l.branch_id,
                  s.outstanding + 0.5 * coalesce(s.undrawn, 0) AS ead,
                  CASE l.collateral_type WHEN 'guarantee' THEN 0.60 WHEN 'receivables' THEN 0.55
                       WHEN 'equipment' THEN 0.50 WHEN 'real_estate' THEN 0.35
                       WHEN 'deposit' THEN 0.10 ELSE 0.75 END AS lgd,
                  CASE WHEN s.dpd > 90 OR s.five_class IN ('substandard', 'doubtful', 'loss')
                       THEN 1.50 WHEN l.product = 'mortgage' THEN 0.35
                       WHEN c.customer_type = 'corporate' THEN 1.00 ELSE 0.75 END AS rw
           FROM loans l JOIN loan_snapshots s ON s.loan_id = l.loan_id AND s.month = $m
           JOIN customers c ON c.customer_id = l.customer_id
           WHERE s.outstanding > 0""",
        {"m": str(period)},
    ).df()
    s = Settings()
    sc = risk.load_scorecard(pd.read_parquet(prepared / "bench" / "bench_risk_scorecard.parquet"))
    branches = sorted(truth["branch_id"].unique())
    assert len(branches) == 2
    for branch in branches:
        loans = pd.read_parquet(prepared / "extracts" / branch / "risk_loans.parquet")
        book = risk.score_book(loans, scorecard=sc, lgd=s.lgd, ccf=s.ccf)
        if sc is None:  # a small bank may have too few defaults for a scorecard: a PD rule
            book = book.assign(pd=np.where(book["in_default"], 1.0, 0.02))
        mine = truth[truth["branch_id"] == branch].merge(
            book[["loan_id", "pd"]], on="loan_id", validate="1:1"
        )
        assert len(mine) == len(book)
        if sc is None:
            assert (mine["pd"] == np.where(mine["rw"] == 1.5, 1.0, 0.02)).all()
        el = float((mine["pd"] * mine["lgd"] * mine["ead"]).sum())
        table = st.stress_table(book, settings=s.stress).set_index("scenario")
        assert table.loc["base", "el"] == pytest.approx(el, rel=1e-9)
        rwa = float((mine["ead"] * mine["rw"]).sum())
        assert st.rwa_today(book, settings=s.stress)["rwa"] == pytest.approx(rwa, rel=1e-9)
        loss = pd.read_parquet(prepared / "extracts" / branch / "risk_loss.parquet")
        formula = loss.set_index("measure").loc["el_formula", "value"]
        if sc is None:  # no scorecard, no simulated figures (never a 0); the figures
            # of a fitted scorecard: tests/test_warehouse_stress.py
            assert math.isnan(formula)
        else:
            assert formula == pytest.approx(el, rel=1e-9)
