"""The branch pack: one PDF per branch and period, ``<branch>/pack.pdf`` beside its reports.

Two pages of cover brief across the four reports (the branch, the period, each
report's KPIs with status, change, bank median and rank, its red and amber counts and
where it starts; then the sentences that matter most and the first actions of each
report), then the four reports as their own PDFs print them.

The cover is made from the briefs the reports recorded in the manifest
(:mod:`branchbook.brief`: already in the report's words and locale) and is the only part
laid out (WeasyPrint); the reports' published PDFs (checked against the manifest's
checksums) are appended to it page for page with pypdf (:func:`join`), with a bookmark
per part and page labels that number each report's pages as its footer does.

A branch gets a pack only when all four of its reports are published with a PDF and a
brief; otherwise it has none (an earlier pack is removed, so a pack never holds a report
the index no longer lists) and the manifest says which reports are missing.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from .. import fmt, i18n
from ..about import __version__
from ..brief import actions_html
from ..errors import RenderError
from ..iorw import sha256
from ..paths import file_sha256
from ..reports import REPORTS
from .html import _env, asset
from .pdf import html_to_pdf

#: The pack's file name in a branch's folder.
PACK_FILE = "pack.pdf"
#: Per report on the cover: sentences and actions (two pages for four reports).
COVER_SENTENCES, COVER_ACTIONS = 2, 3
COVER_CARDS = 6  # each report's first six cards: its brief has them all
#: Pages of the cover.
COVER_PAGES = 2


def missing_reports(
    entries: Mapping[str, Mapping[str, Any]],
    branch_id: str,
    period_dir: Path,
    reports: Sequence[str] = tuple(REPORTS),
) -> list[str]:
    """The reports of ``branch_id`` that keep it from a pack: not published (``ok``) in
    the manifest, without a PDF or a brief, or whose published HTML or PDF is not the
    file the manifest lists."""
    out = []
    for report in reports:
        e = entries.get(f"{branch_id}/{report}") or {}
        outputs = e.get("outputs") or {}
        ok = e.get("status") == "ok" and e.get("brief") and {"html", "pdf"} <= outputs.keys()
        if ok:
            for kind in ("html", "pdf"):
                path = period_dir / str(outputs[kind].get("path", ""))
                if not path.is_file() or file_sha256(path) != outputs[kind].get("sha256"):
                    ok = False
        if not ok:
            out.append(report)
    return out


def fingerprint(
    entries: Mapping[str, Mapping[str, Any]], branch_id: str, code: str, **cover: Any
) -> str:
    """What the pack is made from: the reports' published files, the cover's words and
    the code that makes it."""
    h = hashlib.sha256(code.encode())
    for report in REPORTS:
        outputs = (entries.get(f"{branch_id}/{report}") or {}).get("outputs") or {}
        for kind in ("html", "pdf"):
            h.update(str((outputs.get(kind) or {}).get("sha256", "")).encode())
    h.update(repr(sorted(cover.items())).encode())
    return h.hexdigest()[:16]


def cover_html(
    briefs: Mapping[str, Mapping[str, Any]],
    *,
    locale: str,
    bank_name: str,
    branch: Mapping[str, Any],
    period: str,
    signals: Mapping[str, Mapping[str, int]],
    starts: Mapping[str, int],
    classification: str = "",
) -> str:
    """The pack's cover (a whole HTML document, two A4 pages): ``briefs`` maps a report
    to its brief (:func:`branchbook.brief.brief_data`), ``signals`` to its red and amber
    counts, ``starts`` to the page of the pack it starts on."""
    tr = i18n.Translator(locale)
    name = branch.get("name_zh") if locale == "zh-CN" and branch.get("name_zh") else None
    name = str(name or branch.get("name") or branch.get("branch_id", ""))
    region = str(branch.get("region") or "")
    period_label = fmt.month(period, locale)
    reports = []
    for report, data in briefs.items():
        s = signals.get(report) or {}
        todo, more = data.get("actions"), ""
        if todo is not None:
            shown = list(todo.get("rows", []))[:COVER_ACTIONS]
            todo = {**todo, "rows": shown, "more": 0}
            rest = int(todo.get("total", 0)) - len(shown)
            if rest > 0:
                title = data.get("title") or report
                more = tr("common.pack.more", more=rest, total=int(todo["total"]), report=title)
        reports.append(
            {
                "key": report,
                "title": data.get("title") or tr(f"common.reports.{report}"),
                "cards": list(data.get("cards", []))[:COVER_CARDS],
                "sentences": list(data.get("sentences", []))[:COVER_SENTENCES],
                "actions": Markup(actions_html(todo, tr, link=False)) if todo else None,
                "more": more,
                "signals": tr(
                    "common.index.signals_count",
                    red=int(s.get("red") or 0),
                    amber=int(s.get("amber") or 0),
                ),
                "start": starts.get(report),
            }
        )
    return (
        _env()
        .get_template("pack.html.j2")
        .render(
            lang=locale,
            version=__version__,
            t=tr,
            page_title=tr("common.pack.file_title", branch=name, period=period_label),
            css=Markup(asset("report.css")),
            print_css=Markup(asset("print.css")),
            pack_css=Markup(asset("pack.css")),
            bank_name=bank_name,
            branch_name=name,
            branch_id=str(branch.get("branch_id", "")),
            region=tr.label("common.regions", region) if region else "",
            period=period_label,
            classification=classification,
            reports=reports,
        )
    )


def make_pack(
    period_dir: Path,
    branch_id: str,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    locale: str,
    bank_name: str,
    branch: Mapping[str, Any],
    period: str,
    classification: str = "",
) -> tuple[bytes, dict[str, int]]:
    """The pack's PDF of a branch whose four reports are published
    (:func:`missing_reports` is empty), and its pages: ``{"cover": 2, "<report>": n}``.

    Raises :class:`RenderError` if a report's PDF is not the file the manifest lists
    or cannot be read."""
    folder = Path(period_dir)
    pdfs = {}
    for report in REPORTS:
        item = entries[f"{branch_id}/{report}"]["outputs"]["pdf"]
        data = (folder / item["path"]).read_bytes()
        if sha256(data) != item.get("sha256"):
            raise RenderError(f"{item['path']}: not the PDF the manifest lists (sha256 differs)")
        pdfs[report] = data
    counts = {report: page_count(data, report) for report, data in pdfs.items()}
    briefs = {r: entries[f"{branch_id}/{r}"]["brief"] for r in REPORTS}
    starts, at = {}, COVER_PAGES + 1
    for report in REPORTS:
        starts[report] = at
        at += counts[report]
    cover = cover_html(
        briefs,
        locale=locale,
        bank_name=bank_name,
        branch=branch,
        period=period,
        signals={r: entries[f"{branch_id}/{r}"].get("signals") or {} for r in REPORTS},
        starts=starts,
        classification=classification,
    )
    tr = i18n.Translator(locale)
    titles = {r: str(briefs[r].get("title") or tr(f"common.reports.{r}")) for r in REPORTS}
    first = html_to_pdf(cover)
    parts = [(tr("common.pack.title"), first), *((titles[r], pdfs[r]) for r in REPORTS)]
    return join(parts), {"cover": page_count(first, "cover"), **counts}


def page_count(pdf: bytes, name: str) -> int:
    """The pages of ``pdf`` (``name`` says which in an error)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except (PdfReadError, ValueError) as exc:
        raise RenderError(f"{name}: the PDF cannot be read: {exc}") from exc


