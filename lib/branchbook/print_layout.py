"""Column widths of a printed table, from the CJK font's glyph widths.

The print stylesheet lays a report table out with ``table-layout: fixed`` and these
widths (a ``<colgroup>`` of shares), so WeasyPrint does not measure every cell of every
table: each column gets room for its text as the auto layout would give it, computed
from the advance widths of Noto Sans CJK SC, the print font.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

# The print table (print.css): A4 less 2 x 15 mm, text 8.5 pt, cells padded 6 px
# (4.5 pt) each side; widths in em of the table text. Keep in step with print.css
# (tests/test_page.py prints a table and checks that every text fits its cell).
TABLE_PT = (210 - 30) / 25.4 * 72
TABLE_EM = TABLE_PT / 8.5
CELL_PAD_EM = 9 / 8.5
# A table whose narrowest columns do not fit at 8.5 pt prints denser: the first of
# these (print.css class, text pt, cell padding pt both sides) that holds them, first
# the same text with narrower padding. The last one also breaks numbers and long
# words (``overflow-wrap: anywhere``), so a table never runs past the page at the
# 6.5 pt floor. Keep in step with print.css.
DENSER = (
    ("bb-pt85", 8.5, 6.0),
    ("bb-pt80", 8.0, 6.0),
    ("bb-pt75", 7.5, 6.0),
    ("bb-pt70", 7.0, 6.0),
    ("bb-pt65", 6.5, 6.0),
    ("bb-pt65 bb-wrap", 6.5, 6.0),
)
# The normal print (print.css: 8.5 pt, 6 pt padding both sides), then the denser ones.
PRINT_PT = 8.5
PRINT_STEPS = (("", PRINT_PT, 9.0), *DENSER)
# a header up to this wide (four bold CJK characters) is not broken between lines
HEADER_WHOLE_EM = 4.2

# Advance widths (1/1000 em) of ASCII 32-126 in Noto Sans CJK SC, regular and bold.
ASCII_MILLI_EM = (
    224,
    323,
    474,
    555,
    555,
    921,
    680,
    278,
    338,
    338,
    467,
    555,
    278,
    347,
    278,
    392,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    555,
    278,
    278,
    555,
    555,
    555,
    474,
    946,
    608,
    657,
    638,
    688,
    589,
    552,
    689,
    728,
    293,
    535,
    646,
    543,
    812,
    723,
    742,
    633,
    742,
    635,
    596,
    599,
    721,
    575,
    878,
    573,
    531,
    603,
    338,
    392,
    338,
    555,
    559,
    606,
    563,
    618,
    510,
    620,
    554,
    325,
    564,
    607,
    275,
    275,
    552,
    284,
    926,
    610,
    606,
    620,
    620,
    388,
    468,
    377,
    607,
    521,
    802,
    498,
    521,
    475,
    338,
    270,
    338,
    555,
)
ASCII_MILLI_EM_BOLD = (
    227,
    370,
    574,
    590,
    590,
    963,
    740,
    325,
    378,
    378,
    507,
    590,
    325,
    370,
    325,
    387,
    590,
    590,
    590,
    590,
    590,
    590,
    590,
    590,
    590,
    590,
    325,
    325,
    590,
    590,
    590,
    514,
    1007,
    641,
    681,
    656,
    714,
    615,
    585,
    717,
    757,
    330,
    568,
    686,
    578,
    853,
    749,
    770,
    667,
    770,
    682,
    624,
    625,
    748,
    619,
    915,
    627,
    580,
    613,
    378,
    387,
    378,
    590,
    567,
    626,
    591,
    644,
    527,
    644,
    581,
    372,
    597,
    640,
    304,
    306,
    604,
    315,
    964,
    641,
    626,
    644,
    644,
    436,
    495,
    421,
    637,
    576,
    863,
    562,
    574,
    511,
    378,
    296,
    378,
    590,
)


def text_em(text: str, bold: bool = False) -> float:
    """Width of ``text`` in em of Noto Sans CJK SC (the print font), with 3% to
    spare for kerning and rounding: ASCII from the font's advance widths, CJK,
    full-width and ambiguous-width characters (×, ·, “) 1 em, anything else 0.6."""
    table = ASCII_MILLI_EM_BOLD if bold else ASCII_MILLI_EM
    milli = 0
    for ch in text:
        code = ord(ch)
        if 32 <= code < 127:
            milli += table[code - 32]
        elif unicodedata.east_asian_width(ch) in "WFA":
            milli += 1000
        else:
            milli += 600
    return milli * 1.03 / 1000


_CELL_RE = re.compile(r'<(t[dh])(?: class="([^"]*)")?[^>]*>(.*?)</t[dh]>')
_PIECE_RE = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+"
)


def _column_em(
    head_html: str, rows_html: Sequence[str], wrap: bool = False
) -> tuple[list[float], list[float]]:
    """Per column, the narrowest (min) and widest (max) width of its text, in em.

    min is the widest piece that cannot wrap: a whole number (``white-space:
    nowrap``), a word, a CJK character, a header of up to four CJK characters; with
    ``wrap`` (numbers and words broken anywhere) the widest single character."""
    lo: list[float] = []
    hi: list[float] = []
    for n, row in enumerate((head_html, *rows_html)):
        for i, (tag, classes, text) in enumerate(_CELL_RE.findall(row)):
            text = html.unescape(text)
            bold = tag == "th"
            wide = text_em(text, bold)
            if wrap:
                narrow = max((text_em(ch, bold) for ch in text), default=0.0)
            elif n and "num" in classes.split():
                narrow = wide  # numbers (totals too) are kept whole
            else:
                narrow = max((text_em(p, bold) for p in _PIECE_RE.findall(text)), default=0.0)
                narrow = max(narrow, min(wide, 2.0))  # CJK punctuation keeps to its neighbour
                if not n and wide <= HEADER_WHOLE_EM:
                    narrow = wide  # a short header (客户名称) stays on one line
            if i == len(hi):
                lo.append(0.0)
                hi.append(0.0)
            lo[i] = max(lo[i], narrow)
            hi[i] = max(hi[i], wide)
    return lo, hi


def _shares(lo: list[float], hi: list[float], table_em: float, pad_em: float) -> list[float] | None:
    """Percent of the table for each column (see :func:`column_shares`), or ``None``
    when the mins and paddings do not fit ``table_em``."""
    if not hi:
        return None
    room = table_em - pad_em * len(hi)
    if sum(lo) > room:
        return None
    if sum(hi) == 0:
        widths = [room / len(hi)] * len(hi)
    elif sum(hi) <= room:
        widths = [h * room / sum(hi) for h in hi]
    else:
        ratio = (room - sum(lo)) / (sum(hi) - sum(lo))
        widths = [lw + (h - lw) * ratio for lw, h in zip(lo, hi, strict=True)]
    return [(w + pad_em) / table_em * 100 for w in widths]


def column_shares(head_html: str, rows_html: Sequence[str]) -> list[float] | None:
    """Percent of the table width for each column of the printed table at 8.5 pt.

    ``head_html`` is the header cells, ``rows_html`` the body rows and the totals row as
    ``Page.table`` formats them. Per column, as the auto table layout would:
    the widest text (max) and the widest piece that cannot wrap (min: a whole
    number, ``white-space: nowrap``; a word; a CJK character; a header of up to
    four CJK characters). If the max widths
    fit, each column gets its max and the rest in proportion to it; else its min
    and a share of the rest in proportion to max - min. ``None`` when even the
    mins do not fit the page (:func:`print_fit` then prints the table denser).
    """
    lo, hi = _column_em(head_html, rows_html)
    return _shares(lo, hi, TABLE_EM, CELL_PAD_EM)


def _fit(head_html: str, rows_html: Sequence[str]) -> tuple[int, str, list[float]] | None:
    """The step of :data:`PRINT_STEPS` that fits the table on A4, its class and column
    shares (see :func:`print_fit`); ``None`` when none does."""
    lo, hi = _column_em(head_html, rows_html)
    for step, (css_class, font_pt, pad_pt) in enumerate(PRINT_STEPS):
        if css_class.endswith("bb-wrap"):
            lo, hi = _column_em(head_html, rows_html, wrap=True)
        shares = _shares(lo, hi, TABLE_PT / font_pt, pad_pt / font_pt)
        if shares is not None:
            return step, css_class, shares
    return None


def print_fit(head_html: str, rows_html: Sequence[str]) -> tuple[str, list[float]] | None:
    """The print.css class and column shares that fit the table on A4.

    ``("", shares)`` at the normal 8.5 pt when :func:`column_shares` fits; else the
    first of :data:`DENSER` whose mins fit, its widths computed for its text size and
    padding, down to 6.5 pt with numbers and words broken anywhere. ``None`` only for
    a table without cells or of so many columns that one character each cannot fit.

    >>> print_fit('<th>A</th>', ['<tr><td class="num">1,234</td></tr>'])[0]
    ''
    """
    fit = _fit(head_html, rows_html)
    return None if fit is None else (fit[1], fit[2])


def print_step(head_html: str, rows_html: Sequence[str]) -> int:
    """How much denser than normal the table prints on A4: its index in
    :data:`PRINT_STEPS` (0 the normal 8.5 pt, 1 the same text with narrower padding,
    then smaller text), ``len(PRINT_STEPS)`` when it cannot fit at all. A lower step
    is a more readable print."""
    fit = _fit(head_html, rows_html)
    return len(PRINT_STEPS) if fit is None else fit[0]


def at_print_font(step: int) -> bool:
    """Whether a table of :func:`print_step` ``step`` prints at the print font
    (:data:`PRINT_PT`), only its cell padding narrowed at most."""
    return step < len(PRINT_STEPS) and PRINT_STEPS[step][1] >= PRINT_PT
