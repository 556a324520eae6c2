"""Report blocks: escaped, masked, suppressed, formatted per locale, from the catalogue."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from branchbook import i18n, print_layout
from branchbook import page as page_mod
from branchbook.params import Rag

BRANCH = {
    "branch_id": "0101",
    "name": "Pudong <b>Lujiazui</b>",
    "name_zh": "浦东陆家嘴支行",
    "region": "East",
}


def make(locale="en", report="segmentation", **kw) -> page_mod.Page:
    return page_mod.Page(
        report=report,
        locale=locale,
        bank_name="Demo Bank",
        branch=BRANCH,
        period="2026-10",
        data_as_of="2026-10-31",
        live=False,
        **kw,
    )


def html_of(p: page_mod.Page) -> BeautifulSoup:
    return BeautifulSoup(p.html(), "html.parser")


def test_title_block_in_each_locale():
    p = make("zh-CN")
    p.title()
    text = html_of(p).get_text()
    assert "客户分类与分级" in text and "浦东陆家嘴支行" in text and "华东" in text
    assert "2026年10月" in text and "2026年10月31日" in text
    en = make("en")
    en.title()
    # the branch name from the data is escaped, not markup
    assert "Pudong &lt;b&gt;Lujiazui&lt;/b&gt;" in en.html()
    assert not html_of(en).find("b")


def test_table_formats_masks_and_totals():
    df = pd.DataFrame(
        {
            "name": ["张三丰", "<script>alert(1)</script>"],
            "asset_tier": ["mass", "private"],
            "customers": [120, 40],
            "aum": [1_234_567.0, -56_000.0],
            "aum_share": [0.75, 0.25],
        }
    )
    p = make("zh-CN")
    p.table(
        df,
        {
            "name": "text",
            "asset_tier": "label:segmentation.values.asset_tier",
            "customers": "int",
            "aum": "money",
            "aum_share": "pct",
        },
        total=True,
    )
    soup = html_of(p)
    cells = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    assert cells[0] == ["张**", "大众客户", "120", "123.5万元", "75.0%"]
    assert cells[1][0].startswith("<") and set(cells[1][0][1:]) == {"*"}  # masked and escaped
    assert not soup.find("script")
    assert soup.select("td.neg")[0].get_text() == "-5.6万元"
    total = [th.get_text() for th in soup.select("tfoot th")]
    assert total == ["合计", "", "160", "117.9万元", ""]  # 1,234,567 - 56,000 = 1,178,567
    heads = [th.get_text() for th in soup.select("thead th")]
    assert heads[2] == "客户数"
    assert soup.select("thead th")[2]["class"] == ["num"]


def test_small_counts_suppressed_with_a_complement():
    df = pd.DataFrame(
        {
            "asset_tier": ["mass", "affluent", "wealth", "private"],
            "customers": [120, 3, 40, 9],
            "customer_share": [120 / 172, 3 / 172, 40 / 172, 9 / 172],
            "aum": [9e6, 2e5, 4e6, 8e5],
        }
    )
    p = make("en", suppress_below=5)
    p.table(
        df,
        {"asset_tier": "text", "customers": "int", "customer_share": "pct", "aum": "money"},
        suppress=["customers"],
        total=True,
    )
    soup = html_of(p)
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    # 3 < 5 is hidden with its whole row (its share would give it back); 9 is the
    # complement, so 172 - 120 - 40 cannot be split between the two.
    assert rows == [
        ["mass", "120", "69.8%", "CNY 9.00m"],
        ["affluent", "*", "*", "*"],
        ["wealth", "40", "23.3%", "CNY 4.00m"],
        ["private", "*", "*", "*"],
    ]
    assert [th.get_text() for th in soup.select("tfoot th")][1] == "172"
    assert "fewer than 5 customers" in soup.select_one(".bb-suppressed-note").get_text()


def test_long_tables_move_to_the_appendix():
    df = pd.DataFrame({"customers": range(30)})
    p = make("en")
    p.section("asset_tiers")
    p.table(df, {"customers": "int"}, max_rows=10)
    body = html_of(p)
    assert len(body.select("tbody tr")) == 10
    assert "first 10 of 30 rows" in body.get_text()
    p.appendix()
    appendix = BeautifulSoup(p.blocks[-1], "html.parser")
    assert len(appendix.select("tbody tr")) == 20
    assert appendix.find("h3").get_text() == "Asset tiers (continued from row 11)"


def test_empty_table_says_so():
    p = make("en")
    p.table(pd.DataFrame({"customers": []}), {"customers": "int"})
    assert "No rows for this branch." in html_of(p).get_text()


def test_missing_column_is_named():
    with pytest.raises(KeyError, match="aum"):
        make().table(pd.DataFrame({"x": [1]}), {"aum": "money"})


@pytest.mark.parametrize(
    "value, prev, kind, expected",
    [
        (0.30, 0.25, "pct", "+5.0 pp"),
        (110, 100, "int", "+10.0%"),
        (2_000_000, 2_500_000, "money", "-20.0%"),
        (-6.92, 7.8, "num", "-14.7"),  # NPS: points, not -188.7%
        (5, 0, "int", ""),
    ],
)
def test_kpi_change_reads_in_the_right_unit(value, prev, kind, expected):
    assert page_mod.kpi_change(value, prev, kind, "en") == expected


def test_kpi_cards_status_rule_and_headline():
    rag = {"active_share": Rag(good="high", green=0.6, amber=0.4)}
    cards = page_mod.cards(
        {"customers": 3016.0, "active_share": 0.5},
        kinds={"customers": "int", "active_share": "pct"},
        prev={"customers": 3000.0, "active_share": 0.55},
        bank={"active_share": 0.7},
        rag=rag,
    )
    assert [c.status for c in cards] == ["none", "amber"]
    p = make("en")
    p.kpi_cards(cards)
    soup = html_of(p)
    amber = soup.select_one(".bb-kpi.bb-amber")
    assert amber.select_one(".bb-kpi-value").get_text() == "50.0%"
    assert "-5.0 pp" in amber.get_text() and "70.0%" in amber.get_text()
    assert "Green ≥ 60.00%" in amber.get_text()
    assert (
        p.headline["customers"]["value"] == 3016.0
        and p.headline["active_share"]["status"] == "amber"
    )


def test_summary_sentences_from_facts():
    p = make("en")
    p.summary([("segmentation.summary.high_value", {"count": 262, "aum_share": 0.704})])
    assert html_of(p).select_one(".bb-summary li").get_text() == (
        "262 high-value customers (wealth and private tiers) hold 70.4% of the branch's AUM."
    )


def test_section_heading_ids_and_definitions():
    p = make("zh-CN")
    p.section("asset_tiers")
    p.definitions({"gini": "segmentation.definitions.gini"})
    soup = html_of(p)
    assert soup.find("h2", id="sec-asset_tiers").get_text() == "资产等级"
    assert soup.select_one(".bb-definitions dt").get_text() == "基尼系数"


def test_missing_translation_fails_loudly():
    from branchbook.i18n import MissingText

    with pytest.raises(MissingText):
        make("zh-CN").section("no_such_section")


# -- column widths of the printed table ------------------------------------------------


def col_shares(p: page_mod.Page) -> list[float]:
    import re

    table = html_of(p).select_one("div.bb-table table")
    assert "bb-fixed" in table.get("class", [])
    cols = table.select("colgroup > col")
    # a custom property only: the print sheet reads it, a browser's layout ignores it
    return [float(re.fullmatch(r"--bb-w:([0-9.]+)%", c["style"]).group(1)) for c in cols]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_print_column_widths_from_the_text(locale):
    reason = (
        "客户近三个月资产大幅下降且多次致电投诉，需要客户经理尽快回访"
        if locale == "zh-CN"
        else "Assets fell sharply over three months and the customer complained twice; call back soon"
    )
    df = pd.DataFrame(
        {
            "reason": [reason, "–"],
            "customer_id": ["C0013954", "C0002145"],
            "customers": [1_234_567, 8],
            "aum": [1_234_567_890.0, -56_000.0],
            "aum_share": [0.75, 0.25],
        }
    )
    p = make(locale)
    p.table(
        df,
        {
            "reason": "text",
            "customer_id": "text",
            "customers": "int",
            "aum": "money",
            "aum_share": "pct",
        },
        total=True,
    )
    shares = col_shares(p)
    assert len(shares) == 5
    assert sum(shares) == pytest.approx(100, abs=0.05)
    assert shares[0] == max(shares)  # the long text takes the room and wraps...
    # ...while every number keeps the width of its widest text (numbers do not wrap)
    table_em, pad_em = print_layout.TABLE_EM, print_layout.CELL_PAD_EM
    soup = html_of(p)
    for i in (2, 3, 4):
        texts = [tr.find_all(["td", "th"])[i] for tr in soup.select("tbody tr, tfoot tr")]
        widest = max(print_layout.text_em(c.get_text(), bold=c.name == "th") for c in texts)
        assert shares[i] / 100 * table_em >= widest + pad_em - 1e-9


def test_print_column_widths_in_proportion_when_everything_fits():
    df = pd.DataFrame({"customers": [1, 2], "mean_txn_90d": [3.5, 4.25]})
    p = make("en")
    p.table(df, {"customers": "int", "mean_txn_90d": "num"})
    narrow, wide = col_shares(p)
    assert narrow < wide  # "Average transactions (90 days)" is the longer header
    assert narrow + wide == pytest.approx(100, abs=0.05)


def test_a_word_too_long_for_the_page_breaks_at_the_smallest_print_size():
    # the auto layout this used to keep laid the table out wider than the page: cut
    df = pd.DataFrame({"reason": ["x" * 200], "customers": [1]})
    p = make("en")
    p.table(df, {"reason": "text", "customers": "int"})
    table = html_of(p).select_one("div.bb-table table")
    assert table["class"] == ["bb-fixed", "bb-pt65", "bb-wrap"]
    assert len(col_shares(p)) == 2
    assert printed_cells_inside(p) == 4


def test_truncated_table_and_its_appendix_share_the_widths():
    df = pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(30)], "customers": range(30)})
    p = make("zh-CN")
    p.section("asset_tiers")
    p.table(df, {"customer_id": "text", "customers": "int"}, max_rows=10)
    p.appendix()
    body = BeautifulSoup(p.blocks[1], "html.parser").select("colgroup col")
    appendix = BeautifulSoup(p.blocks[-1], "html.parser").select("colgroup col")
    assert [c["style"] for c in body] == [c["style"] for c in appendix]


@pytest.mark.parametrize(
    ("locale", "note", "heading"),
    [
        (
            "en",
            "Showing the first 10 of 30 rows; the other 20 continue in the appendix.",
            "(continued from row 11)",
        ),
        ("zh-CN", "仅显示前 10 行（共 30 行），其余 20 行续见附录。", "（续，自第 11 行起）"),
    ],
)
def test_truncated_table_continues_in_the_appendix_without_repeating_rows(locale, note, heading):
    ids = [f"C{i:07d}" for i in range(30)]
    p = make(locale)
    p.section("asset_tiers")
    p.table(
        pd.DataFrame({"customer_id": ids, "customers": range(30)}),
        {"customer_id": "text", "customers": "int"},
        max_rows=10,
        total=True,
    )
    p.appendix()
    page = BeautifulSoup("".join(p.blocks), "html.parser")
    body, cont = page.select("div.bb-table table")
    first_cells = [[tr.find("td").get_text() for tr in t.select("tbody tr")] for t in (body, cont)]
    assert first_cells == [ids[:10], ids[10:]]
    assert page.find(string=note) is not None
    assert page.select_one("#appendix h3").get_text().endswith(heading)
    # the totals row is of the whole table, under both parts
    assert [t.select_one("tfoot tr > :last-child").get_text() for t in (body, cont)] == [
        "435",
        "435",
    ]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_printed_fixed_table_fits_its_cells_and_the_page(locale):
    """The widths Page.table computes hold the text WeasyPrint draws (print.css
    font size, padding and A4 page): no text past its cell, no table past the page."""
    p = make(locale)
    p.title()
    rng = __import__("random").Random(1)
    words = (
        ["客户", "资产", "大幅", "下降", "投诉", "回访", "经营", "现金流"]
        if locale == "zh-CN"
        else ["assets", "fell", "sharply", "complained", "call", "back", "operating", "cash"]
    )
    df = pd.DataFrame(
        {
            "reason": [
                ("" if locale == "zh-CN" else " ").join(rng.choices(words, k=rng.randint(1, 14)))
                for _ in range(40)
            ],
            "customer_id": [f"C{rng.randint(0, 10**7):07d}" for _ in range(40)],
            "customers": [rng.randint(0, 10**6) for _ in range(40)],
            "aum": [rng.uniform(-1e9, 1e10) for _ in range(40)],
            "aum_prev": [rng.uniform(0, 1e10) for _ in range(40)],
            "aum_share": [rng.random() for _ in range(40)],
            "customer_share": [rng.random() for _ in range(40)],
            "mean_tenure": [rng.uniform(0, 300) for _ in range(40)],
        }
    )
    p.table(
        df,
        {
            "reason": "text",
            "customer_id": "text",
            "customers": "int",
            "aum": "money",
            "aum_prev": "money",
            "aum_share": "pct",
            "customer_share": "pct",
            "mean_tenure": "num",
        },
        total=True,
        max_rows=40,
    )
    assert col_shares(p)
    assert printed_cells_inside(p) >= 41 * 8


def printed_cells_inside(p: page_mod.Page) -> int:
    """Print the page with print.css and check every text of every table cell lies
    inside its cell and every table inside the page's text width; the cells counted."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    from branchbook.output import html as render

    doc = HTML(string=render.page_html(p.blocks, p._meta())).render()

    def walk(box):
        yield box
        for child in getattr(box, "children", None) or []:
            yield from walk(child)

    cells = 0
    for page in doc.pages:
        page_right = page._page_box.content_box_x() + page._page_box.width
        for box in walk(page._page_box):
            if isinstance(box, boxes.TableBox):
                assert box.position_x + box.margin_width() <= page_right + 0.5
            if isinstance(box, boxes.TableCellBox):
                cells += 1
                left, right = box.content_box_x() - 0.5, box.content_box_x() + box.width + 0.5
                for text in walk(box):
                    if isinstance(text, boxes.TextBox):
                        assert left <= text.position_x and text.position_x + text.width <= right, (
                            text.text
                        )
                        assert text.position_x + text.width <= page_right + 0.5, text.text
    return cells


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize(
    "money",
    [
        ["opening", "new", "growth", "decline", "repaid", "written_off", "restructured", "closing"],
        [
            "opening",
            "new",
            "growth",
            "decline",
            "lost",
            "repaid",
            "written_off",
            "restructured",
            "closed",
            "closing",
        ],
    ],
    ids=["10-columns", "12-columns"],
)
def test_a_wide_money_table_prints_denser_inside_the_page(locale, money):
    """A roll-forward table (loans by customer manager): a name, a count and 8-10
    money columns of balances in the billions, a totals row. Too wide for A4 at 8.5 pt
    (it was laid out wider than the page, its last column cut at the paper's edge):
    printed denser, every text inside its cell and the page."""
    rng = __import__("random").Random(len(money))
    df = pd.DataFrame(
        {
            "manager": ["Wang Xiaoming", "Li Na", "Zhang Wei", "Chen Jing", "Liu Yang"],
            "loans": [rng.randint(0, 99_999) for _ in range(5)],
            **{c: [rng.uniform(-9e9, 9.9e10) for _ in range(5)] for c in money},
        }
    )
    p = make(locale, report="risk")
    p.title()
    p.table(
        df,
        {"manager": "text", "loans": "int", **dict.fromkeys(money, "money")},
        headers="loan_bridge_columns",
        total=True,
    )
    table = html_of(p).select_one("div.bb-table table")
    assert set(table["class"]) & {"bb-pt80", "bb-pt75", "bb-pt70", "bb-pt65"}
    assert len(col_shares(p)) == len(money) + 2
    assert printed_cells_inside(p) == 7 * (len(money) + 2)


