"""The report page: one self-contained HTML document from an executed notebook.

The page has no script and no external URL: its CSS is inline, its images are data
URIs, its font is the one installed on the machine (named, so Chinese renders with
Noto Sans CJK SC). In front: the title, the summary and the KPI cards (with the
status legend), then a table of contents of the sections, then the sections.

:class:`BranchbookHTMLExporter` is an nbconvert exporter, so an analyst gets the same
page from ``jupyter nbconvert --to branchbook_html`` or JupyterLab's export menu.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import nbformat
from markupsafe import Markup
from nbconvert.exporters import Exporter
from traitlets import default

from .. import i18n
from ..about import __version__
from .inspect import collect

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


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


_OPENING_ORDER = (
    ('class="bb-title"', 0),
    ('class="bb-brief"', 1),
    ('class="bb-summary"', 2),
    ('class="bb-kpis"', 3),
)


def _rank(block: str) -> int:
    return next((rank for marker, rank in _OPENING_ORDER if marker in block), len(_OPENING_ORDER))


def opening(blocks: list[str]) -> tuple[list[str], list[str]]:
    """The page's opening and the rest: what comes before the table of contents.

    The opening is every block before the first section (the summary is not a
    section here), and the brief wherever the notebook made it (it is made last, from
    the finished page); in it the title comes first, then the brief, then the summary,
    then the KPI cards (the order of the design, whatever order the notebook showed
    them in), then anything else in its order.
    """
    briefs = [b for b in blocks if 'class="bb-brief"' in b]
    blocks = [b for b in blocks if 'class="bb-brief"' not in b]
    end = next(
        (
            i
            for i, block in enumerate(blocks)
            if 'class="bb-section"' in block and 'class="bb-summary"' not in block
        ),
        len(blocks),
    )
    return sorted([*briefs, *blocks[:end]], key=_rank), blocks[end:]


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


def notebook_to_html(nb: nbformat.NotebookNode) -> tuple[str, dict[str, Any]]:
    """The report page (a full HTML document) of an executed notebook, and its meta."""
    html, resources = BranchbookHTMLExporter().from_notebook_node(nb)
    return html, dict(resources["branchbook"])
