"""A report page set in Typst: every block read, text checked against the font, the
look of the print stylesheet (brief alone on page 1, running header from page 2,
bookmarks from the headings, contents entries as links)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pandas as pd
import pytest

from branchbook.errors import RenderError
from branchbook.output import html as page_html
from branchbook.output import typeset

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)


def _page_html(build_page, notebook_from_page, locale="zh-CN", **kw) -> str:
    html, _ = page_html.notebook_to_html(notebook_from_page(build_page(locale, **kw)))
    return html


def _pages_text(pdf: bytes) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return out.split("\f")


def test_text_is_written_as_string_literals_never_as_markup():
    # "1. " at the start of markup is a numbered list, "= " a heading, "#" code
    writer = typeset._Writer(set(), [])
    assert writer.lit("1. = #x [y] *z* $w$ \\") == '#"1. = #x [y] *z* $w$ \\\\"'
    assert writer.lit('say "hi"') == '#"say \\"hi\\""'
    assert writer.lit("  \n ") == " " and writer.lit(None) == ""


def test_an_element_it_does_not_know_is_refused_not_dropped(build_page, notebook_from_page):
    html = _page_html(build_page, notebook_from_page)
    for strange in (
        '<div class="bb-gauge">90</div>',
        "<video></video>",
        "<p>a <table></table></p>",
    ):
        with pytest.raises(typeset.Unsupported):
            typeset.page_source(html.replace("</main>", f"{strange}</main>"))
    with pytest.raises(typeset.Unsupported, match="not a report page"):
        typeset.page_source("<html><body><p>a pack cover</p></body></html>")


def test_the_source_holds_every_heading_table_and_chart(build_page, notebook_from_page):
    html = _page_html(build_page, notebook_from_page, charts_n=2)
    source = typeset.page_source(html)
    assert source.markup.count("#heading(level: 1)") == 1
    assert source.markup.count("#heading(level: 2)") == html.count('class="bb-section"')
    assert source.markup.count("table(columns:") == html.count("<table")
    assert len(source.images) == 2 and all(d[:4] == b"\x89PNG" for d in source.images.values())
    # contents entries link to the headings' labels
    targets = re.findall(r'<li><a href="#([^"]+)">', html)
    assert targets and all(f"#link(<{t}>)" in source.markup for t in targets)
    assert all(f"<{t}>" in source.markup.replace(f"#link(<{t}>)", "") for t in targets)


def test_missing_glyphs_names_what_the_font_lacks():
    assert typeset.missing_glyphs("客户 Customers 0-9 · ≤ ● ‰") == []
    assert typeset.missing_glyphs("ok \U000f0000 \U000f0000 \U0001f600") == sorted(
        ["\U0001f600", "\U000f0000"]
    )


@needs_poppler
def test_the_brief_is_page_one_and_the_running_header_starts_on_page_two(
    build_page, notebook_from_page
):
    p = build_page("en", rows=60)
    p.brief()
    html, _ = page_html.notebook_to_html(notebook_from_page(p))
    assert 'class="bb-brief"' in html
    pdf = typeset.pdf(html)
    pages = _pages_text(pdf)
    assert len([t for t in pages if t.strip()]) >= 2
    running = re.search(r'<div class="bb-run-left">([^<]+)</div>', html).group(1)
    assert running not in pages[0]  # no running header on page 1
    assert running in pages[1]
    # the brief alone on page 1: the first section after it starts page 2
    assert "Summary" not in pages[0] and "Summary" in pages[1]


def test_headings_become_the_pdfs_bookmarks(build_page, notebook_from_page):
    from pypdf import PdfReader

    html = _page_html(build_page, notebook_from_page, "en")
    reader = PdfReader(io.BytesIO(typeset.pdf(html)))

    def titles(items):
        for item in items:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title

    found = list(titles(reader.outline))
    assert found and "Summary" in found


def test_a_long_table_repeats_its_header_and_keeps_every_row(build_page, notebook_from_page):
    p = build_page("en")
    frame = pd.DataFrame({"tier": [f"Customer {i:03d}" for i in range(150)], "aum": range(150)})
    p.table(frame, {"tier": "text", "aum": "money"}, max_rows=150)
    html, _ = page_html.notebook_to_html(notebook_from_page(p))
    text = "\f".join(_pages_text(typeset.pdf(html)))
    missing = [i for i in range(150) if f"Customer {i:03d}" not in text]
    assert not missing, (missing[:5], html.count("<tr"), text[-800:])
    pages = [page for page in text.split("\f") if "Customer" in page]
    assert len(pages) >= 3 and all("AUM" in page for page in pages)


def test_a_report_page_set_by_typst_is_a4_with_the_font_embedded(build_page, notebook_from_page):
    html = _page_html(build_page, notebook_from_page)
    pdf = typeset.pdf(html)
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (595.28, 841.89)
    fonts = {
        str(f.get_object()["/BaseFont"])
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
    }
    assert fonts and all("NotoSansCJKsc" in f for f in fonts), fonts


def test_a_character_the_font_lacks_stops_the_pdf(build_page, notebook_from_page):
    html = _page_html(build_page, notebook_from_page)
    with pytest.raises(RenderError, match="no glyph for U\\+1F600"):
        typeset.pdf(html.replace("</main>", "<p>\U0001f600</p></main>"))


def test_the_render_server_loads_the_fonts_ahead():
    from branchbook.runner import forkserver

    typeset._fonts.cache_clear()
    typeset._cmap.cache_clear()
    forkserver.warm(["branchbook.output.pdf", "branchbook.output.typeset", "weasyprint"])
    assert typeset._fonts.cache_info().currsize == 1
    assert typeset._cmap.cache_info().currsize == 1
