"""Cross-sell (关联分析): product penetration and lift by asset tier, and the call list."""

import math

import pandas as pd
import pytest

from branchbook import coverage, privacy
from branchbook import segmentation as sg

from .rows import CLOSED, S, frame

NONE = {
    f"holds_{t}": 0.0 for t in ("deposit", "time_deposit", "wealth", "fund", "insurance", "bond")
}


def rows() -> pd.DataFrame:
    """Two mass and two affluent customers, and a closed one."""
    return sg.classify(
        frame(
            {**NONE, "aum": 10_000.0, "holds_deposit": 1.0},
            {**NONE, "aum": 20_000.0, "holds_deposit": 1.0, "holds_fund": 1.0},
            {**NONE, "aum": 100_000.0, "holds_deposit": 1.0, "holds_wealth": 1.0},
            {**NONE, "aum": 200_000.0, "holds_deposit": 1.0, "manager_id": None},
            {**CLOSED, **NONE, "holds_fund": 1.0},
        ),
        S,
    )


def test_penetration_is_the_share_of_the_tier_holding_each_type():
    got = sg.penetration(rows())
    assert got.index.tolist() == ["mass", "affluent", "wealth", "private"]
    assert got["customers"].tolist() == [2, 2, 0, 0]
    assert got.loc["mass", ["type_deposit", "type_fund", "type_wealth"]].tolist() == [1.0, 0.5, 0.0]
    assert got.loc["affluent", ["type_deposit", "type_fund", "type_wealth"]].tolist() == [
        1.0,
        0.0,
        0.5,
    ]
    assert math.isnan(got.loc["wealth", "type_deposit"])
    total = sg.penetration_total(rows())
    assert total["customers"] == 4.0  # the closed customer is not counted
    assert (total["type_deposit"], total["type_fund"], total["type_wealth"]) == (1.0, 0.25, 0.25)
    small = sg.penetration_total(rows(), suppress_below=5)
    assert set(small.values()) == {privacy.SUPPRESSED}


def test_lift_and_the_usual_products_of_each_tier():
    got = sg.lift_table(rows())
    assert got.loc["mass", "lift_fund"] == pytest.approx(2.0)  # 0.5 / 0.25
    assert got.loc["affluent", "lift_wealth"] == pytest.approx(2.0)
    assert got.loc["mass", "lift_wealth"] == 0.0 and got.loc["mass", "lift_deposit"] == 1.0
    assert math.isnan(got.loc["mass", "lift_bond"])  # nobody holds a bond
    usual = sg.usual_products(got.reset_index())
    # held by half the tier at twice the rate: usual; the deposit everybody holds is not
    assert usual == {"mass": ("fund",), "affluent": ("wealth",), "wealth": (), "private": ()}
    assert sg.usual_products(got.reset_index(), min_confidence=0.6)["mass"] == ()
    assert sg.usual_products(got.reset_index(), min_lift=2.5)["affluent"] == ()


def test_the_call_list_names_who_lacks_a_usual_type_by_manager_largest_first():
    usual = {"mass": ("deposit", "fund"), "affluent": ("deposit", "wealth")}
    staff = pd.DataFrame({"staff_id": ["S01"], "name": ["Li Wei"]})
    got = sg.gaps(rows(), usual, staff=staff, unassigned="(none)")
    assert got[["customer_id", "manager_name", "asset_tier", "product_type"]].values.tolist() == [
        ["C1", "Li Wei", "mass", "fund"],
        ["C4", "(none)", "affluent", "wealth"],
    ]
    assert sg.gaps(rows(), {}).empty


def test_without_holdings_the_section_is_left_out():
    from branchbook.contract import TABLES

    found = {name: set(t.names) for name, t in TABLES.items() if name != "holdings"}
    cov = coverage.verdict(found, ("segmentation",))
    assert "cross_sell" in cov.hidden_sections("segmentation")
    found["holdings"] = set(TABLES["holdings"].names)
    found["customers"] -= {"risk_appetite"}  # suitability only
    assert "cross_sell" not in coverage.verdict(found, ("segmentation",)).hidden_sections(
        "segmentation"
    )


# -- against the warehouse --------------------------------------------------------------


def _bank(small_bank):
    import duckdb

    period = max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2")
    prepared = small_bank / "build" / period / "prepared"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    return period, prepared, con


def test_penetration_matches_the_warehouse(small_bank):
    """The share of each tier holding each type, recomputed from the holdings table by
    a separate query (the tier as the report classifies it)."""
    period, prepared, con = _bank(small_bank)
    for branch in ("0101", "0102"):
        cur = sg.classify(
            pd.read_parquet(prepared / "extracts" / branch / "segmentation_customers.parquet"), S
        )
        got = sg.penetration(cur)
        tiers = sg.open_customers(cur)[["customer_id", "asset_tier"]].astype({"asset_tier": str})
        con.register("tiers_df", tiers)
        truth = con.execute(
            """SELECT t.asset_tier, h.product_type,
                      count(DISTINCT h.customer_id) / any_value(n.n) AS share
               FROM tiers_df t JOIN holdings h ON h.customer_id = t.customer_id
               JOIN (SELECT asset_tier, count(*) AS n FROM tiers_df GROUP BY 1) n USING (asset_tier)
               WHERE h.month = $m AND h.balance > 0 GROUP BY ALL""",
            {"m": period},
        ).df()
        con.unregister("tiers_df")
        assert len(truth) > 5
        for _, r in truth.iterrows():
            assert got.loc[r["asset_tier"], f"type_{r['product_type']}"] == pytest.approx(
                r["share"]
            )
        shown = {(t, c) for t in got.index for c in sg.SHARE_COLUMNS if got.loc[t, c] > 0}
        assert shown == {
            (r["asset_tier"], f"type_{r['product_type']}") for _, r in truth.iterrows()
        }


def test_the_demo_s_richer_tiers_hold_wealth_products_more_than_the_mass(small_bank):
    """In the demo only customers with wealth hold wealth-type products, and they are
    the richer ones: the lift of wealth management and funds is above 1 in the wealth
    tier and below 1 in the mass tier; wealth management is usual for the affluent and
    wealth tiers, and the demand deposit everybody holds is no tier's."""
    period, prepared, con = _bank(small_bank)
    bank = pd.read_parquet(prepared / "bench" / "bench_segmentation_penetration.parquet")
    lift = bank.set_index("asset_tier")
    for col in ("lift_wealth", "lift_fund"):
        assert lift.loc["wealth", col] > 1 > lift.loc["mass", col], col
    usual = sg.usual_products(bank)
    assert "wealth" in usual["affluent"] and "wealth" in usual["wealth"]
    assert not usual["mass"] and all("deposit" not in types for types in usual.values())
    cur = sg.classify(
        pd.read_parquet(prepared / "extracts" / "0101" / "segmentation_customers.parquet"), S
    )
    listed = sg.gaps(cur, usual)
    assert len(listed) > 100
    for _, r in listed.head(50).iterrows():
        assert r["product_type"] in usual[r["asset_tier"]]
        assert cur.set_index("customer_id").loc[r["customer_id"], f"holds_{r['product_type']}"] == 0
