"""The risk report's stress section and loss distribution, recomputed from the warehouse.

A demo bank long enough for the bank's scorecard to be fitted (25 months, so a
development window of 12 months of outcomes before the validation window), prepared
once for the module. The report's figures are what its notebook's calls give on the
prepared extracts; the truth is a separate SQL query over the warehouse's own tables
(``loans``, ``loan_snapshots``, ``customers``; not the shared ``loan_month``), with the
bank's parameters written out in it as numbers, and the scenario arithmetic done in SQL.
The only input taken from the report's side is the scorecard's PD of each loan.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from branchbook import risk
from branchbook.data import load
from branchbook.params import ParamSet
from branchbook.reports import settings_classes

pytestmark = pytest.mark.slow

PERIOD = "2026-10"
BRANCHES = ("0101", "0102")
#: Every unit a report is made for: the branches, their region, the bank.
UNITS = (*BRANCHES, "region:East", "bank")
#: The unit of a row of the GROUPING SETS below.
UNIT = """CASE WHEN grouping(branch_id) = 0 THEN branch_id
            WHEN grouping(region) = 0 THEN 'region:' || region ELSE 'bank' END"""

#: The loans on the book at the period's end, with what each figure needs, from the
#: warehouse's own tables: EAD (outstanding + 50% of the undrawn commitment), LGD and
#: haircut by collateral type, the standardised class weight when performing, in
#: default (over 90 days past due or classed substandard or worse) and classed NPL.
#: ``pds`` holds the scorecard's PD of each loan (``pd_model``).
LOANS_SQL = """
SELECT l.branch_id, br.region, l.loan_id, s.outstanding,
       s.outstanding + 0.5 * coalesce(s.undrawn, 0) AS ead,
       s.five_class IN ('substandard', 'doubtful', 'loss') AS npl,
       s.dpd > 90 OR s.five_class IN ('substandard', 'doubtful', 'loss') AS in_default,
       CASE l.collateral_type WHEN 'guarantee' THEN 0.60 WHEN 'receivables' THEN 0.55
            WHEN 'equipment' THEN 0.50 WHEN 'real_estate' THEN 0.35 WHEN 'deposit' THEN 0.10
            ELSE 0.75 END AS lgd,
       CASE l.collateral_type WHEN 'real_estate' THEN 0.30 WHEN 'equipment' THEN 0.30
            WHEN 'receivables' THEN 0.20 WHEN 'deposit' THEN 0.0 END AS haircut,
       l.collateral_value AS value,
       CASE WHEN l.product = 'mortgage' THEN 0.35 WHEN c.customer_type = 'corporate' THEN 1.00
            ELSE 0.75 END AS weight,
       CASE WHEN l.product = 'mortgage' THEN 'mortgage'
            WHEN c.customer_type = 'corporate' THEN 'corporate' ELSE 'retail' END AS class,
       CASE WHEN s.dpd > 90 OR s.five_class IN ('substandard', 'doubtful', 'loss') THEN 1.0
            ELSE p.pd_model END AS pd
FROM loan_snapshots s
JOIN loans l ON l.loan_id = s.loan_id
JOIN customers c ON c.customer_id = l.customer_id
JOIN branches br ON br.branch_id = l.branch_id
JOIN pds p ON p.loan_id = s.loan_id
WHERE s.month = $month AND s.outstanding > 0
"""

#: Every scenario of the report's table on those loans, per unit (branch, region, bank):
#: PD times m (at most 1); collateral values down by the shock, the recovery lost
#: (the haircut value's cover of the EAD before less after) added to the LGD (at most
#: 1); the NPL balance expected in 12 months (NPL now, else the balance times the PD);
#: RWA at (1 - PD) the class weight plus PD the past-due weight (150%).
SCENARIOS_SQL = f"""
WITH b AS ({LOANS_SQL}),
sc(scenario, m, shock) AS (VALUES ('base', 1.0, 0.0), ('pd', 1.5, 0.0), ('pd', 2.0, 0.0),
    ('collateral', 1.0, 0.2), ('collateral', 1.0, 0.4), ('combined', 2.0, 0.4)),
