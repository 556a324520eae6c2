"""The bank-wide frames of one period, from a tiny warehouse."""

from __future__ import annotations

import math
import types
from datetime import date

import duckdb
import pandas as pd
import pytest
from shared_tables import add_shared

from branchbook import satisfaction as sat
from branchbook.period import shift_month
from branchbook.satisfaction import Settings
from branchbook.satisfaction.prepare import _steps_sql

from .frames import (
    PERIOD,
    complaints,
)


def _warehouse():
    """Two branches; balances Mar-Oct 2026; churn, cohort, surveys and complaints planted."""
    months = [f"2026-{m:02d}" for m in range(3, 11)]
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "branch_id": ["A", "A", "A", "B", "B", "B"],
            "name": ["张三", "李四", "王五", "赵六", "钱七", "孙八"],
            "opened_on": pd.to_datetime(["2025-01-01"] * 4 + ["2026-10-05", "2025-01-01"]).date,
            "closed_on": pd.to_datetime([None, None, "2026-09-15", None, None, None]).date,
        }
    )
    bal = []
    for m in months:
        bal.append(("C1", m, 100_000.0, 500_000.0))  # AUM 600k: wealth
        # C2: AUM below 1,000 from Sep, so churned in Oct (2 months low)
        bal.append(("C2", m, 5_000.0 if m <= "2026-08" else 500.0, 0.0))
        if m <= "2026-08":
            # C3: closed 15 Sep, so churned in Sep; last AUM 60k: affluent
            bal.append(("C3", m, 60_000.0, 0.0))
        bal.append(("C4", m, 5_000.0, 0.0))
        bal.append(("C6", m, 800.0, 0.0))  # low from the first month: churned in Apr
    bal.append(("C5", "2026-10", 2_000.0, 0.0))
    balances = pd.DataFrame(bal, columns=["customer_id", "month", "deposits", "wealth"]).assign(
        loans_outstanding=0.0, products_held=1
    )
    surveys = pd.DataFrame(
        [
            ("S1", "C1", "A", "2026-06-20", 1, 0),  # before the cohort window
            ("S2", "C1", "A", "2026-07-10", 5, 10),  # cohort: high, retained
            ("S3", "C3", "A", "2026-07-20", 3, 8),  # cohort: mid, churned Sep (2 months later)
            ("S4", "C2", "A", "2026-08-05", 2, 3),  # cohort: low, churned Oct (2 months later)
            ("S5", "C4", "B", "2026-07-01", 5, 10),  # superseded by C4's later answer
            ("S6", "C4", "B", "2026-08-15", 2, 6),  # cohort: low, retained
            ("S7", "C1", "A", "2026-10-03", 5, 10),
            ("S8", "C2", "A", "2026-10-04", 4, 7),
            ("S9", "C4", "B", "2026-10-09", 1, 0),
        ],
        columns=["response_id", "customer_id", "branch_id", "responded_on", "csat", "nps"],
    ).assign(
        manager_id=None,
        channel="counter",
        responded_on=lambda d: pd.to_datetime(d["responded_on"]).dt.date,
    )
    for a in sat.ATTRIBUTES:
        surveys[a] = 4
    compl = complaints(
        [
            ("K1", "C1", "A", "2026-10-05 09:00", "2026-10-06 09:00", "2026-10-08 09:00", "2026-10-10", "service", "counter", "low"),
            ("K2", "C2", "A", "2026-10-20 10:00", "2026-10-21 10:00:01", None, None, "product", "phone", "high"),
            ("K3", "C2", "A", "2026-10-31 20:00", None, None, None, "product", "phone", "low"),
            ("K4", "C1", "A", "2026-09-10 09:00", "2026-09-10 12:00", "2026-09-12 09:00", "2026-09-20", "process", "counter", "low"),
        ]
    )  # fmt: skip
    branches = pd.DataFrame({"branch_id": ["A", "B"], "name": ["A", "B"]})
    contacts = pd.DataFrame(
        {"contact_id": ["V1"], "customer_id": ["C1"], "staff_id": [None],
         "contacted_on": [date(2026, 10, 3)], "channel": ["phone"], "purpose": ["follow_up"]}
    )  # fmt: skip
    con = duckdb.connect()
    for name, frame in {"branches": branches, "customers": customers, "balances": balances,
                        "surveys": surveys, "complaints": compl, "contacts": contacts}.items():  # fmt: skip
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_df")
    con.execute(  # no transactions: the churn model's features read an empty table
        "CREATE TABLE transactions (txn_id VARCHAR, customer_id VARCHAR, txn_date DATE,"
        " channel VARCHAR, amount DOUBLE, direction VARCHAR)"
    )
    return con


