"""The loan book's bridges by hand on six loans, on the tiny warehouse's prepare, and
(slow) for every branch of a demo bank against the warehouse's own sums."""

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import risk
from branchbook.stats import residual

from .helpers import approx

NA = np.nan


def _rows() -> pd.DataFrame:
    """Six loans from last month (``_prev``) to now; at the end of last year only L1 and L3.

    L1 mortgage repaid down 100 -> 90 (pass); L2 business drawn 80 -> 100 and moved
    special mention -> substandard; L3 business (doubtful, 40) written off; L4 consumer
    (no manager, 20) repaid off; L5 trade finance new (50, special mention: a product
    that appears); L6 working capital (special mention, 30) restructured out (a product
    that disappears)."""
    return pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
            "branch_id": "0101",
            "manager_id": ["S1", "S1", "S2", None, "S2", "S2"],
            "manager_name": ["王伟", "王伟", "李娜", None, "李娜", "李娜"],
            "product": ["mortgage", "business", "business", "consumer", "trade_finance",
                        "working_capital"],
            "exit": ["closed", "closed", "written_off", "repaid", "closed", "restructured"],
            "outstanding": [90.0, 100.0, NA, NA, 50.0, NA],
            "five_class": ["pass", "substandard", None, None, "special_mention", None],
            "outstanding_prev": [100.0, 80.0, 40.0, 20.0, NA, 30.0],
            "five_class_prev": ["pass", "special_mention", "doubtful", "pass", None,
                                "special_mention"],
            "outstanding_year": [120.0, NA, 40.0, NA, NA, NA],
            "five_class_year": ["pass", None, "substandard", None, None, None],
        }
    )  # fmt: skip


def test_every_headline_kpi_has_a_bridge():
    headlines = {m.key for m in risk.KPIS if m.headline}
    assert headlines and headlines <= set(risk.RATIOS)
    for key in risk.RATIOS:  # each bridged ratio is a declared KPI, measured the same way
        assert key in risk.KPI_KEYS


def test_loans_bridge_by_product_by_hand():
    b = risk.loans_bridge(_rows(), base="month")
    assert list(b.index) == ["business", "mortgage", "trade_finance", "working_capital",
                             "consumer"]  # fmt: skip
    cols = ["loans", "opening", "new", "growth", "decline", "repaid", "written_off",
            "restructured", "closing"]  # fmt: skip
    assert b.loc["business", cols].tolist() == [1, 120, 0, 20, 0, 0, -40, 0, 100]
    assert b.loc["mortgage", cols].tolist() == [1, 100, 0, 0, -10, 0, 0, 0, 90]
    assert b.loc["trade_finance", cols].tolist() == [1, 0, 50, 0, 0, 0, 0, 0, 50]
    assert b.loc["working_capital", cols].tolist() == [0, 30, 0, 0, 0, 0, 0, -30, 0]
    assert b.loc["consumer", cols].tolist() == [0, 20, 0, 0, 0, -20, 0, 0, 0]
    # no loan left without a reason: no "closed" column; lost is the sum of the exits
    assert "closed" not in risk.exit_columns(_rows())
    assert (b["lost"] == b[["repaid", "written_off", "restructured"]].sum(axis=1)).all()
    assert (residual(b) == 0).all()
    whole = risk.loans_total(_rows(), base="month")
    assert whole[["opening", "new", "growth", "decline", "lost", "closing"]].tolist() == [
        270, 50, 20, -10, -90, 240
    ]  # fmt: skip
    assert whole[["repaid", "written_off", "restructured"]].tolist() == [-20, -40, -30]


def test_loans_bridge_by_manager_names_the_manager_and_keeps_loans_without_one():
    b = risk.loans_bridge(_rows(), base="month", by="manager", unassigned="(none)")
    assert b.loc["王伟", ["opening", "growth", "decline", "closing"]].tolist() == [
        180,
        20,
        -10,
        190,
    ]
    assert b.loc["李娜", ["opening", "new", "written_off", "restructured", "closing"]].tolist() == [
        70, 50, -40, -30, 50
    ]  # fmt: skip
    assert b.loc["(none)", ["opening", "repaid", "closing"]].tolist() == [20, -20, 0]
    # the managers add up to the branch
    assert b[["opening", "closing"]].sum().tolist() == [270, 240]


