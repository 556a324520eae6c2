"""A prototype second PDF route: a published report page set in Typst.

Reads the page's HTML blocks (title block, brief cards, summary, KPI cards, contents,
sections, tables, charts, definitions, provenance) and writes Typst markup with the
print stylesheet's look: A4, the running header from page 2, the classification and
"page x of y" in the footer, tables with their computed column widths, header rows
repeated on each page and rows never cut. Used by ``benchmarks/pdf_routes.py`` only:
a measurement of what a switch would gain, not the production path.
"""

from __future__ import annotations

import re
import struct
import tempfile
from pathlib import Path

PREAMBLE = r"""
#let ink = rgb("#1f2933")
#let muted = rgb("#5f6b7a")
#let line-c = rgb("#d9dee5")
#let zebra = rgb("#f5f7fa")
#let accent = rgb("#1d4f91")
#let status-c = (
  green: (rgb("#1b7f3b"), rgb("#e8f5ec"), rgb("#1b7f3b")),
  amber: (rgb("#9a6200"), rgb("#fff4dc"), rgb("#d48a00")),
  red: (rgb("#b42318"), rgb("#fdecea"), rgb("#b42318")),
  grey: (rgb("#5f6b7a"), rgb("#f0f2f5"), rgb("#5f6b7a")),
)
#let heat = (
  rgb("#f7fbff"), rgb("#deebf7"), rgb("#c6dbef"), rgb("#9ecae1"), rgb("#6baed6"),
  rgb("#4292c6"), rgb("#2171b5"), rgb("#08519c"), rgb("#08306b"),
)
#set text(font: ("Noto Sans CJK SC", "Noto Sans"), size: 9.5pt, fill: ink, lang: LANG, hyphenate: false)
#set par(leading: 0.55em, spacing: 0.7em)
#set page(
  paper: "a4",
  margin: (top: 19mm, bottom: 17mm, left: 15mm, right: 15mm),
  header: context {
    if counter(page).get().first() > 1 {
      set text(size: 7.5pt, fill: muted)
      block(width: 100%, stroke: (bottom: 0.5pt + rgb("#b8c2cf")), inset: (bottom: 2.5mm),
        grid(columns: (62%, 38%), align(left, RUNLEFT), align(right, RUNRIGHT)))
    }
  },
  footer: context {
    set text(size: 7.5pt, fill: muted)
    grid(columns: (50%, 50%), align(left, text(weight: 700, CLASSIFICATION)), align(right, PAGECOUNTER))
  },
)
#let bbh1(body) = block(above: 0.3em, below: 0.8em, text(size: 17pt, weight: 700, body))
#let bbh2(body) = block(above: 1.3em, below: 0.6em, width: 100%, sticky: true,
  stroke: (bottom: 1.5pt + accent), inset: (bottom: 0.3em), text(size: 12.3pt, weight: 700, fill: accent, body))
#let bbh2plain(body) = block(above: 0.6em, below: 0.5em, sticky: true, text(size: 11.4pt, weight: 700, fill: accent, body))
#let bbh3(body) = block(above: 1.1em, below: 0.5em, sticky: true, text(size: 10pt, weight: 700, body))
#let bbnote(body) = block(above: 0.5em, below: 0.5em, text(size: 8.1pt, fill: muted, body))
#let bbp(body) = block(above: 0.5em, below: 0.5em, body)
#let bbcard(status, top: true, body) = block(breakable: false, width: 100%,
  stroke: if top { (rest: 0.75pt + line-c, top: 3.75pt + status-c.at(status).at(2)) }
          else { (rest: 0.75pt + line-c, left: 3.75pt + status-c.at(status).at(2)) },
  radius: 4pt, inset: (x: 7pt, y: 5pt), text(size: 8pt, fill: muted, body))
#let bbpill(status, body) = box(fill: status-c.at(status).at(1), radius: 7pt, inset: (x: 5pt, y: 1pt),
  text(weight: 700, size: 7.5pt, fill: status-c.at(status).at(0), "● " + body))
"""


def _q(text: str) -> str:
    """``text`` as a Typst string literal inserted in markup."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'#"{text}"'


def _s(text: str) -> str:
    """``text`` as a Typst string literal (code)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _classes(el) -> set[str]:
    return set(el.get("class", "").split())


def _status(el) -> str:
    for name in ("green", "amber", "red"):
        if f"bb-{name}" in _classes(el):
            return name
    return "grey"


def _text(el) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


