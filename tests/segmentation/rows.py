"""Customer rows and a bank benchmark built by hand, shared by the segmentation tests."""

import numpy as np
import pandas as pd

from branchbook import segmentation as sg

S = sg.Settings()

# One row of segmentation_customers as prepare() returns it; tests override what matters.
BASE = {
    "branch_id": "0101",
    "manager_id": "S01",
    "name": "Wang Fang",
    "customer_type": "individual",
    "open_now": True,
    "open_prev": True,
    "tenure_months": 24.0,
    "deposits": 100_000.0,
    "wealth": 0.0,
    "aum": 100_000.0,
    "products_held": 2.0,
    "aum_prev": 100_000.0,
    "products_held_prev": 2.0,
    "aum_recent_3m": 100_000.0,
    "aum_earlier_3m": 100_000.0,
    "aum_recent_3m_prev": 100_000.0,
    "aum_earlier_3m_prev": 100_000.0,
    "txn_90d": 10.0,
    "txn_90d_prev": 10.0,
    "recency_days": 5.0,
    "recency_days_prev": 5.0,
    "frequency_12m": 40.0,
    "monetary_12m": 1_000.0,
    "credit_grade": "A",
    "credit_grade_prev": "A",
    "pct_aum": 50.0,
    "pct_activity": 50.0,
    "pct_products": 50.0,
    "pct_tenure": 50.0,
    "pct_credit": 50.0,
    "r_score": 3.0,
    "f_score": 3.0,
    "m_score": 3.0,
    "cluster": 1,
    "cluster_label": "mid_value_active",
    "holdings": 0.0,
    "mismatches": 0.0,
    "mismatch_balance": 0.0,
    "holdings_prev": 0.0,
    "mismatches_prev": 0.0,
    "mismatch_balance_prev": 0.0,
    "holds_deposit": 1.0,
    "holds_time_deposit": 0.0,
    "holds_wealth": 0.0,
    "holds_fund": 0.0,
    "holds_insurance": 0.0,
    "holds_bond": 0.0,
    "age": 40.0,
    "gender": "F",
    "occupation": "clerk",
    "income_band": "5k_10k",
}


def frame(*rows: dict) -> pd.DataFrame:
    """Customer rows C1, C2, ... from BASE plus each row's overrides."""
    recs = [{"customer_id": f"C{i + 1}", **BASE, **r} for i, r in enumerate(rows)]
    df = pd.DataFrame(recs, columns=["customer_id", *BASE])
    return df.astype({"cluster": "Int64"})


CLOSED = {"open_now": False, "aum": np.nan, "txn_90d": np.nan, "deposits": np.nan}


def empty() -> pd.DataFrame:
    return frame({}).iloc[0:0]


def two_groups() -> pd.DataFrame:
    rich = {"aum": 1_000_000.0, "txn_90d": 30.0, "products_held": 5.0, "tenure_months": 100.0}
    poor = {"aum": 1_000.0, "txn_90d": 0.0, "products_held": 1.0, "tenure_months": 3.0}
    return frame(rich, poor, rich, poor, {**rich, "aum": 1_100_000.0}, poor, CLOSED)


def kpi_rows() -> pd.DataFrame:
    return sg.classify(
        frame(
            {"aum": 7_000_000.0, "txn_90d": 0.0},  # private, dormant
            {"aum": 600_000.0, "txn_90d": 3.0},  # wealth, low
            {"aum": 40_000.0, "txn_90d": 25.0},  # mass, high
            {"aum": 10_000.0, "txn_90d": 0.0},  # mass, dormant
            {"aum": 2_000.0, "txn_90d": 8.0},  # mass, medium
            CLOSED,
        ),
        S,
    )


def bench_rows() -> pd.DataFrame:
    rows = []
    for bid, customers, active, top20, mass, decline in [
        ("0101", 5.0, 0.6, 0.9, 0.6, 0.0),
        ("0102", 10.0, 0.5, 0.8, 0.5, 0.1),
        ("0103", 2.0, 0.9, 0.7, 0.7, 0.2),
    ]:
        rows.append(
            {
                "branch_id": bid,
                "period": "2026-10",
                "customers": customers,
                "aum_total": 1e6,
                "top20_share": top20,
                "active_share": active,
                "high_value_customers": 1.0,
                "dormant_high_value_share": 0.2,
                "share_asset_tier_mass": mass,
                "aum_share_asset_tier_mass": mass / 10,
                "share_lifecycle_decline": decline,
            }
        )
    rows.append({**rows[0], "period": "2026-09", "active_share": 0.1})
    return pd.DataFrame(rows)
