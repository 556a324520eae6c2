"""The branch pack: which branches get one, its cover's words, its pages."""

from __future__ import annotations

import hashlib
import io
import subprocess

import pytest
from bs4 import BeautifulSoup

from branchbook import page as page_mod
from branchbook.errors import RenderError
from branchbook.output import pack
from branchbook.output.html import page_html
from branchbook.output.pdf import html_to_pdf
from branchbook.reports import REPORTS

BRANCH = {"branch_id": "0101", "name": "Pudong", "name_zh": "浦东陆家嘴支行", "region": "East"}


def brief_of(report: str, locale: str) -> dict:
    zh = locale == "zh-CN"
    return {
        "report": report,
        "title": f"{report} 报告" if zh else f"{report} report",
        "cards": [
            {
                "key": "k",
                "label": "不良贷款率" if zh else "NPL ratio",
                "text": "1.6%",
                "status": "red",
                "status_label": "红灯" if zh else "Red",
                "change": "+0.2个百分点" if zh else "+0.2 pp",
                "bank": "1.5%",
                "rank": "全行第 9/12 名" if zh else "rank 9 of 12",
            }
        ],
        "sentences": [f"{report} 第{i}句。" if zh else f"{report} sentence {i}." for i in range(5)],
        "actions": None
        if report == "staff_kpi"
        else {
            "headers": ["客户", "客户经理"] if zh else ["Customer", "Manager"],
            "rows": [["张**", "李四"]] * 5,
            "total": 9,
            "more": 4,
            "workbook": f"{report}.xlsx",
        },
    }


def publish(tmp_path, locale="en", skip=(), pdf=False):
    """Four small published reports of branch 0101 and their manifest entries (their
    PDFs printed from their pages with ``pdf``, else stand-ins)."""
    folder = tmp_path / "0101"
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for report in REPORTS:
        p = page_mod.Page(
            report=report, locale=locale, bank_name="Demo Bank", branch=BRANCH,
            period="2026-10", live=False,
        )  # fmt: skip
        p.title()
        p.note("common.no_rows")
        html = page_html(p.blocks, p._meta()).encode()
        (folder / f"{report}.html").write_bytes(html)
        (folder / f"{report}.pdf").write_bytes(html_to_pdf(html.decode()) if pdf else b"%PDF-1.7")
        outputs = {
            kind: {
                "path": f"0101/{report}.{kind}",
                "sha256": hashlib.sha256((folder / f"{report}.{kind}").read_bytes()).hexdigest(),
            }
            for kind in ("html", "pdf")
        }
        entries[f"0101/{report}"] = {
            "branch_id": "0101",
            "report": report,
            "status": "failed" if report in skip else "ok",
            "outputs": outputs,
            "signals": {"red": 1, "amber": 2},
            "brief": brief_of(report, locale),
        }
    return entries


