"""A notebook's data at each scope: a branch's rows, a region's and the bank's pooled."""

import json

import pandas as pd
import pytest

from branchbook.data import load
from branchbook.errors import ParamsError

ORG = {"0101": ["East", None], "010101": ["East", "0101"], "0201": ["North", None]}


@pytest.fixture
def build(tmp_path):
    """A prepared period of three branches (one a sub-branch) in two regions."""
    root = tmp_path / "2026-10" / "prepared"
    (root / "_schema").mkdir(parents=True)
    for bid, (region, parent) in ORG.items():
        folder = root / "extracts" / bid
        folder.mkdir(parents=True)
        pd.DataFrame({"branch_id": [bid], "region": [region], "parent_id": [parent]}).to_parquet(
            folder / "branches.parquet"
        )
        n = len(bid)  # a different number of rows per branch
        pd.DataFrame({"customer_id": [f"{bid}-{i}" for i in range(n)]}).to_parquet(
            folder / "customers.parquet"
        )
    for name in ("branches", "customers"):
        pd.read_parquet(root / "extracts" / "0101" / f"{name}.parquet").iloc[:0].to_parquet(
            root / "_schema" / f"{name}.parquet"
        )
    meta = {
        "period": "2026-10",
        "period_end": "2026-10-31",
        "fingerprint": "bank-fp",
        "branches": sorted(ORG),
        "branch_fingerprints": {b: f"fp-{b}" for b in ORG},
        "branch_warnings": {"0201": [{"rule": "empty_survey", "count": 1}]},
        "org": ORG,
    }
    (root / "prepare.json").write_text(json.dumps(meta), encoding="utf-8")
    return tmp_path


def test_a_region_pools_its_branches_rows_sub_branches_included(build):
    east = load("2026-10", scope="region:East", build_dir=build)
    assert east.members == ["0101", "010101"]
    customers = east.table("customers")
    assert len(customers) == 4 + 6
    assert customers.groupby("branch_id").size().to_dict() == {"0101": 4, "010101": 6}
    assert east.branch == {
        "branch_id": "region-East",
        "name": "East region (all branches)",
        "name_zh": "华东区域（全部网点）",
        "region": "East",
        "city": "",
    }
    assert east.warnings == []
    assert load("2026-10", scope="region:North", build_dir=build).warnings[0]["rule"] == (
        "empty_survey"
    )


def test_the_bank_pools_every_branch_and_regions_add_up_to_it(build):
    bank = load("2026-10", scope="bank", build_dir=build)
    assert (bank.branch["branch_id"], bank.branch["name_zh"]) == ("bank", "全行（全部网点）")
    regions = [load("2026-10", scope=f"region:{r}", build_dir=build) for r in ("East", "North")]
    assert len(bank.table("customers")) == sum(len(r.table("customers")) for r in regions)
    assert sorted(m for r in regions for m in r.members) == bank.members


def test_a_region_fingerprint_follows_its_branches_only(build):
    east = load("2026-10", scope="region:East", build_dir=build)
    meta_path = build / "2026-10" / "prepared" / "prepare.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["branch_fingerprints"]["0201"] = "changed"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert load("2026-10", scope="region:East", build_dir=build).fingerprint == east.fingerprint
    meta["branch_fingerprints"]["010101"] = "changed"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert load("2026-10", scope="region:East", build_dir=build).fingerprint != east.fingerprint


def test_the_tree_is_read_from_the_extracts_when_prepare_did_not_record_it(build):
    recorded = load("2026-10", scope="region:East", build_dir=build).org
    meta_path = build / "2026-10" / "prepared" / "prepare.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    del meta["org"]
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    assert load("2026-10", scope="region:East", build_dir=build).org == recorded


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("region:West", "scope 'region:West': the warehouse's branches table has no such region "
         "(regions: East, North)"),
        ("district", "scope is expected to be one of (branch, region:<name>, bank). Got 'district'"),
    ],
)  # fmt: skip
def test_a_bad_scope_is_one_line_naming_what_exists(build, scope, message):
    with pytest.raises(ParamsError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        load("2026-10", scope=scope, build_dir=build)