def _ctx(con, settings):
    add_shared(con, PERIOD, settings)
    return types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period=PERIOD,
        prev_period="2026-09",
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        months=lambda n: [shift_month(PERIOD, -k) for k in range(n - 1, -1, -1)],
        settings=settings,
    )


@pytest.fixture(scope="module")
def prepared():
    s = Settings.model_validate(
        {
            "score_window_months": 1,
            "churn_floor_months": 2,
            "retention_months": 2,
            "retention_cohort_months": 2,
        }
    )
    return sat.prepare(_ctx(_warehouse(), s)), s


def test_prepare_returns_the_named_frames(prepared):
    out, _ = prepared
    assert set(out) == {
        "satisfaction_responses", "satisfaction_retention_cohort", "satisfaction_bridge",
        "bench_satisfaction_monthly",
        "bench_satisfaction_tests", "bench_satisfaction_groups", "bench_satisfaction_drivers",
        "bench_satisfaction_retention",
        "satisfaction_churn_risk", "satisfaction_lost", "bench_satisfaction_churn_model",
        "bench_satisfaction_churn_validation", "bench_satisfaction_churn_calibration",
        "satisfaction_followup",
    }  # fmt: skip
    m = out["bench_satisfaction_monthly"]
    assert list(m.columns) == list(sat.MONTHLY_COLUMNS)
    assert len(m) == 2 * 12  # every branch x 12 months (window 1 -> 12 + 1 - 1 months)


def test_prepare_tiers_use_aum_at_the_period_or_the_last_month(prepared):
    out, _ = prepared
    r = out["satisfaction_responses"].set_index("response_id")
    assert r.at["S7", "tier"] == "wealth" and r.at["S7", "aum"] == 600_000.0
    # C3 closed in Sep: its tier comes from August's AUM
    assert r.at["S3", "tier"] == "affluent" and r.at["S3", "aum"] == 60_000.0
    assert r.at["S8", "tier"] == "mass" and r.at["S8", "month"] == PERIOD


def test_prepare_kpis_per_branch(prepared):
    out, s = prepared
    m = out["bench_satisfaction_monthly"]
    a = sat.kpis(m, period=PERIOD, window_months=1, branch_id="A")
    # A in Oct: csat 5, 4 -> (100 + 85) / 2 = 92.5, top2 1.0; nps 10, 7 -> (1 - 0) / 2 = +50
    assert (
        a["csat_mean"] == pytest.approx(92.5)
        and a["csat_top2"] == 1.0
        and a["nps"] == pytest.approx(50.0)
    )
    # 3 complaints in Oct, 2 customers open at 31 Oct (C3 closed) -> 1500 per 1000;
    # first response: K1 met (24 h), K2 breached (+1 s), K3 pending -> 1/2
    assert a["complaints_per_1000"] == pytest.approx(1500.0)
    assert a["sla_first_response"] == pytest.approx(0.5)
    # churn Oct: active in Sep C1, C2 -> C2 churned (AUM < 1000 in Sep and Oct) -> 1/2
    assert a["churn_rate"] == pytest.approx(0.5)
    b = sat.kpis(m, period=PERIOD, window_months=1, branch_id="B")
    # B: C4 csat 1 -> 0, nps 0 -> -100; no complaints among 3 customers; C4 active, C6 churned in Apr
    assert b["csat_mean"] == 0.0 and b["nps"] == -100.0
    assert (
        b["complaints_per_1000"] == 0.0
        and math.isnan(b["sla_first_response"])
        and b["churn_rate"] == 0.0
    )
    rows = m.set_index(["branch_id", "month"])
    assert rows.loc[("A", "2026-09"), ["at_risk", "churned"]].tolist() == [3, 1]  # C3 closed in Sep
    assert rows.loc[("B", "2026-04"), ["at_risk", "churned"]].tolist() == [2, 1]  # C6: 2 months low
    # no balances before March: nobody is known to be active in February
    assert rows.loc[("B", "2026-03"), "at_risk"] == 0
    assert rows.loc[("A", "2026-09"), ["complaints", "fr_met", "fr_assessed"]].tolist() == [1, 1, 1]
    bank = sat.kpis(m, period=PERIOD, window_months=1)
    assert bank["churn_rate"] == pytest.approx(1 / 3)  # (1 + 0) / (2 + 1)


