"""A region's and the bank's figures are their branches' pooled: every additive figure of
a region is the sum of its branches' and the bank's the sum of its regions'; every
ratio is the pooled numerator over the pooled denominator, recomputed from the
warehouse by its own SQL (on a small demo bank of six branches in two regions, one of
them a sub-branch). Segmentation's and risk's figures, satisfaction's (responses and
complaints added up, CSAT pooled over the responses) and staff KPI's (managers added
up, the managed NPL ratio pooled over the managed loans), the league tables' values
of each region and branch, and what a scope's cards compare with: its last month and
start of the year, and the bank's own value beside a region's."""

from __future__ import annotations

import math
import re
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
from branchbook.period import Period, shift_month
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


# -- the cards' last month, start of the year and bank value at a region and the bank --

HELD = """(SELECT c.customer_id, c.opened_on, c.closed_on, c.risk_appetite, c.kyc_status,
       coalesce((SELECT h.branch_id FROM customer_branch_history h
                 WHERE h.customer_id = c.customer_id AND h.valid_from <= $end
                 ORDER BY h.valid_from DESC LIMIT 1),
                (SELECT h.branch_id FROM customer_branch_history h
                 WHERE h.customer_id = c.customer_id ORDER BY h.valid_from LIMIT 1),
                c.branch_id) AS branch_id
FROM customers c)"""  # each customer in the branch holding it at the period's end (同口径)
AUM = "greatest(coalesce(b.deposits_avg, b.deposits, 0), 0) + coalesce(b.wealth_avg, b.wealth, 0)"
OPEN_AT = "c.opened_on <= $m_end AND (c.closed_on IS NULL OR c.closed_on > $m_end)"


def run(con, sql: str, params: dict):
    """``sql`` on ``con`` with the parameters of ``params`` it names (DuckDB refuses others)."""
    return con.execute(sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)})