def test_a_chart_is_described_by_its_title_for_screen_readers():
    p = make("en")
    df = pd.DataFrame({"customers": [0.6, 0.4], "aum": [0.3, 0.7]}, index=["retail", "corporate"])
    p.bar_chart("type_split", df, ["customers", "aum"], labels="type", percent=True)
    img = html_of(p).find("figure", class_="bb-chart").find("img")
    assert img["alt"] == "Customers and AUM by customer type"
    assert img["src"].startswith("data:image/png;base64,")


def test_heat_table_shows_every_value_tinted_by_its_size():
    """A matrix as a heat table: translated labels, axis names in the corner, each value
    formatted in its cell, the lowest value in the lightest class and the highest in the
    darkest, a missing value as a dash with no tint."""
    matrix = pd.DataFrame(
        [[5.0, 0.0, float("nan")], [10.0, 2.5, 1.0]],
        index=["mass", "affluent"],
        columns=["mass", "affluent", "wealth"],
    )
    p = make("en")
    p.heat_table("rfm_grid", matrix, rows="asset_tier", cols="asset_tier", number="{:.1f}")
    soup = html_of(p)
    table = soup.select_one("div.bb-heat table")
    assert table.caption.get_text() == "Customers by recency and frequency score"
    assert [th.get_text() for th in table.select("thead th")] == [
        "Recency score (R) \\ Frequency score (F)",
        "Mass",
        "Affluent",
        "Wealth",
    ]
    rows = table.select("tbody tr")
    assert [r.th.get_text() for r in rows] == ["Mass", "Affluent"]
    cells = [[(td.get_text(), td["class"][-1]) for td in r.find_all("td")] for r in rows]
    # 0..10 over nine classes: 5.0 -> 4, 2.5 -> 2, 1.0 -> 0.8 rounds to 1
    assert cells == [
        [("5.0", "bb-h4"), ("0.0", "bb-h0"), ("–", "bb-none")],
        [("10.0", "bb-h8"), ("2.5", "bb-h2"), ("1.0", "bb-h1")],
    ]
    assert not soup.find("img")  # a table, not a picture


