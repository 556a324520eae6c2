"""A report page set in Typst: how its PDF is made.

The page's HTML (the blocks :class:`branchbook.page.Page` makes inside the report
template) is read element by element and written as Typst markup with the print
stylesheet's look: A4, the running header from page 2, the classification and "page x
of y" in the footer, tables at the column widths ``print_layout`` computed with their
header row repeated on each page and rows never cut, charts at the size they were
drawn, the brief alone on page 1, headings as the PDF's bookmarks, contents entries as
links. Typst lays a report out in about a sixth of the CPU time WeasyPrint takes
(``benchmarks/pdf_routes.py``).

The reading is strict: an element or class this module does not know raises
:class:`Unsupported`, and :func:`branchbook.output.pdf.html_to_pdf` then prints that
page with WeasyPrint and the print stylesheet, so a new kind of block is never dropped
silently. Text is checked against the font before anything is laid out: a character
Noto Sans CJK SC lacks is an error, as it is on the WeasyPrint route (it would print as
a box).
"""

from __future__ import annotations

import base64
import re
import struct
import tempfile
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

FONT = "Noto Sans CJK SC"

# A column of a table without computed widths whose longest text is at most this many
# em is as wide as that text (never wrapped); longer ones share what is left.
SHORT_TEXT_EM = 10.0

# Tables of up to this many rows (header and totals included) never break across pages.
SHORT_TABLE = 14


class Unsupported(ValueError):
    """The page holds an element this typesetter does not know (WeasyPrint prints it)."""


# -- the look: the print stylesheet's sizes (1rem = 9.5 pt; CSS px = 0.75 pt) --------
PREAMBLE = r"""
#let ink = rgb("#1f2933")
#let muted = rgb("#5f6b7a")
#let line-c = rgb("#d9dee5")
#let zebra = rgb("#f5f7fa")
#let accent = rgb("#1d4f91")
#let rule-c = rgb("#9fb0c7")
#let status-c = (
  green: (rgb("#1b7f3b"), rgb("#e8f5ec"), rgb("#1b7f3b")),
  amber: (rgb("#9a6200"), rgb("#fff4dc"), rgb("#d48a00")),
  red: (rgb("#b42318"), rgb("#fdecea"), rgb("#b42318")),
  grey: (rgb("#5f6b7a"), rgb("#f0f2f5"), rgb("#5f6b7a")),
)
#let heat = (
  (rgb("#f7fbff"), black), (rgb("#deebf7"), black), (rgb("#c6dbef"), black),
  (rgb("#9ecae1"), black), (rgb("#6baed6"), black), (rgb("#4292c6"), black),
  (rgb("#2171b5"), white), (rgb("#08519c"), white), (rgb("#08306b"), white),
)
#set document(title: TITLE)
// CSS line-height 1.5: a line box of 1em and half an em between lines
#set text(font: FONT, fallback: false, size: 9.5pt, fill: ink, lang: LANG, region: REGION,
  top-edge: 0.8em, bottom-edge: -0.2em, hyphenate: false, cjk-latin-spacing: none)
#set par(leading: 0.5em, spacing: 0.5em, justify: false)
#set page(
  paper: "a4",
  margin: (top: 19mm, bottom: 17mm, left: 15mm, right: 15mm),
  header-ascent: 4mm,
  footer-descent: 2.5mm,
  header: context {
    if counter(page).get().first() > 1 {
      set text(size: 7.5pt, fill: muted)
      set par(leading: 0.3em)
      block(width: 100%, stroke: (bottom: 0.5pt + rgb("#b8c2cf")), inset: (bottom: 2.5mm),
        grid(columns: (62%, 38%), align(left + bottom, RUNLEFT), align(right + bottom, RUNRIGHT)))
    }
  },
  footer: context {
    set text(size: 7.5pt, fill: muted)
    grid(columns: (50%, 50%), align(left, text(weight: 700, CLASSIFICATION)),
      align(right, PAGECOUNTER))
  },
)
#show heading: set text(weight: 700)
#show heading: set block(sticky: true)
#show heading.where(level: 1): it => block(above: 0.2em, below: 0.75em, text(size: 17.1pt, it.body))
#show heading.where(level: 2): it => block(above: 1.4em * 0.77, below: 0.6em, width: 100%,
  stroke: (bottom: 1.5pt + accent), inset: (bottom: 0.3em), text(size: 12.35pt, fill: accent, it.body))
#show heading.where(level: 3): it => block(above: 1.3em, below: 0.5em, text(size: 9.975pt, it.body))
#show link: it => if type(it.dest) == str { text(fill: accent, it) } else { it }
#let h2plain(size, fill, above, below, body) = block(above: above, below: below, sticky: true,
  text(size: size, weight: 700, fill: fill, body))
#let note(body) = block(above: 0.5em, below: 0.5em, text(size: 8.075pt, fill: muted, body))
#let para(body) = block(above: 0.5em, below: 0.5em, body)
#let pill(status, size, body) = box(fill: status-c.at(status).at(1), radius: 7pt,
  inset: (x: 5pt, y: 1pt), text(weight: 700, size: size, fill: status-c.at(status).at(0), "● " + body))
#let kpicard(status, body) = block(breakable: false, width: 100%, radius: 4.5pt,
  stroke: (rest: 0.75pt + line-c, top: 3.75pt + status-c.at(status).at(2)),
  inset: (x: 9pt, top: 7.5pt, bottom: 9pt), text(size: 8.075pt, fill: muted, body))
#let bcard(status, body) = block(breakable: false, width: 100%, radius: 3.75pt,
  stroke: (rest: 0.75pt + line-c, left: 3.75pt + status-c.at(status).at(2)),
  inset: (left: 6.75pt, right: 6.75pt, top: 3.75pt, bottom: 4.5pt),
  { set par(leading: 0.35em); text(size: 7.6pt, fill: muted, body) })
"""


