"""The month a report is about: one ``Period`` type instead of month helpers per module.

A period is a calendar month written ``YYYY-MM``. Every boundary is half-open: the
month runs from :attr:`Period.start` (its first day, inclusive) to
:attr:`Period.stop` (the first day of the next month, exclusive); :attr:`Period.end`
is its last day, for the month-end stocks (时点) that are dated on it.

>>> p = Period.parse("2026-10")
>>> str(p.shift(-1)), str(p.year_start), p.end.isoformat()
('2026-09', '2026-01', '2026-10-31')
>>> [str(m) for m in p.window(3)]
['2026-08', '2026-09', '2026-10']
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month; ``index`` counts months from year 0 (``year * 12 + month - 1``)."""

    index: int

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """``"2026-10"`` -> ``Period``; a wrong shape is a ``ValueError`` naming the value."""
        if isinstance(text, Period):
            return text
        if not isinstance(text, str) or not PERIOD_RE.match(text):
            raise ValueError(f"period is expected as YYYY-MM (e.g. 2026-10). Got {text!r} instead.")
        year, month = int(text[:4]), int(text[5:])
        return cls(year * 12 + month - 1)

    @classmethod
    def of(cls, day: dt.date) -> Period:
        """The month a date falls in."""
        return cls(day.year * 12 + day.month - 1)

    @property
    def year(self) -> int:
        return self.index // 12

    @property
    def month(self) -> int:
        return self.index % 12 + 1

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def shift(self, months: int) -> Period:
        """The month ``months`` later (earlier when negative)."""
        return Period(self.index + months)

    @property
    def prev(self) -> Period:
        return self.shift(-1)

    @property
    def year_start(self) -> Period:
        """January of the same year: the base of 比年初 comparisons and YTD figures."""
        return Period(self.year * 12)

    @property
    def start(self) -> dt.date:
        """The first day (inclusive)."""
        return dt.date(self.year, self.month, 1)

    @property
    def stop(self) -> dt.date:
        """The first day of the next month (exclusive)."""
        return self.shift(1).start

    @property
    def end(self) -> dt.date:
        """The last day: the date of month-end stocks."""
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def window(self, months: int) -> list[Period]:
        """The ``months`` months ending with this one, oldest first."""
        return [self.shift(k) for k in range(1 - months, 1)]

    def months_since(self, other: Period | str) -> int:
        """Whole months from ``other`` to this period (negative when ``other`` is later)."""
        return self.index - Period.parse(other).index


def shift_month(month: str, months: int) -> str:
    """``"2026-10", -1`` -> ``"2026-09"``: :meth:`Period.shift` on text, for frames and SQL."""
    return str(Period.parse(month).shift(months))


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and last day of ``month`` (both inclusive)."""
    p = Period.parse(month)
    return p.start, p.end


def window(month: str, months: int) -> list[str]:
    """The ``months`` months ending with ``month``, oldest first, as text."""
    return [str(p) for p in Period.parse(month).window(months)]
