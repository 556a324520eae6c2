"""Tiers: what each table and column is needed for, and the verdict per report."""

import json
import shutil

import duckdb
import pytest

from branchbook import contract, coverage, i18n
from branchbook.contract import TABLES
from branchbook.coverage import need, verdict

REPORTS = ("segmentation", "risk", "satisfaction", "staff_kpi")


def everything(**drop) -> dict[str, set[str]]:
    """Every contract table with every column, less ``drop`` (table -> columns, or
    None for the whole table)."""
    out = {name: set(t.names) for name, t in TABLES.items()}
    for table, cols in drop.items():
        if cols is None:
            del out[table]
        else:
            out[table] -= set(cols)
    return out


def test_every_table_and_column_named_in_the_tiers_is_in_the_contract():
    for key in coverage.NEEDS:
        table, _, column = key.partition(".")
        assert table in TABLES, key
        assert not column or column in TABLES[table].names, key
    for n in coverage.NEEDS.values():
        for use in n.uses:
            assert use in REPORTS or use in coverage.SECTIONS, use


def test_a_column_takes_its_tables_need_unless_listed():
    assert need("balances", "deposits").tier == "required"
    assert need("customers", "phone").tier == "optional"
    assert need("financials", "revenue").uses == ("risk.early_warning",)
    assert need("some_new_table").tier == "optional"


def test_optional_columns_are_nullable_in_the_contract():
    for table, column in coverage.optional_columns():
        assert TABLES[table].column(column).nullable, (table, column)


def test_everything_present_produces_every_section():
    cov = verdict(everything(), REPORTS)
    assert cov.ok and cov.missing == ()
    assert all(r.produced and not r.sections_off for r in cov.reports.values())


def test_a_missing_section_table_removes_exactly_its_sections():
    cov = verdict(everything(financials=None, aml_alerts=None), REPORTS)
    assert cov.ok
    risk = cov.reports["risk"]
    assert risk.produced
    assert risk.sections_off == {
        "risk.early_warning": ("financials",),
        "risk.compliance": ("aml_alerts",),
    }
    assert cov.reports["staff_kpi"].sections_off == {"staff_kpi.compliance": ("aml_alerts",)}
    assert not cov.reports["segmentation"].sections_off
    assert not cov.shows("risk.early_warning") and cov.shows("risk.collateral")
    assert risk.notes() == [
        "early-warning signals of corporate borrowers: not shown, the warehouse has no financials",
        "compliance classification and AML alert ageing: not shown, the warehouse has no aml_alerts",
    ]


def test_missing_columns_name_the_section_once_with_each_column():
    cov = verdict(everything(loans=("collateral_type", "collateral_value")), REPORTS)
    assert cov.reports["risk"].sections_off == {
        "risk.collateral": ("loans.collateral_type", "loans.collateral_value")
    }


def test_without_revaluation_dates_only_the_revaluation_list_goes():
    """No ``loans.collateral_valued_on``: the collateral section stays (LTV needs no date),
    the revaluation list is left out with one line in the data-coverage note."""
    cov = verdict(everything(loans=("collateral_valued_on",)), REPORTS)
    risk = cov.reports["risk"]
    assert risk.produced and cov.shows("risk.collateral") and not cov.shows("risk.revaluation")
    assert risk.notes() == [
        "collateral revaluation dates and overdue revaluations: not shown, "
        "the warehouse has no loans.collateral_valued_on"
    ]
    assert all(not r.sections_off for n, r in cov.reports.items() if n != "risk")
    assert TABLES["loans"].column("collateral_valued_on").nullable


def test_a_missing_core_table_means_the_report_is_not_produced():
    cov = verdict(everything(loans=None), REPORTS)
    risk = cov.reports["risk"]
    assert not risk.produced and risk.reason == "the warehouse has no loans"
    assert not cov.produced("risk") and not cov.shows("risk.collateral")
    # the other reports lose the sections that read loans
    assert "segmentation.credit" in cov.reports["segmentation"].sections_off
    assert cov.produced("segmentation")


