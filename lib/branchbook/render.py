"""Executed report notebook -> one self-contained HTML page and its PDF.

The page is built from the code-cell outputs of the executed notebook, in order:
``text/html`` fragments made by :class:`branchbook.page.Page` (already escaped),
images as ``data:`` URIs, and the page meta (``META_MIME``; the last one wins).
Markdown cells, code, the parameters cells and stream output are not shown. A cell
that failed stops the rendering with :class:`RenderError` naming the cell; a
traceback is never published.

The page has no script and no external URL: its CSS is inline, its images are data
URIs, its font is the one installed on the machine (named, so Chinese renders with
Noto Sans CJK SC). The PDF is made from the same HTML by WeasyPrint, with the print
stylesheet (A4, running header, page numbers, classification). A glyph the font
lacks is an error, not a box.

Both exporters are nbconvert exporters, so an analyst gets the same files from
``jupyter nbconvert --to branchbook_html`` / ``branchbook_pdf`` or JupyterLab's
export menu.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import os
import re
import struct
import threading
from collections.abc import Iterator
from functools import cache, lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from . import startup

startup.lean_jsonschema()  # before nbformat: see branchbook.startup

import jinja2  # noqa: E402
import nbformat  # noqa: E402
from markupsafe import Markup  # noqa: E402
from nbconvert.exporters import Exporter  # noqa: E402
from traitlets import default  # noqa: E402

from . import __version__, i18n  # noqa: E402
from .errors import RenderError  # noqa: E402
from .iorw import atomic_notebook_saves, atomic_write, sha256  # noqa: E402
from .page import META_MIME  # noqa: E402

TEMPLATES = Path(__file__).with_name("templates")
HIDDEN_TAGS = frozenset({"parameters", "injected-parameters"})
IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")
TRACEBACK = "Traceback (most recent call last)"
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|poster|data|action)\s*=\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)|@import""",
    re.IGNORECASE,
)


# -- reading the executed notebook ----------------------------------------------------


def read_notebook(path: str | os.PathLike) -> nbformat.NotebookNode:
    """The executed notebook at ``path``, which must be valid against the notebook schema.

    ``nbformat.read`` only logs a schema error; here it is a :class:`RenderError`
    naming the file. The runner makes each output without checking it on its own
    (``runner._output_from_msg``): this is where a bad one stops the report.
    """
    errors: dict[str, Any] = {}
    try:
        nb = nbformat.read(os.fspath(path), as_version=4, capture_validation_error=errors)
    except (OSError, ValueError) as exc:
        raise RenderError(f"cannot read the executed notebook {path}: {exc}") from exc
    if "ValidationError" in errors:
        exc = errors["ValidationError"]
        where = "/".join(map(str, getattr(exc, "absolute_path", None) or ()))
        raise RenderError(
            f"the executed notebook {path} is not a valid notebook"
            + (f" at {where}" if where else "")
            + f": {_one_line(getattr(exc, 'message', exc))}"
        )
    return nb