class Converter:
    """One page's HTML tree to Typst markup; images written under ``root``."""

    def __init__(self, images: list[tuple[str, str]], root: Path) -> None:
        self.images = images
        self.root = root
        self.n_images = 0

    # -- inline -------------------------------------------------------------------
    def inline(self, el) -> str:
        out = [_q(el.text)] if el.text and el.text.strip() else ([" "] if el.text else [])
        for child in el:
            out.append(self.inline_one(child))
            if child.tail:
                out.append(_q(child.tail) if child.tail.strip() else " ")
        return "".join(out)

    def inline_one(self, el) -> str:
        tag = el.tag
        if tag in ("b", "strong"):
            return f"#strong[{self.inline(el)}]"
        if tag == "br":
            return "#linebreak()"
        if "bb-bcard-status" in _classes(el) or "bb-kpi-status" in _classes(el):
            return ""  # drawn as the card's pill
        if tag == "span" and "bb-swatch" in _classes(el):
            status = _status(el)
            return (
                f"#text(weight: 700, fill: status-c.{status}.at(0))[● {self.inline(el)}] #h(0.6em)"
            )
        return self.inline(el)

    # -- blocks -------------------------------------------------------------------
    def blocks(self, el) -> str:
        return "\n".join(filter(None, (self.block(child) for child in el)))

    def block(self, el) -> str:
        tag, cls = el.tag, _classes(el)
        if tag in ("script", "style"):
            return ""
        if tag == "header" and "bb-title" in cls:
            return self.title(el)
        if tag == "h1":
            return f"#bbh1[{self.inline(el)}]"
        if tag == "h2":
            if "bb-section" in cls:
                return f"#bbh2[{self.inline(el)}]"
            return f"#bbh2plain[{self.inline(el)}]"
        if tag == "h3":
            return f"#bbh3[{self.inline(el)}]"
        if tag == "p":
            if "bb-note" in cls or "bb-legend" in cls:
                return f"#bbnote[{self.inline(el)}]"
            return f"#bbp[{self.inline(el)}]"
        if tag in ("ul", "ol"):
            items = ", ".join(
                f"[{self.inline(li) if not len(li) or li[0].tag in ('a', 'span', 'b', 'strong') else self.blocks(li)}]"
                for li in el
                if li.tag == "li"
            )
            fn = "enum" if tag == "ol" else "list"
            return f"#{fn}({items})"
        if tag == "section" and "bb-brief" in cls:
            return self.blocks(el) + "\n#pagebreak(weak: true)"
        if tag == "div" and ("bb-kpis" in cls or "bb-bcards" in cls):
            return self.cards(el, top="bb-kpis" in cls)
        if tag == "nav" and "bb-toc" in cls:
            return self.toc(el)
        if tag == "div" and "bb-table" in cls:
            return self.table_block(el)
        if tag == "figure":
            return self.figure(el)
        if tag == "dl":
            return self.definitions(el)
        if tag == "footer":
            return f"#block(above: 2em, width: 100%, stroke: (top: 0.75pt + line-c), inset: (top: 0.5em), text(size: 7.3pt, fill: muted)[{self.inline(el)}])"
        if tag == "aside" and "bb-notice" in cls:
            return (
                "#block(width: 100%, fill: status-c.amber.at(1), stroke: (left: 3pt + status-c.amber.at(2)),"
                f" inset: (x: 0.9em, y: 0.5em))[{self.blocks(el)}]"
            )
        if tag == "li":
            return f"#bbp[{self.inline(el)}]"
        if len(el):
            return self.blocks(el)
        text = _text(el)
        return f"#bbp[{_q(text)}]" if text else ""

    def title(self, el) -> str:
        out = []
        for child in el:
            if child.tag == "p":
                out.append(f"#text(fill: muted, size: 8.5pt)[{self.inline(child)}]")
            elif child.tag == "h1":
                out.append(self.block(child))
            elif child.tag == "dl":
                pairs = []
                for div in child:
                    dt, dd = (div.find("dt"), div.find("dd"))
                    pairs.append(
                        f"#box[#text(fill: muted)[{self.inline(dt)}] #h(0.4em) #strong[{self.inline(dd)}]] #h(1.8em)"
                    )
                out.append("#bbp[" + " ".join(pairs) + "]")
        return (
            "#block(width: 100%, stroke: (bottom: 0.75pt + line-c), inset: (bottom: 0.6em), below: 0.8em)["
            + "\n".join(out)
            + "]"
        )

    def cards(self, el, top: bool) -> str:
        cells = []
        for card in el:
            lines = []
            status = _status(card)
            pill = ""
            for part in card:
                pcls = _classes(part)
                if "bb-kpi-label" in pcls or "bb-bcard-label" in pcls:
                    lines.append(f"#text(fill: ink, weight: 700, size: 8.5pt)[{self.inline(part)}]")
                elif "bb-kpi-value" in pcls or "bb-bcard-value" in pcls:
                    size = "13.8pt" if top else "11pt"
                    lines.append(
                        f"#text(fill: ink, weight: 700, size: {size})[{self.inline(part)}]"
                    )
                    span = part.find("span")
                    if span is not None and "bb-bcard-status" in _classes(span):
                        lines[-1] += f" #bbpill({_s(status)}, {_s(_text(span))})"
                elif "bb-kpi-status" in pcls:
                    pill = f"#bbpill({_s(status)}, {_s(_text(part))})"
                    lines.append(pill)
                else:
                    lines.append(self.inline(part))
            body = " \\\n".join(lines)
            cells.append(f"bbcard({_s(status)}, top: {'true' if top else 'false'})[{body}]")
        return f"#grid(columns: (1fr, 1fr, 1fr), gutter: 6pt, {', '.join(cells)})"

    def toc(self, el) -> str:
        head = el.find("h2")
        items = [li for li in el.iter("li")]
        entries = ", ".join(
            f'[#text(fill: muted, "{i + 1}. "){self.inline(li)}]' for i, li in enumerate(items)
        )
        return (
            "#block(breakable: false, width: 100%, fill: zebra, stroke: 0.75pt + line-c, radius: 4pt,"
            " inset: (x: 1em, y: 0.6em))["
            f"#text(weight: 700, size: 9.5pt)[{self.inline(head)}]\n"
            f"#grid(columns: (1fr, 1fr), row-gutter: 0.35em, column-gutter: 1em, {entries})]"
        )

    def table_block(self, el) -> str:
        table = el.find("table")
        if table is None:
            return self.blocks(el)
        out = []
        caption = table.find("caption")
        if caption is not None:
            out.append(f"#block(sticky: true, below: 0.35em)[#strong[{self.inline(caption)}]]")
        cols = [re.search(r"--bb-w:\s*([0-9.]+%)", c.get("style", "")) for c in table.iter("col")]
        head, body, foot = table.find("thead"), table.find("tbody"), table.find("tfoot")
        n = len(cols) or max(
            sum(int(c.get("colspan", 1)) for c in tr)
            for part in (head, body, foot)
            if part is not None
            for tr in part
        )
        widths = (
            ", ".join(m.group(1) if m else "auto" for m in cols)
            if cols and all(cols)
            else ", ".join(["auto"] * n)
        )
        heat = "bb-heat" in _classes(el)
        size = "7.6pt" if "bb-brief-actions" in _classes(el) else "8.5pt"
        rows = []
        if head is not None:
            cells = [self.cell(c, "head", heat) for tr in head for c in tr]
            rows.append(f"table.header({', '.join(cells)})")
        if body is not None:
            for i, tr in enumerate(body):
                rows.append(", ".join(self.cell(c, "even" if i % 2 else "odd", heat) for c in tr))
        if foot is not None:
            cells = [self.cell(c, "foot", heat) for tr in foot for c in tr]
            rows.append(f"table.footer(repeat: false, {', '.join(cells)})")
        out.append(
            f"#block(above: 0.8em, below: 1em, text(size: {size}, table(columns: ({widths},), stroke: none,"
            f" inset: (x: 4.5pt, y: 2.6pt), {', '.join(rows)})))"
        )
        return "\n".join(out)

    def cell(self, c, part: str, heat: bool) -> str:
        cls = _classes(c)
        args = []
        if int(c.get("colspan", 1)) > 1:
            args.append(f"colspan: {int(c.get('colspan'))}")
        num = "num" in cls
        if heat and num and c.tag == "th":
            args.append("align: center")
        elif num:
            args.append("align: right" if not heat else "align: center")
        fill = None
        stroke = '(bottom: 0.75pt + rgb("#edf0f4"))'
        color = None
        if part == "head":
            fill, stroke = 'rgb("#e9eef5")', '(bottom: 1.5pt + rgb("#9fb0c7"))'
        elif part == "foot":
            stroke = '(top: 1.5pt + rgb("#9fb0c7"), bottom: 1.5pt + rgb("#9fb0c7"))'
        elif part == "even":
            fill = "zebra"
        level = next((int(x[4:]) for x in cls if re.fullmatch(r"bb-h\d", x)), None)
        if heat and level is not None:
            fill = f"heat.at({level})"
            color = "white" if level >= 6 else "black"
            stroke = "0.75pt + white"
        if "neg" in cls:
            color = "status-c.red.at(0)"
        if cls & {"bb-suppressed", "bb-none"}:
            color = "muted"
            if "bb-none" in cls:
                args.append("align: center")
        if fill:
            args.append(f"fill: {fill}")
        args.append(f"stroke: {stroke}")
        body = self.inline(c)
        if c.tag == "th" or part == "foot":
            body = f"#strong[{body}]"
        if color:
            body = f"#text(fill: {color})[{body}]"
        args.append("breakable: false")
        return f"table.cell({', '.join(args)})[{body}]"

    def figure(self, el) -> str:
        img = el.find("img")
        out = []
        if img is not None:
            src = img.get("src", "")
            data = None
            if src.startswith("bb-image:"):
                import base64

                data = base64.b64decode(self.images[int(src.split(":", 1)[1])][1])
            if data is not None:
                self.n_images += 1
                name = f"img{self.n_images}.png"
                (self.root / name).write_bytes(data)
                width_px, height_px = struct.unpack(">II", data[16:24])
                width_mm = min(width_px / 150 * 25.4, 180.0)
                height_mm = height_px / 150 * 25.4 * width_mm / (width_px / 150 * 25.4)
                if height_mm > 225:
                    width_mm *= 225 / height_mm
                out.append(
                    f'#align(center, image("{name}", width: {width_mm:.2f}mm, alt: {_s(img.get("alt", ""))}))'
                )
        cap = el.find("figcaption")
        if cap is not None:
            out.append(f"#align(center, text(size: 8.1pt, fill: muted)[{self.inline(cap)}])")
        return "#block(breakable: false, above: 0.6em, below: 0.8em)[" + "\n".join(out) + "]"

    def definitions(self, el) -> str:
        out = []
        for child in el:
            if child.tag == "dt":
                out.append(
                    f"#block(above: 0.45em, below: 0.1em, sticky: true, strong[{self.inline(child)}])"
                )
            elif child.tag == "dd":
                out.append(
                    f"#pad(left: 1.2em, block(breakable: false, above: 0.1em, text(size: 8.6pt)[{self.inline(child)}]))"
                )
        return "\n".join(out)