def test_heat_cells_all_equal_or_missing():
    assert page_mod.heat_cells([[3.0, 3.0]]) == [[("3", 0), ("3", 0)]]
    assert page_mod.heat_cells([[float("nan"), None]]) == [[(None, None), (None, None)]]


SCORE_KPIS = (
    "new_customers net_new_aum deposit_growth loan_growth products_per_customer npl_ratio "
    "new_npl_rate csat complaint_rate closure_rate kyc_complete_rate aml_open_rate"
).split()


def score_matrix(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A staff KPI score matrix of ``n`` managers (columns, best first) and who they are."""
    managers = [f"王{i:03d}" for i in range(n)]
    values = [[float((7 * i + 3 * j) % 101) for j in range(n)] for i in range(len(SCORE_KPIS))]
    values[0][1] = float("nan")
    names = pd.DataFrame(
        {"staff_name": managers, "branch": [f"城东支行 ({101 + j % 12:04d})" for j in range(n)]}
    )
    return pd.DataFrame(values, index=SCORE_KPIS, columns=managers), names


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_few_managers_keep_the_kpis_as_rows(locale):
    """A branch's grade of a few managers: KPIs down, managers across, and the names
    of the transposed form change nothing."""
    matrix, names = score_matrix(8)
    p, plain = make(locale, report="staff_kpi"), make(locale, report="staff_kpi")
    p.heat_table("scores", matrix, rows="metrics", grade="Senior", names=names)
    plain.heat_table("scores", matrix, rows="metrics", grade="Senior")
    assert p.blocks == plain.blocks and not p.appendix_blocks
    table = html_of(p).select_one("div.bb-heat table")
    assert [th.get_text() for th in table.select("thead th")][1:] == list(matrix.columns)
    assert len(table.select("tbody tr")) == len(SCORE_KPIS)
    assert "bb-wrap" not in table.get("class", [])


@pytest.mark.parametrize(
    ("locale", "heads"), [("en", ["Manager", "Branch"]), ("zh-CN", ["客户经理", "网点"])]
)
def test_many_managers_are_rows_best_first_and_continue_in_the_appendix(locale, heads):
    """A grade across the bank (100 managers) does not fit across A4: one row per
    manager with the branch, in the matrix's order, the KPIs across, each cell tinted as
    in the matrix; the first 25 rows in the page, the rest in the appendix, as long
    tables do."""
    matrix, names = score_matrix(100)
    p = make(locale, report="staff_kpi")
    p.section("scores")
    p.heat_table("scores", matrix, rows="metrics", grade="Senior", names=names)
    body = BeautifulSoup(p.blocks[-2], "html.parser").select_one("div.bb-heat table")
    note = BeautifulSoup(p.blocks[-1], "html.parser").get_text()
    assert p.t("common.truncated", shown=25, total=100, rest=75) in note
    kpis = [i18n.label("staff_kpi.values.metrics", k, locale) for k in SCORE_KPIS]
    assert [th.get_text() for th in body.select("thead th")] == [*heads, *kpis]
    rows = body.select("tbody tr")
    assert [r.th.get_text() for r in rows] == list(matrix.columns[:25])
    assert rows[3].find("td").get_text() == names["branch"][3]
    levels = page_mod.heat_cells(matrix.to_numpy(dtype=float))
    tints = [[td["class"][-1] for td in r.find_all("td")[1:]] for r in rows]
    assert tints[1][0] == "bb-none"
    assert tints[2] == [f"bb-h{row[2][1]}" for row in levels]
    # printed at the print font or a step or two below it, never cut or squeezed
    assert not {"bb-pt65", "bb-wrap"} & set(body["class"])
    p.appendix()
    appendix = BeautifulSoup(p.blocks[-1], "html.parser")
    title = p.rt("charts.scores.title", grade="Senior")
    assert appendix.find("h3").get_text() == p.t("common.continued", title=title, first=26)
    cont = appendix.select_one("div.bb-heat table")
    assert [r.th.get_text() for r in cont.select("tbody tr")] == list(matrix.columns[25:])
    assert [c["style"] for c in cont.select("col")] == [c["style"] for c in body.select("col")]


def test_a_square_matrix_too_wide_stays_as_it_is():
    """Only a matrix wider than tall turns: a square one too wide for the print font
    (a transition matrix reads from its rows to its columns) is left as it is."""
    matrix = pd.DataFrame(
        [[1.0] * 30] * 30, index=[f"r{i}" for i in range(30)], columns=[f"c{i}" for i in range(30)]
    )
    p = make("en")
    p.heat_table("rfm_grid", matrix)
    rows = html_of(p).select("div.bb-heat tbody tr")
    assert [r.th.get_text() for r in rows] == list(matrix.index) and not p.appendix_blocks


def test_heat_classes_are_readable_and_beat_the_zebra_rows():
    """Every tint class sets a text colour with a WCAG contrast of at least 4.5:1, and
    the rule is more specific than the zebra rows' background."""
    import re

    from branchbook.output import html as render

    css = (render.TEMPLATES / "report.css").read_text(encoding="utf-8")
    rules = re.findall(
        r"(\S+ td\.bb-h\d) \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{3}); \}", css
    )
    assert [sel for sel, _, _ in rules] == [
        f".bb-table.bb-heat td.bb-h{i}" for i in range(page_mod.HEAT_LEVELS)
    ]

    def luminance(colour: str) -> float:
        colour = colour.lstrip("#")
        if len(colour) == 3:
            colour = "".join(c * 2 for c in colour)
        channels = [int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    for _, background, ink in rules:
        a, b = sorted((luminance(background), luminance(ink)))
        assert (b + 0.05) / (a + 0.05) >= 4.5, (background, ink)
    assert luminance(rules[0][1]) > luminance(rules[-1][1])  # light to dark
    # (0,3,1) against the zebra rule's .bb-table tbody tr:nth-child(even) td (0,2,3)
    assert ".bb-table tbody tr:nth-child(even) td" in css


def test_a_notice_is_one_box_with_escaped_lines():
    p = make("en")
    p.notice("Data quality warnings", ["2 complaints <open>", "7 surveys"])
    box = html_of(p).find("aside", class_="bb-notice")
    assert box["role"] == "note"
    assert box.find("p").get_text() == "Data quality warnings"
    assert [li.get_text() for li in box.find_all("li")] == ["2 complaints <open>", "7 surveys"]
    assert "&lt;open&gt;" in p.html()


def test_a_short_cjk_header_is_not_broken_over_two_lines():
    # masked names are short: without the rule the name column got less than its
    # header's four characters and printed 客户名 / 称 on two lines
    df = pd.DataFrame(
        {
            "customer_id": ["C0013954", "C0016369"],
            "name": ["上***", "星***"],
            "reason": ["营业收入下降而存货上升、资产负债率超过上限、经营活动现金流为负" * 2] * 2,
        }
    )
    p = make("zh-CN")
    p.table(df, {"customer_id": "text", "name": "text", "reason": "text"}, headers="columns")
    shares = col_shares(p)
    header = html_of(p).select("thead th")[1].get_text()
    assert header == "客户名称"
    table_em, pad_em = print_layout.TABLE_EM, print_layout.CELL_PAD_EM
    assert shares[1] / 100 * table_em >= print_layout.text_em(header, bold=True) + pad_em - 1e-9


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_bridge_charts_from_the_catalogue(locale):
    from branchbook import segmentation as sg
    from branchbook.stats import rate_mix

    rows = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "manager_id": ["S1", "S2"],
            "open_now": [True, True],
            "open_prev": [True, False],
            "open_year": [True, False],
            "aum": [120_000.0, 700_000.0],
            "aum_prev": [100_000.0, float("nan")],
            "aum_year": [90_000.0, float("nan")],
            "deposits": [20_000.0, 700_000.0],
            "deposits_prev": [10_000.0, float("nan")],
            "deposits_year": [10_000.0, float("nan")],
        }
    )
    p = make(locale)
    whole = sg.bridge_total(rows, sg.Settings(), base="month")
    p.waterfall_chart("bridge_aum", whole, base="x", opening=whole["opening"], closing=100.0)
    s = lambda *v: pd.Series(v, index=["a", "b"], dtype=float)  # noqa: E731
    p.rate_mix_chart("bridge_aum", rate_mix(s(1, 2), s(10, 10), s(2, 2), s(10, 30)), base="x",
                     opening=1.0, closing=2.0)  # fmt: skip
    # a ratio in its own unit (CSAT points) is drawn as it is
    p.rate_mix_chart("bridge_aum", rate_mix(s(80, 90), s(1, 1), s(70, 90), s(1, 1)), base="x",
                     opening=85.0, closing=80.0, scale=1)  # fmt: skip
    alts = [img["alt"] for img in html_of(p).select("figure img")]
    assert len(alts) == 3 and all(alts)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_waterfall_draws_the_steps_it_is_given_with_their_own_names(locale, monkeypatch):
    from branchbook import charts, i18n

    seen = {}
    real = charts.waterfall

    def spy(labels, values, **kw):
        seen.update(labels=list(labels), values=list(values))
        return real(labels, values, **kw)

    monkeypatch.setattr(charts, "waterfall", spy)
    p = page_mod.Page(report="risk", locale=locale, bank_name="Demo Bank", branch=BRANCH,
                      period="2026-10", data_as_of="2026-10-31", live=False)  # fmt: skip
    whole = pd.Series({"opening": 100.0, "new": 20.0, "decline": -5.0, "repaid": -10.0,
                       "written_off": -5.0, "closing": 100.0})  # fmt: skip
    steps = ["opening", "new", "decline", "repaid", "written_off", "closing"]
    p.waterfall_chart("bridge_loans", whole, steps=steps, names="risk.bridge", base="x",
                      opening=100.0, closing=100.0)  # fmt: skip
    assert seen["labels"] == [i18n.t(f"risk.bridge.{c}", locale) for c in steps]
    assert seen["values"] == [100.0, 20.0, -5.0, -10.0, -5.0, 100.0]
    assert html_of(p).select("figure img")[0]["alt"]


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_an_action_list_says_how_much_is_shown_and_keeps_every_row_for_the_workbook(locale):
    df = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "name": ["上海华信贸易有限公司", "张三丰", "上海金源贸易有限公司"],
            "reason": ["slipped_tier", "dormant_high_value", "both"],
            "aum": [3e6, 2e6, 1e6],
        }
    )
    cols = {
        "customer_id": "text",
        "name": "text",
        "reason": "label:segmentation.values.reason",
        "aum": "money",
    }
    p = make(locale)
    p.action_table("customers_to_contact", df, cols, shown=2)
    page = html_of(p)
    assert len(page.select("tbody tr")) == 2
    note = page.find("p", class_="bb-actions-note")
    expected = i18n.t("common.actions.some_shown", locale, shown=2, total=3)
    assert note.get_text().startswith(expected)
    assert note.find("a")["href"] == "segmentation.xlsx"
    # no full name anywhere, on the page or in the list for the workbook
    assert "上海华信贸易有限公司" not in p.html() and "张三丰" not in p.html()
    kept = p.actions["customers_to_contact"]
    assert kept["columns"] == list(cols)
    assert [r[0] for r in kept["rows"]] == ["C1", "C2", "C3"]
    assert kept["rows"][0][1] == "上海华***有限公司" and kept["rows"][1][1] == "张**"
    assert kept["rows"][2][2] == i18n.label("segmentation.values.reason", "both", locale)
    assert kept["rows"][0][3] == 3e6
    assert json.loads(p.meta_json())["actions"] == p.actions


