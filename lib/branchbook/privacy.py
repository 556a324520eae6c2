"""Masking of personal data and suppression of small groups.

Every report shows a customer's name as its first character followed by one ``*`` for
each hidden character, three at most (张三丰 -> 张**, "Acme Trading Ltd" -> "A***": a
long company name neither shows its length nor runs onto two lines of a narrow table
column), and an ID number or phone number by its last four characters only. Groups
smaller than the suppression limit are suppressed in published tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .fmt import is_missing

NAME_STARS_MAX = 3


def mask_name(value: Any) -> str:
    """Keep the first character, replace the rest with ``*`` (at least one, at most
    :data:`NAME_STARS_MAX`)."""
    if is_missing(value):
        return ""
    s = str(value).strip()
    if not s:
        return ""
    return s[0] + "*" * min(max(1, len(s) - 1), NAME_STARS_MAX)


def mask_tail(value: Any, keep: int = 4) -> str:
    """Keep the last ``keep`` characters of an ID or phone number: ``****1234``."""
    if is_missing(value):
        return ""
    s = str(value).strip()
    if len(s) <= keep:
        return "*" * len(s)
    return "*" * (len(s) - keep) + s[-keep:]


class _Suppressed:
    """The value of a totals-row cell that would give a suppressed count back."""

    def __repr__(self) -> str:
        return "SUPPRESSED"


#: A totals-row value to print as a suppressed cell (``*``): ``Page.table(total={...})``.
SUPPRESSED = _Suppressed()

PERSONAL_COLUMNS = {"name": mask_name, "id_number": mask_tail, "phone": mask_tail}


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every personal column (name, id_number, phone) masked."""
    out = df.copy()
    for col, fn in PERSONAL_COLUMNS.items():
        if col in out.columns:
            out[col] = out[col].map(fn)
    return out


def suppress_counts(counts: pd.Series, limit: int) -> pd.Series:
    """Counts with every cell below ``limit`` (but above 0) hidden as NA.

    Complementary suppression: if exactly one cell is suppressed, the next smallest
    non-zero cell is suppressed too, so the hidden value cannot be recovered from a
    published total. Returns a float series (NA where suppressed).

    >>> suppress_counts(pd.Series([120, 3, 40, 9]), 5).tolist()
    [120.0, nan, 40.0, nan]
    """
    out = counts.astype("float64").copy()
    small = (out > 0) & (out < limit)
    if small.sum() == 1:
        rest = out[~small & (out > 0)]
        if len(rest):
            small[rest.idxmin()] = True
    out[small] = float("nan")
    return out
