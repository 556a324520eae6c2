"""Column widths of a printed table from the print font's glyph widths."""

from __future__ import annotations

import pytest

from branchbook import print_layout


def test_text_width_counts_cjk_as_two_latin():
    em = print_layout.text_em
    assert em("客户数") == pytest.approx(3 * 1.03)
    assert em("客户数") > em("abc") * 1.6
    assert em("1,234") == pytest.approx((4 * 0.555 + 0.278) * 1.03)
    assert em("Total", bold=True) > em("Total")


def _row(*cells: str, num: tuple[int, ...] = ()) -> str:
    return (
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in num else f"<td>{c}</td>"
            for i, c in enumerate(cells)
        )
        + "</tr>"
    )


def test_widths_fit_the_widest_text_and_fill_the_table():
    head = '<th>Branch</th><th class="num">Customers</th>'
    shares = print_layout.column_shares(head, [_row("Riverside", "1,234", num=(1,))])
    assert len(shares) == 2 and sum(shares) == pytest.approx(100)
    assert shares[1] > shares[0]  # "Customers" in bold is the widest text of either column


def test_a_number_keeps_its_width_and_text_wraps_when_the_page_is_short():
    long = "word " * 60
    shares = print_layout.column_shares(
        "<th>Reason</th><th>Amount</th>", [_row(long, "1,234,567,890.00", num=(1,))]
    )
    room = print_layout.TABLE_EM
    amount = print_layout.text_em("1,234,567,890.00") + print_layout.CELL_PAD_EM
    assert shares[1] / 100 * room >= amount - 1e-9
    assert shares[0] > shares[1]


def test_text_that_cannot_fit_a4_keeps_the_auto_layout():
    unbreakable = "x" * 400
    assert print_layout.column_shares("<th>A</th>", [_row(unbreakable)]) is None
    assert print_layout.column_shares("", []) is None