def test_a_missing_optional_column_changes_nothing():
    cov = verdict(everything(customers=("phone", "birth_date")), REPORTS)
    assert [m.name for m in cov.missing] == ["customers.phone", "customers.birth_date"]
    assert all(r.produced and not r.sections_off for r in cov.reports.values())


def test_a_missing_required_table_is_not_ok():
    assert not verdict(everything(balances=None), REPORTS).ok


def test_verdict_round_trips_through_json():
    cov = verdict(everything(financials=None, surveys=None), REPORTS)
    back = coverage.Coverage.from_json(cov.to_json(), REPORTS)
    assert back.reports == cov.reports
    assert back.missing == cov.missing
    assert coverage.Coverage.from_json(None, REPORTS).shows("risk.collateral")


def test_the_coverage_table_names_tables_columns_and_verdicts():
    text = coverage.table(verdict(everything(financials=None, loans=("interest_rate",)), REPORTS))
    lines = text.splitlines()
    assert any(line.startswith("financials") and "absent" in line for line in lines)
    n = len(contract.TABLES["loans"].types)
    assert any(line.startswith("loans") and f"{n - 1} of {n}" in line and "interest_rate" in line
               for line in lines)  # fmt: skip
    assert "risk             produced without: scorecard" in text
    assert "segmentation     produced, every section" in text


@pytest.mark.slow
def test_prepare_without_some_tables_records_the_verdict(small_bank, tmp_path):
    """A warehouse without financials and aml_alerts, and loans without collateral
    columns: prepared, every extract has the contract's shape, and the verdict is in
    prepare.json and in BranchData."""
    from branchbook.data import load
    from branchbook.prepare import prepare

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("DROP TABLE financials")
        con.execute("DROP TABLE aml_alerts")
        con.execute("ALTER TABLE loans DROP COLUMN collateral_type")
        con.execute("ALTER TABLE loans DROP COLUMN collateral_value")
        con.execute("ALTER TABLE loans DROP COLUMN collateral_valued_on")
    prep = prepare("2026-10", source=wh, params_dir=small_bank / "params", build_dir=tmp_path)
    stored = prep.meta["coverage"]["reports"]["risk"]
    assert stored["produced"] and set(stored["sections_off"]) == {
        "risk.early_warning", "risk.compliance", "risk.collateral", "risk.revaluation",
    }  # fmt: skip
    data = load("2026-10", prep.branch_ids[0], build_dir=tmp_path)
    assert not data.coverage.shows("risk.collateral")
    assert not data.coverage.shows("risk.revaluation")  # read as NULLs, known as absent
    assert data.table("loans")["collateral_valued_on"].isna().all()
    assert data.coverage.shows("segmentation.activity")
    assert data.table("financials").empty
    assert list(data.table("aml_alerts").columns)[:2] == ["alert_id", "customer_id"]
    assert data.table("loans")["collateral_type"].isna().all()