def test_a_branch_gets_a_pack_only_with_all_four_reports_published(tmp_path):
    entries = publish(tmp_path, skip=("risk",))
    assert pack.missing_reports(entries, "0101", tmp_path) == ["risk"]
    entries = publish(tmp_path)
    assert pack.missing_reports(entries, "0101", tmp_path) == []
    # no brief (a report made before briefs), a changed file, a report not in the manifest
    del entries["0101/satisfaction"]["brief"]
    (tmp_path / "0101" / "staff_kpi.html").write_text("changed", encoding="utf-8")
    del entries["0101/segmentation"]
    assert pack.missing_reports(entries, "0101", tmp_path) == [
        "segmentation",
        "satisfaction",
        "staff_kpi",
    ]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_the_cover_names_the_branch_each_report_and_its_first_actions(locale):
    briefs = {r: brief_of(r, locale) for r in REPORTS}
    html = pack.cover_html(
        briefs,
        locale=locale,
        bank_name="Demo Bank",
        branch=BRANCH,
        period="2026-10",
        signals={r: {"red": 1, "amber": 2} for r in REPORTS},
        starts={"segmentation": 3, "risk": 20, "satisfaction": 40, "staff_kpi": 60},
    )
    soup = BeautifulSoup(html, "html.parser")
    text = soup.get_text(" ")
    pages = soup.select("section.bb-cover-page")
    assert len(pages) == 2
    rows = [r.get_text(" ", strip=True) for r in pages[0].select(".bb-pack-contents tbody tr")]
    if locale == "zh-CN":
        assert "浦东陆家嘴支行 (0101)" in text and "2026年10月" in text and "网点报告合订本" in text
        assert rows[1] == "risk 报告 红 1 · 黄 2 20"
        assert "risk 报告清单中另有 6 条（共 9 条" in text
    else:
        assert "Pudong (0101)" in text and "Oct 2026" in text and "Branch pack" in text
        assert rows[1] == "risk report 1 red · 2 amber 20"
        assert "6 more in the risk report list (9 in all" in text
    # every report's cards; three sentences and three actions of each on page 2
    assert len(pages[0].select(".bb-pack-kpis tbody tr:not(.bb-pack-report)")) == 4
    assert len(pages[1].select("li")) == 4 * pack.COVER_SENTENCES
    assert len(pages[1].select(".bb-brief-actions tbody tr")) == 3 * pack.COVER_ACTIONS
    assert "staff_kpi" not in " ".join(h.get_text() for h in pages[1].select("h2 ~ h3")[4:])


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_the_pack_is_the_cover_then_the_four_reports_pdfs(tmp_path):
    from pypdf import PdfReader

    entries = publish(tmp_path, locale="zh-CN", pdf=True)
    data, pages = pack.make_pack(
        tmp_path, "0101", entries, locale="zh-CN", bank_name="演示银行", branch=BRANCH,
        period="2026-10",
    )  # fmt: skip
    assert pages["cover"] == pack.COVER_PAGES
    assert set(pages) == {"cover", *REPORTS}
    target = tmp_path / "pack.pdf"
    target.write_bytes(data)
    info = _run("pdfinfo", str(target))
    total = next(int(ln.split()[-1]) for ln in info.splitlines() if ln.startswith("Pages:"))
    assert total == sum(pages.values())
    # each report's pages are its own PDF's, after the cover and the reports before it
    at = pages["cover"] + 1
    for report in REPORTS:
        own = tmp_path / "0101" / f"{report}.pdf"
        assert pages[report] == len(PdfReader(own).pages)
        assert _run("pdftotext", "-f", str(at), "-l", str(at), str(target), "-") == _run(
            "pdftotext", "-f", "1", "-l", "1", str(own), "-"
        )
        at += pages[report]
    # every font embedded, the Chinese one among them
    fonts = _run("pdffonts", str(target)).splitlines()[2:]
    assert fonts and any("CJK" in f for f in fonts)
    assert all(f.split()[-5] == "yes" for f in fonts), fonts  # the "emb" column
    # a bookmark per part, page labels as the pages print them, the cover's title and language
    reader = PdfReader(target)
    top = [o for o in reader.outline if not isinstance(o, list)]
    assert [o.title for o in top] == ["网点报告合订本"] + [f"{r} 报告" for r in REPORTS]
    assert [reader.get_destination_page_number(o) for o in top][:2] == [0, 2]
    assert reader.page_labels[:3] == ["网点报告合订本 1", "网点报告合订本 2", "segmentation 报告 1"]
    assert reader.metadata.title == "浦东陆家嘴支行 · 2026年10月 · 网点报告合订本"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"


def test_a_report_pdf_not_the_one_published_makes_no_pack(tmp_path):
    entries = publish(tmp_path, pdf=True)
    (tmp_path / "0101" / "risk.pdf").write_bytes(b"%PDF-1.7 changed")
    with pytest.raises(RenderError, match="0101/risk.pdf"):
        pack.make_pack(
            tmp_path, "0101", entries, locale="en", bank_name="Demo Bank", branch=BRANCH,
            period="2026-10",
        )  # fmt: skip


def test_links_within_a_part_stay_in_it_when_the_parts_share_names():
    from pypdf import PdfReader

    html = (
        "<html lang='en'><title>{t}</title><body><a href='#s'>to the summary</a>"
        "<p style='break-before: page' id='s'>Summary of {t}</p></body></html>"
    )
    parts = [(t, html_to_pdf(html.format(t=t))) for t in ("one", "two")]
    reader = PdfReader(io.BytesIO(pack.join(parts)))
    assert [reader.page_labels[i] for i in range(4)] == ["one 1", "one 2", "two 1", "two 2"]
    targets = []
    for at in (0, 2):  # each part's link, on its first page
        link = next(a.get_object() for a in reader.pages[at]["/Annots"])
        assert link["/Dest"][0] == reader.pages[at + 1].indirect_reference
        targets.append(at + 1)
    assert targets == [1, 3]
    assert reader.metadata.title == "one" and reader.trailer["/Root"]["/Lang"] == "en"
