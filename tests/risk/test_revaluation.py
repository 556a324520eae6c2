"""Collateral revaluation: the due day, the boundary, the statuses and the overdue list,
by hand."""

import datetime as dt

import pandas as pd
import pytest
from pydantic import ValidationError

from branchbook import params, risk
from branchbook.errors import ParamsError
from branchbook.risk import Settings
from branchbook.risk.revaluation import add_months, months_between

END = dt.date(2026, 10, 31)  # the period's last day
MONTHS = {"real_estate": 12, "equipment": 6, "receivables": 3, "deposit": 1}


def d(y, m, day):
    return dt.date(y, m, day)


def _book(rows):
    cols = ["loan_id", "customer_id", "name", "manager_id", "collateral_type",
            "collateral_value", "collateral_valued_on"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def test_months_are_calendar_months_clipped_to_the_month_end():
    assert add_months(d(2026, 8, 31), 6) == d(2027, 2, 28)
    assert add_months(d(2023, 8, 31), 6) == d(2024, 2, 29)
    assert add_months(d(2025, 10, 31), 12) == d(2026, 10, 31)
    assert months_between(d(2025, 10, 31), END) == 12
    assert months_between(d(2025, 9, 30), END) == 13
    assert months_between(d(2025, 11, 1), END) == 11  # one day short of 12 months
    assert months_between(d(2026, 10, 1), END) == 0
    assert months_between(d(2026, 4, 30), END) == 6  # 30 April + 6 months = 30 October
    assert months_between(d(2026, 11, 30), END) == -1  # after the end: negative


def test_thirteen_months_is_overdue_exactly_twelve_is_not():
    """Boundary rule: overdue when the period's end is after the due day (valuation day
    plus the interval); on the due day itself it is not yet overdue."""
    book = _book([
        ("L1", "C1", "张三", "S1", "real_estate", 100.0, d(2025, 9, 30)),   # 13 months: overdue
        ("L2", "C2", "李四", "S1", "real_estate", 100.0, d(2025, 10, 31)),  # exactly 12: not
        ("L3", "C3", "王五", "S2", "real_estate", 100.0, d(2025, 10, 15)),  # due 15 Oct: overdue
        ("L4", "C4", "赵六", "S2", "real_estate", 100.0, None),             # no date
        ("L5", "C5", "钱七", None, "none", None, None),                     # unsecured
        ("L6", "C6", "孙八", "S1", "guarantee", 50.0, d(2020, 1, 1)),       # not revalued
        ("L7", "C7", "周九", "S1", "equipment", 80.0, d(2026, 11, 5)),      # after the end
        ("L8", "C8", "吴十", "S1", "deposit", 30.0, d(2026, 9, 30)),        # 1 month: due 30 Oct
        ("L9", "C9", "郑一", "S1", "deposit", 30.0, pd.NaT),                # NaT: no date
    ])  # fmt: skip
    s = risk.revaluation_status(book, as_of=END, months=MONTHS).set_index("loan_id")
    assert s["revaluation"].to_dict() == {
        "L1": "overdue", "L2": "not_due", "L3": "overdue", "L4": "no_date", "L5": s.loc["L5", "revaluation"],
        "L6": "no_interval", "L7": "after_end", "L8": "overdue", "L9": "no_date",
    }  # fmt: skip
    assert pd.isna(s.loc["L5", "revaluation"])  # no collateral value: no status
    assert s.loc["L1", "months_since"] == 13 and s.loc["L2", "months_since"] == 12
    assert s.loc["L3", "months_since"] == 12  # 12 whole months, but past its due day
    assert s.loc["L1", "due_on"] == d(2026, 9, 30) and s.loc["L2", "due_on"] == END
    assert pd.isna(s.loc["L4", "months_since"]) and s.loc["L4", "due_on"] is None
    counts = risk.revaluation_counts(s.reset_index())
    assert counts == {"not_due": 1, "overdue": 3, "no_date": 2, "after_end": 1, "no_interval": 1}
    # the period's end as ISO text, as the prepared meta gives it, reads the same
    again = risk.revaluation_status(book, as_of="2026-10-31", months=MONTHS)
    assert again["revaluation"].tolist() == s["revaluation"].tolist()
    assert book.columns.tolist()[-1] == "collateral_valued_on"  # the input is not changed


def test_overdue_list_longest_overdue_first_names_masked_manager_by_name():
    book = _book([
        ("L1", "C1", "张三丰", "S1", "real_estate", 100.0, d(2025, 9, 30)),
        ("L2", "C2", "李四", "S2", "receivables", 500.0, d(2026, 7, 1)),   # due 1 Oct
        ("L3", "C3", "王五", "S9", "real_estate", 900.0, d(2024, 1, 15)),  # due Jan 2025
        ("L4", "C4", "赵六", None, "equipment", 10.0, d(2026, 4, 29)),     # due 29 Oct
        ("L5", "C5", "钱七", "S1", "real_estate", 100.0, d(2026, 1, 1)),   # not due
    ])  # fmt: skip
    staff = pd.DataFrame({"staff_id": ["S1", "S2"], "name": ["刘经理", "陈经理"]})
    s = risk.revaluation_status(book, as_of=END, months=MONTHS)
    out = risk.overdue_revaluations(s, staff=staff)
    assert out["loan_id"].tolist() == ["L3", "L1", "L2", "L4"]
    assert out["name"].tolist() == ["王*", "张**", "李*", "赵*"]
    assert out["manager_name"].tolist() == ["S9", "刘经理", "陈经理", ""]
    assert out["months_since"].tolist() == [33, 13, 3, 6]
    assert out["due_on"].tolist() == [
        d(2025, 1, 15),
        d(2026, 9, 30),
        d(2026, 10, 1),
        d(2026, 10, 29),
    ]
    assert out.columns.tolist() == [
        "loan_id", "customer_id", "name", "manager_name", "collateral_type",
        "collateral_value", "collateral_valued_on", "months_since", "due_on",
    ]  # fmt: skip
    # an interval changed in the parameters changes the verdict: equipment every 12 months
    longer = risk.revaluation_status(book, as_of=END, months={**MONTHS, "equipment": 12})
    assert "L4" not in risk.overdue_revaluations(longer)["loan_id"].tolist()


def test_an_empty_book_has_no_overdue_loans():
    s = risk.revaluation_status(_book([]), as_of=END, months=MONTHS)
    assert risk.revaluation_counts(s) == dict.fromkeys(risk.revaluation.STATUSES, 0)
    assert risk.overdue_revaluations(s).empty


def test_revaluation_months_defaults_and_strict_validation():
    s = Settings()
    assert s.revaluation_months == MONTHS
    # a file names only the intervals it changes
    assert Settings.model_validate({"revaluation_months": {"equipment": 3}}).revaluation_months == {
        **MONTHS,
        "equipment": 3,
    }
    for bad in ({"guarantee": 12}, {"boat": 6}, {"real_estate": 0}, {"real_estate": 1.5},
                {"real_estate": "12"}, {"deposit": True}, {"real_estate": 121}):  # fmt: skip
        with pytest.raises(
            ValidationError, match="revaluation_months are expected as whole months"
        ):
            Settings.model_validate({"revaluation_months": bad})


def test_a_bad_interval_in_a_branch_file_is_one_line_naming_the_file_and_key(tmp_path):
    folder = tmp_path / "params"
    (folder / "branches").mkdir(parents=True)
    (folder / "bank.yaml").write_text(
        "bank_name: {en: Demo Bank, zh-CN: 示范银行}\nlocale: en\n", encoding="utf-8"
    )
    (folder / "branches" / "0101.yaml").write_text(
        "risk: {revaluation_months: {real_estate: 0}}\n", encoding="utf-8"
    )
    with pytest.raises(ParamsError) as exc:
        params.ParamSet(folder, {"risk": Settings}).for_branch("0101")
    line = str(exc.value)
    assert "0101.yaml" in line and "risk.revaluation_months" in line
    assert "whole months from 1 to 120" in line and "\n" not in line.strip()


@pytest.mark.slow
def test_overdue_count_matches_the_warehouse_by_its_own_sql(small_bank):
    """Per branch of the demo bank: the loans the report lists as overdue for
    revaluation (from the prepared ``risk_loans``) are the ones a separate query on the
    warehouse finds: on the book at the period's end, with a collateral value, valued on
    or before the period's end, and their interval in months after it before the end."""
    import duckdb

    from branchbook.period import Period

    period = Period.parse(max(p.name for p in (small_bank / "build").iterdir() if p.name[0] == "2"))
    extracts = small_bank / "build" / str(period) / "prepared" / "extracts"
    con = duckdb.connect(str(small_bank / "build" / "demo" / "warehouse.duckdb"), read_only=True)
    truth = con.execute(
        """SELECT l.branch_id, l.loan_id FROM loans l
           JOIN loan_snapshots s ON s.loan_id = l.loan_id AND s.month = $m AND s.outstanding > 0
           WHERE l.collateral_value > 0 AND l.collateral_valued_on <= $end
             AND l.collateral_valued_on + to_months(CASE l.collateral_type
                 WHEN 'real_estate' THEN 12 WHEN 'equipment' THEN 6
                 WHEN 'receivables' THEN 3 WHEN 'deposit' THEN 1 END) < $end""",
        {"m": str(period), "end": period.end},
    ).df()
    branches = sorted(p.name for p in extracts.iterdir() if (p / "risk_loans.parquet").exists())
    assert len(branches) == 2
    total = 0
    for branch in branches:
        book = pd.read_parquet(extracts / branch / "risk_loans.parquet")
        status = risk.revaluation_status(
            book, as_of=period.end, months=Settings().revaluation_months
        )
        listed = risk.overdue_revaluations(status)["loan_id"]
        expected = truth.loc[truth["branch_id"] == branch, "loan_id"]
        assert sorted(listed) == sorted(expected), branch
        assert risk.revaluation_counts(status)["overdue"] == len(expected)
        total += len(expected)
    assert total > 0  # the demo plants overdue revaluations


@pytest.mark.slow
def test_without_valuation_dates_the_report_says_not_recorded_never_none_overdue(
    small_bank, tmp_path
):
    """A warehouse without ``loans.collateral_valued_on``: the risk report keeps LTV,
    says the dates are not recorded, and has no overdue list (empty or otherwise)."""
    import shutil

    import duckdb

    from branchbook.runner.orchestrate import run

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        branch = con.execute("SELECT min(branch_id) FROM branches").fetchone()[0]
        con.execute("ALTER TABLE loans DROP COLUMN collateral_valued_on")
    result = run(
        "2026-10", branches=[branch], reports=["risk"], formats=("html",), warehouse=wh,
        params_dir=small_bank / "params", out=tmp_path / "reports", build_dir=tmp_path / "build",
        progress=False, warm=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.failed
    folder = tmp_path / "reports" / "2026-10" / branch
    page = (folder / "risk.html").read_text(encoding="utf-8")
    assert "Revaluation dates not recorded" in page
    assert (
        "overdue for revaluation at" not in page and "No loan's collateral is overdue" not in page
    )
    assert "Loan-to-value" in page or "LTV" in page
    if (folder / "risk.xlsx").exists():  # the early-warning list may make a workbook
        from openpyxl import load_workbook

        assert "revaluations_overdue" not in load_workbook(folder / "risk.xlsx").sheetnames
