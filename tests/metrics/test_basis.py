"""The balance basis: average daily (日均) where the warehouse has it, month end (时点)
otherwise, with the note saying so; worked out by hand on tiny tables."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from branchbook.metrics import basis, models
from branchbook.params import AssetTiers


class Ctx:
    """What a report's prepare gets: SQL over a connection, and the period."""

    def __init__(self, con, period="2026-10"):
        self.con, self.period = con, period

    def sql(self, query, **params):
        return self.con.execute(query, params).df()


def _balances(rows, *, averages=True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    cols = "customer_id VARCHAR, month VARCHAR, deposits DOUBLE, wealth DOUBLE"
    if averages:
        cols += ", deposits_avg DOUBLE, wealth_avg DOUBLE"
    con.execute(f"CREATE TABLE balances ({cols})")
    n = 6 if averages else 4
    con.executemany(f"INSERT INTO balances VALUES ({', '.join('?' * n)})", [r[:n] for r in rows])
    return con


ROWS = [
    # customer, month, deposits, wealth (month end), deposits_avg, wealth_avg
    ("A", "2026-10", 60_000.0, 0.0, 30_000.0, 0.0),  # opened mid-month: average far below
    ("B", "2026-10", 40_000.0, 20_000.0, 45_000.0, 15_000.0),
    ("C", "2026-10", 10_000.0, None, None, None),  # no average recorded: its month end
    ("D", "2026-10", -2_000.0, 0.0, -500.0, 0.0),  # overdraft at both
]


def _aum(con, b: str) -> dict[str, float]:
    q = f"SELECT customer_id, {models.aum_sql('', b)} AS aum FROM balances ORDER BY 1"
    return dict(con.execute(q).fetchall())


def test_aum_on_each_basis_by_hand():
    con = _balances(ROWS)
    # D's overdraft counts 0: AUM is never below zero (an overdraft is credit, not an asset)
    assert _aum(con, "month_end") == {"A": 60_000.0, "B": 60_000.0, "C": 10_000.0, "D": 0.0}
    # average daily: A 30,000 + 0; B 45,000 + 15,000; C falls back to its month end; D
    assert _aum(con, "average_daily") == {
        "A": 30_000.0, "B": 60_000.0, "C": 10_000.0, "D": 0.0,
    }  # fmt: skip
    tiers = models.asset_tier(pd.Series(_aum(con, "average_daily")), AssetTiers())
    # A is affluent at month end (60,000 >= 50,000) but mass on its average daily balance
    assert tiers.to_dict() == {"A": "mass", "B": "affluent", "C": "mass", "D": "mass"}


def test_unknown_basis_is_named():
    with pytest.raises(ValueError, match="one of .*average_daily.*Got 'daily'"):
        models.aum_sql("b", "daily")


def test_the_shared_customer_month_reads_the_basis_and_the_tier_rule_reads_it():
    from branchbook.metrics import shared

    sql = shared.customer_month_sql(AssetTiers(), "average_daily")
    assert "deposits_avg" in sql and "wealth_avg" in sql
    assert "_avg" not in shared.customer_month_sql(AssetTiers(), "month_end")
    assert "FROM customer_month" in models.tier_aum_sql("SELECT 'A'")


def test_the_warehouse_decides_the_basis_used():
    with_avg = Ctx(_balances(ROWS))
    assert basis.has_averages(with_avg)
    assert basis.basis_used("average_daily", basis.has_averages(with_avg)) == "average_daily"
    # no average columns at all
    without = Ctx(_balances(ROWS, averages=False))
    assert not basis.has_averages(without)
    assert basis.basis_used("average_daily", basis.has_averages(without)) == "month_end"
    # the columns are there but empty for the whole period: month end as well
    empty = _balances([(*r[:4], None, None) for r in ROWS])
    assert not basis.has_averages(Ctx(empty))
    # averages only in another month do not count for this one
    assert not basis.has_averages(Ctx(_balances(ROWS), period="2026-11"))
    # month end asked for: month end, whatever the warehouse has
    assert basis.basis_used("month_end", True) == "month_end"


def test_validate_names_average_columns_that_are_empty_for_the_period():
    empty = _balances([(*r[:4], None, None) for r in ROWS])
    cols = ("customer_id", "month", "deposits", "wealth", "deposits_avg", "wealth_avg")
    assert basis.empty_line(empty, "2026-10", cols) == (
        "balances: deposits_avg and wealth_avg are empty for 2026-10: AUM on the average "
        "daily basis falls back to month end"
    )
    assert basis.empty_line(_balances(ROWS), "2026-10", cols) is None  # they are there
    # absent columns: the coverage table names them, no second line
    assert basis.empty_line(_balances(ROWS, averages=False), "2026-10", cols[:4]) is None


def test_the_note_appears_only_when_the_basis_fell_back():
    fell = basis.record("average_daily", False)
    assert fell == {"wanted": "average_daily", "used": "month_end"}
    assert basis.fallback_note(fell) == "common.data_warnings.balance_basis_month_end"
    assert basis.fallback_note(basis.record("average_daily", True)) is None
    assert basis.fallback_note(basis.record("month_end", False)) is None  # chosen, not fallen
    assert basis.fallback_note(None) is None  # a period prepared before the basis existed


# -- on the small demo bank ----------------------------------------------------------

PERIOD = "2026-10"

_TIERS_SQL = """
SELECT CASE WHEN aum >= $private THEN 'private' WHEN aum >= $wealth THEN 'wealth'
            WHEN aum >= $affluent THEN 'affluent' ELSE 'mass' END AS tier,
       count(*) AS customers
FROM (
    SELECT c.customer_id,
           coalesce(any_value({deposits}), 0) + coalesce(any_value({wealth}), 0) AS aum
    FROM customers c
    LEFT JOIN balances b ON b.customer_id = c.customer_id AND b.month = $period
    WHERE c.branch_id = $branch AND c.opened_on <= DATE '2026-10-31'
      AND (c.closed_on IS NULL OR c.closed_on > DATE '2026-10-31')
    GROUP BY c.customer_id
)
GROUP BY 1
"""


def _tier_counts(con, deposits: str, wealth: str, tiers: AssetTiers) -> dict[str, int]:
    sql = _TIERS_SQL.format(deposits=deposits, wealth=wealth)
    rows = con.execute(
        sql,
        {"period": PERIOD, "branch": "0101", "affluent": tiers.affluent,
         "wealth": tiers.wealth, "private": tiers.private},
    ).fetchall()  # fmt: skip
    return {tier: int(n) for tier, n in rows}


@pytest.mark.slow
def test_average_daily_tier_counts_are_the_warehouses(small_bank):
    """Branch 0101's customers per asset tier, recomputed from the warehouse on the
    average daily balances by a query of its own, are the prepared benchmark's; on month
    end they would not be (the basis is really in use)."""
    from branchbook.data import load
    from branchbook.params import ParamSet
    from branchbook.reports import settings_classes

    tiers = (
        ParamSet(small_bank / "params", settings_classes()).for_branch("0101").common.asset_tiers
    )
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    avg = _tier_counts(con, "b.deposits_avg", "b.wealth_avg", tiers)
    end = _tier_counts(con, "b.deposits", "b.wealth", tiers)
    assert avg != end
    bank = load(PERIOD, scope="bank", build_dir=small_bank / "build")
    assert bank.meta["balance_basis"] == {"wanted": "average_daily", "used": "average_daily"}
    row = bank.bench("bench_segmentation").query("branch_id == '0101' and period == @PERIOD")
    n = float(row["customers"].iloc[0])
    assert n == sum(avg.values())
    published = {t: round(float(row[f"share_asset_tier_{t}"].iloc[0]) * n) for t in avg}
    assert published == avg


@pytest.mark.slow
def test_a_warehouse_without_averages_falls_back_to_month_end(small_bank, tmp_path):
    """The small demo with the average columns dropped: prepared on month end, recorded
    as a fallback, the tiers are the month-end ones and each report that shows AUM says
    so in one line of its data note, in both locales."""
    import shutil

    from branchbook.context import open_report
    from branchbook.data import load
    from branchbook.params import ParamSet
    from branchbook.prepare import prepare
    from branchbook.reports import settings_classes

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("ALTER TABLE balances DROP COLUMN deposits_avg")
        con.execute("ALTER TABLE balances DROP COLUMN wealth_avg")
        tiers = ParamSet(small_bank / "params", settings_classes()).for_branch("0101")
        end = _tier_counts(con, "b.deposits", "b.wealth", tiers.common.asset_tiers)
    prep = prepare(PERIOD, source=wh, params_dir=small_bank / "params", build_dir=tmp_path)
    assert prep.meta["balance_basis"] == {"wanted": "average_daily", "used": "month_end"}
    row = load(PERIOD, scope="bank", build_dir=tmp_path).bench("bench_segmentation")
    row = row.query("branch_id == '0101' and period == @PERIOD")
    n = float(row["customers"].iloc[0])
    assert {t: round(float(row[f"share_asset_tier_{t}"].iloc[0]) * n) for t in end} == end
    for locale, words in (("en", "month-end balances"), ("zh-CN", "月末时点余额")):
        for report, shown in (("segmentation", True), ("staff_kpi", True), ("risk", False)):
            rc = open_report(report, branch_id="0101", period=PERIOD, locale=locale,
                             build_dir=str(tmp_path), params_dir=str(small_bank / "params"))  # fmt: skip
            assert (rc.page.html().count(words) == 1) is shown, (report, locale)
            assert rc.page.balance_basis == ("month_end" if shown else "")
