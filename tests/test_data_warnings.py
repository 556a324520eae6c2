"""Warning-level data contract rules: the run goes on and the affected reports say so.

A small demo warehouse with planted warning-level conditions: a complaint of 0102
left open for months (``stale_complaint``) and a customer of 0103 whose manager
works in 0101 (``manager_elsewhere``, which concerns both branches).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from bs4 import BeautifulSoup

import branchbook
from branchbook import contract, demo, warehouse
from branchbook.data import load
from branchbook.prepare import prepare

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026-10"
STALE_EN = (
    "Complaints still open more than 90 days after they were received: 1, e.g. complaint_id={}."
)
STALE_ZH = "受理超过 90 天仍未解决的投诉：1 笔，例如 complaint_id={}。"
TITLE_EN = "Data quality warnings:"
TITLE_ZH = "数据质量提示："


def plant(wh: Path) -> dict:
    """Plant the two conditions; return the keys of the rows they concern."""
    with duckdb.connect(str(wh)) as con:
        stale = con.execute(
            "SELECT min(complaint_id) FROM complaints WHERE branch_id = '0102' "
            "AND received_at < (SELECT max(received_at) FROM complaints) - INTERVAL 120 DAY"
        ).fetchone()[0]
        con.execute("UPDATE complaints SET resolved_at = NULL WHERE complaint_id = ?", [stale])
        customer = con.execute(
            "SELECT min(customer_id) FROM customers WHERE branch_id = '0103' AND manager_id IS NOT NULL"
        ).fetchone()[0]
        manager = con.execute(
            "SELECT min(staff_id) FROM staff WHERE branch_id = '0101' AND active"
        ).fetchone()[0]
        con.execute(
            "UPDATE customers SET manager_id = ? WHERE customer_id = ?", [manager, customer]
        )
    return {"complaint": stale, "customer": customer}


def bank(tmp: Path) -> dict:
    params = tmp / "params"
    (params / "branches").mkdir(parents=True)
    shutil.copy(ROOT / "params" / "bank.yaml", params / "bank.yaml")
    (params / "branches" / "0102.yaml").write_text("locale: zh-CN\n")
    wh = demo.build(tmp / "wh.duckdb", branches=3, customers=1_500, months=13, seed=5)
    return {
        "warehouse": wh,
        "params_dir": params,
        "build_dir": tmp / "build",
        "out": tmp / "reports",
    }


def rules(items: list[dict]) -> dict[str, dict]:
    return {w["rule"]: w for w in items}


def test_prepare_records_the_warnings_per_branch(tmp_path):
    b = bank(tmp_path)
    keys = plant(b["warehouse"])
    prepared = prepare(
        PERIOD, source=b["warehouse"], params_dir=b["params_dir"], build_dir=b["build_dir"]
    )
    on_disk = json.loads((prepared.root / "prepare.json").read_text())
    per_branch = on_disk["branch_warnings"]
    assert per_branch == prepared.meta["branch_warnings"]
    # the stale complaint concerns 0102 only
    stale = rules(per_branch["0102"])["stale_complaint"]
    assert (stale["count"], stale["examples"], stale["key"]) == (
        1,
        [keys["complaint"]],
        ["complaint_id"],
    )
    assert stale["table"] == "complaints" and stale["column"] == "resolved_at"
    assert [b for b, ws in per_branch.items() if "stale_complaint" in rules(ws)] == ["0102"]
    # the customer of 0103 managed from 0101 concerns both, and 0102 not at all
    for bid in ("0101", "0103"):
        moved = rules(per_branch[bid])["manager_elsewhere"]
        assert (moved["count"], moved["examples"]) == (1, [keys["customer"]]), bid
    assert "manager_elsewhere" not in rules(per_branch.get("0102", []))
    assert "*" not in per_branch  # every row here reaches a branch
    # the bank-wide list is the contract's, in the same order as the messages
    details = on_disk["warning_details"]
    assert [w["message"] for w in details] == on_disk["warnings"]
    assert rules(details)["stale_complaint"]["count"] == 1
    # per-branch counts of a rule add up to the bank's (the demo's own empty surveys)
    for w in details:
        if w["rule"] == "empty_survey":
            assert (
                sum(
                    rules(ws)[w["rule"]]["count"]
                    for ws in per_branch.values()
                    if w["rule"] in rules(ws)
                )
                == w["count"]
            )
    # what a report of each branch gets
    assert "stale_complaint" in rules(load(PERIOD, "0102", build_dir=b["build_dir"]).warnings)
    assert "stale_complaint" not in rules(load(PERIOD, "0101", build_dir=b["build_dir"]).warnings)
    everything = load(PERIOD, scope="bank", build_dir=b["build_dir"]).warnings
    assert [w["message"] for w in everything] == on_disk["warnings"]
    # and the contract's own per-branch function agrees
    con = warehouse.open_warehouse(b["warehouse"])
    assert [
        v.examples for v in contract.branch_warnings(con)["0102"] if v.rule == "stale_complaint"
    ] == [(keys["complaint"],)]


def test_a_warning_lets_the_run_go_on_and_shows_in_the_affected_report(tmp_path):
    b = bank(tmp_path)
    keys = plant(b["warehouse"])
    result = branchbook.run(
        period=PERIOD,
        **b,
        branches=["0101", "0102"],
        reports=["segmentation", "satisfaction"],
        formats=("html",),
        progress=False,
    )
    assert result.exit_code == 0
    assert {k: e["status"] for k, e in result.entries.items()} == {
        f"{b}/{r}": "ok" for b in ("0101", "0102") for r in ("segmentation", "satisfaction")
    }
    folder = b["out"] / PERIOD

    def notes(bid: str, report: str) -> tuple[str, list[str]]:
        html = (folder / bid / f"{report}.html").read_text(encoding="utf-8")
        soup = BeautifulSoup(html, "html.parser")
        box = soup.select("aside.bb-notice")
        assert len(box) <= 1
        return html, [p.get_text() for p in soup.select("aside.bb-notice .bb-note")]

    html_zh, notes_zh = notes("0102", "satisfaction")  # 0102 reports in Chinese
    assert STALE_ZH.format(keys["complaint"]) in notes_zh
    assert any(n.startswith(TITLE_ZH) for n in notes_zh)
    assert not any("Complaints still open" in n or n.startswith(TITLE_EN) for n in notes_zh)
    # near the top: after the title block, before the table of contents
    at = html_zh.index(STALE_ZH.format(keys["complaint"]))
    assert html_zh.index('class="bb-title"') < at < html_zh.index('class="bb-toc"')
    # segmentation reads no complaints: the same branch's segmentation report is quiet
    seg_zh, seg_notes_zh = notes("0102", "segmentation")
    assert "受理超过" not in seg_zh and keys["complaint"] not in seg_zh
    html_en, notes_en = notes("0101", "segmentation")
    assert STALE_EN.format(keys["complaint"]) not in html_en
    assert keys["complaint"] not in html_en and "受理超过" not in html_en
    # 0101 is concerned by the customer managed from 0101 for 0103 (a customers rule:
    # every report reads customers)
    moved = f"Customers whose customer manager works in another branch: 1, e.g. customer_id={keys['customer']}."
    assert moved in notes_en
    assert moved in notes("0101", "satisfaction")[1]
    assert any(n.startswith(TITLE_EN) for n in notes_en)


def test_each_report_declares_the_contract_tables_it_reads():
    """SOURCES decides which warnings a report shows: it must name every contract table
    the module's SQL or its notebook reads, and nothing that is not a contract table."""
    import re

    from branchbook.reports import registry

    for spec in registry().values():
        from branchbook import codekey

        # the package's own files and the shared metric-layer SQL it imports
        # (point-in-time history, the one tier rule)
        source = Path(spec.module.__file__)
        files = sorted(source.parent.glob("*.py")) if source.name == "__init__.py" else [source]
        own = "".join(f.read_text(encoding="utf-8") for f in files)
        files += [
            f
            for f in codekey.closure([spec.module.__name__])
            if f.parent.name == "metrics"
            and f.stem in ("history", "models")
            and f"metrics.{f.stem}" in own  # the package imports that module itself
        ]
        module_sql = "".join(f.read_text(encoding="utf-8") for f in files)
        notebook = spec.notebook.with_suffix(".py").read_text(encoding="utf-8")
        from branchbook.metrics import shared

        named = re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", module_sql)
        read = {t for t in named if t in contract.TABLES}
        # a shared table of prepare stands for the contract tables it is built from
        read |= {t for name in named for t in shared.TABLES.get(name, ())}
        read |= {t for t in re.findall(r'd\.table\("([a-z_]+)"', notebook) if t in contract.TABLES}
        assert read, spec.name  # the patterns still find something
        assert set(spec.module.SOURCES) == read, spec.name
