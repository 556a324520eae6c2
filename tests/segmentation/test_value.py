"""Customer lifetime value by hand, and recomputed from the warehouse."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from branchbook import segmentation as seg
from branchbook.segmentation.settings import Clv


def test_annual_retention_from_a_three_month_probability():
    # constant hazard: four quarters a year
    assert seg.annual_retention(0.05, horizon_months=3) == pytest.approx(0.95**4)
    assert seg.annual_retention(0.10, horizon_months=6) == pytest.approx(0.9**2)
    assert seg.annual_retention([0.0, 1.0]).tolist() == [1.0, 0.0]


def test_clv_by_hand_on_a_tiny_frame():
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "open_now": [True, True, True, False],
            "asset_tier": ["wealth", "mass", "mass", "mass"],
            "customer_type": ["individual", "individual", "corporate", "individual"],
        }
    )
    scores = pd.DataFrame(
        {
            "customer_id": ["A", "B", "D"],
            "deposits": [100_000.0, -500.0, 1_000.0],  # an overdraft earns no deposit margin
            "wealth": [500_000.0, 0.0, 0.0],
            "loans_outstanding": [0.0, 10_000.0, 0.0],
            "probability": [0.0, 0.5, 0.1],
        }
    )
    v = seg.customer_clv(
        customers,
        scores,
        deposit_margin=0.01,
        wealth_margin=0.005,
        loan_margin=0.02,
        discount_rate=0.10,
        years=2,
        horizon_months=3,
    ).set_index("customer_id")
    # A: margin 1,000 + 2,500 = 3,500; retention 1: 3,500 / 1.1 + 3,500 / 1.21
    assert v.at["A", "margin"] == pytest.approx(3_500)
    assert v.at["A", "clv"] == pytest.approx(3_500 / 1.1 + 3_500 / 1.21)
    # B: margin 200; retention 0.5 ** 4 = 0.0625: 200 x (0.0625 / 1.1 + 0.0625**2 / 1.21)
    assert v.at["B", "retention"] == pytest.approx(0.0625)
    assert v.at["B", "clv"] == pytest.approx(200 * (0.0625 / 1.1 + 0.0625**2 / 1.21))
    # C has no score: no value; D is not open
    assert np.isnan(v.at["C", "clv"]) and "D" not in v.index
    t = seg.clv_by(v.reset_index(), by="asset_tier", order=seg.ASSET_TIERS)
    assert t.index.tolist() == ["mass", "wealth", "all"]
    assert t.loc["mass", ["customers", "scored"]].tolist() == [2, 1]
    assert t.loc["all", "clv"] == pytest.approx(v["clv"].sum())
    assert t.loc["wealth", "clv_share"] == pytest.approx(v.at["A", "clv"] / v["clv"].sum())


CLASS_MARGINS = {"deposit_margin": 0.015, "wealth_margin": 0.006, "loan_margin": 0.02}


def test_clv_by_product_on_a_tiny_frame():
    customers = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "open_now": [True, True],
            "asset_tier": ["wealth", "affluent"],
            "customer_type": ["individual", "individual"],
        }
    )
    # balances on the basis (A's average daily deposits are half its month-end holdings)
    scores = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "deposits": [200_000.0, 50_000.0],
            "wealth": [200_000.0, 100_000.0],
            "loans_outstanding": [0.0, 0.0],
            "probability": [0.05, 0.10],
        }
    )
    # month-end holdings: three products
    mix = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B"],
            "product": ["deposit", "time_deposit", "fund", "deposit", "fund"],
            "balance": [100_000.0, 300_000.0, 200_000.0, 50_000.0, 100_000.0],
        }
    )
    margins = {"deposit": 0.02, "time_deposit": 0.01, "fund": 0.008}
    v = seg.customer_clv(
        customers,
        scores,
        **CLASS_MARGINS,
        product_margins=margins,
        mix=mix,
        discount_rate=0.10,
        years=2,
        horizon_months=3,
    ).set_index("customer_id")
    # A: deposits at (100k x 2% + 300k x 1%) / 400k = 1.25% of 200k = 2,500; fund 0.8% of
    # 200k = 1,600: 4,100 a year; retention 0.95 ** 4 = 0.81450625
    assert v.at["A", "margin"] == pytest.approx(4_100)
    assert v.at["A", "retention"] == pytest.approx(0.81450625)
    assert v.at["A", "clv"] == pytest.approx(4_100 * (0.81450625 / 1.1 + 0.81450625**2 / 1.21))
    assert v.at["A", "clv"] == pytest.approx(5_283.840, abs=1e-3)
    # B: 50k x 2% + 100k x 0.8% = 1,800; retention 0.9 ** 4 = 0.6561
    assert v.at["B", "margin"] == pytest.approx(1_800)
    assert v.at["B", "clv"] == pytest.approx(1_800 * (0.6561 / 1.1 + 0.6561**2 / 1.21))
    assert v.at["B", "clv"] == pytest.approx(1_713.983, abs=1e-3)
    # the products change the margin, never the amount valued: without the mix, classes
    flat = seg.customer_clv(
        customers, scores, **CLASS_MARGINS, discount_rate=0.10, years=2
    ).set_index("customer_id")
    assert flat.at["A", "margin"] == pytest.approx(200_000 * 0.015 + 200_000 * 0.006)


def test_a_product_without_a_margin_takes_its_class_margin():
    mix = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B"],
            "product": ["insurance", "fund", "mortgage", "consumer", "gold"],
            "balance": [100_000.0, 100_000.0, 300_000.0, 100_000.0, 5_000.0],
        }
    )
    margins = {"fund": 0.008, "mortgage": 0.012, "bond": 0.003}  # bond: never held, fine
    classes = {"deposits": 0.015, "wealth": 0.006, "loans": 0.02}
    m = seg.class_margins(mix, product_margins=margins, class_margin=classes)
    # insurance has no margin: the wealth margin, 0.6%; consumer loans: the loan margin
    assert m.at["A", "wealth"] == pytest.approx((100_000 * 0.006 + 100_000 * 0.008) / 200_000)
    assert m.at["A", "loans"] == pytest.approx((300_000 * 0.012 + 100_000 * 0.02) / 400_000)
    # no deposit product held: the caller takes the class's margin; a product the
    # contract does not know is ignored
    assert np.isnan(m.at["A", "deposits"]) and "B" not in m.index
    customers = pd.DataFrame(
        {
            "customer_id": ["A"],
            "open_now": [True],
            "asset_tier": ["wealth"],
            "customer_type": ["individual"],
        }  # fmt: skip
    )
    scores = pd.DataFrame(
        {
            "customer_id": ["A"],
            "deposits": [10_000.0],
            "wealth": [200_000.0],
            "loans_outstanding": [400_000.0],
            "probability": [0.0],
        }  # fmt: skip
    )
    v = seg.customer_clv(
        customers, scores, **CLASS_MARGINS, product_margins=margins, mix=mix,
        discount_rate=0.0, years=1,
    )  # fmt: skip
    assert v.at[0, "margin"] == pytest.approx(10_000 * 0.015 + 1_400 + 5_600)


def test_the_product_classes_are_the_contract_products():
    from branchbook.contract import TABLES

    def values(table, column):
        return set(next(c for c in TABLES[table].columns if c.name == column).domain)

    assert set(seg.PRODUCT_CLASS) == values("holdings", "product_type") | values("loans", "product")
    loans = {p for p, c in seg.PRODUCT_CLASS.items() if c == "loans"}
    assert loans == values("loans", "product")


def test_margins_by_product_only_with_recorded_holdings():
    from branchbook import coverage
    from branchbook.contract import TABLES

    found = {name: set(t.names) for name, t in TABLES.items()}
    reports = ("segmentation", "risk", "satisfaction", "staff_kpi")
    assert seg.margins_by_product(coverage.verdict(found, reports))
    del found["holdings"]
    assert not seg.margins_by_product(coverage.verdict(found, reports))


def test_clv_shown_only_with_a_validated_model():
    ok = pd.DataFrame([{"sufficient": 1.0, "auc_low": 0.6, "calibrated": 1.0}])
    assert seg.retention_usable(ok)
    # ranks well but its probabilities failed the calibration test: no retention from them
    assert not seg.retention_usable(ok.assign(calibrated=0.0))
    assert not seg.retention_usable(ok.drop(columns="calibrated"))
    assert not seg.retention_usable(ok.assign(auc_low=0.45))
    assert not seg.retention_usable(ok.assign(sufficient=0.0))
    assert not seg.retention_usable(None)


def test_clv_parameters_are_checked():
    with pytest.raises(ValueError):
        Clv(discount_rate=-0.1)
    with pytest.raises(ValueError):
        Clv(years=0)
    with pytest.raises(ValueError, match=r"\['gold'\] are not products of the data contract"):
        Clv(product_margins={"gold": 0.01})
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        Clv(product_margins={"fund": 0.8})
    assert Clv(product_margins={"bond": 0.003}).product_margins == {"bond": 0.003}


def test_clv_recomputed_from_the_warehouse(small_bank):
    """Without a product mix every balance is at its class's margin: the branch's CLV by
    tier, from the warehouse's balances (average daily basis) and the prepared churn
    probabilities, against what the report's functions give (the product margins:
    ``tests/test_warehouse_clv.py``)."""
    from branchbook.data import load
    from branchbook.params import ParamSet
    from branchbook.reports import settings_classes

    d = load("2026-10", "0101", build_dir=small_bank / "build")
    cfg = (
        ParamSet(small_bank / "params", settings_classes())
        .for_branch("0101")
        .sections["segmentation"]
    )
    cur = seg.classify(d.table("segmentation_customers"), cfg)
    scores = d.table("satisfaction_churn_risk")
    shown = seg.clv_by(
        seg.customer_clv(cur, scores, **cfg.clv.model_dump(), horizon_months=3),
        by="asset_tier",
    )
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    try:
        bal = con.execute(
            """SELECT customer_id,
                      greatest(coalesce(deposits_avg, deposits), 0) AS dep,
                      coalesce(wealth_avg, wealth) AS wealth, loans_outstanding AS loans
               FROM balances WHERE month = '2026-10'"""
        ).df()
    finally:
        con.close()
    c = cfg.clv
    w = bal.merge(scores[["customer_id", "probability"]], on="customer_id")
    w = w.merge(cur[["customer_id", "asset_tier", "open_now"]], on="customer_id")
    w = w[w["open_now"]]
    margin = (
        w["dep"] * c.deposit_margin + w["wealth"] * c.wealth_margin + w["loans"] * c.loan_margin
    )
    q = (1 - w["probability"]) ** 4 / (1 + c.discount_rate)
    w = w.assign(clv=margin * sum(q**t for t in range(1, c.years + 1)))
    expected = w.groupby("asset_tier")["clv"].sum()
    for tier, value in expected.items():
        assert shown.loc[tier, "clv"] == pytest.approx(value, rel=1e-9)


def test_clv_parameters_can_only_be_set_in_the_bank_file(tmp_path):
    from branchbook.errors import ParamsError
    from branchbook.params import ParamSet
    from branchbook.reports import settings_classes

    (tmp_path / "branches").mkdir()
    (tmp_path / "bank.yaml").write_text(
        "bank_name: {en: Demo Bank, zh-CN: 示范银行}\nlocale: en\n"
        "segmentation: {clv: {discount_rate: 0.1}}\n",
        encoding="utf-8",
    )
    (tmp_path / "branches" / "0101.yaml").write_text(
        "segmentation: {clv: {years: 3}}\n", encoding="utf-8"
    )
    ps = ParamSet(tmp_path, settings_classes())
    assert ps.for_branch("0102").sections["segmentation"].clv.discount_rate == 0.1
    with pytest.raises(ParamsError, match=r"0101\.yaml: segmentation\.clv: can only be set in"):
        ps.for_branch("0101")
