"""The report's PDF: Chinese text in the embedded CJK font, A4, every chart, no missing glyph."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from branchbook.errors import RenderError
from branchbook.output import html as page_html
from branchbook.output import pdf as page_pdf
from branchbook.output import render

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
    cjk = [ln for ln in fonts.splitlines() if "notosanscjksc" in re.sub(r"[ -]", "", ln.lower())]
    assert cjk and all(" yes " in ln for ln in cjk), fonts
    info = _tool("pdfinfo", str(pdf))
    assert re.search(r"Page size:\s+595\.\d* x 841\.\d* pts \(A4\)", info), info
    assert out["outputs"]["pdf"]["sha256"] and out["outputs"]["html"]["path"].endswith("r.html")


@needs_poppler
def test_pdf_embeds_two_faces_even_with_suppressed_and_empty_tables(
    tmp_path, texts, build_page, notebook_from_page
):
    """Regular and bold only: the muted cells (suppressed counts, "no rows") once took a
    third, slanted copy of the regular face."""
    p = build_page("zh-CN")
    frame = pd.DataFrame({"tier": ["T1", "T2", "T3"], "customers": [2, 900, 40]})
    p.table(frame, {"tier": "text", "customers": "int"}, suppress=["customers"])
    p.table(frame.iloc[:0], {"tier": "text", "customers": "int"})
    html, _ = page_html.notebook_to_html(notebook_from_page(p))
    assert 'bb-suppressed">*<' in html and 'class="bb-none"' in html
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(page_pdf.html_to_pdf(html))
    names = [ln.split()[0] for ln in _tool("pdffonts", str(pdf)).splitlines()[2:]]
    faces = sorted(_face(n) for n in names)
    assert faces == ["bold", "regular"], names


def _face(name: str) -> str:
    """``bold`` or ``regular`` for an embedded Noto Sans CJK SC subset (either engine's
    naming: ``ABCDEF+Noto-Sans-CJK-SC-Bold``, ``ABCDEF+NotoSansCJKsc-Regular-Identity-H``)."""
    flat = re.sub(r"[ -]", "", name.split("+", 1)[1].lower()).removesuffix("identityh")
    assert flat.startswith("notosanscjksc"), name
    return flat.removeprefix("notosanscjksc") or "regular"


def _maker(pdf: bytes) -> str:
    """The program that made a PDF, from its information dictionary."""
    import io

    from pypdf import PdfReader

    info = PdfReader(io.BytesIO(pdf)).metadata or {}
    return str(info.get("/Producer") or info.get("/Creator") or "")


def test_our_page_gives_weasyprint_nothing_to_warn_about(zh_nb, caplog):
    html, _ = page_html.notebook_to_html(zh_nb)
    # WeasyPrint warns of its own user-agent counter styles (" disc ", " decimal ") as
    # it parses that sheet, once a process: not of the page
    page_pdf._weasyprint_route(html, None)
    caplog.clear()
    with caplog.at_level("WARNING", logger="weasyprint"):
        page_pdf._weasyprint_route(html, None)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def test_a_report_page_is_set_by_typst_and_any_other_page_by_weasyprint(zh_nb, caplog):
    html, _ = page_html.notebook_to_html(zh_nb)
    with caplog.at_level("WARNING"):
        typst_pdf = page_pdf.html_to_pdf(html)
    assert _maker(typst_pdf).startswith("Typst")
    assert not [r for r in caplog.records if r.name == "branchbook.output.pdf"]
    other = page_pdf.html_to_pdf("<html><body><p>cover</p></body></html>")
    assert _maker(other).startswith("WeasyPrint")


def test_the_engine_is_typst_unless_weasyprint_is_asked_for(zh_nb, monkeypatch):
    html, _ = page_html.notebook_to_html(zh_nb)
    monkeypatch.setenv("BRANCHBOOK_PDF_ENGINE", "weasyprint")
    assert _maker(page_pdf.html_to_pdf(html)).startswith("WeasyPrint")
    monkeypatch.setenv("BRANCHBOOK_PDF_ENGINE", "latex")
    with pytest.raises(RenderError, match="BRANCHBOOK_PDF_ENGINE='latex' is not a PDF engine"):
        page_pdf.html_to_pdf(html)


def test_missing_glyph_is_an_error():
    html = "<html><body style=\"font-family: 'Noto Sans CJK SC'\">\U000f0000</body></html>"
    with pytest.raises(RenderError, match="notdef"):
        page_pdf.html_to_pdf(html)


def test_missing_glyph_on_a_report_page_is_an_error(zh_nb):
    html, _ = page_html.notebook_to_html(zh_nb)
    html = html.replace("</main>", "<p>\U000f0000</p></main>")
    with pytest.raises(RenderError, match="no glyph for U\\+F0000"):
        page_pdf.html_to_pdf(html)


@needs_poppler
def test_pdf_shows_every_chart(tmp_path, texts, build_page, notebook_from_page):
    """Three charts on the page, three images in the PDF (as pdfimages lists them)."""
    html, _ = page_html.notebook_to_html(notebook_from_page(build_page("zh-CN", charts_n=3)))
    assert html.count("data:image/png") == 3
    pdf = tmp_path / "p.pdf"
    pdf.write_bytes(page_pdf.html_to_pdf(html))
    listed = [line.split() for line in _tool("pdfimages", "-list", str(pdf)).splitlines()[2:]]
    images = [row for row in listed if row[2] == "image"]  # (an RGBA chart adds its "smask")
    assert len(images) == 3
    # at the size drawn, in RGB (Typst tags it with an sRGB profile: "icc")
    assert all(row[5] in ("rgb", "icc") and row[3:5] == ["652", "371"] for row in images)


def test_pdf_exporter_gives_bytes(zh_nb):
    pdf, resources = page_pdf.BranchbookPDFExporter().from_notebook_node(zh_nb)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    assert resources["output_extension"] == ".pdf"
    html, resources = page_html.BranchbookHTMLExporter().from_notebook_node(zh_nb)
    assert isinstance(html, str) and resources["output_extension"] == ".html"
    assert page_html.BranchbookHTMLExporter.output_mimetype == "text/html"


def test_a_page_too_large_to_print_fails_with_one_line_before_any_engine_runs(monkeypatch):
    """A bank's page at 300 branches once reached 210 MB and its PDF 23 GB of memory:
    such a page fails its report (the run names it) instead of the machine."""
    monkeypatch.setattr(page_pdf, "MAX_PRINTED_BYTES", 2_000_000)
    with pytest.raises(RenderError, match=r"the page is 3 MB, too large to print \(at most 2 MB\)"):
        page_pdf.html_to_pdf("<html>" + "x" * 3_000_000 + "</html>")
