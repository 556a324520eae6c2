"""In a real browser: the period index and every report, opened from the file system.

One run of the real command (HTML only, its default levels: the branches, their
regions and the bank) for two branches of a five-branch warehouse in two regions:
branch 0101 in zh-CN and 0201 in en, the index in zh-CN (the bank's locale here).
Headless Chromium (Debian's package, driven by Playwright) then opens the list of
periods, the period index and every report of both branches, of both regions and of the
bank, and checks what a reader would notice:

- no request leaves the page's own folder (every request is recorded; only ``file://``
  URLs under the page's folder and ``data:`` URIs are allowed; anything else is also
  blocked, so the test never reaches a network);
- no console error, page error or failed request;
- every ``<img>`` loaded (``naturalWidth > 0``), and every report has its charts;
- every in-page link (the table of contents) resolves to an element, and following
  one scrolls to it;
- a red/amber/green status is also written in words, never colour alone;
- the page does not scroll sideways at 1200 px nor on a 390 px phone;
- Chinese text is drawn with the pinned font (Noto Sans CJK SC, not a fallback face);
- the index search (branch id, Chinese name), region, level and status filters and
  header sorting work, and its links open the reports;
- drill-down: the index opens at the bank, a region's link shows that region and its
  branches, a branch links back up, and back and forward replay it; each report links
  the same report one level up and down, and those links open the pages.

Screenshots (first screen and full page of every page, the index after filtering and
sorting) are saved to ``tests/artifacts/browser/`` (ignored by git). Skipped only when
Chromium is not installed (``scripts/install-system-deps.sh`` installs it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from branchbook import demo
from branchbook.reports import registry
from branchbook.runner import plan

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
CHROMIUM = Path(os.environ.get("BRANCHBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PERIOD = "2026-10"
ZH, EN = "0101", "0201"  # 0101..0104 are in one region, 0201 in another
BRANCHES = ["0101", "0102", "0103", "0104", "0201"]
REPORTS = list(registry())
SCOPES = ["bank", "region-East", "region-North"]  # the levels above the two branches
SCOPE_REPORTS = [r for r in REPORTS if "region" in plan.made_for(registry()[r])]
PAGES = (
    ["periods", "index"]
    + [f"{b}/{r}" for b in (ZH, EN) for r in REPORTS]
    + [f"{s}/{r}" for s in SCOPES for r in SCOPE_REPORTS]
)
# the index's rows down the tree: the bank, each region then its branches
ROWS = ["bank", "region-East", "0101", "0102", "0103", "0104", "region-North", "0201"]
WIDTH, HEIGHT, PHONE = 1200, 900, 390
CJK_FONT = "Noto Sans CJK SC"


# -- one run of the command -------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (scripts/install-system-deps.sh)")
    from playwright.sync_api import sync_playwright  # a dev dependency

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def reports(browser, tmp_path_factory) -> Path:
    """``reports/`` of one HTML-only run for two branches (0101 zh-CN, 0201 en)."""
    base = tmp_path_factory.mktemp("browser")
    params = base / "params"
    (params / "branches").mkdir(parents=True)
    bank, n = re.subn(
        r"(?m)^locale:.*$", "locale: zh-CN", (ROOT / "params" / "bank.yaml").read_text("utf-8")
    )
    assert n == 1, "params/bank.yaml has no top-level locale"
    (params / "bank.yaml").write_text(bank, encoding="utf-8")
    (params / "branches" / f"{EN}.yaml").write_text("locale: en\n", encoding="utf-8")
    wh = base / "warehouse.duckdb"
    demo.build(wh, branches=len(BRANCHES), customers=2_000, months=13, end_month=PERIOD, seed=7)
    run = subprocess.run(
        [sys.executable, "-m", "branchbook.cli", "run", "--warehouse", str(wh),
         "--params", str(params), "--build", str(base / "build"), "--out", str(base / "reports"),
         "--branches", f"{ZH},{EN}", "--formats", "html", "--no-progress"],
        cwd=base, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return base / "reports"


def page_file(reports: Path, name: str) -> Path:
    if name == "periods":
        return reports / "index.html"
    if name == "index":
        return reports / PERIOD / "index.html"
    return reports / PERIOD / f"{name}.html"


# -- opening a page and recording what happens ------------------------------------------


@dataclass
class Visit:
    """What a page did while it was opened: requests, errors, and what it showed."""

    file: Path
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    anchors: list[dict] = field(default_factory=list)
    scroll_width: int = 0
    fonts: set[str] = field(default_factory=set)
    statuses: dict = field(default_factory=dict)

    def outside(self) -> list[str]:
        """Requests for anything but a ``data:`` URI or a file under the page's folder."""
        folder = self.file.parent.resolve()
        bad = []
        for url in self.requests:
            if url.startswith("data:"):
                continue
            parsed = urlparse(url)
            path = Path(unquote(parsed.path)).resolve()
            if parsed.scheme != "file" or not path.is_relative_to(folder):
                bad.append(url[:200])
        return bad


