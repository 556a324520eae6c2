"""The satisfaction bridges: rate and mix effects of CSAT, NPS, complaints per 1,000 and
churn by segment, hand-computed on tiny frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from branchbook import satisfaction as sat
from branchbook.satisfaction.bridges import SUM_COLUMNS, score_sums_at

PERIOD = "2026-10"


def _sums(rows):
    """Rows (branch, month, measure, dimension, segment, num, den) as a bridge_sums frame."""
    return pd.DataFrame(rows, columns=list(SUM_COLUMNS))


def _csat(rows, branch="A", dimension="tier"):
    return _sums([(branch, m, "csat_mean", dimension, seg, num, den) for m, seg, num, den in rows])


def _label(prefix, code):
    return f"{prefix}.{code}"


def test_rate_and_mix_by_tier_add_up_to_the_change():
    # Sep: mass 2 answers summing 120 (60), wealth 2 summing 200 (100): CSAT 80
    # Oct: mass 3 answers summing 150 (50), wealth 1 of 100 (100): CSAT 62.5
    sums = _csat(
        [
            ("2026-09", "mass", 120.0, 2.0),
            ("2026-09", "wealth", 200.0, 2.0),
            ("2026-10", "mass", 150.0, 3.0),
            ("2026-10", "wealth", 100.0, 1.0),
        ]
    )
    s = sat.bridge_split(sums, measure="csat_mean", base="month", dimension="tier", period=PERIOD)
    assert list(s.index) == ["mass", "affluent", "wealth", "private"]
    # the mix is centred on the whole score's midpoint, (80 + 62.5) / 2 = 71.25
    # mass: rate (50 - 60) x (0.5 + 0.75) / 2 = -6.25, mix (0.75 - 0.5) x (55 - 71.25)
    assert s.loc["mass", "rate_effect"] == pytest.approx(-6.25)
    assert s.loc["mass", "mix_effect"] == pytest.approx(-4.0625)
    # wealth: the same rate, so no rate effect; mix (0.25 - 0.5) x (100 - 71.25)
    assert s.loc["wealth", "rate_effect"] == pytest.approx(0.0)
    assert s.loc["wealth", "mix_effect"] == pytest.approx(-7.1875)
    assert s.loc[["affluent", "private"], "contribution"].tolist() == [0.0, 0.0]
    t = sat.bridge_total(sums, measure="csat_mean", base="month", period=PERIOD)
    assert (t["opening"], t["closing"]) == (80.0, 62.5)
    assert t["rate_effect"] + t["mix_effect"] == pytest.approx(-17.5)
    assert t["residual"] == pytest.approx(0.0, abs=1e-12)


def test_a_tier_that_appears_or_disappears_is_mix_only():
    # Sep: mass 120/2 (60), affluent 160/2 (80): 70. Oct: mass 100/2 (50), private 200/2: 75
    sums = _csat(
        [
            ("2026-09", "mass", 120.0, 2.0),
            ("2026-09", "affluent", 160.0, 2.0),
            ("2026-10", "mass", 100.0, 2.0),
            ("2026-10", "private", 200.0, 2.0),
        ]
    )
    s = sat.bridge_split(sums, measure="csat_mean", base="month", dimension="tier", period=PERIOD)
    assert s.loc["mass", ["rate_effect", "mix_effect"]].tolist() == [-5.0, 0.0]
    # centred on the whole score's midpoint (70 + 75) / 2 = 72.5
    # gone: its own rate at both ends, weight 0.5 -> 0: -0.5 x (80 - 72.5)
    assert s.loc["affluent", ["rate_effect", "mix_effect"]].tolist() == [0.0, -3.75]
    # new: weight 0 -> 0.5 at 100: 0.5 x (100 - 72.5)
    assert s.loc["private", ["rate_effect", "mix_effect"]].tolist() == [0.0, 13.75]
    assert np.isnan(s.loc["private", "rate_opening"]) and np.isnan(
        s.loc["affluent", "rate_closing"]
    )
    assert s.loc["wealth", "contribution"] == 0.0
    assert s["contribution"].sum() == pytest.approx(75.0 - 70.0)


def test_an_empty_prior_period_has_no_bridge_and_no_sentence():
    sums = _csat([("2026-10", "mass", 100.0, 2.0)])
    s = sat.bridge_split(sums, measure="csat_mean", base="month", dimension="tier", period=PERIOD)
    assert s[["rate_effect", "mix_effect", "contribution"]].isna().all().all()
    t = sat.bridge_total(sums, measure="csat_mean", base="month", period=PERIOD)
    assert math.isnan(t["opening"]) and t["closing"] == 50.0 and math.isnan(t["residual"])
    facts = sat.bridge_facts(
        sums, period=PERIOD, min_change=dict.fromkeys(sat.MEASURES, 0.0), label=_label
    )
    assert facts == []


def test_the_year_base_opens_at_the_end_of_last_year_and_branches_add_up():
    rows = []
    for branch, (n0, d0, n1, d1) in {"A": (2, 100, 3, 100), "B": (1, 300, 1, 100)}.items():
        rows += [
            (branch, "2025-12", "churn_rate", "tier", "mass", n0, d0),
            (branch, "2026-09", "churn_rate", "tier", "mass", 99, 100),  # not the year's base
            (branch, "2026-10", "churn_rate", "tier", "mass", n1, d1),
        ]
    t = sat.bridge_total(_sums(rows), measure="churn_rate", base="year", period=PERIOD)
    # a region of A and B: 3 / 400 then, 4 / 200 now
    assert (t["opening"], t["closing"]) == (3 / 400, 4 / 200)
    assert t["residual"] == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="`base` is expected to be one of"):
        sat.bridge_split(_sums(rows), measure="churn_rate", base="week", dimension="tier",
                         period=PERIOD)  # fmt: skip


def test_nps_as_the_mean_of_plus_100_0_minus_100_is_promoters_minus_detractors():
    responses = pd.DataFrame(
        {
            "branch_id": "A",
            "month": ["2026-08", "2026-09", "2026-10", "2026-10", "2026-10", "2026-10"],
            "channel": ["mobile", "counter", "counter", "mobile", "mobile", "counter"],
            "tier": ["mass", "mass", "mass", "wealth", "wealth", "mass"],
            "csat": [1, 5, 4, None, 2, 3],
            "nps": [0, 9, 10, 7, 0, None],
        }
    )
    s = score_sums_at(responses, month="2026-10", window_months=2, scale=sat_scale())
    tier = s[(s["dimension"] == "tier")].set_index(["measure", "segment"])
    # window Sep-Oct: NPS answers 9, 10, 7, 0 -> +100, +100, 0, -100 over 4 = 25 points
    nps = tier.loc["nps"]
    assert nps["num"].sum() / nps["den"].sum() == 25.0
    assert (2 - 1) / 4 * 100 == 25.0
    assert nps.loc["mass", ["num", "den"]].tolist() == [200.0, 2.0]
    assert nps.loc["wealth", ["num", "den"]].tolist() == [-100.0, 2.0]
    # CSAT 0-100: 5 -> 100, 4 -> 85, 2 -> 30, 3 -> 60 (the August 1 is outside the window)
    csat = tier.loc["csat_mean"]
    assert csat.loc["mass", ["num", "den"]].tolist() == [245.0, 3.0]
    assert csat.loc["wealth", ["num", "den"]].tolist() == [30.0, 1.0]
    ch = s[(s["dimension"] == "channel") & (s["measure"] == "csat_mean")].set_index("segment")
    assert ch["num"].sum() == csat["num"].sum()


def sat_scale():
    return list(sat.Settings().csat_scale)


def test_bridge_sums_complaints_per_1000_and_churn():
    complaints = pd.DataFrame(
        {"branch_id": "A", "month": ["2026-10", "2026-10", "2026-09", "2026-01"],
         "tier": ["mass", "wealth", "mass", "mass"]}
    )  # fmt: skip
    customers = pd.DataFrame(
        {"branch_id": "A", "month": ["2026-10", "2026-10", "2026-09"],
         "tier": ["mass", "affluent", "mass"], "customers": [400, 100, 500]}
    )  # fmt: skip
    churn = pd.DataFrame(
        {"branch_id": "A", "month": ["2026-10"], "tier": ["mass"], "at_risk": [50], "churned": [1]}
    )
    responses = pd.DataFrame(columns=["branch_id", "month", "channel", "tier", "csat", "nps"])
    s = sat.bridge_sums(
        responses, complaints, customers, churn, period=PERIOD, window_months=3, scale=sat_scale()
    )
    k = s[s["measure"] == "complaints_per_1000"].set_index(["month", "segment"])
    # a complaint of a wealth customer in a month with no wealth customer open at its end:
    # counted in the numerator all the same (the KPI counts it), but no rate of its own
    assert k.loc[("2026-10", "wealth"), ["num", "den"]].tolist() == [1000.0, 0.0]
    assert k.loc[("2026-10", "mass"), ["num", "den"]].tolist() == [1000.0, 400.0]
    assert k.loc[("2026-10", "affluent"), ["num", "den"]].tolist() == [0.0, 100.0]
    assert ("2026-01", "mass") not in k.index  # not a month end of a bridge
    t = sat.bridge_total(s, measure="complaints_per_1000", base="month", period=PERIOD)
    assert (t["opening"], t["closing"]) == (2.0, 4.0)  # 1 of 500; 2 of 500, per 1,000
    # so it is the residual, shown beside the effects: 1,000 x 1 / 500 customers
    assert t["residual"] == pytest.approx(2.0)
    kept = s[~((s["measure"] == "complaints_per_1000") & (s["segment"] == "wealth"))]
    t = sat.bridge_total(kept, measure="complaints_per_1000", base="month", period=PERIOD)
    assert t["closing"] == 2.0 and t["residual"] == pytest.approx(0.0, abs=1e-12)
    c = sat.bridge_total(s, measure="churn_rate", base="month", period=PERIOD)
    assert math.isnan(c["opening"]) and c["closing"] == 0.02


def test_bridge_facts_name_the_largest_effect_when_the_change_passes_the_threshold():
    sums = pd.concat(
        [
            _csat(
                [
                    ("2026-09", "mass", 120.0, 2.0),
                    ("2026-09", "wealth", 200.0, 2.0),
                    ("2026-10", "mass", 150.0, 3.0),
                    ("2026-10", "wealth", 100.0, 1.0),
                ]
            ),
            # the same answers by channel: counter the same both months, mobile fell
            _csat(
                [
                    ("2026-09", "counter", 200.0, 2.0),
                    ("2026-09", "mobile", 120.0, 2.0),
                    ("2026-10", "counter", 200.0, 2.0),
                    ("2026-10", "mobile", 50.0, 2.0),
                ],
                dimension="channel",
            ),
        ]
    )
    low = dict.fromkeys(sat.MEASURES, 1.0)
    facts = sat.bridge_facts(sums, period=PERIOD, min_change=low, label=_label)
    assert [k for k, _ in facts] == ["satisfaction.summary.bridge_csat_mean"]
    v = facts[0][1]
    # by tier the largest fall is wealth's mix (-7.19); by channel mobile's rate (-17.5:
    # mobile fell from 60 to 25 on half the answers)
    assert v["segment"] == "satisfaction.bridge_segments.channel.mobile"
    assert v["part"] == "satisfaction.bridge_words.rate_effect"
    assert v["amount"] == pytest.approx(-17.5)
    assert (v["opening"], v["closing"], v["change"]) == (80.0, 62.5, -17.5)
    assert v["base"] == "common.bridge.bases.month"
    # answers moved from mobile to counter (weights 0.25 <-> 0.75) while both channels fell
    # from 80 to 70 (rate -5 each): a move between segments of the same score is no mix
    moved = _csat(
        [
            ("2026-09", "counter", 80.0, 1.0),
            ("2026-09", "mobile", 240.0, 3.0),
            ("2026-10", "counter", 210.0, 3.0),
            ("2026-10", "mobile", 70.0, 1.0),
        ],
        dimension="channel",
    )
    s = sat.bridge_split(
        moved, measure="csat_mean", base="month", dimension="channel", period=PERIOD
    )
    assert s.loc[["counter", "mobile"], "mix_effect"].tolist() == [0.0, 0.0]
    assert s.loc[["counter", "mobile"], "rate_effect"].tolist() == [-5.0, -5.0]
    # the same answers all in one tier: no mix there, a rate effect of -10
    one_tier = _csat([("2026-09", "mass", 320.0, 4.0), ("2026-10", "mass", 280.0, 4.0)])
    v = sat.bridge_facts(pd.concat([moved, one_tier]), period=PERIOD, min_change=low, label=_label)
    v = v[0][1]
    assert v["part"] == "satisfaction.bridge_words.rate_effect" and v["amount"] == -10.0
    assert v["segment"] == "satisfaction.bridge_segments.tier.mass"
    assert v["change"] == -10.0
    high = {**low, "csat_mean": 17.6}
    assert sat.bridge_facts(sums, period=PERIOD, min_change=high, label=_label) == []


def test_the_overview_shows_each_kpi_in_its_unit_and_churn_in_percent():
    rows = [
        ("A", "2026-09", "churn_rate", "tier", "mass", 1, 100),
        ("A", "2026-10", "churn_rate", "tier", "mass", 3, 100),
        ("A", "2026-09", "csat_mean", "tier", "mass", 160, 2),
        ("A", "2026-10", "csat_mean", "tier", "mass", 170, 2),
    ]
    ov = sat.bridge_overview(_sums(rows), base="month", period=PERIOD)
    assert list(ov.index) == list(sat.MEASURES)
    assert ov.loc["churn_rate", ["opening", "closing", "change", "rate_effect"]].tolist() == (
        pytest.approx([1.0, 3.0, 2.0, 2.0])
    )
    assert ov.loc["csat_mean", ["opening", "closing", "rate_effect", "mix_effect"]].tolist() == [
        80.0, 85.0, 5.0, 0.0,
    ]  # fmt: skip
    assert ov.loc["nps"].isna().all()  # no NPS answers at either end


def test_the_segment_table_shows_the_kpi_and_effects_in_the_unit_shown():
    sums = _sums(
        [
            ("A", "2026-09", "churn_rate", "tier", "mass", 1, 100),
            ("A", "2026-10", "churn_rate", "tier", "mass", 3, 100),
        ]
    )
    s = sat.bridge_split(sums, measure="churn_rate", base="month", dimension="tier", period=PERIOD)
    t = sat.bridge_table(s, scale=sat.SHOWN_AS["churn_rate"]).set_index("tier")
    assert t.loc["mass", ["den_opening", "rate_opening", "rate_closing"]].tolist() == (
        pytest.approx([100.0, 1.0, 3.0])
    )
    assert t.loc["mass", "rate_effect"] == pytest.approx(2.0)
    assert s.loc["mass", "rate_effect"] == pytest.approx(0.02)  # the split itself unchanged


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_bridge_sentence_renders_with_its_facts(locale):
    from branchbook import i18n

    rows = []
    for measure, (n0, d0, n1, d1) in {
        "csat_mean": (160, 2, 100, 2),
        "nps": (100, 2, -100, 2),
        "complaints_per_1000": (2000, 500, 5000, 500),
        "churn_rate": (1, 100, 5, 100),
    }.items():
        rows += [
            ("A", "2026-09", measure, "tier", "mass", n0, d0),
            ("A", "2026-10", measure, "tier", "mass", n1, d1),
        ]
    facts = sat.bridge_facts(
        _sums(rows),
        period=PERIOD,
        min_change=sat.Settings().fact_bridge,
        label=lambda prefix, code: i18n.label(prefix, code, locale),
    )
    assert [k.rsplit("_", 1)[0] for k, _ in facts][:1] == ["satisfaction.summary.bridge_csat"]
    assert len(facts) == 4
    for key, values in facts:
        text = i18n.t(key, locale, **values)
        assert "{" not in text and "satisfaction." not in text
    churn = i18n.t(facts[3][0], locale, **facts[3][1])
    assert ("+4.0 pp" if locale == "en" else "+4.0个百分点") in churn


@pytest.mark.slow
def test_every_bridge_of_every_branch_adds_up_and_matches_the_warehouse(small_bank):
    """For every branch, KPI, base and dimension of the demo bank's satisfaction report:
    opening + rate + mix (+ the residual shown) = closing, and opening and closing equal
    the KPIs recomputed from the warehouse by a query of this test's own."""
    import duckdb
    import yaml

    from branchbook.period import Period

    bank = yaml.safe_load((small_bank / "params" / "bank.yaml").read_text())
    s = sat.Settings.model_validate(
        {**bank.get("satisfaction", {}), "csat_scale": bank["csat_scale"]}
    )
    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    extracts = small_bank / "build" / str(period) / "prepared" / "extracts"
    frames = sorted(extracts.glob("*/satisfaction_bridge.parquet"))
    assert len(frames) == 2, "prepare wrote no satisfaction_bridge per branch"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    csat = " ".join(f"WHEN {k} THEN {v}" for k, v in enumerate(s.csat_scale, start=1))
    n = s.churn_floor_months

    def truth(month: Period) -> pd.DataFrame:
        first = month.shift(-(s.score_window_months - 1))
        low = " AND ".join(
            f"EXISTS (SELECT 1 FROM balances x WHERE x.customer_id = c.customer_id "
            f"AND x.month = strftime($mend::DATE - INTERVAL {k} MONTH, '%Y-%m') "
            f"AND x.deposits + x.wealth < {s.churn_aum_floor})"
            for k in range(n)
        )
        low_prev = low.replace("$mend::DATE", "$pend::DATE")
        return (
            con.execute(
                f"""
WITH b AS (SELECT branch_id FROM branches),
sv AS (
    SELECT branch_id,
           sum(CASE csat {csat} END) / count(CASE csat {csat} END) AS csat_mean,
           100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6))
               / count(nps) AS nps
    FROM surveys WHERE responded_on BETWEEN $first AND $mend GROUP BY branch_id
),
k AS (
    SELECT branch_id, count(*) AS complaints FROM complaints
    WHERE received_at >= $mstart AND received_at < $mend::DATE + 1 GROUP BY branch_id
),
o AS (
    SELECT branch_id, count(*) AS customers FROM customers
    WHERE opened_on <= $mend AND (closed_on IS NULL OR closed_on > $mend) GROUP BY branch_id
),
r AS (  -- active at the end of last month: a balance then, open, not low for n months
    SELECT c.branch_id,
           count(*) AS at_risk,
           count(*) FILTER (WHERE (c.closed_on IS NOT NULL AND c.closed_on <= $mend)
               OR ({low})) AS churned
    FROM customers c
    WHERE EXISTS (SELECT 1 FROM balances x WHERE x.customer_id = c.customer_id
                  AND x.month = strftime($pend, '%Y-%m'))
      AND NOT (c.closed_on IS NOT NULL AND c.closed_on <= $pend) AND NOT ({low_prev})
    GROUP BY c.branch_id
)
SELECT b.branch_id, sv.csat_mean, sv.nps,
       1000.0 * coalesce(k.complaints, 0) / o.customers AS complaints_per_1000,
       r.churned / r.at_risk AS churn_rate
FROM b LEFT JOIN sv USING (branch_id) LEFT JOIN k USING (branch_id)
LEFT JOIN o USING (branch_id) LEFT JOIN r USING (branch_id)
""",
                {
                    "first": first.start,
                    "mstart": month.start,
                    "mend": month.end,
                    "pend": month.prev.end,
                },
            )
            .df()
            .set_index("branch_id")
        )

    now = truth(period)
    ends = {"month": period.prev, "year": period.year_start.prev}
    then = {base: truth(month) for base, month in ends.items()}
    checked = 0
    for f in frames:
        branch, sums = f.parent.name, pd.read_parquet(f)
        for base in sat.BASES:
            for measure in sat.MEASURES:
                for dim in sat.DIMENSIONS[measure]:
                    t = sat.bridge_total(
                        sums, measure=measure, base=base, period=str(period), dimension=dim
                    )
                    assert t["opening"] == pytest.approx(
                        then[base].loc[branch, measure], abs=1e-9, nan_ok=True
                    )
                    assert t["closing"] == pytest.approx(
                        now.loc[branch, measure], abs=1e-9, nan_ok=True
                    )
                    if not np.isfinite(t["opening"]):
                        continue  # no bridge: nothing at the opening (checked above)
                    parts = t["rate_effect"] + t["mix_effect"] + t["residual"]
                    assert t["opening"] + parts == pytest.approx(
                        t["closing"], abs=1e-9, nan_ok=True
                    )
                    if measure != "complaints_per_1000":  # the one KPI that can have one
                        assert abs(t["residual"]) < 1e-9, (branch, base, measure, dim)
                    checked += 1
    assert checked == 2 * 2 * 6  # branches x bases x (KPI, dimension): none without an opening
