"""Compliance: each customer classed compliant / watch / risk from KYC status and AML
alerts, the shares per class and reason, and the ageing of open alerts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .settings import COMPLIANCE_CLASSES, Compliance


def compliance_status(customers: pd.DataFrame, *, rules: Compliance) -> pd.DataFrame:
    """``customers`` (the ``risk_customers`` artifact) with ``status`` and its ``reason``.

    risk: an alert reported to the regulator in the look-back window, an alert open for
    more than ``open_alert_risk_days``, or a KYC status classed ``risk``; watch: any other
    open alert, an alert closed in the window, or a KYC status classed ``watch``;
    compliant otherwise. ``reason`` names the first rule that applied.
    """
    c = customers
    kyc = (
        c["kyc_status"]
        .map({"incomplete": rules.kyc_incomplete, "expired": rules.kyc_expired})
        .fillna("compliant")
    )
    old_open = pd.to_numeric(c["oldest_open_days"]).astype(float) > rules.open_alert_risk_days
    checks = [
        ("risk", "reported_alert", c["reported_alerts"] > 0),
        ("risk", "open_alert_overdue", old_open),
        ("risk", "kyc", kyc == "risk"),
        ("watch", "open_alert", c["open_alerts"] > 0),
        ("watch", "closed_alert", c["closed_alerts"] > 0),
        ("watch", "kyc", kyc == "watch"),
    ]
    status = np.select(
        [m.to_numpy(dtype=bool) for _, _, m in checks], [s for s, _, _ in checks], "compliant"
    )
    reason = np.select(
        [m.to_numpy(dtype=bool) for _, _, m in checks], [r for _, r, _ in checks], ""
    )
    return c.assign(status=status, reason=reason)


def compliance_table(status: pd.DataFrame) -> pd.DataFrame:
    """Customers and share per class (compliant / watch / risk), all three rows."""
    g = status["status"].value_counts().reindex(list(COMPLIANCE_CLASSES), fill_value=0)
    total = g.sum()
    return pd.DataFrame(
        {
            "status": list(COMPLIANCE_CLASSES),
            "customers": g.to_numpy(),
            "share": g.to_numpy() / total if total else np.nan,
        }
    )


def compliance_reasons(status: pd.DataFrame) -> pd.DataFrame:
    """Watch and risk customers by the first rule that classed them: ``status``,
    ``reason``, ``customers`` and ``share`` of all customers; most customers first within
    a class, risk first."""
    total = len(status)
    s = status[status["status"] != "compliant"]
    g = s.groupby(["status", "reason"], as_index=False).size().rename(columns={"size": "customers"})
    g = g.assign(order=g["status"].map({"risk": 0, "watch": 1})).sort_values(
        ["order", "customers", "reason"], ascending=[True, False, True], ignore_index=True
    )
    return g.drop(columns="order").assign(share=g["customers"] / total if total else np.nan)


def alert_ageing(alerts: pd.DataFrame, *, as_of: dt.date, ageing_days: list[int]) -> pd.DataFrame:
    """AML alerts open at ``as_of`` by age in days (``0-7``, ``8-30``, ``31-90``, ``>90``
    for the default bounds): ``bucket``, ``alerts``, ``share``.

    Open at ``as_of``: raised on or before it and not closed by then (``closed_on``
    empty or later; a closed or reported alert without ``closed_on`` keeps today's
    status). Without a ``closed_on`` column, the alerts whose status today is open (see
    :mod:`.history`).
    """
    day = pd.Timestamp(as_of)
    if "closed_on" in alerts.columns:
        closed = pd.to_datetime(alerts["closed_on"])
        undated = closed.isna() & (alerts["status"] != "open")
        a = alerts[~undated & (closed.isna() | (closed > day))]
    else:
        a = alerts[alerts["status"] == "open"]
    age = (day - pd.to_datetime(a["raised_on"])).dt.days
    age = age[age >= 0].to_numpy()
    bounds = list(ageing_days)
    labels = (
        [f"0-{bounds[0]}"]
        + [f"{a + 1}-{b}" for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        + [f">{bounds[-1]}"]
    )
    counts = np.bincount(np.searchsorted(np.array(bounds), age, side="left"), minlength=len(labels))
    return pd.DataFrame(
        {
            "bucket": labels,
            "alerts": counts,
            "share": counts / counts.sum() if counts.sum() else np.nan,
        }
    )
