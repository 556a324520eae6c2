import math

import pytest

from branchbook import fmt


@pytest.mark.parametrize(
    "value, locale, expected",
    [
        (1_234_567, "zh-CN", "123.5万元"),  # 1,234,567 / 1e4 = 123.4567
        (250_000_000, "zh-CN", "2.50亿元"),
        (9_999, "zh-CN", "9,999元"),
        (-56_000, "zh-CN", "-5.6万元"),
        (1_234_567, "en", "CNY 1.23m"),
        (2_500_000_000, "en", "CNY 2.50bn"),
        (45_600, "en", "CNY 45.6k"),
        (999, "en", "CNY 999"),
    ],
)
def test_money(value, locale, expected):
    assert fmt.money(value, locale) == expected


def test_percentages_and_deltas():
    assert fmt.pct(0.1234) == "12.3%"
    assert fmt.pct(1) == "100.0%"
    assert fmt.delta_pct(0.012, "en") == "+1.2 pp"
    assert fmt.delta_pct(-0.012, "zh-CN") == "-1.2个百分点"
    assert fmt.delta(0.05) == "+5.0%"
    # a change in its own unit (points, per 1,000): signed, never -0.0
    assert (fmt.delta_num(2.345), fmt.delta_num(-0.04), fmt.delta_num(None)) == (
        "+2.3", "0.0", fmt.MISSING,
    )  # fmt: skip


def test_missing_values_render_as_dash():
    for v in (None, float("nan"), math.nan):
        assert fmt.money(v) == fmt.MISSING
        assert fmt.pct(v) == fmt.MISSING
        assert fmt.integer(v) == fmt.MISSING


def test_dates_and_months_per_locale():
    assert fmt.date("2026-10-31", "zh-CN") == "2026年10月31日"
    assert fmt.date("2026-10-01", "en") == "1 Oct 2026"
    assert fmt.month("2026-03", "zh-CN") == "2026年3月"
    assert fmt.month("2026-03", "en") == "Mar 2026"


def test_integer_and_number():
    assert fmt.integer(12345.4) == "12,345"
    assert fmt.number(1234.5678) == "1,234.57"


def test_unknown_format_is_named():
    with pytest.raises(ValueError, match="Got 'bogus' instead"):
        fmt.format_value(1, "bogus")


def test_money_in_unit():
    assert fmt.money_in_unit(1_234_567, "zh-CN") == "123.5"  # 万元
    assert fmt.money_in_unit(1_234_567, "en") == "1,234.6"  # thousands
    assert fmt.money_unit("zh-CN") == "万元"


@pytest.mark.parametrize(
    "fn, value, locale, text",
    [
        (fmt.delta, -0.0004, "en", "0.0%"),
        (fmt.delta, 0.0004, "en", "0.0%"),
        (fmt.delta, -0.0006, "en", "-0.1%"),
        (fmt.delta_pct, -0.0004, "en", "0.0 pp"),
        (fmt.delta_pct, -0.0004, "zh-CN", "0.0个百分点"),
        (fmt.delta_pct, 0.012, "zh-CN", "+1.2个百分点"),
    ],
)
def test_a_change_that_rounds_to_zero_is_zero(fn, value, locale, text):
    assert fn(value, locale) == text
    assert fmt.rounds_to_zero(value * 100) == (text.startswith("0.0"))


def test_a_money_column_uses_one_unit_chosen_from_its_values():
    values = [6.79e8, 5e5, 2.1e6]
    assert fmt.money_scale(values, "zh-CN") == 1e4
    assert [fmt.money(v, "zh-CN", scale=1e4) for v in values] == [
        "67,900.0万元",
        "50.0万元",
        "210.0万元",
    ]
    assert fmt.money_scale(values, "en") == 1e6
    assert fmt.money(6.79e8, "en", scale=1e6) == "CNY 679.00m"
    assert fmt.money_scale([3e8, 5e8, 1e4], "zh-CN") == 1e8
    assert fmt.money_scale([], "en") == 1.0 and fmt.money_scale([0.0, float("nan")], "en") == 1.0
    # a small negative amount that rounds to zero in the column's unit is 0.0, no sign
    assert fmt.money(-300, "zh-CN", scale=1e4) == "0.0万元"
