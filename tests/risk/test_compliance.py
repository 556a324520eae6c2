"""Compliance classes from KYC status and AML alerts, and the alert ageing."""

import datetime as dt

import numpy as np
import pandas as pd

from branchbook import risk
from branchbook.risk import Compliance

from .helpers import approx


# -- compliance -------------------------------------------------------------------------
def test_compliance_classification():
    c = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(1, 9)],
            "kyc_status": [
                "complete",
                "incomplete",
                "expired",
                "complete",
                "complete",
                "complete",
                "complete",
                "complete",
            ],
            "open_alerts": [0, 0, 0, 0, 1, 1, 1, 0],
            "oldest_open_days": [np.nan, np.nan, np.nan, np.nan, 10, 31, 30, np.nan],
            "reported_alerts": [0, 0, 0, 1, 0, 0, 0, 0],
            "closed_alerts": [0, 0, 0, 0, 0, 0, 0, 1],
        }
    )
    s = risk.compliance_status(c, rules=Compliance())
    assert s["status"].tolist() == [
        "compliant",
        "watch",
        "risk",
        "risk",
        "watch",
        "risk",
        "watch",
        "watch",
    ]
    assert s["reason"].tolist() == [
        "",
        "kyc",
        "kyc",
        "reported_alert",
        "open_alert",
        "open_alert_overdue",
        "open_alert",
        "closed_alert",
    ]
    t = risk.compliance_table(s).set_index("status")
    assert t["customers"].tolist() == [1, 4, 3]
    assert t.loc["risk", "share"] == approx(3 / 8)
    lenient = risk.compliance_status(c, rules=Compliance(kyc_expired="watch"))
    assert lenient.loc[2, "status"] == "watch"
    r = risk.compliance_reasons(s)
    # risk first, then watch; within a class the most customers first, ties by reason
    assert list(zip(r["status"], r["reason"], r["customers"], strict=True)) == [
        ("risk", "kyc", 1),
        ("risk", "open_alert_overdue", 1),
        ("risk", "reported_alert", 1),
        ("watch", "open_alert", 2),
        ("watch", "closed_alert", 1),
        ("watch", "kyc", 1),
    ]
    assert r["share"].iloc[3] == approx(2 / 8)
    assert risk.compliance_reasons(s[s["status"] == "compliant"]).empty


def test_open_alert_ageing():
    as_of = dt.date(2026, 10, 31)
    ages = [0, 7, 8, 30, 31, 90, 91]
    a = pd.DataFrame(
        {
            "alert_id": [f"A{i}" for i in range(9)],
            "raised_on": [as_of - dt.timedelta(days=d) for d in ages]
            + [dt.date(2026, 1, 1), dt.date(2026, 11, 5)],
            "status": ["open"] * 7 + ["closed", "open"],  # closed, and raised after as_of
        }
    )
    g = risk.alert_ageing(a, as_of=as_of, ageing_days=[7, 30, 90])
    assert g["bucket"].tolist() == ["0-7", "8-30", "31-90", ">90"]
    assert g["alerts"].tolist() == [2, 2, 2, 1]
