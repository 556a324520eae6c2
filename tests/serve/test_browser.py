"""The portal on localhost (uvicorn), in a real browser (Debian's Chromium, driven by
Playwright): a branch manager, a region head and an auditor each sign in and see
exactly what they may; direct URLs to another unit, traversal and a forged identity
header are refused."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest
from deliver.helpers import ORG, free_port

from branchbook.serve import build_app

from .conftest import PASSWORDS

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def portal(site):
    import uvicorn

    reports, params, log = site
    app = build_app(reports, params, ORG, access_log=log)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", log
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (scripts/install-system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _sign_in(browser, base, who):
    page = browser.new_context().new_page()
    page.goto(base + "/")
    assert page.url == base + "/login"
    page.fill("input[name=user]", who)
    page.fill("input[name=password]", PASSWORDS[who])
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    page.click("a[href='/2026-10/']")
    page.wait_for_url(base + "/2026-10/")
    return page


def _listed(page) -> set[str]:
    """The files a person's index links (not its links between levels, ``#u-...``)."""
    hrefs = {a.get_attribute("href") for a in page.query_selector_all("table.reports a")}
    return {h for h in hrefs if not h.startswith("#")}


def _status(page, url) -> int:
    return page.goto(url).status


def test_three_readers_see_exactly_their_units(portal, browser):
    portal, log = portal
    everything = {
        f"/2026-10/{b}/{r}.{f}"
        for b in ORG.regions
        for r in ("risk", "staff_kpi")
        for f in ("html", "pdf")
    }
    cases = {
        "li.wei": {u for u in everything if "/0101/" in u},
        "anna.north": {u for u in everything if "/0201/risk." in u},
        "audit": everything,
    }
    for who, allowed in cases.items():
        page = _sign_in(browser, portal, who)
        assert _listed(page) == allowed, who
        html = sorted(u for u in allowed if u.endswith(".html"))[0]
        page.click(f"a[href='{html}']")
        branch = html.split("/")[2]
        assert f"MARK-{branch}" in page.inner_text("h1")
        for url in sorted(everything - allowed):
            assert _status(page, portal + url) == 403, (who, url)
        for url in (
            "/2026-10/manifest.json",
            "/2026-10/index.html",
            "/2026-10/0101/%2e%2e/%2e%2e/%2e%2e/params/access.yaml",
            "/2026-10/0101/..%2F..%2Fdelivery.json",
        ):
            assert _status(page, portal + url) == 404, (who, url)
        page.context.close()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    opened = [e for e in entries if e["status"] == 200]
    assert {e["who"] for e in opened} == set(cases)


def test_no_identity_and_a_forged_header_are_refused(portal, browser):
    portal, _ = portal
    context = browser.new_context(extra_http_headers={"X-Remote-User": "audit"})
    page = context.new_page()
    assert _status(page, portal + "/2026-10/0101/risk.pdf") == 403  # not from the proxy
    context.close()
    page = browser.new_context().new_page()
    assert _status(page, portal + "/2026-10/0101/risk.html") == 403
    page.goto(portal + "/")
    assert page.url == portal + "/login"
    page.context.close()


def _with_levels(path: Path, report: str) -> None:
    """Give a fake page the real report template's links to the levels up and down."""
    template = (
        Path(__file__).resolve().parents[2] / "lib" / "branchbook" / "templates" / "report.html.j2"
    ).read_text(encoding="utf-8")
    block = template.split("{% if report %}\n{#", 1)[1].split("{% endif %}", 1)[0]
    block = "{#" + block
    block = re.sub(r"\{#.*?#\}", "", block, flags=re.S).replace("{{ report }}", report)
    html = path.read_text(encoding="utf-8")
    path.write_text(html.replace("<body>", "<body>" + block, 1), encoding="utf-8")


LEVEL_LINKS = """() => Array.from(document.querySelectorAll('#bb-levels a'))
    .filter(a => a.getClientRects().length > 0).map(a => a.getAttribute('href'))"""


def test_each_level_reads_down_and_links_only_what_the_reader_may_see(portal, browser, site):
    from deliver.helpers import publish

    portal, _ = portal
    period = site[0] / "2026-10"
    publish(site[0], scopes=True)
    for folder in ("bank", "region-East", "region-North", "0101", "0201"):
        _with_levels(period / folder / "risk.html", "risk")
    page = _sign_in(browser, portal, "anna.north")  # the North's head: its region, not the bank
    assert _listed(page) == {
        f"/2026-10/{f}/risk.{x}" for f in ("region-North", "0201") for x in ("html", "pdf")
    }
    heading = page.locator("#u-region-North")
    assert heading.locator("a").evaluate_all("a => a.map(x => x.getAttribute('href'))") == [
        "#u-0201"
    ]
    page.click("a[href='/2026-10/region-North/risk.html']")
    page.wait_for_url(portal + "/2026-10/region-North/risk.html")
    assert "MARK-region-North" in page.inner_text("h1")
    assert page.evaluate(LEVEL_LINKS) == ["../0201/risk.html"]  # the bank's is not hers
    page.click("#bb-levels a")
    page.wait_for_url(portal + "/2026-10/0201/risk.html")
    assert "MARK-0201" in page.inner_text("h1")
    assert page.evaluate(LEVEL_LINKS) == ["../region-North/risk.html"]
    page.go_back()
    page.wait_for_url(portal + "/2026-10/region-North/risk.html")
    page.go_forward()
    page.wait_for_url(portal + "/2026-10/0201/risk.html")
    assert _status(page, portal + "/2026-10/bank/risk.html") == 403
    page.context.close()

    page = _sign_in(browser, portal, "li.wei")  # a branch manager: no level above
    assert not any("region-" in u or "/bank/" in u for u in _listed(page))
    page.click("a[href='/2026-10/0101/risk.html']")
    page.wait_for_url(portal + "/2026-10/0101/risk.html")
    assert page.evaluate(LEVEL_LINKS) == [] and page.locator("#bb-levels").is_hidden()
    for url in ("/2026-10/region-East/risk.html", "/2026-10/bank/risk.pdf"):
        assert _status(page, portal + url) == 403
    page.context.close()

    page = _sign_in(browser, portal, "audit")  # head office: every level, the bank first
    first = page.locator("table.reports td a").first.get_attribute("href")
    assert first.startswith("/2026-10/bank/")
    page.click("a[href='/2026-10/bank/risk.html']")
    page.wait_for_url(portal + "/2026-10/bank/risk.html")
    assert page.evaluate(LEVEL_LINKS) == ["../region-East/risk.html", "../region-North/risk.html"]
    page.click("#bb-levels a[href='../region-East/risk.html']")
    page.wait_for_url(portal + "/2026-10/region-East/risk.html")
    assert page.evaluate(LEVEL_LINKS) == [
        "../bank/risk.html",
        "../0101/risk.html",
        "../0102/risk.html",
    ]
    page.context.close()
