"""Each report's links to the same report one level up and down."""

from __future__ import annotations

import json

from branchbook import orgtree
from branchbook.output import levels

TREE = orgtree.OrgTree.of(
    [
        ("0101", "East", None),
        ("010101", "East", "0101"),
        ("0102", "East", None),
        ("0201", "West", None),
    ]
)


def _entry(folder, report, status="ok", stem=None):
    return {
        "branch_id": folder,
        "report": report,
        "status": status,
        "outputs": {"html": {"path": f"{folder}/{stem or report}.html"}},
    }


def _entries(*items):
    return {f"{e['branch_id']}/{e['report']}": e for e in items}


def test_each_level_links_one_up_and_one_down_only_to_published_pages(tmp_path):
    entries = _entries(
        _entry("bank", "risk"),
        _entry("region-East", "risk"),
        _entry("0101", "risk"),
        _entry("010101", "risk"),
        _entry("0102", "risk", status="failed"),
        _entry("0201", "risk"),
        _entry("0101", "segmentation"),
    )
    for e in entries.values():
        if e["status"] == "ok":
            path = tmp_path / e["outputs"]["html"]["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
    names = {"0101": {"name": "Riverside", "name_zh": "滨江支行"}}
    found = levels.links(TREE, entries, period_dir=tmp_path, names_=names)

    def hrefs(folder, side, report="risk"):
        return [link["href"][""] for link in found[folder][report][side]]

    assert hrefs("bank", "down") == ["../region-East/risk.html"]  # West: no region report
    assert hrefs("region-East", "up") == ["../bank/risk.html"]
    assert hrefs("region-East", "down") == ["../0101/risk.html"]  # 0102 failed: no link
    assert hrefs("0101", "up") == ["../region-East/risk.html"]
    assert hrefs("0101", "down") == ["../010101/risk.html"]
    assert hrefs("010101", "up") == ["../0101/risk.html"]
    assert "0201" not in found  # its region's report was not made: nothing to link
    assert "segmentation" not in found.get("0101", {})  # no other level made it
    text = found["010101"]["risk"]["up"][0]["text"]
    assert text == {"en": "Riverside", "zh-CN": "滨江支行"}


def test_a_page_not_on_disk_or_not_visible_is_not_linked(tmp_path):
    entries = _entries(_entry("region-East", "risk"), _entry("0101", "risk"))
    (tmp_path / "0101").mkdir()
    (tmp_path / "0101" / "risk.html").write_text("x")
    assert levels.links(TREE, entries, period_dir=tmp_path) == {}  # region page missing
    both = levels.links(TREE, entries)
    assert set(both) == {"region-East", "0101"}
    branch_only = levels.links(TREE, entries, may_see=lambda f, r: f[0].isdigit())
    assert branch_only == {}


def test_the_script_is_data_and_an_old_link_does_not_outlive_its_report(tmp_path):
    (tmp_path / "0101").mkdir()
    (tmp_path / "0102").mkdir()
    (tmp_path / "0102" / levels.LEVELS_FILE).write_text("window.bbLevels = {};")
    (tmp_path / "0103").mkdir()  # a page with no link: still finds its (empty) file
    (tmp_path / "0103" / "risk.html").write_text("x")
    (tmp_path / "empty").mkdir()
    link = {"text": {"en": "</script><b>"}, "href": {"": "../region-East/risk.html"}}
    levels.write(tmp_path, {"0101": {"risk": {"up": [link], "down": []}}})
    text = (tmp_path / "0101" / levels.LEVELS_FILE).read_text()
    assert "</script>" not in text
    data = json.loads(text.removeprefix("window.bbLevels = ").rstrip(";\n"))
    assert data["reports"]["risk"]["up"] == [link]
    assert data["titles"]["zh-CN"] == "其他层级的同一报告"
    assert (
        json.loads(
            (tmp_path / "0102" / levels.LEVELS_FILE)
            .read_text()
            .removeprefix("window.bbLevels = ")
            .rstrip(";\n")
        )["reports"]
        == {}
    )
    assert (tmp_path / "0103" / levels.LEVELS_FILE).is_file()
    assert not (tmp_path / "empty" / levels.LEVELS_FILE).exists()


def test_a_period_of_branch_reports_only_gets_no_file(tmp_path):
    (tmp_path / "0101").mkdir()
    (tmp_path / "0101" / "risk.html").write_text("x")
    levels.write(tmp_path, {})
    assert not (tmp_path / "0101" / levels.LEVELS_FILE).exists()
