"""Each manager's contribution to the branch's change, by hand on a few customers and loans."""

import pandas as pd
import pytest

from branchbook import staff_kpi as sk
from branchbook.stats import STOCK_COLUMNS

P, M, Y = "2026-10", "2026-09", "2025-12"


def _customers():
    rows = [
        # entity, staff, month, aum, loans
        ("c1", "S1", Y, 100.0, 0.0),
        ("c1", "S1", M, 150.0, 10.0),
        ("c1", "S1", P, 170.0, 10.0),
        ("c2", "S1", M, 50.0, 0.0),  # lost this month
        ("c3", "S2", P, 40.0, 20.0),  # new this month
        ("c4", "S2", Y, 80.0, 0.0),
        ("c4", "S2", M, 80.0, 0.0),
        ("c4", "S2", P, 60.0, 0.0),
    ]
    return pd.DataFrame(rows, columns=["entity", "staff_id", "month", "aum", "loans"])


def _loans():
    rows = [
        # entity, staff, month, book, npl
        ("l1", "S1", M, 100.0, 0.0),
        ("l1", "S1", P, 100.0, 100.0),  # moved to substandard
        ("l2", "S2", M, 100.0, 0.0),
        ("l2", "S2", P, 300.0, 0.0),  # a drawdown: S2's share of the book grows
    ]
    return pd.DataFrame(rows, columns=["entity", "staff_id", "month", "book", "npl"])


@pytest.fixture
def bridge():
    b = sk.manager_bridges(_customers(), _loans(), period=P)
    names = {"S1": "王伟", "S2": "李娜"}
    return b.assign(branch_id="0101", staff_name=b["staff_id"].map(names))


def test_base_months():
    assert sk.base_months(P) == {"month": M, "year": Y}
    assert sk.base_months("2026-01") == {"month": "2025-12", "year": "2025-12"}


def test_manager_aum_bridges_by_hand(bridge):
    t = sk.contribution_table(bridge, base="month", stock="aum").set_index("staff_id")
    assert t.loc["S1", ["opening", "new", "growth", "decline", "lost", "closing"]].tolist() == [
        200.0,
        0.0,
        20.0,
        0.0,
        -50.0,
        170.0,
    ]
    assert t.loc["S2", ["opening", "new", "decline", "closing", "change"]].tolist() == [
        80.0,
        40.0,
        -20.0,
        100.0,
        20.0,
    ]
    whole = sk.branch_bridge(bridge, base="month", stock="aum")
    assert whole["opening"] + whole[["new", "growth", "decline", "lost"]].sum() == whole["closing"]
    assert whole["closing"] == 270.0


def test_against_the_start_of_the_year(bridge):
    t = sk.contribution_table(bridge, base="year", stock="aum").set_index("staff_id")
    # c2 joined and left within the year: in neither bridge end
    assert t.loc["S1", ["opening", "growth", "closing"]].tolist() == [100.0, 70.0, 170.0]
    assert t.loc["S2", ["new", "decline"]].tolist() == [40.0, -20.0]
    loans = sk.branch_bridge(bridge, base="year", stock="loans")
    assert loans["closing"] == 30.0 and loans["new"] == 20.0 and loans["growth"] == 10.0


def test_npl_split_adds_up_and_names_the_rate_effect(bridge):
    split = sk.npl_split(bridge, base="month")
    total = sk.npl_total(bridge, base="month")
    assert total["opening"] == 0.0 and total["closing"] == 0.25
    assert split["contribution"].sum() == pytest.approx(total["change"], abs=1e-15)
    # S1: 0% -> 100% on a share 0.5 -> 0.25: rate effect 1.0 x 0.375; the mix is centred
    # on the branch's ratio at the midpoint, (0 + 0.25) / 2 = 0.125: -0.25 x (0.5 - 0.125)
    assert split.loc["S1", "rate_effect"] == pytest.approx(0.375)
    assert split.loc["S1", "mix_effect"] == pytest.approx(-0.09375)
    # S2 kept no NPL but its larger share (0.5 -> 0.75) at 0%, below the branch, lowered it
    assert split.loc["S2", "rate_effect"] == 0.0
    assert split.loc["S2", "mix_effect"] == pytest.approx(0.25 * (0.0 - 0.125))
    assert split.index[0] == "S1" and split.loc["S1", "staff_name"] == "王伟"


