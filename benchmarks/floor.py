"""The floor: every report's library calls in one plain Python process, no notebook machinery.

For each branch x report it reads the notebook's code cells, executes them with
``exec`` in a fresh namespace holding the branch's parameters (as papermill would
inject them, right after the ``parameters`` cell), then builds the page from the
blocks the :class:`branchbook.page.Page` collected outside a kernel, with the
project's own renderer, and writes the HTML and PDF.

Run by ``benchmarks/run.py``; by hand::

    python benchmarks/floor.py --period 2026-10 --branches 0101,0102 \\
        --reports segmentation --build build/bench/demo/build --out build/bench/floor --timings build/bench/floor-timings.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# What the time of one report is spent on; the same phases as run.py's profile.
PHASES = ("import_cell", "analysis", "html", "pdf", "write")


def code_cells(notebook: Path) -> list[tuple[list[str], str]]:
    """``(tags, source)`` of each code cell, in order."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    return [
        (list(c.get("metadata", {}).get("tags", [])), c.source)
        for c in nb.cells
        if c.cell_type == "code"
    ]


def page_of(namespace: dict):
    """The notebook's :class:`Page` (the one that holds blocks)."""
    from branchbook.page import Page

    pages = [v for v in namespace.values() if isinstance(v, Page)]
    if not pages:
        raise RuntimeError("the notebook made no branchbook Page")
    return max(pages, key=lambda p: len(p.blocks))


def page_notebook(page):
    """A minimal executed notebook carrying the page's blocks and meta, as a kernel would."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from branchbook.page import META_MIME

    outputs = [new_output("display_data", data={"text/html": block}) for block in page.blocks]
    outputs.append(new_output("display_data", data={META_MIME: page._meta()}))
    cell = new_code_cell(source="", outputs=outputs, execution_count=1)
    return nbformat.from_dict(new_notebook(cells=[cell]))


def run_report(cells, parameters: dict, name: str) -> tuple[object, dict[str, float]]:
    """Execute one report's cells; returns its page and the seconds per phase."""
    namespace: dict = {"__name__": "__main__"}
    times = {"import_cell": 0.0, "analysis": 0.0}
    seen_import = False
    for index, (tags, source) in enumerate(cells):
        code = compile(source, f"<{name} cell {index}>", "exec")
        t0 = time.perf_counter()
        exec(code, namespace)  # noqa: S102 - the notebook's own code, as a kernel would run it
        spent = time.perf_counter() - t0
        if "parameters" in tags:
            namespace.update(parameters)  # papermill's injected cell
            continue
        if not seen_import:
            times["import_cell"] += spent  # the first code cell after the parameters
            seen_import = True
        else:
            times["analysis"] += spent
    return page_of(namespace), times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--period", required=True)
    ap.add_argument("--branches", required=True, help="comma-separated branch ids")
    ap.add_argument("--reports", required=True, help="comma-separated report names")
    ap.add_argument("--build", required=True, help="build folder holding the prepared period")
    ap.add_argument("--params", default="params", help="parameter folder")
    ap.add_argument("--out", required=True, help="fresh folder for <branch>/<report>.html|.pdf")
    ap.add_argument("--formats", default="html,pdf")
    ap.add_argument("--timings", help="write per-report phase seconds here (JSON)")
    ap.add_argument(
        "--scopes",
        choices=["branch"],
        default="branch",
        help="branch only: the floor makes the branches' reports, not the regions' or the bank's",
    )
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    from branchbook import iorw
    from branchbook.output import html as page_html
    from branchbook.output import pdf as page_pdf
    from branchbook.params import ParamSet
    from branchbook.reports import select, settings_classes

    formats = args.formats.split(",")
    specs = select(args.reports.split(","))
    cells = {s.name: code_cells(s.notebook) for s in specs}
    ps = ParamSet(args.params, settings_classes())
    out = Path(args.out)
    records, failures = [], []
    for branch in args.branches.split(","):
        bp = ps.for_branch(branch)
        for spec in specs:
            parameters = bp.notebook_parameters(spec.name, period=args.period, build_dir=args.build)
            try:
                page, times = run_report(cells[spec.name], parameters, f"{branch}/{spec.name}")
                t0 = time.perf_counter()
                html, _meta = page_html.notebook_to_html(page_notebook(page))
                t1 = time.perf_counter()
                pdf = page_pdf.html_to_pdf(html) if "pdf" in formats else None
                t2 = time.perf_counter()
                iorw.atomic_write(out / branch / f"{spec.name}.html", html.encode("utf-8"))
                if pdf is not None:
                    iorw.atomic_write(out / branch / f"{spec.name}.pdf", pdf)
                times.update(html=t1 - t0, pdf=t2 - t1, write=time.perf_counter() - t2)
            except Exception as exc:  # count it and go on, as the runner does
                failures.append(f"{branch}/{spec.name}: {type(exc).__name__}: {exc}")
                continue
            records.append({"branch": branch, "report": spec.name, **times})
    summary = {
        "records": records,
        "failures": failures,
        "total_s": time.perf_counter() - t_start,
    }
    if args.timings:
        Path(args.timings).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    for line in failures:
        print(f"floor: failed {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
