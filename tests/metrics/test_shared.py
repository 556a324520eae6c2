"""The shared tables of prepare, each checked on a tiny warehouse against rows worked
out by hand; and the reports' prepares read them instead of deriving the rules again."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from branchbook.metrics import shared
from branchbook.params import AssetTiers
from branchbook.reports import REPORTS

d = dt.date
PACKAGE = Path(shared.__file__).resolve().parents[1]


@pytest.fixture
def con():
    """Three customers of branch 0101 (C3 closed on 15 September 2026), two loans, four
    survey answers; the period is 2026-10."""
    c = duckdb.connect()
    frames = {
        "customers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2", "C3"],
                "branch_id": ["0101"] * 3,
                "manager_id": ["M1", None, "M2"],
                "opened_on": [d(2020, 1, 1), d(2026, 10, 5), d(2019, 6, 1)],
                "closed_on": [None, None, d(2026, 9, 15)],
            }
        ),
        "balances": pd.DataFrame(
            {
                "customer_id": ["C1", "C1", "C2", "C3", "C3", "XX"],
                "month": ["2026-09", "2026-10", "2026-10", "2026-09", "2026-11", "2026-10"],
                "deposits": [40_000.0, 45_000.0, None, 6_000_000.0, 1.0, 9.0],
                "wealth": [10_000.0, 4_999.99, 700_000.0, 0.0, 0.0, 0.0],
                "loans_outstanding": [0.0, 0.0, 10.0, 0.0, 0.0, 0.0],
                "products_held": [2, 2, 1, 3, 3, 1],
            }
        ),
        "loans": pd.DataFrame(
            {
                "loan_id": ["L1", "L2"],
                "customer_id": ["C1", "C3"],
                "branch_id": ["0101", "0101"],
                "manager_id": ["M1", "M2"],
            }
        ),
        "loan_snapshots": pd.DataFrame(
            {
                "loan_id": ["L1", "L1", "L2", "L9"],
                "month": ["2026-09", "2026-10", "2026-09", "2026-10"],
                "outstanding": [100.0, 90.0, 50.0, 1.0],
                "dpd": [0, 45, 120, 0],
                "five_class": ["pass", "substandard", None, "loss"],
            }
        ),
        "surveys": pd.DataFrame(
            {
                "response_id": ["R1", "R2", "R3", "R4", "R5"],
                "customer_id": ["C1", "C1", "C2", "C3", "C1"],
                "responded_on": [
                    d(2026, 9, 30),
                    d(2026, 10, 31),
                    d(2026, 10, 6),
                    d(2026, 8, 1),
                    d(2026, 11, 1),
                ],  # fmt: skip
                "csat": [5, 3, None, 1, 4],
                "nps": [9, 7, 6, None, 10],
            }
        ),
    }
    for name, frame in frames.items():
        c.register(f"{name}_df", frame)
        c.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
    rows = shared.prepare_shared(
        c, "2026-10", d(2026, 10, 31), tiers=AssetTiers(), csat_scale=[0, 30, 60, 85, 100]
    )
    assert rows == {"customer_month": 4, "loan_month": 3, "survey_scored": 4, "churn": 3}
    return c


def rows(con, query: str) -> list[tuple]:
    return [tuple(r) for r in con.execute(query).fetchall()]


def test_customer_month_by_hand(con):
    got = rows(
        con,
        "SELECT customer_id, month, month_end, manager_id, open, deposits, wealth, aum, "
        "asset_tier FROM customer_month ORDER BY customer_id, month",
    )
    # C1 in October: 45,000 + 4,999.99 = 49,999.99, still mass; C2's missing deposits
    # count 0 (700,000 of wealth: the wealth tier); C3 closed on 15 September, so it was
    # not open at that month's end; C3's November row lies after the period and XX is no
    # customer: neither has a row
    assert got == [
        ("C1", "2026-09", d(2026, 9, 30), "M1", True, 40_000.0, 10_000.0, 50_000.0, "affluent"),
        ("C1", "2026-10", d(2026, 10, 31), "M1", True, 45_000.0, 4_999.99, 49_999.99, "mass"),
        ("C2", "2026-10", d(2026, 10, 31), None, True, None, 700_000.0, 700_000.0, "wealth"),
        ("C3", "2026-09", d(2026, 9, 30), "M2", False, 6e6, 0.0, 6e6, "private"),
    ]


def test_the_aum_basis_is_chosen_in_one_function(monkeypatch):
    """customer_month's ``aum`` comes from :func:`shared.aum_expr` and nowhere else."""
    monkeypatch.setattr(shared, "aum_expr", lambda alias="b", basis="month_end": f"'{basis}'")
    sql = shared.customer_month_sql(AssetTiers(), "average_daily")
    assert "'average_daily' AS aum," in sql and "'month_end' AS aum_month_end" in sql


