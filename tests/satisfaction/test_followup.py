"""Follow-up coverage (定期回访): high-value customers contacted in the last N months."""

import math

import pandas as pd

from branchbook import coverage
from branchbook import satisfaction as sat


def rows() -> pd.DataFrame:
    """Four high-value customers of two managers and one without a manager."""
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "branch_id": ["0101"] * 5,
            "manager_id": ["S01", "S01", "S02", "S02", None],
            "name": ["张伟", "李娜", "王芳", "赵敏", "刘洋"],
            "asset_tier": ["wealth", "private", "wealth", "wealth", "wealth"],
            "aum": [600_000.0, 7_000_000.0, 800_000.0, 900_000.0, 550_000.0],
            # window of 3 months ending 2026-10: from 2026-08-01
            "last_contact": pd.to_datetime(
                ["2026-08-01", "2026-07-31", "2026-10-31", None, "2026-09-15"]
            ),
        }
    )


def test_contacted_means_a_contact_in_the_calendar_months_of_the_window():
    got = sat.followup.contacted(rows(), period="2026-10", months=3)
    assert got.tolist() == [True, False, True, False, True]
    assert sat.followup.contacted(rows(), period="2026-10", months=1).tolist() == [
        False, False, True, False, False]  # fmt: skip


def test_coverage_by_manager_lowest_first_and_the_branch_total():
    staff = pd.DataFrame({"staff_id": ["S01", "S02"], "name": ["Li", "Wang"]})
    got = sat.followup_by_manager(rows(), period="2026-10", months=3, staff=staff, unassigned="-")
    assert got["manager_name"].tolist() == ["Li", "Wang", "-"]  # 1/2, 1/2 (tie: id), 1/1
    assert got["high_value"].tolist() == [2.0, 2.0, 1.0]
    assert got["contacted"].tolist() == [1.0, 1.0, 1.0]
    assert got["coverage"].tolist() == [0.5, 0.5, 1.0]
    total = sat.followup_total(rows(), period="2026-10", months=3)
    assert total == {"high_value": 5.0, "contacted": 3.0, "coverage": 0.6}
    assert math.isnan(sat.followup_total(rows().iloc[0:0], period="2026-10", months=3)["coverage"])


def test_the_list_names_who_was_not_contacted_by_manager_largest_first():
    got = sat.not_contacted(rows(), period="2026-10", months=3)
    assert got["customer_id"].tolist() == ["C2", "C4"]
    assert got["days_since_contact"].iloc[0] == 92.0  # 31 July to 31 October
    assert math.isnan(got["days_since_contact"].iloc[1])  # never contacted


def test_without_contacts_the_section_is_left_out():
    from branchbook.contract import TABLES

    found = {name: set(t.names) for name, t in TABLES.items() if name != "contacts"}
    cov = coverage.verdict(found, ("satisfaction",))
    assert cov.produced("satisfaction") and "followup" in cov.hidden_sections("satisfaction")


def _bank(small_bank):
    import duckdb

    period = max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2")
    prepared = small_bank / "build" / period / "prepared"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    return period, prepared, con


def test_coverage_matches_the_warehouse(small_bank):
    """High-value customers (AUM on the average daily basis, the default thresholds)
    and those with a contact in the last three calendar months, per manager,
    recomputed from the warehouse by a separate query."""
    period, prepared, con = _bank(small_bank)
    start = pd.Period(period, "M") - 2
    for branch in ("0101", "0102"):
        rows_ = pd.read_parquet(prepared / "extracts" / branch / "satisfaction_followup.parquet")
        got = sat.followup_by_manager(rows_, period=period, months=3).set_index("manager_id")
        truth = (
            con.execute(
                """WITH hv AS (
                 SELECT c.customer_id, coalesce(c.manager_id, '') AS manager_id FROM customers c
                 JOIN balances b ON b.customer_id = c.customer_id AND b.month = $m
                 WHERE c.branch_id = $b AND c.opened_on <= $end
                   AND (c.closed_on IS NULL OR c.closed_on > $end)
                   AND coalesce(b.deposits_avg, b.deposits) + coalesce(b.wealth_avg, b.wealth) >= 500000)
               SELECT manager_id, count(*) AS n,
                      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM contacts k
                          WHERE k.customer_id = hv.customer_id
                            AND k.contacted_on BETWEEN $start AND $end)) AS hit
               FROM hv GROUP BY 1""",
                {
                    "m": period,
                    "b": branch,
                    "end": pd.Period(period, "M").end_time.date(),
                    "start": start.start_time.date(),
                },  # fmt: skip
            )
            .df()
            .set_index("manager_id")
        )
        assert sorted(got.index) == sorted(truth.index)
        assert got["high_value"].to_dict() == truth["n"].astype(float).to_dict()
        assert got["contacted"].to_dict() == truth["hit"].astype(float).to_dict()


def test_the_story_laggard_has_the_lowest_coverage_of_his_branch(small_bank):
    """The demo's laggard (the manager story's second professional) makes a quarter of
    the contacts: among his branch's managers with five or more high-value customers,
    his coverage is the lowest."""
    from branchbook import demo

    period, prepared, con = _bank(small_bank)
    ids = [r[0] for r in con.execute("SELECT branch_id FROM branches ORDER BY 1").fetchall()]
    branch = demo.story_branches(ids)["manager_spread"]
    laggard = con.execute(
        "SELECT staff_id FROM staff WHERE branch_id = ? AND active AND grade = 'professional' "
        "ORDER BY staff_id LIMIT 1 OFFSET 1",
        [branch],
    ).fetchone()[0]
    rows_ = pd.read_parquet(prepared / "extracts" / branch / "satisfaction_followup.parquet")
    got = sat.followup_by_manager(rows_, period=period, months=3)
    got = got[(got["high_value"] >= 5) & (got["manager_id"] != "")]
    assert got["manager_id"].iloc[0] == laggard
    assert got["coverage"].iloc[0] < got["coverage"].iloc[1:].min()
