"""The access list: strict validation, and who may see which branch."""

import pytest

from branchbook.deliver import access
from branchbook.errors import ParamsError

from .helpers import ORG, write_access


def test_units_resolve_to_branches(tmp_path):
    write_access(tmp_path)
    acl = access.load(tmp_path, ORG)
    assert acl.branches("li.wei") == {"0101"}
    assert acl.branches("anna.north") == {"0201"}
    assert acl.branches("audit") == {"0101", "0102", "0201"}
    assert acl.branches("nobody") == frozenset()
    assert acl.may_see("anna.north", "0201", "risk")
    assert not acl.may_see("anna.north", "0201", "staff_kpi")  # not among her reports
    assert not acl.may_see("li.wei", "0102", "risk")
    assert [p.id for p in acl.responsible("0201")] == ["anna.north"]
    # a branch pack holds several reports: seen by whoever may see each of them
    assert acl.may_see_pack("li.wei", "0101", ["risk", "staff_kpi"])
    assert not acl.may_see_pack("li.wei", "0102", ["risk", "staff_kpi"])
    assert not acl.may_see_pack("anna.north", "0201", ["risk", "staff_kpi"])
    assert not acl.may_see_pack("li.wei", "0101", [])
    assert acl.people["li.wei"].reports == access.ORDER
    assert acl.people["audit"].formats == ("pdf", "html")


def _bad(tmp_path, old, new):
    path = write_access(tmp_path)
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(ParamsError) as exc:
        access.load(tmp_path, ORG)
    return str(exc.value)


def test_unknown_unit_names_the_file_and_the_entry(tmp_path):
    msg = _bad(tmp_path, "region:North", "region:West")
    assert "access.yaml: people[1] (anna.north)" in msg and "'region:West'" in msg
    msg = _bad(tmp_path, "branch:0101", "branch:9999")
    assert "people[0] (li.wei)" in msg and "branch:9999" in msg


def test_malformed_unit_address_and_report(tmp_path):
    assert "expected as bank, branch:<id> or region:<name>" in _bad(tmp_path, "branch:0101", "0101")
    msg = _bad(tmp_path, "anna@bank.example", "anna at bank")
    assert "people[1] (anna.north).email" in msg and "not an email address" in msg
    assert "'loans' is expected to be one of" in _bad(
        tmp_path, "reports: [risk]", "reports: [loans]"
    )


def test_duplicate_id_and_unknown_key(tmp_path):
    assert "id 'audit' is given twice" in _bad(tmp_path, "id: li.wei", "id: audit")
    assert "people[2] (audit).password: unknown key" in _bad(
        tmp_path, "formats: [pdf, html]", "formats: [pdf, html]\n    password: x"
    )
    assert "colour: unknown key" in _bad(tmp_path, "people:", "colour: red\npeople:")


def test_threshold_keys_name_a_report(tmp_path):
    assert "<report>.<kpi>" in _bad(tmp_path, "risk.npl_ratio:", "npl_ratio:")


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(ParamsError, match="access.yaml: file not found"):
        access.load(tmp_path, ORG)


def test_org_from_the_warehouse_regions(small_bank):
    org = access.org_from_warehouse(small_bank / "build" / "demo" / "warehouse.duckdb")
    assert org.regions and set(org.regions.values()) <= {"East", "North", "South"}
    region = next(iter(org.regions.values()))
    assert org.branches(f"region:{region}") <= set(org.regions)
    # the demo bank's sub-branches (parent_id) hang under their branch
    subs = {b: p for b, p in org.parents.items() if p}
    assert all(b in org.branches(f"branch:{p}") for b, p in subs.items())


def test_the_shipped_access_list_fits_the_demo_bank():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    east = {f"010{i}": "East" for i in range(1, 5)}
    north = {f"020{i}": "North" for i in range(1, 5)}
    south = {f"030{i}": "South" for i in range(1, 5)}
    acl = access.load(root / "params", access.Org({**east, **north, **south}))
    assert acl.branches("head.north") == set(north)


def test_a_password_in_place_of_a_hash_is_refused(tmp_path):
    msg = _bad(tmp_path, "alerts: true\n", "alerts: true\n    password_hash: hunter2hunter2\n")
    assert "people[0] (li.wei).password_hash" in msg and "never a password" in msg
    assert "hunter2" not in msg


def test_a_region_head_sees_the_region_head_office_the_bank_a_branch_manager_neither(tmp_path):
    """A region's or the bank's report holds every one of its branches' figures: it is
    seen by whoever's units cover all of them, and by no one else."""
    write_access(tmp_path)
    acl = access.load(tmp_path, ORG)
    assert acl.folders("li.wei") == {"0101"}  # East has 0102 too: no region report
    assert acl.folders("anna.north") == {"0201", "region-North"}
    assert acl.folders("audit") == {"0101", "0102", "0201", "region-East", "region-North", "bank"}
    assert acl.may_see("anna.north", "region-North", "risk")
    assert not acl.may_see("anna.north", "region-North", "staff_kpi")  # not her report
    assert not acl.may_see("anna.north", "bank", "risk")
    assert not acl.may_see("li.wei", "region-East", "risk") and not acl.may_see(
        "li.wei", "bank", "risk"
    )
    assert acl.may_see("audit", "bank", "risk") and acl.may_see("audit", "region-East", "staff_kpi")
    assert not acl.may_see("nobody", "bank", "risk")


def test_every_branch_of_a_region_listed_one_by_one_covers_the_region(tmp_path):
    path = write_access(tmp_path)
    path.write_text(
        path.read_text().replace("units: [branch:0101]", "units: [branch:0101, branch:0102]")
    )
    acl = access.load(tmp_path, ORG)
    assert acl.folders("li.wei") == {"0101", "0102", "region-East"}


def test_a_branch_unit_covers_its_sub_branches(tmp_path):
    org = access.Org(
        {"0101": "East", "010101": "East", "0102": "East", "0201": "North"},
        {"010101": "0101"},
    )
    write_access(tmp_path)
    acl = access.load(tmp_path, org)
    assert org.branches("branch:0101") == {"0101", "010101"}
    assert org.branches("branch:010101") == {"010101"}
    assert acl.folders("li.wei") == {"0101", "010101"}  # 0102 is East too: no region
    assert acl.may_see("li.wei", "010101", "risk") and not acl.may_see("li.wei", "0102", "risk")
    assert org.scopes == {
        "region-East": {"0101", "010101", "0102"},
        "region-North": {"0201"},
        "bank": {"0101", "010101", "0102", "0201"},
    }