def _s(text: str) -> str:
    """``text`` as a Typst string literal (code)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def _elements(el) -> list:
    """``el``'s child elements (not its comments)."""
    return [c for c in el if isinstance(c.tag, str)]


# -- reading the page ---------------------------------------------------------------
# The page is branchbook's own HTML, written by its templates with every element closed:
# it is read with the standard library's tokenizer into an ElementTree, without the HTML5
# tree construction (implied <tbody>, misnesting repairs) a browser needs for other
# people's pages. tinyhtml5 (WeasyPrint's parser) gave the same Typst source for every
# demo page and took 2.7 times the CPU (64 pages: 14.1 s against 5.3 s of page_source,
# the walk included). An end tag that closes nothing open is :class:`Unsupported`.
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: ElementTree.Element | None = None
        self.open: list[ElementTree.Element] = []
        self.closed: ElementTree.Element | None = None  # text after it is its tail

    def handle_starttag(self, tag: str, attrs: list) -> None:
        el = ElementTree.Element(tag, {k: "" if v is None else v for k, v in attrs})
        if self.open:
            self.open[-1].append(el)
        elif self.root is None:
            self.root = el
        else:
            raise Unsupported(f"<{tag}> after the page's root element")
        if tag in VOID:
            self.closed = el
        else:
            self.open.append(el)
            self.closed = None

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i].tag == tag:
                self.closed = self.open[i]
                del self.open[i:]
                return
        raise Unsupported(f"</{tag}> closes no open element")

    def handle_data(self, data: str) -> None:
        if self.closed is not None:
            self.closed.tail = (self.closed.tail or "") + data
        elif self.open:
            self.open[-1].text = (self.open[-1].text or "") + data


def parse(html: str) -> ElementTree.Element:
    """The page's root element (``<html>``) as an ElementTree; comments and the doctype
    left out."""
    tree = _Tree()
    tree.feed(html)
    tree.close()
    if tree.root is None:
        raise Unsupported("no element in the page")
    return tree.root


def _text(el) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


_STATUSES = ("green", "amber", "red")


def _status(el) -> str:
    return next((s for s in _STATUSES if f"bb-{s}" in _classes(el)), "grey")


_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_\-.:]*")


@dataclass
class Source:
    """A page as Typst: the markup, its chart images by file name, and its text."""

    markup: str
    images: dict[str, bytes] = field(default_factory=dict)
    text: str = ""


# Inline elements read as text with their children; blocks below are each one case.
_INLINE = {"span", "a", "b", "strong", "em", "i", "small", "sub", "sup", "code", "br", "abbr"}
# Block classes the typesetter draws; any other class on a block is unknown.
_KNOWN = {
    "bb-page", "bb-title", "bb-bank", "bb-brief", "bb-bcards", "bb-summary", "bb-kpis",
    "bb-legend", "bb-toc", "bb-section", "bb-intro", "bb-note", "bb-table", "bb-heat",
    "bb-brief-actions", "bb-brief-more", "bb-actions-note", "bb-suppressed-note",
    "bb-notice", "bb-notice-title", "bb-chart", "bb-methods", "bb-appendix",
    "bb-definitions", "bb-provenance", "bb-levels",
    "bb-cover-page", "bb-pack-contents", "bb-pack-kpis",
}  # fmt: skip


