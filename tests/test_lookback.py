"""How far back a period reads transactions: the extracts' days, or a report's months
when its prepare reads further back; a server stages from there."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from branchbook import server
from branchbook.lookback import EXTRACT_DAYS, transactions_since
from branchbook.params import ParamSet
from branchbook.prepare import ROUTES, transaction_months
from branchbook.reports import settings_classes

ROOT = Path(__file__).resolve().parents[1]


def test_the_extracts_window_without_a_report_reading_further_back():
    assert transactions_since("2026-10") == dt.date(2026, 11, 1) - dt.timedelta(days=EXTRACT_DAYS)
    assert transactions_since("2026-10", months=3) == dt.date(2025, 10, 2)


@pytest.mark.parametrize(
    ("months", "first"),
    [(12, dt.date(2025, 10, 1)), (14, dt.date(2025, 8, 1)), (25, dt.date(2024, 9, 1))],
)
def test_a_report_reading_further_back_moves_the_start_to_its_first_month(months, first):
    assert transactions_since("2026-10", months=months) == first


def test_the_extracts_filter_reads_the_declared_days():
    assert f"INTERVAL {EXTRACT_DAYS} DAY" in ROUTES["transactions"][2]


def test_a_server_stages_transactions_from_the_first_day_a_report_reads():
    assert server.bounds("2026-10") == {
        "period": "2026-10",
        "stop": dt.date(2026, 11, 1),
        "since": dt.date(2025, 10, 2),
    }
    assert server.bounds("2026-10", transaction_months=14)["since"] == dt.date(2025, 8, 1)


def _params(folder: Path, **satisfaction: int) -> ParamSet:
    """The project's parameters, with ``satisfaction`` settings put first in its section."""
    (folder / "branches").mkdir(parents=True)
    text = (ROOT / "params" / "bank.yaml").read_text(encoding="utf-8")
    extra = "".join(f"\n  {k}: {v}" for k, v in satisfaction.items())
    text = text.replace("\nsatisfaction:", "\nsatisfaction:" + extra, 1)
    (folder / "bank.yaml").write_text(text, encoding="utf-8")
    return ParamSet(folder, settings_classes())


def test_the_months_come_from_the_reports_settings(tmp_path):
    # the project's parameters: the churn model's horizon of 3, three development months
    assert transaction_months(_params(tmp_path / "a")) == 14
    # twelve development months and a horizon of 6: twelve more months back
    longer = _params(tmp_path / "b", churn_model_dev_months=12, churn_model_horizon_months=6)
    assert transaction_months(longer) == 14 + 9 + 2 * 3