def test_an_action_list_shown_whole_says_so():
    df = pd.DataFrame({"customer_id": ["C1"], "aum": [1.0]})
    p = make("en")
    p.action_table("customers_to_contact", df, {"customer_id": "text", "aum": "money"}, shown=50)
    assert "All 1 shown" in html_of(p).find("p", class_="bb-actions-note").get_text()


@pytest.mark.parametrize(("locale", "unit"), [("zh-CN", "万元"), ("en", "k")])
def test_a_money_column_and_its_total_are_in_one_unit(locale, unit):
    df = pd.DataFrame({"customer_id": ["a", "b", "c"], "aum": [6.79e8, 5e5, 2.1e5]})
    p = make(locale)
    p.table(df, {"customer_id": "text", "aum": "money"}, total=True)
    cells = [td.get_text() for td in html_of(p).select("tbody td.num")]
    total = html_of(p).select("tfoot th")[-1].get_text()
    assert all(c.endswith(unit) for c in cells + [total]), (cells, total)


def test_a_change_that_rounds_to_zero_is_shown_as_zero_in_a_neutral_colour():
    df = pd.DataFrame({"customer_id": ["a", "b"], "gap": [-0.00001, -0.02]})
    p = make("en")
    p.table(df, {"customer_id": "text", "gap": "delta_pct"})
    cells = html_of(p).select("tbody td.num")
    assert cells[0].get_text() == "0.0 pp" and "neg" not in cells[0]["class"]
    assert cells[1].get_text() == "-2.0 pp" and "neg" in cells[1]["class"]


