"""比年初 in December and January, on a small demo bank that ends in December 2026: every
card of every report that has a value both at the period and at the start of the year
(its report for last December) shows a start of the year, never "n/a".

December is the month the start of the year lies outside a 12-month window; January is
the month it is last month. The cards are built as the notebooks build them."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from branchbook import demo, risk, staff_kpi
from branchbook import satisfaction as sat
from branchbook import segmentation as seg
from branchbook.data import load
from branchbook.metrics import thresholds
from branchbook.metrics.cards import year_start_period
from branchbook.params import ParamSet
from branchbook.period import shift_month
from branchbook.prepare import prepare
from branchbook.reports import registry, settings_classes

pytestmark = pytest.mark.slow
BRANCHES = ("0101", "0102")
PERIODS = ("2026-12", "2026-01")


@pytest.fixture(scope="module")
def december_bank(tmp_path_factory):
    """A folder with the warehouse (2025-11 to 2026-12), the project's ``bank.yaml`` and
    ``build/`` with December 2026, January 2026 and December 2025 prepared."""
    root = tmp_path_factory.mktemp("december_bank")
    (root / "params" / "branches").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "params" / "bank.yaml", root / "params")
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    demo.build(warehouse, branches=2, customers=1_500, months=14, end_month="2026-12", seed=3)
    # without branch moves: a move restates last December to this period's branches
    # (tests/test_holding.py), and this test holds the start of the year to the report
    # last December printed
    import duckdb

    with duckdb.connect(str(warehouse)) as con:
        con.execute("DROP TABLE customer_branch_history")
    for period in (*PERIODS, "2025-12"):
        prepare(period, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root


def _settings(root: Path, d, branch_id: str, report: str):
    """The branch's section with this period's thresholds in force, as ``open_report``."""
    cfg = ParamSet(root / "params", settings_classes()).for_branch(branch_id).sections[report]
    ths = thresholds.resolve(
        cfg.kpi_status, thresholds.read_cutoffs(d.bench, report), period=d.period
    )
    return cfg.model_copy(update={"kpi_status": thresholds.rags(ths)})


def cards(root: Path, period: str, branch_id: str) -> dict[str, pd.DataFrame]:
    """Each report's KPI cards for the branch and period, by the notebooks' calls."""
    d = load(period, branch_id, build_dir=root / "build")
    prev = shift_month(period, -1)
    out = {}

    cfg = _settings(root, d, branch_id, "segmentation")
    rows = d.table("segmentation_customers")
    cur, before = seg.classify(rows, cfg), seg.classify(seg.previous(rows), cfg)
    out["segmentation"] = seg.kpi_table(
        seg.kpis(cur),
        seg.kpis(before),
        bench=d.bench("bench_segmentation"),
        branch_id=branch_id,
        period=period,
        settings=cfg,
    )

    cfg = _settings(root, d, branch_id, "risk")
    book = risk.score_book(
        d.table("risk_loans"),
        scorecard=risk.load_scorecard(d.bench("bench_risk_scorecard")),
        lgd=cfg.lgd,
        default_dpd=cfg.scorecard.default_dpd,
        ccf=cfg.ccf,
    )
    k = risk.kpis(
        book=book,
        warnings=risk.early_warning(d.table("risk_borrowers"), rules=cfg.early_warning),
        compliance=risk.compliance_status(d.table("risk_customers"), rules=cfg.compliance),
    )
    bench = d.bench("bench_risk_kpis")
    last, _ = risk.kpi_context(bench, branch_id=branch_id, period=period)
    out["risk"] = risk.kpi_cards(
        k, last, bench=bench, branch_id=branch_id, period=period, rag=cfg.kpi_status
    )

    cfg = _settings(root, d, branch_id, "satisfaction")
    out["satisfaction"] = sat.kpi_table(
        d.bench("bench_satisfaction_monthly"),
        branch_id=branch_id,
        period=period,
        window_months=cfg.score_window_months,
        kpi_status=cfg.kpi_status,
    )

    cfg = _settings(root, d, branch_id, "staff_kpi")
    out["staff_kpi"] = staff_kpi.kpi_cards(
        d.table("staff_scorecard"),
        d.table("staff_attainment"),
        d.bench("bench_branch_kpis"),
        branch_id=branch_id,
        period=period,
        prev_period=prev,
        status=cfg.kpi_status,
    )
    return out


@pytest.mark.parametrize("period", PERIODS)
def test_every_card_with_a_value_then_and_now_has_a_start_of_the_year(december_bank, period):
    year = year_start_period(period)
    checked = missing = 0
    gaps = []
    for branch_id in BRANCHES:
        now = cards(december_bank, period, branch_id)
        then = cards(december_bank, year, branch_id)
        assert set(now) == set(registry())
        for report, frame in now.items():
            base = then[report].set_index("kpi")["value"]
            for key, row in frame.set_index("kpi").iterrows():
                if not (math.isfinite(row["value"]) and math.isfinite(base.get(key, math.nan))):
                    missing += 1
                    continue
                checked += 1
                if not (math.isfinite(row["year_start"]) and math.isfinite(row["change_ytd"])):
                    gaps.append((branch_id, report, key))
                    continue
                # the start of the year is last December's value, as that month's report
                # printed it (a window figure as well: the same months, the same sums)
                assert row["year_start"] == pytest.approx(base[key], rel=1e-9, abs=1e-12), (
                    branch_id,
                    report,
                    key,
                )
                assert row["change_ytd"] == pytest.approx(row["value"] - row["year_start"])
    assert not gaps, f"{period}: no start of the year on {gaps}"
    assert checked > 4 * missing  # most cards are checked, not skipped