def test_prepare_cohort_and_bank_retention(prepared):
    out, _ = prepared
    c = out["satisfaction_retention_cohort"].set_index("customer_id")
    assert sorted(c.index) == ["C1", "C2", "C3", "C4"]
    assert c.at["C4", "csat"] == 2 and c.at["C4", "response_month"] == "2026-08"
    assert c.at["C3", "churn_month"] == "2026-09" and c.at["C3", "months_to_churn"] == 2
    assert c.at["C2", "months_to_churn"] == 2 and math.isnan(c.at["C1", "months_to_churn"])
    r = out["bench_satisfaction_retention"].set_index("band")
    # low: C2 (churned), C4 (retained) -> 0.5; mid: C3 churned -> 0; high: C1 retained -> 1
    assert r["retention"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert math.isnan(r.at["low", "risk_ratio"])  # no churn in the high band


def test_prepare_bench_frames_cover_every_branch(prepared):
    out, _ = prepared
    t = out["bench_satisfaction_tests"]
    # too few responses to test anybody
    assert set(t["branch_id"]) == {"A", "B"} and t["p_value"].isna().all()
    g = out["bench_satisfaction_groups"]
    assert set(g["dimension"]) == {"channel", "tier"}
    assert g.loc[(g["dimension"] == "tier") & (g["group"] == "all"), "responses"].iloc[0] == 3
    d = out["bench_satisfaction_drivers"]
    # the driver window is 12 months: all 9 responses, below the minimum of 100
    assert (d["status"] == "too_few").all() and d["responses"].iloc[0] == 5


def test_prepare_churn_with_a_one_month_floor():
    s = Settings.model_validate({"score_window_months": 1, "churn_floor_months": 1})
    m = sat.prepare(_ctx(_warehouse(), s))["bench_satisfaction_monthly"]
    rows = m.set_index(["branch_id", "month"])
    # one month below the floor is enough: C2 churns in Sep (with C3, closed), not in Oct
    assert rows.loc[("A", "2026-09"), ["at_risk", "churned"]].tolist() == [3, 2]
    assert rows.loc[("A", PERIOD), ["at_risk", "churned"]].tolist() == [1, 0]
    # C6 is below the floor from its first month: never active, so never at risk
    assert rows.loc[("B", "2026-04"), ["at_risk", "churned"]].tolist() == [1, 0]


def test_prepare_bridge_sums_by_the_tier_then(prepared):
    out, _ = prepared
    b = out["satisfaction_bridge"]
    assert set(b["month"]) <= {"2026-10", "2026-09", "2025-12"}

    def at(measure, month, dimension="tier"):
        rows = b[(b["measure"] == measure) & (b["month"] == month) & (b["dimension"] == dimension)]
        return rows.set_index(["branch_id", "segment"])[["num", "den"]].to_dict("index")

    # October (window 1): S7 (C1 wealth, 100), S8 (C2 AUM 500 then: mass, 85), S9 (C4 mass, 0)
    assert at("csat_mean", "2026-10") == {
        ("A", "mass"): {"num": 85.0, "den": 1.0},
        ("A", "wealth"): {"num": 100.0, "den": 1.0},
        ("B", "mass"): {"num": 0.0, "den": 1.0},
    }
    # NPS per respondent +100 / 0 / -100: S7 promoter, S8 passive, S9 detractor
    assert at("nps", "2026-10", "channel") == {
        ("A", "counter"): {"num": 100.0, "den": 2.0},
        ("B", "counter"): {"num": -100.0, "den": 1.0},
    }
    # complaints x 1,000 over customers open at the month end, each in its tier then
    c = at("complaints_per_1000", "2026-10")
    assert c[("A", "mass")] == {"num": 2000.0, "den": 1.0}  # K2, K3 of C2; C2 open, mass
    assert c[("A", "wealth")] == {"num": 1000.0, "den": 1.0}  # K1 of C1
    assert c[("B", "mass")] == {"num": 0.0, "den": 3.0}  # C4, C5, C6
    # September: K4 of C1 (wealth); C3 closed on 15 Sep is not open at the month end
    sep = at("complaints_per_1000", "2026-09")
    assert sep[("A", "wealth")] == {"num": 1000.0, "den": 1.0}
    assert ("A", "affluent") not in sep
    # churn: C2 churned in Oct, at risk in the mass tier (AUM 500 at the end of Sep)
    ch = at("churn_rate", "2026-10")
    assert ch[("A", "mass")] == {"num": 1.0, "den": 1.0}
    assert ch[("A", "wealth")] == {"num": 0.0, "den": 1.0}
    # the sums add up to the monthly sums the KPI cards read
    m = out["bench_satisfaction_monthly"].set_index(["branch_id", "month"])
    for (branch, month), row in m.loc[(slice(None), ["2026-09", "2026-10"]), :].iterrows():
        k = b[(b["branch_id"] == branch) & (b["month"] == month) & (b["dimension"] == "tier")]
        by = k.groupby("measure")[["num", "den"]].sum()
        assert by.loc["complaints_per_1000", "num"] == 1000 * row["complaints"]
        assert by.loc["complaints_per_1000", "den"] == row["customers"]
        assert by.loc["churn_rate", "num"] == row["churned"]
        assert by.loc["churn_rate", "den"] == row["at_risk"]
        if row["csat_n"]:
            assert by.loc["csat_mean", "num"] == pytest.approx(row["csat_sum"])
            assert by.loc["csat_mean", "den"] == row["csat_n"]


def test_prepare_in_december_reaches_back_to_last_december():
    # the cards' start of the year is last December, 12 months back in December: the
    # monthly sums hold one month more then (13 + 1 - 1 with window 1), 12 in other months
    s = Settings.model_validate({"score_window_months": 1, "churn_floor_months": 2})
    con = _warehouse()
    add_shared(con, "2026-12", s)
    ctx = types.SimpleNamespace(
        sql=lambda q, **p: con.execute(q, p).df(),
        period="2026-12",
        prev_period="2026-11",
        period_start=date(2026, 12, 1),
        period_end=date(2026, 12, 31),
        months=lambda n: [shift_month("2026-12", -k) for k in range(n - 1, -1, -1)],
        settings=s,
    )
    m = sat.prepare(ctx)["bench_satisfaction_monthly"]
    assert len(m) == 2 * 13 and m["month"].min() == "2025-12"
    kf = sat.kpi_frame(m, window_months=1)
    assert set(kf.loc[kf["month"] == "2025-12", "branch_id"]) == {"A", "B"}


def test_a_month_without_a_balance_row_breaks_the_run_under_the_floor():
    """Churn by assets is the floor missed three calendar months running. G has no
    balance row for July: June, August and September under the floor are not three
    months in a row, so G churns in October (August to October), not in September; K,
    with every row, churns in August (June to August)."""
    con = duckdb.connect()
    rows = [("K", m, 5_000.0 if m < "2026-06" else 100.0) for m in ("2026-04", "2026-05",
            "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")]  # fmt: skip
    rows += [("G", m, 5_000.0 if m < "2026-06" else 100.0) for m in ("2026-04", "2026-05",
             "2026-06", "2026-08", "2026-09", "2026-10")]  # fmt: skip
    con.execute("CREATE TABLE customer_month (customer_id VARCHAR, month VARCHAR, aum DOUBLE,"
                " aum_month_end DOUBLE)")  # fmt: skip
    con.executemany("INSERT INTO customer_month VALUES (?, ?, ?, ?)", [(*r, r[2]) for r in rows])
    con.execute("CREATE TABLE churn AS SELECT * FROM (VALUES ('K', 'A', NULL::DATE),"
                " ('G', 'A', NULL::DATE)) t(customer_id, branch_id, closed_on)")  # fmt: skip
    first = con.execute(
        _steps_sql(3) + "SELECT customer_id, min(month) FROM step WHERE churned GROUP BY ALL",
        {"bal_from": "2026-04", "first_prev": "2026-05", "period": PERIOD, "floor": 1_000.0},
    ).fetchall()
    assert sorted(first) == [("G", "2026-10"), ("K", "2026-08")]