def test_model_details_go_to_the_methods_appendix_at_the_end():
    p = make("en")
    p.section("type_split")
    p.table(pd.DataFrame({"customer_id": ["a"]}), {"customer_id": "text"})
    with p.methods():
        p.table(pd.DataFrame({"aum": [1.0]}), {"aum": "money"}, caption="model table")
    with p.methods():  # a second table of the same section: one heading, one note
        p.table(pd.DataFrame({"aum": [2.0]}), {"aum": "money"}, caption="second table")
    p.section("actions", methods=True)
    p.note("common.no_rows")
    p.section("benchmark")
    p.definitions({})
    page = html_of(p)
    methods = page.find("section", class_="bb-methods")
    assert methods.find("h2").get_text() == "Methods"
    assert methods.find("caption").get_text() == "model table"
    assert [h.get_text() for h in methods.find_all("h3")] == [
        i18n.t("segmentation.sections.type_split.title", "en"),
        i18n.t("segmentation.sections.actions.title", "en"),
    ]
    # the body says where the details went; the methods come before the definitions
    assert len(page.find_all("p", string=i18n.t("common.methods.moved", "en"))) == 1
    assert [c.get_text() for c in methods.find_all("caption")] == ["model table", "second table"]
    sections = [h["id"] for h in page.select("h2.bb-section")]
    assert sections == ["sec-type_split", "sec-benchmark", "sec-methods", "sec-definitions"]
    assert "model table" not in "".join(p.blocks[:3])


