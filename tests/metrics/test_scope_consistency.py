"""A region's and the bank's figures are their branches' pooled: every additive figure of
a region is the sum of its branches' and the bank's the sum of its regions'; every
ratio is the pooled numerator over the pooled denominator, recomputed from the
warehouse by its own SQL (on a small demo bank of six branches in two regions, one of
them a sub-branch). Segmentation's and risk's figures, satisfaction's (responses and
complaints added up, CSAT pooled over the responses) and staff KPI's (managers added
up, the managed NPL ratio pooled over the managed loans), and the league tables' values
of each region and branch."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from branchbook import demo, paths
from branchbook import risk as rk
from branchbook import satisfaction as sat
from branchbook import segmentation as sg
from branchbook import staff_kpi as sk
from branchbook.data import load
from branchbook.params import ParamSet
from branchbook.period import shift_month
from branchbook.prepare import prepare
from branchbook.reports import settings_classes

pytestmark = pytest.mark.slow
ADDITIVE = ("customers", "aum_total", "high_value_customers", "loans", "outstanding")
ADDITIVE += ("responses", "complaints", "n_managers")
RATIOS = ("npl_ratio", "special_mention_ratio")
CSAT_WINDOW = 3  # the satisfaction report's score window (bank.yaml's default)
CSAT_100 = {1: 0.0, 2: 30.0, 3: 60.0, 4: 85.0, 5: 100.0}  # bank.yaml's csat_scale


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("six_branches")
    (root / "params" / "branches").mkdir(parents=True)
    shutil.copy(paths.project_root() / "params" / "bank.yaml", root / "params")
    warehouse = root / "warehouse.duckdb"
    demo.build(warehouse, branches=6, customers=1_500, months=13, seed=5)
    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE branches SET parent_id = '0101' WHERE branch_id = '0102'")
    con.close()
    # the latest complete month (a bank this small may have too few complaints in the last)
    prepared = prepare(None, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root, prepared.period, prepared.meta["period_end"]


def figures(d, sections) -> dict[str, float]:
    """The figures the segmentation and risk reports print, by the reports' own code."""
    cfg, rc = sections["segmentation"], sections["risk"]
    seg = sg.kpis(sg.classify(d.table("segmentation_customers"), cfg))
    sc = rk.load_scorecard(d.bench("bench_risk_scorecard"))
    book = rk.score_book(d.table("risk_loans"), scorecard=sc, lgd=rc.lgd,
                         default_dpd=rc.scorecard.default_dpd, ccf=rc.ccf)  # fmt: skip
    risk = rk.kpis(
        book=book,
        warnings=rk.early_warning(d.table("risk_borrowers"), rules=rc.early_warning),
        compliance=rk.compliance_status(d.table("risk_customers"), rules=rc.compliance),
    )
    window = sections["satisfaction"].score_window_months
    monthly = d.bench("bench_satisfaction_monthly")
    members = d.members
    mine = monthly[monthly["branch_id"].isin(members) & (monthly["month"] == d.period)]
    service = sat.kpis(monthly, period=d.period, window_months=window, branch_id=members)
    staff = sk.headline_table(
        d.table("staff_scorecard"), d.table("staff_attainment"), by=("month",)
    )
    staff = staff[staff["month"] == d.period].iloc[0]
    return {
        **seg,
        **risk,
        "loans": float(len(book)),
        "outstanding": float(book["outstanding"].sum()),
        "responses": float(mine["responses"].sum()),
        "complaints": float(mine["complaints"].sum()),
        "csat_mean": service["csat_mean"],
        "n_managers": float(staff["n_managers"]),
        "managed_npl_ratio": float(staff["managed_npl_ratio"]),
    }


@pytest.fixture(scope="module")
def scopes(bank):
    root, period, _ = bank
    sections = ParamSet(root / "params", settings_classes()).for_scope("bank").sections
    build = root / "build"
    bank_data = load(period, scope="bank", build_dir=build)
    tree = bank_data.org
    out = {"bank": figures(bank_data, sections)}
    for region in tree.regions():
        out[f"region:{region}"] = figures(
            load(period, scope=f"region:{region}", build_dir=build), sections
        )
    for b in tree.branches("bank"):
        out[b] = figures(load(period, b, build_dir=build), sections)
    return tree, out


def test_the_small_bank_has_two_regions_and_a_sub_branch(scopes):
    tree, _ = scopes
    assert tree.regions() == ("East", "North")
    assert tree.branches("region:East") == ("0101", "0102", "0103", "0104")
    assert tree.path("0102") == ("bank", "region:East", "branch:0101", "branch:0102")


@pytest.mark.parametrize("key", ADDITIVE)
def test_additive_figures_add_up_branch_region_bank(scopes, key):
    tree, got = scopes
    regions = [f"region:{r}" for r in tree.regions()]
    for r in regions:
        assert got[r][key] == pytest.approx(sum(got[b][key] for b in tree.branches(r)), rel=1e-12)
    assert got["bank"][key] == pytest.approx(sum(got[r][key] for r in regions), rel=1e-12)
    assert got["bank"][key] > 0


