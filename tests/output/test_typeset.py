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


# -- reading the page ---------------------------------------------------------------


def test_the_page_is_read_with_entities_void_elements_and_tails_as_html_reads_them():
    root = typeset.parse(
        '<!DOCTYPE html><html lang="zh-CN"><body><!-- a note -->'
        '<p class="a b">R&amp;D &lt;1&gt; 一<br>二<img src="x.png" alt="图">三</p>后</body></html>'
    )
    assert root.tag == "html" and root.get("lang") == "zh-CN"
    p = root.find("body/p")
    assert typeset._classes(p) == {"a", "b"}
    assert p.text == "R&D <1> 一"
    br, img = typeset._elements(p)
    assert (br.tag, br.tail, img.get("alt"), img.tail) == ("br", "二", "图", "三")
    assert p.tail == "后"
    assert [el.tag for el in root.iter()] == ["html", "body", "p", "br", "img"]  # no comment


def test_an_end_tag_that_closes_nothing_is_refused_not_guessed():
    with pytest.raises(typeset.Unsupported, match="</div> closes no open element"):
        typeset.parse("<html><body><p>a</p></div></body></html>")
    with pytest.raises(typeset.Unsupported, match="after the page's root"):
        typeset.parse("<html></html><p>stray</p>")


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_typst_source_is_the_same_as_from_an_html5_parser(
    build_page, notebook_from_page, monkeypatch, locale
):
    """The page read by the standard library's tokenizer gives the Typst source an HTML5
    tree builder (WeasyPrint's, tinyhtml5) gives: a report page and a pack cover."""
    import tinyhtml5

    from branchbook.output import pack
    from branchbook.reports import REPORTS

    def brief_of(report):
        return {
            "report": report,
            "title": f"{report} 报告",
            "cards": [
                {
                    "key": "k",
                    "label": "不良贷款率 NPL",
                    "text": "1.6%",
                    "status": "red",
                    "status_label": "红灯",
                    "change": "+0.2 pp",
                    "bank": "1.5%",
                    "rank": "9/12",
                }
            ],  # fmt: skip
            "sentences": [f"{report} 第{i}句 & <sentence> {i}." for i in range(5)],
            "actions": {
                "headers": ["客户", "Manager"],
                "rows": [["张**", "李四"]] * 5,
                "total": 9,
                "more": 4,
                "workbook": f"{report}.xlsx",
            },
        }

    page = _page_html(build_page, notebook_from_page, locale, charts_n=2)
    cover = pack.cover_html(
        {r: brief_of(r) for r in REPORTS},
        locale=locale,
        bank_name="Demo Bank",
        branch={"branch_id": "0101", "name": "Pudong", "name_zh": "浦东陆家嘴支行"},
        period="2026-10",
        signals={r: {"red": 1, "amber": 2} for r in REPORTS},
        starts={"segmentation": 3, "risk": 20, "satisfaction": 40, "staff_kpi": 60},
    )
    ours = [typeset.page_source(h) for h in (page, cover)]
    monkeypatch.setattr(
        typeset, "parse", lambda h: tinyhtml5.parse(h, namespace_html_elements=False)
    )
    theirs = [typeset.page_source(h) for h in (page, cover)]
    for a, b in zip(ours, theirs, strict=True):
        assert (a.markup, a.images, a.text) == (b.markup, b.images, b.text)
