"""Rendering an executed report notebook to HTML and PDF."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
import zlib

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from branchbook import charts, i18n, page, render
from branchbook.errors import RenderError

REPORT = "segmentation"
BRANCH = {
    "branch_id": "0101",
    "name": "Riverside",
    "name_zh": "滨江支行",
    "region": "East",
    "city": "Hangzhou",
}

# Texts the synthetic report needs; the real catalogue wins where it has the key.
TEST_TEXTS = {
    "en": {
        f"{REPORT}.title": "Customer segmentation",
        f"{REPORT}.sections.tiers.title": "Asset tiers",
        f"{REPORT}.sections.tiers.intro": "Customers by assets under management.",
        f"{REPORT}.sections.trend.title": "Trend",
        f"{REPORT}.kpis.customers": "Customers",
        f"{REPORT}.kpis.aum": "AUM",
        f"{REPORT}.kpis.dormant_share": "Dormant share",
        f"{REPORT}.columns.tier": "Tier",
        f"{REPORT}.columns.customers": "Customers",
        f"{REPORT}.columns.aum": "AUM",
        f"{REPORT}.columns.change": "Change",
        f"{REPORT}.test.fact": "The branch serves {n:int} customers.",
        f"{REPORT}.test.def_customers": "Customers with an open account at month end.",
    },
    "zh-CN": {
        f"{REPORT}.title": "客户分类与分级",
        f"{REPORT}.sections.tiers.title": "资产分层",
        f"{REPORT}.sections.tiers.intro": "按管理资产规模划分的客户。",
        f"{REPORT}.sections.trend.title": "趋势",
        f"{REPORT}.kpis.customers": "客户数",
        f"{REPORT}.kpis.aum": "管理资产",
        f"{REPORT}.kpis.dormant_share": "沉睡客户占比",
        f"{REPORT}.columns.tier": "层级",
        f"{REPORT}.columns.customers": "客户数",
        f"{REPORT}.columns.aum": "管理资产",
        f"{REPORT}.columns.change": "变化",
        f"{REPORT}.test.fact": "本网点服务客户 {n:int} 户。",
        f"{REPORT}.test.def_customers": "月末持有有效账户的客户。",
    },
}


@pytest.fixture
def texts(monkeypatch):
    real = i18n.catalogue

    def catalogue(locale):
        return {**TEST_TEXTS[locale], **real(locale)}

    monkeypatch.setattr(i18n, "catalogue", catalogue)


def _chart(title: str):
    fig, ax = charts.new(width=5, height=2.4)
    ax.bar(["大众客户", "富裕客户", "私行客户"], [120, 40, 6], color=charts.BRANCH_COLOR)
    ax.set_title(title)
    return fig


def build_page(
    locale: str = "zh-CN", *, branch=None, charts_n: int = 1, rows: int = 4
) -> page.Page:
    p = page.Page(
        report=REPORT,
        locale=locale,
        bank_name="示例银行" if locale == "zh-CN" else "Example Bank",
        branch=branch or BRANCH,
        period="2026-10",
        data_as_of="2026-10-31",
        classification="内部资料" if locale == "zh-CN" else "Internal",
        provenance_info={"run_id": "r1", "fingerprint": "abc123", "code_version": "0.1.0"},
        live=False,
    )
    p.title()
    p.summary([(f"{REPORT}.test.fact", {"n": 1234})])
    kpis = page.cards(
        {"customers": 1234, "aum": 5.6e8, "dormant_share": 0.18},
        kinds={"customers": "int", "aum": "money", "dormant_share": "pct"},
        prev={"customers": 1200, "aum": 5.1e8, "dormant_share": 0.15},
        bank={"customers": 1500, "aum": 6e8, "dormant_share": 0.12},
        locale=locale,
    )
    kpis[0].status, kpis[1].status, kpis[2].status = "green", "amber", "red"
    p.kpi_cards(kpis, headline=("customers", "dormant_share"))
    p.section("tiers")
    frame = pd.DataFrame(
        {
            "tier": [f"T{i}" for i in range(rows)],
            "customers": [1000 + i for i in range(rows)],
            "aum": [1.5e6 * (i + 1) for i in range(rows)],
            "change": [(-1) ** i * 0.05 for i in range(rows)],
        }
    )
    p.table(
        frame,
        {"tier": "text", "customers": "int", "aum": "money_unit", "change": "delta"},
        total=True,
    )
    p.section("trend")
    for i in range(charts_n):
        p.chart(_chart(f"资产分层 {i + 1}"))
    p.definitions({"customers": f"{REPORT}.test.def_customers"})
    p.provenance()
    return p


def notebook_from_page(p: page.Page, *, extra_cells=()) -> nbformat.NotebookNode:
    """An executed notebook as papermill leaves it, with the page's fragments as outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(nbformat.v4.new_markdown_cell("# 客户分类与分级 MARKDOWN-NOT-SHOWN"))
    params = nbformat.v4.new_code_cell("branch_id = 'PARAMS-NOT-SHOWN'", execution_count=1)
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("branch_id = '0101'  # INJECTED", execution_count=2)
    injected.metadata["tags"] = ["injected-parameters"]
    injected.outputs = [nbformat.v4.new_output("stream", name="stdout", text="INJECTED-OUTPUT\n")]
    nb.cells += [params, injected]
    for i, block in enumerate(p.blocks):
        cell = nbformat.v4.new_code_cell(
            f"page.step_{i}()  # CODE-NOT-SHOWN", execution_count=3 + i
        )
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="STREAM-NOT-SHOWN\n"),
            nbformat.v4.new_output("display_data", data={"text/html": block}),
        ]
        nb.cells.append(cell)
    nb.cells[-1].outputs.append(
        nbformat.v4.new_output("display_data", data={page.META_MIME: json.loads(p.meta_json())})
    )
    nb.cells += list(extra_cells)
    nbformat.validate(nb)
    return nb