@pytest.mark.slow
def test_real_shapes_are_prepared(small_bank, tmp_path):
    """Overdrafts, customers without contact data or a manager, loans without a rate,
    collateral or a snapshot in a month, a branch without staff and a closed branch
    with no customers left: validated and prepared, each as its documented rule says."""
    from branchbook.data import load
    from branchbook.prepare import prepare

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        first, second = (r[0] for r in con.execute(
            "SELECT branch_id FROM branches ORDER BY 1").fetchall())  # fmt: skip
        con.execute(
            "UPDATE balances SET deposits = -deposits - 100 "
            "WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY 1 LIMIT 20)"
        )
        con.execute("UPDATE customers SET phone = NULL, birth_date = NULL WHERE random() < 0.3")
        con.execute("UPDATE customers SET manager_id = NULL WHERE random() < 0.2")
        con.execute("UPDATE loans SET interest_rate = NULL WHERE random() < 0.2")
        con.execute("UPDATE loans SET collateral_type = NULL, collateral_value = NULL "
                    "WHERE random() < 0.2")  # fmt: skip
        con.execute(
            "DELETE FROM loan_snapshots WHERE month = '2026-08' AND loan_id IN "
            "(SELECT loan_id FROM loans ORDER BY 1 LIMIT 3)"
        )
        # a branch without staff: its customers and loans have no manager
        con.execute(f"UPDATE customers SET manager_id = NULL WHERE branch_id = '{second}'")
        con.execute(f"UPDATE loans SET manager_id = NULL WHERE branch_id = '{second}'")
        for table in ("surveys", "complaints"):
            con.execute(f"UPDATE {table} SET manager_id = NULL WHERE branch_id = '{second}'")
        for table in ("targets", "staff_training", "staff_certifications"):
            con.execute(
                f"DELETE FROM {table} WHERE staff_id IN "
                f"(SELECT staff_id FROM staff WHERE branch_id = '{second}')"
            )
        con.execute(  # a contact made by a manager who left names no one
            f"UPDATE contacts SET staff_id = NULL WHERE staff_id IN "
            f"(SELECT staff_id FROM staff WHERE branch_id = '{second}')"
        )
        con.execute(f"DELETE FROM staff WHERE branch_id = '{second}'")
        # a closed branch: still in branches, no customers any more
        con.execute("INSERT INTO branches SELECT '0999', 'Closed Sub-branch', NULL, region, "
                    f"city, DATE '2001-01-01', NULL FROM branches WHERE branch_id = '{first}'")  # fmt: skip
    prep = prepare("2026-10", source=wh, params_dir=small_bank / "params", build_dir=tmp_path)
    assert "0999" in prep.branch_ids
    assert all(r["produced"] for r in prep.meta["coverage"]["reports"].values())
    closed = load("2026-10", "0999", build_dir=tmp_path)
    assert closed.table("customers").empty and len(closed.table("branches")) == 1
    data = load("2026-10", first, build_dir=tmp_path)
    assert (data.table("balances")["deposits"] < 0).any()  # kept as stored: rules are the reports'
    assert data.table("loans")["interest_rate"].isna().any()
    assert load("2026-10", second, build_dir=tmp_path).table("staff").empty


def test_validate_prints_the_coverage_table(small_bank, tmp_path, capsys):
    from branchbook import cli

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        con.execute("DROP TABLE loan_snapshots")
        con.execute("ALTER TABLE customers DROP COLUMN phone")
    code = cli.main(["validate", "--warehouse", str(wh), "--params", str(small_bank / "params")])
    out = capsys.readouterr().out
    assert code == 0
    assert "loan_snapshots   absent     needed by the risk report" in out
    assert "customers        15 of 16   phone (optional)" in out
    assert "risk             not produced: the warehouse has no loan_snapshots" in out
    assert "falls back to month end" not in out  # the demo has average daily balances
    with duckdb.connect(str(wh)) as con:
        con.execute(
            "UPDATE balances SET deposits_avg = NULL, wealth_avg = NULL WHERE month = '2026-10'"
        )
    assert (
        cli.main(["validate", "--warehouse", str(wh), "--params", str(small_bank / "params")]) == 0
    )
    out = capsys.readouterr().out
    assert (
        "balances: deposits_avg and wealth_avg are empty for 2026-10: AUM on the average "
        "daily basis falls back to month end"
    ) in out


def test_average_daily_balances_are_optional_and_their_fallback_is_named():
    """Without balances.deposits_avg / wealth_avg every report is produced (AUM on month
    end) and the coverage table says what the reports read instead."""
    cov = verdict(everything(balances=("deposits_avg", "wealth_avg")), REPORTS)
    assert cov.ok and all(r.produced and not r.sections_off for r in cov.reports.values())
    line = next(x for x in coverage.table(cov).splitlines() if x.startswith("balances"))
    assert "deposits_avg (optional: AUM on the average daily basis falls back to month end)" in line