def _one_line(text: Any, limit: int = 300) -> str:
    line = " ".join(_ANSI.sub("", str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _where(index: int, cell: Any) -> str:
    cell_id = cell.get("id")
    return f"cell {index}" + (f" (id {cell_id})" if cell_id else "")


def _traceback_exception(text: str) -> str:
    """The ``Name: value`` line that ends a printed Python traceback."""
    lines = [ln for ln in _ANSI.sub("", text).splitlines() if ln.strip()]
    after = lines[next(i for i, ln in enumerate(lines) if TRACEBACK in ln) + 1 :]
    last = [ln for ln in after if not ln.startswith((" ", "\t"))]
    return last[-1].strip() if last else "an exception"


def _output_texts(output: Any) -> Iterator[str]:
    if output.get("output_type") == "stream":
        yield str(output.get("text", ""))
    for mime in ("text/plain", "text/html"):
        value = output.get("data", {}).get(mime)
        if value is not None:
            yield "".join(value) if isinstance(value, list) else str(value)


def check_outputs(nb: nbformat.NotebookNode) -> None:
    """Raise :class:`RenderError` for the first cell that failed (error output or traceback)."""
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" or "traceback" in output:
                name = output.get("ename") or "an exception"
                value = output.get("evalue") or ""
                raise RenderError(
                    f"{_where(index, cell)} raised {name}: {_one_line(value)}; "
                    "the executed notebook holds the traceback, the report is not rendered"
                )
            for text in _output_texts(output):
                if TRACEBACK in text:
                    raise RenderError(
                        f"{_where(index, cell)} printed a traceback "
                        f"({_one_line(_traceback_exception(text))}); the report is not rendered"
                    )


def _image(mime: str, data: Any, where: str) -> str:
    if isinstance(data, list):
        data = "".join(data)
    if mime == "image/svg+xml":
        data = base64.b64encode(str(data).encode("utf-8")).decode("ascii")
    else:
        data = "".join(str(data).split())
        if not _BASE64.fullmatch(data):
            raise RenderError(f"{where} shows an {mime} output that is not base64 data")
    return f'<figure class="bb-chart"><img src="data:{mime};base64,{data}" alt=""></figure>'


class _Inspector(HTMLParser):
    """Finds live script and external loads in a fragment, looking at real tags only.

    Text that merely mentions ``<script>`` or ``javascript:`` arrives escaped from the
    page builder and is data, not markup, so it is not a finding.
    """

    ACTIVE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "base", "form"}
    URL_ATTRS = {"src", "href", "srcset", "poster", "data", "action", "formaction", "xlink:href"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.script: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.ACTIVE_TAGS:
            self.script.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip()
            low = re.sub(r"[\s\x00-\x1f]", "", value).lower()
            if name.startswith("on"):
                self.script.append(f"{tag} {name}=")
            elif name in self.URL_ATTRS and low.startswith(("javascript:", "vbscript:")):
                self.script.append(f"{tag} {name}={value[:20]}")
            elif name in self.URL_ATTRS and (low.startswith(("http:", "https:", "//", "ftp:"))):
                self.external.append(f"{tag} {name}={value[:40]}")
            elif name == "style" and _EXTERNAL.search(value):
                self.external.append(f"{tag} style")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        if self.lasttag == "style" and _EXTERNAL.search(data):
            self.external.append("<style> @import/url()")


def _check_fragment(fragment: str, where: str) -> None:
    inspector = _Inspector()
    inspector.feed(fragment)
    inspector.close()
    if inspector.script:
        raise RenderError(
            f"{where} shows HTML with JavaScript ({inspector.script[0]}); reports are static "
            "pages, show tables and charts through branchbook.page instead"
        )
    if inspector.external:
        raise RenderError(
            f"{where} shows HTML that loads an external resource ({inspector.external[0]}); "
            "reports must be self-contained (inline CSS, images as data: URIs)"
        )


def collect(nb: nbformat.NotebookNode) -> tuple[list[str], dict[str, Any]]:
    """The HTML blocks to show, in order, and the page meta of an executed notebook."""
    check_outputs(nb)
    blocks: list[str] = []
    meta: dict[str, Any] = {}
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        if HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") not in ("display_data", "execute_result"):
                continue
            data = output.get("data", {})
            if META_MIME in data:
                value = data[META_MIME]
                meta = dict(value) if isinstance(value, dict) else {}
            if "text/html" in data:
                html = data["text/html"]
                html = "".join(html) if isinstance(html, list) else str(html)
                _check_fragment(html, _where(index, cell))
                blocks.append(html)
                continue
            for mime in IMAGE_MIMES:
                if mime in data:
                    blocks.append(_image(mime, data[mime], _where(index, cell)))
                    break
    return blocks, meta


# -- the page -------------------------------------------------------------------------


class _Headings(HTMLParser):
    """Collects ``(id, text)`` of every ``h2.bb-section`` in a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h2" and "bb-section" in (a.get("class") or "").split() and a.get("id"):
            self._open = (str(a["id"]), [])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._open is not None:
            self.found.append((self._open[0], " ".join("".join(self._open[1]).split())))
            self._open = None


def headings(blocks: list[str]) -> list[tuple[str, str]]:
    """``(id, text)`` of the section headings in ``blocks``, for the table of contents."""
    parser = _Headings()
    for block in blocks:
        parser.feed(block)
    parser.close()
    return parser.found


_OPENING_ORDER = (('class="bb-title"', 0), ('class="bb-summary"', 1), ('class="bb-kpis"', 2))


def _rank(block: str) -> int:
    return next((rank for marker, rank in _OPENING_ORDER if marker in block), len(_OPENING_ORDER))


def opening(blocks: list[str]) -> tuple[list[str], list[str]]:
    """The page's opening and the rest: what comes before the table of contents.

    The opening is every block before the first section (the summary is not a
    section here); in it the title comes first, then the summary, then the KPI
    cards (the order of the design, whatever order the notebook showed them in),
    then anything else in its order.
    """
    end = next(
        (
            i
            for i, block in enumerate(blocks)
            if 'class="bb-section"' in block and 'class="bb-summary"' not in block
        ),
        len(blocks),
    )
    return sorted(blocks[:end], key=_rank), blocks[end:]


def _css_string(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{out}"'


def page_counter_css(locale: str) -> str:
    """CSS ``content`` for "Page x of y" in ``locale`` (``common.page_footer``)."""
    template = i18n.catalogue(locale)["common.page_footer"]
    parts = re.split(r"(\{pages?(?::[a-z_]+)?\})", template)
    css = []
    for part in parts:
        if not part:
            continue
        if part.startswith("{pages"):
            css.append("counter(pages)")
        elif part.startswith("{page"):
            css.append("counter(page)")
        else:
            css.append(_css_string(part))
    return " ".join(css)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=8)
def asset(name: str) -> str:
    """A stylesheet or script shipped in ``templates/``, as text."""
    return (TEMPLATES / name).read_text(encoding="utf-8")


def page_html(blocks: list[str], meta: dict[str, Any]) -> str:
    """The full report page from its blocks and meta."""
    locale = meta.get("locale") if meta.get("locale") in i18n.LOCALES else "en"
    tr = i18n.Translator(locale)
    title = meta.get("title") or ""
    branch = meta.get("branch_name") or meta.get("branch_id") or ""
    period = meta.get("period_label") or meta.get("period") or ""
    first, rest = opening(blocks)
    toc = headings(rest)
    kpis_at = next((i for i, b in enumerate(first) if 'class="bb-kpis"' in b), None)
    legend = None
    if kpis_at is not None:
        legend = {
            "swatches": [(s, tr(f"common.status.{s}")) for s in ("green", "amber", "red")],
            "text": tr("common.status_legend"),
        }
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            lang=locale,
            version=__version__,
            page_title=" · ".join(str(p) for p in (title, branch, period) if p) or "branchbook",
            report=meta.get("report", ""),
            css=Markup(asset("report.css")),
            screen_css=Markup(asset("screen.css")),
            print_css=Markup(asset("print.css")),
            page_counter=Markup(page_counter_css(locale)),
            running_left=" · ".join(str(p) for p in (meta.get("bank"), branch, period) if p),
            running_right=title,
            classification=meta.get("classification") or "",
            before_toc=[Markup(b) for b in first],
            after_toc=[Markup(b) for b in rest],
            legend=legend,
            legend_at=kpis_at,
            toc=toc,
            contents=tr("common.contents"),
        )
    )


# -- nbconvert exporters --------------------------------------------------------------


class BranchbookHTMLExporter(Exporter):
    """An executed report notebook as a self-contained HTML page (no code, no script)."""

    output_mimetype = "text/html"
    export_from_notebook = "Branchbook report (HTML)"

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".html"

    def from_notebook_node(self, nb, resources=None, **kw):
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        blocks, meta = collect(nb_copy)
        resources["branchbook"] = meta
        return page_html(blocks, meta), resources


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


def notebook_to_html(nb: nbformat.NotebookNode) -> tuple[str, dict[str, Any]]:
    """The report page (a full HTML document) of an executed notebook, and its meta."""
    html, resources = BranchbookHTMLExporter().from_notebook_node(nb)
    return html, dict(resources["branchbook"])


# -- PDF ------------------------------------------------------------------------------

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
            self.messages.append(_one_line(message, 200))


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


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_idat(data: bytes) -> bytes | None:
    """The compressed pixel rows of a PNG that a PDF can take as they are; else ``None``.

    A PDF image with ``/FlateDecode`` and PNG predictors reads exactly the
    concatenated IDAT chunks of an 8-bit, non-interlaced greyscale or RGB PNG. Any
    other PNG (palette, alpha, 16-bit, interlaced) gives ``None``.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    pos, chunks, header = len(_PNG_SIGNATURE), [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length:
            return None  # truncated
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        elif kind in (b"PLTE", b"tRNS"):
            return None
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or len(header) != 13 or not chunks:
        return None
    bit_depth, color_type, compression, filtering, interlace = header[8:13]
    if bit_depth != 8 or color_type not in (0, 2) or compression or filtering or interlace:
        return None
    return b"".join(chunks)


_weasyprint_png_data = None  # WeasyPrint's own method, kept for the fallback (and tests)


@cache
def _install_png_passthrough() -> None:
    """Let WeasyPrint embed our charts' PNG data as it is.

    For every PNG, WeasyPrint (60-70) decodes the image and encodes it again only to
    take the IDAT chunks back out (``RasterImage._get_png_data``): ~15 ms a chart, a
    tenth of a report's PDF. For a PNG that :func:`png_idat` accepts (every chart,
    see :mod:`branchbook.charts`), the original chunks are the same stream; any other
    image, or a WeasyPrint without that method, takes WeasyPrint's own path.
    """
    global _weasyprint_png_data
    from weasyprint import images

    raster = getattr(images, "RasterImage", None)
    original = getattr(raster, "_get_png_data", None) if raster else None
    if original is None:
        return
    _weasyprint_png_data = original

    def get_png_data(pillow_image):
        fp = getattr(pillow_image, "fp", None)
        if pillow_image.format == "PNG" and isinstance(fp, io.BytesIO):
            idat = png_idat(fp.getvalue())
            if idat is not None and pillow_image.mode in ("L", "RGB"):
                return idat
        return original(pillow_image)

    raster._get_png_data = staticmethod(get_png_data)


# What in WeasyPrint's user-agent sheet a report page never uses, and what it costs:
# ``::marker`` and the five footnote/note pseudo-elements are universal rules, so every
# element (3,500 in a risk page) gets six pseudo-element styles computed, about 0.1 s
# a PDF. Markers are kept for the elements that have them (``li``, ``summary``); the
# pages have no footnotes or notes (``float: footnote``), tests/test_render.py checks
# that the stylesheets ask for none and that the PDF is byte-identical either way.
_UA_UNIVERSAL_MARKER = "\n::marker {"
_UA_NOTES = re.compile(r"\n::(?:footnote|note)-[a-z]+ \{[^}]*\}")


@cache
def _html_class():
    """``weasyprint.HTML``, with the lighter user-agent sheet when this WeasyPrint's
    sheet has the rules it takes out (else WeasyPrint's own class, unchanged)."""
    import weasyprint
    from weasyprint import html as wp_html

    ua = getattr(wp_html, "UA", None)
    if (
        not isinstance(ua, str)
        or ua.count(_UA_UNIVERSAL_MARKER) != 1
        or not _UA_NOTES.search(ua)
        or not callable(getattr(weasyprint.HTML, "_ua_stylesheets", None))
    ):
        return weasyprint.HTML
    lean = _UA_NOTES.sub("\n", ua.replace(_UA_UNIVERSAL_MARKER, "\nli::marker, summary::marker {"))
    sheet = weasyprint.CSS(string=lean, counter_style=wp_html.UA_COUNTER_STYLE)
    form_sheet = getattr(wp_html, "UA_FORM_STYLESHEET", None)

    class ReportHTML(weasyprint.HTML):
        def _ua_stylesheets(self, forms=False):
            return [sheet, form_sheet] if forms and form_sheet is not None else [sheet]

    return ReportHTML


# An image the page carries as a data URI goes to WeasyPrint as a short reference
# (``bb-image:<n>``) that the URL fetcher answers: its HTML parser then does not walk
# through the base64 text of every chart, character by character (about 35 ms a PDF).
_DATA_IMAGE = re.compile(
    r'(<img\b[^>]*?\ssrc=")data:(image/(?:png|jpeg));base64,([A-Za-z0-9+/=\s]+)"'
)
_IMAGE_SCHEME = "bb-image"


def _image_references(html: str) -> tuple[str, list[tuple[str, str]]]:
    """``html`` with each ``<img src="data:image/...;base64,...">`` replaced by
    ``bb-image:<n>``, and the ``(mime type, base64)`` of each, by ``n``."""
    images: list[tuple[str, str]] = []

    def swap(match: re.Match) -> str:
        images.append((match.group(2), match.group(3)))
        return f'{match.group(1)}{_IMAGE_SCHEME}:{len(images) - 1}"'

    return _DATA_IMAGE.sub(swap, html), images


def _fetcher(images: list[tuple[str, str]]):
    """A URL fetcher for ``data:`` and ``file:`` URLs and the page's image references."""
    import weasyprint
    from weasyprint.urls import URLFetcherResponse

    class Fetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(f"{_IMAGE_SCHEME}:"):
                mime, data = images[int(url[len(_IMAGE_SCHEME) + 1 :])]
                return URLFetcherResponse(url, base64.b64decode(data), {"Content-Type": mime})
            return super().fetch(url, headers)

    return Fetcher(allowed_protocols=("data", "file", _IMAGE_SCHEME))


# The page's own stylesheets, parsed once per process instead of once per PDF.
# WeasyPrint parses every <style> of every document again (tinycss2, then the selectors
# compiled for cssselect2): about 40 ms a PDF, the same three sheets every time. A page
# whose head holds only <style> elements for all media, print or screen, and whose body
# holds none, is given to WeasyPrint without them and with the same sheets, parsed
# already, as ``stylesheets`` in the same order. Those are "user" sheets to WeasyPrint,
# which changes nothing here: no author sheet is left to compete with them, the
# page's inline ``style`` attributes win over both alike, and no rule is ``!important``.
# tests/test_render.py checks that the PDF is byte-identical either way.
_HEAD_STYLE = re.compile(r"<style(?P<attrs>[^>]*)>(?P<css>.*?)</style>\n?", re.S)
_STYLE_MEDIA = re.compile(r"""^\s*(?:media=(["'])(?P<media>[a-z, ]*)\1)?\s*$""")
_SHEETS: dict[str, Any] = {}
_SHEETS_MAX = 32


def _parsed_sheet(css: str):
    import weasyprint

    sheet = _SHEETS.get(css)
    if sheet is None:
        if len(_SHEETS) >= _SHEETS_MAX:
            _SHEETS.clear()
        sheet = _SHEETS[css] = weasyprint.CSS(string=css, media_type="print")
    return sheet


def _split_stylesheets(html: str) -> tuple[str, list[Any]] | None:
    """``html`` without the <style> elements of its head, and those that apply to
    print as parsed sheets in their order; ``None`` when the page is not one this can
    do exactly the same as WeasyPrint (a style in the body, a linked sheet, another
    media query or type)."""
    head, sep, body = html.partition("</head>")
    if not sep or "<style" in body or "<link" in html:
        return None
    matches = list(_HEAD_STYLE.finditer(head))
    if head.count("<style") != len(matches):
        return None
    found = []
    for match in matches:
        attrs = _STYLE_MEDIA.match(match.group("attrs"))
        if attrs is None:
            return None
        media = {m.strip() for m in (attrs.group("media") or "all").split(",")}
        if not media <= {"all", "print", "screen"}:
            return None
        if media & {"all", "print"}:
            found.append(match.group("css"))
    return _HEAD_STYLE.sub("", head) + sep + body, [_parsed_sheet(css) for css in found]


def html_to_pdf(html: str, *, base_url: str | os.PathLike | None = None) -> bytes:
    """The PDF of a report page. Only ``data:`` and ``file:`` URLs are fetched.

    Raises :class:`RenderError` if WeasyPrint fails, draws a ``.notdef`` glyph (a
    character the font lacks would show as a box) or cannot load an image.
    """
    import weasyprint  # noqa: F401 - heavy, and only needed for a PDF

    _install_png_passthrough()
    html, images = _image_references(html)
    fetcher = _fetcher(images)
    with _PDF_LOCK, _weasyprint_problems() as problems:
        try:
            split = _split_stylesheets(html)
            html, sheets = split if split is not None else (html, None)
            document = _html_class()(
                string=html,
                base_url=str(base_url) if base_url is not None else None,
                url_fetcher=fetcher,
            )
            pdf = document.write_pdf(stylesheets=sheets)
        except Exception as exc:
            raise RenderError(f"the PDF could not be made: {type(exc).__name__}: {exc}") from exc
    if problems.messages:
        shown = "; ".join(dict.fromkeys(problems.messages))
        raise RenderError(f"the PDF would be wrong: {shown}")
    return pdf


# -- files ----------------------------------------------------------------------------


atomic_notebook_saves()  # papermill's saves of the executed notebook, whole or not at all


def render(
    executed: str | os.PathLike | nbformat.NotebookNode,
    *,
    html_path: str | os.PathLike | None = None,
    pdf_path: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Render an executed notebook (a path or a node) and write its HTML and/or PDF.

    Both are made in memory first, then each file is written atomically, so a failure
    leaves the files already published as they were. Returns the page meta with an
    ``outputs`` entry ``{"html": {"path", "sha256", "bytes"}, "pdf": {...}}`` for the
    files written.
    Raises :class:`RenderError` if the notebook failed or the page has no meta (the
    notebook never showed its title block).
    """
    if isinstance(executed, (str, os.PathLike)):
        nb = read_notebook(executed)
        name = str(executed)
    else:
        nb, name = executed, "the notebook"
    try:
        html, meta = notebook_to_html(nb)
    except RenderError as exc:
        raise RenderError(f"{name}: {exc}") from None
    if not meta:
        raise RenderError(
            f"{name}: no page meta ({META_MIME}); the notebook never showed its title"
        )
    blobs = {"html": html.encode("utf-8")} if html_path is not None else {}
    targets = {"html": html_path, "pdf": pdf_path}
    if pdf_path is not None:
        try:
            blobs["pdf"] = html_to_pdf(html, base_url=Path(pdf_path).resolve().parent)
        except RenderError as exc:
            raise RenderError(f"{name}: {exc}") from None
    # both files are made before either is written: a failed PDF leaves the old pair
    outputs: dict[str, dict[str, Any]] = {}
    for kind, data in blobs.items():
        atomic_write(targets[kind], data)
        outputs[kind] = {"path": str(targets[kind]), "sha256": sha256(data), "bytes": len(data)}
    return {**meta, "outputs": outputs}