def test_npl_ratio_rate_and_mix_by_hand():
    t = risk.ratio_total(_rows(), base="month")
    assert t["opening"] == approx(40 / 270) and t["closing"] == approx(100 / 240)
    split = risk.ratio_split(_rows(), base="month")
    w0, w1 = 120 / 270, 100 / 240  # business's share of the book then and now
    assert split.loc["business", "rate_effect"] == approx((1 - 1 / 3) * (w0 + w1) / 2)
    mid = (40 / 270 + 100 / 240) / 2  # the mix is centred on the whole ratio's midpoint
    assert split.loc["business", "mix_effect"] == approx((w1 - w0) * ((1 / 3 + 1) / 2 - mid))
    assert split.index[0] == "business"
    assert split["contribution"].sum() == pytest.approx(t["change"], abs=1e-15)
    assert abs(t["residual"]) < 1e-15


def test_a_product_that_appears_or_disappears_has_only_a_mix_effect():
    split = risk.ratio_split(_rows(), base="month", ratio_key="special_mention_ratio")
    # trade finance is new, all special mention: its share 0 -> 50/240 at a ratio of 1,
    # against the whole ratio's midpoint (110/270 + 50/240) / 2
    mid = (110 / 270 + 50 / 240) / 2
    assert split.loc["trade_finance", "rate_effect"] == 0.0
    assert split.loc["trade_finance", "mix_effect"] == approx(50 / 240 * (1 - mid))
    # working capital left, all special mention: its share 30/270 -> 0
    assert split.loc["working_capital", "rate_effect"] == 0.0
    assert split.loc["working_capital", "mix_effect"] == approx(-30 / 270 * (1 - mid))
    t = risk.ratio_total(_rows(), base="month", ratio_key="special_mention_ratio")
    assert t["change"] == approx(50 / 240 - 110 / 270)
    assert split["contribution"].sum() == pytest.approx(t["change"], abs=1e-15)


def test_manager_ratios_add_up_to_the_branch():
    m = risk.manager_ratios(_rows(), base="month", unassigned="(none)")
    assert m.loc["王伟", "npl_ratio_opening"] == 0.0
    assert m.loc["王伟", "npl_ratio_closing"] == approx(100 / 190)
    assert m.loc["李娜", "npl_ratio_opening"] == approx(40 / 70)
    total = risk.manager_ratios_total(_rows(), base="month")
    for key in risk.RATIOS:
        assert m[f"{key}_contribution"].sum() == pytest.approx(total[f"{key}_contribution"])
    assert m.index[0] == "王伟"  # the largest NPL contribution first


def test_migration_of_balances_by_hand():
    m = risk.migration(_rows(), base="month")
    assert list(m.columns) == [*risk.FIVE_CLASSES, "repaid", "written_off", "restructured",
                               "total"]  # fmt: skip
    assert m.loc["pass", ["pass", "repaid", "total"]].tolist() == [90, 30, 120]
    assert m.loc["special_mention", ["substandard", "restructured", "total"]].tolist() == [
        80, 30, 110
    ]  # fmt: skip
    assert m.loc["doubtful", "written_off"] == 40
    assert m.loc["new", ["special_mention", "substandard", "total"]].tolist() == [50, 20, 70]
    # a class's column adds up to its closing balance
    assert m[list(risk.FIVE_CLASSES)].sum().tolist() == [90, 50, 100, 0, 0]


def test_an_empty_prior_period():
    rows = _rows().assign(outstanding_year=NA, five_class_year=None)
    whole = risk.loans_total(rows, base="year")
    assert whole["opening"] == 0 and whole["new"] == whole["closing"] == 240
    t = risk.ratio_total(rows, base="year")
    assert math.isnan(t["opening"]) and math.isnan(t["change"])
    assert risk.ratio_split(rows, base="year")["contribution"].isna().all()
    assert math.isnan(risk.ratio_total_row(rows, base="year")["weight_opening"])
    m = risk.migration(rows, base="year")
    assert m.loc[list(risk.FIVE_CLASSES), "total"].sum() == 0 and m.loc["new", "total"] == 240
    facts = risk.bridge_facts(
        rows, min_change=0, min_change_pp=0, label=lambda p, c: c, base="year"
    )
    assert facts == []


def test_an_empty_book():
    rows = _rows().iloc[0:0]
    assert risk.loans_total(rows, base="month").sum() == 0
    assert risk.bridge_facts(rows, min_change=0, min_change_pp=0, label=lambda p, c: c) == []