@pytest.fixture
def zh_nb(texts):
    return notebook_from_page(build_page("zh-CN"))


# -- HTML -----------------------------------------------------------------------------


def test_page_is_self_contained_and_shows_no_code(zh_nb):
    html, meta = render.notebook_to_html(zh_nb)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "zh-CN"
    assert soup.title.string == "客户分类与分级 · 滨江支行 · 2026年10月"
    assert meta["branch_name"] == "滨江支行" and meta["locale"] == "zh-CN"
    assert soup.find("script") is None
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
    soup = BeautifulSoup(render.notebook_to_html(zh_nb)[0], "html.parser")
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
    html, _ = render.notebook_to_html(zh_nb)
    assert re.search(r'font-family:\s*"Noto Sans CJK SC", "Noto Sans", sans-serif', html)
    assert '"第 " counter(page) " 页，共 " counter(pages) " 页"' in html
    assert "size: A4 portrait" in html
    assert "thead { display: table-header-group; }" in html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select_one(".bb-run-class").get_text() == "内部资料"
    assert soup.select_one(".bb-run-left").get_text() == "示例银行 · 滨江支行 · 2026年10月"


def test_english_page(texts):
    html, meta = render.notebook_to_html(notebook_from_page(build_page("en")))
    soup = BeautifulSoup(html, "html.parser")
    assert soup.html["lang"] == "en"
    assert soup.title.string == "Customer segmentation · Riverside · Oct 2026"
    assert '"Page " counter(page) " of " counter(pages)' in html
    assert meta["headline"]["customers"]["text"] == "1,234"


def test_branch_name_with_markup_is_escaped(texts):
    evil = {**BRANCH, "name_zh": "<script>alert(1)</script>支行"}
    html, _ = render.notebook_to_html(notebook_from_page(build_page("zh-CN", branch=evil)))
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("script") is None
    assert "<script>alert(1)</script>支行" in soup.title.string


