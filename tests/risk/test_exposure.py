"""Early warning, collateral (LTV) and concentration, by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import risk
from branchbook.risk import EarlyWarning

from .helpers import approx


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
        "net_profit": 10.0,
        "net_profit_prev": 10.0,
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
        # net profit 10 -> 6 (-40% <= -30%) trips; -> 8 (-20%, margin 10% -> 8%) does not
        ("profit_down", {"net_profit": 6.0}, {"net_profit": 8.0}),
        # a profit turned into a loss trips
        ("profit_down", {"net_profit": -1.0}, {"net_profit": 9.0}),
        # profit flat while revenue grows: margin 10% -> 6.67% (-3.3 points) trips,
        # -> 8% (-2 points) does not
        ("profit_down", {"revenue": 150.0}, {"revenue": 125.0}),
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
    assert f.loc[0, "margin"] == approx(10 / 85)
    assert f.loc[0, "margin_change"] == approx(10 / 85 - 0.1)
    assert f.loc[0, "profit_change"] == 0.0
    assert f["n_rules"].tolist() == [2, 1, 0, 0]  # no statements: nothing tripped
    w = risk.warning_list(f)
    assert w["customer_id"].tolist() == ["C2", "C1"]  # largest exposure first
    assert w["name"].tolist() == ["星河***有限公司", "星河***有限公司"]
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


def test_each_collateral_type_has_its_own_ltv_limit():
    book = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "name": ["张三", "李四", "王五", "赵六", "钱七"],
            "product": ["mortgage", "business", "business", "business", "consumer"],
            "collateral_type": ["real_estate", "equipment", "equipment", "vehicle", "none"],
            "outstanding": [65.0, 45.0, 60.0, 80.0, 50.0],
            "collateral_value": [100.0, 100.0, 100.0, 100.0, np.nan],
            "ltv": [0.65, 0.45, 0.60, 0.80, np.nan],
        }
    )
    limits = {"real_estate": 0.70, "equipment": 0.50}
    # real estate 65% < 70%; equipment 45% < 50% but 60% > 50%; vehicle has no limit of
    # its own: the default 70%, and 80% is above it
    assert risk.loan_ltv_limit(book, limit=0.7, limits=limits).tolist() == approx(
        [0.70, 0.50, 0.50, 0.70, 0.70]
    )
    b = risk.ltv_breaches(book, limit=0.70, limits=limits)
    assert b["loan_id"].tolist() == ["L4", "L3"]
    assert b["ltv_limit"].tolist() == approx([0.70, 0.50])
    # 60 + 80 of the secured 65 + 45 + 60 + 80 = 250
    assert risk.ltv_breach_share(book, limit=0.70, limits=limits) == approx(140 / 250)
    # one limit for all (the old rule) lists only the vehicle loan
    assert risk.ltv_breaches(book, limit=0.70)["loan_id"].tolist() == ["L4"]
    t = risk.ltv_by_collateral(book, limit=0.70, limits=limits).set_index("collateral_type")
    assert t.index.tolist() == ["equipment", "vehicle", "real_estate"]  # largest first
    assert t.loc["equipment"][["ltv_limit", "loans", "outstanding", "above"]].tolist() == [
        0.5,
        2,
        105.0,
        1,
    ]
    assert t.loc["equipment", "above_share"] == approx(60 / 105)
    assert t.loc["real_estate", "above_share"] == 0.0


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
    assert top["name"].tolist() == ["丁**", "甲***公司", "乙***公司"]


def test_warning_list_names_the_manager_and_a_next_step():
    flags = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "name": ["甲贸易有限公司", "乙贸易有限公司", "丙贸易有限公司"],
            "industry": ["retail"] * 3,
            "exposure": [3.0, 2.0, 1.0],
            "max_dpd": [0, 45, 0],
            "n_rules": [1, 2, 1],
            **{r: [True, True, True] for r in risk.EW_RULES},
        }
    )
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "manager_id": ["S1", "S2"]})
    staff = pd.DataFrame({"staff_id": ["S1"], "name": ["王小明"]})
    w = risk.warning_list(flags, customers=customers, staff=staff)
    assert w["manager_name"].tolist() == ["王小明", "S2", ""]
    assert w["next_step"].tolist() == ["review", "collect", "review"]
