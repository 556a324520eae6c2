"""The loan book: DPD buckets, five-class mix, NPL and special-mention ratios, trend, roll rates."""

import math

import pandas as pd

from branchbook import risk

from .helpers import approx


# -- loan book ------------------------------------------------------------------------
def test_dpd_bucket_edges():
    got = risk.dpd_bucket(pd.Series([0, 1, 30, 31, 60, 61, 90, 91, None]))
    assert got.iloc[:8].tolist() == [
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
    ]
    assert pd.isna(got.iloc[8])


HISTORY = pd.DataFrame(
    {
        "month": ["2026-10"] * 5 + ["2026-09"],
        "five_class": ["pass", "special_mention", "substandard", "doubtful", "loss", "pass"],
        "dpd_bucket": ["current", "1-30", "61-90", "90+", "90+", "current"],
        "loans": [8, 1, 1, 1, 1, 0],
        "outstanding": [800.0, 100.0, 50.0, 30.0, 20.0, 0.0],
    }
)


def test_npl_and_special_mention_ratio():
    r = risk.book_ratios(HISTORY).set_index("month")
    # NPL = (50 + 30 + 20) / (800 + 100 + 50 + 30 + 20) = 100 / 1000
    assert r.loc["2026-10", "npl_ratio"] == approx(0.10)
    # special mention = 100 / 1000
    assert r.loc["2026-10", "special_mention_ratio"] == approx(0.10)
    # a month with no outstanding has no ratio, not 0
    assert math.isnan(r.loc["2026-09", "npl_ratio"])


def test_five_class_and_dpd_mix():
    fc = risk.five_class_mix(HISTORY, month="2026-10").set_index("five_class")
    assert fc.index.tolist() == list(risk.FIVE_CLASSES)
    assert fc["share"].tolist() == approx([0.8, 0.1, 0.05, 0.03, 0.02])
    dpd = risk.dpd_mix(HISTORY, month="2026-10").set_index("dpd_bucket")
    # 90+ holds doubtful 30 + loss 20 = 50 of 1000; 31-60 holds nothing
    assert dpd.loc["90+", "share"] == approx(0.05)
    assert dpd.loc["31-60", "loans"] == 0
    empty = risk.five_class_mix(HISTORY, month="2026-09")
    assert empty["share"].isna().all()


def test_npl_trend_against_bank_median():
    bench = pd.DataFrame(
        {
            "branch_id": ["A", "B", "C"],
            "month": ["2026-10"] * 3,
            "npl_ratio": [0.01, 0.02, 0.06],
            "special_mention_ratio": [0.0, 0.1, 0.2],
        }
    )
    t = risk.npl_trend(HISTORY, bench_trend=bench, months=["2026-09", "2026-10"]).set_index("month")
    assert t.loc["2026-10", "npl_ratio"] == approx(0.10)
    assert t.loc["2026-10", "bank_npl_ratio"] == approx(0.02)  # median of 1%, 2%, 6%
    assert math.isnan(t.loc["2026-09", "bank_npl_ratio"])


ROLLS = pd.DataFrame(
    {
        "month": ["2026-10"] * 5 + ["2026-09"],
        "from_bucket": ["current", "current", "current", "1-30", "1-30", "current"],
        "to_bucket": ["current", "1-30", "closed", "current", "31-60", "current"],
        "loans": [90, 8, 2, 1, 3, 50],
        "outstanding": [900.0, 80.0, 20.0, 10.0, 30.0, 500.0],
    }
)


def test_roll_rates_by_balance_and_by_count():
    m = risk.roll_rates(ROLLS, month="2026-10")
    assert list(m.columns) == [*risk.DPD_BUCKETS, "closed"]
    # current: 900 / 1000 stay, 80 / 1000 roll to 1-30, 20 / 1000 repaid
    assert m.loc["current"].tolist() == approx([0.9, 0.08, 0, 0, 0, 0.02])
    # 1-30: 10 / 40 cure, 30 / 40 roll forward
    assert m.loc["1-30", "current"] == approx(0.25)
    assert m.loc["1-30", "31-60"] == approx(0.75)
    # no loan was 31-60 last month: a row of NaN, not zeros
    assert m.loc["31-60"].isna().all()
    by_count = risk.roll_rates(ROLLS, month="2026-10", weight="loans")
    assert by_count.loc["1-30", "31-60"] == approx(0.75)  # 3 / (1 + 3)
    assert by_count.loc["current", "closed"] == approx(0.02)  # 2 / 100


def test_past_due_share_and_roll_forward_rate():
    # 200 of the 1000 outstanding in October is past due; September has no outstanding
    assert risk.past_due_share(risk.dpd_mix(HISTORY, month="2026-10")) == approx(0.2)
    assert math.isnan(risk.past_due_share(risk.dpd_mix(HISTORY, month="2026-09")))
    m = risk.roll_rates(ROLLS, month="2026-10")
    assert risk.roll_forward_rate(m) == approx(0.08)  # current -> 1-30
    assert risk.roll_forward_rate(m, bucket="1-30") == approx(0.75)  # 1-30 -> 31-60
    assert math.isnan(risk.roll_forward_rate(m, bucket="31-60"))  # held no loans


def test_npl_against_90_days_past_due():
    book = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "customer_id": ["C1", "C2", "C3", "C4", "C5"],
            "name": ["张三", "李四", "王五", "赵六", "钱七"],
            "product": ["consumer"] * 5,
            "outstanding": [100.0, 50.0, 30.0, 20.0, 800.0],
            "dpd": [120, 95, 0, 91, 0],
            "five_class": ["substandard", "special_mention", "doubtful", "pass", "pass"],
        }
    )
    g = risk.npl_dpd_gap(book)
    # 90+: 100 + 50 + 20 = 170; NPL: 100 + 30 = 130; gap: L2 50 + L4 20 = 70
    assert g["dpd90_outstanding"] == 170.0 and g["npl_outstanding"] == 130.0
    assert g["dpd90_to_npl"] == approx(170 / 130)  # 1.3077: past-due loans not classed NPL
    assert (g["gap_loans"], g["gap_outstanding"]) == (2.0, 70.0)
    assert g["gap_share"] == approx(70 / 170)
    loans = risk.npl_dpd_gap_loans(book)
    assert loans["loan_id"].tolist() == ["L2", "L4"]  # largest first
    assert loans["name"].tolist() == ["李*", "赵*"]
    # 91 days is past the limit, 90 is not
    assert risk.npl_dpd_gap(book.assign(dpd=[120, 90, 0, 90, 0]))["gap_loans"] == 0.0
    # no NPL and nothing past due: NaN ratios, not 0
    clean = risk.npl_dpd_gap(book.assign(dpd=0, five_class="pass"))
    assert math.isnan(clean["dpd90_to_npl"]) and math.isnan(clean["gap_share"])
    assert risk.npl_dpd_gap_loans(book.iloc[0:0]).empty
