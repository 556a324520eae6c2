import re

import duckdb
import numpy as np
import pytest

from branchbook import demo
from branchbook.contract import TABLES, check
from branchbook.errors import BranchbookError
from branchbook.warehouse import fingerprint, open_warehouse

SMALL = {"branches": 3, "customers": 2000, "months": 13}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = demo.build(tmp_path_factory.mktemp("demo") / "warehouse.duckdb", **SMALL)
    return open_warehouse(path)


@pytest.fixture(scope="module")
def stories(small):
    ids = [r[0] for r in small.execute("SELECT branch_id FROM branches ORDER BY 1").fetchall()]
    return demo.story_branches(ids)


def months(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT month FROM balances ORDER BY 1").fetchall()]


def one(con, sql: str, *params):
    return con.execute(sql, list(params)).fetchone()[0]


def test_same_seed_same_data_other_seed_other_data(small, tmp_path):
    again = open_warehouse(demo.build(tmp_path / "again.duckdb", **SMALL))
    other = open_warehouse(demo.build(tmp_path / "other.duckdb", **SMALL, seed=7))
    assert fingerprint(again) == fingerprint(small)
    changed = fingerprint(other)
    assert all(changed[t] != v for t, v in fingerprint(small).items() if t != "branches")


def test_passes_the_data_contract(small):
    report = check(small)
    assert report.errors == []
    assert {v.rule for v in report.warnings} <= {"stale_complaint", "empty_survey"}


def test_every_table_has_rows_and_the_declared_types(small):
    for name, table in TABLES.items():
        assert one(small, f"SELECT count(*) FROM {name}") > 0, name
        described = {r[0]: r[1] for r in small.execute(f"DESCRIBE {name}").fetchall()}
        assert described == table.types


def test_branches_regions_and_staff(small):
    rows = small.execute(
        "SELECT branch_id, name, name_zh, region FROM branches ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["0101", "0102", "0103"]
    assert rows[0][1:] == ("Pudong Lujiazui Sub-branch", "浦东陆家嘴支行", "East")
    grades = small.execute(
        "SELECT branch_id, count(DISTINCT grade) FROM staff WHERE active GROUP BY 1"
    ).fetchall()
    assert sorted(grades) == [("0101", 3), ("0102", 3), ("0103", 3)]
    per_manager = one(
        small,
        "SELECT count(*) / count(DISTINCT manager_id) FROM customers WHERE manager_id IS NOT NULL",
    )
    assert 100 <= per_manager <= 260


def test_three_hundred_branches_get_systematic_unique_names(tmp_path):
    con = open_warehouse(
        demo.build(tmp_path / "wide.duckdb", branches=300, customers=3000, months=2)
    )
    assert one(con, "SELECT count(DISTINCT branch_id) FROM branches") == 300
    assert one(con, "SELECT count(DISTINCT name) FROM branches") == 300
    assert one(con, "SELECT count(DISTINCT name_zh) FROM branches") == 300
    assert (
        one(con, "SELECT count(*) FROM branches WHERE NOT regexp_full_match(branch_id, '[0-9]{4}')")
        == 0
    )
    assert one(con, "SELECT count(*) FROM branches WHERE name_zh NOT LIKE '%支行'") == 0


def test_customers_look_real(small):
    df = small.execute("SELECT * FROM customers").df()
    corporate = df.customer_type == "corporate"
    assert 0.06 < corporate.mean() < 0.14
    assert (
        df.loc[corporate, "industry"].notna().all() and df.loc[~corporate, "industry"].isna().all()
    )
    assert df.loc[corporate, "name"].str.endswith("有限公司").all()
    assert df.phone.str.fullmatch(r"1[3-9][0-9]{9}").all()
    assert (df.id_number.str.len() == 18).all()
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    for number, birth, gender in (
        df.loc[~corporate, ["id_number", "birth_date", "gender"]].head(200).values
    ):
        check_digit = "10X98765432"[
            sum(int(c) * w for c, w in zip(number[:17], weights, strict=True)) % 11
        ]
        assert number[17] == check_digit
        assert number[6:14] == birth.strftime("%Y%m%d")
        assert int(number[16]) % 2 == (1 if gender == "M" else 0)
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for code in df.loc[corporate, "id_number"].head(100):
        total = sum(chars.index(c) * pow(3, i, 31) for i, c in enumerate(code[:17]))
        assert code[17] == chars[(31 - total % 31) % 31]
    assert 0.85 < df.manager_id.notna().mean() < 0.99
    assert (df.kyc_status == "complete").mean() > 0.85


def test_balances_are_skewed_and_persistent(small):
    last = months(small)[-1]
    aum = np.array([r[0] for r in small.execute(
        "SELECT deposits + wealth FROM balances WHERE month = ?", [last]).fetchall()])  # fmt: skip
    assert np.mean(aum) > 2 * np.median(aum)
    assert 0.01 < np.mean(aum > 500_000) < 0.15
    corr = one(
        small,
        """
        SELECT corr(ln(a.deposits + a.wealth + 1), ln(b.deposits + b.wealth + 1))
        FROM balances a JOIN balances b ON a.customer_id = b.customer_id
         AND b.month = strftime(strptime(a.month, '%Y-%m') + INTERVAL 1 MONTH, '%Y-%m')
        """,
    )
    assert corr > 0.9
    rho = one(small, "SELECT corr(ln(deposits + wealth + 1), products_held) FROM balances")
    assert rho > 0.3
    per_month = one(small, "SELECT (SELECT count(*) FROM transactions) / count(*) FROM balances")
    assert 1.5 < per_month < 3.0
    assert one(small, "SELECT mode(channel) FROM transactions") == "mobile"


def test_loans_are_consistent_with_balances(small):
    mismatch = one(
        small,
        """
        SELECT count(*) FROM balances b
        LEFT JOIN (SELECT l.customer_id, s.month, sum(s.outstanding) AS o FROM loan_snapshots s
                   JOIN loans l USING (loan_id) GROUP BY ALL) x USING (customer_id, month)
        WHERE abs(b.loans_outstanding - coalesce(x.o, 0)) > 1
        """,
    )
    assert mismatch == 0
    # five-class follows dpd, except loans classed late: special mention at 91-180 days
    classes = """
        SELECT count(*) FILTER (WHERE five_class <> CASE
            WHEN dpd > 360 THEN 'loss' WHEN dpd > 180 THEN 'doubtful'
            WHEN dpd > 90 THEN 'substandard' WHEN dpd > 0 THEN 'special_mention'
            ELSE five_class END AND NOT (five_class = 'special_mention' AND dpd BETWEEN 91 AND 180)),
            count(*) FILTER (WHERE five_class = 'special_mention' AND dpd BETWEEN 91 AND 180),
            count(*) FILTER (WHERE dpd BETWEEN 91 AND 180)
        FROM loan_snapshots
        """
    wrong_class, late, past_due = small.execute(classes).fetchone()
    assert wrong_class == 0
    assert 0 < late < 0.4 * past_due
    mortgages = small.execute(
        "SELECT collateral_type, principal / collateral_value FROM loans WHERE product = 'mortgage'"
    ).fetchall()
    assert {c for c, _ in mortgages} == {"real_estate"}
    assert 0.1 < np.mean([ltv > 0.7 for _, ltv in mortgages]) < 0.4


def npl(con, branch: str | None, month: str) -> float:
    where = "AND l.branch_id = ?" if branch else "AND ? IS NULL"
    return one(
        con,
        f"""
        SELECT sum(outstanding) FILTER (WHERE five_class IN ('substandard', 'doubtful', 'loss'))
               / sum(outstanding)
        FROM loan_snapshots s JOIN loans l USING (loan_id) WHERE s.month = ? {where}
        """,
        month,
        branch,
    )


def test_story_npl_rises(small, stories):
    ms = months(small)
    branch = stories["npl_rise"]
    assert npl(small, branch, ms[-1]) > npl(small, branch, ms[-7]) + 0.02
    assert 0.003 < npl(small, None, ms[0]) < 0.05


def test_story_satisfaction_falls(small, stories):
    ms = months(small)
    branch = stories["satisfaction_drop"]
    sql = """
        SELECT avg(csat), avg((nps >= 9)::INT) - avg((nps <= 6)::INT) FROM surveys
        WHERE branch_id = ? AND strftime(responded_on, '%Y-%m') BETWEEN ? AND ?
    """
    csat_before, nps_before = small.execute(sql, [branch, ms[-12], ms[-7]]).fetchone()
    csat_after, nps_after = small.execute(sql, [branch, ms[-6], ms[-1]]).fetchone()
    assert csat_after < csat_before - 0.2
    assert nps_after < nps_before - 0.15
    complaints = """
        SELECT count(*) FROM complaints
        WHERE branch_id = ? AND strftime(received_at, '%Y-%m') BETWEEN ? AND ?
    """
    assert one(small, complaints, branch, ms[-6], ms[-1]) > one(
        small, complaints, branch, ms[-12], ms[-7]
    )


def test_story_top_customers_go_dormant(small, stories):
    ms = months(small)
    branch = stories["dormant_top_customers"]
    top = [r[0] for r in small.execute(
        """
        SELECT b.customer_id FROM balances b JOIN customers c USING (customer_id)
        WHERE c.branch_id = ? AND b.month = ?
          AND b.customer_id IN (SELECT customer_id FROM transactions WHERE strftime(txn_date, '%Y-%m') = ?)
          AND b.customer_id IN (SELECT customer_id FROM balances WHERE month = ?)
        ORDER BY b.deposits + b.wealth DESC LIMIT 5
        """,
        [branch, ms[-5], ms[-5], ms[-1]],
    ).fetchall()]  # fmt: skip
    assert len(top) == 5
    recent = one(
        small,
        "SELECT count(*) FROM transactions WHERE list_contains(?, customer_id) AND txn_date >= ?::DATE",
        top,
        ms[-4] + "-01",
    )
    assert recent == 0
    aum = dict(small.execute(
        "SELECT month, sum(deposits + wealth) FROM balances WHERE list_contains(?, customer_id) GROUP BY 1",
        [top],
    ).fetchall())  # fmt: skip
    assert aum[ms[-1]] < 0.5 * aum[ms[-5]]


def test_story_one_manager_ahead_one_behind(small, stories):
    branch = stories["manager_spread"]
    star, laggard = [r[0] for r in small.execute(
        "SELECT staff_id FROM staff WHERE branch_id = ? AND grade = 'professional' AND active ORDER BY 1 LIMIT 2",
        [branch],
    ).fetchall()]  # fmt: skip
    ms = months(small)
    sql = """
        WITH won AS (SELECT count(*) AS n FROM customers WHERE manager_id = $1 AND opened_on >= $2::DATE),
        target AS (SELECT sum(target) AS t FROM targets WHERE staff_id = $1 AND kpi = 'new_customers'),
        book AS (SELECT b.month, sum(b.deposits + b.wealth) AS aum FROM balances b
                 JOIN customers c USING (customer_id) WHERE c.manager_id = $1 GROUP BY 1)
        SELECT (SELECT n FROM won) / (SELECT t FROM target),
               (SELECT aum FROM book WHERE month = $3) / (SELECT aum FROM book WHERE month = $4)
    """
    star_won, star_growth = small.execute(sql, [star, ms[0] + "-01", ms[-1], ms[0]]).fetchone()
    lag_won, lag_growth = small.execute(sql, [laggard, ms[0] + "-01", ms[-1], ms[0]]).fetchone()
    assert star_won > 1.2 > 0.4 > lag_won
    assert star_growth > 1.0 > lag_growth


def test_surveys_follow_the_known_weights(small):
    rows = small.execute(
        "SELECT csat, attitude, professionalism, wait_time FROM surveys "
        "WHERE attitude IS NOT NULL AND professionalism IS NOT NULL AND wait_time IS NOT NULL"
    ).fetchall()
    y, *x = np.array(rows, dtype=float).T
    corr = [np.corrcoef(y, column)[0, 1] for column in x]
    assert corr[0] > corr[2] and corr[1] > corr[2] > 0
    assert sum(demo.SATISFACTION_WEIGHTS.values()) == pytest.approx(1.0)
    share = one(
        small, "SELECT count(DISTINCT customer_id) / (SELECT count(*) FROM customers) FROM surveys"
    )
    assert 0.15 < share < 0.45


def test_complaints_timing(small):
    within_day, within_3_days, still_open = small.execute(
        """
        SELECT avg((first_response_at <= received_at + INTERVAL 24 HOUR)::INT),
               avg((plan_at <= received_at + INTERVAL 72 HOUR)::INT),
               count(*) FILTER (WHERE resolved_at IS NULL)
        FROM complaints
        """
    ).fetchone()
    assert 0.8 < within_day < 1.0 and 0.8 < within_3_days < 1.0 and still_open > 0


def test_story_branches_for_small_builds():
    assert demo.story_branches(["0101", "0102", "0103", "0104", "0201", "0301"]) == {
        name: story["branch_id"] for name, story in demo.STORIES.items()
    }
    assert demo.story_branches(["0101", "0102", "0103"]) == {
        "npl_rise": "0102",
        "satisfaction_drop": "0101",
        "dormant_top_customers": "0102",
        "manager_spread": "0103",
    }
    assert set(demo.story_branches(["0101"]).values()) == {"0101"}


def test_failed_build_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "warehouse.duckdb"
    target.write_bytes(b"previous")

    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo._Bank, "make_targets", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        demo.build(target, branches=1, customers=200, months=2)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["warehouse.duckdb"]


def test_arguments_are_checked(tmp_path):
    for kwargs in ({"branches": 0}, {"customers": 5}, {"months": 0}, {"end_month": "2026-13"},
                   {"end_month": "Oct 2026"}):  # fmt: skip
        with pytest.raises(BranchbookError):
            demo.build(tmp_path / "x.duckdb", **kwargs)
    assert not (tmp_path / "x.duckdb").exists()


def test_command_line(tmp_path, capsys):
    out = tmp_path / "cli.duckdb"
    code = demo.main(["--out", str(out), "--branches", "2", "--customers", "300", "--months", "3",
                      "--end-month", "2025-12", "--seed", "3"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert re.search(r"customers\s+300", printed)
    con = duckdb.connect(str(out), read_only=True)
    assert con.execute("SELECT max(month) FROM balances").fetchone() == ("2025-12",)
    assert demo.main(["--out", str(out), "--end-month", "2025/12"]) == 2


def test_alerts_and_kyc_carry_dated_history(small):
    """Alerts are closed or reported after a delay, so the count open at each month's
    end is steady (not rising towards the last month, as today's status would make it);
    each customer's KYC history ends at today's status."""
    by_status = dict(
        small.execute("SELECT status, count(closed_on) FROM aml_alerts GROUP BY 1").fetchall()
    )
    assert by_status["open"] == 0 and by_status["closed"] > 0 and by_status["reported"] > 0
    assert (
        one(small, "SELECT count(*) FROM aml_alerts WHERE status <> 'open' AND closed_on IS NULL")
        == 0
    )
    open_at = [
        one(
            small,
            "SELECT count(*) FROM aml_alerts WHERE raised_on <= last_day(CAST(? || '-01' AS DATE)) "
            "AND (closed_on IS NULL OR closed_on > last_day(CAST(? || '-01' AS DATE)))",
            m,
            m,
        )
        for m in months(small)[3:]
    ]
    assert max(open_at) < 2.5 * min(open_at)
    last = small.execute(
        "SELECT count(*), count(*) FILTER (WHERE k.kyc_status <> c.kyc_status) FROM customers c "
        "JOIN (SELECT * FROM kyc_history QUALIFY row_number() OVER "
        "(PARTITION BY customer_id ORDER BY valid_from DESC) = 1) k USING (customer_id)"
    ).fetchone()
    assert last[0] == SMALL["customers"] and last[1] == 0
    assert one(small, "SELECT count(DISTINCT kyc_status) FROM kyc_history") == 3


def test_loans_off_the_book_say_why(small):
    last = months(small)[-1]
    reasons = dict(small.execute("SELECT closed_reason, count(*) FROM loans GROUP BY 1").fetchall())
    assert reasons["repaid"] > reasons.get("written_off", 0) > 0
    assert reasons.get("restructured", 0) > 0
    # a loan on the book at the end has no reason; one without a snapshot then has one
    on_book = (
        "SELECT count(*) FROM loans l JOIN loan_snapshots s USING (loan_id) "
        f"WHERE s.month = '{last}' AND s.outstanding > 0 AND l.closed_reason IS NOT NULL"
    )
    assert one(small, on_book) == 0


def test_credit_lines_have_undrawn_commitments(small):
    by_product = dict(
        small.execute(
            "SELECT l.product, sum(s.undrawn) FROM loan_snapshots s JOIN loans l USING (loan_id) "
            "GROUP BY 1"
        ).fetchall()
    )
    assert by_product["working_capital"] > 0 and by_product["trade_finance"] > 0
    assert by_product["mortgage"] == 0 and by_product["consumer"] == 0
    frozen = "SELECT count(*) FROM loan_snapshots WHERE dpd > 0 AND undrawn > 0"
    assert one(small, frozen) == 0  # a line in arrears is frozen


def test_average_daily_balances_follow_the_month_ends(small):
    """日均 lies near the mean of last month's end and this month's for a customer open
    the whole month, and well below the month end for one opened mid-month."""
    rows = small.execute(
        """
        SELECT b.deposits + b.wealth AS aum, b.deposits_avg + b.wealth_avg AS avg,
               lag(b.deposits + b.wealth) OVER (PARTITION BY b.customer_id ORDER BY b.month) AS prev,
               c.opened_on > CAST(b.month || '-01' AS DATE) AS opened_in_month
        FROM balances b JOIN customers c USING (customer_id)
        """
    ).df()
    assert rows["avg"].notna().all() and (rows["avg"] >= 0).all()
    whole = rows[~rows["opened_in_month"] & rows["prev"].notna()]
    path = (whole["prev"] + whole["aum"]) / 2
    ratio = whole["avg"] / path.where(path > 0)
    assert ratio.median() == pytest.approx(1.0, abs=0.01)
    assert ratio.quantile(0.01) > 0.85 and ratio.quantile(0.99) < 1.15  # daily noise only
    new = rows[rows["opened_in_month"]]
    assert len(new) > 50
    assert (new["avg"] <= new["aum"] * 0.55).mean() > 0.95  # from 0, and 0 before opening


def test_collateral_values_carry_plausible_valuation_dates(small):
    """Loans on the book at the end: most real estate revalued within 12 months, some
    overdue; deposits marked within a month; a few values without a date; no date after
    the data's end and none on an unsecured loan or a guarantee."""
    last = months(small)[-1]
    end = f"last_day(DATE '{last}-01')"
    rows = (
        small.execute(
            f"""SELECT l.collateral_type, count(*) AS n, count(l.collateral_valued_on) AS dated,
               count(*) FILTER (WHERE l.collateral_valued_on > {end} - INTERVAL 12 MONTH) AS in_12,
               count(*) FILTER (WHERE l.collateral_valued_on > {end} - INTERVAL 1 MONTH) AS in_1,
               count(*) FILTER (WHERE l.collateral_valued_on > {end}) AS late
            FROM loans l JOIN loan_snapshots s USING (loan_id)
            WHERE s.month = '{last}' AND s.outstanding > 0 GROUP BY 1"""
        )
        .df()
        .set_index("collateral_type")
    )
    assert rows["late"].sum() == 0
    assert rows.loc[["none", "guarantee"], "dated"].sum() == 0
    re = rows.loc["real_estate"]
    assert 0.75 < re["in_12"] / re["dated"] < 0.97  # most within the year, some overdue
    assert 0.75 < rows.loc["deposit", "in_1"] / rows.loc["deposit", "dated"] <= 1.0  # 4% overdue
    secured = rows.drop(["none", "guarantee"])
    assert 0.9 < secured["dated"].sum() / secured["n"].sum() < 1.0  # a few not recorded


def test_holdings_split_the_balances_and_plant_the_mis_seller(small):
    """A customer-month's holdings add up to its month-end deposits plus wealth; each
    product keeps its type and rating; most holdings suit the holder's appetite, and the
    first branch's first active senior manager has sold the R5 fund to R1-R2 customers."""
    gap = one(
        small,
        """SELECT max(abs(coalesce(h.s, 0) - (b.deposits + b.wealth)))
           FROM balances b LEFT JOIN (SELECT customer_id, month, sum(balance) AS s
                                      FROM holdings GROUP BY ALL) h USING (customer_id, month)""",
    )
    assert gap < 0.1  # cents of rounding
    rated = set(
        small.execute(
            "SELECT DISTINCT product_id, product_type, risk_level FROM holdings"
        ).fetchall()
    )
    assert rated <= {(p, t, f"R{lv + 1}") for p, t, lv, _ in demo.HOLDING_PRODUCTS}
    above = small.execute(
        """SELECT c.manager_id, h.product_id, count(DISTINCT h.customer_id) AS n
           FROM holdings h JOIN customers c USING (customer_id)
           WHERE h.month = (SELECT max(month) FROM holdings) AND h.risk_level > c.risk_appetite
           GROUP BY ALL ORDER BY n DESC"""
    ).fetchall()
    seller = one(
        small,
        "SELECT min(staff_id) FROM staff WHERE branch_id = '0101' AND active AND grade = 'senior'",
    )
    assert above[0][:2] == (seller, "F03")
    holders = one(
        small,
        "SELECT count(DISTINCT customer_id) FROM holdings WHERE month = (SELECT max(month) FROM holdings)",
    )
    assert sum(n for *_, n in above) < 0.05 * holders