def _not_local(url: str) -> bool:
    return not url.startswith(("file:", "data:"))


def open_page(browser, file: Path, *, width: int = WIDTH, height: int = HEIGHT):
    """A new page with every request, console error and page error recorded, at ``file``."""
    visit = Visit(file)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.route(_not_local, lambda route: route.abort())  # never reach a network
    context.on("request", lambda req: visit.requests.append(req.url))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and visit.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: visit.errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda r: visit.errors.append(f"failed: {r.url[:200]} {r.failure}"))
    page.goto(file.resolve().as_uri(), wait_until="load")
    return page, visit


def _platform_fonts(page, selectors: list[str]) -> set[str]:
    """The font families Chromium actually drew the first match of each selector with."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    families = set()
    for sel in selectors:
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": sel})["nodeId"]
        if node:
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            families.update(f["familyName"] for f in fonts)
    return families


IMAGES_JS = """() => Array.from(document.images).map(i => ({
    src: i.currentSrc.slice(0, 60), complete: i.complete, width: i.naturalWidth}))"""
# red/amber/green marks (KPI cards, index key figures) and those with no status in words
STATUS_JS = """() => {
    const marks = Array.from(document.querySelectorAll(
        '.bb-kpi.bb-green, .bb-kpi.bb-amber, .bb-kpi.bb-red, ' +
        'td.bb-kpi-green, td.bb-kpi-amber, td.bb-kpi-red'));
    const words = el => el.querySelector('.bb-kpi-status, .bb-rag');
    return {marks: marks.length, silent: marks.filter(el => {
        const w = words(el);
        return !w || !w.innerText.trim() || w.getClientRects().length === 0;
    }).map(el => el.innerText.slice(0, 40))};
}"""
ANCHORS_JS = """() => Array.from(document.querySelectorAll('a[href^="#"]')).map(a => ({
    href: a.getAttribute('href'), toc: !!a.closest('nav.bb-toc'),
    target: !!document.getElementById(decodeURIComponent(a.getAttribute('href').slice(1)))}))"""


def _slug(name: str) -> str:
    return name.replace("/", "-")


@pytest.fixture(scope="module")
def visits(browser, reports) -> dict[str, Visit]:
    """Every page opened once at 1200 px: its record and two screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in PAGES:
        page, visit = open_page(browser, page_file(reports, name))
        page.evaluate("document.fonts.ready")
        visit.images = page.evaluate(IMAGES_JS)
        visit.anchors = page.evaluate(ANCHORS_JS)
        visit.scroll_width = page.evaluate("document.documentElement.scrollWidth")
        visit.statuses = page.evaluate(STATUS_JS)
        if name.startswith(ZH) or name in ("index", "periods"):
            visit.fonts = _platform_fonts(page, ["h1", "p", "td", "th"])
        page.screenshot(path=str(ARTIFACTS / f"{_slug(name)}.png"))
        page.screenshot(path=str(ARTIFACTS / f"{_slug(name)}-full.png"), full_page=True)
        page.context.close()
        out[name] = visit
    return out


# -- every page ------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_no_request_leaves_the_page_folder(visits, name):
    visit = visits[name]
    assert visit.requests, "the page itself was not requested"
    assert visit.outside() == []


