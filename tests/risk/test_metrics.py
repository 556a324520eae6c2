"""The six KPI cards: declarations, last period and bank median, the card frame."""

import math

import pandas as pd
import pytest

from branchbook import metrics, risk
from branchbook.risk import Settings

from .helpers import approx, compliance_none, flags_none, loans_frame


def test_each_kpi_is_declared_once_with_the_npl_ratio_as_headline():
    assert [m.key for m in metrics.of_report("risk")] == list(risk.KPI_KEYS)
    assert risk.KPI_KEYS == (
        "npl_ratio",
        "special_mention_ratio",
        "expected_loss_rate",
        "warning_exposure_share",
        "top10_share",
        "risk_customer_share",
    )
    assert [m.key for m in risk.KPIS if m.headline] == ["npl_ratio"]
    assert all(m.kind == "pct" and m.good == "low" for m in risk.KPIS)
    # every card has a threshold and a definition, from the declaration
    assert set(Settings().kpi_status) == set(risk.KPI_KEYS)
    assert {risk.DEFINITIONS[m.key] for m in risk.KPIS} == {m.definition_key for m in risk.KPIS}
    # re-declaring the same metric is harmless, a different one under its key is not
    metrics.declare(*risk.KPIS)
    with pytest.raises(ValueError, match="npl_ratio"):
        metrics.declare(metrics.Metric("npl_ratio", "risk", "pct", "high"))


def test_kpis_by_hand():
    # outstanding 1000 + 2000 + 500 + 100 = 3600; L3 substandard 500, L2 special mention 2000
    book = loans_frame(five_class=["pass", "special_mention", "substandard", "pass"])
    warnings = pd.DataFrame({"exposure": [600.0, 50.0], "n_rules": [2, 0]})
    status = pd.DataFrame({"status": ["risk", "watch", "compliant", "compliant"]})
    k = risk.kpis(
        book=book.assign(el=1.0, ead=book["outstanding"]), warnings=warnings, compliance=status
    )
    assert k["npl_ratio"] == approx(500 / 3600)
    assert k["special_mention_ratio"] == approx(2000 / 3600)
    assert k["expected_loss_rate"] == approx(4 / 3600)
    assert k["warning_exposure_share"] == approx(600 / 3600)
    assert k["top10_share"] == approx(1.0)  # three borrowers, all in the top ten
    assert k["risk_customer_share"] == approx(0.25)
    # each KPI's declared function gives the same value
    for m in risk.KPIS:
        args = {"warning_exposure_share": (book, warnings), "risk_customer_share": (status,)}
        got = m.compute(*args.get(m.key, (book.assign(el=1.0, ead=book["outstanding"]),)))
        assert got == approx(k[m.key]), m.key
    # an empty branch: no denominator, no value (not 0)
    empty = risk.kpis(
        book=book.iloc[0:0].assign(el=1.0, ead=0.0),
        warnings=flags_none(),
        compliance=compliance_none(),
    )
    assert all(math.isnan(v) for v in empty.values())


BENCH = pd.DataFrame(
    {
        "branch_id": ["A", "A", "B", "C"],
        "month": ["2026-09", "2026-10", "2026-10", "2026-10"],
        **{k: [0.1, 0.2, 0.4, float("nan")] for k in risk.KPI_KEYS},
    }
)


def test_last_period_and_bank_median():
    # the previous period defaults to the month before
    prev, bank = risk.kpi_context(BENCH, branch_id="A", period="2026-10")
    assert prev["npl_ratio"] == approx(0.1)
    assert bank["npl_ratio"] == approx(0.3)  # median of A 0.2 and B 0.4; C has no value
    prev, _ = risk.kpi_context(BENCH, branch_id="B", period="2026-10")
    assert math.isnan(prev["npl_ratio"])  # no row last period: missing, not 0


def test_card_frame_reads_the_declarations():
    prev, _ = risk.kpi_context(BENCH, branch_id="A", period="2026-10")
    t = risk.kpi_cards(
        {"npl_ratio": 0.2},
        prev,
        bench=BENCH,
        branch_id="A",
        period="2026-10",
        rag=Settings().kpi_status,
    ).set_index("kpi")
    assert t.index.tolist() == list(risk.KPI_KEYS)
    assert t.loc["npl_ratio", ["value", "previous", "bank_median"]].tolist() == approx(
        [0.2, 0.1, 0.3]
    )
    assert t.loc["npl_ratio", "change"] == approx(0.1)
    # lower is better: A (0.2) ranks first of the two branches with a value
    assert t.loc["npl_ratio", "rank"] == 1.0 and t.loc["npl_ratio", "branches"] == 2.0
    assert t.loc["npl_ratio", "status"] == "red"  # 20% against green 1.5%, amber 3%
    assert math.isnan(t.loc["top10_share", "value"])  # not given: missing, not 0
    assert pd.isna(t.loc["top10_share", "status"])  # no value, no colour
