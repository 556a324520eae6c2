"""Manager development (training hours, years, certification against the grade) and the
indicative pay breakdown, on managers whose answers are known."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from branchbook import staff_kpi
from branchbook.coverage import need
from branchbook.staff_kpi.settings import Development, Settings

D = Development()
PERIOD = "2026-10"  # training window 2025-11-01 .. 2026-10-31


def staff() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3", "S4", "S5"],
            "name": ["张伟", "李娜", "王强", "赵敏", "钱多"],
            "grade": ["professional", "professional", "senior", "assistant", "senior"],
            "hired_on": pd.to_datetime(
                ["2020-01-01", "2024-06-01", "2010-03-01", "2025-09-01", "2001-01-01"]
            ),
            "active": [True, True, True, True, False],
        }
    )


def training() -> pd.DataFrame:
    rows = [
        ("S1", "2025-11-01", 50.0, "Credit risk"),  # first day of the window: counted
        ("S1", "2026-10-31", 40.0, "Sales skills"),  # last day: counted
        ("S2", "2026-03-10", 70.0, "Compliance and AML"),
        ("S2", "2025-10-31", 20.0, "Credit risk"),  # the day before: not counted
        ("S2", "2026-11-01", 30.0, "Credit risk"),  # after the period: not counted
        ("S3", "2026-05-05", 100.0, "Wealth management"),
        ("S5", "2026-05-05", 10.0, "Wealth management"),
    ]
    return pd.DataFrame(rows, columns=["staff_id", "completed_on", "hours", "course"])


def certifications() -> pd.DataFrame:
    rows = [
        ("S1", "primary", "2021-01-01"),
        ("S2", "primary", "2025-01-01"),
        ("S3", "primary", "2012-01-01"),
        ("S3", "intermediate", "2026-11-15"),  # after the period end: not yet held
    ]
    return pd.DataFrame(rows, columns=["staff_id", "certification", "obtained_on"])


def test_development_by_hand_lists_the_managers_short_of_hours_or_certification():
    t = staff_kpi.development_table(
        staff(), training(), certifications(), period=PERIOD, settings=D
    ).set_index("staff_id")
    assert list(t.index) == ["S2", "S3", "S4", "S1"]  # the listed first, inactive S5 left out
    assert t["training_hours"].to_dict() == {"S2": 70.0, "S3": 100.0, "S4": 0.0, "S1": 90.0}
    assert t["hours_short"].to_dict() == {"S2": 10.0, "S3": 0.0, "S4": 80.0, "S1": 0.0}
    assert t["certification"].to_dict() == {
        "S2": "primary", "S3": "primary", "S4": "none", "S1": "primary",
    }  # fmt: skip
    assert t["certification_required"]["S3"] == "intermediate"
    assert t["short"].to_dict() == {"S2": True, "S3": True, "S4": True, "S1": False}
    assert t["certification_short"].to_dict() == {"S2": False, "S3": True, "S4": False, "S1": False}
    # years to 2026-10-31: S2 hired 2024-06-01, 882 days, short of the professional's 3
    assert t.loc["S2", "years"] == pytest.approx(882 / 365.25)
    assert t["years_short"].to_dict() == {"S2": True, "S3": False, "S4": False, "S1": False}
    assert staff_kpi.development_counts(t) == {
        "managers": 4, "hours_short": 2, "certification_short": 1, "short": 3, "years_short": 1,
    }  # fmt: skip


def test_requirements_come_from_the_parameters():
    s = Settings.model_validate(
        {"development": {"training_hours": 60, "grade_certification": {
            "assistant": "none", "professional": "none", "senior": "primary"}}}
    ).development  # fmt: skip
    t = staff_kpi.development_table(
        staff(), training(), certifications(), period=PERIOD, settings=s
    )
    assert sorted(t.loc[t["short"], "staff_id"]) == ["S4"]
    with pytest.raises(ValueError, match="grade_years"):
        Settings.model_validate({"development": {"grade_years": {"senior": 5}}})
    with pytest.raises(ValueError, match="commission_rates"):
        Settings.model_validate({"development": {"commission_rates": {"cards": 0.01}}})


def test_training_window_is_the_twelve_months_to_the_period_end():
    first, last = staff_kpi.training_window(PERIOD)
    assert (str(first.date()), str(last.date())) == ("2025-11-01", "2026-10-31")
    assert str(staff_kpi.training_window("2026-02", 3)[0].date()) == "2025-12-01"


def test_indicative_pay_by_hand():
    scorecard = pd.DataFrame(
        {
            "month": [PERIOD, PERIOD, PERIOD, "2026-09"],
            "staff_id": ["S1", "S2", "S3", "S1"],
            "staff_name": ["张伟", "李娜", "王强", "张伟"],
            "grade": ["professional", "professional", "senior", "professional"],
            "rating": ["A", pd.NA, "D", "B"],
        }
    )
    loans = pd.DataFrame(
        {
            "manager_id": ["S1", "S1", "S3", "S1"],
            "product": ["mortgage", "consumer", "business", "consumer"],
            "originated_on": pd.to_datetime(
                ["2026-10-01", "2026-10-31", "2026-10-15", "2026-09-30"]
            ),
            "principal": [1_000_000.0, 50_000.0, 200_000.0, 80_000.0],
        }
    )
    coef = {"A": 1.3, "B": 1.1, "C": 0.9, "D": 0.5}
    t = staff_kpi.pay_table(scorecard, loans, period=PERIOD, settings=D, coefficients=coef)
    t = t.set_index("staff_id")
    # S1: 9000 + 5000 x 1.3 + (1,000,000 x 0.05% + 50,000 x 0.2%) = 9000 + 6500 + 600
    assert t.loc["S1", ["base", "bonus", "commission", "total"]].tolist() == pytest.approx(
        [9000.0, 6500.0, 600.0, 16100.0]
    )
    # S2 not rated: no bonus, no total; S3: 14000 + 8000 x 0.5 + 200,000 x 0.1%
    assert np.isnan(t.loc["S2", "bonus"]) and np.isnan(t.loc["S2", "total"])
    assert t.loc["S2", "rating"] == "none" and t.loc["S2", "commission"] == 0.0
    assert t.loc["S3", "total"] == pytest.approx(14000 + 4000 + 200)


def test_the_section_needs_both_tables():
    for table in ("staff_training", "staff_certifications"):
        n = need(table)
        assert n.tier == "section" and n.uses == ("staff_kpi.development",)


@pytest.mark.slow
def test_hours_and_certification_match_the_warehouse_by_its_own_sql(small_bank):
    """Per branch of the demo bank: each active manager's training hours over the twelve
    months to the period end, highest certification then and years since hiring, as a separate query on
    the warehouse gives them; the demo plants managers short of each."""
    from branchbook.period import Period

    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    extracts = small_bank / "build" / str(period) / "prepared" / "extracts"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    truth = con.execute(
        """SELECT s.branch_id, s.staff_id,
                  coalesce((SELECT sum(hours) FROM staff_training t WHERE t.staff_id = s.staff_id
                            AND t.completed_on BETWEEN $first AND $last), 0) AS hours,
                  coalesce((SELECT max(CASE certification WHEN 'primary' THEN 1
                                   WHEN 'intermediate' THEN 2 WHEN 'advanced' THEN 3 END)
                            FROM staff_certifications c WHERE c.staff_id = s.staff_id
                            AND c.obtained_on <= $last), 0) AS level,
                  date_diff('day', s.hired_on, $last) / 365.25 AS years
           FROM staff s WHERE s.active""",
        {"first": period.shift(-11).start, "last": period.end},
    ).df()
    levels = ["none", "primary", "intermediate", "advanced"]
    short = 0
    for branch, want in truth.groupby("branch_id"):
        x = {t: pd.read_parquet(extracts / branch / f"{t}.parquet")
             for t in ("staff", "staff_training", "staff_certifications")}  # fmt: skip
        got = staff_kpi.development_table(
            x["staff"], x["staff_training"], x["staff_certifications"], period=str(period),
            settings=D,
        ).set_index("staff_id")  # fmt: skip
        want = want.set_index("staff_id")
        assert sorted(got.index) == sorted(want.index), branch
        assert got["training_hours"].to_dict() == pytest.approx(want["hours"].to_dict())
        assert got["certification"].to_dict() == {k: levels[v] for k, v in want["level"].items()}
        assert got["years"].to_dict() == pytest.approx(want["years"].to_dict())
        short += int(got["short"].sum())
    assert 0 < short < len(truth)