class _Writer:
    """One page's ``<main>`` as Typst markup."""

    def __init__(self, ids: set[str], pngs: list[bytes], *, pack: bool = False) -> None:
        self.pack = pack  # the branch pack's cover (its own headings' look)
        self.keep = False  # the block being written stays with the next one
        self.cover_pages = 0
        self.ids = ids  # the ids a link may point to
        self.pngs = pngs  # the page's inline PNGs, by the number their <img> now holds
        self.images: dict[str, bytes] = {}
        self.chars: list[str] = []

    # -- text ---------------------------------------------------------------------
    def lit(self, text: str | None) -> str:
        if not text:
            return ""
        text = re.sub(r"\s+", " ", text)
        self.chars.append(text)
        return f"#{_s(text)}" if text.strip() else " "

    def inline(self, el) -> str:
        out = [self.lit(el.text)]
        for child in el:
            out.append(self.inline_one(child))
            out.append(self.lit(child.tail))
        return "".join(out)

    def inline_one(self, el) -> str:
        tag, cls = el.tag, _classes(el)
        if not isinstance(tag, str):
            return ""  # a comment
        if tag not in _INLINE:
            raise Unsupported(f"<{tag}> inside a line of text")
        if tag == "br":
            return "#linebreak()"
        if cls & {"bb-bcard-status", "bb-kpi-status"}:
            return ""  # the card draws it as its pill
        body = self.inline(el)
        if tag in ("b", "strong"):
            return f"#strong[{body}]"
        if tag == "a":
            href = el.get("href") or ""
            if href.startswith("#"):
                target = href[1:]
                if target in self.ids and _LABEL.fullmatch(target):
                    return f"#link(<{target}>)[{body}]"
                return body
            if href:
                return f"#link({_s(href)})[{body}]"
            return body
        if tag == "sup":
            return f"#super[{body}]"
        if tag == "sub":
            return f"#sub[{body}]"
        if tag == "span" and "bb-pack-status" in cls:
            colour = f"status-c.{_status(el)}.at(0)"
            return f"#box(text(weight: 700, fill: {colour})[● {body}])"
        if tag == "span" and "bb-swatch" in cls:
            colour = f"status-c.{_status(el)}.at(0)"
            return f"#box(text(weight: 700, fill: {colour})[● {body}])#h(0.8em)"
        return body

    def label(self, el) -> str:
        ident = el.get("id") or ""
        return f" <{ident}>" if ident and _LABEL.fullmatch(ident) else ""

    # -- blocks -------------------------------------------------------------------
    def blocks(self, el) -> str:
        parts = [self.lit(el.text).strip(" ")] if el.text and el.text.strip() else []
        previous: set[str] = set()
        for child in _elements(el):
            cls = _classes(child)
            # a section's intro sentence, and a note right after it or after the heading,
            # stay with what they introduce (the print sheet's break-after: avoid)
            self.keep = "bb-intro" in cls or (
                "bb-note" in cls and bool(previous & {"bb-intro", "bb-section"})
            )
            parts.append(self.block(child))
            self.keep = False
            previous = cls
            if child.tail and child.tail.strip():
                parts.append(f"#para[{self.lit(child.tail)}]")
        return "\n".join(p for p in parts if p)

    def block(self, el) -> str:  # noqa: PLR0911, PLR0912 - one case per kind of block
        tag, cls = el.tag, _classes(el)
        if not isinstance(tag, str) or tag in ("script", "style"):
            return ""
        unknown = {c for c in cls if c.startswith("bb-")} - _KNOWN
        unknown -= {f"bb-{s}" for s in (*_STATUSES, "none", "not-recorded")}
        if unknown:
            raise Unsupported(f"<{tag} class={' '.join(sorted(unknown))}>")
        if tag == "nav" and "bb-levels" in cls:
            return ""  # links filled in by the browser; hidden without a script
        if tag == "header" and "bb-title" in cls:
            return self.title(el)
        if tag in ("h1", "h2", "h3"):
            return self.heading(el, tag, cls)
        if tag == "p":
            return self.paragraph(el, cls)
        if tag in ("ul", "ol"):
            return self.items(el, tag)
        if tag == "section" and "bb-cover-page" in cls:
            # the pack's cover: two pages, figures first, then what matters and what to do
            self.cover_pages += 1
            body = self.blocks(el)
            return body if self.cover_pages == 1 else f"#pagebreak(weak: true)\n{body}"
        if tag == "section":
            body = self.blocks(el)
            if "bb-brief" in cls:
                return f"#block(above: 0.3em, below: 0pt)[{body}]\n#pagebreak(weak: true)"
            return body
        if tag == "div" and cls & {"bb-kpis", "bb-bcards"}:
            return self.cards(el, brief="bb-bcards" in cls)
        if tag == "nav" and "bb-toc" in cls:
            return self.toc(el)
        if tag == "div" and "bb-table" in cls:
            return self.table_block(el, cls)
        if tag == "figure":
            return self.figure(el)
        if tag == "dl":
            return self.definitions(el)
        if tag == "footer" and "bb-provenance" in cls:
            return (
                "#block(above: 2.5em, width: 100%, breakable: false, stroke: (top: 0.75pt + line-c),"
                f" inset: (top: 0.6em), text(size: 7.41pt, fill: muted)[{self.inline(el)}])"
            )
        if tag == "aside" and "bb-notice" in cls:
            return (
                "#block(above: 1em, below: 1em, width: 100%, fill: status-c.amber.at(1),"
                " stroke: (left: 3pt + status-c.amber.at(0)), inset: (x: 0.9em, y: 0.5em))"
                f"[#set text(fill: ink)\n{self.blocks(el)}]"
            )
        if tag == "div" and not cls:
            return self.blocks(el)
        raise Unsupported(f"<{tag}{' class=' + ' '.join(sorted(cls)) if cls else ''}>")

    def heading(self, el, tag: str, cls: set[str]) -> str:
        body = self.inline(el)
        if tag == "h2" and self.pack:
            return (
                "#block(above: 0.85em, below: 0.35em, width: 100%, sticky: true,"
                " stroke: (bottom: 1.5pt + accent), inset: (bottom: 0.15em),"
                f" text(size: 10.9pt, weight: 700, fill: accent)[{body}]){self.label(el)}"
            )
        if tag == "h3" and self.pack:
            return f"#block(above: 0.6em, below: 0.2em, sticky: true, text(size: 9.3pt, weight: 700)[{body}])"
        if tag == "h2" and "bb-section" not in cls:
            # the brief's and the contents' titles: styled, not numbered among sections
            size = "11.4pt" if el.get("id") == "brief-h" else "9.5pt"
            fill = "accent" if el.get("id") == "brief-h" else "ink"
            return f"#h2plain({size}, {fill}, 0.3em, 0.5em)[{body}]{self.label(el)}"
        level = int(tag[1])
        return f"#heading(level: {level})[{body}]{self.label(el)}"

    def paragraph(self, el, cls: set[str]) -> str:
        body = self.inline(el)
        if "bb-legend" in cls:
            return f"#block(above: 0.4em, below: 1em, text(size: 7.79pt, fill: muted)[{body}])"
        if "bb-notice-title" in cls:
            return f"#block(above: 0.15em, below: 0.15em, text(size: 8.075pt, weight: 600)[{body}])"
        if self.keep:
            if "bb-note" in cls:
                body = f"#text(size: 8.075pt, fill: muted)[{body}]"
            return f"#block(above: 0.5em, below: 0.5em, sticky: true)[{body}]"
        if "bb-note" in cls:
            return f"#note[{body}]"
        return f"#para[{body}]"

    def items(self, el, tag: str) -> str:
        entries = []
        for li in _elements(el):
            if li.tag != "li":
                raise Unsupported(f"<{li.tag}> in a list")
            inner = self.blocks(li) if any(c.tag in ("ul", "ol", "p", "div") for c in li) else None
            body = inner if inner is not None else self.inline(li)
            if "bb-note" in _classes(li):
                body = f"#text(size: 8.075pt)[{body}]"
            entries.append(f"[{body}]")
        fn = "enum" if tag == "ol" else "list"
        spacing = "0.3em" if self.pack else "0.5em"
        return (
            f"#block(above: 0.4em, below: 0.5em, {fn}(indent: 0.3em, body-indent: 0.6em,"
            f" spacing: {spacing}, {', '.join(entries)}))"
        )

    def title(self, el) -> str:
        out = []
        for child in _elements(el):
            if child.tag == "p":
                out.append(
                    f"#block(below: 0.35em, text(fill: muted, size: 9.025pt, tracking: 0.04em)"
                    f"[{self.inline(child)}])"
                )
            elif child.tag == "h1":
                out.append(self.heading(child, "h1", set()))
            elif child.tag == "dl":
                pairs = []
                for div in child:
                    dt, dd = div.find("dt"), div.find("dd")
                    if dt is None or dd is None:
                        raise Unsupported("a title entry without its term and value")
                    pairs.append(
                        f"#box[#text(fill: muted)[{self.inline(dt)}]#h(0.5em)"
                        f"#strong[{self.inline(dd)}]]"
                    )
                out.append(f"#block(below: 0.3em)[{' #h(2em) '.join(pairs)}]")
            else:
                raise Unsupported(f"<{child.tag}> in the title block")
        return (
            "#block(width: 100%, stroke: (bottom: 0.75pt + line-c), inset: (bottom: 0.7em),"
            " below: 0.6em)[" + "\n".join(out) + "]"
        )

    def cards(self, el, brief: bool) -> str:
        cells = []
        for card in _elements(el):
            status = _status(card)
            muted_value = "bb-not-recorded" in _classes(card)
            lines = []
            for part in card:
                pcls = _classes(part)
                if pcls & {"bb-kpi-label", "bb-bcard-label"}:
                    size = "7.6pt" if brief else "8.55pt"
                    lines.append(
                        f"#text(fill: ink, weight: 700, size: {size})[{self.inline(part)}]"
                    )
                elif pcls & {"bb-kpi-value", "bb-bcard-value"}:
                    size = "10.9pt" if brief else ("11.4pt" if muted_value else "13.8pt")
                    fill = "muted" if muted_value else "ink"
                    line = f"#text(fill: {fill}, weight: 700, size: {size})[{self.inline(part)}]"
                    pill = part.find("span")
                    if pill is not None and "bb-bcard-status" in _classes(pill):
                        line += f" #pill({_s(status)}, 7.1pt, {_s(_text(pill))})"
                        self.chars.append(_text(pill))
                    lines.append(line)
                elif "bb-kpi-status" in pcls:
                    self.chars.append(_text(part))
                    lines.append(f"#pill({_s(status)}, 7.6pt, {_s(_text(part))})")
                elif pcls <= {"bb-kpi-change", "bb-kpi-ytd", "bb-kpi-bank", "bb-kpi-rule",
                              "bb-bcard-facts"}:  # fmt: skip
                    size = "7.6pt" if "bb-kpi-rule" in pcls else None
                    body = self.inline(part)
                    lines.append(f"#text(size: {size})[{body}]" if size else body)
                else:
                    raise Unsupported(f"a card's part {sorted(pcls)}")
            body = " \\\n".join(lines)
            fn = "bcard" if brief else "kpicard"
            cells.append(f"{fn}({_s(status)})[{body}]")
        above = "0.4em" if brief else "1.2em"
        return (
            f"#block(above: {above}, below: 0.6em, grid(columns: (1fr, 1fr, 1fr),"
            f" gutter: 6pt, {', '.join(cells)}))"
        )

    def toc(self, el) -> str:
        head = el.find("h2")
        items = [li for li in el.iter("li")]
        entries = ", ".join(
            f"[#text(fill: muted, {_s(f'{i + 1}. ')}){self.inline(li)}]"
            for i, li in enumerate(items)
        )
        return (
            "#block(breakable: false, width: 100%, fill: zebra, stroke: 0.75pt + line-c,"
            " radius: 4.5pt, inset: (x: 1.1em, top: 0.6em, bottom: 0.8em), above: 1em, below: 0.5em)["
            f"#block(below: 0.4em, text(weight: 700, size: 9.5pt)[{self.inline(head)}])\n"
            f"#grid(columns: (1fr, 1fr), row-gutter: 0.3em, column-gutter: 1.5em, {entries})]"
        )

    def table_block(self, el, cls: set[str]) -> str:
        children = _elements(el)
        if len(children) != 1 or children[0].tag != "table":
            raise Unsupported("a table block that is not one table")
        table = children[0]
        tcls = _classes(table)
        unknown = tcls - {"bb-fixed", "bb-wrap"} - {f"bb-pt{n}" for n in (85, 80, 75, 70, 65)}
        if unknown:
            raise Unsupported(f"a table of class {sorted(unknown)}")
        size = next((f"{int(c[5:]) / 10}pt" for c in tcls if c.startswith("bb-pt")), "8.5pt")
        dense = any(c.startswith("bb-pt") for c in tcls)
        heat = "bb-heat" in cls
        out = []
        caption = table.find("caption")
        if caption is not None:
            out.append(
                f"#block(sticky: true, above: 0.8em, below: 0.35em)[#strong[{self.inline(caption)}]]"
            )
        widths = [re.search(r"--bb-w:\s*([0-9.]+)%", c.get("style", "")) for c in table.iter("col")]
        parts = [p for p in table if p.tag in ("thead", "tbody", "tfoot")]
        rows = [tr for part in parts for tr in part]
        n = max((sum(int(c.get("colspan", 1)) for c in tr) for tr in rows), default=0)
        if n == 0:
            return "\n".join(out)  # a table without a cell draws nothing
        if widths and all(widths) and len(widths) == n:
            columns = ", ".join(f"{float(m.group(1)):.3f}%" for m in widths)
        else:  # as wide as the page, as the print sheet's tables are
            columns = ", ".join(_shares(rows, n))
        cells = []
        for part in parts:  # a table may have several row groups (the pack's, one a report)
            if part.tag == "thead":
                head = [self.cell(c, "head", heat) for tr in part for c in tr]
                cells.append(f"table.header({', '.join(head)})")
            elif part.tag == "tbody":
                for i, tr in enumerate(part):
                    kind = (
                        "group"
                        if "bb-pack-report" in _classes(tr)
                        else ("even" if i % 2 else "odd")
                    )
                    cells.extend(self.cell(c, kind, heat) for c in tr)
            else:
                foot = [self.cell(c, "foot", heat) for tr in part for c in tr]
                cells.append(f"table.footer(repeat: false, {', '.join(foot)})")
        # the cell's padding and half the line's leading above and below, as CSS does
        inset = "(x: 3pt, y: 2.25pt + 0.25em)" if dense else "(x: 4.5pt, y: 2.25pt + 0.25em)"
        if self.pack:  # the cover's tables are denser (pack.css: 2px 6px, actions at 0.82rem)
            inset = "(x: 4.5pt, y: 1.5pt + 0.2em)"
            size = "7.8pt" if "bb-brief-actions" in cls else size
        # a short table is kept whole (as the print sheet keeps the first and last two
        # rows with their neighbours: no header alone, no totals row alone on a page)
        whole = "false" if len(rows) <= SHORT_TABLE else "true"
        out.append(
            f"#block(breakable: {whole}, above: {'0pt' if caption is not None else '0.8em'}, below: 1em,"
            f" {{ set text(size: {size}); set par(leading: 0.5em)\n"
            f"table(columns: ({columns},), stroke: none, inset: {inset},\n"
            + ",\n".join(cells)
            + ")})"
        )
        return "\n".join(out)

    def cell(self, c, part: str, heat: bool) -> str:
        if c.tag not in ("td", "th"):
            raise Unsupported(f"<{c.tag}> in a table row")
        cls = _classes(c)
        args = []
        span = int(c.get("colspan", 1))
        if span > 1:
            args.append(f"colspan: {span}")
        num = "num" in cls
        if heat and num:
            args.append("align: center")
        elif num:
            args.append("align: right")
        elif "bb-none" in cls:
            args.append("align: center")
        fill, colour = None, None
        stroke = '(bottom: 0.75pt + rgb("#edf0f4"))'
        if part == "head":
            fill, stroke = 'rgb("#e9eef5")', "(bottom: 1.5pt + rule-c)"
        elif part == "foot":
            fill, stroke = "white", "(top: 1.5pt + rule-c, bottom: 1.5pt + rule-c)"
        elif part == "even":
            fill = "zebra"
        elif part == "group":  # a row group's title row (the pack's report rows)
            fill, colour = "zebra", "accent"
        level = next((int(x[4:]) for x in cls if re.fullmatch(r"bb-h\d", x)), None)
        if heat and num and part not in ("head", "foot"):
            stroke = "0.75pt + white"
            if level is not None:
                fill, colour = f"heat.at({level}).at(0)", f"heat.at({level}).at(1)"
        if "neg" in cls:
            colour = "status-c.red.at(0)"
        if cls & {"bb-suppressed", "bb-none"}:
            colour = "muted"
        if fill:
            args.append(f"fill: {fill}")
        args.append(f"stroke: {stroke}")
        body = self.inline(c)
        if c.tag == "th" or part == "foot" or "bb-pack-value" in cls:
            body = f"#strong[{body}]"
        if colour:
            body = f"#text(fill: {colour})[{body}]"
        args.append("breakable: false")
        return f"table.cell({', '.join(args)})[{body}]"

    def figure(self, el) -> str:
        out = []
        for child in _elements(el):
            if child.tag == "img":
                out.append(self.image(child))
            elif child.tag == "figcaption":
                out.append(
                    f"#align(center, text(size: 8.075pt, fill: muted)[{self.inline(child)}])"
                )
            else:
                raise Unsupported(f"<{child.tag}> in a figure")
        return (
            "#block(breakable: false, width: 100%, above: 0.6em, below: 0.8em)["
            + "\n".join(out)
            + "]"
        )

    def image(self, img) -> str:
        src = img.get("src") or ""
        if not src.startswith(_IMAGE_REF) or not self.pngs[int(src[len(_IMAGE_REF) :])]:
            raise Unsupported("an image that is not an inline PNG")
        data = self.pngs[int(src[len(_IMAGE_REF) :])]
        if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
            raise Unsupported("an image that is not a PNG")
        width_px, height_px = struct.unpack(">II", data[16:24])
        name = f"chart-{len(self.images) + 1}.png"
        self.images[name] = data
        # drawn at 150 dpi: printed at that size, narrower than the page if drawn so;
        # never wider than the page or taller than 225 mm
        width_mm = width_px / 150 * 25.4
        height_mm = height_px / 150 * 25.4
        scale = min(1.0, 180.0 / width_mm, 225.0 / height_mm)
        alt = img.get("alt") or ""
        return f"#align(center, image({_s(name)}, width: {width_mm * scale:.2f}mm, alt: {_s(alt)}))"

    def definitions(self, el) -> str:
        out = []
        for child in _elements(el):
            if child.tag == "dt":
                out.append(
                    f"#block(above: 0.45em * 1.05, below: 0.1em, sticky: true, strong[{self.inline(child)}])"
                )
            elif child.tag == "dd":
                out.append(
                    f"#pad(left: 1.2em, block(breakable: false, above: 0.1em, below: 0.1em)[{self.inline(child)}])"
                )
            else:
                raise Unsupported(f"<{child.tag}> in a definition list")
        return (
            "#block(above: 0.5em, below: 0.5em)[#set text(size: 9.025pt)\n" + "\n".join(out) + "]"
        )


