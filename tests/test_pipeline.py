"""End to end: a small demo warehouse -> `branchbook run` -> HTML, PDF, index, manifest.

One run of the real command for three branches and every registered report (module
fixture), then checks of what a reader and a scheduler see: sections and numbers in
the HTML, Chinese text and an embedded CJK font in the PDF, the index, the manifest,
a rerun that changes nothing, and bad input refused with nothing published.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from bs4 import BeautifulSoup

from branchbook import demo, i18n
from branchbook.paths import file_sha256
from branchbook.reports import registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BRANCHES = ["0101", "0102", "0103"]
ZH_BRANCH = "0101"
PERIOD = "2026-10"


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A bank folder with params, a 3-branch warehouse, and one complete run."""
    base = tmp_path_factory.mktemp("bank")
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "bank.yaml", params / "bank.yaml")
    (params / "branches" / f"{ZH_BRANCH}.yaml").write_text("locale: zh-CN\n", encoding="utf-8")
    wh = base / "warehouse.duckdb"
    demo.build(wh, branches=3, customers=2_000, months=13, end_month=PERIOD, seed=7)
    args = ["--warehouse", str(wh), "--params", str(params), "--build", str(base / "build")]
    # the branches' reports (the run's default adds the regions' and the bank's: those
    # are the head-office tests' and the browser test's)
    run = cli(
        "run", *args, "--out", str(base / "reports"), "--no-progress", "--scopes", "branch", cwd=base
    )  # fmt: skip
    return {
        "base": base,
        "wh": wh,
        "params": params,
        "args": args,
        "run": run,
        "out": base / "reports",
        "period_dir": base / "reports" / PERIOD,
    }


def test_run_publishes_every_report(site):
    run = site["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    for bid in BRANCHES:
        for name in registry():
            for ext in ("html", "pdf"):
                path = site["period_dir"] / bid / f"{name}.{ext}"
                assert path.is_file() and path.stat().st_size > 10_000, path
    assert (site["period_dir"] / "index.html").is_file()
    assert (site["out"] / "index.html").is_file()


def test_manifest_records_status_and_checksums(site):
    manifest = json.loads((site["period_dir"] / "manifest.json").read_text())
    assert manifest["period"] == PERIOD
    entries = manifest["reports"]
    assert set(entries) == {f"{b}/{r}" for b in BRANCHES for r in registry()}
    for entry in entries.values():
        assert entry["status"] == "ok", entry
        assert entry["error"] is None and entry["duration_s"] > 0
        assert entry["input_fingerprint"]
        assert entry["parameters"]["branch_id"] == entry["branch_id"]
        for item in entry["outputs"].values():
            assert file_sha256(site["period_dir"] / item["path"]) == item["sha256"]


def soup(site, bid, report="segmentation") -> BeautifulSoup:
    return BeautifulSoup((site["period_dir"] / bid / f"{report}.html").read_text(), "html.parser")


def test_html_has_the_sections_and_no_code(site):
    page = soup(site, "0102")
    ids = {h["id"] for h in page.select("h2.bb-section")}
    for key in (
        "type_split",
        "asset_tiers",
        "activity_tiers",
        "credit_grades",
        "composite",
        "lifecycle",
        "rfm",
        "clusters",
        "concentration",
        "migration",
        "benchmark",
        "actions",
        "definitions",
    ):
        assert f"sec-{key}" in ids, key
    assert page.select(".bb-summary li"), "summary sentences"
    assert 3 <= len(page.select(".bb-summary li")) <= 6
    assert len(page.select(".bb-kpi")) >= 4
    assert page.select(".bb-provenance")
    text = page.get_text()
    assert "Traceback" not in text and "open_report(" not in text
    # no code of the notebook's: the only scripts are the template's links between levels
    assert [s.get("src") for s in page.find_all("script")] == ["levels.js", None]
    assert "bbLevels" in page.find_all("script")[1].string
    assert not page.select("pre, .jp-InputArea, .input_area")
    # every TOC link resolves
    for a in page.select("nav a[href^='#']"):
        assert page.find(id=a["href"][1:]), a["href"]
    # self-contained: no external URL
    assert not re.search(r"(src|href)=\"https?://", str(page))


def open_customers(wh: Path, bid: str) -> int:
    con = duckdb.connect(str(wh), read_only=True)
    (n,) = con.execute(
        "SELECT count(*) FROM customers WHERE branch_id = ? AND opened_on <= DATE '2026-10-31' "
        "AND (closed_on IS NULL OR closed_on > DATE '2026-10-31')",
        [bid],
    ).fetchone()
    return n


def test_kpi_numbers_match_the_warehouse(site):
    manifest = json.loads((site["period_dir"] / "manifest.json").read_text())
    for bid in BRANCHES:
        expected = open_customers(site["wh"], bid)
        headline = manifest["reports"][f"{bid}/segmentation"]["headline"]
        assert headline["customers"]["value"] == expected
        locale = "zh-CN" if bid == ZH_BRANCH else "en"
        label = i18n.t("segmentation.kpis.customers", locale)
        cards = {
            c.select_one(".bb-kpi-label").get_text(): c.select_one(".bb-kpi-value").get_text()
            for c in soup(site, bid).select(".bb-kpi")
        }
        assert cards[label] == f"{expected:,}"


def test_zh_report_is_chinese_with_embedded_cjk_font(site):
    pdf = site["period_dir"] / ZH_BRANCH / "segmentation.pdf"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    con = duckdb.connect(str(site["wh"]), read_only=True)
    (name_zh,) = con.execute(
        "SELECT name_zh FROM branches WHERE branch_id = ?", [ZH_BRANCH]
    ).fetchone()
    assert name_zh in text
    assert i18n.t("segmentation.title", "zh-CN") in text
    assert "万元" in text or "亿元" in text
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert "notosanscjksc" in re.sub(r"[ -]", "", fonts.lower())
    html = soup(site, ZH_BRANCH)
    assert html.html["lang"] == "zh-CN"
    assert i18n.t("segmentation.sections.asset_tiers.title", "zh-CN") in html.get_text()


def test_en_report_is_english(site):
    page = soup(site, "0102")
    assert page.html["lang"] == "en"
    assert i18n.t("segmentation.sections.asset_tiers.title", "en") in page.get_text()
    assert not re.search(r"[\u4e00-\u9fff]{4,}", page.select_one(".bb-summary").get_text())


def test_no_full_id_phone_or_name_is_published(site):
    con = duckdb.connect(str(site["wh"]), read_only=True)
    names = {r[0] for r in con.execute("SELECT name FROM customers").fetchall() if len(r[0]) >= 3}
    id_rx = re.compile(r"(?<![0-9A-Z])[0-9]{17}[0-9X](?![0-9A-Z])")
    phone_rx = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
    for path in site["period_dir"].rglob("*.*"):
        if path.suffix == ".pdf":
            text = subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, text=True
            ).stdout
        elif path.suffix == ".html":
            text = BeautifulSoup(path.read_text(), "html.parser").get_text(" ")
        else:
            continue
        assert not id_rx.search(text), path
        assert not phone_rx.search(text), path
        leaked = [n for n in names if n in text]
        assert not leaked, (path, leaked[:3])


