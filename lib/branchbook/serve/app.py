"""The portal: the published reports, each request authorised against the access list.

Who is asking comes from one of two places:

- a trusted front server (the bank's single sign-on proxy) that puts the person's id in
  a header (``portal.identity_header``); the header is believed only on connections
  from ``portal.trusted_proxies``, and refused (403, logged) from anywhere else;
- for a small setup, the portal's own login (``portal.login``) against the scrypt hashes
  of the access list, kept in a signed, HTTP-only session cookie; five failed attempts
  for an id lock it for fifteen minutes.

Only ``/<period>/<branch>/<report>.<html|pdf|xlsx>`` files (``<report>.<locale>.<format>``
for a locale other than the branch's own: :mod:`branchbook.output.names`) are served,
and only to a person whose units include the branch and who receives that report,
whatever its locale; a branch's pack (``/<period>/<branch>/pack.pdf``) only to a person
who may see every report it holds (:mod:`.packs`). The index each person sees lists
only those, their own locale's files first, the branch's pack after its reports.
Anything else (another unit's file, a path that climbs out of the folder, the manifest,
the delivery log, a request without an identity) is refused with 403 or 404 and logged.
Every report opened and every refusal is a line of the access log (JSON: when, who, from
where, what, the answer).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from .. import orgtree
from ..deliver import published
from ..deliver.access import AccessList, Org, load
from ..errors import BranchbookError, ParamsError
from ..i18n import label, t
from ..output import levels, names
from ..output.publish import anchor, tree_order
from ..params import BRANCH_ID_RE, PERIOD_RE, read_yaml
from ..reports import ORDER
from . import packs as packs_mod
from .packs import PACK_FILE
from .passwords import verify

SECRET_VARIABLE = "BRANCHBOOK_PORTAL_SECRET"
COOKIE = "bb_session"
SESSION_S = 8 * 3600
MAX_FAILS, LOCK_S = 5, 15 * 60
FORMATS = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    # the report's action lists (a workbook beside it, with the same masking)
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: the portal's own pages (not the reports): nothing but their own inline style and forms
PAGE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}
MAX_FORM = 4096  # bytes of a login form
log = logging.getLogger(__name__)


class AccessLog:
    """One JSON line per request that opened a report or was refused."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()

    def write(self, request: Request, who: str | None, status: int, what: str = "") -> None:
        line = {
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "who": who,
            "from": request.client.host if request.client else None,
            "method": request.method,
            "path": request.url.path,
            "status": status,
            "what": what,
        }
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


