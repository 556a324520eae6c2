"""A tiny bank (five managers, two branches) and helpers shared by the staff KPI tests."""

from __future__ import annotations

import string
import types
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest
import yaml
from shared_tables import add_shared

from branchbook import staff_kpi
from branchbook.i18n import LOCALE_DIR, _flatten
from branchbook.period import month_bounds, shift_month, window


def approx(x, rel=1e-6, abs=1e-9):
    return pytest.approx(x, rel=rel, abs=abs, nan_ok=True)


NAN = float("nan")


PERIOD = "2026-10"


def _d(s: str) -> date:
    return date.fromisoformat(s)


def _tables() -> dict[str, pd.DataFrame]:
    staff = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4", "S5"],
            "branch_id": ["0101", "0101", "0102", "0102", "0101"],
            "name": ["王伟", "李娜", "张敏", "刘洋", "陈静"],
            "grade": ["professional", "professional", "professional", "assistant", "senior"],
            "hired_on": [_d("2015-03-01")] * 5,
            "active": [True, True, True, True, False],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "branch_id": ["0101", "0101", "0101", "0101", "0102", "0101"],
            "manager_id": ["S1", "S1", "S1", "S2", "S3", None],
            "customer_type": ["individual"] * 6,
            "opened_on": [
                _d("2020-01-01"),
                _d("2026-10-05"),
                _d("2020-01-01"),
                _d("2020-01-01"),
                _d("2020-01-01"),
                _d("2020-01-01"),
            ],
            "closed_on": [None, None, _d("2026-09-15"), None, None, None],
            "kyc_status": [
                "complete",
                "incomplete",
                "complete",
                "complete",
                "complete",
                "complete",
            ],
        }
    )
    customers["closed_on"] = pd.to_datetime(customers["closed_on"]).dt.date
    bal = [
        ("C1", "2026-08", 100.0, 0.0, 1),
        ("C1", "2026-09", 100.0, 50.0, 1),
        ("C1", "2026-10", 150.0, 50.0, 2),
        ("C2", "2026-10", 20.0, 0.0, 1),
        ("C3", "2026-08", 30.0, 0.0, 1),
        ("C4", "2026-09", 200.0, 0.0, 3),
        ("C4", "2026-10", 180.0, 0.0, 3),
        ("C5", "2026-09", 50.0, 0.0, 1),
        ("C5", "2026-10", 70.0, 0.0, 1),
        ("C6", "2026-10", 999.0, 0.0, 1),
    ]
    balances = pd.DataFrame(
        bal, columns=["customer_id", "month", "deposits", "wealth", "products_held"]
    )
    # customers' loans: C1 1500 from September, C4 300 then 250
    loans_out = {
        ("C1", "2026-09"): 1500.0,
        ("C1", "2026-10"): 1500.0,
        ("C4", "2026-09"): 300.0,
        ("C4", "2026-10"): 250.0,
    }
    balances["loans_outstanding"] = [
        loans_out.get((c, m), 0.0)
        for c, m in zip(balances["customer_id"], balances["month"], strict=True)
    ]
    # L2 and L4 originated this month (commission); L4 by S1 of 0101 for C5, a customer
    # of 0102, booked there, with no snapshot yet
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "customer_id": ["C1", "C1", "C4", "C5"],
            "branch_id": ["0101", "0101", "0101", "0102"],
            "manager_id": ["S1", "S1", "S2", "S1"],
            "product": ["mortgage", "consumer", "business", "business"],
            "originated_on": [
                _d(d) for d in ("2020-01-01", "2026-10-10", "2024-01-01", "2026-10-20")
            ],
            "principal": [1000.0, 500.0, 300.0, 2000.0],
        }
    )
    snaps = [
        ("L1", "2026-08", 1000.0, "pass"),
        ("L1", "2026-09", 1000.0, "pass"),
        ("L1", "2026-10", 1000.0, "pass"),
        ("L2", "2026-09", 500.0, "special_mention"),
        ("L2", "2026-10", 500.0, "substandard"),
        ("L3", "2026-09", 300.0, "doubtful"),
        ("L3", "2026-10", 300.0, "doubtful"),
    ]
    loan_snapshots = pd.DataFrame(snaps, columns=["loan_id", "month", "outstanding", "five_class"])
    loan_snapshots["dpd"] = 0
    surveys = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R3"],
            "customer_id": ["C1", "C2", "C4"],
            "branch_id": ["0101"] * 3,
            "manager_id": ["S1", None, "S2"],
            "responded_on": [_d("2026-10-03"), _d("2026-10-20"), _d("2026-09-10")],
            "csat": [5, 3, 4],
        }
    )
    complaints = pd.DataFrame(
        {
            "complaint_id": ["K1"],
            "customer_id": ["C1"],
            "branch_id": ["0101"],
            "manager_id": ["S1"],
            "received_at": [datetime(2026, 10, 10, 9, 30)],
        }
    )
    aml_alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2"],
            "customer_id": ["C4", "C1"],
            "raised_on": [_d("2026-09-01"), _d("2026-10-02")],
            "alert_type": ["structuring"] * 2,
            "status": ["open", "closed"],
        }
    )
    targets = pd.DataFrame(
        {
            "staff_id": ["S1", "S1", "S2", "S3"],
            "period": ["2026-10"] * 4,
            "kpi": ["net_new_aum", "new_customers", "deposit_growth", "products_per_customer"],
            "target": [100.0, 1.0, 0.0, 1.0],
        }
    )
    return {
        "staff": staff,
        "customers": customers,
        "balances": balances,
        "loans": loans,
        "loan_snapshots": loan_snapshots,
        "surveys": surveys,
        "complaints": complaints,
        "aml_alerts": aml_alerts,
        "targets": targets,
    }


def make_ctx(tables: dict[str, pd.DataFrame], settings: staff_kpi.Settings, period: str = PERIOD):
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    add_shared(con, period, settings)
    start, end = month_bounds(period)
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period=period,
        prev_period=shift_month(period, -1),
        period_start=start,
        period_end=end,
        months=lambda n: window(period, n),
        settings=settings,
    )


SMALL = staff_kpi.Settings.model_validate(
    {
        "trend_months": 2,
        "service_window_months": 1,
        "min_book_customers": 1,
        "scorecard": {"growth": ["net_new_aum"], "quality": ["npl_ratio"]},
        "dimension_weights": {"growth": 0.5, "quality": 0.5},
    }
)


def _branch(prepared, branch="0101"):
    return {
        k: (v[v["branch_id"] == branch] if not k.startswith("bench_") else v)
        for k, v in prepared.items()
    }


def _catalogue(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "staff_kpi.yaml").open(encoding="utf-8") as fh:
        return _flatten(yaml.safe_load(fh))


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}