@pytest.mark.parametrize("name", PAGES)
def test_no_console_or_page_error(visits, name):
    assert visits[name].errors == []


@pytest.mark.parametrize("name", PAGES)
def test_every_image_loads(visits, name):
    images = visits[name].images
    if "/" in name:
        assert len(images) >= 2, "a report without its charts"
    broken = [i for i in images if not (i["complete"] and i["width"] > 0)]
    assert broken == []


@pytest.mark.parametrize("name", PAGES)
def test_in_page_links_resolve(visits, name):
    anchors = visits[name].anchors
    if "/" in name:
        assert sum(a["toc"] for a in anchors) >= 3, "a report without a table of contents"
    assert [a["href"] for a in anchors if not a["target"]] == []


@pytest.mark.parametrize("name", PAGES)
def test_no_sideways_scroll_on_a_desktop(visits, name):
    assert visits[name].scroll_width <= WIDTH


@pytest.mark.parametrize("name", PAGES)
def test_status_is_written_not_only_coloured(visits, name):
    statuses = visits[name].statuses
    if name == "index":
        assert statuses["marks"] > 0, "no red/amber/green status on the index"
    assert statuses["silent"] == []


@pytest.mark.parametrize("name", ["index", f"{ZH}/{REPORTS[0]}"])
def test_chinese_is_drawn_with_the_pinned_font(visits, name):
    assert visits[name].fonts == {CJK_FONT}


@pytest.mark.parametrize("report", REPORTS)
def test_no_sideways_scroll_on_a_phone(browser, reports, report):
    page, visit = open_page(browser, page_file(reports, f"{ZH}/{report}"), width=PHONE)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
        if report == REPORTS[0]:
            page.screenshot(path=str(ARTIFACTS / f"phone-{ZH}-{report}.png"))
    finally:
        page.context.close()
    assert visit.errors == []


@pytest.mark.parametrize("report", REPORTS)
def test_contents_link_scrolls_to_its_section(browser, reports, report):
    page, _ = open_page(browser, page_file(reports, f"{EN}/{report}"))
    try:
        links = page.locator("nav.bb-toc a")
        link = links.nth(links.count() // 2)
        href = link.get_attribute("href")
        link.click()
        page.wait_for_function("h => location.hash === h", arg=href)
        top = page.evaluate(
            "id => document.getElementById(id).getBoundingClientRect().top", href[1:]
        )
        assert -2 <= top < HEIGHT / 2, (href, top)  # sub-pixel scroll positions
    finally:
        page.context.close()


# -- the index -------------------------------------------------------------------------


def _shown(page) -> list[str]:
    """Branch ids of the index rows a reader sees, top to bottom."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('#bb-index tbody tr'))
            .filter(r => r.getClientRects().length > 0)
            .map(r => r.cells[0].textContent.trim())"""
    )


