import pytest

from branchbook.orgtree import OrgTree, loop_text, problems

# bank -> East (0101 with its sub-branch 010101, 0102), North (0201)
TREE = OrgTree.of(
    [
        ("0101", "East", None),
        ("010101", "East", "0101"),
        ("0102", "East", ""),
        ("0201", "North", None),
    ]
)


def test_regions_and_scopes():
    assert TREE.regions() == ("East", "North")
    assert TREE.branches("bank") == ("0101", "010101", "0102", "0201")
    assert TREE.branches("region:East") == ("0101", "010101", "0102")
    assert TREE.branches("branch:0101") == ("0101", "010101")
    assert TREE.branches("branch:010101") == ("010101",)
    assert TREE.branches("region:West") == () and TREE.branches("branch:9999") == ()


def test_path_runs_from_the_bank_down():
    assert TREE.path("010101") == ("bank", "region:East", "branch:0101", "branch:010101")
    assert TREE.path("0201") == ("bank", "region:North", "branch:0201")


def test_a_sound_tree_has_no_problems():
    assert problems(TREE) == {}


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("01", "East", "01")], {"cycle": ("01",)}),
        (
            [
                ("01", "East", "02"),
                ("02", "East", "03"),
                ("03", "East", "01"),
                ("04", "East", "03"),
            ],
            {"cycle": ("01", "02", "03"), "unreachable": ("04",)},
        ),
        ([("01", "East", None), ("02", "North", "01")], {"region_mismatch": ("02",)}),
        ([("01", "East", "99"), ("02", "East", "01")], {"unreachable": ("02",)}),
        (
            [("01", " ", None), ("02", " ", "01"), ("03", "East", None)],
            {"unreachable": ("01", "02")},
        ),
    ],
    ids=["own-parent", "loop-and-below", "region-mismatch", "missing-parent", "blank-region"],
)
def test_each_rule_names_the_branches_it_finds(rows, expected):
    assert problems(OrgTree.of(rows)) == expected


def test_loop_text_shows_the_loop():
    tree = OrgTree.of([("01", "East", "02"), ("02", "East", "01")])
    assert loop_text(tree, "01") == "01 -> 02 -> 01"
    assert tree.ancestors("01") == ("02",)
