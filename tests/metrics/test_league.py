"""League tables (branchbook.metrics.league): pooled values, ranks, changes and the
funnel position against the scope's level, on tiny frames computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from branchbook import risk, satisfaction, segmentation, staff_kpi
from branchbook.metrics import league

REGION = {"1": "East", "2": "East", "3": "North"}


def test_units_of_a_branch_level_and_a_region_level():
    assert league.units_of(REGION, ["1", "3"], level="branch") == {"1": "1", "3": "3"}
    assert league.units_of(REGION, ["1", "2", "3"], level="region") == {
        "1": "East",
        "2": "East",
        "3": "North",
    }
    with pytest.raises(ValueError, match="level is expected to be one of"):
        league.units_of(REGION, ["1"], level="district")


def test_pool_sums_per_unit_and_period_and_leaves_out_other_branches():
    f = pd.DataFrame(
        {
            "branch_id": ["1", "2", "3", "1"],
            "period": ["2026-10", "2026-10", "2026-10", "2026-09"],
            "x": [1.0, 2.0, 4.0, 8.0],
        }
    )
    got = league.pool(f, {"1": "East", "2": "East"}, sums=["x"])
    assert got.to_dict("records") == [
        {"unit": "East", "period": "2026-09", "x": 8.0},
        {"unit": "East", "period": "2026-10", "x": 3.0},
    ]
    assert list(f.columns) == ["branch_id", "period", "x"]  # the input is not changed


def test_ranks_follow_the_good_direction_and_ties_share_the_best():
    v = pd.Series([0.1, 0.3, 0.1, math.nan])
    assert league.ranks(v, good="low").tolist()[:3] == [1.0, 3.0, 1.0]
    assert league.ranks(v, good="high").tolist()[:3] == [2.0, 1.0, 2.0]
    assert math.isnan(league.ranks(v, good="low").iloc[3])
    assert league.ranks(v, good=None).isna().all()


def values(rows):
    return pd.DataFrame(rows, columns=["unit", "period", "value"])


def test_league_table_value_rank_change_and_year_start_by_hand():
    v = values(
        [
            ("A", "2026-10", 10.0), ("A", "2026-09", 7.0), ("A", "2025-12", 4.0),
            ("B", "2026-10", 12.0), ("B", "2026-09", 13.0),
            ("C", "2026-10", 5.0), ("C", "2025-12", 6.0),
        ]
    )  # fmt: skip
    t = league.league_table(v, period="2026-10", good="high")
    assert t["unit"].tolist() == ["B", "A", "C"]  # best first
    assert t["rank"].tolist() == [1.0, 2.0, 3.0]
    a = t.set_index("unit").loc["A"]
    assert (a["previous"], a["change"], a["year_start"], a["change_ytd"]) == (7.0, 3.0, 4.0, 6.0)
    b = t.set_index("unit").loc["B"]
    assert b["change"] == -1.0 and math.isnan(b["year_start"]) and math.isnan(b["change_ytd"])
    c = t.set_index("unit").loc["C"]
    assert math.isnan(c["previous"]) and c["change_ytd"] == -1.0
    # no n: no funnel, the position is NA and the table says n/a
    assert t["position"].isna().all()
    assert league.beyond(t) == []


def binom_upper_tail(k: int, n: int, p: float) -> float:
    """P(R >= k), R ~ Binomial(n, p), summed term by term."""
    return sum(math.comb(n, r) * p**r * (1 - p) ** (n - r) for r in range(k, n + 1))


def test_funnel_position_against_the_exact_binomial_tail():
    # n = 20 at p0 = 0.02: P(R >= 3) = 0.0071 (beyond the 95% limit, within the 99.8%),
    # P(R >= 4) = 0.00056 (beyond the 99.8% limit), P(R >= 1) = 0.33 (within)
    assert 0.001 < binom_upper_tail(3, 20, 0.02) < 0.025
    assert binom_upper_tail(4, 20, 0.02) < 0.001
    assert binom_upper_tail(1, 20, 0.02) > 0.025
    for k, want in ((1, "within"), (3, "above_95"), (4, "above_998")):
        got = league.funnel_positions(pd.Series([k / 20]), pd.Series([20.0]), 0.02)
        assert got["position"].iloc[0] == want, k
    # the 99.8% upper limit lies between 3/20 and 4/20
    lim = league.funnel_positions(pd.Series([0.0]), pd.Series([20.0]), 0.02)["hi998"].iloc[0]
    assert 3 / 20 < lim < 4 / 20


def test_no_funnel_without_a_level_or_a_size():
    got = league.funnel_positions(pd.Series([0.1, 0.2]), pd.Series([math.nan, math.nan]), 0.1)
    assert got["position"].isna().all()
    got = league.funnel_positions(pd.Series([0.1]), pd.Series([100.0]), math.nan)
    assert got["position"].isna().all()


def planted(rate_of_planted: float) -> pd.DataFrame:
    """Ten branches of 500 loans around 2%, one of them at ``rate_of_planted``."""
    counts = [8, 9, 10, 10, 11, 12, 9, 10, 11]
    rows = [(f"b{i}", "2026-10", c / 500, 500.0) for i, c in enumerate(counts)]
    rows.append(("planted", "2026-10", rate_of_planted, 500.0))
    return pd.DataFrame(rows, columns=["unit", "period", "value", "n"])


def test_a_planted_branch_with_a_much_higher_npl_is_named_and_the_ordinary_ones_are_not():
    v = planted(0.08)
    p0 = float((v["value"] * v["n"]).sum() / v["n"].sum())
    t = league.league_table(v, period="2026-10", good="low", p0=p0)
    assert league.beyond(t) == ["planted"]
    assert t.set_index("unit").loc["planted", "position"] == "above_998"
    assert (t.set_index("unit").drop("planted")["position"] == "within").all()
    assert t["unit"].iloc[-1] == "planted"  # lowest NPL first: the planted one is last
    facts = league.facts({"branch": t}, label="NPL ratio", names={"planted": "Planted (9)"})
    assert facts == [
        ("common.league.facts.above.branch", {"kpi": "NPL ratio", "n": 1, "names": "Planted (9)"})
    ]


def test_an_ordinary_set_of_branches_names_nobody():
    v = planted(0.022)  # 11 of 500: as ordinary as the others
    p0 = float((v["value"] * v["n"]).sum() / v["n"].sum())
    t = league.league_table(v, period="2026-10", good="low", p0=p0)
    assert league.beyond(t) == []
    assert league.facts({"branch": t}, label="NPL ratio", names={}) == [
        ("common.league.facts.none.branch", {"kpi": "NPL ratio"})
    ]


def test_a_metric_without_a_funnel_has_no_fact():
    t = league.league_table(values([("A", "2026-10", 1.0)]), period="2026-10", good="high")
    assert league.facts({"region": t}, label="Customers", names={}) == []


def test_scope_leagues_region_has_branches_bank_has_regions_and_branches():
    frame = pd.DataFrame(
        {"branch_id": ["1", "2", "3"], "period": ["2026-10"] * 3, "customers": [10, 20, 40]}
    )
    tables, level = league.scope_leagues(
        segmentation.league_values, {"bench": frame}, region=REGION, members=["1", "2"],
        scope="region:East", period="2026-10", key="customers",
    )  # fmt: skip
    assert list(tables) == ["branch"] and level == 30
    assert tables["branch"]["unit"].tolist() == ["2", "1"]
    tables, level = league.scope_leagues(
        segmentation.league_values, {"bench": frame}, region=REGION, members=["1", "2", "3"],
        scope="bank", period="2026-10", key="customers",
    )  # fmt: skip
    assert list(tables) == ["region", "branch"] and level == 70
    assert tables["region"].set_index("unit")["value"].to_dict() == {"North": 40, "East": 30}
    assert league.scope_leagues(segmentation.league_values, {"bench": frame}, region=REGION,
                                members=["1"], scope="branch", period="2026-10",
                                key="customers")[0] == {}  # fmt: skip


def test_risk_league_values_pool_npl_and_outstanding_and_the_effective_loans():
    history = pd.DataFrame(
        {
            "branch_id": ["1", "1", "2", "2"],
            "month": ["2026-10"] * 4,
            "five_class": ["pass", "substandard", "pass", "loss"],
            "outstanding": [90.0, 10.0, 270.0, 30.0],
        }
    )
    loans = pd.DataFrame({"branch_id": ["1", "1", "2"], "outstanding": [1.0, 1.0, 2.0]})
    got = risk.league_values({"1": "E", "2": "E"}, history=history, loans=loans, period="2026-10")
    row = got.iloc[0]
    assert row["value"] == pytest.approx(40 / 400)  # pooled, (10 + 30) / (100 + 300)
    assert row["n"] == pytest.approx(16 / 6)  # (1 + 1 + 2)^2 / (1 + 1 + 4)


def test_staff_league_values_weigh_each_branch_by_its_rated_managers():
    bench = pd.DataFrame(
        {
            "branch_id": ["1", "2"],
            "month": ["2026-10"] * 2,
            "composite_mean": [40.0, 70.0],
            "n_rated": [3, 1],
        }
    )
    got = staff_kpi.league_values({"1": "E", "2": "E"}, bench=bench)
    assert got["value"].iloc[0] == pytest.approx((3 * 40 + 70) / 4)  # not (40 + 70) / 2


def test_satisfaction_league_values_pool_the_months_before_the_score():
    months = ["2026-08", "2026-09", "2026-10"]
    rows = []
    for b, points in (("1", 80.0), ("2", 50.0)):
        for m in months:
            n = 10 if b == "1" else 30
            rows.append({c: 0 for c in satisfaction.MONTHLY_COLUMNS} | {
                "branch_id": b, "month": m, "responses": n, "csat_n": n,
                "csat_sum": points * n, "csat_sumsq": points**2 * n,
            })  # fmt: skip
    monthly = pd.DataFrame(rows)
    got = satisfaction.league_values({"1": "E", "2": "E"}, monthly=monthly, window_months=3)
    at = got[got["period"] == "2026-10"]["value"].iloc[0]
    assert at == pytest.approx((80 * 30 + 50 * 90) / 120)  # pooled responses, not branches
