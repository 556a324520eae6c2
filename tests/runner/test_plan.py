"""The plan: a job per branch, region and bank x report, and the order (the longest
reports first, from how long each took the last time)."""

from __future__ import annotations

import pytest

from branchbook import orgtree, paths
from branchbook.errors import ParamsError
from branchbook.params import ParamSet
from branchbook.reports import registry, settings_classes
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


def _plan(branch_params, locales=None, reports=("risk", "satisfaction"), formats=("html",)):
    from pathlib import Path

    from branchbook.reports import select

    meta = {"branch_fingerprints": {b: "data-" + b for b in branch_params}, "fingerprint": "bank"}
    return plan.plan(
        "2026-10",
        meta,
        select(list(reports)),
        branch_params,
        build_dir=Path("build"),
        run_id="r1",
        formats=formats,
        locales=locales,
    )


def _branch(locale: str):
    from branchbook import paths
    from branchbook.params import ParamSet
    from branchbook.reports import settings_classes

    ps = ParamSet(paths.project_root() / "params", settings_classes())
    return ps.for_branch("0101").with_locale(locale)


def test_one_job_per_report_and_locale_named_by_the_rule():
    jobs = _plan({"0101": _branch("zh-CN"), "0102": _branch("en")}, locales=("zh-CN", "en"))
    assert _keys(jobs) == [
        "0101/risk",
        "0101/risk.en",
        "0101/satisfaction",
        "0101/satisfaction.en",
        "0102/risk.zh-CN",
        "0102/risk",
        "0102/satisfaction.zh-CN",
        "0102/satisfaction",
    ]
    for job in jobs:  # each job's notebook is told its locale, in the common keys too
        assert job.parameters["locale"] == job.parameters["common"]["locale"] == job.locale
        assert job.params.common.locale == job.locale
    assert [j.stem for j in jobs[:2]] == ["risk", "risk.en"]
    assert len({j.fingerprint for j in jobs}) == len(jobs)


def test_without_locales_each_branch_has_its_own_and_its_files_keep_their_names():
    jobs = _plan({"0101": _branch("zh-CN"), "0102": _branch("en")})
    assert _keys(jobs) == ["0101/risk", "0101/satisfaction", "0102/risk", "0102/satisfaction"]
    assert [j.locale for j in jobs] == ["zh-CN", "zh-CN", "en", "en"]


def test_adding_a_locale_leaves_the_made_ones_fingerprints_as_they_were():
    # so a second run with one more locale makes only the new files
    alone = {j.key: j.fingerprint for j in _plan({"0101": _branch("zh-CN")})}
    both = {j.key: j.fingerprint for j in _plan({"0101": _branch("zh-CN")}, ("zh-CN", "en"))}
    assert {k: both[k] for k in alone} == alone
    en = {j.key: j.fingerprint for j in _plan({"0101": _branch("zh-CN")}, ("en",))}
    assert en == {k: both[k] for k in en}


def test_a_locale_job_is_ordered_by_its_reports_durations():
    durations = {"0101/risk": 4.0, "0102/satisfaction": 1.0}
    jobs = _plan({"0101": _branch("zh-CN"), "0102": _branch("zh-CN")}, ("zh-CN", "en"))
    ordered = _keys(plan.longest_first(jobs, durations))
    # risk in English is expected at risk's mean (4.0), ahead of any satisfaction report
    assert ordered.index("0102/risk.en") < ordered.index("0101/satisfaction")


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


# --- scopes: a region's and the bank's jobs ----------------------------------------

TREE = orgtree.OrgTree.of([("0101", "East", None), ("0102", "East", None), ("0201", "North", None)])


def test_scopes_are_parsed_in_their_order_and_a_bad_one_is_one_line():
    assert plan.parse_scopes("bank,branch") == ("branch", "bank")
    assert plan.parse_scopes(["region"]) == ("region",)
    with pytest.raises(ParamsError, match=r"^scopes is expected to be some of \(branch, region, "
                       r"bank\). Got 'banks' instead.$"):  # fmt: skip
        plan.parse_scopes("branch,banks")
    with pytest.raises(ParamsError, match="Got '' instead"):
        plan.parse_scopes("")


def test_a_scope_has_a_folder_of_safe_characters_never_shared():
    assert plan.scope_folder("bank") == "bank"
    assert plan.scope_folder("region:East") == "region-East"
    a, b = plan.scope_folder("region:华东"), plan.scope_folder("region:华南")
    assert a.startswith("region-") and a != b and a.isascii()
    assert plan.scope_folder("region:North East").startswith("region-North_East-")


