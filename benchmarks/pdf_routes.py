"""PDF routes side by side on published report pages (a command, not a timed test).

    python benchmarks/pdf_routes.py reports/2026-10/0101/*.html reports/2026-10/0201/*.html

For each page and each route, prints the CPU seconds (the process's, all threads) per
page and per report, the pages, the file size, the fonts embedded (``pdffonts``) and
the fidelity: every heading, every table row's cells and every chart of the HTML found
in the PDF (``pdftotext``, ``pdfimages``). Each route is warmed first on the renderers'
warm-up page, as a renderer is before its first report.

Routes:

- ``weasy-shipped``: WeasyPrint as it is shipped (``BRANCHBOOK_SPEEDUPS=0``'s path);
- ``weasy-tuned``: WeasyPrint with the patches of :mod:`branchbook.speedups.weasy`
  (the fallback route, ``BRANCHBOOK_PDF_ENGINE=weasyprint``);
- ``typst``: the production route, :mod:`branchbook.output.typeset`.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def expected(html: str) -> dict[str, list]:
    """What the page shows that its PDF must hold: headings, table rows (their
    cells' text), charts."""
    import tinyhtml5

    from branchbook.speedups.weasy import _image_references

    html, images = _image_references(html)
    doc = tinyhtml5.parse(html, namespace_html_elements=False)
    main = doc.find("body").find("main")
    text = lambda el: re.sub(r"\s+", " ", "".join(el.itertext())).strip()  # noqa: E731
    headings = [text(h) for tag in ("h1", "h2", "h3") for h in main.iter(tag)]
    rows = [[text(c) for c in tr if c.tag in ("td", "th")] for tr in main.iter("tr")]
    charts = [img for img in main.iter("img")]
    return {"headings": headings, "rows": rows, "charts": charts}


def fidelity(html: str, pdf_path: Path) -> dict[str, str]:
    """Headings, rows and charts of the page found in its PDF, as ``found/all``."""
    want = expected(html)
    # -raw: the text in the order it is drawn, so a cell's wrapped lines stay together
    found = _squash(
        subprocess.run(
            ["pdftotext", "-raw", str(pdf_path), "-"], capture_output=True, text=True
        ).stdout
    )
    heads = sum(_squash(h) in found for h in want["headings"])
    rows = sum(all(_squash(c) in found for c in row) for row in want["rows"])
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf_path)], capture_output=True, text=True
    ).stdout
    images = max(0, len(listing.strip().splitlines()) - 2)
    missing_rows = [row for row in want["rows"] if not all(_squash(c) in found for c in row)]
    return {
        "headings": f"{heads}/{len(want['headings'])}",
        "rows": f"{rows}/{len(want['rows'])}",
        "charts": f"{images}/{len(want['charts'])}",
        "missing": missing_rows[:2],
    }


def fonts(pdf_path: Path) -> str:
    """The fonts ``pdffonts`` lists, each with its type and whether it is embedded."""
    out = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines()[2:]:
        name = line.split()[0].split("+")[-1]
        emb = "emb" if line.split()[-5] == "yes" else "NOT emb"  # emb sub uni object gen
        kind = "CID" if "CID" in line else "other"
        found.append(f"{name} ({kind}, {emb})")
    return "; ".join(found)


def pages(pdf_path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf_path)], capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def routes() -> dict:
    from branchbook.output import pdf

    def shipped(html: str) -> bytes:
        return pdf._weasyprint_pdf(html, None, pdf.PROTOCOLS)

    from branchbook.output import typeset

    def tuned(html: str) -> bytes:
        return pdf._weasyprint_route(html, None)

    return {"weasy-shipped": shipped, "weasy-tuned": tuned, "typst": typeset.pdf}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path, help="published report HTML files")
    parser.add_argument("--routes", default="weasy-shipped,weasy-tuned,typst")
    parser.add_argument("--keep", type=Path, help="folder to keep the PDFs in")
    args = parser.parse_args(argv)
    out = args.keep or Path(tempfile.mkdtemp(prefix="pdf-routes-"))
    out.mkdir(parents=True, exist_ok=True)
    made = routes()
    chosen = [r for r in args.routes.split(",") if r in made]
    htmls = {p: p.read_text(encoding="utf-8") for p in args.pages}
    # warmed as a renderer is before its first report (the fork server's warm-up page in
    # each locale), never on a page measured: Typst memoizes what it has laid out before
    from branchbook import i18n
    from branchbook.output import html as page
    from branchbook.runner import forkserver

    for locale in i18n.LOCALES:
        warm, _ = page.notebook_to_html(forkserver._warm_notebook(locale))
        for route in chosen:
            made[route](warm)
    header = "| page | route | CPU s | pages | CPU ms/page | size KiB | fonts (pdffonts) | headings | table rows | charts |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    totals: dict[str, list[float]] = {r: [0.0, 0] for r in chosen}
    for path, html in htmls.items():
        name = f"{path.parent.name}/{path.stem}"
        for route in chosen:
            start = time.process_time()
            data = made[route](html)
            cpu = time.process_time() - start
            pdf_path = out / f"{path.parent.name}-{path.stem}-{route}.pdf"
            pdf_path.write_bytes(data)
            n = pages(pdf_path)
            fid = fidelity(html, pdf_path)
            totals[route][0] += cpu
            totals[route][1] += n
            print(
                f"| {name} | {route} | {cpu:.2f} | {n} | {cpu / n * 1000:.0f} | {len(data) // 1024} "
                f"| {fonts(pdf_path)} | {fid['headings']} | {fid['rows']} | {fid['charts']} |",
                flush=True,
            )
            if fid["missing"]:
                print(f"  rows not found ({route}, first two): {fid['missing']}", file=sys.stderr)
    for route, (cpu, n) in totals.items():
        print(f"| all | {route} | {cpu:.2f} | {n} | {cpu / n * 1000:.0f} | | | | | |")
    print(f"PDFs in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