def test_the_dated_history_is_optional_and_its_fallback_is_named():
    """Without the dated history (contract.OPTIONAL_COLUMNS and OPTIONAL_TABLES) every
    report is produced with every section: each falls back and says so. A warehouse of
    real data without loans.closed_reason and loan_snapshots.undrawn once lost the whole
    risk report ("not produced") to them."""
    drop = {t: tuple(c for tt, c in contract.OPTIONAL_COLUMNS if tt == t)
            for t, _ in contract.OPTIONAL_COLUMNS}  # fmt: skip
    found = everything(**drop)
    for t in contract.OPTIONAL_TABLES:
        del found[t]
    cov = verdict(found, REPORTS)
    assert cov.ok and all(r.produced for r in cov.reports.values())
    # training, certification, holdings and contact records feed sections of their own,
    # not a fallback: without them exactly those sections are left out
    off = {s: t for r in cov.reports.values() for s, t in r.sections_off.items()}
    assert off == {
        "staff_kpi.development": ("staff_training", "staff_certifications"),
        "segmentation.suitability": ("holdings",),
        "segmentation.cross_sell": ("holdings",),
        "satisfaction.followup": ("contacts",),
    }
    text = coverage.table(cov)
    assert "undrawn (optional: exposure at default is the outstanding balance)" in text
    assert "every period counts a customer in customers.branch_id" in text


# -- the reports act on the verdict ------------------------------------------------------


def test_a_missing_section_hides_exactly_its_page_sections():
    cov = verdict(everything(aml_alerts=None, loans=["collateral_value"]), REPORTS)
    assert cov.hidden_sections("risk") == {"compliance", "alerts", "collateral"}
    assert cov.hidden_sections("segmentation") == frozenset()
    assert cov.hidden_sections("staff_kpi") == frozenset()  # a scorecard dimension: cards only
    assert verdict(everything(), REPORTS).hidden_sections("risk") == frozenset()


def test_a_missing_section_silences_its_summary_sentences():
    cov = verdict(everything(aml_alerts=None), REPORTS)
    assert cov.hidden_facts("risk") == ("risk.summary.compliance",)
    assert cov.hidden_facts("satisfaction") == ()
    texts = i18n.catalogue("en")
    for facts in coverage.SUMMARY_FACTS.values():  # each names sentences that exist
        for key in facts:
            assert any(k.startswith(key) for k in texts), key


def test_every_page_section_is_a_section_of_its_report_catalogue():
    for section, pages in coverage.PAGE_SECTIONS.items():
        report = section.split(".", 1)[0]
        assert section in coverage.SECTIONS, section
        for key in pages:
            for locale in ("en", "zh-CN"):
                assert i18n.has(f"{report}.sections.{key}.title", locale), (section, key)
    for locale in ("en", "zh-CN"):
        for section in coverage.SECTIONS:
            assert i18n.has(f"common.coverage.sections.{section}", locale), section


def test_kpis_of_missing_data_are_not_recorded_and_the_others_are():
    from branchbook.metrics.declare import catalogue
    from branchbook.reports import registry

    registry()  # the report modules declare their metrics on import
    assert set(coverage.KPI_NEEDS) <= set(catalogue())
    cov = verdict(everything(surveys=None, complaints=None), REPORTS)
    assert cov.not_recorded(coverage.KPI_NEEDS) == {
        "managed_csat", "complaints_per_1000", "sla_first_response",
    }  # fmt: skip
    cov = verdict(everything(complaints=["first_response_at"]), REPORTS)
    assert cov.not_recorded(["sla_first_response", "complaints_per_1000"]) == {"sla_first_response"}
    assert verdict(everything(), REPORTS).not_recorded(coverage.KPI_NEEDS) == frozenset()