def test_loan_month_by_hand(con):
    got = rows(
        con,
        "SELECT loan_id, month, customer_id, manager_id, outstanding, dpd, five_class, npl, "
        "undrawn FROM loan_month ORDER BY loan_id, month",
    )
    # L9 belongs to no loan: no row; an unclassed snapshot is not NPL; no undrawn column
    assert got == [
        ("L1", "2026-09", "C1", "M1", 100.0, 0, "pass", False, None),
        ("L1", "2026-10", "C1", "M1", 90.0, 45, "substandard", True, None),
        ("L2", "2026-09", "C3", "M2", 50.0, 120, None, False, None),
    ]


def test_survey_scored_by_hand(con):
    got = rows(
        con,
        "SELECT response_id, month, csat_100, nps_class FROM survey_scored ORDER BY response_id",
    )
    # answers 5, 3, 1 on the scale 0/30/60/85/100; R5 was answered after the period
    assert got == [
        ("R1", "2026-09", 100.0, "promoter"),
        ("R2", "2026-10", 60.0, "passive"),
        ("R3", "2026-10", None, "detractor"),
        ("R4", "2026-08", 0.0, None),
    ]


def test_churn_by_hand(con):
    got = rows(
        con,
        "SELECT customer_id, closed_on, closed_month, closed_by_period FROM churn "
        "ORDER BY customer_id",
    )
    assert got == [
        ("C1", None, None, False),
        ("C2", None, None, False),
        ("C3", d(2026, 9, 15), "2026-09", True),
    ]


def _code_strings(path: Path) -> str:
    """The string constants of a module's code (its SQL), without the docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {  # a bare string statement: a docstring of a module, class, function or field
        id(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)
    }
    return "\n".join(
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs
    )


def _report_sources() -> dict[str, str]:
    """Per report package, its code: the string constants and the source without them."""
    out = {}
    for module in REPORTS.values():
        folder = PACKAGE / module.split(".")[1]
        files = sorted(folder.glob("*.py"))
        out[module] = "\n".join(_code_strings(p) for p in files) + "\n".join(
            re.sub(r'"""(.|\n)*?"""', "", p.read_text(encoding="utf-8")) for p in files
        )
    return out


@pytest.mark.parametrize(
    "pattern, rule",
    [
        (r"deposits\W*\s*\+\s*(coalesce\()?\s*\w*\W*wealth", "AUM: customer_month.aum"),
        (r"\baum_sql\(", "AUM: customer_month.aum"),
        (r"\bcsat_100_sql\(|WHEN 1 THEN", "0-100 CSAT: survey_scored.csat_100"),
        (r"\bnpl_sql\(", "NPL: loan_month.npl"),
        (r"\b(FROM|JOIN)\s+(balances|loan_snapshots|surveys)\b", "the shared tables"),
    ],
)
def test_report_prepares_read_the_shared_tables(pattern, rule):
    """No report package derives what the shared tables hold: it reads them."""
    for module, source in _report_sources().items():
        found = re.search(pattern, source)
        assert not found, f"{module}: {found.group(0)!r} (read {rule})"


def test_an_overdraft_counts_zero_in_aum_and_deposits_but_stays_in_the_month_end_column():
    """A customer 500 overdrawn with 1,000 of wealth: AUM 1,000 (mass), deposits 0 as the
    AUM counts them, the month-end deposits as recorded (-500); on the average daily
    basis the month's average overdraft (-200) counts 0 the same way."""
    c = duckdb.connect()
    c.register(
        "customers",
        pd.DataFrame(
            {"customer_id": ["C1"], "branch_id": ["0101"], "manager_id": ["M1"],
             "opened_on": [d(2020, 1, 1)], "closed_on": [None]}
        ),
    )  # fmt: skip
    c.register(
        "balances",
        pd.DataFrame(
            {"customer_id": ["C1"], "month": ["2026-10"], "deposits": [-500.0],
             "wealth": [1_000.0], "deposits_avg": [-200.0], "wealth_avg": [900.0],
             "loans_outstanding": [0.0], "products_held": [1]}
        ),
    )  # fmt: skip
    for basis, aum in (("month_end", 1_000.0), ("average_daily", 900.0)):
        row = c.execute(
            shared.customer_month_sql(AssetTiers(), basis), {"period": "2026-10"}
        ).df().iloc[0]  # fmt: skip
        assert row["aum"] == aum and row["deposits"] == 0.0 and row["asset_tier"] == "mass"
        assert row["deposits_month_end"] == -500.0 and row["aum_month_end"] == 1_000.0