def join(parts: Sequence[tuple[str, bytes]]) -> bytes:
    """One PDF of ``parts`` (title, PDF) one after the other, page for page: each part's
    pages, links and bookmarks as they are, under a bookmark of its title; page labels
    numbering each part's pages from 1 after its title (the pages print those numbers);
    the first part's metadata (title, language). Objects that are the same in several
    parts (a font file, an image) are written once."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.constants import PageLabelStyle
    from pypdf.errors import PdfReadError
    from pypdf.generic import NameObject

    writer = PdfWriter()
    at = 0
    try:
        for i, (title, data) in enumerate(parts):
            reader = PdfReader(io.BytesIO(data))
            if i == 0:
                writer.add_metadata(dict(reader.metadata or {}))
                lang = reader.trailer["/Root"].get("/Lang")
                if lang is not None:
                    writer.root_object[NameObject("/Lang")] = lang
            n = len(reader.pages)
            _explicit_links(reader)
            writer.append(reader, outline_item=title)
            writer.set_page_label(at, at + n - 1, PageLabelStyle.DECIMAL, f"{title} ", 1)
            at += n
    except (PdfReadError, ValueError, KeyError) as exc:
        raise RenderError(f"the pack could not be joined: {type(exc).__name__}: {exc}") from exc
    writer.page_mode = "/UseOutlines"
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _explicit_links(reader: Any) -> None:
    """The links of a part that jump to a named destination (``#sec-risk``) jump to its
    place on the page instead: the names repeat across the parts (every report has its
    summary and definitions), so once joined a name would lead into the first report."""
    from pypdf.generic import NameObject

    named = reader.named_destinations
    for page in reader.pages:
        for ref in page.get("/Annots") or []:
            link = ref.get_object()
            action = link.get("/A")
            name = link.get("/Dest")
            if name is None and action is not None and action.get("/S") == "/GoTo":
                name = action.get("/D")
            if isinstance(name, str) and name in named:
                link[NameObject("/Dest")] = named[name].dest_array
                if "/A" in link:
                    del link["/A"]


def pack_entry(path: str, data: bytes, pages: Mapping[str, int], print_: str) -> dict[str, Any]:
    """The manifest's record of a published pack."""
    return {
        "status": "ok",
        "fingerprint": print_,
        "pages": dict(pages),
        "outputs": {"pdf": {"path": path, "sha256": sha256(data), "bytes": len(data)}},
    }