def test_index_search_filter_and_sort(browser, reports):
    page, visit = open_page(browser, page_file(reports, "index"))
    try:
        assert page.locator("#bb-controls").is_visible(), "the script did not show the controls"
        assert _shown(page) == ROWS  # opens at the bank

        page.fill("#bb-q", EN)
        assert _shown(page) == [EN]
        page.fill("#bb-q", "国贸")  # part of 0201's Chinese name
        assert _shown(page) == [EN]
        page.fill("#bb-q", "no such branch")
        assert _shown(page) == [] and page.locator("#bb-none").is_visible()
        page.fill("#bb-q", "")
        assert _shown(page) == ROWS and not page.locator("#bb-none").is_visible()

        page.select_option("#bb-region", "North")
        assert _shown(page) == ["region-North", EN]
        page.select_option("#bb-region", "East")
        assert _shown(page) == ["region-East", "0101", "0102", "0103", "0104"]
        page.fill("#bb-q", ZH)
        assert _shown(page) == [ZH]  # search and filter combine
        page.fill("#bb-q", "")
        page.select_option("#bb-region", "")

        page.select_option("#bb-level", "region")  # each level on its own
        assert _shown(page) == ["region-East", "region-North"]
        page.select_option("#bb-level", "bank")
        assert _shown(page) == ["bank"]
        page.select_option("#bb-level", "branch")
        assert _shown(page) == BRANCHES
        page.fill("#bb-q", "North")
        assert _shown(page) == [EN]  # search within a level
        page.fill("#bb-q", "")
        page.select_option("#bb-level", "")

        page.select_option("#bb-status", "skipped")
        assert _shown(page) == ["0102", "0103", "0104"]  # nothing was run for them
        page.select_option("#bb-status", "failed")
        assert _shown(page) == []
        page.select_option("#bb-status", "ok")
        assert _shown(page) == ["bank", "region-East", ZH, "region-North", EN]
        page.screenshot(path=str(ARTIFACTS / "index-filtered.png"))
        page.select_option("#bb-status", "")

        id_head = page.locator("#bb-index thead th").first
        id_head.locator("button").click()
        assert id_head.get_attribute("aria-sort") == "ascending"
        assert _shown(page) == BRANCHES + ["bank", "region-East", "region-North"]
        id_head.locator("button").click()
        assert id_head.get_attribute("aria-sort") == "descending"
        assert _shown(page) == (BRANCHES + ["bank", "region-East", "region-North"])[::-1]

        headline = page.locator("#bb-index thead th.bb-headline-col").first
        headline.locator("button").click()
        assert headline.get_attribute("aria-sort") == "ascending"
        column = page.evaluate(
            "() => Array.from(document.querySelectorAll('#bb-index thead th')).findIndex("
            "th => th.classList.contains('bb-headline-col'))"
        )
        keys = page.evaluate(
            """col => Array.from(document.querySelectorAll('#bb-index tbody tr'))
                .map(r => r.cells[col].getAttribute('data-sort'))""",
            column,
        )
        numbers = [float(k) for k in keys if k]
        # the two branches run, and the bank and both regions with their pooled headline
        assert len(numbers) == 2 + len(SCOPES) and numbers == sorted(numbers)
        for folder in SCOPES:
            assert page.locator(f"#u-{folder} td.bb-headline").first.get_attribute("data-sort")
        assert keys[: len(numbers)] == [k for k in keys if k], "missing values sort last"
        page.screenshot(path=str(ARTIFACTS / "index-sorted.png"), full_page=True)
    finally:
        page.context.close()
    assert visit.errors == [] and visit.outside() == []


def test_index_links_open_the_reports(browser, reports):
    index = page_file(reports, "index")
    page, _ = open_page(browser, index)
    try:
        hrefs = page.evaluate(
            "() => Array.from(document.querySelectorAll('#bb-index a')).map(a => a.getAttribute('href'))"
        )
        expected = {f"{b}/{r}.html" for b in (ZH, EN) for r in REPORTS}
        expected |= {f"{u}/{r}.html" for u in SCOPES for r in SCOPE_REPORTS}
        assert expected <= set(hrefs)
        for href in hrefs:
            if href.startswith("#"):  # a row of the tree: see the drill-down test
                assert page.locator(href).count() == 1, href
            else:
                assert (index.parent / unquote(href)).is_file(), href
        page.locator(f'#bb-index a[href="{EN}/{REPORTS[0]}.html"]').click()
        page.wait_for_load_state("load")
        assert page.url == page_file(reports, f"{EN}/{REPORTS[0]}").resolve().as_uri()
        assert page.locator("h1").first.is_visible()
    finally:
        page.context.close()


def _at(page, hash_: str, region: str) -> None:
    """Wait until the index shows ``hash_`` with the region filter the link sets."""
    page.wait_for_function(
        "([h, r]) => location.hash === h && document.getElementById('bb-region').value === r",
        arg=[hash_, region],
    )


