"""Number, money, percentage and date formatting per locale.

Every function returns plain text (not escaped HTML) and renders a missing value
(None or NaN) as an en dash, so a table never shows "nan".

Money in ``zh-CN`` uses the units a Chinese bank reports in: 元 below ten thousand,
万元 up to a hundred million, 亿元 above. In ``en`` it uses k / m / bn with the
currency code in front.

>>> money(1_234_567, "zh-CN")
'123.5万元'
>>> money(1_234_567, "en")
'CNY 1.23m'
>>> pct(0.1234, "en")
'12.3%'
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

MISSING = "–"


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA/NaT."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT
    except (TypeError, ValueError):
        return str(value) in ("<NA>", "NaT")


def integer(value: Any, locale: str = "en") -> str:
    """A whole number with thousands separators: ``12,345``."""
    if is_missing(value):
        return MISSING
    return f"{round(float(value)):,}"


def number(value: Any, locale: str = "en", digits: int = 2) -> str:
    """A number with ``digits`` decimals and thousands separators."""
    if is_missing(value):
        return MISSING
    return f"{float(value):,.{digits}f}"


def pct(value: Any, locale: str = "en", digits: int = 1) -> str:
    """A share (0.123) as a percentage with one decimal (``12.3%``)."""
    if is_missing(value):
        return MISSING
    return f"{float(value) * 100:.{digits}f}%"


def signed(value: float, digits: int = 1) -> str:
    """A change with its sign; one that rounds to zero is ``0.0``, never ``-0.0`` or
    ``+0.0`` (it is no change at the precision shown).

    >>> signed(-0.04), signed(0.04), signed(1.25), signed(-3)
    ('0.0', '0.0', '+1.2', '-3.0')
    """
    if rounds_to_zero(value, digits):
        return f"{0:.{digits}f}"
    return f"{float(value):+,.{digits}f}"


def rounds_to_zero(value: Any, digits: int = 1) -> bool:
    """True when ``value`` shows as zero at ``digits`` decimals (a neutral change)."""
    return finite(value) and abs(float(value)) < 0.5 * 10**-digits


def delta_pct(value: Any, locale: str = "en", digits: int = 1) -> str:
    """A change of a share, in percentage points with its sign (``+1.2 pp`` / ``+1.2个百分点``);
    a change that rounds to zero is ``0.0 pp``."""
    if is_missing(value):
        return MISSING
    unit = "个百分点" if locale == "zh-CN" else " pp"
    return f"{signed(float(value) * 100, digits)}{unit}"


def delta(value: Any, locale: str = "en", digits: int = 1) -> str:
    """A relative change (0.05 -> ``+5.0%``); one that rounds to zero is ``0.0%``."""
    if is_missing(value):
        return MISSING
    return f"{signed(float(value) * 100, digits)}%"


def delta_num(value: Any, locale: str = "en", digits: int = 1) -> str:
    """A change in the unit of its number (points, per 1,000) with its sign: ``+1.2``,
    ``-0.3``; one that rounds to zero is ``0.0``."""
    if is_missing(value):
        return MISSING
    return signed(float(value), digits)


#: The units money is written in, per locale: (smallest amount, divisor, decimals,
#: unit written before / after the number). ``{c}`` is the currency.
MONEY_UNITS = {
    "zh-CN": ((1e8, 1e8, 2, "", "亿{u}"), (1e4, 1e4, 1, "", "万{u}"), (0.0, 1.0, 0, "", "{u}")),
    "en": (
        (1e9, 1e9, 2, "{c} ", "bn"),
        (1e6, 1e6, 2, "{c} ", "m"),
        (1e4, 1e3, 1, "{c} ", "k"),
        (0.0, 1.0, 0, "{c} ", ""),
    ),
}


def money_scale(values: Any, locale: str = "en") -> float:
    """The one divisor for a column of amounts: the unit :func:`money` gives the median
    of its non-zero amounts, so a column never mixes 亿元 and 万元 (a large amount then
    reads 67,900.0万元, a small one 0.3万元). 1.0 for a column without amounts.

    >>> money_scale([6.79e8, 5e5, 2.1e6], "zh-CN")
    10000.0
    """
    sizes = sorted(abs(float(v)) for v in values if finite(v) and float(v) != 0)
    if not sizes:
        return 1.0
    mid = sizes[len(sizes) // 2]
    units = MONEY_UNITS["zh-CN" if locale == "zh-CN" else "en"]
    return next(u[1] for u in units if mid >= u[0])


def money(value: Any, locale: str = "en", currency: str = "CNY", scale: float | None = None) -> str:
    """An amount of money, scaled to a readable unit for the locale; with ``scale``
    (from :func:`money_scale`) in that unit whatever its size."""
    if is_missing(value):
        return MISSING
    if scale is not None:
        units = MONEY_UNITS["zh-CN" if locale == "zh-CN" else "en"]
        _, div, digits, before, after = next(u for u in units if u[1] == scale)
        unit = "元" if currency == "CNY" else currency
        v = float(value) / div
        sign = "-" if v < 0 and round(abs(v), digits) != 0 else ""
        return (
            f"{sign}{before.format(c=currency)}{abs(v):,.{digits}f}"
            f"{after.format(u=unit, c=currency)}"
        )
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    if locale == "zh-CN":
        unit = "元" if currency == "CNY" else currency
        if a >= 1e8:
            return f"{sign}{a / 1e8:,.2f}亿{unit}"
        if a >= 1e4:
            return f"{sign}{a / 1e4:,.1f}万{unit}"
        return f"{sign}{a:,.0f}{unit}"
    if a >= 1e9:
        return f"{sign}{currency} {a / 1e9:,.2f}bn"
    if a >= 1e6:
        return f"{sign}{currency} {a / 1e6:,.2f}m"
    if a >= 1e4:
        return f"{sign}{currency} {a / 1e3:,.1f}k"
    return f"{sign}{currency} {a:,.0f}"


def money_unit(locale: str, currency: str = "CNY") -> str:
    """The unit of :func:`money_in_unit` for column headers and chart axes."""
    if locale == "zh-CN":
        return "万元" if currency == "CNY" else f"万{currency}"
    return f"{currency} k"


def money_in_unit(value: Any, locale: str = "en") -> str:
    """An amount in a fixed unit for table columns (万元 in zh-CN, thousands in en)."""
    if is_missing(value):
        return MISSING
    return f"{float(value) / (1e4 if locale == 'zh-CN' else 1e3):,.1f}"


def date(value: Any, locale: str = "en") -> str:
    """A date: ``2026年10月31日`` in zh-CN, ``31 Oct 2026`` in en."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "date") and not isinstance(value, dt.date):
        value = value.date()
    if locale == "zh-CN":
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%d %b %Y").lstrip("0")


