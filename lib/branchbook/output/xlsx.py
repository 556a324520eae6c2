"""The action lists of a report as an Excel workbook, published beside its HTML and PDF.

One sheet per list, named after the list (``customers_to_contact``). The first row is
the header, the column keys as the report declares them (``customer_id``, ``name``,
``manager_name``, ...): plain ASCII names a CRM import maps once and keeps, the same in
every locale. Every row of the list follows, masked as on the page, coded values in the
report's words, amounts in CNY as numbers. No title rows, merged cells or formulas, so
the sheet imports as it is. The workbook is made in memory; the runner writes it with
the report's other files.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

SHEET_NAME_MAX = 31  # Excel's limit


def workbook(actions: Mapping[str, Mapping[str, Any]]) -> bytes | None:
    """The workbook of a page's ``actions`` meta (name -> ``{"columns", "rows"}``), or
    None when the page has no action list."""
    if not actions:
        return None
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, table in actions.items():
        ws = wb.create_sheet(str(name)[:SHEET_NAME_MAX])
        ws.append([str(c) for c in table.get("columns", [])])
        for row in table.get("rows", []):
            ws.append(list(row))
        ws.freeze_panes = "A2"
    # no time of the run in the document properties: the lists are the content
    wb.properties.created = wb.properties.modified = dt.datetime(2000, 1, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