def test_index_lists_every_branch_with_links(site):
    page = BeautifulSoup((site["period_dir"] / "index.html").read_text(), "html.parser")
    text = page.get_text()
    for bid in BRANCHES:
        assert bid in text
        for name in registry():
            assert page.find("a", href=f"{bid}/{name}.html")
            assert page.find("a", href=f"{bid}/{name}.pdf")
    root = BeautifulSoup((site["out"] / "index.html").read_text(), "html.parser")
    assert root.find("a", href=re.compile(rf"^{PERIOD}/index\.html$"))


def test_rerun_changes_nothing(site):
    files = {p: (p.stat().st_mtime_ns, file_sha256(p)) for p in site["period_dir"].rglob("*.pdf")}
    files.update(
        {p: (p.stat().st_mtime_ns, file_sha256(p)) for p in site["period_dir"].rglob("*/*.html")}
    )
    again = cli(
        "run", *site["args"], "--out", str(site["out"]), "--no-progress", "--scopes", "branch",
        cwd=site["base"],
    )  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    # the full check finds nothing to do, or the run's stamp says so at once
    assert "0 to do" in again.stderr or "nothing to do" in again.stderr
    for p, before in files.items():
        assert (p.stat().st_mtime_ns, file_sha256(p)) == before, p


def test_bad_parameter_is_refused_and_nothing_runs(site, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(site["params"], params)
    (params / "branches" / "0102.yaml").write_text("segmentation:\n  weights: {aum: 0.9}\n")
    out = tmp_path / "reports"
    res = cli(
        "run",
        "--warehouse",
        str(site["wh"]),
        "--params",
        str(params),
        "--build",
        str(tmp_path / "build"),
        "--out",
        str(out),
        cwd=site["base"],
    )
    assert res.returncode == 2
    assert "0102.yaml" in res.stderr and "segmentation.weights" in res.stderr
    assert not out.exists()


def test_unknown_branch_and_period_are_refused(site, tmp_path):
    out = tmp_path / "reports"
    res = cli("run", *site["args"], "--branches", "0999", "--out", str(out), cwd=site["base"])
    assert res.returncode == 2 and "0999" in res.stderr
    res = cli("run", *site["args"], "--period", "2030-01", "--out", str(out), cwd=site["base"])
    assert res.returncode == 2 and "2030-01" in res.stderr
    assert not out.exists()


def test_contract_violation_is_refused_before_anything_runs(site, tmp_path):
    wh = tmp_path / "bad.duckdb"
    shutil.copy(site["wh"], wh)
    con = duckdb.connect(str(wh))
    (cid,) = con.execute(
        "SELECT min(customer_id) FROM customers WHERE branch_id = '0102'"
    ).fetchone()
    con.execute("UPDATE customers SET kyc_status = 'unknown' WHERE customer_id = ?", [cid])
    con.close()
    out = tmp_path / "reports"
    res = cli(
        "run",
        "--warehouse",
        str(wh),
        "--params",
        str(site["params"]),
        "--build",
        str(tmp_path / "build"),
        "--out",
        str(out),
        cwd=site["base"],
    )
    assert res.returncode == 2
    assert "customers.kyc_status" in res.stderr and cid in res.stderr
    assert not out.exists()


def section_keys(report: str) -> list[str]:
    """The sections a report's notebook opens with ``page.section("<key>")``."""
    source = (ROOT / "notebooks" / f"{report}.py").read_text()
    return re.findall(r'page\.section\(\s*"([a-z0-9_]+)"', source)


@pytest.mark.parametrize("report", list(registry()))
def test_every_report_has_its_sections_summary_and_cards(site, report):
    keys = section_keys(report)
    assert keys, report
    for bid in BRANCHES:
        page = soup(site, bid, report)
        # a section of model details is in the methods appendix, under its own heading
        ids = {h.get("id") for h in page.select("h2.bb-section, section.bb-methods h3")}
        missing = [k for k in keys if f"sec-{k}" not in ids]
        assert not missing, (bid, report, missing)
        assert 1 <= len(page.select(".bb-summary li")) <= 6
        assert len(page.select(".bb-kpi")) >= 3
        assert page.select(".bb-definitions dd") and page.select(".bb-provenance")
        assert "Traceback" not in page.get_text()
        # the brief's first actions are rows with something in them, under a header
        for row in page.select(".bb-brief-actions tr"):
            assert row.get_text(strip=True), (bid, report, "an empty row in the brief")


@pytest.mark.parametrize("report", list(registry()))
def test_every_zh_pdf_is_chinese_with_the_pinned_font(site, report):
    pdf = site["period_dir"] / ZH_BRANCH / f"{report}.pdf"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert i18n.t(f"{report}.title", "zh-CN") in text
    assert "内部资料" in text and re.search(r"第\s*1\s*页", text)
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert "notosanscjksc" in re.sub(r"[ -]", "", fonts.lower())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "595.276 x 841.89" in info  # A4


def test_every_report_pdf_is_set_by_typst_none_fell_back(site):
    """A report block Typst does not know sends its page to WeasyPrint (with a warning):
    no demo page at any scope needs that."""
    made = {}
    for pdf in sorted(site["period_dir"].glob("*/*.pdf")):
        if pdf.name == "pack.pdf":
            continue
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        made[f"{pdf.parent.name}/{pdf.name}"] = re.search(r"Creator:\s*(\S+)", info).group(1)
    assert made and set(made.values()) == {"Typst"}, made


def test_action_lists_are_published_whole_as_a_workbook_linked_from_report_and_index(site):
    import openpyxl

    con = duckdb.connect(str(site["wh"]), read_only=True)
    full_names = {r[0] for r in con.execute("select name from customers").fetchall()}
    staff_ids = {r[0] for r in con.execute("select staff_id from staff").fetchall()}
    con.close()
    index = BeautifulSoup((site["period_dir"] / "index.html").read_text(), "html.parser")
    index_links = {a["href"] for a in index.select("#bb-index a")}
    for bid in BRANCHES:
        for report, sheet in (
            ("segmentation", "customers_to_contact"),
            ("risk", "borrowers_to_review"),
            ("satisfaction", "repeat_complainants"),
        ):
            page = soup(site, bid, report)
            note = page.find("p", class_="bb-actions-note")
            if note is None:  # no one on the list: no workbook needed
                continue
            # "Showing 20 of 21; all 21 ..." / "All 35 shown ...": the last number is the total
            total = int(re.findall(r"\d+", note.get_text().replace(",", ""))[-1])
            assert note.find("a")["href"] == f"{report}.xlsx"
            assert f"{bid}/{report}.xlsx" in index_links
            wb = openpyxl.load_workbook(site["period_dir"] / bid / f"{report}.xlsx")
            rows = list(wb[sheet].iter_rows(values_only=True))
            assert rows[0][:3] == ("customer_id", "name", "manager_name")
            assert len(rows) - 1 == total, (bid, report)
            assert not {r[1] for r in rows[1:]} & full_names
            assert not {r[2] for r in rows[1:]} & staff_ids


# columns that belong to the methods appendix: test statistics, bin edges, model internals
METHOD_COLUMNS = (
    "p_value",
    "q_value",
    "coef",
    "coefficient",
    "odds_ratio",
    "woe",
    "lower",
    "upper",
    "pd_from",
    "pd_to",
    "exposure_from",
    "exposure_to",
)


@pytest.mark.parametrize("report", sorted(registry()))
def test_no_manager_facing_section_shows_a_p_value_a_bin_edge_or_a_coefficient(site, report):
    for bid in BRANCHES:
        page = soup(site, bid, report)
        locale = page.html["lang"]
        banned = {
            i18n.t(f"{report}.columns.{c}", locale)
            for c in METHOD_COLUMNS
            if i18n.has(f"{report}.columns.{c}", locale)
        }
        for part in page.select("section.bb-methods, section.bb-appendix, section.bb-definitions"):
            part.decompose()
        heads = {th.get_text(strip=True) for th in page.select("table thead th")}
        assert not heads & banned, (bid, report, heads & banned)
        # the words a manager reads first say "significantly", never the test behind it
        for part in page.select("section.bb-brief, section.bb-summary, .bb-summary"):
            text = part.get_text(" ", strip=True)
            assert not P_VALUE.search(text), (bid, report, P_VALUE.search(text).group(0))


#: a p-value or a named test in words: "p = 0.01", "p < 0.001", "p值", "z-test", "t检验"
P_VALUE = re.compile(r"\bp\s*[=<>≤]|p值|\b[tz]-test|[tz]检验|Welch|Fisher")


def _pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return next(int(ln.split()[-1]) for ln in info.stdout.splitlines() if ln.startswith("Pages:"))


def _pdf_text(pdf: Path, first: int, last: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(first), "-l", str(last), str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


@pytest.mark.parametrize("bid", [ZH_BRANCH, "0102"])
@pytest.mark.parametrize("report", list(registry()))
def test_every_report_opens_with_a_brief_of_one_page(site, report, bid, tmp_path):
    from branchbook.output.pdf import html_to_pdf

    locale = "zh-CN" if bid == ZH_BRANCH else "en"
    html = (site["period_dir"] / bid / f"{report}.html").read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser")
    brief = page.select_one("section.bb-brief")
    assert brief is not None and brief.find_previous_sibling("header", class_="bb-title")
    # the title and the brief alone make one A4 page
    for block in page.select_one("main.bb-page").find_all(recursive=False):
        if block is not brief and "bb-title" not in (block.get("class") or []):
            block.decompose()
    alone = tmp_path / "brief.pdf"
    alone.write_bytes(html_to_pdf(str(page)))
    assert _pdf_pages(alone) == 1
    # in the report, what follows the brief starts on page 2
    pdf = site["period_dir"] / bid / f"{report}.pdf"
    one, two = _pdf_text(pdf, 1, 1), _pdf_text(pdf, 2, 2)
    assert i18n.t("common.brief.matters", locale) in one
    summary = i18n.t("common.summary", locale)
    assert summary not in one and summary in two


def test_every_branch_has_a_pack_with_a_two_page_cover(site):
    manifest = json.loads((site["period_dir"] / "manifest.json").read_text())
    index = BeautifulSoup((site["period_dir"] / "index.html").read_text(), "html.parser")
    for bid in BRANCHES:
        entry = manifest["packs"][bid]
        assert entry["status"] == "ok", entry
        pdf = site["period_dir"] / entry["outputs"]["pdf"]["path"]
        assert file_sha256(pdf) == entry["outputs"]["pdf"]["sha256"]
        pages = entry["pages"]
        assert pages["cover"] == 2
        # the reports whole, as their own PDFs have them, after the cover
        for report in registry():
            assert pages[report] == _pdf_pages(site["period_dir"] / bid / f"{report}.pdf")
        assert _pdf_pages(pdf) == sum(pages.values())
        locale = "zh-CN" if bid == ZH_BRANCH else "en"
        cover = _pdf_text(pdf, 1, 2)
        assert i18n.t("common.pack.title", locale) in cover
        assert i18n.t("common.pack.actions", locale) in _pdf_text(pdf, 2, 2)
        first = next(iter(registry()))
        assert i18n.t(f"{first}.title", locale) in _pdf_text(pdf, 3, 3)
        assert index.find("a", class_="bb-pack-link", href=f"{bid}/pack.pdf")