@pytest.mark.parametrize(
    "locale, label, zero, na",
    [("en", "vs start of year:", "0.0 pp", "n/a"), ("zh-CN", "比年初：", "0.0个百分点", "无")],
)
def test_kpi_card_shows_the_change_since_the_start_of_the_year(locale, label, zero, na):
    table = pd.DataFrame(
        {
            "kpi": ["customers", "active_share", "aum_total"],
            "value": [3300.0, 0.5, 1e9],
            "previous": [3000.0, 0.55, 1e9],
            "bank_median": [3100.0, 0.6, 9e8],
            # customers +10% since December; a share that moved 0.0001 pp rounds to 0;
            # AUM: the warehouse starts after December
            "year_start": [3000.0, 0.500001, float("nan")],
        }
    )
    p = make(locale)
    p.kpi_frame(table, kinds={"customers": "int", "active_share": "pct", "aum_total": "money"})
    lines = [e.get_text() for e in html_of(p).select(".bb-kpi-ytd")]
    assert lines[0] == f"{label} +10.0%"
    assert lines[1] == f"{label} {zero}"  # rounds to zero: 0.0, never -0.0
    assert lines[2] == f"{label} {na}"  # not available is said, never 0


def test_kpi_card_without_year_start_has_no_such_line():
    cards = page_mod.cards({"customers": 10.0}, kinds={"customers": "int"}, prev={"customers": 9.0})
    p = make("en")
    p.kpi_cards(cards)
    assert html_of(p).select(".bb-kpi-ytd") == []


