"""The action lists' workbook: one sheet per list, a header row of column keys, every row."""

from __future__ import annotations

import io

import pytest

from branchbook.output import xlsx

openpyxl = pytest.importorskip("openpyxl")


def test_one_sheet_per_list_with_a_header_row_a_crm_import_accepts():
    actions = {
        "customers_to_contact": {
            "columns": ["customer_id", "name", "aum"],
            "rows": [["C1", "上海华***有限公司", 1_250_000.5], ["C2", "张**", None]],
        },
        "borrowers_to_review": {"columns": ["customer_id"], "rows": []},
    }
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.workbook(actions)))
    assert wb.sheetnames == ["customers_to_contact", "borrowers_to_review"]
    rows = list(wb["customers_to_contact"].iter_rows(values_only=True))
    assert rows == [
        ("customer_id", "name", "aum"),
        ("C1", "上海华***有限公司", 1_250_000.5),
        ("C2", "张**", None),
    ]
    # no merged cells and no title rows: the first row is the header
    assert not wb["customers_to_contact"].merged_cells.ranges
    assert list(wb["borrowers_to_review"].iter_rows(values_only=True)) == [("customer_id",)]


def test_no_action_list_no_workbook():
    assert xlsx.workbook({}) is None