def test_drill_down_the_index_and_back(browser, reports):
    """The bank's row links its regions, a region's its branches, a branch back up to
    its region; following a link shows that level, and back and forward replay it."""
    page, visit = open_page(browser, page_file(reports, "index"))
    try:
        bank = page.locator("#u-bank")
        assert bank.locator(".bb-down a").evaluate_all(
            "a => a.map(x => x.getAttribute('href'))"
        ) == ["#u-region-East", "#u-region-North"]
        bank.locator('.bb-down a[href="#u-region-North"]').click()
        _at(page, "#u-region-North", "North")
        assert _shown(page) == ["region-North", EN]
        assert page.locator("#u-region-North a.bb-up").get_attribute("href") == "#u-bank"
        page.locator('#u-region-North .bb-down a[href="#u-0201"]').click()
        _at(page, "#u-0201", "North")
        assert _shown(page) == ["region-North", EN]
        page.locator("#u-0201 a.bb-up").click()
        _at(page, "#u-region-North", "North")
        page.locator("#u-region-North a.bb-up").click()
        _at(page, "#u-bank", "")
        assert _shown(page) == ROWS  # up at the bank: every level again
        page.screenshot(path=str(ARTIFACTS / "index-drilled.png"))
        page.go_back()
        _at(page, "#u-region-North", "North")
        assert _shown(page) == ["region-North", EN]
        page.go_back()
        _at(page, "#u-0201", "North")
        page.go_back()
        _at(page, "#u-region-North", "North")
        page.go_back()
        _at(page, "", "")  # where the page opened: every level
        assert _shown(page) == ROWS
        page.go_forward()
        _at(page, "#u-region-North", "North")
        assert _shown(page) == ["region-North", EN]
    finally:
        page.context.close()
    assert visit.errors == [] and visit.outside() == []


LEVELS_JS = """() => Array.from(document.querySelectorAll('#bb-levels a'))
    .filter(a => a.getClientRects().length > 0).map(a => a.getAttribute('href'))"""


@pytest.mark.parametrize("report", SCOPE_REPORTS)
def test_each_report_links_the_same_report_a_level_up_and_down(browser, reports, report):
    """Region -> the bank and its branches that were made; branch -> its region; each
    link opens the page, in the reader's language, and back returns."""
    expect = {
        "bank": ["../region-East/", "../region-North/"],
        "region-East": ["../bank/", f"../{ZH}/"],  # 0102-0104 were not run: no link
        "region-North": ["../bank/", f"../{EN}/"],
        ZH: ["../region-East/"],
        EN: ["../region-North/"],
    }
    for folder, prefixes in expect.items():
        page, visit = open_page(browser, page_file(reports, f"{folder}/{report}"))
        try:
            hrefs = page.evaluate(LEVELS_JS)
            assert hrefs == [f"{p}{report}.html" for p in prefixes], folder
            assert visit.errors == []
        finally:
            page.context.close()
    page, _ = open_page(browser, page_file(reports, f"region-North/{report}"))
    try:
        page.locator(f'#bb-levels a[href="../{EN}/{report}.html"]').click()
        page.wait_for_url(page_file(reports, f"{EN}/{report}").resolve().as_uri())
        assert page.locator("#bb-levels").is_visible()
        text = page.locator("#bb-levels").inner_text()
        assert "Same report at other levels" in text  # 0201 reads English
        page.go_back()
        page.wait_for_url(page_file(reports, f"region-North/{report}").resolve().as_uri())
        assert "其他层级的同一报告" in page.locator("#bb-levels").inner_text()  # the bank's zh-CN
    finally:
        page.context.close()


def test_period_list_links_to_the_period(browser, reports):
    page, visit = open_page(browser, page_file(reports, "periods"))
    try:
        page.locator(f'#bb-periods a[href="{PERIOD}/index.html"]').click()
        page.wait_for_load_state("load")
        assert page.url == page_file(reports, "index").resolve().as_uri()
    finally:
        page.context.close()
    assert visit.errors == []


# -- what a manager reads first: the brief, the pack's cover, an action list ---------------

SCREEN_W, SCREEN_H = 1366, 900  # a common office screen
BOX_JS = """sel => { const el = document.querySelector(sel); if (!el) return null;
    const r = el.getBoundingClientRect();
    return {top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left, right: r.right,
            width: r.width, height: r.height, scroll: el.scrollWidth, client: el.clientWidth,
            text: el.innerText.length}; }"""