@pytest.mark.parametrize(
    "locale, basis, expected",
    [
        ("en", "average_daily", "Total AUM (average daily)"),
        ("en", "month_end", "Total AUM (month end)"),
        ("zh-CN", "average_daily", "日均资产规模"),
        ("zh-CN", "month_end", "时点资产规模"),
    ],
)
def test_a_card_on_the_balance_basis_names_it(locale, basis, expected):
    import branchbook.segmentation  # noqa: F401 - declares the report's metrics

    p = make(locale)
    p.balance_basis = basis
    p.kpi_cards(page_mod.cards({"aum_total": 1e9, "customers": 10.0}, kinds={}))
    labels = [e.get_text() for e in html_of(p).select(".bb-kpi-label")]
    assert labels[0] == expected
    assert labels[1] == ("Customers" if locale == "en" else labels[1])  # not on a basis
    assert "(" not in labels[1] and "日均" not in labels[1]
    p.balance_basis = ""  # a period prepared before the basis: the label as it was
    assert p.term("aum_total", "Total AUM") == "Total AUM"


def test_a_kpi_not_recorded_has_no_value_change_or_colour():
    for locale, word in (("en", "Not recorded"), ("zh-CN", "未记录")):
        p = make(locale, not_recorded=frozenset({"active_share"}))
        rag = Rag(green=0.5, amber=0.3, good="high")
        p.kpi_cards(page_mod.cards({"active_share": 0.0, "customers": 10.0},
                                   kinds={"active_share": "pct", "customers": "int"},
                                   prev={"active_share": 0.2}, rag={"active_share": rag},
                                   locale=locale))  # fmt: skip
        card, other = html_of(p).select(".bb-kpi")
        assert card.select_one(".bb-kpi-value").get_text() == word
        assert "bb-none" in card["class"] and not card.select(".bb-kpi-status, .bb-kpi-change")
        assert "0" not in card.get_text() and other.select_one(".bb-kpi-value").get_text() == "10"
        assert p.headline["active_share"] == {
            "label": p.rt("kpis.active_share"), "value": None, "text": word, "status": "none",
        }  # fmt: skip