def test_columns_of_missing_data_are_not_recorded():
    cov = verdict(everything(complaints=None, aml_alerts=None), REPORTS)
    keys = {**coverage.KPI_NEEDS, **coverage.COLUMN_NEEDS}
    assert cov.not_recorded(keys) >= {"complaint_rate", "aml_open_rate", "risk_customer_share"}
    assert not cov.not_recorded(keys) & {"csat", "kyc_complete_rate", "new_npl"}


def test_not_produced_names_its_missing_core():
    cov = verdict(everything(surveys=None, complaints=None), REPORTS)
    assert not cov.produced("satisfaction") and cov.core_missing("satisfaction") == ("surveys",)
    assert cov.core_missing("risk") == ()
    stored = coverage.Coverage.from_json(cov.to_json())
    assert stored.core_missing("satisfaction") == ("surveys",)
    assert stored.not_recorded(["managed_csat"]) == {"managed_csat"}


def test_the_coverage_note_is_one_line_per_missing_section_in_each_locale():
    from branchbook.context import show_coverage
    from branchbook.page import Page

    cov = verdict(everything(aml_alerts=None, loans=["collateral_value"]), REPORTS)
    for locale, word in (("en", "not shown"), ("zh-CN", "未列示")):
        page = Page(report="risk", locale=locale, bank_name="B", branch={"branch_id": "0101"},
                    period="2026-10", live=False)  # fmt: skip
        show_coverage(page, cov.reports["risk"])
        html = page.html()
        assert html.count("<li") == 2 and html.count(word) == 2
        assert "aml_alerts" in html and "loans.collateral_value" in html
    page = Page(report="risk", locale="en", bank_name="B", branch={}, period="2026-10", live=False)
    show_coverage(page, verdict(everything(), REPORTS).reports["risk"])
    assert page.html() == ""


def test_prepare_reads_a_table_without_rows_as_not_recorded(small_bank, tmp_path):
    import duckdb as _duckdb

    from branchbook.prepare import empty_tables

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with _duckdb.connect(str(wh)) as con:
        con.execute("DELETE FROM complaints")
        found = contract.found_columns(con)
        empty = empty_tables(con, found)
    assert empty == {"complaints"}
    cov = verdict(found, REPORTS, empty=empty)
    assert cov.not_recorded(["complaints_per_1000"]) == {"complaints_per_1000"}
    assert "complaints       no rows    needed by satisfaction.complaints" in coverage.table(cov)


def _run_without(small_bank, tmp_path, statements, reports=None):
    """Copy the small bank's warehouse, run ``statements`` on it, make the reports of its
    first branch (HTML): the run's result, the branch, and the period's report folder."""
    import branchbook

    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(small_bank / "build" / "demo" / "warehouse.duckdb", wh)
    with duckdb.connect(str(wh)) as con:
        for sql in statements:
            con.execute(sql)
        branch = con.execute("SELECT min(branch_id) FROM branches").fetchone()[0]
    result = branchbook.run(
        period="2026-10", branches=[branch], reports=reports, formats=("html",), workers=2,
        warehouse=wh, params_dir=small_bank / "params", out=tmp_path / "out",
        build_dir=tmp_path / "build", progress=False, warm=False,
    )  # fmt: skip
    return result, branch, tmp_path / "out" / "2026-10"