def _width(text: str) -> float:
    """A text's width in em, roughly: a CJK character 1, anything else about half."""
    return sum(1.0 if ord(c) > 0x2E80 else 0.55 for c in text)


def _shares(rows: list, n: int) -> list[str]:
    """Column widths of a table whose widths the page did not compute: a column of
    numbers or short words as wide as its widest cell, the others sharing the rest by
    their longest text (capped, so one long sentence does not starve the others)."""
    longest = [0.0] * n
    numeric = [True] * n
    for tr in rows:
        col = 0
        for c in tr:
            span = int(c.get("colspan", 1))
            if span == 1 and col < n:
                longest[col] = max(longest[col], _width(_text(c)))
                if "num" not in _classes(c) and c.tag != "th":
                    numeric[col] = False
            col += span
    return [
        "auto" if numeric[i] or longest[i] <= SHORT_TEXT_EM else f"{min(longest[i], 24.0):.1f}fr"
        for i in range(n)
    ]


_IMAGE_REF = "bb-image:"  # speedups.weasy's reference to an image taken out of the page


_PAGE_COUNTER = re.compile(r"@bottom-right\s*\{\s*content:\s*(.*?);\s*\}")


def _page_counter(html: str) -> str:
    """The footer's "page x of y" as the print sheet words it, as Typst code."""
    match = _PAGE_COUNTER.search(html)
    tokens = re.findall(r'"[^"]*"|counter\(pages?\)', match.group(1)) if match else []
    if not tokens:
        return 'str(counter(page).get().first()) + " / " + str(counter(page).final().first())'
    parts = []
    for token in tokens:
        if token == "counter(page)":
            parts.append("str(counter(page).get().first())")
        elif token == "counter(pages)":
            parts.append("str(counter(page).final().first())")
        else:
            parts.append(_s(token[1:-1]))
    return " + ".join(parts)