def month(value: str, locale: str = "en") -> str:
    """A period ``2026-10``: ``2026年10月`` in zh-CN, ``Oct 2026`` in en."""
    if is_missing(value):
        return MISSING
    y, m = (int(p) for p in str(value).split("-")[:2])
    if locale == "zh-CN":
        return f"{y}年{m}月"
    return dt.date(y, m, 1).strftime("%b %Y")


def text(value: Any, locale: str = "en") -> str:
    """Any value as text (escaping is the renderer's job)."""
    return MISSING if is_missing(value) else str(value)


FORMATTERS = {
    "int": integer,
    "num": number,
    "pct": pct,
    "delta_pct": delta_pct,
    "delta": delta,
    "delta_num": delta_num,
    "money": money,
    "money_unit": money_in_unit,
    "date": date,
    "month": month,
    "text": text,
}


def format_value(value: Any, kind: str, locale: str = "en") -> str:
    """Format ``value`` with the formatter named ``kind`` (see ``FORMATTERS``)."""
    try:
        fn = FORMATTERS[kind]
    except KeyError:
        raise ValueError(
            f"format is expected to be one of ({', '.join(FORMATTERS)}). Got {kind!r} instead."
        ) from None
    return fn(value, locale)


def finite(value: Any) -> bool:
    """True if ``value`` is a real, finite number."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