def test_last_meta_wins_and_images_become_data_uris(texts):
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
    html, meta = render.notebook_to_html(nb)
    assert meta["title"] == "Customer segmentation"
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert "&lt;Figure&gt;" not in html


# -- failures -------------------------------------------------------------------------


def test_error_output_names_the_cell(zh_nb):
    bad = nbformat.v4.new_code_cell("1/0", execution_count=50)
    bad.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="division by zero",
            traceback=[
                "\x1b[0;31mTraceback (most recent call last)\x1b[0m",
                "ZeroDivisionError: division by zero",
            ],
        )
    ]
    zh_nb.cells.insert(5, bad)
    with pytest.raises(RenderError, match=r"cell 5\b.*ZeroDivisionError: division by zero"):
        render.notebook_to_html(zh_nb)


def test_traceback_in_stream_output_is_an_error(zh_nb):
    cell = zh_nb.cells[4]
    cell.outputs.append(
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text="Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'aum'\n",
        )
    )
    with pytest.raises(RenderError, match=r"cell 4\b.*KeyError: 'aum'") as info:
        render.notebook_to_html(zh_nb)
    assert "File" not in str(info.value)


def test_script_in_an_output_is_refused(zh_nb):
    cell = nbformat.v4.new_code_cell("chart", execution_count=60)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<div><script>x()</script></div>"}
        )
    ]
    zh_nb.cells.append(cell)
    with pytest.raises(RenderError, match="JavaScript"):
        render.notebook_to_html(zh_nb)


def test_external_resource_is_refused(zh_nb):
    cell = nbformat.v4.new_code_cell("logo", execution_count=61)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": '<img src="https://cdn.example.com/a.png">'}
        )
    ]
    zh_nb.cells.append(cell)
    with pytest.raises(RenderError, match="external"):
        render.notebook_to_html(zh_nb)


# -- PDF ------------------------------------------------------------------------------

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftotext, pdffonts, pdfinfo) is not installed",
)


