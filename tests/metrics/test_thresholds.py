"""Status rules: percentile cut-offs computed by hand on tiny bench frames, ties at a
cut-off, the small-sample fallback, regulatory and fixed rules, and the sentences that
say how a colour is set."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from pydantic import ValidationError

from branchbook import i18n, risk, satisfaction, segmentation, staff_kpi
from branchbook.metrics import Metric, catalogue, of_report
from branchbook.metrics.cards import card_frame, status
from branchbook.metrics.thresholds import (
    Norm,
    Percentile,
    Threshold,
    as_rag,
    check_kpi_status,
    cutoffs,
    explain,
    percentile_cuts,
    rags,
    read_cutoffs,
    relative,
    resolve,
)
from branchbook.params import Rag

LOW = Metric("t_low", "t_report", "num", "low")
HIGH = Metric("t_high", "t_report", "num", "high")
FALLBACK_LOW = Rag(good="low", green=2.0, amber=5.0)
FALLBACK_HIGH = Rag(good="high", green=9.0, amber=5.0)


def bench(values, period="2026-10", key="v"):
    """One row per branch B01.. with ``key`` = values (None for a branch without one)."""
    return pd.DataFrame(
        {
            "branch_id": [f"B{i:02d}" for i in range(1, len(values) + 1)],
            "period": period,
            key: [math.nan if v is None else float(v) for v in values],
        }
    )


def colours(frame, metric, rule, period="2026-10"):
    """Each branch's colour under ``rule`` resolved at the frame's cut-offs."""
    frame = frame.rename(columns={"v": metric.key})
    cuts = cutoffs(frame, [metric], {metric.key: rule}, period=period)
    th = resolve({metric.key: rule}, cuts, period=period)[metric.key]
    return [status(v, th.rag) for v in frame[metric.key]], th, cuts


def test_percentile_cut_offs_by_hand_ten_branches():
    values = list(range(1, 11))  # 1..10
    # linear interpolation: P75 at position 0.75 x 9 = 6.75 -> 7 + 0.75 = 7.75;
    # P90 at 8.1 -> 9.1; P25 at 2.25 -> 3.25; P10 at 0.9 -> 1.9
    assert percentile_cuts(pd.Series(values), "low", 75, 90) == pytest.approx((7.75, 9.1))
    assert percentile_cuts(pd.Series(values), "high", 75, 90) == pytest.approx((3.25, 1.9))
    rule = Percentile(rule="percentile", fallback=FALLBACK_LOW)
    got, th, cuts = colours(bench(values), LOW, rule)
    # low is good: above 7.75 amber (8, 9), above 9.1 red (10)
    assert got == ["green"] * 7 + ["amber", "amber", "red"]
    assert th.source == "bank_distribution" and not th.fallback and th.branches == 10
    assert (th.rag.green, th.rag.amber) == pytest.approx((7.75, 9.1))
    assert cuts.iloc[0][["amber_pct", "red_pct", "branches"]].tolist() == [75.0, 90.0, 10]
    rule = Percentile(rule="percentile", fallback=FALLBACK_HIGH)
    got, th, _ = colours(bench(values), HIGH, rule)
    # high is good: below 3.25 amber (2, 3), below 1.9 red (1)
    assert got == ["red", "amber", "amber"] + ["green"] * 7


def test_a_value_equal_to_a_cut_off_keeps_the_better_colour():
    # ten branches, three tied at the top: P75 = 7.75, P90 = 8.0 (position 8.1 between
    # two 8s); the 8s are above the amber cut but not above the red one
    rule = Percentile(rule="percentile", fallback=FALLBACK_LOW)
    got, th, _ = colours(bench([1, 2, 3, 4, 5, 6, 7, 8, 8, 8]), LOW, rule)
    assert (th.rag.green, th.rag.amber) == pytest.approx((7.75, 8.0))
    assert got == ["green"] * 7 + ["amber"] * 3
    # five branches, P75 falls on a value (40): that branch stays green
    rule = Percentile(rule="percentile", min_branches=3, fallback=FALLBACK_LOW)
    got, th, _ = colours(bench([10, 20, 30, 40, 50]), LOW, rule)
    assert (th.rag.green, th.rag.amber) == pytest.approx((40.0, 46.0))
    assert got == ["green", "green", "green", "green", "red"]
    # every branch the same: nobody is beyond anybody
    got, _, _ = colours(bench([3.0] * 9), LOW, Percentile(rule="percentile"))
    assert got == ["green"] * 9


def test_other_percentiles_and_branches_without_a_value():
    rule = Percentile(rule="percentile", amber=80, red=95, fallback=FALLBACK_LOW)
    # 1..10 plus two branches without a value: P80 = 8.2, P95 = 9.55 over the ten
    got, th, _ = colours(bench([*range(1, 11), None, None]), LOW, rule)
    assert th.branches == 10
    assert (th.rag.green, th.rag.amber) == pytest.approx((8.2, 9.55))
    assert got == ["green"] * 8 + ["amber", "red", None, None]


def test_fewer_branches_than_the_rule_needs_fall_back_to_the_fixed_thresholds():
    rule = Percentile(rule="percentile", fallback=FALLBACK_LOW)  # needs 8 branches
    got, th, cuts = colours(bench([1, 2, 3, 4, 5, 6, None]), LOW, rule)
    assert th.fallback and th.branches == 6 and th.min_branches == 8
    assert math.isnan(cuts.iloc[0]["amber_cut"])
    assert th.rag == FALLBACK_LOW  # green <= 2, amber <= 5
    assert got == ["green", "green", "amber", "amber", "amber", "red", None]
    # a period prepared without cut-offs: the fallback too
    th = resolve({"t_low": rule}, None, period="2026-10")["t_low"]
    assert th.fallback and th.rag == FALLBACK_LOW
    # and a percentile rule with no fallback has no colour then
    bare = resolve({"t_low": Percentile(rule="percentile")}, None, period="2026-10")
    assert bare["t_low"].rag is None and rags(bare) == {}


def test_cut_offs_are_those_of_the_period_asked():
    frame = pd.concat([bench(range(1, 11), "2026-09"), bench(range(11, 21), "2026-10")])
    rule = Percentile(rule="percentile")
    cuts = cutoffs(frame.rename(columns={"v": "t_low"}), [LOW], {"t_low": rule}, period="2026-10")
    assert len(cuts) == 1 and cuts.iloc[0]["amber_cut"] == pytest.approx(17.75)
    # a rule asked for another period than the one computed: the fallback
    assert resolve({"t_low": rule}, cuts, period="2026-09")["t_low"].fallback


def test_fixed_and_regulatory_rules_are_as_given():
    npl = Norm(good="low", green=0.03, amber=0.05, norm="npl_ceiling")
    fixed = Rag(good="low", green=0.3, amber=0.5)
    out = resolve({"npl_ratio": npl, "top10_share": fixed}, None, period="2026-10")
    assert out["npl_ratio"].source == "regulatory" and out["npl_ratio"].norm == "npl_ceiling"
    assert out["top10_share"].source == "fixed"
    # the regulator's 5% ceiling: red only above it, the ceiling itself amber
    assert [status(v, out["npl_ratio"].rag) for v in (0.03, 0.031, 0.05, 0.0501)] == [
        "green",
        "amber",
        "amber",
        "red",
    ]
    # the cut-off frame has rows only for percentile rules
    cuts = cutoffs(
        bench([0.01] * 12, key="npl_ratio"), [risk.KPIS[0]], {"npl_ratio": npl}, period="2026-10"
    )
    assert cuts.empty


def test_check_kpi_status_keeps_defaults_fills_the_fallback_and_names_unknown_keys():
    defaults = {"a": relative(FALLBACK_LOW), "b": Rag(good="low", green=1.0, amber=2.0)}
    out = check_kpi_status(
        {"b": Percentile(rule="percentile", amber=80, red=95)}, defaults, ["a", "b"]
    )
    assert out["a"] == defaults["a"]
    assert out["b"].amber == 80 and out["b"].fallback == defaults["b"]  # the old fixed rule
    with pytest.raises(ValueError, match="unknown KPI\\(s\\) c; allowed: a, b"):
        check_kpi_status({"c": FALLBACK_LOW}, defaults, ["a", "b"])
    with pytest.raises(ValidationError, match="higher percentile"):
        Percentile(rule="percentile", amber=90, red=75)
    # an unresolved percentile rule colours a card by its fallback
    assert as_rag(defaults["a"]) == FALLBACK_LOW and status(4.0, defaults["a"]) == "amber"


REPORTS = {
    "segmentation": segmentation.Settings,
    "risk": risk.Settings,
    "satisfaction": satisfaction.Settings,
    "staff_kpi": staff_kpi.Settings,
}


def test_every_card_with_a_direction_has_a_default_rule_pointing_its_way():
    for name, settings in REPORTS.items():
        rules = settings().kpi_status
        for m in of_report(name):
            if m.key not in rules:
                continue
            assert as_rag(rules[m.key]).good == m.good, (name, m.key)
        # the settings survive the JSON round trip into the notebook, rule by rule
        again = settings.model_validate(settings().model_dump(mode="json", by_alias=True))
        assert again.kpi_status == rules
    # the NPL ratio is the regulator's wherever it is shown
    assert risk.Settings().kpi_status["npl_ratio"].norm == "npl_ceiling"
    assert staff_kpi.Settings().kpi_status["managed_npl_ratio"].norm == "npl_ceiling"


def test_card_frame_colours_by_the_thresholds_passed_in():
    frame = bench(range(1, 11), key="t_low")
    rule = Percentile(rule="percentile", fallback=FALLBACK_LOW)
    th = resolve(
        {"t_low": rule}, cutoffs(frame, [LOW], {"t_low": rule}, period="2026-10"), period="2026-10"
    )
    out = card_frame(
        [LOW], {"t_low": 9.0}, {}, bench=frame, unit_id="B09", period="2026-10", rag=rags(th)
    )
    assert out["status"].tolist() == ["amber"]  # 9 > 7.75, not > 9.1


def test_read_cutoffs_from_the_owner_reports_artifacts():
    stored = pd.DataFrame([{"kpi": "npl_ratio", "period": "2026-10", "good": "low", "amber_pct": 75.0,
                            "red_pct": 90.0, "amber_cut": 0.02, "red_cut": 0.03, "branches": 12}])  # fmt: skip

    def bench_of(name):
        if name == "bench_risk_cutoffs":
            return stored
        raise OSError(name)

    assert read_cutoffs(bench_of, "risk").equals(stored)
    assert read_cutoffs(bench_of, "satisfaction").empty  # not prepared: empty, no error


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_each_rule_is_explained_in_both_locales(locale):
    npl = catalogue()["npl_ratio"]
    cases = [
        Threshold(
            "npl_ratio", "regulatory", Rag(good="low", green=0.03, amber=0.05), norm="npl_ceiling"
        ),
        Threshold("npl_ratio", "fixed", Rag(good="low", green=0.015, amber=0.03)),
        Threshold(
            "npl_ratio",
            "bank_distribution",
            Rag(good="low", green=0.021, amber=0.034),
            amber_pct=75,
            red_pct=90,
            branches=12,
            min_branches=8,
        ),  # fmt: skip
        Threshold(
            "npl_ratio",
            "bank_distribution",
            FALLBACK_LOW,
            amber_pct=75,
            red_pct=90,
            branches=5,
            fallback=True,
            min_branches=8,
        ),  # fmt: skip
        Threshold("npl_ratio", "fixed", None),
    ]
    texts = [explain(th, npl.kind, locale) for th in cases]
    assert all(t and "{" not in t and "common." not in t for t in texts)
    assert "5.00%" in texts[0] and "3.00%" in texts[0]
    assert "2.10%" in texts[2] and "3.40%" in texts[2] and "75" in texts[2] and "90" in texts[2]
    assert "5" in texts[3] and "8" in texts[3]
    # a KPI where high is good: the 25th and 10th percentiles, "below"
    csat = catalogue()["csat_mean"]
    high = Threshold("csat_mean", "bank_distribution", Rag(good="high", green=81.6, amber=79.1),
                     amber_pct=75, red_pct=90, branches=12, min_branches=8)  # fmt: skip
    text = explain(high, csat.kind, locale)
    assert "25" in text and "10" in text and i18n.t("common.thresholds.below", locale) in text
