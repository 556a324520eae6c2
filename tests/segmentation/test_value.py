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


def test_clv_recomputed_from_the_warehouse(small_bank):
    """The branch's CLV by tier, from the warehouse's balances (average daily basis) and
    the prepared churn probabilities, against what the report's functions give."""
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
