"""Point-in-time facts: alerts, KYC status and loan exits as they were in a past month,
from dated history, and the fallback to today's status without it."""

import datetime as dt

import pandas as pd

from branchbook import risk
from branchbook.metrics.history import History, history
from branchbook.period import Period
from branchbook.risk import queries as q

from .helpers import S, make_ctx, tiny_tables

d = dt.date


def _customers(alerts: pd.DataFrame, kyc: pd.DataFrame | None = None):
    t = {
        "customers": pd.DataFrame(
            {
                "customer_id": ["C1", "C2"],
                "branch_id": ["0101", "0101"],
                "customer_type": ["individual", "individual"],
                "opened_on": [d(2020, 1, 1)] * 2,
                "closed_on": [None, None],
                "kyc_status": ["complete", "expired"],  # today's
            }
        ),
        "aml_alerts": alerts,
        "loans": pd.DataFrame({"loan_id": ["L1"]}),
    }
    if kyc is not None:
        t["kyc_history"] = kyc
    return make_ctx(t)


def _at(ctx, month: str) -> pd.DataFrame:
    p = Period.parse(month)
    since = p.shift(1 - S.compliance.lookback_months).start
    return ctx.sql(q.customers_sql(history(ctx)), month_end=p.end, since=since).set_index(
        "customer_id"
    )


def test_an_alert_raised_in_march_and_closed_in_july_is_open_april_to_june_only():
    alerts = pd.DataFrame(
        {
            "alert_id": ["A1"],
            "customer_id": ["C1"],
            "raised_on": [d(2026, 3, 10)],
            "status": ["closed"],  # today's
            "closed_on": [d(2026, 7, 15)],
        }
    )
    ctx = _customers(alerts)
    assert history(ctx) == History(alerts_dated=True, kyc_dated=False, close_reasons=False)
    open_by_month = {
        m: int(_at(ctx, m).loc["C1", "open_alerts"])
        for m in ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    }
    assert open_by_month == {
        "2026-02": 0,  # not raised yet
        "2026-03": 1,
        "2026-04": 1,
        "2026-05": 1,
        "2026-06": 1,
        "2026-07": 0,  # closed on 15 July
        "2026-08": 0,
    }
    june, aug = _at(ctx, "2026-06").loc["C1"], _at(ctx, "2026-08").loc["C1"]
    assert june["oldest_open_days"] == (d(2026, 6, 30) - d(2026, 3, 10)).days  # 112
    assert june["closed_alerts"] == 0 and aug["closed_alerts"] == 1  # closed, in the window
    status = risk.compliance_status(_at(ctx, "2026-06").reset_index(), rules=S.compliance)
    assert status.set_index("customer_id").loc["C1", "reason"] == "open_alert_overdue"  # 112 > 30
    # the ageing table of June counts it as open; October's does not
    g = risk.alert_ageing(alerts, as_of=d(2026, 6, 30), ageing_days=[7, 30, 90])
    assert g["alerts"].tolist() == [0, 0, 0, 1]
    g = risk.alert_ageing(alerts, as_of=d(2026, 10, 31), ageing_days=[7, 30, 90])
    assert g["alerts"].sum() == 0


def test_a_reported_alert_counts_as_reported_from_the_day_it_was():
    alerts = pd.DataFrame(
        {
            "alert_id": ["A1"],
            "customer_id": ["C1"],
            "raised_on": [d(2026, 3, 10)],
            "status": ["reported"],
            "closed_on": [d(2026, 5, 2)],
        }
    )
    ctx = _customers(alerts)
    april, may = _at(ctx, "2026-04").loc["C1"], _at(ctx, "2026-05").loc["C1"]
    assert (april["open_alerts"], april["reported_alerts"]) == (1, 0)
    assert (may["open_alerts"], may["reported_alerts"]) == (0, 1)


def test_without_closed_on_alerts_keep_todays_status():
    alerts = pd.DataFrame(
        {
            "alert_id": ["A1"],
            "customer_id": ["C1"],
            "raised_on": [d(2026, 3, 10)],
            "status": ["closed"],
        }
    )
    ctx = _customers(alerts)
    assert history(ctx) == History()
    assert _at(ctx, "2026-04").loc["C1", "open_alerts"] == 0  # today's status: closed
    assert _at(ctx, "2026-04").loc["C1", "closed_alerts"] == 1
    # the ageing table too reads today's status
    g = risk.alert_ageing(alerts.assign(status="open"), as_of=d(2026, 4, 30), ageing_days=[7])
    assert g["alerts"].tolist() == [0, 1]