def warehouse_figures(bank, members: tuple[str, ...]) -> dict[str, float]:
    """The same figures by a separate query over the warehouse for ``members``."""
    root, period, end = bank
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    ids = list(members)
    open_ = "c.opened_on <= $end AND (c.closed_on IS NULL OR c.closed_on > $end)"
    customers, aum = con.execute(
        f"SELECT count(*) FILTER (WHERE {open_}), "
        # AUM on the default balance basis, average daily (日均), an overdraft counting 0
        f"sum(greatest(coalesce(b.deposits_avg, b.deposits, 0), 0) "
        f"+ coalesce(b.wealth_avg, b.wealth, 0)) FILTER (WHERE {open_}) "
        "FROM customers c LEFT JOIN balances b ON b.customer_id = c.customer_id "
        "AND b.month = $month WHERE list_contains($ids, c.branch_id)",
        {"end": end, "month": period, "ids": ids},
    ).fetchone()
    loans, outstanding, npl, sm = con.execute(
        "SELECT count(*), sum(s.outstanding), "
        "coalesce(sum(s.outstanding) FILTER (WHERE s.five_class IN "
        "('substandard', 'doubtful', 'loss')), 0), "
        "coalesce(sum(s.outstanding) FILTER (WHERE s.five_class = 'special_mention'), 0) "
        "FROM loan_snapshots s JOIN loans l USING (loan_id) "
        "WHERE s.month = $month AND list_contains($ids, l.branch_id)",
        {"month": period, "ids": ids},
    ).fetchone()
    months = [shift_month(period, -i) for i in range(CSAT_WINDOW)]
    csat_case = " ".join(f"WHEN {k} THEN {v}" for k, v in CSAT_100.items())
    responses, csat = con.execute(
        "SELECT count(*) FILTER (WHERE strftime(responded_on, '%Y-%m') = $month), "
        f"avg(CASE csat {csat_case} END) FILTER (WHERE list_contains($months, "
        "strftime(responded_on, '%Y-%m'))) FROM surveys WHERE list_contains($ids, branch_id)",
        {"month": period, "months": months, "ids": ids},
    ).fetchone()
    (complaints,) = con.execute(
        "SELECT count(*) FROM complaints WHERE strftime(received_at, '%Y-%m') = $month "
        "AND list_contains($ids, branch_id)",
        {"month": period, "ids": ids},
    ).fetchone()
    managed_npl, managed = con.execute(
        "SELECT coalesce(sum(s.outstanding) FILTER (WHERE s.five_class IN "
        "('substandard', 'doubtful', 'loss')), 0), sum(s.outstanding) "
        "FROM loan_snapshots s JOIN loans l USING (loan_id) "
        "JOIN staff m ON m.staff_id = l.manager_id "
        "WHERE s.month = $month AND list_contains($ids, l.branch_id)",
        {"month": period, "ids": ids},
    ).fetchone()
    con.close()
    return {
        "responses": responses,
        "complaints": complaints,
        "csat_mean": csat,
        "managed_npl_ratio": managed_npl / managed,
        "customers": customers,
        "aum_total": aum,
        "loans": loans,
        "outstanding": outstanding,
        "npl_ratio": npl / outstanding,
        "special_mention_ratio": sm / outstanding,
    }


def test_each_scope_is_its_pooled_rows_recomputed_from_the_warehouse(bank, scopes):
    tree, got = scopes
    for scope in ("bank", *(f"region:{r}" for r in tree.regions()), *tree.branches("bank")):
        members = (scope,) if scope in tree.region else tree.branches(scope)
        want = warehouse_figures(bank, members)
        for key, value in want.items():
            assert got[scope][key] == pytest.approx(value, rel=1e-9), (scope, key)


def test_a_ratio_is_pooled_not_averaged(scopes):
    tree, got = scopes
    branches = tree.branches("region:East")
    mean = sum(got[b]["npl_ratio"] for b in branches) / len(branches)
    assert got["region:East"]["npl_ratio"] != pytest.approx(mean, rel=1e-6)


