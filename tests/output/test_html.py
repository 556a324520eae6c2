"""The report page: self-contained, no code, the opening, the contents, the locale."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

from branchbook import page
from branchbook.output import html as page_html
from branchbook.output import pdf as page_pdf


def test_page_is_self_contained_and_shows_no_code(zh_nb):
    html, meta = page_html.notebook_to_html(zh_nb)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "zh-CN"
    assert soup.title.string == "客户分类与分级 · 滨江支行 · 2026年10月"
    assert meta["branch_name"] == "滨江支行" and meta["locale"] == "zh-CN"
    # the only scripts are the template's: the links to the same report at the levels
    # above and below, read from the file written beside the report (output.levels)
    scripts = soup.find_all("script")
    assert [s.get("src") for s in scripts] == ["levels.js", None]
    assert "bbLevels" in scripts[1].string and "innerHTML" not in scripts[1].string
    assert not re.search(r"https?://", html)
    assert soup.find("link") is None
    for img in soup.find_all("img"):
        assert img["src"].startswith("data:image/png;base64,")
    for gone in (
        "CODE-NOT-SHOWN",
        "PARAMS-NOT-SHOWN",
        "INJECTED",
        "STREAM-NOT-SHOWN",
        "MARKDOWN-NOT-SHOWN",
        "Traceback",
    ):
        assert gone not in html
    assert soup.select_one("header.bb-title h1").get_text() == "客户分类与分级"
    assert len(soup.select(".bb-kpi")) == 3
    assert len(soup.select("figure.bb-chart img")) == 1
    assert soup.select_one("tfoot tr.bb-total")


def test_table_of_contents_follows_kpis_and_links_resolve(zh_nb):
    soup = BeautifulSoup(page_html.notebook_to_html(zh_nb)[0], "html.parser")
    toc = soup.select_one("nav.bb-toc")
    assert toc.find_previous(class_="bb-kpis") is not None
    assert toc.find_next(class_="bb-kpis") is None
    links = [a["href"] for a in toc.select("a")]
    assert links == ["#sec-tiers", "#sec-trend", "#sec-definitions"]
    for href in links:
        assert soup.find(id=href[1:]) is not None
    assert toc.h2.get_text() == "目录"
    legend = soup.select_one(".bb-legend")
    assert [s.get_text() for s in legend.select(".bb-swatch")] == ["绿灯", "黄灯", "红灯"]


def test_css_names_the_cjk_font_first_and_prints_page_numbers(zh_nb):
    html, _ = page_html.notebook_to_html(zh_nb)
    assert re.search(r'font-family:\s*"Noto Sans CJK SC", "Noto Sans", sans-serif', html)
    assert '"第 " counter(page) " 页，共 " counter(pages) " 页"' in html
    assert "size: A4 portrait" in html
    assert "thead { display: table-header-group; }" in html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one(".bb-run-class").get_text() == "内部资料"
    assert soup.select_one(".bb-run-left").get_text() == "示例银行 · 滨江支行 · 2026年10月"


def test_english_page(texts, build_page, notebook_from_page):
    html, meta = page_html.notebook_to_html(notebook_from_page(build_page("en")))
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "en"
    assert soup.title.string == "Customer segmentation · Riverside · Oct 2026"
    assert '"Page " counter(page) " of " counter(pages)' in html
    assert meta["headline"]["customers"]["text"] == "1,234"


def test_branch_name_with_markup_is_escaped(texts, build_page, notebook_from_page):
    evil = {
        "branch_id": "0101",
        "name": "Riverside",
        "name_zh": "<script>alert(1)</script>支行",
        "region": "East",
        "city": "Hangzhou",
    }
    html, _ = page_html.notebook_to_html(notebook_from_page(build_page("zh-CN", branch=evil)))
    soup = BeautifulSoup(html, "html.parser")
    assert all("alert" not in (s.string or "") for s in soup.find_all("script"))
    assert "<script>alert(1)</script>支行" in soup.title.string


def test_last_meta_wins_and_images_become_data_uris(texts, build_page, notebook_from_page):
    p = build_page("en")
    nb = notebook_from_page(p)
    first = json.loads(p.meta_json())
    nb.cells[3].outputs.append(
        nbformat.v4.new_output("display_data", data={page.META_MIME: {**first, "title": "old"}})
    )
    png = nbformat.v4.new_code_cell("fig", execution_count=99)
    png.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
        )
    ]
    nb.cells.append(png)
    html, meta = page_html.notebook_to_html(nb)
    assert meta["title"] == "Customer segmentation"
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert "&lt;Figure&gt;" not in html


def test_nbconvert_finds_the_exporters():
    """The entry points pyproject.toml declares name the exporters; nbconvert finds them
    by class path, and by name once the package is installed with those entry points."""
    from importlib.metadata import entry_points

    import tomllib
    from nbconvert.exporters import get_exporter

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["entry-points"]
    exporters = {
        "branchbook_html": page_html.BranchbookHTMLExporter,
        "branchbook_pdf": page_pdf.BranchbookPDFExporter,
    }
    assert {
        name: get_exporter(target.replace(":", "."))
        for name, target in declared["nbconvert.exporters"].items()
    } == exporters
    installed = {ep.name: ep.value for ep in entry_points(group="nbconvert.exporters")}
    for name, cls in exporters.items():
        if installed.get(name) == declared["nbconvert.exporters"][name]:  # installed from this tree
            assert get_exporter(name) is cls