def test_kyc_status_as_of_the_month_from_its_history():
    kyc = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C2"],
            "valid_from": [d(2020, 1, 1), d(2020, 1, 1), d(2026, 5, 1)],
            "kyc_status": ["complete", "complete", "expired"],
        }
    )
    alerts = pd.DataFrame(
        {
            "alert_id": pd.Series(dtype=str),
            "customer_id": pd.Series(dtype=str),
            "raised_on": pd.Series(dtype="datetime64[ns]"),
            "status": pd.Series(dtype=str),
        }
    )
    ctx = _customers(alerts, kyc)
    assert history(ctx).kyc_dated
    assert _at(ctx, "2026-04")["kyc_status"].to_dict() == {"C1": "complete", "C2": "complete"}
    assert _at(ctx, "2026-05")["kyc_status"].to_dict() == {"C1": "complete", "C2": "expired"}
    # before any dated row: today's status
    assert _at(ctx, "2019-12").empty  # not yet customers
    early = kyc[kyc["customer_id"] == "C2"].assign(valid_from=d(2026, 5, 1)).iloc[[1]]
    ctx = _customers(alerts, early)
    assert _at(ctx, "2026-04")["kyc_status"].to_dict() == {"C1": "complete", "C2": "expired"}


def test_roll_rates_separate_repaid_written_off_and_restructured():
    t = tiny_tables()
    t["loans"] = t["loans"].assign(closed_reason=[None, None, None, "repaid"])
    out = risk.prepare(make_ctx(t))
    assert out["bench_risk_history"].iloc[0].to_dict() == {
        "alerts_dated": False,
        "kyc_dated": False,
        "close_reasons": True,
        "undrawn": False,
        "collateral_dated": False,
    }
    rolls = out["risk_rolls"]
    m = risk.roll_rates(
        rolls[rolls["branch_id"] == "0101"], month="2026-10", exits=risk.CLOSE_REASONS
    )
    assert list(m.columns[-3:]) == ["repaid", "written_off", "restructured"]
    assert m.loc["current", "repaid"] == 20 / 620  # L4 repaid in October
    assert m.loc["current", "written_off"] == 0.0
    # a reason the warehouse left empty keeps the plain closed column
    by_hand = pd.DataFrame(
        {
            "month": ["2026-10"] * 3,
            "from_bucket": ["90+", "90+", "90+"],
            "to_bucket": ["written_off", "restructured", "closed"],
            "outstanding": [50.0, 30.0, 20.0],
        }
    )
    m = risk.roll_rates(by_hand, month="2026-10", exits=risk.CLOSE_REASONS)
    assert m.loc["90+", ["written_off", "restructured", "closed"]].tolist() == [0.5, 0.3, 0.2]


def test_an_undated_closed_alert_is_not_open_forever():
    alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2"],
            "customer_id": ["C1", "C1"],
            "raised_on": [d(2026, 3, 10), d(2026, 3, 12)],
            "status": ["closed", "open"],
            "closed_on": [None, d(2026, 4, 2)],  # A2: closed, status not updated
        }
    )
    ctx = _customers(alerts)
    may = _at(ctx, "2026-05").loc["C1"]
    assert (may["open_alerts"], may["closed_alerts"]) == (0, 2)
    assert _at(ctx, "2026-03").loc["C1", "open_alerts"] == 1  # A2, before 2 April
    g = risk.alert_ageing(alerts, as_of=d(2026, 3, 31), ageing_days=[7, 30])
    assert g["alerts"].tolist() == [0, 1, 0]


def test_status_notes_name_the_figures_on_todays_status():
    assert risk.status_notes(History().frame(), report="risk") == [
        "risk.notes.status_today_alerts",
        "risk.notes.status_today_kyc",
    ]
    dated = History(alerts_dated=True, kyc_dated=False).frame()
    assert risk.status_notes(dated, report="staff_kpi") == ["staff_kpi.notes.status_today_kyc"]
    assert risk.status_notes(History(True, True, True).frame(), report="risk") == []
    assert History.from_frame(None) == History()


def test_columns_prepare_fills_in_are_not_dated_history():
    """Prepare gives a warehouse without ``aml_alerts.closed_on``, ``loans.closed_reason``
    or ``kyc_history`` their full shape (NULL columns, an empty view): that is not dated
    history, and the reports keep today's status with their note."""
    import duckdb

    from branchbook import warehouse

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE aml_alerts AS SELECT 'A1' AS alert_id, 'C1' AS customer_id, "
        "DATE '2026-03-10' AS raised_on, 'closed' AS status"
    )
    con.execute("CREATE TABLE loans AS SELECT 'L1' AS loan_id, 'C1' AS customer_id")
    warehouse.complete_shape(con)
    cols = {r[0] for r in con.execute("DESCRIBE aml_alerts").fetchall()}
    assert "closed_on" in cols  # filled in with NULLs
    ctx = type("Ctx", (), {"sql": lambda self, q, **p: con.execute(q, p).df()})()
    assert history(ctx) == History()
    # recorded for real, they are
    con.execute("DROP VIEW kyc_history")
    con.execute("CREATE TABLE kyc_history AS SELECT 'C1' AS customer_id, "
                "DATE '2020-01-01' AS valid_from, 'complete' AS kyc_status")  # fmt: skip
    assert history(ctx).kyc_dated