def test_a_true_zero_is_a_value_with_its_colour():
    p = make(not_recorded=frozenset({"customers"}))
    rag = Rag(green=0.5, amber=0.3, good="high")
    p.kpi_cards(page_mod.cards({"active_share": 0.0}, kinds={"active_share": "pct"},
                               rag={"active_share": rag}))  # fmt: skip
    card = html_of(p).select_one(".bb-kpi")
    assert (
        "bb-red" in card["class"] and card.select_one(".bb-kpi-value").get_text() != "Not recorded"
    )


def test_a_hidden_section_draws_nothing_until_the_next_section():
    p = make(hidden=frozenset({"activity_tiers"}))
    p.section("asset_tiers")
    p.note("common.no_rows")
    p.section("activity_tiers")
    p.note("common.no_rows")
    with p.methods():
        p.note("common.no_rows")
    p.table(pd.DataFrame({"customers": [0]}), {"customers": "int"})
    assert not p.shows("activity_tiers") and p.shows("asset_tiers")
    p.section("credit_grades")
    p.note("common.no_rows")
    soup = html_of(p)
    assert [h["id"] for h in soup.select("h2")] == ["sec-asset_tiers", "sec-credit_grades"]
    assert len(soup.select(".bb-note")) == 2 and not p.methods_blocks and not soup.select("table")
    p.definitions({})  # the appendix after a hidden last section is drawn
    assert "bb-definitions" in p.html() or p.t("common.definitions") in p.html()


def test_the_summary_leaves_out_sentences_about_sections_not_drawn():
    p = make(
        hidden_facts=("segmentation.summary.dormant_high_value", "segmentation.summary.active_")
    )
    p.summary(
        [
            ("segmentation.summary.tier_slippage", {"downgraded": 3, "upgraded": 1}),
            ("segmentation.summary.active_below_bank", {"active_share": 0.0, "bank_median": 0.5}),
            ("segmentation.summary.dormant_high_value", {"count": 0, "aum": 0.0}),
            ("segmentation.summary.high_value", {"count": 2, "aum_share": 0.4}),
        ]
    )
    items = [li.get_text() for li in html_of(p).select(".bb-summary li")]
    assert len(items) == 2 and not any("dormant" in i or "active" in i for i in items)


def test_a_column_not_recorded_is_left_out_of_tables():
    p = make(not_recorded=frozenset({"aum_share"}))
    p.table(
        pd.DataFrame({"customers": [3], "aum_share": [0.0]}),
        {"customers": "int", "aum_share": "pct"},
    )
    heads = [th.get_text() for th in html_of(p).select("thead th")]
    assert heads == [p.rt("columns.customers")]


def test_an_action_list_in_a_hidden_section_is_not_exported():
    p = make(hidden=frozenset({"actions"}))
    p.section("actions")
    p.action_table("to_contact", pd.DataFrame({"customers": [1]}), {"customers": "int"}, shown=5)
    assert p.actions == {} and "<table" not in p.html()
