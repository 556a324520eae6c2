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
TABLE_EM = (210 - 30) / 25.4 * 72 / 8.5
CELL_PAD_EM = 9 / 8.5
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


def column_shares(head_html: str, rows_html: Sequence[str]) -> list[float] | None:
    """Percent of the table width for each column of the printed table.

    ``head_html`` is the header cells, ``rows_html`` the body rows and the totals row as
    ``Page.table`` formats them. Per column, as the auto table layout would:
    the widest text (max) and the widest piece that cannot wrap (min: a whole
    number, ``white-space: nowrap``; a word; a CJK character; a header of up to
    four CJK characters). If the max widths
    fit, each column gets its max and the rest in proportion to it; else its min
    and a share of the rest in proportion to max - min. ``None`` when even the
    mins do not fit the page: the auto layout (wider than the page) is kept.
    """
    cell_re = re.compile(r'<(t[dh])(?: class="([^"]*)")?[^>]*>(.*?)</t[dh]>')
    piece_re = re.compile(
        r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+"
    )
    lo: list[float] = []
    hi: list[float] = []
    for n, row in enumerate((head_html, *rows_html)):
        for i, (tag, classes, text) in enumerate(cell_re.findall(row)):
            text = html.unescape(text)
            bold = tag == "th"
            wide = text_em(text, bold)
            if n and "num" in classes.split():
                narrow = wide  # numbers (totals too) are kept whole
            else:
                narrow = max((text_em(p, bold) for p in piece_re.findall(text)), default=0.0)
                narrow = max(narrow, min(wide, 2.0))  # CJK punctuation keeps to its neighbour
                if not n and wide <= HEADER_WHOLE_EM:
                    narrow = wide  # a short header (客户名称) stays on one line
            if i == len(hi):
                lo.append(0.0)
                hi.append(0.0)
            lo[i] = max(lo[i], narrow)
            hi[i] = max(hi[i], wide)
    if not hi:
        return None
    room = TABLE_EM - CELL_PAD_EM * len(hi)
    if sum(lo) > room:
        return None
    if sum(hi) == 0:
        widths = [room / len(hi)] * len(hi)
    elif sum(hi) <= room:
        widths = [h * room / sum(hi) for h in hi]
    else:
        ratio = (room - sum(lo)) / (sum(hi) - sum(lo))
        widths = [lw + (h - lw) * ratio for lw, h in zip(lo, hi, strict=True)]
    return [(w + CELL_PAD_EM) / TABLE_EM * 100 for w in widths]
