"""Every number means one thing everywhere: what two reports print for the same branch
and period is the same value (on the small demo bank, prepared once)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from branchbook import metrics
from branchbook import satisfaction as sat
from branchbook import segmentation as sg
from branchbook.data import load
from branchbook.metrics import models
from branchbook.params import ParamSet
from branchbook.period import Period
from branchbook.reports import registry, settings_classes

pytestmark = pytest.mark.slow
PERIOD = "2026-10"


@pytest.fixture(scope="module")
def bank(small_bank):
    return load(PERIOD, scope="bank", build_dir=small_bank / "build")


@pytest.fixture(scope="module")
def sections(small_bank):
    return ParamSet(small_bank / "params", settings_classes()).for_branch("0101").sections


@pytest.fixture(scope="module")
def kpis(bank, sections):
    """Each report's declared KPIs per branch and period, as the index and cards read them."""
    return {
        name: spec.module.unit_kpis(bank.bench, sections[name]) for name, spec in registry().items()
    }


def test_a_key_printed_by_several_reports_is_one_value(kpis):
    seen: dict[str, list[str]] = defaultdict(list)
    for name, frame in kpis.items():
        for key in set(frame.columns) - {"branch_id", "period"}:
            assert metrics.get(key).report == name  # a report prints only its own declarations
            seen[key].append(name)
    for key, reports in seen.items():
        if len(reports) < 2:
            continue
        frames = [kpis[r].set_index(["branch_id", "period"])[key] for r in reports]
        for other in frames[1:]:
            pd.testing.assert_series_equal(frames[0], other, check_names=False)


def test_customers_at_month_end_are_one_count(kpis, bank):
    """The segmentation report's customers and the satisfaction report's base of its
    complaints per 1,000 count the same customers open at the month's end."""
    seg = kpis["segmentation"].query("period == @PERIOD").set_index("branch_id")["customers"]
    monthly = bank.bench("bench_satisfaction_monthly")
    base = monthly[monthly["month"] == PERIOD].set_index("branch_id")["customers"]
    assert len(seg) == 2
    pd.testing.assert_series_equal(seg.astype(float), base.astype(float), check_names=False)


def test_a_respondents_tier_is_their_segmentation_tier(bank, sections):
    """CSAT by tier groups a respondent in the tier the segmentation report gives them."""
    assert sections["satisfaction"].asset_tiers == sections["segmentation"].asset_tiers
    customers = sg.classify(bank.table("segmentation_customers"), sections["segmentation"])
    tier = customers.set_index("customer_id")["asset_tier"].dropna()
    responses = bank.table("satisfaction_responses")
    both = responses[responses["customer_id"].isin(tier.index)]
    assert len(both) > 100
    mine = both["tier"].to_numpy()
    theirs = tier.reindex(both["customer_id"]).to_numpy()
    assert (mine == theirs).all(), both[mine != theirs].head()
    # the tier counts of the respondents agree as well
    counts = pd.Series(mine).value_counts().sort_index()
    pd.testing.assert_series_equal(counts, pd.Series(theirs).value_counts().sort_index())
    assert set(counts.index) <= set(sg.ASSET_TIERS)


def test_managed_csat_is_the_satisfaction_reports_csat(bank, sections):
    """A manager's CSAT in the staff KPI report is the mean, on the satisfaction report's
    0-100 scale, of the responses attributed to them (the survey's manager, else the
    customer's) over the service window."""
    s_kpi, s_sat = sections["staff_kpi"], sections["satisfaction"]
    assert s_kpi.csat_scale == s_sat.csat_scale
    months = set(Period.parse(PERIOD).window(s_kpi.service_window_months))
    months = {str(m) for m in months}
    responses = bank.table("satisfaction_responses")
    responses = responses[responses["month"].isin(months)]
    managers = bank.table("customers").set_index("customer_id")["manager_id"]
    staff_id = responses["manager_id"].fillna(responses["customer_id"].map(managers))
    points = sat.csat_100(responses["csat"], scale=s_sat.csat_scale)
    expected = points.groupby(staff_id).mean().dropna()
    card = bank.table("staff_scorecard")
    card = card[card["month"] == PERIOD].set_index("staff_id")["csat"].dropna()
    common = expected.index.intersection(card.index)
    assert len(common) >= 5
    np.testing.assert_allclose(card.loc[common], expected.loc[common], rtol=1e-12)


def test_a_managers_book_is_the_segmentation_and_risk_reports_customers_and_loans(bank):
    """A manager's customers and AUM in the staff KPI report are the segmentation report's
    open customers they manage; their loan book and NPL outstanding are the risk report's
    loans they manage, NPL by the one rule."""
    card = bank.table("staff_scorecard")
    card = card[card["month"] == PERIOD].set_index("staff_id")
    customers = bank.table("segmentation_customers")
    open_ = customers[customers["open_now"].fillna(False).astype(bool)]
    by_manager = open_.groupby("manager_id")
    mine = card.index.intersection(by_manager.size().index)
    assert len(mine) >= 5
    np.testing.assert_allclose(card.loc[mine, "n_customers"], by_manager.size()[mine])
    np.testing.assert_allclose(card.loc[mine, "aum"], by_manager["aum"].sum()[mine])
    loans = bank.table("risk_loans")
    loans = loans[loans["manager_id"].notna()]
    book = loans.groupby("manager_id")["outstanding"].sum()
    npl = loans["outstanding"].where(loans["five_class"].isin(models.NPL_CLASSES), 0.0)
    npl = npl.groupby(loans["manager_id"]).sum()
    theirs = card.index.intersection(book.index)
    assert len(theirs) >= 5
    np.testing.assert_allclose(card.loc[theirs, "book_outstanding"], book[theirs])
    np.testing.assert_allclose(card.loc[theirs, "npl_outstanding"], npl[theirs])


def test_every_report_reads_aum_on_one_balance_basis(small_bank, bank, sections):
    """Tiers, the managers' AUM and CSAT by tier read AUM on the bank's one balance
    basis (average daily by default), and the prepared AUM is the warehouse's average
    daily deposits + wealth, not its month end."""
    import duckdb

    readers = [r for r, s in sections.items() if "balance_basis" in type(s).SHARED]
    assert sorted(readers) == ["satisfaction", "segmentation", "staff_kpi"]
    assert {sections[r].balance_basis for r in readers} == {"average_daily"}
    assert bank.meta["balance_basis"]["used"] == "average_daily"
    with duckdb.connect(
        str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True
    ) as con:
        wh = (
            con.execute(
                "SELECT customer_id, deposits_avg + wealth_avg AS avg, deposits + wealth AS end_ "
                "FROM balances WHERE month = ?",
                [PERIOD],
            )
            .df()
            .set_index("customer_id")
        )
    customers = bank.table("segmentation_customers")
    open_ = customers[customers["open_now"].fillna(False).astype(bool)].set_index("customer_id")
    common = open_.index.intersection(wh.index)
    assert len(common) > 1000
    np.testing.assert_allclose(open_.loc[common, "aum"], wh.loc[common, "avg"], rtol=1e-9)
    assert not np.allclose(open_.loc[common, "aum"], wh.loc[common, "end_"])
