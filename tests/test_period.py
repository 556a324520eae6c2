"""Period: the one month type (hand-checked dates)."""

import datetime as dt

import pytest

from branchbook.period import Period, month_bounds, shift_month, window


def test_parse_and_print():
    p = Period.parse("2026-10")
    assert (p.year, p.month, str(p)) == (2026, 10, "2026-10")
    assert Period.parse(p) is p


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-10", "2026/10", "", None, 202610])
def test_parse_refuses_other_shapes(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        Period.parse(bad)


def test_shift_across_years():
    assert str(Period.parse("2026-01").shift(-1)) == "2025-12"
    assert str(Period.parse("2025-12").shift(13)) == "2027-01"
    assert shift_month("2026-03", -14) == "2025-01"


def test_bounds_are_half_open():
    p = Period.parse("2024-02")
    assert (p.start, p.end, p.stop, p.days) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 1),
        29,
    )
    assert month_bounds("2026-12") == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert Period.parse("2026-12").stop == dt.date(2027, 1, 1)


def test_year_start_window_and_distance():
    p = Period.parse("2026-02")
    assert str(p.year_start) == "2026-01"
    assert window("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert p.months_since("2025-02") == 12
    assert Period.of(dt.date(2026, 2, 28)) == p
    assert Period.parse("2026-01") < p
