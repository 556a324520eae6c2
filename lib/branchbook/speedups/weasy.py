"""WeasyPrint made faster for report pages: the same PDF, byte for byte.

- the page's own stylesheets parsed once a process, not once a PDF (about 40 ms a PDF);
- each chart's PNG data embedded as it is, not decoded and encoded again (about 15 ms a
  chart, a tenth of a report's PDF);
- a user-agent sheet without the universal rules a report never uses (about 0.1 s a
  PDF);
- images handed over by reference, not as base64 text for the HTML parser to walk
  (about 35 ms a PDF).

:func:`write_pdf` is what :func:`branchbook.output.pdf.html_to_pdf` calls when the
speedups are on; ``tests/speedups/test_weasy.py`` checks each part against WeasyPrint's
own way.
"""

from __future__ import annotations

import base64
import io
import re
import struct
from functools import cache
from typing import Any


def install() -> None:
    """Let WeasyPrint embed PNG data as it is (:func:`_install_png_passthrough`)."""
    _install_png_passthrough()


def write_pdf(html: str, base_url: str | None, protocols: tuple[str, ...]) -> bytes:
    """The PDF WeasyPrint makes of ``html``, fetching only ``protocols``, made the fast way."""
    html, images = _image_references(html)
    split = _split_stylesheets(html)
    html, sheets = split if split is not None else (html, None)
    document = _html_class()(
        string=html, base_url=base_url, url_fetcher=_fetcher(images, protocols)
    )
    return document.write_pdf(stylesheets=sheets)


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
# pages have no footnotes or notes (``float: footnote``), tests/speedups/test_weasy.py checks
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


def _fetcher(images: list[tuple[str, str]], protocols: tuple[str, ...] = ("data", "file")):
    """A URL fetcher for ``protocols`` and the page's image references."""
    import weasyprint
    from weasyprint.urls import URLFetcherResponse

    class Fetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if url.startswith(f"{_IMAGE_SCHEME}:"):
                mime, data = images[int(url[len(_IMAGE_SCHEME) + 1 :])]
                return URLFetcherResponse(url, base64.b64decode(data), {"Content-Type": mime})
            return super().fetch(url, headers)

    return Fetcher(allowed_protocols=(*protocols, _IMAGE_SCHEME))


# The page's own stylesheets, parsed once per process instead of once per PDF.
# WeasyPrint parses every <style> of every document again (tinycss2, then the selectors
# compiled for cssselect2): about 40 ms a PDF, the same three sheets every time. A page
# whose head holds only <style> elements for all media, print or screen, and whose body
# holds none, is given to WeasyPrint without them and with the same sheets, parsed
# already, as ``stylesheets`` in the same order. Those are "user" sheets to WeasyPrint,
# which changes nothing here: no author sheet is left to compete with them, the
# page's inline ``style`` attributes win over both alike, and no rule is ``!important``.
# tests/speedups/test_weasy.py checks that the PDF is byte-identical either way.
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
