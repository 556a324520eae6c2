"""The README's "Adding a metric", done in a copy of the package: one function, one
declaration, two catalogue strings, and the metric is on the KPI cards, in the bank-wide
benchmark, in the definitions appendix and in both locales."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from branchbook import codekey

pytestmark = pytest.mark.slow

FUNCTION = '''

def products_per_customer(rows: pd.DataFrame) -> float:
    """Mean products held by an open customer (NaN without open customers)."""
    o = open_customers(rows)
    return float(o["products_held"].mean()) if len(o) else float("nan")
'''

CHECK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import pandas as pd
    from branchbook import i18n, segmentation as seg
    from branchbook.data import load
    from branchbook.page import Page
    from branchbook.prepare import prepare

    root = Path(sys.argv[1])
    prep = prepare(None, source=root / "build/demo/warehouse.duckdb",
                   params_dir=root / "params", build_dir=root / "build")
    d = load(prep.period, "0101", build_dir=root / "build")
    bench = d.bench("bench_segmentation")
    cur = seg.classify(d.table("segmentation_customers"), seg.Settings())
    prev = seg.classify(seg.previous(d.table("segmentation_customers")), seg.Settings())
    cards = seg.kpi_table(seg.kpis(cur), seg.kpis(prev), bench=bench, branch_id="0101",
                          period=prep.period, settings=seg.Settings())
    out = {"card": cards.set_index("kpi").loc["products_per_customer", "value"],
           "bench": "products_per_customer" in bench.columns,
           "locales": {loc: i18n.t("segmentation.kpis.products_per_customer", loc)
                       for loc in ("en", "zh-CN")}}
    for loc in ("en", "zh-CN"):
        page = Page(report="segmentation", locale=loc, bank_name="B", branch={"branch_id": "0101"},
                    period=prep.period)
        page.definitions(seg.DEFINITIONS)
        out["definitions_" + loc] = i18n.t("segmentation.definitions.products_per_customer", loc) in "".join(page.blocks)
    print(json.dumps(out, ensure_ascii=False))
    """
)


def _insert_after(path: Path, anchor: str, text: str) -> None:
    body = path.read_text(encoding="utf-8")
    assert anchor in body, (path, anchor)
    path.write_text(body.replace(anchor, anchor + text, 1), encoding="utf-8")


def test_one_declaration_two_strings(small_bank, tmp_path):
    lib = tmp_path / "lib"
    pkg = lib / "branchbook"
    shutil.copytree(codekey.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    metrics = pkg / "segmentation" / "metrics.py"
    body = metrics.read_text(encoding="utf-8")
    at = body.index("\n\n#: The KPI cards")
    metrics.write_text(body[:at] + FUNCTION + body[at:], encoding="utf-8")
    _insert_after(
        metrics,
        "METRICS: tuple[Metric, ...] = declare(\n",
        '    Metric("products_per_customer", REPORT, "num", "high", products_per_customer),\n',
    )
    for loc, label, definition in (
        ("en", "Products per customer", "Mean number of products held by an open customer."),
        ("zh-CN", "户均产品数", "期末在册客户平均持有的产品数。"),
    ):
        catalogue = pkg / "locales" / loc / "segmentation.yaml"
        _insert_after(catalogue, "\n  kpis:\n", f"    products_per_customer: {label}\n")
        _insert_after(
            catalogue, "\n  definitions:\n", f'    products_per_customer: "{definition}"\n'
        )
    bank = tmp_path / "bank"
    shutil.copytree(small_bank / "params", bank / "params")
    (bank / "build" / "demo").mkdir(parents=True)
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", bank / "build" / "demo")
    from branchbook.reports import NOTEBOOK_DIR

    env = {**os.environ, "PYTHONPATH": str(lib), "BRANCHBOOK_NOTEBOOKS": str(NOTEBOOK_DIR)}
    proc = subprocess.run(
        [sys.executable, "-c", CHECK, str(bank)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["card"] > 0 and out["bench"]
    assert out["locales"] == {"en": "Products per customer", "zh-CN": "户均产品数"}
    assert out["definitions_en"] and out["definitions_zh-CN"]
