"""The portal on localhost (uvicorn), in a real browser (Debian's Chromium, driven by
Playwright): a branch manager, a region head and an auditor each sign in and see
exactly what they may; direct URLs to another unit, traversal and a forged identity
header are refused."""

from __future__ import annotations

import json
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
    return {a.get_attribute("href") for a in page.query_selector_all("table.reports a")}


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
