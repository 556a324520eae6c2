"""Data no one here wrote: the German credit data (Statlog, UCI, CC BY 4.0; the copy in
tests/data/german_credit) converted to the contract by scripts/public_data and run
through the whole product from the command line."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "public_data" / "german_credit.py"


def _script():
    spec = importlib.util.spec_from_file_location("german_credit", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_conversion_keeps_what_the_data_says():
    """Fast: the rows, the good/bad split and the amounts come through as they are."""
    gc = _script()
    raw = pd.read_csv(gc.CSV)
    t = gc.tables(raw)
    assert len(raw) == 1000 and len(t["customers"]) == len(t["loans"]) == 1000
    snap = t["loan_snapshots"]
    assert (
        (snap["five_class"] == "substandard").sum() == (raw["creditability"] == "bad").sum() == 300
    )
    assert snap.loc[snap["five_class"] == "substandard", "dpd"].eq(91).all()
    assert t["loans"]["principal"].sum() == raw["credit_amount"].sum() == snap["outstanding"].sum()
    assert set(t["loans"]["product"]) == {"consumer", "business"}
    assert (t["loans"]["product"] == "business").sum() == (raw["purpose"] == "business").sum()
    assert t["balances"]["deposits"].ge(0).all() and t["balances"]["wealth"].ge(0).all()


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "lib")}
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=1800,
    )


@pytest.mark.slow
def test_the_whole_product_runs_on_the_german_credit_data(tmp_path):
    out = _script().convert(tmp_path / "gc")
    wh, params = out / "warehouse", out / "params"
    checked = _cli("validate", "--warehouse", str(wh), "--params", str(params))
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "risk             produced without:" in checked.stdout
    assert "satisfaction     not produced: the warehouse has no surveys" in checked.stdout
    reports = tmp_path / "reports"
    run = _cli(
        "run", "--warehouse", str(wh), "--params", str(params), "--build", str(out / "build"),
        "--out", str(reports), "--no-progress", "--workers", "2", "--scopes", "branch",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((reports / "1994-11" / "manifest.json").read_text(encoding="utf-8"))
    status = {k: v["status"] for k, v in manifest["reports"].items()}
    assert status == {
        "0001/segmentation": "ok",
        "0001/risk": "ok",
        "0001/satisfaction": "not_produced",
        "0001/staff_kpi": "not_produced",
    }
    reasons = {k: v.get("reason") for k, v in manifest["reports"].items()}
    assert reasons["0001/satisfaction"] == "the warehouse has no surveys"
    assert reasons["0001/staff_kpi"] == "the warehouse has no staff, customers.manager_id"
    text = {}
    for name in ("segmentation", "risk"):
        html = (reports / "1994-11" / "0001" / f"{name}.html").read_text(encoding="utf-8")
        assert (reports / "1994-11" / "0001" / f"{name}.pdf").stat().st_size > 0
        soup = BeautifulSoup(html, "html.parser")
        for appendix in soup.select("#definitions"):
            appendix.decompose()  # the definitions name the default currency (README)
        text[name] = soup.get_text(" ")
        # the body's amounts, summary sentences included, in the data's currency
        assert "DEM" in text[name] and "CNY" not in text[name], name
    assert "NPL ratio is 36.1%" in text["risk"]  # the bad credits' share of the amount lent
    assert "Risk matrix" not in text["risk"]  # no PD for performing loans without a scorecard
    # no transactions: no one is known dormant, in the action list or a cluster's name
    assert ", dormant" not in text["segmentation"]  # "High-value, dormant", "Low-value, dormant"
    assert "Not recorded" in text["segmentation"]  # the active share, in the brief too
