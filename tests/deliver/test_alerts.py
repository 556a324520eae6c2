"""Alerts: red KPIs and thresholds, to those responsible who asked."""

from branchbook.deliver import alerts

from .helpers import setup_period


def test_alerts_for_red_and_thresholds_reach_only_those_responsible(tmp_path):
    acl, pub = setup_period(tmp_path, npl={"0201": 0.028, "0102": 0.05})
    found = alerts.find(pub, acl)
    keys = sorted(a.key for a in found)
    # 0201 crosses the risk threshold (above 2.5%) but is not red; 0102 is red in both
    assert keys == ["0102/risk/npl_ratio", "0102/staff_kpi/npl_ratio", "0201/risk/npl_ratio"]
    assert [a.key for a in alerts.for_person(acl.people["anna.north"], found, acl)] == [
        "0201/risk/npl_ratio"
    ]
    assert alerts.for_person(acl.people["li.wei"], found, acl) == []
    assert alerts.for_person(acl.people["audit"], found, acl) == []  # did not ask
    msg = alerts.build(
        acl.people["anna.north"],
        alerts.for_person(acl.people["anna.north"], found, acl),
        pub,
        access=acl,
    )
    body = msg.get_body(("plain",)).get_content()
    assert "is 2.8%: above the alert threshold of 2.5%" in body
    assert "https://reports.bank.example/2026-10/0201/risk.html" in body