def test_exits_without_a_recorded_reason():
    rows = _rows().assign(exit="closed")
    assert risk.exit_columns(rows, known=False) == ["closed"]
    b = risk.loans_bridge(rows, base="month", known=False)
    assert b["closed"].sum() == -90 and "written_off" not in b.columns
    m = risk.migration(rows, base="month", known=False)
    assert list(m.columns[-3:]) == ["repaid", "closed", "total"]
    assert m.loc["doubtful", "closed"] == 40 and m.loc["pass", "repaid"] == 10
    # reasons in the rows but not known to the report: still one column that adds up
    b = risk.loans_bridge(_rows(), base="month", known=False)
    assert b["closed"].sum() == -90 and (residual(b) == 0).all()
    assert risk.migration(_rows(), base="month", known=False).loc["doubtful", "closed"] == 40


def test_bridge_rows_are_made_once_per_frame_and_never_shared():
    from branchbook.risk import bridges

    rows = _rows()
    first = risk.bridge_rows(rows, base="month")
    first.loc[0, "opening"] = -1.0  # the caller's copy: the next call does not see it
    assert risk.bridge_rows(rows, base="month").loc[0, "opening"] == 100.0
    assert bridges._rows(rows, base="month") is bridges._rows(rows, base="month")  # made once
    assert bridges._rows(rows, base="year") is not bridges._rows(rows, base="month")
    # another frame, even one equal but for a balance, has its own rows
    other = _rows().assign(outstanding_prev=[7.0, 80.0, 40.0, 20.0, NA, 30.0])
    assert risk.bridge_rows(other, base="month").loc[0, "opening"] == 7.0
    assert risk.bridge_rows(rows, base="month").loc[0, "opening"] == 100.0
    # a manager's name for loans without one is part of what is remembered
    named = risk.bridge_rows(rows, base="month", unassigned="(none)")
    assert (named["manager"] == "(none)").sum() == 1
    assert (risk.bridge_rows(rows, base="month")["manager"] == "").sum() == 1


def test_bridge_facts_name_the_largest_driver_by_product():
    facts = risk.bridge_facts(
        _rows(), min_change=0.005, min_change_pp=0.001, label=lambda prefix, code: code
    )
    assert [k for k, _ in facts] == ["risk.summary.bridge_npl_ratio", "risk.summary.bridge_loans",
                                     "risk.summary.bridge_special_mention_ratio"]  # fmt: skip
    npl, loans, sm = (v for _, v in facts)
    assert (npl["product"], npl["part"]) == ("business", "rate_effect")
    assert npl["change"] == approx(100 / 240 - 40 / 270)
    # loans 270 -> 240: the largest fall is the business loan written off
    assert (loans["product"], loans["part"], loans["amount"]) == ("business", "written_off", -40)
    assert loans["change_rel"] == approx(-30 / 270)
    assert (sm["product"], sm["part"]) == ("business", "rate_effect") and sm["amount"] < 0
    # below the thresholds: nothing to say
    quiet = risk.bridge_facts(_rows(), min_change=0.5, min_change_pp=0.5, label=lambda p, c: c)
    assert quiet == []


def test_the_summary_makes_room_for_the_bridge_sentences():
    from .helpers import S, make_ctx, notebook_calls, tiny_tables

    out = risk.prepare(make_ctx(tiny_tables()))
    facts = notebook_calls(out, "0101")["facts"]
    assert len(facts) <= 6
    calls = notebook_calls(out, "0101")
    kw = {
        "kpis": calls["kpis"], "prev": calls["prev"], "bank": calls["bank"],
        "warnings": calls["flags"], "breaches": calls["breaches"],
        "validation": calls["validation"], "mix_psi": calls["psi"],
        "industries": calls["industries"], "settings": S,
        "has_scorecard": calls["scorecard"] is not None, "trend": calls["trend"],
        "drift_psi": calls["drift_psi"], "bank_validation": calls["bank_validation"],
        "npl_gap": risk.npl_dpd_gap(calls["book"]),
    }  # fmt: skip
    for moves in (0, 1, 2):
        with_moves = risk.summary_facts(**kw, moves=moves)
        assert len(with_moves) + moves <= 6
        assert with_moves[0] == facts[0] and with_moves[-1] == facts[-1]