def _page(path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _sections(soup) -> set[str]:
    return {h["id"].removeprefix("sec-") for h in soup.select("[id^=sec-]")}


def _coverage_lines(soup) -> list[str]:
    """The lines of the page's data-coverage note (beside its data-quality warnings)."""
    return [
        li.get_text() for li in soup.select("aside.bb-notice li") if "not shown" in li.get_text()
    ]


def _card(soup, label: str):
    return next(
        k for k in soup.select(".bb-kpi") if k.select_one(".bb-kpi-label").get_text() == label
    )


@pytest.mark.slow
def test_no_surveys_nor_complaints_the_satisfaction_report_is_not_produced(small_bank, tmp_path):
    stale = tmp_path / "out" / "2026-10" / "0101" / "satisfaction.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("<html>made when the surveys were there</html>")
    result, branch, out = _run_without(
        small_bank, tmp_path, ["DROP TABLE surveys", "DROP TABLE complaints"]
    )
    assert result.exit_code == 0 and not result.failed
    entry = result.entries[f"{branch}/satisfaction"]
    assert entry["status"] == "not_produced" and entry["missing"] == ["surveys"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["reports"][f"{branch}/satisfaction"]["reason"] == "the warehouse has no surveys"
    assert branch == "0101" and not stale.exists()  # no earlier page left to be opened
    index = _page(out / "index.html")
    cell = index.select_one(f'tr[data-search^="{branch}"] td[data-report="satisfaction"]')
    assert cell.select_one(".bb-reason").get_text() == "Not produced: no survey data (surveys)"
    for report in ("segmentation", "risk", "staff_kpi"):
        assert result.entries[f"{branch}/{report}"]["status"] == "ok", report
    staff = _page(out / branch / "staff_kpi.html")
    csat = _card(staff, i18n.t("staff_kpi.kpis.managed_csat", "en"))
    assert csat.select_one(".bb-kpi-value").get_text() == "Not recorded"
    assert "bb-none" in csat["class"] and not csat.select(".bb-kpi-status")
    assert _coverage_lines(staff) == [
        "Service quality (surveys and complaints): not shown, the warehouse has no surveys, complaints"
    ]


@pytest.mark.slow
def test_no_aml_alerts_the_compliance_sections_go_with_their_coverage_line(small_bank, tmp_path):
    result, branch, out = _run_without(
        small_bank, tmp_path, ["DROP TABLE aml_alerts"], reports=["risk", "staff_kpi"]
    )
    assert result.exit_code == 0 and not result.failed
    risk = _page(out / branch / "risk.html")
    assert not _sections(risk) & {"compliance", "alerts"}
    assert {"book", "collateral", "early_warning", "matrix"} <= _sections(risk)
    assert _coverage_lines(risk) == [
        "Compliance classification and AML alert ageing: not shown, the warehouse has no aml_alerts"
    ]
    card = _card(risk, i18n.t("risk.kpis.risk_customer_share", "en"))
    assert card.select_one(".bb-kpi-value").get_text() == "Not recorded"
    assert "AML" not in " ".join(li.get_text() for li in risk.select(".bb-summary li"))
    staff = _page(out / branch / "staff_kpi.html")
    assert _coverage_lines(staff) == [
        "Compliance dimension (AML alerts): not shown, the warehouse has no aml_alerts"
    ]
    heads = {th.get_text() for th in staff.select("thead th")}
    assert i18n.t("staff_kpi.columns.aml_open_rate", "en") not in heads  # not a column of 0.00
    assert i18n.t("staff_kpi.columns.complaint_rate", "en") in heads


@pytest.mark.slow
def test_no_collateral_value_removes_exactly_the_collateral_section(small_bank, tmp_path):
    result, branch, out = _run_without(
        small_bank, tmp_path, ["ALTER TABLE loans DROP COLUMN collateral_value"], reports=["risk"]
    )
    assert result.exit_code == 0 and not result.failed
    risk = _page(out / branch / "risk.html")
    every = {"book", "trend", "dpd", "rolls", "scores", "expected_loss", "early_warning",
             "concentration", "top_borrowers", "compliance", "alerts", "matrix"}  # fmt: skip
    assert every <= _sections(risk) and "collateral" not in _sections(risk)
    assert _coverage_lines(risk) == [
        "Collateral and loan-to-value: not shown, the warehouse has no loans.collateral_value"
    ]
