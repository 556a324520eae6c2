"""The portal's rules, through Starlette's test client (no network)."""

import json

from deliver.helpers import ORG
from starlette.testclient import TestClient

from branchbook.serve import build_app

from .conftest import PASSWORDS


def _client(site, client=("127.0.0.1", 5000)):
    reports, params, log = site
    app = build_app(reports, params, ORG, access_log=log, secret=b"k" * 32)
    return TestClient(app, client=client, follow_redirects=False)


def _login(c, who):
    r = c.post("/login", data={"user": who, "password": PASSWORDS[who]})
    assert r.status_code == 303 and r.headers["location"] == "/"
    return c


def _log(site):
    return [json.loads(line) for line in site[2].read_text().splitlines()]


def test_each_person_sees_only_their_units(site):
    c = _login(_client(site), "li.wei")
    page = c.get("/2026-10/").text
    assert "0101/risk.pdf" in page and "0101/staff_kpi.html" in page
    assert "0102" not in page and "0201" not in page
    r = c.get("/2026-10/0101/risk.html")
    assert r.status_code == 200 and "MARK-0101" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert c.get("/2026-10/0102/risk.html").status_code == 403
    c = _login(_client(site), "anna.north")
    page = c.get("/2026-10/").text
    assert "0201/risk.pdf" in page and "staff_kpi" not in page and "0101" not in page
    assert c.get("/2026-10/0201/staff_kpi.pdf").status_code == 403  # not her report
    c = _login(_client(site), "audit")
    page = c.get("/2026-10/").text
    assert all(b in page for b in ("0101", "0102", "0201"))


def test_traversal_and_other_files_are_refused_and_logged(site):
    c = _login(_client(site), "li.wei")
    for path in (
        "/2026-10/manifest.json",
        "/2026-10/index.html",
        "/2026-10/delivery.json",
        "/2026-10/0101/..%2F..%2F..%2Fparams%2Faccess.yaml",
        "/2026-10/0101/%2e%2e/0102/risk.html",
        "/../params/access.yaml",
        "/2026-10/0101/risk.ipynb",
    ):
        r = c.get(path)
        assert r.status_code in (403, 404), path
        assert "MARK" not in r.text and "password_hash" not in r.text
    refused = [e for e in _log(site) if e["status"] in (403, 404)]
    assert len(refused) == 7 and all(e["who"] == "li.wei" for e in refused)


def test_no_identity_gets_no_report(site):
    c = _client(site)
    assert c.get("/2026-10/0101/risk.pdf").status_code == 403
    assert c.get("/").headers["location"] == "/login"
    c.cookies.set("bb_session", "bGkud2VpfDk5OTk5OTk5OTl8Zm9yZ2Vk")  # li.wei|...|forged
    assert c.get("/2026-10/0101/risk.pdf").status_code == 403
    r = c.post("/login", data={"user": "li.wei", "password": "wrong"})
    assert r.status_code == 200 and "Wrong user id or password" in r.text
    assert [e["status"] for e in _log(site)] == [403, 303, 403, 401]


def test_five_failed_logins_lock_the_id(site):
    c = _client(site)
    for _ in range(5):
        c.post("/login", data={"user": "audit", "password": "nope"})
    r = c.post("/login", data={"user": "audit", "password": PASSWORDS["audit"]})
    assert "Too many failed attempts" in r.text and "bb_session" not in r.cookies


