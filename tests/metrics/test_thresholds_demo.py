"""On the twelve-branch demo bank, prepared: the percentile cut-offs prepare stored are
the branches' percentiles recomputed here, the index colours a headline as the card
does, and no headline KPI is red in more than a quarter of the branches unless the
branch is one where the demo plants that problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from branchbook import demo
from branchbook.data import load
from branchbook.metrics import of_report, thresholds
from branchbook.metrics.cards import status
from branchbook.metrics.headlines import headline_metric, headlines
from branchbook.params import ParamSet
from branchbook.prepare import prepare
from branchbook.reports import registry, settings_classes

pytestmark = pytest.mark.slow
PERIOD = "2026-10"
#: the demo's planted problems, by the headline KPI they move (lib/branchbook/demo.py)
PLANTED = {
    "npl_ratio": {demo.STORIES["npl_rise"]["branch_id"]},
    "csat_mean": {demo.STORIES["satisfaction_drop"]["branch_id"]},
}


@pytest.fixture(scope="module")
def demo_bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo12")
    (root / "params" / "branches").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "params" / "bank.yaml", root / "params")
    warehouse = demo.build(root / "warehouse.duckdb", months=13, end_month=PERIOD)
    prepare(PERIOD, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    bank = load(PERIOD, scope="bank", build_dir=root / "build")
    sections = ParamSet(root / "params", settings_classes()).for_branch("0101").sections
    return bank, sections


def colours(bank, sections, name):
    """``{key: {branch: colour}}`` of every card of ``name`` this period, by the
    thresholds in force (a percentile rule at prepare's cut-offs)."""
    frame = registry()[name].module.unit_kpis(bank.bench, sections[name])
    now = frame[frame["period"] == PERIOD].set_index("branch_id")
    th = thresholds.resolve(
        sections[name].kpi_status, thresholds.read_cutoffs(bank.bench, name), period=PERIOD
    )
    return (
        {key: {bid: status(v, t.rag) for bid, v in now[key].items()} for key, t in th.items()},
        th,
        now,
    )


def test_prepared_cut_offs_are_the_branches_percentiles(demo_bank):
    bank, sections = demo_bank
    for name, spec in registry().items():
        rules = sections[name].kpi_status
        cuts = bank.bench(thresholds.artifact(name)).set_index("kpi")
        now = spec.module.unit_kpis(bank.bench, sections[name]).query("period == @PERIOD")
        expected = {
            m.key for m in of_report(name) if isinstance(rules.get(m.key), thresholds.Percentile)
        }
        assert set(cuts.index) == expected, name
        for key in expected:
            values = now[key].dropna().to_numpy()
            rule, row = rules[key], cuts.loc[key]
            assert row["branches"] == len(values)
            if len(values) < rule.min_branches:  # expected loss: no scorecard on 13 months
                assert np.isnan(row["amber_cut"]) and np.isnan(row["red_cut"])
                continue
            assert len(values) == 12
            q = (
                (rule.amber, rule.red)
                if row["good"] == "low"
                else (100 - rule.amber, 100 - rule.red)
            )
            assert [row["amber_cut"], row["red_cut"]] == pytest.approx(
                list(np.percentile(values, q))
            )


def test_no_headline_kpi_is_red_in_more_than_a_quarter_of_the_branches(demo_bank):
    bank, sections = demo_bank
    for name in registry():
        metric = headline_metric(name)
        by_key, th, now = colours(bank, sections, name)
        if metric is None or metric.key not in by_key:
            continue
        red = {b for b, c in by_key[metric.key].items() if c == "red"}
        unplanned = red - PLANTED.get(metric.key, set())
        assert len(unplanned) <= len(now) / 4, (metric.key, sorted(red))
        coloured = sum(c is not None for c in by_key[metric.key].values())
        assert coloured == now[metric.key].notna().sum()  # no data, no colour
    # every card: a percentile rule colours about a quarter of the branches, no more
    for name in registry():
        by_key, th, now = colours(bank, sections, name)
        for key, t in th.items():
            if t.source == "bank_distribution":
                coloured = [c for c in by_key[key].values() if c in ("red", "amber")]
                assert len(coloured) <= len(now) / 4, (key, by_key[key])


def test_the_planted_problems_show(demo_bank):
    bank, sections = demo_bank
    risk_colours, _, _ = colours(bank, sections, "risk")
    sat_colours, _, _ = colours(bank, sections, "satisfaction")
    (npl_branch,) = PLANTED["npl_ratio"]
    (csat_branch,) = PLANTED["csat_mean"]
    assert risk_colours["npl_ratio"][npl_branch] in ("amber", "red")
    assert sat_colours["csat_mean"][csat_branch] == "red"


def test_the_index_colours_a_headline_as_the_card_does(demo_bank):
    bank, sections = demo_bank
    specs = {name: spec.module for name, spec in registry().items()}
    ids = list(bank.meta["branches"])
    values = headlines(specs, bank.bench, {b: sections for b in ids}, period=PERIOD, locale="en")
    for name in specs:
        metric = headline_metric(name)
        by_key, _, _ = colours(bank, sections, name)
        if metric is None or metric.key not in by_key:
            continue
        for bid in ids:
            shown = values[f"{bid}/{name}"][metric.key]["status"]
            assert shown == (by_key[metric.key][bid] or "none"), (name, bid)