x AS (
  SELECT b.branch_id, b.region, b.outstanding, b.ead, b.npl, b.weight, sc.scenario, sc.m, sc.shock,
         least(1.0, b.pd * sc.m) AS p,
         CASE WHEN b.haircut IS NULL OR b.value IS NULL OR b.ead <= 0 THEN b.lgd
              ELSE least(1.0, b.lgd + (least(b.ead, (1 - b.haircut) * b.value)
                   - least(b.ead, (1 - b.haircut) * (1 - sc.shock) * b.value)) / b.ead)
              END AS lgd
  FROM b CROSS JOIN sc)
SELECT {UNIT} AS unit, scenario, m, shock,
       sum(p * lgd * ead) AS el, sum(ead) AS ead, sum(outstanding) AS outstanding,
       sum(CASE WHEN npl THEN outstanding ELSE outstanding * p END) AS npl_expected,
       sum(ead * ((1 - p) * weight + p * 1.50)) AS rwa
FROM x
GROUP BY GROUPING SETS ((branch_id, scenario, m, shock), (region, scenario, m, shock),
                        (scenario, m, shock))
"""

#: Today's figures per unit: the NPL ratio, standardised RWA (a loan
#: in default at 150%), EL = sum(PD x LGD x EAD), and the EAD-weighted Basel asset
#: correlation (corporate 12-24%, mortgage 15%, other retail 3-16%, by PD).
TODAY_SQL = f"""
WITH b AS ({LOANS_SQL}),
r AS (SELECT *, CASE class
          WHEN 'mortgage' THEN 0.15
          WHEN 'corporate' THEN 0.12 * (1 - exp(-50 * pd)) / (1 - exp(-50))
                                + 0.24 * (1 - (1 - exp(-50 * pd)) / (1 - exp(-50)))
          ELSE 0.03 * (1 - exp(-35 * pd)) / (1 - exp(-35))
               + 0.16 * (1 - (1 - exp(-35 * pd)) / (1 - exp(-35))) END AS rho
      FROM b)
SELECT {UNIT} AS unit, count(*) AS loans,
       sum(outstanding) FILTER (WHERE npl) / sum(outstanding) AS npl_ratio,
       sum(ead * CASE WHEN in_default THEN 1.50 ELSE weight END) AS rwa,
       sum(ead) AS ead, sum(pd * lgd * ead) AS el, sum(rho * ead) / sum(ead) AS rho