_PAGE_COUNTER = re.compile(r"@bottom-right \{ content: (.*?); \}")


def page_counter(html: str) -> str:
    """The footer's "page x of y" of the page's print sheet, as Typst code."""
    match = _PAGE_COUNTER.search(html)
    if not match:
        return "[#counter(page).display() / #counter(page).final().first()]"
    parts = []
    for token in re.findall(r'"[^"]*"|counter\(pages?\)', match.group(1)):
        if token == "counter(page)":
            parts.append("str(counter(page).get().first())")
        elif token == "counter(pages)":
            parts.append("str(counter(page).final().first())")
        else:
            parts.append(_s(token[1:-1]))
    return " + ".join(parts)


def to_typst(html: str, root: Path) -> str:
    """The Typst source of a published report page; its chart images written to ``root``."""
    import tinyhtml5

    from branchbook.speedups.weasy import _image_references

    html, images = _image_references(html)
    doc = tinyhtml5.parse(html, namespace_html_elements=False)
    lang = doc.get("lang", "en")
    body = doc.find("body")
    running = {
        c.get("class").split()[0]: _text(c)
        for c in body.iter("div")
        if "bb-run" in c.get("class", "") and c.get("class") != "bb-running"
    }
    conv = Converter(images, root)
    main = body.find("main")
    preamble = (
        PREAMBLE.replace("LANG", _s("zh" if lang.startswith("zh") else "en"))
        .replace("RUNLEFT", _s(running.get("bb-run-left", "")))
        .replace("RUNRIGHT", _s(running.get("bb-run-right", "")))
        .replace("CLASSIFICATION", _s(running.get("bb-run-class", "")))
        .replace("PAGECOUNTER", page_counter(html))
    )
    return preamble + "\n" + conv.blocks(main) + "\n"


class TypstRoute:
    """Typst with the system fonts read once (a warm renderer's state)."""

    def __init__(self) -> None:
        import typst

        self.fonts = typst.Fonts(include_system_fonts=True)
        self.typst = typst

    def pdf(self, html: str) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            source = to_typst(html, root)
            (root / "main.typ").write_text(source)
            compiler = self.typst.Compiler(root=str(root), font_paths=self.fonts)
            return compiler.compile(input=str(root / "main.typ"), format="pdf", pdf_tags=False)
