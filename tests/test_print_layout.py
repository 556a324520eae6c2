"""Column widths of a printed table from the print font's glyph widths."""

from __future__ import annotations

import re

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


def test_text_that_cannot_fit_a4_at_8_5_pt_has_no_widths_at_that_size():
    unbreakable = "x" * 400
    assert print_layout.column_shares("<th>A</th>", [_row(unbreakable)]) is None
    assert print_layout.column_shares("", []) is None
    assert print_layout.print_fit("", []) is None


def _money_table(n: int, value: str) -> tuple[str, list[str]]:
    head = "<th>From</th>" + "".join(f'<th class="num">Class {i}</th>' for i in range(n))
    row = _row("Special mention", *[value] * n, num=tuple(range(1, n + 1)))
    return head, [row, row.replace("<td>", "<th>").replace("</td>", "</th>")]


def _fits(head: str, rows: list[str], font_pt: float, pad_pt: float, shares, wrap=False):
    """Every column's share of A4 holds its narrowest text and padding at font_pt."""
    lo, _ = print_layout._column_em(head, rows, wrap=wrap)
    table_pt = print_layout.TABLE_PT
    return all(
        s / 100 * table_pt >= (w * font_pt + pad_pt) - 1e-6 for s, w in zip(shares, lo, strict=True)
    )


def test_a_table_that_fits_at_8_5_pt_prints_as_before():
    head, rows = _money_table(4, "1,234,567.00")
    assert print_layout.print_fit(head, rows) == ("", print_layout.column_shares(head, rows))


def test_a_table_too_wide_for_8_5_pt_prints_at_the_first_smaller_size_that_holds_it():
    # a label and ten whole numbers "12,345,678", bold in the totals row: their
    # narrowest widths and paddings take 573 pt at 8.5 pt, 540 pt with 3 pt padding a
    # side, 512 pt at 8 pt and 484 pt at 7.5 pt; the A4 text width is 510 pt
    head, rows = _money_table(10, "12,345,678")
    assert print_layout.column_shares(head, rows) is None
    css_class, shares = print_layout.print_fit(head, rows)
    assert css_class == "bb-pt75"
    assert sum(shares) == pytest.approx(100)
    assert _fits(head, rows, 7.5, 6.0, shares)
    # the sizes before it cannot hold the whole numbers
    lo, _ = print_layout._column_em(head, rows)
    for font_pt in (8.5, 8.0):
        assert sum(w * font_pt + 6.0 for w in lo) > print_layout.TABLE_PT


def test_a_table_just_too_wide_for_8_5_pt_keeps_its_text_size_with_narrower_padding():
    # a label and nine numbers: 520 pt at 8.5 pt with 4.5 pt padding a side, 490 pt
    # with 3 pt, of the 510 pt text width (as 0101's AUM by asset tier: 524 and 494 pt)
    head, rows = _money_table(9, "12,345,678")
    assert print_layout.column_shares(head, rows) is None
    css_class, shares = print_layout.print_fit(head, rows)
    assert css_class == "bb-pt85"
    assert _fits(head, rows, 8.5, 6.0, shares)


@pytest.mark.parametrize("value", ["CNY 1,234,567,890.00", "1,234,567,890.00"])
def test_a_table_too_wide_at_the_floor_breaks_its_numbers_rather_than_the_page(value):
    head, rows = _money_table(12, value)
    css_class, shares = print_layout.print_fit(head, rows)
    assert css_class == "bb-pt65 bb-wrap"
    assert len(shares) == 13 and sum(shares) == pytest.approx(100)
    assert _fits(head, rows, 6.5, 6.0, shares, wrap=True)
    # still a number's width where there is room: the label column is not starved
    assert min(shares[1:]) > 100 / 13 * 0.5


def test_the_denser_steps_match_print_css():
    from pathlib import Path

    css = (Path(print_layout.__file__).parent / "templates" / "print.css").read_text()
    padded = re.search(r"([^}]*)\{ padding: 3px 4px; \}", css).group(1)  # 3 pt a side
    for css_class, font_pt, pad_pt in print_layout.DENSER:
        size = css_class.split()[0]
        assert f"table.{size} {{ font-size: {font_pt:g}pt; }}" in css
        assert pad_pt == 6.0 and f"table.{size} td" in padded and f"table.{size} th" in padded
    assert "table.bb-wrap td { white-space: normal; overflow-wrap: anywhere; }" in css


def test_print_step_says_how_much_denser_a_table_prints():
    """0 at 8.5 pt, 1 with narrower padding (still the print font), then the smaller
    sizes, and one past the last step for a table that cannot fit at all."""
    steps = [print_layout.print_step(*_money_table(n, "12,345,678")) for n in (4, 9, 10)]
    assert steps == [0, 1, 3]
    assert [print_layout.at_print_font(s) for s in steps] == [True, True, False]
    last = len(print_layout.PRINT_STEPS)
    assert print_layout.print_step(*_money_table(100, "1")) == last  # 6 pt padding each
    assert not print_layout.at_print_font(last)