class Portal:
    """The state of one running portal: the access list (re-read when its file
    changes; while it is invalid every request is refused), the session key, the log."""

    def __init__(self, reports_dir, params_dir, org: Org, access_log: Path, secret: bytes | None):
        self.root = Path(reports_dir).resolve()
        self.params_dir = Path(params_dir)
        self.org = org
        self.log = AccessLog(access_log)
        env = os.environ.get(SECRET_VARIABLE, "")
        self.secret = secret or (env.encode() if env else secrets.token_bytes(32))
        self.fails: dict[str, list[float]] = {}
        bank = self.params_dir / "bank.yaml"
        self.locale = str(read_yaml(bank).get("locale", "en")) if bank.is_file() else "en"
        self._acl: AccessList | None = None
        self._mtime = None
        self.access()  # an invalid list stops the portal from starting

    def access(self) -> AccessList:
        path = self.params_dir / "access.yaml"
        mtime = path.stat().st_mtime_ns if path.exists() else None
        if mtime != self._mtime or self._acl is None:
            self._acl, self._mtime = None, mtime
            self._acl = load(self.params_dir, self.org)
        return self._acl

    # sessions ------------------------------------------------------------------
    def sign(self, person_id: str, now: float | None = None) -> str:
        expires = int((now or time.time()) + SESSION_S)
        body = f"{person_id}|{expires}"
        mac = hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()
        return base64.urlsafe_b64encode(f"{body}|{mac}".encode()).decode()

    def unsign(self, cookie: str | None) -> str | None:
        try:
            person_id, expires, mac = base64.urlsafe_b64decode(cookie or "").decode().split("|")
        except ValueError:
            return None
        good = hmac.new(self.secret, f"{person_id}|{expires}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, good) or int(expires) < time.time():
            return None
        return person_id

    def locked(self, person_id: str) -> bool:
        recent = [f for f in self.fails.get(person_id, []) if f > time.time() - LOCK_S]
        self.fails[person_id] = recent
        return len(recent) >= MAX_FAILS

    # identity --------------------------------------------------------------------
    def identify(self, request: Request) -> tuple[str | None, str]:
        """``(person id, "")`` or ``(None, why not)``."""
        acl = self.access()
        header = acl.portal.identity_header
        client = request.client.host if request.client else ""
        if header and header in request.headers:
            if client not in acl.portal.trusted_proxies:
                return None, f"identity header from untrusted address {client}"
            who = request.headers[header].strip()
            return (who, "") if who in acl.people else (None, f"unknown person {who!r}")
        if acl.portal.login:
            who = self.unsign(request.cookies.get(COOKIE))
            if who in acl.people:
                return who, ""
        return None, "no identity"


def _page(title: str, body: str, loc: str) -> HTMLResponse:
    doc = (
        f"<!doctype html><html lang='{loc}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return HTMLResponse(doc, headers=PAGE_HEADERS)


def _denied(portal: Portal, request: Request, who: str | None, status: int, why: str):
    redirect = False
    if status == 401:
        # a page without an identity leads to the login; a file is refused outright
        redirect = portal.access().portal.login and request.url.path.endswith("/")
        status = 303 if redirect else 403
    portal.log.write(request, who, status, why)
    log.warning("portal: %s %s for %s: %s", status, request.url.path, who or "-", why)
    if redirect:
        return RedirectResponse("/login", status_code=303, headers=HEADERS)
    text = {403: "403 Forbidden", 404: "404 Not Found", 413: "413 Too Large"}.get(
        status, str(status)
    )
    return PlainTextResponse(text + "\n", status_code=status, headers=HEADERS)


def _visible(portal: Portal, who: str, period: str) -> list[published.Item]:
    """The reports ``who`` may see in ``period``, down the organisation tree: the bank's,
    then each region's followed by its branches' (a sub-branch after its branch)."""
    acl = portal.access()
    try:
        pub = published.read(portal.root, period)
    except BranchbookError:
        return []
    items = [i for i in pub.items.values() if acl.may_see(who, i.branch, i.report)]
    rank = {f: n for n, f in enumerate(_tree_order(portal.org, {i.branch for i in items}))}
    return sorted(
        items, key=lambda i: (rank.get(i.branch, len(rank)), i.branch, ORDER.index(i.report))
    )


def _tree_order(org: Org, folders) -> list[str]:
    """``folders`` (branch ids, ``region-<name>``, ``bank``) as the tree reads from the top."""
    scopes = {orgtree.folder(f"region:{r}"): r for r in set(org.regions.values()) if r}
    known = {}
    for f in folders:
        if f == orgtree.BANK:
            known[f] = {}
        elif f in scopes:
            known[f] = {"region": scopes[f]}
        else:
            known[f] = {"region": org.regions.get(f, ""), "parent_id": org.parents.get(f)}
    return [f for f, _level, _depth in tree_order(known)]


def _level_links(portal: Portal, folder: str, shown: set[str], loc: str) -> str:
    """A folder's heading in a person's index: its name, and links one level up and
    down to the folders the person sees (each heading is an anchor)."""
    up, down = levels.neighbours(portal.org.tree, folder)

    def a(f: str, arrow: str) -> str:
        name = html.escape(_folder_name(portal.org, f, loc))
        return f"<a href='#{html.escape(anchor(f))}'>{arrow} {name}</a>"

    links = [a(f, "↑") for f in up if f in shown] + [a(f, "↓") for f in down if f in shown]
    return (
        f"<tr class='level' id='{html.escape(anchor(folder))}'><th colspan='3'>"
        f"{html.escape(_folder_name(portal.org, folder, loc))} {' '.join(links)}</th></tr>"
    )


def _folder_name(org: Org, folder: str, loc: str) -> str:
    if folder == orgtree.BANK:
        return t("common.scope_name.bank", loc)
    for r in set(org.regions.values()):
        if orgtree.folder(f"region:{r}") == folder:
            return t("common.scope_name.region", loc, name=label("common.regions", r, loc))
    return folder


def _periods(portal: Portal) -> list[str]:
    return sorted(
        (p.name for p in portal.root.iterdir() if PERIOD_RE.match(p.name) and p.is_dir()),
        reverse=True,
    )


def build_app(
    reports_dir, params_dir, org: Org, *, access_log: Path, secret: bytes | None = None
) -> Starlette:
    portal = Portal(reports_dir, params_dir, org, access_log, secret)

    def person(request: Request):
        who, why = portal.identify(request)
        return who, why, (portal.access().people[who] if who else None)

    async def index(request: Request):
        who, why, p = person(request)
        if p is None:
            return _denied(portal, request, None, 401 if why == "no identity" else 403, why)
        loc = p.locale
        rows = []
        for period in _periods(portal):
            if _visible(portal, who, period):
                rows.append(f"<li><a href='/{period}/'>{html.escape(period)}</a></li>")
        body = _whoami(p) + f"<h2>{t('deliver.portal.periods', loc)}</h2>"
        body += (
            f"<ul class='periods'>{''.join(rows)}</ul>"
            if rows
            else f"<p>{t('deliver.portal.none', loc)}</p>"
        )
        return _page(t("deliver.portal.title", loc), body, loc)

    async def period_index(request: Request):
        who, why, p = person(request)
        period = request.path_params["period"]
        if p is None:
            return _denied(portal, request, None, 401 if why == "no identity" else 403, why)
        if not PERIOD_RE.match(period):
            return _denied(portal, request, who, 404, "no such period")
        loc = p.locale
        items = _visible(portal, who, period)
        packs = packs_mod.visible(portal.access(), portal.root, who, period)
        rows = ""
        shown = {i.branch for i in items}
        for n, i in enumerate(items):
            if n == 0 or items[n - 1].branch != i.branch:
                rows += _level_links(portal, i.branch, shown, loc)
            rows += (
                f"<tr data-branch='{i.branch}'><td>{i.branch}</td>"
                f"<td>{html.escape(t(f'common.reports.{i.report}', loc))}</td><td>"
                + _file_links(period, i, loc)
                + "</td></tr>"
            )
            last = n + 1 == len(items) or items[n + 1].branch != i.branch
            if last and i.branch in packs:
                rows += packs_mod.row(period, packs[i.branch], t("common.pack.title", loc))
        head = "".join(
            f"<th>{t(f'deliver.portal.{k}', loc)}</th>" for k in ("branch", "report", "files")
        )
        body = _whoami(p) + (
            f"<table class='reports'><tr>{head}</tr>{rows}</table>"
            if items
            else f"<p>{t('deliver.portal.none', loc)}</p>"
        )
        return _page(f"{t('deliver.portal.title', loc)} · {period}", body, loc)

    async def report_file(request: Request):
        who, why, p = person(request)
        period, branch = request.path_params["period"], request.path_params["branch"]
        name = request.path_params["name"]
        if p is None:
            return _denied(portal, request, None, 401 if why == "no identity" else 403, why)
        if name == PACK_FILE and PERIOD_RE.match(period) and BRANCH_ID_RE.match(branch):
            return _pack_file(portal, request, who, period, branch)
        if name == levels.LEVELS_FILE and PERIOD_RE.match(period) and BRANCH_ID_RE.match(branch):
            return _levels_file(portal, who, period, branch)
        report, locale, fmt = names.split(name) or ("", None, "")
        if not (PERIOD_RE.match(period) and BRANCH_ID_RE.match(branch)) or (
            report not in ORDER or fmt not in FORMATS
        ):
            return _denied(portal, request, who, 404, "not a report file")
        if not portal.access().may_see(who, branch, report):
            return _denied(portal, request, who, 403, f"{branch}/{report} is not in their units")
        path = (portal.root / period / branch / name).resolve()
        if not path.is_relative_to(portal.root) or not path.is_file():
            return _denied(portal, request, who, 404, "no such report")
        portal.log.write(request, who, 200, f"{period}/{branch}/{name}")
        return FileResponse(path, media_type=FORMATS[fmt], headers=HEADERS)

    async def login(request: Request):
        acl = portal.access()
        loc = portal.locale
        if not acl.portal.login:
            return _denied(portal, request, None, 404, "built-in login is off")
        error = ""
        if request.method == "POST":
            if int(request.headers.get("content-length") or 0) > MAX_FORM:
                return _denied(portal, request, None, 413, "login form too large")
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_FORM:
                    return _denied(portal, request, None, 413, "login form too large")
            form = parse_qs(body.decode("utf-8", "replace"))
            who = (form.get("user") or [""])[0].strip()
            password = (form.get("password") or [""])[0]
            stored = acl.people[who].password_hash if who in acl.people else None
            if portal.locked(who):
                portal.log.write(request, who, 429, "login locked")
                error = t("deliver.portal.locked", loc)
            elif verify(password, stored):
                portal.fails.pop(who, None)
                portal.log.write(request, who, 303, "signed in")
                resp = RedirectResponse("/", status_code=303, headers=HEADERS)
                resp.set_cookie(
                    COOKIE,
                    portal.sign(who),
                    max_age=SESSION_S,
                    httponly=True,
                    samesite="strict",
                    secure=request.url.scheme == "https",
                )
                return resp
            else:
                portal.fails.setdefault(who, []).append(time.time())
                portal.log.write(request, who or None, 401, "wrong user id or password")
                error = t("deliver.portal.failed", loc)
        form = (
            (f"<p class='error'>{html.escape(error)}</p>" if error else "")
            + "<form method='post' action='/login'>"
            f"<label>{t('deliver.portal.user', loc)} <input name='user' autocomplete='username'></label> "
            f"<label>{t('deliver.portal.password', loc)} <input name='password' type='password' "
            "autocomplete='current-password'></label> "
            f"<button type='submit'>{t('deliver.portal.sign_in', loc)}</button></form>"
        )
        return _page(t("deliver.portal.title", loc), form, loc)

    async def logout(request: Request):
        resp = RedirectResponse("/login", status_code=303, headers=HEADERS)
        resp.delete_cookie(COOKIE)
        return resp

    async def anything_else(request: Request):
        who, _, _ = person(request)
        return _denied(portal, request, who, 404, "not a report file")

    routes = [
        Route("/", index),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/{period}/", period_index),
        Route("/{period}/{branch}/{name}", report_file),
        Route("/{path:path}", anything_else),
    ]

    async def broken_access_list(request: Request, exc: ParamsError):
        log.error("portal: the access list is invalid; refusing every request: %s", exc)
        portal.log.write(request, None, 503, "access list invalid")
        return Response(status_code=503, headers=HEADERS)

    app = Starlette(routes=routes, exception_handlers={ParamsError: broken_access_list})
    app.state.portal = portal
    return app


def _levels_file(portal: Portal, who: str, period: str, folder: str) -> Response:
    """The links of ``folder``'s reports one level up and down, made for this person:
    only to reports they may see, from reports they may see (never the file on disk,
    which links every level)."""
    acl = portal.access()
    try:
        items = published.read(portal.root, period).items.values()
    except BranchbookError:
        items = []
    entries = {
        f"{i.key}.{loc}": {"branch_id": i.branch, "report": i.report, "status": "ok",
                           "outputs": outputs, "locale": loc}
        for i in items
        for loc, outputs in (i.locales or {i.locale: i.outputs}).items()
    }  # fmt: skip
    found = levels.links(
        portal.org.tree,
        entries,
        period_dir=portal.root / period,
        may_see=lambda f, r: acl.may_see(who, f, r),
    )
    return Response(
        levels.script(found.get(folder, {})),
        media_type="text/javascript; charset=utf-8",
        headers=HEADERS,
    )


def _pack_file(portal: Portal, request: Request, who: str, period: str, branch: str):
    """A branch's pack, to whoever may see every report it holds."""
    status, why, path = packs_mod.find(portal.access(), portal.root, who, period, branch)
    if path is None:
        return _denied(portal, request, who, status, why)
    portal.log.write(request, who, 200, f"{period}/{branch}/{PACK_FILE}")
    return FileResponse(path, media_type=FORMATS["pdf"], headers=HEADERS)


def _file_links(period: str, item: published.Item, loc: str) -> str:
    """The links of a report's files: one group per published locale, the reader's own
    first; named (``中文``, ``English``) only when there are several."""
    order = sorted(item.locales or {item.locale: item.outputs}, key=lambda x: x != loc)
    groups = []
    for locale in order:
        outputs = (item.locales or {}).get(locale) or item.outputs
        links = " ".join(
            f"<a href='/{period}/{html.escape(outputs[f]['path'])}' hreflang='{locale or ''}'>"
            f"{f.upper()}</a>"
            for f in FORMATS
            if f in outputs
        )
        name = t(f"common.index.locales.{locale}", loc) if len(order) > 1 and locale else ""
        groups.append(f"{html.escape(name)} {links}" if name else links)
    return " · ".join(groups)


def _whoami(p) -> str:
    return (
        f"<p class='whoami'>{html.escape(t('deliver.portal.signed_in', p.locale, name=p.name))}"
        f" <form method='post' action='/logout' style='display:inline'>"
        f"<button>{t('deliver.portal.sign_out', p.locale)}</button></form></p>"
    )


def serve(reports_dir, params_dir, org: Org, *, host: str, port: int, access_log: Path) -> None:
    """Run the portal with uvicorn until stopped."""
    import uvicorn

    app = build_app(reports_dir, params_dir, org, access_log=access_log)
    uvicorn.run(
        app, host=host, port=port, proxy_headers=False, server_header=False, log_level="info"
    )
