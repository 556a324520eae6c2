"""Reruns follow the seams: a label fixed in one report's catalogue redoes that report
and nothing else; unchanged reports cost nothing."""

from __future__ import annotations

import json
import shutil

import pytest

from branchbook import codekey
from branchbook.runner.orchestrate import run

pytestmark = pytest.mark.slow


def test_one_catalogue_edit_redoes_one_report(small_bank, tmp_path, monkeypatch):
    common = dict(
        period="2026-10",
        branches=["0101"],
        formats=("html",),
        warehouse=small_bank / "build" / "demo" / "warehouse.duckdb",
        params_dir=small_bank / "params",
        build_dir=tmp_path / "build",
        out=tmp_path / "reports",
        progress=False,
    )
    first = run(**common)
    assert first.exit_code == 0
    again = run(**common)
    assert again.exit_code == 0
    # the same code: nothing made again
    assert all(e.get("skipped_unchanged") for e in again.entries.values()), again.entries
    # the package as it would be after fixing one label of the risk report
    package = tmp_path / "branchbook"
    shutil.copytree(codekey.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    risk_en = package / "locales" / "en" / "risk.yaml"
    risk_en.write_text(
        risk_en.read_text(encoding="utf-8") + "\n# a label fixed\n", encoding="utf-8"
    )
    monkeypatch.setattr(codekey, "PACKAGE_DIR", package)
    third = run(**common)
    assert third.exit_code == 0
    redone = sorted(k for k, e in third.entries.items() if not e.get("skipped_unchanged"))
    assert redone == ["0101/risk"]
    manifest = json.loads((tmp_path / "reports" / "2026-10" / "manifest.json").read_text())
    assert set(manifest["reports"]) == set(third.entries)


def test_a_pack_template_edit_remakes_the_packs_and_no_report(small_bank, tmp_path, monkeypatch):
    common = dict(
        period="2026-10",
        branches=["0101"],
        warehouse=small_bank / "build" / "demo" / "warehouse.duckdb",
        params_dir=small_bank / "params",
        build_dir=tmp_path / "build",
        out=tmp_path / "reports",
        progress=False,
    )
    first = run(**common)
    assert first.exit_code == 0
    before = first.packs["0101"]
    assert before["status"] == "ok", before
    pack_file = tmp_path / "reports" / "2026-10" / "0101" / "pack.pdf"
    written = pack_file.stat().st_mtime_ns
    # the package as it would be after a change to the pack's cover template
    package = tmp_path / "branchbook"
    shutil.copytree(codekey.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    template = package / "templates" / "pack.html.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\n{# edited #}\n", "utf-8")
    monkeypatch.setattr(codekey, "PACKAGE_DIR", package)
    second = run(**common)
    assert second.exit_code == 0
    assert all(e.get("skipped_unchanged") for e in second.entries.values()), second.entries
    after = second.packs["0101"]
    assert after["status"] == "ok" and after["fingerprint"] != before["fingerprint"]
    assert pack_file.stat().st_mtime_ns != written


def test_one_branchs_rows_changed_redo_it_its_region_and_the_bank(tmp_path):
    """The rerun rule at every level (the run's default makes branches, regions and the
    bank): nothing changed, nothing made; one branch's rows changed, that branch, its
    region and the bank are made again. So are the other branches' reports: each is
    compared with the bank (medians, ranks, the bank-wide scorecard), which that branch's
    rows are part of, so none of them is left stale."""
    import duckdb

    from branchbook import demo

    wh = tmp_path / "warehouse.duckdb"
    demo.build(
        wh, branches=6, customers=1_200, months=13, seed=5
    )  # East 0101-0104, North 0201-0202
    (tmp_path / "params" / "branches").mkdir(parents=True)
    shutil.copy(codekey.PACKAGE_DIR.parents[1] / "params" / "bank.yaml", tmp_path / "params")
    common = dict(
        period="2026-10",
        reports=["risk"],
        formats=("html",),
        warehouse=wh,
        params_dir=tmp_path / "params",
        build_dir=tmp_path / "build",
        out=tmp_path / "reports",
        progress=False,
        scopes=("branch", "region", "bank"),
    )
    first = run(**common)
    assert first.exit_code == 0, first.failed
    made = sorted(first.entries)
    assert made == sorted(
        [f"{b}/risk" for b in ("0101", "0102", "0103", "0104", "0201", "0202")]
        + ["region-East/risk", "region-North/risk", "bank/risk"]
    )
    again = run(**common)
    assert [k for k, e in again.entries.items() if not e.get("skipped_unchanged")] == []
    with duckdb.connect(str(wh)) as con:  # one loan of 0201 repaid a little more
        con.execute(
            "UPDATE loan_snapshots SET outstanding = outstanding * 0.9 WHERE month = '2026-10' "
            "AND loan_id = (SELECT min(loan_id) FROM loans WHERE branch_id = '0201')"
        )
    third = run(**common)
    assert third.exit_code == 0, third.failed
    redone = {k for k, e in third.entries.items() if not e.get("skipped_unchanged")}
    assert {"0201/risk", "region-North/risk", "bank/risk"} <= redone
    assert redone == set(made)  # every branch is measured against the changed bank
    manifest = json.loads((tmp_path / "reports" / "2026-10" / "manifest.json").read_text())
    assert set(manifest["reports"]) == set(made)
    changed = {
        k
        for k in made
        if first.entries[k]["input_fingerprint"] != manifest["reports"][k]["input_fingerprint"]
    }
    assert changed == redone