def test_a_scopes_bridges_are_its_branches_added_and_add_up(bank):
    """At a region and the bank, every stock bridge (customers, AUM, deposits, loans) is
    its branches' bridges added part by part, opening + parts = closing, and the NPL and
    special-mention ratio bridges leave no residual: the bridges hold at every scope the
    reports run at."""
    import numpy as np

    root, period, _ = bank
    seg = ParamSet(root / "params", settings_classes()).for_scope("bank").sections["segmentation"]
    build = root / "build"
    bank_data = load(period, scope="bank", build_dir=build)
    tree = bank_data.org
    scopes = {"bank": bank_data} | {
        f"region:{r}": load(period, scope=f"region:{r}", build_dir=build) for r in tree.regions()
    }
    for scope, d in scopes.items():
        members = [load(period, b, build_dir=build) for b in tree.branches(scope)]
        for base in ("month", "year"):
            for measure in ("customers", "aum_total", "deposits"):
                whole = sg.bridge_total(
                    d.table("segmentation_bridge"), seg, base=base, measure=measure
                )
                parts = sum(
                    sg.bridge_total(m.table("segmentation_bridge"), seg, base=base, measure=measure)
                    for m in members
                )
                np.testing.assert_allclose(whole.to_numpy(), parts.reindex(whole.index).to_numpy(),
                                           rtol=1e-9, atol=1e-6, err_msg=f"{scope} {base} {measure}")  # fmt: skip
                moves = [c for c in whole.index if c not in ("opening", "closing")]
                assert whole["opening"] + whole[moves].sum() == pytest.approx(whole["closing"])
            loans = rk.loans_total(d.table("risk_bridge"), base=base)
            parts = sum(rk.loans_total(m.table("risk_bridge"), base=base) for m in members)
            np.testing.assert_allclose(loans.to_numpy(), parts.reindex(loans.index).to_numpy(),
                                       rtol=1e-9, atol=1e-6, err_msg=f"{scope} {base} loans")  # fmt: skip
            for key in RATIOS:
                t = rk.ratio_total(d.table("risk_bridge"), base=base, ratio_key=key)
                assert abs(t["residual"]) < 1e-12, (scope, base, key, t)


def test_the_league_tables_values_are_each_units_pooled_rows_in_the_warehouse(bank):
    """At the bank's scope, each region's and each branch's NPL ratio, customers and
    CSAT in the league tables equal a separate query over the warehouse for its
    branches."""
    from branchbook.metrics import league

    root, period, _ = bank
    d = load(period, scope="bank", build_dir=root / "build")
    window = ParamSet(root / "params", settings_classes()).bank["satisfaction"]
    window = window.get("score_window_months", CSAT_WINDOW)
    inputs = {
        "npl_ratio": (rk.league_values, {"history": d.table("risk_book"),
                                         "loans": d.table("risk_loans"), "period": period}),
        "customers": (sg.league_values, {"bench": d.bench("bench_segmentation")}),
        "csat_mean": (sat.league_values, {"monthly": d.bench("bench_satisfaction_monthly"),
                                          "window_months": window}),
    }  # fmt: skip
    for key, (values_of, given) in inputs.items():
        tables, _ = league.scope_leagues(values_of, given, region=d.org.region,
                                         members=d.members, scope="bank", period=period,
                                         key=key)  # fmt: skip
        for level, table in tables.items():
            for unit, value in zip(table["unit"], table["value"], strict=True):
                scope = f"region:{unit}" if level == "region" else f"branch:{unit}"
                want = warehouse_figures(
                    bank, d.org.branches(scope) if level == "region" else (unit,)
                )
                assert value == pytest.approx(want[key], rel=1e-9), (key, unit)


def test_the_index_headlines_of_regions_and_the_bank_are_their_pooled_rows_in_the_warehouse(
    bank, scopes
):
    """The index's headline of each region and of the bank, computed as the run does
    (:func:`branchbook.metrics.headlines.headlines` over prepare's benchmarks), equals a
    separate query over the warehouse for its branches (customers, NPL ratio, mean
    CSAT) and the scope's own report figure (the mean composite over its managers); a
    region's NPL ratio is its pooled ratio, not the mean of its branches' headlines."""
    from branchbook import orgtree
    from branchbook.metrics.headlines import headlines
    from branchbook.reports import registry

    root, period, _ = bank
    tree, _ = scopes
    ps = ParamSet(root / "params", settings_classes())
    build = root / "build"
    d = load(period, scope="bank", build_dir=build)
    folders = {"bank": "bank", **{orgtree.folder(f"region:{r}"): f"region:{r}" for r in tree.regions()}}  # fmt: skip
    members = {f: tree.branches(s) for f, s in folders.items()}
    settings = {f: ps.for_scope(f).sections for f in folders}
    settings |= {b: ps.for_branch(b).sections for b in tree.branches("bank")}
    out = headlines(
        {name: spec.module for name, spec in registry().items()},
        d.bench,
        settings,
        period=period,
        locale="en",
        members=members,
    )
    keys = {"segmentation": "customers", "risk": "npl_ratio", "satisfaction": "csat_mean"}
    for folder, scope in folders.items():
        want = warehouse_figures(bank, members[folder])
        for report, key in keys.items():
            item = out[f"{folder}/{report}"][key]
            assert item["value"] == pytest.approx(want[key], rel=1e-9), (folder, key)
            assert item["text"] not in ("", "n/a")
        own = load(period, scope=scope, build_dir=build)
        staff = sk.kpis(own.table("staff_scorecard"), own.table("staff_attainment"), month=period)
        got = out[f"{folder}/staff_kpi"]["composite_mean"]["value"]
        assert got == pytest.approx(staff["composite_mean"], rel=1e-9), folder
    east = [out[f"{b}/risk"]["npl_ratio"]["value"] for b in tree.branches("region:East")]
    assert max(east) != pytest.approx(min(east))  # the branches differ
    region = out["region-East/risk"]["npl_ratio"]["value"]
    assert region != pytest.approx(sum(east) / len(east), rel=1e-6)
