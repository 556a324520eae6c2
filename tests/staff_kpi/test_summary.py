"""The summary sentences."""

from __future__ import annotations

import pandas as pd

from branchbook import staff_kpi

from .tiny import (
    PERIOD,
    SMALL,
    _branch,
    _catalogue,
    _placeholders,
    approx,
)


def test_summary_facts_pick_the_veto_and_known_keys(prepared):
    d = _branch(prepared)
    facts = staff_kpi.summary_facts(
        d["staff_scorecard"],
        d["staff_attainment"],
        d["staff_funnel"],
        d["bench_branch_kpis"],
        period=PERIOD,
        prev_period="2026-09",
        npl_veto_limit=SMALL.npl_veto_limit,
    )
    keys = [k for k, _ in facts]
    assert 3 <= len(facts) <= 6
    assert keys[0] == "staff_kpi.summary.composite"
    veto = dict(facts)["staff_kpi.summary.veto"]
    assert veto == {"n": 1, "names": "王伟", "limit": 0.05}
    assert dict(facts)["staff_kpi.summary.top_manager"] == {
        "name": "王伟",
        "composite": approx(79.166667),
        "rating": "C",
        "met": 1,
        "targets": 2,
    }
    # S2's only target is 0 (not valid): no target counted
    assert dict(facts)["staff_kpi.summary.bottom_manager"] == {
        "name": "李娜",
        "composite": approx(20.833333),
        "rating": "C",
        "met": 0,
        "targets": 0,
    }
    # composite, veto, ratings, top, bottom, targets met: the sixth is kept, nothing beyond
    assert keys == [
        "staff_kpi.summary.composite",
        "staff_kpi.summary.veto",
        "staff_kpi.summary.ratings",
        "staff_kpi.summary.top_manager",
        "staff_kpi.summary.bottom_manager",
        "staff_kpi.summary.targets_met",
    ]
    for key, values in facts:
        for loc in ("en", "zh-CN"):
            assert set(values) >= _placeholders(_catalogue(loc)[key]), (loc, key)


def test_names_are_joined_by_script():
    f = pd.DataFrame({"staff_id": ["S1", "S2", "S3"], "staff_name": ["王伟", "李娜", None]})
    assert staff_kpi.summary._names(f.iloc[:2]) == "王伟、李娜"
    assert (
        staff_kpi.summary._names(f) == "王伟, 李娜, S3"
    )  # a missing name falls back to the staff id
