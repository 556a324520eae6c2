"""A KPI that does not add up across branches, measured on each scope's pooled rows
(branchbook.metrics.scopes), by hand on a tiny frame."""

from __future__ import annotations

import math

import pandas as pd

from branchbook.metrics import scopes


def largest_share(rows: pd.DataFrame) -> dict[str, float]:
    """The largest customer's share of the rows' amount (NaN for no amount)."""
    by = rows.groupby("customer_id")["amount"].sum()
    total = by.sum()
    return {"largest": float(by.max() / total) if total > 0 else math.nan}


ROWS = pd.DataFrame(
    {
        "branch_id": ["1", "1", "2", "3", "4"],
        "customer_id": ["a", "b", "a", "c", "d"],
        "amount": [10.0, 30.0, 25.0, 35.0, 100.0],
    }
)
REGION = {"1": "East", "2": "East", "3": "North", "4": "", "5": "West"}


def test_each_scope_is_measured_on_its_pooled_rows_not_from_its_branches_values():
    got = scopes.by_scope(ROWS, REGION, largest_share, period="2026-10").set_index("scope")
    assert got.index.tolist() == ["bank", "region:East", "region:North", "region:West"]
    assert (got["period"] == "2026-10").all()
    # East: customer a holds 10 at branch 1 and 25 at branch 2, 35 of 65 in all, while
    # each branch's own largest share is 30/40 and 25/25
    assert got.loc["region:East", "largest"] == 35 / 65
    assert got.loc["region:North", "largest"] == 1.0
    # the bank has branch 4 (no region) too: d's 100 of 200
    assert got.loc["bank", "largest"] == 100 / 200
    # a region without rows this month is measured on no rows: NaN, never 0
    assert math.isnan(got.loc["region:West", "largest"])


def test_a_scopes_value_is_read_back_by_scope_and_month():
    frame = pd.concat(
        [
            scopes.by_scope(ROWS, REGION, largest_share, period="2026-10"),
            scopes.by_scope(
                ROWS[ROWS["branch_id"] != "2"], REGION, largest_share, period="2025-12"
            ),
        ],
        ignore_index=True,
    )
    assert scopes.scope_value(frame, scope="region:East", period="2025-12") == {"largest": 0.75}
    assert scopes.scope_value(frame, scope="bank", period="2026-10") == {"largest": 0.5}
    assert scopes.scope_value(frame, scope="region:South", period="2026-10") == {}
    assert scopes.scope_value(frame, scope="bank", period="2024-12") == {}
    assert scopes.scope_value(None, scope="bank", period="2026-10") == {}