def warehouse_cards(bank, members: tuple[str, ...], month: str) -> dict[str, float]:
    """The cards a region's or the bank's last month, start of the year and bank value
    pool from more than NPL sums, by separate queries over the warehouse for the
    branches ``members`` at ``month`` (the params' defaults: early warning, compliance,
    the top 10 borrowers, the top 20% of customers, suitability)."""
    root, period, end = bank
    m = Period.parse(month)
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    given = {"ids": list(members), "m": month, "m_end": m.end, "end": end}
    # loans by their booking branch, outstanding at the month's end
    book = (
        "SELECT l.customer_id, l.branch_id, s.outstanding, s.dpd FROM loan_snapshots s "
        "JOIN loans l USING (loan_id) WHERE s.month = $m AND s.outstanding > 0 "
        "AND list_contains($ids, l.branch_id)"
    )
    (outstanding,) = run(con, f"SELECT sum(outstanding) FROM ({book})", given).fetchone()
    (top10,) = run(
        con,
        "SELECT sum(o) FILTER (WHERE rk <= 10) / sum(o) FROM (SELECT o, row_number() OVER "
        f"(ORDER BY o DESC) AS rk FROM (SELECT customer_id, sum(outstanding) AS o FROM ({book}) "
        "GROUP BY customer_id))",
        given,
    ).fetchone()
    # a corporate borrower per booking branch, its latest statement by the month's end
    # against the latest at least 11 months older; any rule tripped flags its exposure
    (flagged,) = run(
        con,
        f"""
        WITH ex AS (SELECT customer_id, branch_id, sum(outstanding) AS exposure,
                           max(dpd) AS max_dpd FROM ({book}) GROUP BY ALL),
        f AS (SELECT * FROM financials WHERE period_end <= $m_end),
        cur AS (SELECT * FROM f QUALIFY row_number() OVER
                (PARTITION BY customer_id ORDER BY period_end DESC) = 1),
        pri AS (SELECT f.* FROM f JOIN cur USING (customer_id)
                WHERE f.period_end <= cur.period_end - INTERVAL 11 MONTH QUALIFY
                row_number() OVER (PARTITION BY f.customer_id ORDER BY f.period_end DESC) = 1),
        r AS (SELECT ex.exposure, ex.max_dpd, cur.operating_cash_flow,
                 cur.revenue / nullif(greatest(p.revenue, 0), 0) - 1 AS rev,
                 cur.inventory / nullif(greatest(p.inventory, 0), 0) - 1 AS inv,
                 cur.net_profit / nullif(greatest(p.net_profit, 0), 0) - 1 AS profit,
                 cur.net_profit / nullif(greatest(cur.revenue, 0), 0)
                   - p.net_profit / nullif(greatest(p.revenue, 0), 0) AS margin,
                 365 * (cur.receivables / nullif(greatest(cur.revenue, 0), 0)
                   - p.receivables / nullif(greatest(p.revenue, 0), 0)) AS days,
                 cur.total_liabilities / nullif(greatest(cur.total_assets, 0), 0) AS dta,
                 cur.current_assets / nullif(greatest(cur.current_liabilities, 0), 0) AS cr
              FROM ex JOIN customers c USING (customer_id)
              LEFT JOIN cur USING (customer_id) LEFT JOIN pri p USING (customer_id)
              WHERE c.customer_type = 'corporate')
        SELECT coalesce(sum(exposure) FILTER (WHERE coalesce(rev <= -0.10 AND inv >= 0.10, false)
            OR coalesce(profit <= -0.30, false) OR coalesce(margin <= -0.03, false)
            OR coalesce(days >= 30, false) OR coalesce(dta > 0.70, false)
            OR coalesce(cr < 1.0, false) OR coalesce(operating_cash_flow < 0, false)
            OR coalesce(max_dpd > 0, false)), 0) FROM r
        """,
        given,
    ).fetchone()
    # the customers open at the month's end, with their KYC status and AML alerts then
    since = m.shift(-11).start
    state = ("CASE WHEN a.closed_on IS NULL AND a.status <> 'open' THEN a.status "
             "WHEN a.closed_on IS NULL OR a.closed_on > $m_end THEN 'open' "
             "WHEN a.status = 'open' THEN 'closed' ELSE a.status END")  # fmt: skip
    risky, customers = run(
        con,
        f"""
        WITH c AS (SELECT * FROM {HELD} c WHERE {OPEN_AT} AND list_contains($ids, branch_id)),
        k AS (SELECT customer_id, kyc_status FROM kyc_history WHERE valid_from <= $m_end
              QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY valid_from DESC) = 1),
        a AS (SELECT a.customer_id FROM aml_alerts a WHERE a.raised_on <= $m_end AND (
                ({state} = 'reported' AND coalesce(a.closed_on, a.raised_on) >= $since)
                OR ({state} = 'open' AND date_diff('day', a.raised_on, $m_end) > 30)))
        SELECT count(*) FILTER (WHERE coalesce(k.kyc_status, c.kyc_status) = 'expired'
                                OR c.customer_id IN (SELECT customer_id FROM a)), count(*)
        FROM c LEFT JOIN k USING (customer_id)
        """,
        {**given, "since": since},
    ).fetchone()
    # segmentation: the open customers' AUM and judged holdings at the month's end
    (top20,) = run(
        con,
        f"""
        WITH a AS (SELECT greatest(coalesce(({AUM}), 0), 0) AS aum
                   FROM {HELD} c LEFT JOIN balances b ON b.customer_id = c.customer_id
                   AND b.month = $m WHERE {OPEN_AT} AND list_contains($ids, c.branch_id)),
        r AS (SELECT aum, row_number() OVER (ORDER BY aum DESC) AS rk, count(*) OVER () AS n FROM a)
        SELECT sum(aum) FILTER (WHERE rk <= (n + 4) // 5) / sum(aum) FROM r
        """,
        given,
    ).fetchone()
    mismatched, holders = run(
        con,
        f"""
        WITH h AS (SELECT c.customer_id, bool_or(h.risk_level > c.risk_appetite) AS bad
                   FROM {HELD} c JOIN holdings h ON h.customer_id = c.customer_id
                   WHERE h.month = $m AND h.balance > 0 AND c.risk_appetite IS NOT NULL
                   AND {OPEN_AT} AND list_contains($ids, c.branch_id) GROUP BY c.customer_id)
        SELECT count(*) FILTER (WHERE bad), count(*) FROM h
        """,
        given,
    ).fetchone()
    con.close()
    return {
        "warning_exposure_share": flagged / outstanding,
        "top10_share": top10,
        "risk_customer_share": risky / customers,
        "top20_share": top20,
        "suitability_mismatches": float(mismatched),
        "suitability_mismatch_share": mismatched / holders,
    }