def test_the_identity_header_is_believed_only_from_the_proxy(site):
    proxy = _client(site, client=("10.0.0.5", 4000))
    r = proxy.get("/2026-10/0201/risk.pdf", headers={"X-Remote-User": "anna.north"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    r = proxy.get("/2026-10/0101/risk.pdf", headers={"X-Remote-User": "anna.north"})
    assert r.status_code == 403
    r = proxy.get("/2026-10/0101/risk.pdf", headers={"X-Remote-User": "mallory"})
    assert r.status_code == 403
    other = _client(site, client=("10.0.0.9", 4000))
    r = other.get("/2026-10/0101/risk.pdf", headers={"X-Remote-User": "li.wei"})
    assert r.status_code == 403
    entries = _log(site)
    assert entries[0]["who"] == "anna.north" and entries[0]["what"] == "2026-10/0201/risk.pdf"
    assert "untrusted address 10.0.0.9" in entries[-1]["what"]


def test_an_access_list_change_applies_at_once_and_a_broken_one_refuses(site):
    c = _login(_client(site), "li.wei")
    assert c.get("/2026-10/0101/risk.pdf").status_code == 200
    path = site[1] / "access.yaml"
    path.write_text(path.read_text().replace("branch:0101", "branch:0102"))
    assert c.get("/2026-10/0101/risk.pdf").status_code == 403
    path.write_text(path.read_text().replace("branch:0102", "branch:9999"))
    assert c.get("/2026-10/0101/risk.pdf").status_code == 503  # refuses until fixed
    assert _log(site)[-1]["what"] == "access list invalid"


def test_a_person_without_reports_sees_an_empty_index(site):
    c = _login(_client(site), "li.wei")
    assert "/2026-10/" in c.get("/").text
    (site[0] / "2026-10" / "manifest.json").unlink()
    assert "No reports for you yet" in c.get("/").text


def test_a_huge_login_form_is_refused(site):
    r = _client(site).post("/login", data={"user": "audit", "password": "x" * 10_000})
    assert r.status_code == 413


def test_portal_pages_carry_a_strict_content_policy(site):
    c = _login(_client(site), "audit")
    policy = c.get("/2026-10/").headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy


def test_a_report_in_two_locales_is_linked_and_served_in_both_under_the_same_rules(site):
    from deliver.helpers import publish

    reports, _, _ = site
    publish(reports, english=True)
    c = _login(_client(site), "li.wei")
    page = c.get("/2026-10/").text
    assert "/2026-10/0101/risk.html" in page and "/2026-10/0101/risk.en.pdf" in page
    assert "Chinese" in page and "English" in page  # each named, in the reader's language
    assert "0102" not in page
    r = c.get("/2026-10/0101/risk.en.html")
    assert r.status_code == 200 and "English sentence of MARK-0101" in r.text
    assert c.get("/2026-10/0102/risk.en.html").status_code == 403  # not her unit
    assert c.get("/2026-10/0101/risk.fr.html").status_code == 404  # not a locale
    assert c.get("/2026-10/0101/risk.en.ipynb").status_code == 404
    c = _login(_client(site), "anna.north")
    assert c.get("/2026-10/0201/staff_kpi.en.pdf").status_code == 403  # not her report
    opened = [e["what"] for e in _log(site) if e["status"] == 200]
    assert opened == ["2026-10/0101/risk.en.html"]


def test_a_branch_pack_is_served_to_whoever_may_see_all_its_reports(site):
    from deliver.helpers import publish

    from branchbook.output.pack import PACK_FILE
    from branchbook.serve.packs import PACK_FILE as SERVED

    assert SERVED == PACK_FILE
    publish(site[0], packs=True)
    c = _login(_client(site), "li.wei")  # manager of 0101
    page = c.get("/2026-10/").text
    assert "/2026-10/0101/pack.pdf" in page and "0102/pack.pdf" not in page
    r = c.get("/2026-10/0101/pack.pdf")
    assert r.status_code == 200 and b"MARK-0101" in r.content
    assert r.headers["content-type"] == "application/pdf"
    assert c.get("/2026-10/0102/pack.pdf").status_code == 403
    assert c.get("/2026-10/0101/../0102/pack.pdf").status_code in (403, 404)
    # receives the risk report of the North only: the pack holds staff KPIs too
    c = _login(_client(site), "anna.north")
    assert "pack.pdf" not in c.get("/2026-10/").text
    assert c.get("/2026-10/0201/pack.pdf").status_code == 403
    c = _login(_client(site), "audit")
    page = c.get("/2026-10/").text
    assert all(f"/2026-10/{b}/pack.pdf" in page for b in ("0101", "0102", "0201"))
    log = _log(site)
    assert any(e["what"] == "2026-10/0101/pack.pdf" and e["status"] == 200 for e in log)
    assert any(e["path"] == "/2026-10/0102/pack.pdf" and e["status"] == 403 for e in log)


def _levels(c, path):
    r = c.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    data = json.loads(r.text.removeprefix("window.bbLevels = ").rstrip(";\n"))
    return {
        report: {side: [next(iter(x["href"].values())) for x in links] for side, links in v.items()}
        for report, v in data["reports"].items()
    }


def test_region_and_bank_reports_go_to_who_covers_them_and_the_index_reads_down(site):
    from deliver.helpers import publish

    publish(site[0], scopes=True)
    c = _login(_client(site), "li.wei")  # manager of 0101: never a region's or the bank's
    page = c.get("/2026-10/").text
    assert "region-" not in page and "bank/" not in page and "MARK" not in page
    for path in ("/2026-10/region-East/risk.html", "/2026-10/bank/risk.pdf"):
        assert c.get(path).status_code == 403
    assert _levels(c, "/2026-10/0101/levels.js") == {}  # no level above that she may see
    c = _login(_client(site), "anna.north")  # head of the North, risk only
    page = c.get("/2026-10/").text
    assert page.index("region-North/risk.html") < page.index("0201/risk.html")
    assert "bank/" not in page and "region-East" not in page and "staff_kpi" not in page
    r = c.get("/2026-10/region-North/risk.html")
    assert r.status_code == 200 and "MARK-region-North" in r.text
    assert c.get("/2026-10/region-North/staff_kpi.html").status_code == 403
    assert c.get("/2026-10/bank/risk.html").status_code == 403
    assert _levels(c, "/2026-10/region-North/levels.js") == {
        "risk": {"up": [], "down": ["../0201/risk.html"]}  # the bank's is not hers
    }
    assert _levels(c, "/2026-10/0201/levels.js") == {
        "risk": {"up": ["../region-North/risk.html"], "down": []}
    }
    c = _login(_client(site), "audit")  # head office: every level, bank first
    page = c.get("/2026-10/").text
    at = [page.index(f"/2026-10/{f}/risk.html") for f in ("bank", "region-East", "0101", "0102")]
    assert at == sorted(at) and page.index("region-North/") > page.index("0102/")
    assert "id='u-region-East'" in page and "href='#u-bank'" in page
    assert c.get("/2026-10/bank/staff_kpi.pdf").status_code == 200
    assert _levels(c, "/2026-10/region-East/levels.js")["risk"] == {
        "up": ["../bank/risk.html"],
        "down": ["../0101/risk.html", "../0102/risk.html"],
    }
    assert c.get("/2026-10/0101/levels.json").status_code == 404