def _check_shot(page, selector: str, shot: Path, *, chinese: bool, text: str = "td") -> dict:
    """The element at ``selector``: shown, within the page's width (nothing runs past it
    or scrolls sideways), drawn in the pinned font when Chinese; its screenshot saved."""
    box = page.evaluate(BOX_JS, selector)
    assert box is not None and box["height"] > 0 and box["text"] > 0, selector
    assert page.locator(selector).first.is_visible(), selector
    assert box["left"] >= 0 and box["right"] <= SCREEN_W, (selector, box)
    assert box["scroll"] <= box["client"] + 1, (selector, box)  # no cell runs past it
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREEN_W
    if chinese:  # the characters are drawn with the CJK face, not boxes of a fallback
        assert _platform_fonts(page, [f"{selector} {text}"]) == {CJK_FONT}, selector
    page.locator(selector).first.screenshot(path=str(shot))
    assert shot.stat().st_size > 5_000, shot  # not an empty picture
    return box


@pytest.mark.parametrize("branch", [ZH, EN])
@pytest.mark.parametrize("report", REPORTS)
def test_the_brief_fits_one_screen(browser, reports, branch, report, tmp_path):
    page, visit = open_page(
        browser, page_file(reports, f"{branch}/{report}"), width=SCREEN_W, height=SCREEN_H
    )
    try:
        page.evaluate("document.fonts.ready")
        box = _check_shot(
            page,
            "section.bb-brief",
            tmp_path / f"brief-{branch}-{report}.png",
            chinese=branch == ZH,
            text="li",
        )
        # the title and the brief are the first screen
        assert box["bottom"] <= SCREEN_H, f"the brief ends at {box['bottom']:.0f} px"
        title = page.evaluate(BOX_JS, "header.bb-title")
        assert title["bottom"] <= box["top"] + 1
        cards = page.locator("section.bb-brief .bb-bcard")
        assert cards.count() >= 4
        assert page.locator("section.bb-brief li").count() >= 3
    finally:
        page.context.close()
    assert visit.errors == []


@pytest.mark.parametrize("branch", [ZH, EN])
def test_the_pack_cover_reads_on_a_screen(browser, reports, branch, tmp_path):
    import json

    from branchbook.output import pack

    folder = reports / PERIOD
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["reports"]
    briefs = {r: entries[f"{branch}/{r}"]["brief"] for r in REPORTS}
    locale = "zh-CN" if branch == ZH else "en"
    html = pack.cover_html(
        briefs, locale=locale, bank_name="Demo", branch={"branch_id": branch, "name": branch},
        period=PERIOD, signals={r: entries[f"{branch}/{r}"]["signals"] for r in REPORTS},
        starts={r: 3 + 10 * i for i, r in enumerate(REPORTS)},
    )  # fmt: skip
    cover = folder / branch / "pack-cover.html"
    cover.write_text(html, encoding="utf-8")
    page, visit = open_page(browser, cover, width=SCREEN_W, height=SCREEN_H)
    try:
        page.evaluate("document.fonts.ready")
        for i, (part, text) in enumerate((("#pack-figures", "td"), ("#pack-brief", "li"))):
            shot = tmp_path / f"pack-{branch}-{i + 1}.png"
            _check_shot(page, part, shot, chinese=branch == ZH, text=text)
        rows = page.locator(".bb-pack-kpis tbody tr:not(.bb-pack-report)").count()
        assert rows == sum(min(len(b["cards"]), pack.COVER_CARDS) for b in briefs.values())
    finally:
        page.context.close()
        cover.unlink()
    assert visit.errors == [] and visit.outside() == []


@pytest.mark.parametrize("branch", [ZH, EN])
def test_an_action_list_reads_on_a_screen(browser, reports, branch, tmp_path):
    page, visit = open_page(
        browser, page_file(reports, f"{branch}/segmentation"), width=SCREEN_W, height=SCREEN_H
    )
    try:
        page.evaluate("document.fonts.ready")
        table = ".bb-table:has(+ .bb-actions-note)"
        page.locator(table).first.scroll_into_view_if_needed()
        _check_shot(page, table, tmp_path / f"actions-{branch}.png", chinese=branch == ZH)
        assert page.locator(f"{table} tbody tr").count() >= 1
    finally:
        page.context.close()
    assert visit.errors == []
