"""Shared data of the risk tests: tiny hand-built frames, a small warehouse, and the
notebook's calls in order."""

import datetime as dt
import types

import duckdb
import numpy as np
import pandas as pd
import pytest
from shared_tables import add_shared

from branchbook import risk
from branchbook.period import shift_month, window
from branchbook.risk import Scorecard, Settings

S = Settings()


def approx(x, rel=1e-6):
    return pytest.approx(x, rel=rel, abs=1e-9, nan_ok=True)


def credit_data(n=5000, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    grade = rng.choice(["a", "b", "c", "rare"], size=n, p=[0.45, 0.35, 0.19, 0.01])
    logit = -2.0 + 1.2 * x + np.select([grade == "a", grade == "b"], [-0.8, 0.0], 0.8)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    x_miss = np.where(rng.random(n) < 0.05, np.nan, x)
    X = pd.DataFrame({"x": x_miss, "grade": grade, "noise": rng.normal(size=n)})
    return X, y


# -- expected loss ---------------------------------------------------------------------
def flat_scorecard(bad: int, n: int) -> Scorecard:
    """A scorecard giving every loan PD = bad / n (no feature carries information)."""
    return Scorecard(min_iv=0.0).fit(pd.DataFrame({"k": [1.0] * n}), [1] * bad + [0] * (n - bad))


def loans_frame(**cols):
    base = {
        "loan_id": ["L1", "L2", "L3", "L4"],
        "customer_id": ["C1", "C2", "C3", "C3"],
        "name": ["张三", "李四", "王五公司", "王五公司"],
        "customer_type": ["individual", "individual", "corporate", "corporate"],
        "product": ["mortgage", "consumer", "business", "business"],
        "collateral_type": ["real_estate", "none", "guarantee", "vehicle"],
        "collateral_value": [1400.0, np.nan, np.nan, np.nan],
        "industry": [None, None, "manufacturing", "manufacturing"],
        "outstanding": [1000.0, 2000.0, 500.0, 100.0],
        "dpd": [0, 0, 95, 0],
        "five_class": ["pass", "pass", "substandard", "pass"],
        "ltv": [1000 / 1400, np.nan, np.nan, np.nan],
    }
    base.update(cols)
    return pd.DataFrame(base)


def flags_none():
    return pd.DataFrame({"exposure": pd.Series(dtype=float), "n_rules": pd.Series(dtype=int)})


def compliance_none():
    return pd.DataFrame({"status": pd.Series(dtype="string")})


# -- prepare on a tiny warehouse ---------------------------------------------------------
#: 25 months, Oct 2024 to Oct 2026: a development window (Oct 2024 followed to Oct 2025)
#: and an out-of-time one (Oct 2025 followed to Oct 2026) before the period.
MONTHS = window("2026-10", 25)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Branch 0101 with four loans, branch 0102 with none."""
    d = dt.date
    branches = pd.DataFrame(
        {
            "branch_id": ["0101", "0102"],
            "name": ["East", "West"],
            "name_zh": ["东区", "西区"],
            "region": ["R", "R"],
            "city": ["X", "X"],
            "opened_on": [d(2000, 1, 1)] * 2,
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "branch_id": ["0101"] * 4 + ["0102"] * 2,
            "manager_id": [None] * 6,
            "customer_type": [
                "individual",
                "corporate",
                "corporate",
                "individual",
                "individual",
                "individual",
            ],
            "name": ["张三", "华东机械有限公司", "宏达建设有限公司", "李四", "王五", "赵六"],
            "industry": [None, "manufacturing", "construction", None, None, None],
            "opened_on": [d(2020, 1, 1)] * 6,
            "closed_on": [None] * 5 + [d(2026, 6, 30)],
            "kyc_status": ["complete", "complete", "complete", "expired", "complete", "complete"],
        }
    )
    balances = pd.DataFrame(
        [(c, m, 1000.0, 0.0, 0.0, 1) for c in customers["customer_id"] for m in MONTHS],
        columns=[
            "customer_id",
            "month",
            "deposits",
            "wealth",
            "loans_outstanding",
            "products_held",
        ],
    )
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4"],
            "customer_id": ["C1", "C2", "C3", "C4"],
            "branch_id": ["0101"] * 4,
            "manager_id": ["S1", "S9", None, None],  # S9: not in the staff table
            "product": ["mortgage", "working_capital", "business", "consumer"],
            "originated_on": [d(2024, 1, 15), d(2025, 1, 10), d(2025, 3, 1), d(2025, 6, 1)],
            "maturity_on": [d(2044, 1, 15), d(2027, 1, 10), d(2028, 3, 1), d(2026, 12, 1)],
            "principal": [700_000.0, 300_000.0, 100_000.0, 30_000.0],
            "interest_rate": [0.04, 0.06, 0.07, 0.09],
            "collateral_type": ["real_estate", "none", "equipment", "none"],
            "collateral_value": [1_000_000.0, None, 100_000.0, None],
            "industry": [None, "manufacturing", None, None],
        }
    )
    snaps = []
    for m in MONTHS:
        snaps.append(("L1", m, 600_000.0, 0, "pass"))
        l2 = {"2026-09": (15, "special_mention"), "2026-10": (45, "special_mention")}.get(
            m, (0, "pass")
        )
        snaps.append(("L2", m, 300_000.0, *l2))
        snaps.append(
            ("L3", m, 80_000.0, *((100, "substandard") if m >= "2026-04" else (0, "pass")))
        )
        if m <= "2026-09":  # repaid in October
            snaps.append(("L4", m, 20_000.0, 0, "pass"))
    loan_snapshots = pd.DataFrame(
        snaps, columns=["loan_id", "month", "outstanding", "dpd", "five_class"]
    )
    fin_cols = [
        "customer_id",
        "period_end",
        "revenue",
        "net_profit",
        "total_assets",
        "total_liabilities",
        "current_assets",
        "current_liabilities",
        "inventory",
        "receivables",
        "operating_cash_flow",
    ]
    financials = pd.DataFrame(
        [
            ("C2", d(2024, 12, 31), 1000.0, 50.0, 2000.0, 1000.0, 600.0, 400.0, 100.0, 100.0, 50.0),
            ("C2", d(2025, 12, 31), 800.0, 10.0, 2000.0, 1000.0, 600.0, 400.0, 150.0, 80.0, 50.0),
            # after the period: must not be used
            ("C2", d(2026, 12, 31), 1.0, -5.0, 2000.0, 1990.0, 1.0, 400.0, 999.0, 1.0, -50.0),
        ],
        columns=fin_cols,
    )
    aml_alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2", "A3", "A4"],
            "customer_id": ["C1", "C2", "C5", "C3"],
            "raised_on": [d(2026, 10, 20), d(2026, 5, 10), d(2026, 11, 5), d(2024, 1, 1)],
            "alert_type": ["large_cash"] * 4,
            "status": ["open", "reported", "open", "closed"],
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["S1"],
            "branch_id": ["0101"],
            "name": ["王小明"],
            "grade": ["professional"],
            "hired_on": [d(2015, 3, 1)],
            "active": [True],
        }
    )
    return {
        "branches": branches,
        "staff": staff,
        "customers": customers,
        "balances": balances,
        "loans": loans,
        "loan_snapshots": loan_snapshots,
        "financials": financials,
        "aml_alerts": aml_alerts,
    }


def make_ctx(tables, settings=None, period="2026-10"):
    con = duckdb.connect()
    for name, frame in tables.items():
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    add_shared(con, period, settings)
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period=period,
        prev_period=shift_month(period, -1),
        period_start=dt.date(2026, 10, 1),
        period_end=dt.date(2026, 10, 31),
        months=lambda n: [shift_month(period, -i) for i in range(n - 1, -1, -1)],
        settings=settings or Settings(),
    )


def branch_extract(out, branch_id):
    return {
        k: v[v["branch_id"] == branch_id].reset_index(drop=True)
        for k, v in out.items()
        if not k.startswith("bench_")
    }


def notebook_calls(out, branch_id, s=S, period="2026-10"):
    """The calls the risk notebook makes, in its order, on one branch's extract."""
    x = branch_extract(out, branch_id)
    sc = risk.load_scorecard(out["bench_risk_scorecard"])
    book = risk.score_book(
        x["risk_loans"], scorecard=sc, lgd=s.lgd, default_dpd=s.scorecard.default_dpd, ccf=s.ccf
    )
    flags = risk.early_warning(x["risk_borrowers"], rules=s.early_warning)
    status = risk.compliance_status(x["risk_customers"], rules=s.compliance)
    k = risk.kpis(book=book, warnings=flags, compliance=status)
    prev_k, bank = risk.kpi_context(out["bench_risk_kpis"], branch_id=branch_id, period=period)
    val = risk.branch_validation(
        x["risk_outcomes"], scorecard=sc, min_defaults=s.scorecard.min_defaults
    )
    dist = risk.score_distribution(book, bins=out["bench_risk_score_bins"])
    mix_psi = risk.psi(dist["bank_share"], dist["loans"])
    drift_psi = risk.drift_psi(book, out["bench_risk_dev_bins"])
    bank_val = risk.bank_validation(out["bench_risk_validation"])
    breaches = risk.ltv_breaches(book, limit=s.ltv_limit)
    ind = risk.industry_shares(book)
    trend = risk.npl_trend(
        x["risk_book"], bench_trend=out["bench_risk_trend"], months=window(period, 12)
    )
    facts = risk.summary_facts(
        kpis=k,
        prev=prev_k,
        bank=bank,
        warnings=flags,
        breaches=breaches,
        validation=val,
        mix_psi=mix_psi,
        industries=ind,
        settings=s,
        has_scorecard=sc is not None,
        trend=trend,
        drift_psi=drift_psi,
        bank_validation=bank_val,
        npl_gap=risk.npl_dpd_gap(book),
    )
    return {
        "x": x,
        "scorecard": sc,
        "book": book,
        "flags": flags,
        "status": status,
        "kpis": k,
        "prev": prev_k,
        "bank": bank,
        "validation": val,
        "dist": dist,
        "psi": mix_psi,
        "drift_psi": drift_psi,
        "bank_validation": bank_val,
        "breaches": breaches,
        "industries": ind,
        "facts": facts,
        "five_class": risk.five_class_mix(x["risk_book"], month=period),
        "dpd": risk.dpd_mix(x["risk_book"], month=period),
        "trend": trend,
        "rolls": risk.roll_rates(x["risk_rolls"], month=period),
        "el": risk.expected_loss(book),
        "warnings": risk.warning_list(flags),
        "ltv": risk.ltv_distribution(book, bands=s.ltv_bands),
        "top": risk.top_borrowers(book, n=s.top_borrowers),
        "compliance": risk.compliance_table(status),
        "matrix": risk.risk_matrix(
            risk.borrower_risk(book, pd_bands=s.pd_bands, exposure_bands=s.exposure_bands)
        ),
    }


# -- prepare with a fitted scorecard ---------------------------------------------------------
def generated_tables(n_loans=900, seed=3) -> dict[str, pd.DataFrame]:
    """Three branches, loans whose default depends on their rate, 25 months."""
    rng = np.random.default_rng(seed)
    t = tiny_tables()
    branches = pd.DataFrame(
        {
            "branch_id": ["0101", "0102", "0103"],
            "name": list("ABC"),
            "name_zh": list("甲乙丙"),
            "region": "R",
            "city": "X",
            "opened_on": dt.date(2000, 1, 1),
        }
    )
    ids = [f"C{i:05d}" for i in range(n_loans)]
    corporate = rng.random(n_loans) < 0.3
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "branch_id": rng.choice(branches["branch_id"], n_loans),
            "manager_id": None,
            "customer_type": np.where(corporate, "corporate", "individual"),
            "name": [f"客户{i}" for i in range(n_loans)],
            "industry": np.where(
                corporate, rng.choice(["manufacturing", "construction", "logistics"], n_loans), None
            ),
            "opened_on": dt.date(2019, 1, 1),
            "closed_on": None,
            "kyc_status": rng.choice(
                ["complete", "incomplete", "expired"], n_loans, p=[0.9, 0.07, 0.03]
            ),
        }
    )
    rate = rng.uniform(0.03, 0.10, n_loans)
    bad = rng.random(n_loans) < 1 / (1 + np.exp(-(-2.5 + 80 * (rate - 0.065))))
    # a bad loan goes 100 days past due from a month drawn over the whole history: some
    # in the development window, some in the validation window
    default_from = rng.integers(1, len(MONTHS), n_loans)
    loans = pd.DataFrame(
        {
            "loan_id": [f"L{i:05d}" for i in range(n_loans)],
            "customer_id": ids,
            "branch_id": customers["branch_id"],
            "manager_id": None,
            "product": np.where(corporate, "business", "consumer"),
            "originated_on": dt.date(2025, 1, 1),
            "maturity_on": dt.date(2029, 1, 1),
            "principal": rng.uniform(5e4, 2e6, n_loans),
            "interest_rate": rate,
            "collateral_type": rng.choice(["none", "real_estate", "deposit"], n_loans),
            "collateral_value": np.nan,
            "industry": None,
        }
    )
    loans["collateral_value"] = np.where(
        loans["collateral_type"] == "none",
        np.nan,
        loans["principal"] * rng.uniform(1.0, 2.0, n_loans),
    )
    month_idx = np.tile(np.arange(len(MONTHS)), n_loans)
    loan_idx = np.repeat(np.arange(n_loans), len(MONTHS))
    dpd = np.where(bad[loan_idx] & (month_idx >= default_from[loan_idx]), 100, 0)
    snaps = pd.DataFrame(
        {
            "loan_id": loans["loan_id"].to_numpy()[loan_idx],
            "month": np.array(MONTHS)[month_idx],
            "outstanding": loans["principal"].to_numpy()[loan_idx] * 0.9,
            "dpd": dpd,
            "five_class": np.where(dpd > 0, "substandard", "pass"),
        }
    )
    balances = pd.DataFrame(
        {
            "customer_id": np.repeat(ids, len(MONTHS)),
            "month": np.tile(MONTHS, n_loans),
            "deposits": 1e4,
            "wealth": 0.0,
            "loans_outstanding": 0.0,
            "products_held": 2,
        }
    )
    return {
        **t,
        "branches": branches,
        "customers": customers,
        "loans": loans,
        "loan_snapshots": snaps,
        "balances": balances,
        "financials": t["financials"],
        "aml_alerts": t["aml_alerts"],
    }
