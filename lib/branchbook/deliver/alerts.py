"""Alerts: a headline KPI that turned red, or crossed a threshold of the parameters.

The people whose units include the branch, who receive that report and asked for
alerts, get one short message per period listing each KPI beyond its line: its value,
the line, and a link to the report in the portal. The delivery log keeps every alert
sent, so the same KPI of the same period never alerts the same person twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from ..i18n import t
from .access import AccessList, Person, Threshold
from .messages import link, message_id
from .published import Item, Published


@dataclass(frozen=True)
class Alert:
    item: Item
    kpi: str
    threshold: Threshold | None  # None: the KPI's red status
    period: str

    @property
    def key(self) -> str:
        return f"{self.item.branch}/{self.item.report}/{self.kpi}"

    def line(self, loc: str) -> str:
        kpi = self.item.headline[self.kpi]
        if self.threshold is None:
            line = t("deliver.alert.red", loc)
        elif self.threshold.above is not None and _value(self) > self.threshold.above:
            line = t("deliver.alert.above", loc, limit=_limit(self.threshold.above, kpi))
        else:
            line = t("deliver.alert.below", loc, limit=_limit(self.threshold.below, kpi))
        return t(
            "deliver.alert.body",
            loc,
            kpi=kpi.get("label", self.kpi),
            branch=self.item.branch,
            period=self.period,
            value=kpi.get("text", ""),
            threshold=line,
        )


def _limit(limit: float, kpi: dict) -> str:
    """The threshold written as the KPI is: a share as a percentage (0.025 -> 2.5%)."""
    return f"{limit * 100:g}%" if str(kpi.get("text", "")).endswith("%") else f"{limit:g}"


def _value(alert: Alert) -> float:
    value = alert.item.headline[alert.kpi].get("value")
    return float(value) if isinstance(value, int | float) else math.nan


def crossed(value, threshold: Threshold) -> bool:
    """Whether ``value`` is beyond ``threshold`` (a missing value never is)."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return (threshold.above is not None and value > threshold.above) or (
        threshold.below is not None and value < threshold.below
    )


def find(published: Published, access: AccessList) -> list[Alert]:
    """Every headline KPI of the period that is red or beyond its threshold."""
    out = []
    for item in published.items.values():
        for kpi, head in item.headline.items():
            threshold = access.delivery.thresholds.get(f"{item.report}.{kpi}")
            if threshold is not None and crossed(head.get("value"), threshold):
                alert = Alert(item, kpi, threshold, published.period)
            elif head.get("status") == "red":
                alert = Alert(item, kpi, None, published.period)
            else:
                continue
            out.append(alert)
    return out


def for_person(person: Person, alerts: list[Alert], access: AccessList) -> list[Alert]:
    """The alerts ``person`` asked for and may see."""
    if not person.alerts:
        return []
    return [a for a in alerts if access.may_see(person.id, a.item.branch, a.item.report)]


def build(person: Person, alerts: list[Alert], published: Published, *, access: AccessList):
    """One short message listing ``alerts`` for ``person``."""
    loc, period = person.locale, published.period
    msg = EmailMessage()
    msg["From"] = access.smtp.sender
    msg["To"] = formataddr((person.name, person.email))
    if len(alerts) == 1:
        a = alerts[0]
        label = a.item.headline[a.kpi].get("label", a.kpi)
        subject = t("deliver.alert.subject", loc, kpi=label, branch=a.item.branch, period=period)
    else:
        subject = t("deliver.alert.subject_many", loc, count=len(alerts), period=period)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(period, person, [a.key for a in alerts], kind="alert")
    lines = [t("deliver.greeting", loc, name=person.name), ""]
    for a in alerts:
        url = link(access.delivery, period, a.item, "html", loc)
        lines += [a.line(loc), t("deliver.alert.link", loc, url=url), ""]
    lines.append(t("deliver.closing", loc))
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    msg["Content-Language"] = loc  # after the parts: multipart moves Content-* down
    return msg