def page_source(html: str) -> Source:
    """The Typst source of a report page; :class:`Unsupported` if it holds an element
    this module does not know."""
    from ..speedups.weasy import _image_references

    # a chart's base64 text taken out before the HTML is parsed (the parser would walk
    # it character by character), its <img> given a reference to it
    html, refs = _image_references(html)
    pngs = [base64.b64decode(data) if mime == "image/png" else b"" for mime, data in refs]
    doc = parse(html)
    body = doc.find("body")
    main = body.find("main") if body is not None else None
    if main is None or "bb-page" not in _classes(main):
        raise Unsupported("not a report page (no <main class=bb-page>)")
    head = doc.find("head")
    title = head.find("title") if head is not None else None
    running = {}
    for div in body.iter("div"):
        for name in ("bb-run-left", "bb-run-right", "bb-run-class"):
            if name in _classes(div):
                running[name] = _text(div)
    ids = {el.get("id") for el in main.iter() if isinstance(el.tag, str) and el.get("id")}
    writer = _Writer(ids, pngs, pack="bb-pack" in _classes(body))
    markup = writer.blocks(main)
    lang = (doc.get("lang") or "en").lower()
    preamble = (
        PREAMBLE.replace("TITLE", _s(_text(title) if title is not None else ""))
        .replace("FONT", _s(FONT))
        .replace("LANG", _s(lang.split("-")[0] or "en"))
        .replace("REGION", _s(lang.split("-")[1].upper()) if "-" in lang else "none")
        .replace("RUNLEFT", _s(running.get("bb-run-left", "")))
        .replace("RUNRIGHT", _s(running.get("bb-run-right", "")))
        .replace("CLASSIFICATION", _s(running.get("bb-run-class", "")))
        .replace("PAGECOUNTER", _page_counter(html))
    )
    text = "".join(writer.chars) + "".join(running.values()) + "0123456789/ "
    return Source(markup=preamble + "\n" + markup + "\n", images=writer.images, text=text)


