"""Tests of the summary sentences and of the catalogue keys the report names."""

import math

import numpy as np
import pytest

from branchbook import i18n
from branchbook import segmentation as sg

from .rows import S, bench_rows, frame


def test_summary_facts_for_a_branch_with_problems():
    rows = frame(
        {
            "aum": 7_000_000.0,
            "aum_prev": 7_000_000.0,
            "txn_90d": 0.0,
            "txn_90d_prev": 5.0,
        },  # dormant private
        {"aum": 40_000.0, "aum_prev": 600_000.0, "txn_90d": 3.0},  # wealth -> mass
        {"aum": 60_000.0, "aum_prev": 60_000.0},
        {"aum": 100_000.0, "aum_prev": 100_000.0},
        {"aum": 1_000.0, "aum_prev": np.nan, "open_prev": False, "txn_90d": 1.0},  # new
    )
    now, before = sg.classify(rows, S), sg.classify(sg.previous(rows), S)
    facts = sg.summary_facts(now, before, bench=bench_rows(), period="2026-10", settings=S)
    keys = [k for k, _ in facts]
    assert keys == [
        "segmentation.summary.overview",
        "segmentation.summary.dormant_high_value_above_bank",
        "segmentation.summary.tier_slippage",
        "segmentation.summary.aum_concentration",
        "segmentation.summary.active_above_bank",
    ]
    v = dict(facts)
    # 5 customers now, 4 before; AUM 7,201,000 now, 7,760,000 before
    assert v[keys[0]]["customers"] == 5.0
    assert v[keys[0]]["customers_change"] == pytest.approx(0.25)
    assert v[keys[0]]["aum_change"] == pytest.approx(7_201_000 / 7_760_000 - 1)
    # the one high-value customer is dormant: share 1.0 against the median 0.2
    assert v[keys[1]] == {
        "count": 1.0,
        "aum": 7e6,
        "aum_change": 0.0,
        "share": 1.0,
        "bank_median": 0.2,
    }
    assert v[keys[2]] == {"downgraded": 1, "upgraded": 0}
    assert v[keys[3]]["top20_share"] == pytest.approx(7_000_000 / 7_201_000)
    assert v[keys[3]]["bank_median"] == pytest.approx(0.8)
    # active 4 of 5 = 0.8 against the median 0.6: 0.2 >= fact_gap 0.05
    assert v[keys[4]] == {"active_share": pytest.approx(0.8), "bank_median": pytest.approx(0.6)}


def test_summary_facts_for_a_quiet_branch_and_a_first_period():
    rows = frame(
        {"aum": 600_000.0, "aum_prev": 600_000.0, "txn_90d": 2.0},
        {"aum": 400_000.0, "aum_prev": 400_000.0},
    )
    bench = bench_rows().assign(active_share=1.0)
    facts = sg.summary_facts(
        sg.classify(rows, S),
        sg.classify(sg.previous(rows), S),
        bench=bench,
        period="2026-10",
        settings=S,
    )
    assert [k for k, _ in facts] == [
        "segmentation.summary.overview",
        "segmentation.summary.aum_concentration",
        "segmentation.summary.high_value",
    ]
    assert facts[0][1]["aum_change"] == 0.0
    assert facts[2][1] == {"count": 1.0, "aum_share": pytest.approx(0.6)}  # 600,000 of 1,000,000
    first = rows.assign(open_prev=False)
    facts = sg.summary_facts(
        sg.classify(first, S),
        sg.classify(sg.previous(first), S),
        bench=bench,
        period="2026-10",
        settings=S,
    )
    assert facts[0] == (
        "segmentation.summary.overview_first_period",
        {"customers": 2.0, "aum": 1_000_000.0},
    )


def test_decline_share_above_bank_is_a_fact():
    rows = frame({"aum_recent_3m": 50.0, "aum_earlier_3m": 100.0}, {})  # one of two in decline
    facts = sg.summary_facts(
        sg.classify(rows, S),
        sg.classify(sg.previous(rows), S),
        bench=bench_rows(),
        period="2026-10",
        settings=S,
    )
    got = dict(facts)["segmentation.summary.decline_above_bank"]
    assert got == {"decline_share": 0.5, "bank_median": pytest.approx(0.1)}


def test_every_key_the_module_names_exists_in_both_catalogues():
    keys = list(sg.DEFINITIONS.values())
    keys += [m.label_key for m in sg.METRICS]
    for dim, cats in sg.DIMENSIONS.items():
        keys += [f"segmentation.values.{dim}.{c}" for c in cats]
    keys += [f"segmentation.values.cluster.{c}" for c in sg.CLUSTER_LABELS]
    keys += [f"segmentation.values.cluster_trait.{c}" for c in sg.CLUSTER_TRAITS]
    keys += [f"segmentation.values.reason.{c}" for c in sg.ACTION_REASONS]
    keys += ["segmentation.values.asset_tier.new", "segmentation.values.asset_tier.closed"]
    for locale in ("en", "zh-CN"):
        missing = [k for k in keys if not i18n.has(k, locale)]
        assert missing == [], locale


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_summary_sentences_render(locale):
    values = {
        "customers": 1234.0,
        "customers_change": 0.05,
        "aum": 8.3e8,
        "aum_change": math.nan,
        "count": 3.0,
        "downgraded": 4,
        "upgraded": 1,
        "top20_share": 0.81,
        "bank_median": 0.78,
        "active_share": 0.6,
        "decline_share": 0.2,
        "aum_share": 0.4,
        "share": 0.3,
        "change": -4.5e6,
        "change_rel": -0.007,
        "base": "vs last month",
        "part": "decline of existing",
        "tier": "wealth",
        "amount": -1.7e7,
        "balance": 57_000.0,
    }
    keys = [k for k in i18n.catalogue(locale) if k.startswith("segmentation.summary.")]
    assert len(keys) == 16
    for key in keys:
        assert "{" not in i18n.t(key, locale, **values)


def test_the_definitions_appendix_defines_every_card():
    assert {m.definition_key for m in sg.METRICS} <= set(sg.DEFINITIONS.values())


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_definition_has_a_term(locale):
    for metric in sg.DEFINITIONS:
        names = [f"segmentation.{part}.{metric}" for part in ("terms", "kpis", "columns")]
        assert any(i18n.has(n, locale) for n in names), metric
