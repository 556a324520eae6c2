"""WeasyPrint made faster: the same PDF, byte for byte."""

from __future__ import annotations

import base64
import re
import zlib

import pytest

from branchbook.output import html as page_html
from branchbook.output import pdf as page_pdf
from branchbook.speedups import weasy


def test_png_idat_takes_8_bit_rgb_and_grey_only(png_of):
    for mode in ("RGB", "L"):
        data = png_of(mode)
        idat = weasy.png_idat(data)
        # the pixel rows, each led by its filter byte, as a PDF's PNG predictor reads them
        width, channels = 37, 3 if mode == "RGB" else 1
        assert len(zlib.decompress(idat)) == 11 * (1 + width * channels)
    for mode in ("RGBA", "P", "LA", "I;16"):
        assert weasy.png_idat(png_of(mode)) is None, mode
    # an interlaced PNG (Pillow does not write one: set the IHDR flag and its CRC)
    data = bytearray(png_of("RGB"))
    data[8 + 8 + 12] = 1
    data[8 + 8 + 13 : 8 + 8 + 17] = zlib.crc32(bytes(data[12 : 8 + 8 + 13])).to_bytes(4, "big")
    assert weasy.png_idat(bytes(data)) is None
    assert weasy.png_idat(png_of("RGB")[:40]) is None  # truncated
    assert weasy.png_idat(b"GIF89a...") is None


def test_pdf_is_the_same_with_charts_passed_through(zh_nb, monkeypatch, png_of):
    """The chart's own PNG data in the PDF, byte for byte what WeasyPrint's re-encoding gave."""
    from weasyprint import images

    # a page with the report's RGB charts, plus images WeasyPrint must still convert
    extra = "".join(
        f'<img alt="" src="data:image/png;base64,{base64.b64encode(png_of(m)).decode()}">'
        for m in ("RGBA", "P", "L")
    )
    html, _ = page_html.notebook_to_html(zh_nb)
    assert html.count("data:image/png") >= 1
    html = html.replace("</main>", extra + "</main>")
    fast = page_pdf.html_to_pdf(html)
    assert weasy._weasyprint_png_data is not None  # installed on this WeasyPrint
    calls = []

    def weasyprint_own(image):
        calls.append(image.mode)
        return weasy._weasyprint_png_data(image)

    monkeypatch.setattr(images.RasterImage, "_get_png_data", staticmethod(weasyprint_own))
    slow = page_pdf.html_to_pdf(html)
    assert "RGB" in calls  # the charts took WeasyPrint's own path this time
    assert fast == slow


def test_lean_user_agent_sheet_gives_the_same_pdf(zh_nb):
    """The lighter user-agent sheet changes no byte of a report PDF: a page with the
    summary's list, KPI cards, a table with totals, a chart and the notice's list."""
    import weasyprint

    cls = weasy._html_class()
    assert cls is not weasyprint.HTML  # this WeasyPrint has the rules it leaves out
    html, _ = page_html.notebook_to_html(zh_nb)
    notice = (
        '<aside class="bb-notice"><ul><li class="bb-note">一 one</li><li>二 two</li></ul></aside>'
    )
    html = html.replace("</main>", notice + "<ol><li>三</li></ol></main>")
    referenced, images = weasy._image_references(html)
    pdfs = [
        klass(string=referenced, url_fetcher=weasy._fetcher(images)).write_pdf()
        for klass in (cls, weasyprint.HTML)
    ]
    assert pdfs[0] == pdfs[1]


def test_report_stylesheets_use_no_footnotes_or_notes():
    """What the lean sheet leaves out (footnote and note pseudo-elements) must stay unused."""
    for css in page_html.TEMPLATES.glob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"footnote|::note|float:\s*note", text), css.name


def test_images_reach_weasyprint_as_references(png_of):
    png = png_of("RGB")
    encoded = base64.b64encode(png).decode()
    html = (
        f'<p><img alt="a" src="data:image/png;base64,{encoded}"></p>'
        f'<img src="data:image/jpeg;base64,{encoded}" alt="b">'
        f'<a href="data:image/png;base64,{encoded}">not an image tag</a>'
    )
    out, images = weasy._image_references(html)
    assert out.count("bb-image:") == 2 and 'src="bb-image:0"' in out and 'src="bb-image:1"' in out
    assert out.count(encoded) == 1  # the link keeps its data URI
    assert images == [("image/png", encoded), ("image/jpeg", encoded)]
    response = weasy._fetcher(images).fetch("bb-image:0")
    assert response.read() == png
    assert response.headers.get_content_type() == "image/png"


def test_parsed_page_sheets_give_the_same_pdf(zh_nb, monkeypatch):
    """The page's stylesheets handed to WeasyPrint parsed (once a process) change no
    byte of the PDF: the same page made the way WeasyPrint reads it on its own."""
    html, _ = page_html.notebook_to_html(zh_nb)
    split = weasy._split_stylesheets(html)
    assert split is not None
    stripped, sheets = split
    assert "<style" not in stripped and len(sheets) == 2  # all media and print; not screen
    fast = page_pdf.html_to_pdf(html)
    monkeypatch.setattr(weasy, "_split_stylesheets", lambda html: None)
    assert page_pdf.html_to_pdf(html) == fast


def test_page_sheets_are_parsed_once_and_kept_in_order():
    head = (
        "<html><head><style>p { color: red }</style>"
        '<style media="screen">p { color: blue }</style>'
        '<style media="print">p { color: green }</style></head><body><p>x</p></body></html>'
    )
    stripped, sheets = weasy._split_stylesheets(head)
    assert stripped == "<html><head></head><body><p>x</p></body></html>"
    assert [
        s is weasy._SHEETS[css]
        for s, css in zip(sheets, ("p { color: red }", "p { color: green }"), strict=True)
    ] == [True, True]
    again = weasy._split_stylesheets(head)[1]
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
    assert weasy._split_stylesheets(page) is None


def test_the_render_server_parses_every_locales_page_sheets_ahead(monkeypatch):
    """With WeasyPrint as the engine (Typst's warm-up: tests/output/test_typeset.py)."""
    from branchbook import i18n
    from branchbook.runner import forkserver

    monkeypatch.setenv("BRANCHBOOK_PDF_ENGINE", "weasyprint")
    weasy._SHEETS.clear()
    forkserver.warm(["branchbook.output.pdf", "weasyprint"])
    keys = list(weasy._SHEETS)
    assert any(page_html.asset("report.css").strip() in key for key in keys)
    for locale in i18n.LOCALES:
        counter = page_html.page_counter_css(locale)
        assert any(counter in key and page_html.asset("print.css").strip() in key for key in keys)
