"""An executed report notebook, read and checked: what of it a reader may see.

The page is built from the code-cell outputs of the executed notebook, in order:
``text/html`` fragments made by :class:`branchbook.page.Page` (already escaped),
images as ``data:`` URIs, and the page meta (``META_MIME``; the last one wins).
Markdown cells, code, the parameters cells and stream output are not shown. A cell
that failed stops the rendering with :class:`RenderError` naming the cell; a
traceback is never published. Nor is a fragment with a script or an external URL:
a report is a static, self-contained page.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from .. import speedups

speedups.install("jsonschema")  # before nbformat imports it: see branchbook.speedups.jsonschema

import nbformat  # noqa: E402

from ..errors import RenderError  # noqa: E402
from ..page import META_MIME  # noqa: E402

HIDDEN_TAGS = frozenset({"parameters", "injected-parameters"})


IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")


TRACEBACK = "Traceback (most recent call last)"


_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


_EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|srcset|poster|data|action)\s*=\s*["']?\s*(?:https?:)?//)|(?:url\(\s*["']?\s*(?:https?:)?//)|@import""",
    re.IGNORECASE,
)


def read_notebook(path: str | os.PathLike) -> nbformat.NotebookNode:
    """The executed notebook at ``path``, which must be valid against the notebook schema.

    ``nbformat.read`` only logs a schema error; here it is a :class:`RenderError`
    naming the file. The runner makes each output without checking it on its own
    (``branchbook.speedups.nbclient``): this is where a bad one stops the report.
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
            + f": {one_line(getattr(exc, 'message', exc))}"
        )
    return nb


def one_line(text: Any, limit: int = 300) -> str:
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
                    f"{_where(index, cell)} raised {name}: {one_line(value)}; "
                    "the executed notebook holds the traceback, the report is not rendered"
                )
            for text in _output_texts(output):
                if TRACEBACK in text:
                    raise RenderError(
                        f"{_where(index, cell)} printed a traceback "
                        f"({one_line(_traceback_exception(text))}); the report is not rendered"
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
            if (output.get("metadata") or {}).get("branchbook", {}).get("preview"):
                continue  # the analyst's inline styles: not part of the published page
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
