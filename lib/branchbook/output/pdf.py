"""The report's PDF: the same page, printed by WeasyPrint.

The print stylesheet gives A4, a running header, page numbers and the
classification. Only ``data:`` and ``file:`` URLs are fetched. A glyph the font lacks
is an error, not a box; so is an image WeasyPrint cannot load.

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


def html_to_pdf(html: str, *, base_url: str | os.PathLike | None = None) -> bytes:
    """The PDF of a report page. Only ``data:`` and ``file:`` URLs are fetched.

    Raises :class:`RenderError` if WeasyPrint fails, draws a ``.notdef`` glyph (a
    character the font lacks would show as a box) or cannot load an image.
    """
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
