"""The period index and the list of periods."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from branchbook import REPORTS, iorw
from branchbook.output import publish

BRANCHES = [
    {
        "branch_id": "0101",
        "name": "Riverside",
        "name_zh": "滨江支行",
        "region": "East",
        "city": "Hangzhou",
    },
    {
        "branch_id": "0102",
        "name": "Harbour",
        "name_zh": "<script>alert('x')</script>港湾支行",
        "region": "South",
        "city": "Xiamen",
    },
    {
        "branch_id": "0103",
        "name": "Hill",
        "name_zh": "山城支行",
        "region": "West",
        "city": "Chongqing",
    },
]


def _ok(branch: str, report: str, headline: dict | None = None) -> dict:
    return {
        "branch_id": branch,
        "report": report,
        "status": "ok",
        "duration_s": 3.1,
        "parameters": {"branch_id": branch},
        "input_fingerprint": "f" * 16,
        "outputs": {
            "html": {"path": f"{branch}/{report}.html", "sha256": "0" * 64},
            "pdf": {"path": f"{branch}/{report}.pdf", "sha256": "1" * 64},
        },
        "error": None,
        "headline": headline or {},
    }


def _headline(customers: float, status: str = "green") -> dict:
    return {
        "customers": {
            "label": "客户数",
            "value": customers,
            "text": f"{customers:,.0f}",
            "status": status,
        },
        "npl": {"label": "不良率", "value": 0.02, "text": "2.0%", "status": "amber"},
    }


@pytest.fixture
def period_dir(tmp_path):
    d = tmp_path / "reports" / "2026-10"
    reports = {}
    for branch, customers in (("0101", 1234), ("0102", 98765)):
        for report in REPORTS:
            reports[f"{branch}/{report}"] = _ok(
                branch, report, _headline(customers) if report == "segmentation" else None
            )
            (d / branch).mkdir(parents=True, exist_ok=True)
            (d / branch / f"{report}.html").write_text("<html></html>")
            (d / branch / f"{report}.pdf").write_bytes(b"%PDF")
    reports["0102/risk"] = {
        **_ok("0102", "risk"),
        "status": "failed",
        "outputs": {},
        "error": "cell 7: KeyError: 'npl' <b>not bold</b>",
    }
    (d / "0102" / "risk.html").unlink()
    (d / "0102" / "risk.pdf").unlink()
    reports["0101/staff_kpi"] = {**_ok("0101", "staff_kpi"), "status": "skipped", "outputs": {}}
    manifest = {
        "period": "2026-10",
        "run_id": "r1",
        "generated": "2026-11-01T06:00:00+08:00",
        "reports": reports,
    }
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    return d, manifest


def _soup(path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_one_row_per_branch_with_links_to_existing_files(period_dir):
    d, manifest = period_dir
    out = publish.write_period_index(
        d, manifest, locale="zh-CN", bank_name="示例银行", branches=BRANCHES
    )
    assert out == d / "index.html"
    soup = _soup(out)
    assert soup.html["lang"] == "zh-CN"
    assert soup.h1.get_text() == "网点报告 · 2026年10月"
    rows = soup.select("#bb-index tbody tr")
    assert [r.td.get_text() for r in rows] == ["0101", "0102", "0103"]
    assert rows[0].select_one(".bb-name").get_text() == "滨江支行"
    links = [a["href"] for a in soup.select("#bb-index a")]
    assert "0101/segmentation.html" in links and "0101/segmentation.pdf" in links
    for href in links:
        assert not href.startswith(("/", "http")) and (d / href).is_file(), href
    assert len(links) == 2 * (2 * len(REPORTS) - 2)  # two reports not published
    # the branch with no manifest entries is there, every report "not run"
    assert [c.get_text(strip=True) for c in rows[2].select(".bb-badge")] == ["未运行"] * len(
        REPORTS
    )


def test_a_file_the_manifest_does_not_list_is_never_linked(period_dir):
    # an HTML-only run after an HTML+PDF one: the old PDF must not be linked beside it
    d, manifest = period_dir
    del manifest["reports"]["0101/risk"]["outputs"]["pdf"]
    soup = _soup(
        publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=BRANCHES)
    )
    links = [a["href"] for a in soup.select("#bb-index a")]
    assert "0101/risk.html" in links and "0101/risk.pdf" not in links
    assert (d / "0101" / "risk.pdf").is_file()


def test_statuses_and_error_line(period_dir):
    d, manifest = period_dir
    soup = _soup(
        publish.write_period_index(
            d, manifest, locale="zh-CN", bank_name="示例银行", branches=BRANCHES
        )
    )
    failed = soup.select_one('tr[data-search^="0102"] td[data-report="risk"]')
    assert "bb-st-failed" in failed["class"]
    assert failed.select_one(".bb-badge").get_text() == "失败"
    assert failed.select_one(".bb-error").get_text() == "cell 7: KeyError: 'npl' <b>not bold</b>"
    assert failed.find("b") is None and failed.find("a") is None
    skipped = soup.select_one('tr[data-search^="0101"] td[data-report="staff_kpi"]')
    assert skipped.select_one(".bb-badge").get_text() == "未运行"
    summary = soup.select_one(".bb-index-summary").get_text()
    assert "共 12 份报告，已发布 6 份，失败 1 份。" in summary


def test_branch_name_with_script_is_text(period_dir):
    d, manifest = period_dir
    out = publish.write_period_index(
        d, manifest, locale="zh-CN", bank_name="<b>Bank</b>", branches=BRANCHES
    )
    html = out.read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;港湾支行" in html
    soup = _soup(out)
    assert len(soup.find_all("script")) == 1  # our own, static
    assert soup.find("b") is None
    assert (
        soup.select("#bb-index tbody tr")[1]
        .select_one(".bb-name")
        .get_text()
        .startswith("<script>")
    )


def test_headline_numbers_sort_numerically(period_dir):
    d, manifest = period_dir
    soup = _soup(
        publish.write_period_index(
            d, manifest, locale="en", bank_name="Example Bank", branches=BRANCHES
        )
    )
    heads = [
        th.get_text(" ", strip=True) for th in soup.select("#bb-index thead th.bb-headline-col")
    ]
    # labels in the index's locale where the catalogue knows the KPI (the report
    # itself was published in zh-CN); the stored label otherwise
    assert heads == ["Customers Customer segmentation", "不良率 Customer segmentation"]
    row = soup.select("#bb-index tbody tr")[1]
    cell = row.select("td.bb-headline")[0]
    assert cell.get_text(strip=True).startswith("98,765")
    assert float(cell["data-sort"]) == 98765.0 and "bb-kpi-green" in cell["class"]
    assert soup.select("#bb-index tbody tr")[2].select("td.bb-headline")[0]["data-sort"] == ""
    assert all(th["data-type"] == "num" for th in soup.select("#bb-index thead th.bb-headline-col"))


def test_filters_and_sorting_are_inline_and_offline(period_dir):
    d, manifest = period_dir
    out = publish.write_period_index(
        d, manifest, locale="en", bank_name="Example Bank", branches=BRANCHES
    )
    soup = _soup(out)
    assert (
        soup.select_one("input#bb-q[type=search]")["placeholder"] == "Search branch, city or region"
    )
    assert [o["value"] for o in soup.select("#bb-region option")] == ["", "East", "South", "West"]
    assert [o["value"] for o in soup.select("#bb-status option")] == [
        "", "ok", "failed", "skipped", "not_produced",
    ]  # fmt: skip
    assert soup.select_one("#bb-controls").has_attr("hidden")  # shown by the script only
    assert all(th.button for th in soup.select("#bb-index thead th"))
    script = soup.find("script")
    assert not script.has_attr("src") and "localeCompare" in script.string
    assert not re.search(r"https?://", out.read_text(encoding="utf-8"))
    assert soup.find("link") is None
    rows = soup.select("#bb-index tbody tr")
    assert rows[0]["data-region"] == "East" and "hangzhou" in rows[0]["data-search"]
    assert rows[1]["data-status"] == "failed ok"


def test_root_index_lists_periods_newest_first(tmp_path, period_dir):
    d, manifest = period_dir
    publish.write_period_index(
        d, manifest, locale="en", bank_name="Example Bank", branches=BRANCHES
    )
    reports_dir = d.parent
    for period in ("2026-08", "2026-09"):
        (reports_dir / period).mkdir()
        (reports_dir / period / "manifest.json").write_text(
            json.dumps(
                {
                    "period": period,
                    "generated": "2026-10-01T06:00:00",
                    "reports": {"0101/risk": _ok("0101", "risk")},
                }
            )
        )
    (reports_dir / "scratch").mkdir()  # no manifest: not a period
    (reports_dir / "2026-07").mkdir()
    (reports_dir / "2026-07" / "manifest.json").write_text("{not json")
    out = publish.write_root_index(reports_dir, locale="en", bank_name="Example Bank")
    assert out == reports_dir / "index.html"
    soup = _soup(out)
    rows = soup.select("#bb-periods tbody tr")
    assert [r["data-period"] for r in rows] == ["2026-10", "2026-09", "2026-08"]
    first = [td.get_text(strip=True) for td in rows[0].find_all("td")]
    assert first[:4] == ["Oct 2026", "2", "6", "1"]
    assert rows[0].a["href"] == "2026-10/index.html"
    assert rows[1].a is None  # no index page written for it
    assert soup.h1.get_text() == "Branch reports by period"


def test_root_index_without_periods(tmp_path):
    out = publish.write_root_index(tmp_path, locale="zh-CN", bank_name="示例银行")
    assert "暂无报告" in _soup(out).select_one(".bb-none").get_text()


def test_index_is_written_atomically(period_dir, monkeypatch):
    d, manifest = period_dir
    (d / "index.html").write_text("old index")

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(iorw.os, "replace", disk_full)
    with pytest.raises(OSError, match="No space"):
        publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=BRANCHES)
    assert (d / "index.html").read_text() == "old index"
    assert not [p for p in d.iterdir() if p.name.endswith(".tmp")]


def test_every_report_has_a_headline_column_by_default():
    entries = {
        f"0101/{report}": {
            "report": report,
            "status": "ok",
            "headline": {
                f"{report}_a": {"label": "A", "value": 1.0},
                f"{report}_b": {"label": "B", "value": 2.0},
            },
        }
        for report in reversed(REPORTS)
    }
    columns = publish._headline_columns(entries, publish.HEADLINES)
    assert [(report, kpi) for report, kpi, _ in columns] == [(r, f"{r}_a") for r in REPORTS]
    # a report that failed everywhere gives its column to the next KPI of the others
    entries["0101/staff_kpi"]["status"] = "failed"
    columns = publish._headline_columns(entries, publish.HEADLINES)
    assert [kpi for _, kpi, _ in columns][-1] == f"{REPORTS[0]}_b"


def test_red_and_amber_cards_counted_per_branch_and_the_workbook_linked(period_dir):
    d, manifest = period_dir
    manifest["reports"]["0101/segmentation"]["signals"] = {"red": 1, "amber": 2}
    manifest["reports"]["0101/risk"]["signals"] = {"red": 2, "amber": 0}
    manifest["reports"]["0101/segmentation"]["outputs"]["xlsx"] = {
        "path": "0101/segmentation.xlsx",
        "sha256": "2" * 64,
    }
    (d / "0101" / "segmentation.xlsx").write_bytes(b"PK")
    for locale, text in (("en", "3 red · 2 amber"), ("zh-CN", "红 3 · 黄 2")):
        soup = _soup(
            publish.write_period_index(
                d, manifest, locale=locale, bank_name="Demo", branches=BRANCHES
            )
        )
        rows = soup.select("#bb-index tbody tr")
        assert rows[0].select_one(".bb-signals").get_text() == text
        assert rows[0].select_one(".bb-signals")["data-sort"] == "3002"
        # a branch whose reports recorded no signals says nothing, not zero
        assert rows[2].select_one(".bb-signals").get_text() == "–"
        links = [a["href"] for a in soup.select("#bb-index a")]
        assert "0101/segmentation.xlsx" in links and "0102/segmentation.xlsx" not in links


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        ("zh-CN", ["6.79亿元", "5.08亿元", "0.03亿元"]),
        ("en", ["CNY 679.00m", "CNY 508.37m", "CNY 3.00m"]),
    ],
)
def test_a_money_headline_column_is_in_one_unit_and_the_index_locale(period_dir, locale, texts):
    d, manifest = period_dir
    for bid, value, stored in (("0101", 6.79e8, "6.79亿元"), ("0102", 5.0837e8, "CNY 508.37m")):
        manifest["reports"][f"{bid}/segmentation"]["headline"] = {
            "aum_total": {"label": "AUM", "value": value, "text": stored, "status": "none"}
        }
    # a third branch's small book sets the unit with the others: the median decides
    manifest["reports"]["0103/segmentation"] = {
        **_ok("0103", "segmentation"),
        "headline": {"aum_total": {"label": "AUM", "value": 3e6, "text": "", "status": "none"}},
    }
    soup = _soup(
        publish.write_period_index(d, manifest, locale=locale, bank_name="B", branches=BRANCHES)
    )
    cells = [r.select(".bb-headline")[0].get_text() for r in soup.select("#bb-index tbody tr")]
    assert cells == texts


def _in_locale(branch: str, report: str, locale: str) -> dict:
    stem = f"{report}.{locale}"
    entry = _ok(branch, report)
    entry.update(locale=locale, stem=stem, parameters={"branch_id": branch, "locale": locale})
    entry["outputs"] = {
        fmt: {"path": f"{branch}/{stem}.{fmt}", "locale": locale, "sha256": "0" * 64}
        for fmt in ("html", "pdf")
    }
    return entry


@pytest.mark.parametrize(
    ("locale", "names"), [("zh-CN", ["中文", "英文"]), ("en", ["Chinese", "English"])]
)
def test_a_report_in_two_locales_links_both_named_in_the_indexs_language(period_dir, locale, names):
    d, manifest = period_dir
    manifest["reports"]["0101/risk"]["parameters"]["locale"] = "zh-CN"  # an older entry
    manifest["reports"]["0101/risk.en"] = _in_locale("0101", "risk", "en")
    for fmt in ("html", "pdf"):
        (d / "0101" / f"risk.en.{fmt}").write_text("en")
    soup = _soup(
        publish.write_period_index(d, manifest, locale=locale, bank_name="B", branches=BRANCHES)
    )
    cell = soup.select("#bb-index tbody tr")[0].select('td[data-report="risk"]')[0]
    lines = cell.select(".bb-links")
    assert [line.select_one(".bb-locale").get_text() for line in lines] == names
    assert [a["href"] for a in lines[0].select("a")] == ["0101/risk.html", "0101/risk.pdf"]
    assert [a["href"] for a in lines[1].select("a")] == ["0101/risk.en.html", "0101/risk.en.pdf"]
    assert {a["hreflang"] for a in lines[1].select("a")} == {"en"}
    # a report counts once in the summary, whatever its locales
    ok = 2 * len(REPORTS) - 2
    assert str(ok) in soup.select_one(".bb-index-summary").get_text()
    assert str(ok + 1) not in soup.select_one(".bb-index-summary").get_text()
    other = soup.select("#bb-index tbody tr")[0].select('td[data-report="segmentation"]')[0]
    assert other.select_one(".bb-locale") is None  # one locale, the branch's own: no name


def test_a_failed_locale_fails_the_cell_and_says_which(period_dir):
    d, manifest = period_dir
    manifest["reports"]["0101/risk.en"] = {
        **_in_locale("0101", "risk", "en"),
        "status": "failed",
        "outputs": {},
        "error": "cell 3: KeyError",
    }
    soup = _soup(
        publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=BRANCHES)
    )
    cell = soup.select("#bb-index tbody tr")[0].select('td[data-report="risk"]')[0]
    assert "bb-st-failed" in cell["class"]
    assert cell.select_one(".bb-error").get_text() == "English: cell 3: KeyError"
    assert [a["href"] for a in cell.select("a")] == ["0101/risk.html", "0101/risk.pdf"]


def test_the_periods_count_a_report_once_whatever_its_locales(period_dir):
    d, manifest = period_dir
    manifest["reports"]["0101/risk.en"] = _in_locale("0101", "risk", "en")
    (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
    row = publish._period_row(d / "manifest.json", "en")
    assert (row["ok"], row["failed"]) == (2 * len(REPORTS) - 2, 1)


def test_the_branch_pack_is_linked_when_published(period_dir):
    d, manifest = period_dir
    (d / "0101" / "pack.pdf").write_bytes(b"%PDF")
    manifest["packs"] = {
        "0101": {"status": "ok", "outputs": {"pdf": {"path": "0101/pack.pdf", "sha256": "2"}}},
        "0102": {"status": "missing", "missing": ["risk"]},
    }
    soup = _soup(
        publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=BRANCHES)
    )
    rows = soup.select("#bb-index tbody tr")
    link = rows[0].select_one("a.bb-pack-link")
    assert link["href"] == "0101/pack.pdf" and link.get_text() == "Branch pack (PDF)"
    assert rows[1].select_one("a.bb-pack-link") is None  # a report failed: no pack
    (d / "0101" / "pack.pdf").unlink()  # a pack the manifest lists but is gone: no link
    soup = _soup(
        publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=BRANCHES)
    )
    assert soup.select("a.bb-pack-link") == []


def test_a_report_not_produced_says_why_in_the_index_language(period_dir):
    d, manifest = period_dir
    manifest["reports"]["0102/satisfaction"] = {
        "branch_id": "0102",
        "report": "satisfaction",
        "status": "not_produced",
        "reason": "the warehouse has no surveys",
        "missing": ["surveys"],
    }
    for locale, badge, reason in (
        ("en", "Not produced", "Not produced: no survey data (surveys)"),
        ("zh-CN", "未生成", "未生成：无满意度调查数据（surveys）"),
    ):
        soup = _soup(
            publish.write_period_index(d, manifest, locale=locale, bank_name="B", branches=BRANCHES)
        )
        cell = soup.select_one('tr[data-search^="0102"] td[data-report="satisfaction"]')
        assert "bb-st-not_produced" in cell["class"]
        assert cell.select_one(".bb-badge").get_text() == badge
        assert cell.select_one(".bb-reason").get_text() == reason
        assert cell.find("a") is None and cell.select_one(".bb-error") is None


def test_the_index_reads_down_the_tree_with_links_up_and_down(tmp_path):
    """The bank first, then each region followed by its branches, a sub-branch after its
    parent; each row links one level up and down; a report made per branch only is not
    counted at the region and bank levels."""
    d = tmp_path / "2026-10"
    reports = {}
    for folder in ("bank", "region-East", "0101", "010101", "0201"):
        for report in ("segmentation", "risk") if not folder[0].isdigit() else REPORTS:
            reports[f"{folder}/{report}"] = _ok(folder, report)
            (d / folder).mkdir(parents=True, exist_ok=True)
            for ext in ("html", "pdf"):
                (d / folder / f"{report}.{ext}").write_text("x")
    info = [
        {"branch_id": "0201", "name": "Hill", "region": "West"},
        {"branch_id": "010101", "name": "Dock", "region": "East", "parent_id": "0101"},
        {"branch_id": "0101", "name": "Riverside", "region": "East"},
        {"branch_id": "region-East", "name": "East region (all branches)", "region": "East"},
        {"branch_id": "bank", "name": "Whole bank (all branches)"},
    ]
    manifest = {"period": "2026-10", "reports": reports}
    soup = _soup(publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=info))
    rows = soup.select("#bb-index tbody tr")
    assert [(r["id"], r["data-level"]) for r in rows] == [
        ("u-bank", "bank"),
        ("u-region-East", "region"),
        ("u-0101", "branch"),
        ("u-010101", "branch"),
        ("u-0201", "branch"),
    ]
    down = {r["id"]: [a["href"] for a in r.select(".bb-down a")] for r in rows}
    up = {r["id"]: [a["href"] for a in r.select("a.bb-up")] for r in rows}
    assert down["u-bank"] == ["#u-region-East"]  # West has no region report: no row
    assert down["u-region-East"] == ["#u-0101"] and down["u-0101"] == ["#u-010101"]
    assert up == {
        "u-bank": [],
        "u-region-East": ["#u-bank"],
        "u-0101": ["#u-region-East"],
        "u-010101": ["#u-0101"],
        "u-0201": [],  # its region has no row
    }
    assert "010101" in rows[3]["class"][1] or "bb-depth-3" in rows[3]["class"]
    # satisfaction and staff KPI not made for the bank and the region: shown, not counted
    assert [c.get_text(strip=True) for c in rows[0].select(".bb-badge")][2:] == [
        "Made per branch only"
    ] * 2
    summary = soup.select_one(".bb-index-summary").get_text()
    assert summary.startswith(f"{3 * len(REPORTS) + 4} of {3 * len(REPORTS) + 4} reports")
    assert [o["value"] for o in soup.select("#bb-level option")] == ["", "bank", "region", "branch"]


def test_the_region_and_bank_rows_show_their_headline_numbers(tmp_path):
    """A region's and the bank's published reports carry their pooled headline in the
    manifest; their rows print it, coloured, as a branch's row does."""
    d = tmp_path / "2026-10"
    npl = {"npl_ratio": 0.017, "0101": 0.004, "region-East": 0.021}
    reports = {}
    for folder in ("bank", "region-East", "0101"):
        headline = {"npl_ratio": {"label": "NPL ratio", "value": npl.get(folder, 0.017),
                                  "text": "", "status": "green"}}  # fmt: skip
        reports[f"{folder}/risk"] = _ok(folder, "risk", headline)
        (d / folder).mkdir(parents=True)
        for ext in ("html", "pdf"):
            (d / folder / f"risk.{ext}").write_text("x")
    info = [
        {"branch_id": "0101", "name": "Riverside", "region": "East"},
        {"branch_id": "region-East", "name": "East region (all branches)", "region": "East"},
        {"branch_id": "bank", "name": "Whole bank (all branches)"},
    ]
    manifest = {"period": "2026-10", "reports": reports}
    soup = _soup(publish.write_period_index(d, manifest, locale="en", bank_name="B", branches=info))
    # one headline column: the only report published, risk's
    cells = {r["id"]: r.select_one("td.bb-headline") for r in soup.select("#bb-index tbody tr")}
    assert {k: c.get_text(strip=True) for k, c in cells.items()} == {
        "u-bank": "1.7%Green",
        "u-region-East": "2.1%Green",
        "u-0101": "0.4%Green",
    }
    assert float(cells["u-region-East"]["data-sort"]) == 0.021
    assert "bb-kpi-green" in cells["u-bank"]["class"]


def test_the_levels_are_named_in_chinese_too(period_dir):
    d, manifest = period_dir
    soup = _soup(
        publish.write_period_index(d, manifest, locale="zh-CN", bank_name="B", branches=BRANCHES)
    )
    assert [o.get_text() for o in soup.select("#bb-level option")] == [
        "全部层级",
        "全行",
        "区域",
        "网点",
    ]


def test_the_periods_count_branches_not_the_region_and_bank_folders(tmp_path):
    d = tmp_path / "2026-10"
    d.mkdir()
    scope = {**_ok("bank", "risk"), "parameters": {"branch_id": "", "scope": "bank"}}
    reports = {"0101/risk": _ok("0101", "risk"), "bank/risk": scope}
    (d / "manifest.json").write_text(json.dumps({"period": "2026-10", "reports": reports}))
    soup = _soup(publish.write_root_index(tmp_path, locale="en", bank_name="B"))
    cells = [td.get_text(strip=True) for td in soup.select("#bb-periods tbody tr td")]
    assert cells[1:3] == ["1", "2"]  # one branch, two reports published