def warehouse_staff(bank) -> dict[str, float]:
    """The staff KPI cards of the whole bank at the period by a separate query over the
    warehouse (the params' defaults): targets met year to date, the managed customers'
    AUM growth and CSAT over the 3-month service window, over the managers of the
    period (hired by its end; active, or holding customers or loans)."""
    root, period, end = bank
    p = Period.parse(period)
    months = [str(p.shift(-i)) for i in range(p.months_since(f"{period[:4]}-01") + 1)]
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    basis = "coalesce(b.deposits_avg, b.deposits)"  # an overdraft counts 0
    dep = f"CASE WHEN {basis} < 0 THEN 0 ELSE {basis} END"
    csat = " ".join(f"WHEN {k} THEN {v}" for k, v in CSAT_100.items())
    managers = f"""
        bal AS (SELECT c.manager_id AS staff_id, b.month, count(*) AS n, sum({AUM}) AS aum,
                       sum(coalesce({dep}, 0)) AS dep, sum(coalesce(b.loans_outstanding, 0)) AS loans,
                       sum(coalesce(b.products_held, 0)) AS products
                FROM balances b JOIN customers c USING (customer_id)
                WHERE c.manager_id IS NOT NULL GROUP BY ALL),
        lo AS (SELECT l.manager_id AS staff_id, s.month, count(*) AS n_loans
               FROM loan_snapshots s JOIN loans l USING (loan_id)
               WHERE s.outstanding > 0 AND l.manager_id IS NOT NULL GROUP BY ALL),
        e AS (SELECT month, last_day(strptime(month || '-01', '%Y-%m-%d')::DATE) AS month_end,
                     strftime(strptime(month || '-01', '%Y-%m-%d') - INTERVAL 1 MONTH, '%Y-%m') AS prev
              FROM (SELECT unnest($months) AS month)),
        rows AS (SELECT st.staff_id, e.month, coalesce(b.n, 0) AS n,
                        coalesce(b.aum, 0) AS aum, coalesce(q.aum, 0) AS aum_prev,
                        coalesce(b.dep, 0) - coalesce(q.dep, 0) AS deposit_growth,
                        coalesce(b.loans, 0) - coalesce(q.loans, 0) AS loan_growth,
                        b.products / nullif(b.n, 0) AS products_per_customer
                 FROM staff st CROSS JOIN e
                 LEFT JOIN bal b ON b.staff_id = st.staff_id AND b.month = e.month
                 LEFT JOIN bal q ON q.staff_id = st.staff_id AND q.month = e.prev
                 LEFT JOIN lo ON lo.staff_id = st.staff_id AND lo.month = e.month
                 WHERE (st.hired_on IS NULL OR st.hired_on <= e.month_end)
                   AND (coalesce(st.active, false) OR coalesce(b.n, 0) > 0
                        OR coalesce(lo.n_loans, 0) > 0))
    """
    given = {"months": months, "period": period}
    aum, aum_prev = run(
        con,
        f"WITH {managers} SELECT sum(aum), sum(aum_prev) FROM rows WHERE month = $period",
        given,
    ).fetchone()
    (csat_mean,) = run(
        con,
        f"""WITH {managers}
        SELECT avg(CASE s.csat {csat} END) FROM surveys s
        LEFT JOIN customers c ON c.customer_id = s.customer_id
        WHERE s.responded_on BETWEEN $start AND $end
          AND coalesce(s.manager_id, c.manager_id) IN
              (SELECT staff_id FROM rows WHERE month = $period)""",
        {**given, "start": p.shift(-2).start, "end": end},
    ).fetchone()
    met, valid = run(
        con,
        f"""WITH {managers},
        new AS (SELECT manager_id AS staff_id, strftime(opened_on, '%Y-%m') AS month,
                       count(*) AS n_new FROM customers GROUP BY ALL),
        actual AS (
            SELECT r.staff_id, r.month, k.kpi, CASE k.kpi
                WHEN 'new_customers' THEN coalesce(new.n_new, 0)
                WHEN 'net_new_aum' THEN r.aum - r.aum_prev
                WHEN 'deposit_growth' THEN r.deposit_growth
                WHEN 'loan_growth' THEN r.loan_growth
                ELSE r.products_per_customer END AS actual
            FROM rows r CROSS JOIN (SELECT unnest(['new_customers', 'net_new_aum',
                 'deposit_growth', 'loan_growth', 'products_per_customer']) AS kpi) k
            LEFT JOIN new ON new.staff_id = r.staff_id AND new.month = r.month),
        t AS (SELECT t.staff_id, t.period AS month, t.kpi, t.target, a.actual
              FROM targets t LEFT JOIN actual a
                ON a.staff_id = t.staff_id AND a.month = t.period AND a.kpi = t.kpi
              WHERE list_contains($months, t.period) AND t.kpi IN ('new_customers',
                'net_new_aum', 'deposit_growth', 'loan_growth', 'products_per_customer')),
        y AS (SELECT staff_id, month, actual, CASE WHEN kpi = 'products_per_customer'
                THEN target ELSE sum(target) OVER w END AS ytd_t,
              CASE WHEN kpi = 'products_per_customer' THEN actual
                ELSE sum(coalesce(actual, 0)) OVER w END AS ytd_a
              FROM t WINDOW w AS (PARTITION BY staff_id, kpi ORDER BY month))
        SELECT count(*) FILTER (WHERE ytd_a / ytd_t >= 1), count(*) FROM y
        WHERE month = $period AND ytd_t > 0 AND actual IS NOT NULL
          AND staff_id IN (SELECT staff_id FROM rows WHERE month = $period)""",
        given,
    ).fetchone()
    con.close()
    return {
        "targets_met_share": met / valid,
        "managed_aum_growth": (aum - aum_prev) / aum_prev,
        "managed_csat": csat_mean,
    }