def missing_glyphs(text: str) -> list[str]:
    """The characters of ``text`` the print font has no glyph for, each once."""
    covered = _cmap()
    return sorted({c for c in text if not c.isspace() and ord(c) not in covered})


@cache
def _font_files() -> tuple[str, ...]:
    from ..charts import FONT_FILES
    from ..errors import RenderError

    files = tuple(f for f in FONT_FILES if Path(f).is_file())
    if not files:
        raise RenderError(
            "the CJK font Noto Sans CJK is not installed (Debian package fonts-noto-cjk)"
        )
    return files


@cache
def _cmap() -> frozenset[int]:
    """The code points the regular and the bold face of the print font both draw."""
    from fontTools.ttLib import TTCollection

    sets = []
    for path in _font_files():
        faces = TTCollection(path, lazy=True).fonts
        face = next(f for f in faces if f["name"].getDebugName(1) == FONT)
        sets.append(set(face.getBestCmap()))
    return frozenset(set.intersection(*sets))


@cache
def _fonts():
    """The print font's folder, read once a process (a forked renderer inherits it)."""
    import typst

    folders = sorted({str(Path(f).parent) for f in _font_files()})
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=folders)


def warm() -> None:
    """Read the fonts and the font's character map ahead (a renderer's start-up)."""
    _fonts()
    _cmap()


