"""The plan's order: the longest reports first, from how long each took the last time."""

from __future__ import annotations

from branchbook.runner import plan


def _job(branch: str, report: str) -> plan.Job:
    from types import SimpleNamespace

    return plan.Job(branch, SimpleNamespace(name=report), None, {}, "fp")


def _keys(jobs) -> list[str]:
    return [j.key for j in jobs]


def test_longest_first_orders_by_last_duration_then_by_report_mean():
    jobs = [_job(b, r) for b in ("0101", "0102") for r in ("segmentation", "risk", "staff_kpi")]
    durations = {
        "0101/segmentation": 1.0,
        "0101/risk": 4.0,
        "0101/staff_kpi": 2.5,
        "0102/risk": 3.0,
        "0103/segmentation": 2.0,  # another branch: counts for its report's mean
    }
    # 0102/segmentation is expected at (1.0 + 2.0) / 2 = 1.5, 0102/staff_kpi at 2.5
    assert _keys(plan.longest_first(jobs, durations)) == [
        "0101/risk",  # 4.0
        "0102/risk",  # 3.0
        "0101/staff_kpi",  # 2.5
        "0102/staff_kpi",  # 2.5 (mean), after the tie in the plan's order
        "0102/segmentation",  # 1.5
        "0101/segmentation",  # 1.0
    ]


def test_without_history_the_plan_order_stands_and_unknown_reports_go_first():
    jobs = [_job("0101", "segmentation"), _job("0101", "risk"), _job("0101", "new_report")]
    assert _keys(plan.longest_first(jobs, {})) == _keys(jobs)
    assert _keys(plan.longest_first(jobs, {"0101/segmentation": 1.0, "0101/risk": 2.0})) == [
        "0101/new_report",
        "0101/risk",
        "0101/segmentation",
    ]


def test_durations_keep_other_reports_and_take_only_reports_made(tmp_path):
    (tmp_path / plan.DURATIONS).write_text('{"0101/risk": 3.5, "0102/risk": 2.0}')
    plan.write_durations(
        tmp_path,
        {
            "0101/risk": {"status": "ok", "duration_s": 4.25},
            "0101/segmentation": {"status": "failed", "duration_s": 0.5},
            "0103/risk": {"status": "ok", "duration_s": 9.0, "skipped_unchanged": True},
        },
    )
    assert plan.read_durations(tmp_path) == {"0101/risk": 4.25, "0102/risk": 2.0}


def test_unreadable_durations_are_no_history(tmp_path):
    assert plan.read_durations(tmp_path) == {}
    (tmp_path / plan.DURATIONS).write_text("{not json")
    assert plan.read_durations(tmp_path) == {}
    (tmp_path / plan.DURATIONS).write_text('{"0101/risk": "slow", "0102/risk": -1, "0103/risk": 2}')
    assert plan.read_durations(tmp_path) == {"0103/risk": 2.0}


def test_a_report_without_its_core_data_is_not_produced_with_its_reason():
    from branchbook import contract, coverage  # noqa: F401  (contract hands its tables over)

    found = {
        n: set(t.names) for n, t in contract.TABLES.items() if n not in ("surveys", "complaints")
    }
    cov = coverage.verdict(found, ("segmentation", "satisfaction", "staff_kpi"))
    jobs = [_job(b, r) for b in ("0101", "0102") for r in ("segmentation", "satisfaction")]
    run, skipped = plan.not_produced(jobs, {"coverage": cov.to_json()})
    assert _keys(run) == ["0101/segmentation", "0102/segmentation"]
    assert skipped["0101/satisfaction"] == {
        "branch_id": "0101",
        "report": "satisfaction",
        "status": "not_produced",
        "reason": "the warehouse has no surveys",
        "missing": ["surveys"],
    }
    # a period prepared before coverage was recorded: everything runs
    assert plan.not_produced(jobs, {}) == (jobs, {})