def test_prepare_bridge_on_the_tiny_warehouse(tiny):
    rows = tiny["risk_bridge"]
    assert sorted(rows["loan_id"]) == ["L1", "L2", "L3", "L4"]
    r = rows.set_index("loan_id")
    # the manager by name where the staff table knows them, else the id; none: empty
    assert r.loc["L1", "manager_name"] == "王小明" and r.loc["L2", "manager_name"] == "S9"
    assert pd.isna(r.loc["L3", "manager_name"])
    assert math.isnan(r.loc["L4", "outstanding"]) and r.loc["L4", "exit"] == "closed"
    whole = risk.loans_total(rows, base="month", known=False)
    assert whole[["opening", "closing", "closed"]].tolist() == [1_000_000, 980_000, -20_000]
    # the bridges open and close at the published NPL ratio of last month and now
    kpis = tiny["bench_risk_kpis"].set_index(["branch_id", "month"])
    t = risk.ratio_total(rows, base="month")
    assert t["opening"] == approx(kpis.loc[("0101", "2026-09"), "npl_ratio"])
    assert t["closing"] == approx(kpis.loc[("0101", "2026-10"), "npl_ratio"])


@pytest.mark.slow
def test_every_risk_bridge_adds_up_and_matches_the_warehouse(small_bank):
    """For every branch and both bases: loans opening + parts = closing with no residual
    (by product and by manager), rate + mix = change for both ratios to display rounding,
    the migration's rows and columns add up to the opening and closing books by class,
    and opening and closing equal the sums recomputed from the warehouse by its own SQL."""
    import duckdb

    from branchbook.period import Period

    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    extracts = small_bank / "build" / str(period) / "prepared" / "extracts"
    frames = sorted(extracts.glob("*/risk_bridge.parquet"))
    assert len(frames) == 2, "prepare wrote no risk_bridge per branch"
    rows = {f.parent.name: pd.read_parquet(f) for f in frames}
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)

    def truth(month: Period) -> pd.DataFrame:
        return (
            con.execute(
                """SELECT l.branch_id, s.five_class, sum(s.outstanding) AS outstanding
                   FROM loan_snapshots s JOIN loans l ON l.loan_id = s.loan_id
                   WHERE s.month = $m AND s.outstanding > 0
                   GROUP BY ALL""",
                {"m": str(month)},
            )
            .df()
            .pivot_table(index="branch_id", columns="five_class", values="outstanding")
            .reindex(columns=list(risk.FIVE_CLASSES))
            .fillna(0.0)
        )

    ends = {"month": period.prev, "year": period.year_start.prev}
    now = truth(period)
    bench = small_bank / "build" / str(period) / "prepared" / "bench" / "bench_risk_kpis.parquet"
    published = pd.read_parquet(bench).set_index(["branch_id", "month"])
    for branch, g in rows.items():
        # the month's bridges open and close at the NPL ratios the KPI cards publish
        t = risk.ratio_total(g, base="month")
        assert t["opening"] == pytest.approx(published.loc[(branch, str(period.prev)), "npl_ratio"])
        assert t["closing"] == pytest.approx(published.loc[(branch, str(period)), "npl_ratio"])
        for base, month in ends.items():
            then = truth(month)
            for by in ("product", "manager"):
                b = risk.loans_bridge(g, base=base, by=by)
                assert (residual(b).abs() < 0.005).all(), (branch, base, by)
                exits = risk.exit_columns(g)
                assert ((b["lost"] - b[exits].sum(axis=1)).abs() < 0.005).all()
            whole = risk.loans_total(g, base=base)
            assert whole["opening"] == pytest.approx(then.loc[branch].sum(), abs=0.005)
            assert whole["closing"] == pytest.approx(now.loc[branch].sum(), abs=0.005)
            for key, classes in risk.RATIOS.items():
                t = risk.ratio_total(g, base=base, ratio_key=key)
                expected0 = then.loc[branch, list(classes)].sum() / then.loc[branch].sum()
                expected1 = now.loc[branch, list(classes)].sum() / now.loc[branch].sum()
                assert t["opening"] == pytest.approx(expected0, abs=1e-9)
                assert t["closing"] == pytest.approx(expected1, abs=1e-9)
                # rate + mix = change, to display rounding (0.01 pp), by product and manager
                assert abs(t["residual"]) < 5e-5, (branch, base, key)
                by_manager = risk.ratio_split(g, base=base, ratio_key=key, by="manager")
                assert by_manager["contribution"].sum() == pytest.approx(t["change"], abs=5e-5)
            m = risk.migration(g, base=base)
            classes = list(risk.FIVE_CLASSES)
            assert np.allclose(m.loc[classes, "total"], then.loc[branch, classes], atol=0.005)
            assert np.allclose(m[classes].sum(), now.loc[branch, classes], atol=0.005)