def _tool(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@needs_poppler
def test_zh_pdf_has_chinese_text_embedded_cjk_font_and_a4(tmp_path, zh_nb):
    out = render.render(zh_nb, html_path=tmp_path / "r.html", pdf_path=tmp_path / "r.pdf")
    pdf = tmp_path / "r.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = _tool("pdftotext", "-layout", str(pdf), "-")
    assert "滨江支行" in text
    assert "第 1 页" in text
    assert "内部资料" in text
    fonts = _tool("pdffonts", str(pdf))
    cjk = [ln for ln in fonts.splitlines() if "NotoSansCJKSC" in re.sub(r"[ -]", "", ln)]
    assert cjk and all(" yes " in ln for ln in cjk), fonts
    info = _tool("pdfinfo", str(pdf))
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", info), info
    assert out["outputs"]["pdf"]["sha256"] and out["outputs"]["html"]["path"].endswith("r.html")


@needs_poppler
def test_pdf_embeds_two_faces_even_with_suppressed_and_empty_tables(tmp_path, texts):
    """Regular and bold only: the muted cells (suppressed counts, "no rows") once took a
    third, slanted copy of the regular face."""
    p = build_page("zh-CN")
    frame = pd.DataFrame({"tier": ["T1", "T2", "T3"], "customers": [2, 900, 40]})
    p.table(frame, {"tier": "text", "customers": "int"}, suppress=["customers"])
    p.table(frame.iloc[:0], {"tier": "text", "customers": "int"})
    html, _ = render.notebook_to_html(notebook_from_page(p))
    assert 'bb-suppressed">*<' in html and 'class="bb-none"' in html
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(render.html_to_pdf(html))
    names = [ln.split()[0] for ln in _tool("pdffonts", str(pdf)).splitlines()[2:]]
    assert sorted(n.split("+", 1)[1] for n in names) == [
        "Noto-Sans-CJK-SC",
        "Noto-Sans-CJK-SC-Bold",
    ]


def test_our_page_gives_weasyprint_nothing_to_warn_about(zh_nb, caplog):
    html, _ = render.notebook_to_html(zh_nb)
    with caplog.at_level("WARNING", logger="weasyprint"):
        render.html_to_pdf(html)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_missing_glyph_is_an_error():
    html = "<html><body style=\"font-family: 'Noto Sans CJK SC'\">\U000f0000</body></html>"
    with pytest.raises(RenderError, match="notdef"):
        render.html_to_pdf(html)


def _png(mode: str, **save) -> bytes:
    from PIL import Image

    img = Image.new(mode, (37, 11), *([128] if mode in ("L", "P") else []))
    if mode == "I;16":
        img = Image.new("I;16", (37, 11))
    buf = io.BytesIO()
    img.save(buf, format="png", **save)
    return buf.getvalue()


def test_png_idat_takes_8_bit_rgb_and_grey_only():
    for mode in ("RGB", "L"):
        data = _png(mode)
        idat = render.png_idat(data)
        # the pixel rows, each led by its filter byte, as a PDF's PNG predictor reads them
        width, channels = 37, 3 if mode == "RGB" else 1
        assert len(zlib.decompress(idat)) == 11 * (1 + width * channels)
    for mode in ("RGBA", "P", "LA", "I;16"):
        assert render.png_idat(_png(mode)) is None, mode
    # an interlaced PNG (Pillow does not write one: set the IHDR flag and its CRC)
    data = bytearray(_png("RGB"))
    data[8 + 8 + 12] = 1
    data[8 + 8 + 13 : 8 + 8 + 17] = zlib.crc32(bytes(data[12 : 8 + 8 + 13])).to_bytes(4, "big")
    assert render.png_idat(bytes(data)) is None
    assert render.png_idat(_png("RGB")[:40]) is None  # truncated
    assert render.png_idat(b"GIF89a...") is None


def test_pdf_is_the_same_with_charts_passed_through(zh_nb, monkeypatch):
    """The chart's own PNG data in the PDF, byte for byte what WeasyPrint's re-encoding gave."""
    from weasyprint import images

    # a page with the report's RGB charts, plus images WeasyPrint must still convert
    extra = "".join(
        f'<img alt="" src="data:image/png;base64,{base64.b64encode(_png(m)).decode()}">'
        for m in ("RGBA", "P", "L")
    )
    html, _ = render.notebook_to_html(zh_nb)
    assert html.count("data:image/png") >= 1
    html = html.replace("</main>", extra + "</main>")
    fast = render.html_to_pdf(html)
    assert render._weasyprint_png_data is not None  # installed on this WeasyPrint
    calls = []

    def weasyprint_own(image):
        calls.append(image.mode)
        return render._weasyprint_png_data(image)

    monkeypatch.setattr(images.RasterImage, "_get_png_data", staticmethod(weasyprint_own))
    slow = render.html_to_pdf(html)
    assert "RGB" in calls  # the charts took WeasyPrint's own path this time
    assert fast == slow


def test_lean_user_agent_sheet_gives_the_same_pdf(zh_nb):
    """The lighter user-agent sheet changes no byte of a report PDF: a page with the
    summary's list, KPI cards, a table with totals, a chart and the notice's list."""
    import weasyprint

    cls = render._html_class()
    assert cls is not weasyprint.HTML  # this WeasyPrint has the rules it leaves out
    html, _ = render.notebook_to_html(zh_nb)
    notice = (
        '<aside class="bb-notice"><ul><li class="bb-note">一 one</li><li>二 two</li></ul></aside>'
    )
    html = html.replace("</main>", notice + "<ol><li>三</li></ol></main>")
    referenced, images = render._image_references(html)
    pdfs = [
        klass(string=referenced, url_fetcher=render._fetcher(images)).write_pdf()
        for klass in (cls, weasyprint.HTML)
    ]
    assert pdfs[0] == pdfs[1]


def test_report_stylesheets_use_no_footnotes_or_notes():
    """What the lean sheet leaves out (footnote and note pseudo-elements) must stay unused."""
    for css in render.TEMPLATES.glob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"footnote|::note|float:\s*note", text), css.name


