"""A region's and the bank's KPI cards (branchbook.metrics.cards.at_scope) and the
pooled values they read, by hand on tiny frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from branchbook import i18n, risk, segmentation, staff_kpi
from branchbook.metrics import cards


def frame():
    return pd.DataFrame(
        {
            "kpi": ["npl_ratio", "top10_share"],
            "value": [0.02, 0.3],
            "previous": [0.5, 0.5],  # a branch's row: wrong at a scope
            "change": [-0.48, -0.2],
            "change_rel": [math.nan, math.nan],
            "bank_median": [0.01, 0.2],  # the median branch: wrong at a scope
            "rank": [3.0, 1.0],
            "branches": [12.0, 12.0],
            "status": ["green", "green"],
            "year_start": [0.5, 0.5],
            "change_ytd": [0.0, 0.0],
        }
    )


def test_a_branchs_cards_are_left_as_they_are():
    assert cards.at_scope(frame(), level="branch", bank={"npl_ratio": 1.0}) is not None
    pd.testing.assert_frame_equal(cards.at_scope(frame(), level="branch"), frame())


def test_a_regions_cards_compare_with_the_bank_and_its_own_last_month():
    got = cards.at_scope(
        frame(),
        level="region",
        previous={"npl_ratio": 0.025},
        year_start={"npl_ratio": 0.01},
        bank={"npl_ratio": 0.018},
    ).set_index("kpi")
    assert got.loc["npl_ratio", "previous"] == 0.025
    assert got.loc["npl_ratio", "change"] == pytest.approx(-0.005)
    assert got.loc["npl_ratio", "change_rel"] == pytest.approx(-0.2)
    assert got.loc["npl_ratio", "change_ytd"] == pytest.approx(0.01)
    assert got.loc["npl_ratio", "bank_median"] == 0.018
    # not known at the scope: n/a, never the branch row's or the median branch's number
    for col in ("previous", "change", "year_start", "bank_median"):
        assert math.isnan(got.loc["top10_share", col]), col
    assert got["rank"].isna().all() and got["branches"].isna().all()
    assert (got["status"] == "green").all()


def test_the_banks_cards_have_no_benchmark_and_no_rank():
    got = cards.at_scope(frame(), level="bank", bank={"npl_ratio": 0.018})
    assert got["bank_median"].isna().all() and got["rank"].isna().all()
    assert got["previous"].tolist() == [0.5, 0.5]  # no pooled values given: the frame's own


def risk_bench():
    """Three branches' ``bench_risk_trend``, ``bench_risk_kpis`` (the sums only) and
    ``bench_risk_scopes`` rows, by name."""
    trend = pd.DataFrame(
        {
            "branch_id": ["1", "2", "3", "1"],
            "month": ["2026-10", "2026-10", "2026-10", "2026-09"],
            "outstanding": [100.0, 300.0, 600.0, 100.0],
            "npl_ratio": [0.10, 0.02, 0.0, 0.5],
            "special_mention_ratio": [0.0, 0.01, 0.0, 0.0],
        }
    )
    kept = pd.DataFrame(
        {
            "branch_id": ["1", "2", "3", "1", "2", "1", "2"],
            "month": ["2026-10"] * 3 + ["2026-09"] * 2 + ["2025-12"] * 2,
            "el": [1.0, 3.0, 6.0, 2.0, 2.0, 1.0, 1.0],
            "ead": [100.0, 300.0, 600.0, 100.0, 300.0, 100.0, 100.0],
            "loans_without_el": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
            "warning_exposure": [50.0, 30.0, 0.0, 10.0, 0.0, 0.0, 0.0],
            "book_outstanding": [100.0, 300.0, 600.0, 100.0, 300.0, 100.0, 0.0],
            "risk_customers": [1.0, 3.0, 0.0, 2.0, 0.0, 0.0, 0.0],
            "open_customers": [10.0, 30.0, 60.0, 10.0, 30.0, 10.0, 10.0],
        }
    )
    measured = pd.DataFrame(
        {
            "scope": ["region:E", "region:E", "bank"],
            "period": ["2026-09", "2025-12", "2026-10"],
            "top10_share": [0.8, 0.9, 0.4],
        }
    )
    frames = {"bench_risk_trend": trend, "bench_risk_kpis": kept, "bench_risk_scopes": measured}
    return frames.__getitem__


def test_risk_pooled_kpis_add_the_sums_then_divide():
    got = risk.pooled_kpis(risk_bench(), {"1": "E", "2": "E", "3": "N"})
    east = got.set_index(["unit", "period"]).loc[("E", "2026-10")]
    assert east["npl_ratio"] == pytest.approx((10 + 6) / 400)  # not (0.10 + 0.02) / 2
    assert east["special_mention_ratio"] == pytest.approx(3 / 400)
    assert east["expected_loss_rate"] == pytest.approx(4 / 400)
    assert east["warning_exposure_share"] == pytest.approx(80 / 400)  # not (0.5 + 0.1) / 2
    assert east["risk_customer_share"] == pytest.approx(4 / 40)
    december = got.set_index(["unit", "period"]).loc[("E", "2025-12")]
    # branch 2 had loans without an expected loss: the rate is not known, never a part
    assert math.isnan(december["expected_loss_rate"])
    assert december["warning_exposure_share"] == 0.0
    assert december["risk_customer_share"] == 0.0
    # a month with the trend's rows only (no sums kept): the trend's ratios, NaN for the rest
    assert set(got["period"]) == {"2026-10", "2026-09", "2025-12"}


def test_risk_sum_ratios_of_a_branchs_sums_are_its_cards():
    book = pd.DataFrame(
        {"customer_id": ["a", "b"], "outstanding": [60.0, 40.0], "ead": [70.0, 40.0],
         "el": [1.4, 0.8], "five_class": ["pass", "pass"]}
    )  # fmt: skip
    warnings = pd.DataFrame({"exposure": [60.0, 40.0], "n_rules": [1, 0]})
    compliance = pd.DataFrame({"status": ["risk", "watch", "compliant", "compliant"]})
    given = {"book": book, "warnings": warnings, "compliance": compliance}
    sums = risk.kpi_sums(**given)
    assert sums == {"el": pytest.approx(2.2), "ead": 110.0, "loans_without_el": 0.0,
                    "warning_exposure": 60.0, "book_outstanding": 100.0,
                    "risk_customers": 1.0, "open_customers": 4.0}  # fmt: skip
    got = risk.sum_ratios(pd.DataFrame([sums])).iloc[0]
    want = risk.kpis(**given)
    for key in got.index:
        assert got[key] == pytest.approx(want[key]), key
    assert got["expected_loss_rate"] == pytest.approx(2.2 / 110)
    unscored = risk.kpi_sums(**{**given, "book": book.assign(el=[1.4, math.nan])})
    assert math.isnan(risk.sum_ratios(pd.DataFrame([unscored]))["expected_loss_rate"].iloc[0])


def test_risk_scope_context_reads_the_scopes_pooled_months_and_the_bank():
    prev, year, bank = risk.scope_context(
        risk_bench(), scope="region:E", members=["1", "2"], branches=["1", "2", "3"],
        period="2026-10",
    )  # fmt: skip
    assert prev["npl_ratio"] == 0.5  # branch 1 alone has trend rows in September
    assert prev["warning_exposure_share"] == pytest.approx(10 / 400)
    assert prev["top10_share"] == 0.8
    assert math.isnan(year["npl_ratio"])  # no trend rows last December: n/a
    assert year["top10_share"] == 0.9 and year["risk_customer_share"] == 0.0
    assert bank["npl_ratio"] == pytest.approx(16 / 1000)
    assert bank["expected_loss_rate"] == pytest.approx(10 / 1000)
    assert bank["warning_exposure_share"] == pytest.approx(80 / 1000)
    assert bank["top10_share"] == 0.4
    assert set(prev) == set(year) == set(bank) == set(risk.KPI_KEYS)


def test_staff_bank_values_pool_every_cards_sums_over_the_managers():
    """Each branch's sums of the month, added, then each card's ratio: branch 1 has
    three rated managers at 40 on average, branch 2 one at 70."""
    bench = pd.DataFrame(
        {
            "branch_id": ["1", "2", "1"],
            "month": ["2026-10", "2026-10", "2026-09"],
            "comp_sum": [120.0, 70.0, 0.0],
            "comp_n": [3.0, 1.0, 0.0],
            "met_n": [2.0, 0.0, 0.0],
            "valid_n": [5.0, 3.0, 0.0],
            "aum": [110.0, 95.0, 0.0],
            "aum_prev": [100.0, 100.0, 0.0],
            "npl": [2.0, 0.0, 0.0],
            "book": [100.0, 300.0, 0.0],
            "csat_points": [800.0, 90.0, 0.0],
            "n_surveys": [10.0, 1.0, 0.0],
            "churned": [1.0, 6.0, 0.0],
            "churn_base": [50.0, 50.0, 0.0],
        }
    )
    got = staff_kpi.bank_values(bench, period="2026-10")
    assert got == {
        "composite_mean": pytest.approx(190 / 4),  # 47.5 over managers, not 55
        "targets_met_share": pytest.approx(2 / 8),  # not (0.4 + 0) / 2
        "managed_aum_growth": pytest.approx(5 / 200),  # not (0.10 - 0.05) / 2
        "managed_npl_ratio": pytest.approx(2 / 400),
        "managed_csat": pytest.approx(890 / 11),  # not (80 + 90) / 2
        "managed_closure_rate": pytest.approx(7 / 100),
    }
    nothing = staff_kpi.bank_values(bench, period="2026-09")
    assert all(math.isnan(v) for v in nothing.values())  # nothing to measure: n/a, never 0
    assert all(math.isnan(v) for v in staff_kpi.bank_values(bench, period="2025-12").values())


def test_segmentation_scope_year_start_pools_the_counts_of_last_december():
    bench = pd.DataFrame(
        {
            "branch_id": ["1", "2", "3"],
            "period": ["2025-12"] * 3,
            "customers": [10.0, 20.0, 40.0],
            "aum_total": [1.0, 2.0, 4.0],
            "top20_share": [0.5, 0.6, 0.7],
            "high_value_customers": [2.0, 4.0, 8.0],
            "dormant_high_value": [1.0, 2.0, 8.0],
            "active_share": [0.5, 1.0, 0.0],
            "suitability_mismatches": [1.0, 2.0, 5.0],
            "suitability_holders": [4.0, 0.0, 10.0],
            "suitability_mismatch_share": [0.25, math.nan, 0.5],
        }
    )
    got = segmentation.scope_year_start(bench, members=["1", "2"], period="2026-10")
    assert got["customers"] == 30.0 and got["aum_total"] == 3.0
    assert got["active_share"] == pytest.approx((0.5 * 10 + 1.0 * 20) / 30)  # pooled
    assert got["dormant_high_value_share"] == pytest.approx(3 / 6)
    assert got["suitability_mismatches"] == 3.0
    # branch 2's two mismatched customers hold no judged product: pooled, 3 of 4
    assert got["suitability_mismatch_share"] == pytest.approx(3 / 4)
    assert "top20_share" not in got  # not a ratio of sums: only from the scope's own measure
    assert segmentation.scope_year_start(bench, members=["1"], period="2025-10") == {}
    measured = pd.DataFrame(
        {"scope": ["region:E", "bank"], "period": ["2025-12", "2025-12"], "top20_share": [0.8, 0.9]}
    )
    got = segmentation.scope_year_start(
        bench, members=["1", "2"], period="2026-10", measured=measured, scope="region:E"
    )
    assert got["top20_share"] == 0.8  # the region's own top 20%, not its branches' 0.5, 0.6
    bank = segmentation.scope_values(bench, members=["1", "2", "3"], period="2025-12",
                                     measured=measured)  # fmt: skip
    assert bank["top20_share"] == 0.9
    assert bank["suitability_mismatch_share"] == pytest.approx(8 / 14)


@pytest.mark.parametrize(
    ("locale", "level", "text", "want"),
    [
        ("en", "region", "The branch's NPL; the branches; this branch", "The region's NPL; the branches; this region"),
        ("en", "bank", "the branch ranks", "the bank ranks"),
        ("en", "branch", "the branch", "the branch"),
        ("zh-CN", "region", "本网点评分高于其他网点", "本区域评分高于其他网点"),
        ("zh-CN", "bank", "该网点", "全行"),
    ],
)  # fmt: skip
def test_texts_name_the_level_they_are_written_for(locale, level, text, want):
    assert i18n.at_level(text, locale, level) == want


def test_a_translator_at_a_level_rewrites_the_catalogue_text():
    key = next(k for k, v in i18n.catalogue("en").items() if "the branch" in v and "{" not in v)
    assert "the branch" not in i18n.Translator("en", level="region")(key)
    assert "the branch" in i18n.Translator("en")(key)
    with pytest.raises(ValueError, match="level is expected to be one of"):
        i18n.Translator("en", level="district")