def test_a_run_makes_the_regions_of_its_branches_and_the_bank():
    assert plan.scope_units(TREE, ("branch",), ["0101"]) == []
    assert plan.scope_units(TREE, ("region", "bank"), ["0201"]) == ["region:North", "bank"]
    assert plan.scope_units(TREE, ("region",), ["0101", "0102", "0201"]) == [
        "region:East",
        "region:North",
    ]


def test_a_change_in_one_branch_redoes_that_branch_its_region_and_the_bank(tmp_path):
    ps = ParamSet(paths.project_root() / "params", settings_classes())
    specs = [registry()["risk"]]
    units = ["region:East", "region:North", "bank"]

    def jobs(fps):
        meta = {"fingerprint": "bank", "branch_fingerprints": fps}
        return {
            j.key: j
            for j in plan.plan(
                "2026-10", meta, specs, {b: ps.for_branch(b) for b in fps},
                build_dir=tmp_path, run_id="r", formats=("html",),
                scope_params={u: ps.for_scope(plan.scope_folder(u)) for u in units}, tree=TREE,
            )
        }  # fmt: skip

    before = jobs({"0101": "a", "0102": "b", "0201": "c"})
    assert sorted(before) == [
        "0101/risk", "0102/risk", "0201/risk", "bank/risk", "region-East/risk", "region-North/risk",
    ]  # fmt: skip
    assert before["region-East/risk"].parameters["scope"] == "region:East"
    assert before["bank/risk"].parameters["scope"] == "bank"
    after = jobs({"0101": "a", "0102": "B", "0201": "c"})
    redone = sorted(k for k in before if before[k].fingerprint != after[k].fingerprint)
    assert redone == ["0102/risk", "bank/risk", "region-East/risk"]


def test_the_index_names_the_region_and_bank_folders_in_both_languages():
    rows = plan.scope_rows(TREE, {"0101", "region-East", "bank"})
    assert rows == [
        {"branch_id": "region-East", "name": "East region (all branches)",
         "name_zh": "华东区域（全部网点）", "region": "East"},
        {"branch_id": "bank", "name": "Whole bank (all branches)", "name_zh": "全行（全部网点）"},
    ]  # fmt: skip
    assert plan.scope_rows(TREE, {"0101"}) == []


def test_a_report_made_per_branch_only_gets_no_region_or_bank_job(tmp_path, monkeypatch):
    ps = ParamSet(paths.project_root() / "params", settings_classes())
    specs = [registry()["satisfaction"], registry()["risk"]]
    assert plan.made_for(specs[0]) == plan.SCOPES  # every report is made at every level now
    monkeypatch.setattr(specs[0].module, "SCOPES", ("branch",))  # one that is not
    assert plan.made_for(specs[0]) == ("branch",) and plan.made_for(specs[1]) == plan.SCOPES
    jobs = plan.plan(
        "2026-10", {"fingerprint": "bank", "branch_fingerprints": {"0101": "a"}}, specs,
        {"0101": ps.for_branch("0101")}, build_dir=tmp_path, run_id="r", formats=("html",),
        scope_params={"bank": ps.for_scope("bank")}, tree=TREE,
    )  # fmt: skip
    assert [j.key for j in jobs] == ["0101/satisfaction", "0101/risk", "bank/risk"]


def test_a_page_reading_another_reports_prepared_tables_is_made_again_when_they_are_redone():
    """Segmentation's lifetime value reads satisfaction's churn scores: when satisfaction's
    models were redone (its prepare key changed), segmentation's pages are made again;
    a change in risk's models leaves them."""
    from pathlib import Path

    from branchbook.reports import select

    def prints(report_keys):
        meta = {"branch_fingerprints": {"0101": "d"}, "fingerprint": "bank"}
        jobs = plan.plan("2026-10", meta | {"report_keys": report_keys},
                         select(["segmentation", "risk"]), {"0101": _branch("zh-CN")},
                         build_dir=Path("build"), run_id="r1", formats=("html",))  # fmt: skip
        return {j.key: j.fingerprint for j in jobs}

    base = prints({"satisfaction": "s1", "risk": "r1", "segmentation": "g1"})
    churn = prints({"satisfaction": "s2", "risk": "r1", "segmentation": "g1"})
    risk = prints({"satisfaction": "s1", "risk": "r2", "segmentation": "g1"})
    assert base["0101/segmentation"] != churn["0101/segmentation"]
    assert base["0101/risk"] == churn["0101/risk"]
    assert base == risk  # risk's pages follow its data and code, not its prepare key
