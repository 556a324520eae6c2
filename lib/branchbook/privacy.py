"""Masking of personal data and suppression of small groups.

Every report shows a person's name as its first character followed by one ``*`` for
each hidden character, three at most (张三丰 -> 张**, 欧阳娜娜 -> 欧***). A company name,
one that ends in a legal form (:data:`LEGAL_FORMS`: 有限公司, 股份有限公司, Ltd, Inc, ...),
keeps a short prefix, three stars and its legal form: the prefix is the first three
characters of the name before the legal form, fewer when that part is shorter than six
(at most half of it is shown). 上海华信贸易有限公司 -> 上海华***有限公司, "Acme Trading
Ltd" -> "Acm*** Ltd". A manager can tell the rows of an action list apart and find the
customer in the CRM by its id; no full name is shown, and the stars never give a name's
length away. Masking a masked name changes nothing. An ID number or phone number shows
its last four characters only. Groups smaller than the suppression limit are suppressed
in published tables.

Head office never reads a customer's row of an action list: the bank's report counts
each list per region, branch and reason (:func:`aggregate`), and a cell built from fewer
customers than the limit shows ``*`` for its count and amounts (with complementary
suppression, :func:`suppress_counts`), on the page, in the workbook and in the brief.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .fmt import is_missing

NAME_STARS_MAX = 3
#: The most characters a company name shows before its stars.
COMPANY_PREFIX_MAX = 3
#: Legal forms a company name ends in, longest first (compared without case).
LEGAL_FORMS = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    " Co., Ltd.",
    " Co., Ltd",
    " Limited",
    " Ltd.",
    " Ltd",
    " Inc.",
    " Inc",
    " LLC",
    " GmbH",
    " PLC",
)


def legal_form(name: str) -> str:
    """The legal form ``name`` ends in (as written in it), or ``""`` for a person."""
    low = name.lower()
    for form in LEGAL_FORMS:
        if low.endswith(form.lower()) and len(name) > len(form.strip()):
            return name[len(name) - len(form) :]
    return ""


def mask_name(value: Any) -> str:
    """A person's name: the first character, then ``*`` for the rest (at least one,
    at most :data:`NAME_STARS_MAX`). A company name (see :func:`legal_form`): up to
    :data:`COMPANY_PREFIX_MAX` characters of the part before the legal form (at most
    half of that part), three stars, the legal form."""
    if is_missing(value):
        return ""
    s = str(value).strip()
    if not s:
        return ""
    form = legal_form(s)
    if form:
        body = s[: len(s) - len(form)].rstrip()
        keep = max(1, min(COMPANY_PREFIX_MAX, len(body) // 2))
        return body[:keep] + "*" * NAME_STARS_MAX + form
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
#: How a suppressed cell is written where it leaves the page (a workbook, the brief).
MARK = "*"

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


def hidden(counts: pd.Series, limit: int) -> pd.Series:
    """True for each cell :func:`suppress_counts` hides: a count below ``limit`` (but
    above 0), and the complementary cell when only one would be.

    >>> hidden(pd.Series([120, 3, 40, 9]), 5).tolist()
    [False, True, False, True]
    """
    return suppress_counts(counts, limit).isna() & counts.notna()


def aggregate(
    frame: pd.DataFrame,
    keys: Sequence[str],
    *,
    money: Sequence[str] = (),
    limit: int,
    who: str = "customer_id",
) -> pd.DataFrame:
    """A list of people counted per group of ``keys``: ``rows`` (the list's rows),
    ``customers`` (distinct values of ``who``; the rows when the list has no such
    column), the sum of each ``money`` column and ``hidden``, True for a group of fewer
    than ``limit`` customers and for its complement (:func:`hidden`): every number of
    such a group is shown as ``*``. Groups sorted by ``keys``; a new frame.

    >>> f = pd.DataFrame({"branch": ["1", "1", "1", "2", "3"],
    ...                   "customer_id": ["a", "a", "b", "c", "d"], "aum": [1.0, 2, 4, 8, 16]})
    >>> out = aggregate(f, ["branch"], money=["aum"], limit=2)
    >>> out[["branch", "rows", "customers", "aum", "hidden"]].values.tolist()
    [['1', 3, 2, 7.0, False], ['2', 1, 1, 8.0, True], ['3', 1, 1, 16.0, True]]
    """
    keys, money = list(keys), list(money)
    ids = frame[who] if who in frame else pd.Series(range(len(frame)), index=frame.index)
    rows = frame[keys + money].assign(rows=1, customers=ids)
    out = rows.groupby(keys, as_index=False, sort=True, dropna=False).agg(
        rows=("rows", "sum"),
        customers=("customers", "nunique"),
        **{c: (c, "sum") for c in money},
    )
    out["hidden"] = hidden(out["customers"], limit)
    return out
