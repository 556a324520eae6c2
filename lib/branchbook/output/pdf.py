"""The report's PDF: the same page, set by Typst (or printed by WeasyPrint).

A report page is set by :mod:`branchbook.output.typeset` (Typst: about a sixth of
WeasyPrint's CPU time a page). A page it cannot set (any other page, such as the pack's
cover, or a report block it does not know) is printed by WeasyPrint with the print
stylesheet, which gives the same A4, running header, page numbers and classification;
so is every page when ``BRANCHBOOK_PDF_ENGINE=weasyprint``. On either route only
``data:`` and ``file:`` URLs are fetched, and a glyph the font lacks is an error, not a
box; so is an image that cannot be loaded.

:class:`BranchbookPDFExporter` is an nbconvert exporter (``jupyter nbconvert --to
branchbook_pdf``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator

from nbconvert.exporters import Exporter
from traitlets import default

from .. import speedups
from ..errors import RenderError
from .html import BranchbookHTMLExporter
from .inspect import one_line


class BranchbookPDFExporter(Exporter):
    """An executed report notebook as an A4 PDF (WeasyPrint, fonts embedded)."""

    output_mimetype = "application/pdf"
    export_from_notebook = "Branchbook report (PDF)"

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(self, nb, resources=None, **kw):
        html, resources = BranchbookHTMLExporter(parent=self).from_notebook_node(
            nb, resources, **kw
        )
        resources["output_extension"] = self.file_extension
        return html_to_pdf(html), resources


# WeasyPrint calls Pango and fontconfig, which are not safe to share between threads;
# a PDF takes a fraction of a second next to executing a notebook, so make them one at a time.
_PDF_LOCK = threading.Lock()


_PDF_PROBLEMS = re.compile(
    r"\.notdef glyph|glyph.*missing|Failed to (?:load|render)", re.IGNORECASE
)


class _Problems(logging.Handler):
    """WeasyPrint's messages, in this thread, that would make a wrong PDF."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        message = record.getMessage()
        if _PDF_PROBLEMS.search(message):
            self.messages.append(one_line(message, 200))


@contextlib.contextmanager
def _weasyprint_problems() -> Iterator[_Problems]:
    logger = logging.getLogger("weasyprint")
    handler = _Problems()
    level = logger.level
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# What a report's PDF may fetch: its own data URIs and local files, never the network.
PROTOCOLS = ("data", "file")


def _weasyprint_pdf(html: str, base_url: str | None, protocols: tuple[str, ...]) -> bytes:
    """The PDF of ``html`` made by WeasyPrint as it is shipped (the speedups off)."""
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols=protocols)
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()


# The engines a report page can be set by, the first the default.
ENGINES = ("typst", "weasyprint")


def engine() -> str:
    """The engine report pages are set by: ``BRANCHBOOK_PDF_ENGINE`` or Typst."""
    name = os.environ.get("BRANCHBOOK_PDF_ENGINE", "").strip().lower() or ENGINES[0]
    if name not in ENGINES:
        raise RenderError(
            f"BRANCHBOOK_PDF_ENGINE={name!r} is not a PDF engine (one of: {', '.join(ENGINES)})"
        )
    return name


log = logging.getLogger(__name__)

#: The largest page (its HTML, in bytes) set as a PDF. The demo's pages are 1-3 MB and
#: the 300-branch bank's risk page 14 MB (2,510 A4 pages); its staff KPI page was 210 MB,
#: and Typst had taken 23 GB of memory and was still going when it was stopped. A page
#: past this fails its report with one line rather than the machine.
MAX_PRINTED_BYTES = 40_000_000


def html_to_pdf(html: str, *, base_url: str | os.PathLike | None = None) -> bytes:
    """The PDF of a page: a report page set by Typst, any other by WeasyPrint. Only
    ``data:`` and ``file:`` URLs are fetched.

    Raises :class:`RenderError` if the page cannot be made, holds a character the font
    lacks (it would show as a box) or an image that cannot be loaded, or is larger than
    :data:`MAX_PRINTED_BYTES`.
    """
    size = len(html.encode("utf-8"))
    if size > MAX_PRINTED_BYTES:
        raise RenderError(
            f"the page is {size / 1e6:,.0f} MB, too large to print (at most "
            f"{MAX_PRINTED_BYTES / 1e6:,.0f} MB): its tables and charts at this scope are "
            "too long for a PDF"
        )
    if engine() == "typst":
        from . import typeset

        try:
            with _PDF_LOCK:
                return typeset.pdf(html)
        except typeset.Unsupported as why:
            if "not a report page" not in str(why):
                log.warning("PDF by WeasyPrint: Typst cannot set this page (%s)", why)
    return _weasyprint_route(html, base_url)


def _weasyprint_route(html: str, base_url: str | os.PathLike | None) -> bytes:
    """The PDF WeasyPrint prints of ``html`` with the page's print stylesheet."""
    make = _weasyprint_pdf
    if speedups.install("weasy"):
        from ..speedups import weasy

        make = weasy.write_pdf
    with _PDF_LOCK, _weasyprint_problems() as problems:
        try:
            pdf = make(html, str(base_url) if base_url is not None else None, PROTOCOLS)
        except Exception as exc:
            raise RenderError(f"the PDF could not be made: {type(exc).__name__}: {exc}") from exc
    if problems.messages:
        shown = "; ".join(dict.fromkeys(problems.messages))
        raise RenderError(f"the PDF would be wrong: {shown}")
    return pdf