RISK_POOLED = ("warning_exposure_share", "top10_share", "risk_customer_share")
SEG_POOLED = ("top20_share", "suitability_mismatches", "suitability_mismatch_share")


def test_a_scopes_cards_last_month_year_start_and_bank_value_are_its_rows_in_the_warehouse(
    bank, scopes
):
    """The card figures a region or the bank compares with, beyond the NPL ratios and
    counts: risk's exposure with early warnings, top-10 borrower share and risk
    customers last month and last December; segmentation's top 20%'s share of AUM and
    suitability cards last December; and beside a region's cards the bank's own value
    of each, staff KPI's targets met, managed AUM growth and CSAT included. Each equals
    a separate query over the warehouse for the scope's branches (a share of the pooled
    rows, never the mean of its branches' shares). The expected loss rate needs the
    scorecard's PDs, which no query gives: this bank fits no scorecard, so it reads n/a
    at every scope, its value too."""
    root, period, _ = bank
    tree, _ = scopes
    build = root / "build"
    prev, year = shift_month(period, -1), f"{int(period[:4]) - 1}-12"
    assert year != prev  # the two months are two rows of prepare's benchmarks
    every = tree.branches("bank")
    whole = {period: warehouse_cards(bank, every, period)}
    for scope in ("bank", *(f"region:{r}" for r in tree.regions())):
        d = load(period, scope=scope, build_dir=build)
        members = tree.branches(scope)
        assert tuple(d.members) == members and tuple(d.meta["branches"]) == every
        want = {m: warehouse_cards(bank, members, m) for m in (prev, year)}
        risk_prev, risk_year, risk_bank = rk.scope_context(
            d.bench, scope=scope, members=d.members, branches=d.meta["branches"], period=period
        )
        measured = d.bench("bench_segmentation_scopes")
        seg_year = sg.scope_year_start(d.bench("bench_segmentation"), members=d.members,
                                       period=period, measured=measured, scope=scope)  # fmt: skip
        for key in RISK_POOLED:
            assert risk_prev[key] == pytest.approx(want[prev][key], rel=1e-9), (scope, key)
            assert risk_year[key] == pytest.approx(want[year][key], rel=1e-9), (scope, key)
        for key in SEG_POOLED:
            assert seg_year[key] == pytest.approx(want[year][key], rel=1e-9), (scope, key)
        assert d.bench("bench_risk_scorecard")["status"].iloc[0] != "fitted"
        assert all(math.isnan(v["expected_loss_rate"]) for v in (risk_prev, risk_year, risk_bank))
        if scope == "bank":
            continue
        seg_bank = sg.scope_values(d.bench("bench_segmentation"), members=d.meta["branches"],
                                   period=period, measured=measured)  # fmt: skip
        for key in RISK_POOLED:
            assert risk_bank[key] == pytest.approx(whole[period][key], rel=1e-9), (scope, key)
        for key in SEG_POOLED:
            assert seg_bank[key] == pytest.approx(whole[period][key], rel=1e-9), (scope, key)
        staff_bank = sk.bank_values(d.bench("bench_branch_kpis"), period=period)
        for key, value in warehouse_staff(bank).items():
            assert staff_bank[key] == pytest.approx(value, rel=1e-9), (scope, key)
    # a region's share is its pooled rows', not its branches' mean share
    east = tree.branches("region:East")
    one = [warehouse_cards(bank, (b,), prev)["top10_share"] for b in east]
    assert want[prev]["top10_share"] != pytest.approx(sum(one) / len(one), rel=1e-6)