def test_images_reach_weasyprint_as_references():
    png = _png("RGB")
    encoded = base64.b64encode(png).decode()
    html = (
        f'<p><img alt="a" src="data:image/png;base64,{encoded}"></p>'
        f'<img src="data:image/jpeg;base64,{encoded}" alt="b">'
        f'<a href="data:image/png;base64,{encoded}">not an image tag</a>'
    )
    out, images = render._image_references(html)
    assert out.count("bb-image:") == 2 and 'src="bb-image:0"' in out and 'src="bb-image:1"' in out
    assert out.count(encoded) == 1  # the link keeps its data URI
    assert images == [("image/png", encoded), ("image/jpeg", encoded)]
    response = render._fetcher(images).fetch("bb-image:0")
    assert response.read() == png
    assert response.headers.get_content_type() == "image/png"


@needs_poppler
def test_pdf_shows_every_chart(tmp_path, texts):
    """Three charts on the page, three images in the PDF (as pdfimages lists them)."""
    html, _ = render.notebook_to_html(notebook_from_page(build_page("zh-CN", charts_n=3)))
    assert html.count("data:image/png") == 3
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(render.html_to_pdf(html))
    listed = [line.split() for line in _tool("pdfimages", "-list", str(pdf)).splitlines()[2:]]
    images = [row for row in listed if row[2] == "image"]  # (an RGBA chart adds its "smask")
    assert len(images) == 3
    assert all(row[5] == "rgb" and row[3:5] == ["652", "371"] for row in images)


def test_pdf_exporter_gives_bytes(zh_nb):
    pdf, resources = render.BranchbookPDFExporter().from_notebook_node(zh_nb)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    assert resources["output_extension"] == ".pdf"
    html, resources = render.BranchbookHTMLExporter().from_notebook_node(zh_nb)
    assert isinstance(html, str) and resources["output_extension"] == ".html"
    assert render.BranchbookHTMLExporter.output_mimetype == "text/html"


# -- files ----------------------------------------------------------------------------


def test_render_failure_leaves_published_files_alone(tmp_path, zh_nb):
    (tmp_path / "r.html").write_text("published")
    bad = nbformat.v4.new_code_cell("x", execution_count=70)
    bad.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    zh_nb.cells.append(bad)
    with pytest.raises(RenderError, match="ValueError: bad"):
        render.render(zh_nb, html_path=tmp_path / "r.html", pdf_path=tmp_path / "r.pdf")
    assert (tmp_path / "r.html").read_text() == "published"
    assert sorted(os.listdir(tmp_path)) == ["r.html"]


def test_render_reads_an_executed_file(tmp_path, zh_nb):
    path = tmp_path / "segmentation.ipynb"
    nbformat.write(zh_nb, str(path))
    out = render.render(path, html_path=tmp_path / "out" / "segmentation.html")
    assert out["report"] == REPORT and set(out["outputs"]) == {"html"}
    html = (tmp_path / "out" / "segmentation.html").read_bytes()
    import hashlib

    assert out["outputs"]["html"]["sha256"] == hashlib.sha256(html).hexdigest()


def test_nbconvert_finds_the_exporters():
    from importlib.metadata import entry_points

    from nbconvert.exporters import get_exporter

    assert get_exporter("branchbook.render.BranchbookHTMLExporter") is render.BranchbookHTMLExporter
    assert get_exporter("branchbook.render.BranchbookPDFExporter") is render.BranchbookPDFExporter
    names = {ep.name for ep in entry_points(group="nbconvert.exporters")}
    if "branchbook_pdf" in names:  # once the package's entry points are installed
        assert get_exporter("branchbook_html") is render.BranchbookHTMLExporter
        assert get_exporter("branchbook_pdf") is render.BranchbookPDFExporter