def pdf(html: str) -> bytes:
    """The PDF of a report page set by Typst.

    Raises :class:`Unsupported` for a page this module cannot set, and
    :class:`~branchbook.errors.RenderError` for a character the font lacks or a
    Typst error.
    """
    import typst

    from ..errors import RenderError

    source = page_source(html)
    lacking = missing_glyphs(source.text)
    if lacking:
        shown = ", ".join(f"U+{ord(c):04X} {c!r}" for c in lacking[:5])
        raise RenderError(f"the PDF would be wrong: {FONT} has no glyph for {shown}")
    with tempfile.TemporaryDirectory(prefix="bb-typst-") as tmp:
        root = Path(tmp)
        for name, data in source.images.items():
            (root / name).write_bytes(data)
        (root / "page.typ").write_text(source.markup, encoding="utf-8")
        compiler = typst.Compiler(root=str(root), font_paths=_fonts())
        try:
            made, warnings = compiler.compile_with_warnings(
                input=str(root / "page.typ"), format="pdf", pdf_tags=False
            )
        except Exception as exc:  # Typst's own error type, with its message
            raise RenderError(f"the PDF could not be made: {exc}") from exc
    problems = [w.message for w in warnings if "font" in w.message or "glyph" in w.message]
    if problems:
        raise RenderError(f"the PDF would be wrong: {'; '.join(problems)}")
    return made