def test_bridge_facts(bridge):
    facts = sk.bridge_facts(
        bridge, min_change=0.005, min_change_pp=0.001, label=lambda prefix, code: code
    )
    keys = [k for k, _ in facts]
    assert keys == ["staff_kpi.summary.bridge_aum", "staff_kpi.summary.bridge_loans",
                    "staff_kpi.summary.bridge_npl_ratio"]  # fmt: skip
    aum = facts[0][1]
    # AUM 280 -> 270: the largest fall is c2 lost from 王伟's book
    assert (aum["name"], aum["part"], aum["amount"]) == ("王伟", "lost", -50.0)
    npl = facts[2][1]
    assert npl["name"] == "王伟" and npl["contribution"] == pytest.approx(0.28125)
    quiet = sk.bridge_facts(bridge, min_change=5.0, min_change_pp=1.0, label=lambda p, c: c)
    assert quiet == []


def test_an_empty_prior_period(bridge):
    only_now = sk.manager_bridges(
        _customers()[lambda d: d["month"] == P], _loans()[lambda d: d["month"] == P], period=P
    ).assign(staff_name="x")
    whole = sk.branch_bridge(only_now, base="month", stock="aum")
    assert whole["opening"] == 0.0 and whole["new"] == whole["closing"] == 270.0
    assert pd.isna(sk.npl_total(only_now, base="month")["change"])
    assert sk.bridge_facts(only_now, min_change=0.0, min_change_pp=0.0, label=lambda p, c: c) == []


def test_columns(bridge):
    assert list(bridge.columns[:2 + len(STOCK_COLUMNS)]) == ["staff_id", "base", "stock",
                                                             *STOCK_COLUMNS][:2 + len(STOCK_COLUMNS)]  # fmt: skip


@pytest.mark.slow
def test_every_manager_bridge_adds_up_and_matches_the_warehouse(small_bank):
    """For every branch's managers, both bases and every stock: opening + parts =
    closing, and opening and closing equal the managers' books summed from the warehouse."""
    import duckdb

    from branchbook.period import Period
    from branchbook.stats import residual

    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    extracts = small_bank / "build" / str(period) / "prepared" / "extracts"
    frames = sorted(extracts.glob("*/staff_bridge.parquet"))
    assert len(frames) == 2
    b = pd.concat([pd.read_parquet(f) for f in frames])
    assert (residual(b).abs() < 0.005).all()
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    sql = """
        SELECT c.manager_id AS staff_id,
               sum(coalesce(b.deposits_avg, b.deposits, 0)
                   + coalesce(b.wealth_avg, b.wealth, 0)) AS aum,  -- average daily (default)
               sum(coalesce(b.loans_outstanding, 0)) AS loans
        FROM balances b JOIN customers c USING (customer_id)
        WHERE b.month = $m AND c.manager_id IS NOT NULL GROUP BY 1
    """
    loans_sql = """
        SELECT l.manager_id AS staff_id, sum(coalesce(s.outstanding, 0)) AS book,
               sum(coalesce(s.outstanding, 0)) FILTER (
                   WHERE s.five_class IN ('substandard', 'doubtful', 'loss')) AS npl
        FROM loan_snapshots s JOIN loans l USING (loan_id)
        WHERE s.month = $m AND l.manager_id IS NOT NULL GROUP BY 1
    """

    def truth(month: str) -> pd.DataFrame:
        a = con.execute(sql, {"m": month}).df().set_index("staff_id")
        loans = con.execute(loans_sql, {"m": month}).df().set_index("staff_id")
        return a.join(loans, how="outer").fillna(0.0)

    now = truth(str(period))
    for base, month in sk.base_months(str(period)).items():
        then = truth(month)
        for stock in sk.STOCKS:
            rows = b[(b["base"] == base) & (b["stock"] == stock)].set_index("staff_id")
            for col, ref in (("opening", then), ("closing", now)):
                expected = ref[stock].reindex(rows.index).fillna(0.0)
                assert (rows[col] - expected).abs().max() < 0.005, (base, stock, col)