def test_failed_pdf_leaves_the_published_pair(tmp_path, zh_nb, monkeypatch):
    (tmp_path / "r.html").write_text("old html")
    (tmp_path / "r.pdf").write_bytes(b"old pdf")

    def no_pdf(html, *, base_url=None):
        raise RenderError("the PDF would be wrong: .notdef glyph rendered")

    monkeypatch.setattr(render, "html_to_pdf", no_pdf)
    with pytest.raises(RenderError, match="notdef"):
        render.render(zh_nb, html_path=tmp_path / "r.html", pdf_path=tmp_path / "r.pdf")
    assert (tmp_path / "r.html").read_text() == "old html"
    assert (tmp_path / "r.pdf").read_bytes() == b"old pdf"


def test_escaped_hostile_text_is_data_but_live_markup_is_refused():
    from branchbook.render import _check_fragment

    _check_fragment(
        "<td>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(2) onerror=&quot;x&quot;</td>",
        "cell 1",
    )
    for live in (
        '<img src="x" onerror="alert(1)">',
        "<script>alert(1)</script>",
        '<a href=" JavaScript:alert(1)">x</a>',
        '<img src="https://cdn.example/x.png">',
    ):
        with pytest.raises(RenderError):
            _check_fragment(live, "cell 1")


def test_parsed_page_sheets_give_the_same_pdf(zh_nb, monkeypatch):
    """The page's stylesheets handed to WeasyPrint parsed (once a process) change no
    byte of the PDF: the same page made the way WeasyPrint reads it on its own."""
    html, _ = render.notebook_to_html(zh_nb)
    split = render._split_stylesheets(html)
    assert split is not None
    stripped, sheets = split
    assert "<style" not in stripped and len(sheets) == 2  # all media and print; not screen
    fast = render.html_to_pdf(html)
    monkeypatch.setattr(render, "_split_stylesheets", lambda html: None)
    assert render.html_to_pdf(html) == fast


def test_page_sheets_are_parsed_once_and_kept_in_order():
    head = (
        "<html><head><style>p { color: red }</style>"
        '<style media="screen">p { color: blue }</style>'
        '<style media="print">p { color: green }</style></head><body><p>x</p></body></html>'
    )
    stripped, sheets = render._split_stylesheets(head)
    assert stripped == "<html><head></head><body><p>x</p></body></html>"
    assert [
        s is render._SHEETS[css]
        for s, css in zip(sheets, ("p { color: red }", "p { color: green }"), strict=True)
    ] == [True, True]
    again = render._split_stylesheets(head)[1]
    assert [a is b for a, b in zip(again, sheets, strict=True)] == [True, True]  # not parsed again


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><style>p{}</style></head><body><style>p{}</style></body></html>",
        '<html><head><link rel="stylesheet" href="x.css"></head><body></body></html>',
        '<html><head><style media="print and (min-width: 10cm)">p{}</style></head><body></body></html>',
        '<html><head><style type="text/less">p{}</style></head><body></body></html>',
        "<p>no head at all</p>",
    ],
    ids=["style-in-body", "linked-sheet", "media-query", "other-type", "no-head"],
)
def test_pages_the_parsed_sheets_cannot_copy_exactly_go_to_weasyprint_as_they_are(page):
    assert render._split_stylesheets(page) is None


def test_the_render_server_parses_every_locales_page_sheets_ahead():
    from branchbook import forkserver, i18n

    render._SHEETS.clear()
    forkserver.warm(["branchbook.render", "weasyprint"])
    keys = list(render._SHEETS)
    assert any(render.asset("report.css").strip() in key for key in keys)
    for locale in i18n.LOCALES:
        counter = render.page_counter_css(locale)
        assert any(counter in key and render.asset("print.css").strip() in key for key in keys)