FROM r
GROUP BY GROUPING SETS ((branch_id), (region), ())
"""


@pytest.fixture(scope="module")
def scored_bank(tmp_path_factory):
    """A demo bank of two branches whose scorecard is fitted, prepared for the period:
    its folder (``params/``, ``build/``) and the warehouse's path."""
    from branchbook import demo
    from branchbook.prepare import prepare

    root = tmp_path_factory.mktemp("scored_bank")
    (root / "params" / "branches").mkdir(parents=True)
    bank = (Path(__file__).resolve().parents[1] / "params" / "bank.yaml").read_text("utf-8")
    # 8,000 customers give some 20 defaults in the development sample: the threshold is
    # lowered so that the fit does not hang on one default more or less
    bank = bank.replace("\nrisk:\n", "\nrisk:\n  scorecard: {min_fit_defaults: 10}\n", 1)
    assert "min_fit_defaults: 10" in bank
    (root / "params" / "bank.yaml").write_text(bank, "utf-8")
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    demo.build(warehouse, branches=2, customers=8_000, months=25, end_month=PERIOD, seed=3)
    prepare(PERIOD, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root, warehouse


def _report(root: Path, scope: str = "branch", branch: str = BRANCHES[0]):
    """What the risk notebook computes at ``scope``: its data, settings, scored book,
    KPIs and the stress table, by the notebook's own calls."""
    d = load(PERIOD, branch, scope=scope, build_dir=root / "build")
    cfg = ParamSet(root / "params", settings_classes()).for_branch(branch).sections["risk"]
    sc = risk.load_scorecard(d.bench("bench_risk_scorecard"))
    book = risk.score_book(d.table("risk_loans"), scorecard=sc, lgd=cfg.lgd,
                           default_dpd=cfg.scorecard.default_dpd, ccf=cfg.ccf)  # fmt: skip
    flags = risk.early_warning(d.table("risk_borrowers"), rules=cfg.early_warning)
    status = risk.compliance_status(d.table("risk_customers"), rules=cfg.compliance)
    k = risk.kpis(book=book, warnings=flags, compliance=status)
    secured = d.coverage.shows("risk.collateral")
    table = risk.stress_table(book, settings=cfg.stress, collateral=secured)
    return d, cfg, sc, book, k, table


def _truth(warehouse: Path, book: pd.DataFrame, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.register("pds", book[["loan_id", "pd_model"]])
        return con.execute(sql, {"month": PERIOD}).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def reports(scored_bank):
    """The notebook's figures for each branch, their region and the bank."""
    root, _ = scored_bank
    out = {b: _report(root, "branch", b) for b in BRANCHES}
    return {**out, **{u: _report(root, u) for u in UNITS if u not in BRANCHES}}


@pytest.fixture(scope="module")
def truth(scored_bank, reports):
    """The two queries on the warehouse, with the PDs of the bank's scored book."""
    _, warehouse = scored_bank
    book = reports["bank"][3]
    return (
        _truth(warehouse, book, SCENARIOS_SQL).set_index(["unit", "scenario", "m", "shock"]),
        _truth(warehouse, book, TODAY_SQL).set_index("unit"),
    )


def test_the_bank_is_scored(reports, truth):
    """Not a vacuous check: the scorecard was fitted, every loan has a finite PD and the
    query sees exactly the report's loans."""
    _, today = truth
    for unit, (d, _, sc, book, _, table) in reports.items():
        assert sc is not None
        assert d.members == (list(BRANCHES) if unit in ("region:East", "bank") else [unit])
        assert len(book) > 300 and np.isfinite(book["pd"]).all()
        assert ((book["pd"] > 0) & (book["pd"] <= 1)).all()
        assert today.loc[unit, "loans"] == len(book)
        assert d.coverage.shows("risk.collateral")
        assert len(table) == 6 and table["el"].notna().all()


@pytest.mark.parametrize("unit", UNITS)
def test_every_stressed_row_matches_the_warehouse(reports, truth, unit):
    scenarios, _ = truth
    *_, table = reports[unit]
    base_el = scenarios.loc[(unit, "base", 1.0, 0.0), "el"]
    for row in table.itertuples():
        key = (unit, row.scenario, row.pd_multiplier, row.collateral_shock)
        want = scenarios.loc[key]
        assert row.el == pytest.approx(want["el"], rel=1e-9), key
        assert row.el_rate == pytest.approx(want["el"] / want["ead"], rel=1e-9), key
        assert row.el_change == pytest.approx(want["el"] - base_el, rel=1e-9, abs=1e-6), key
        assert row.npl_ratio == pytest.approx(want["npl_expected"] / want["outstanding"],
                                              rel=1e-9), key  # fmt: skip
        assert row.rwa == pytest.approx(want["rwa"], rel=1e-9), key
        assert row.rwa_density == pytest.approx(want["rwa"] / want["ead"], rel=1e-9), key
    # the scenarios bite: the stressed rows are worse than the base one, more so the
    # larger the shock (a check that the test data exercise every branch of the SQL)
    el = table.set_index(["scenario", "pd_multiplier", "collateral_shock"])["el"]
    assert el[("base", 1.0, 0.0)] < el[("pd", 1.5, 0.0)] < el[("pd", 2.0, 0.0)]
    assert el[("base", 1.0, 0.0)] < el[("collateral", 1.0, 0.2)] < el[("collateral", 1.0, 0.4)]
    assert el[("combined", 2.0, 0.4)] > max(el[("pd", 2.0, 0.0)], el[("collateral", 1.0, 0.4)])


@pytest.mark.parametrize("unit", UNITS)
def test_todays_npl_ratio_and_rwa_match_the_warehouse(scored_bank, reports, truth, unit):
    root, _ = scored_bank
    _, today = truth
    _, cfg, _, book, k, _ = reports[unit]
    want = today.loc[unit]
    assert 0 < want["npl_ratio"] < 1
    assert k["npl_ratio"] == pytest.approx(want["npl_ratio"], rel=1e-9)
    rwa = risk.rwa_today(book, settings=cfg.stress)
    assert rwa["rwa"] == pytest.approx(want["rwa"], rel=1e-9)
    assert rwa["density"] == pytest.approx(want["rwa"] / want["ead"], rel=1e-9)
    if unit in BRANCHES:  # the branch's benchmark row, the bank's median is read from it
        bench = pd.read_parquet(
            root / "build" / PERIOD / "prepared" / "bench" / "bench_risk_kpis.parquet"
        )
        row = bench[(bench["branch_id"] == unit) & (bench["month"] == PERIOD)].iloc[0]
        assert row["npl_ratio"] == pytest.approx(want["npl_ratio"], rel=1e-9)
        assert row["expected_loss_rate"] == pytest.approx(want["el"] / want["ead"], rel=1e-9)


@pytest.mark.parametrize("unit", UNITS)
def test_the_loss_distribution_reconciles_with_the_warehouse(reports, truth, unit):
    """The loss distribution a report shows (a region's and the bank's simulated on
    their pooled loans, not their branches' rows): every figure finite; the formula EL
    is sum(PD x LGD x EAD) of the query; the simulated mean lies within three standard
    errors of it; the asset correlation is the query's EAD-weighted Basel one; the
    quantiles are in order and UL is VaR less the mean."""
    _, today = truth
    d, cfg, *_ = reports[unit]
    scope = "branch" if unit in BRANCHES else unit
    loss = risk.loss_at_scope(d.table("risk_loss"), d.bench("bench_risk_loss"), scope=scope)
    loss = loss.set_index("measure")
    assert list(loss.index) == list(risk.LOSS_MEASURES)
    assert np.isfinite(loss["value"]).all()
    assert np.isfinite(loss.drop(index="el_formula")[["low", "high"]]).all().all()
    want = today.loc[unit]
    assert want["el"] > 0
    formula = loss.loc["el_formula", "value"]
    assert formula == pytest.approx(want["el"], rel=1e-9)
    mean, low, high = loss.loc["el_simulated", ["value", "low", "high"]]
    se = (high - low) / (2 * 1.96)
    assert 0 < se < 0.05 * mean
    assert abs(mean - want["el"]) < 3 * se
    assert loss["rho"].tolist() == pytest.approx([want["rho"]] * len(loss), rel=1e-9)
    assert (loss["draws"] == cfg.stress.draws).all()
    assert (loss["confidence"] == cfg.stress.confidence).all()
    v = loss["value"]
    assert v["q50"] <= v["q90"] <= v["q99"] <= v["var"]
    assert v["ul"] == pytest.approx(v["var"] - mean, rel=1e-12)
    for m in ("q50", "q90", "q99", "var"):
        assert loss.loc[m, "low"] <= v[m] <= loss.loc[m, "high"]


@pytest.mark.parametrize("unit", UNITS)
def test_zero_shocks_give_the_base_row(reports, truth, unit):
    """With PD x1 and no fall in collateral values every scenario row is the base row,
    which is the warehouse's EL, expected NPL ratio and RWA."""
    scenarios, _ = truth
    _, cfg, _, book, _, _ = reports[unit]
    none = cfg.stress.model_validate(
        {**cfg.stress.model_dump(), "pd_multipliers": [1.0], "collateral_shocks": [0.0]}
    )
    table = risk.stress_table(book, settings=none)
    assert table["scenario"].tolist() == ["base", "pd", "collateral", "combined"]
    cols = ["el", "el_rate", "npl_ratio", "rwa", "rwa_density"]
    for _, row in table.iterrows():
        assert row[cols].tolist() == table.iloc[0][cols].tolist()
        assert row["el_change"] == 0.0
    want = scenarios.loc[(unit, "base", 1.0, 0.0)]
    base = table.iloc[0]
    assert base["el"] == pytest.approx(want["el"], rel=1e-9)
    assert base["npl_ratio"] == pytest.approx(want["npl_expected"] / want["outstanding"], rel=1e-9)
    assert base["rwa"] == pytest.approx(want["rwa"], rel=1e-9)
    assert not math.isnan(base["el"])
