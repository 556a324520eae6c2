"""The brief: which cards, sentences and actions a report opens with."""

from __future__ import annotations

import pandas as pd
from bs4 import BeautifulSoup

from branchbook import brief
from branchbook import page as page_mod
from branchbook.output.html import opening

BRANCH = {"branch_id": "0101", "name": "Pudong", "name_zh": "浦东陆家嘴支行", "region": "East"}


def card(key, value, prev=None, bank=None):
    return page_mod.Kpi(key=key, value=value, kind="pct", prev=prev, bank=bank)


def test_a_fact_of_card_numbers_only_restates_the_cards():
    numbers = brief.card_numbers([card("npl_ratio", 0.016, prev=0.02, bank=0.015)])
    assert brief.restates_cards({"npl_ratio": 0.016, "bank_median": 0.015}, numbers)
    # the change, absolute or relative, is read off the card too
    assert brief.restates_cards({"npl_ratio": 0.016, "change": 0.016 - 0.02}, numbers)
    assert brief.restates_cards({"change": 0.016 / 0.02 - 1}, numbers)
    # a number of its own (45 borrowers) is news; so is a fact without numbers
    assert not brief.restates_cards({"borrowers": 45, "share": 0.016}, numbers)
    assert not brief.restates_cards({"names": "Li, Wang"}, numbers)
    # a flag is not a number
    assert not brief.restates_cards({"flag": True}, numbers)


def test_sentences_keep_the_summary_order_and_skip_what_the_cards_say():
    cards = [card("npl_ratio", 0.016, bank=0.015)]
    facts = [
        ("k.npl_level", {"npl_ratio": 0.016, "bank_median": 0.015}),  # on the card
        ("k.early_warning", {"borrowers": 45}),
        ("k.ltv", {"loans": 3}),
        ("k.top", {"names": "Li"}),
    ]
    chosen = brief.choose_sentences(facts, cards)
    assert [k for k, _ in chosen] == ["k.early_warning", "k.ltv", "k.top"]


def test_sentences_at_most_five_and_at_least_three_where_there_are_three():
    cards = [card("a", 0.5, bank=0.4)]
    many = [(f"k.{i}", {"n": i + 10}) for i in range(8)]
    assert [k for k, _ in brief.choose_sentences(many, cards)] == [f"k.{i}" for i in range(5)]
    # only one fact says something new: the most important restating ones fill up to
    # three, and the summary's order is kept
    facts = [("k.a", {"a": 0.5}), ("k.b", {"bank": 0.4}), ("k.new", {"n": 7}), ("k.c", {"a": 0.5})]
    assert [k for k, _ in brief.choose_sentences(facts, cards)] == ["k.a", "k.b", "k.new"]
    assert brief.choose_sentences([("k.only", {"a": 0.5})], cards) == [("k.only", {"a": 0.5})]


def test_actions_are_the_first_rows_over_the_lists_with_how_many_more():
    lists = {
        "first": {
            "columns": ["customer_id", "name", "manager_name", "aum", "next_step"],
            "kinds": ["text", "text", "text", "money", "text"],
            "headers": ["ID", "Name", "Manager", "AUM", "Next step"],
            "rows": [[f"C{i}", f"N{i}", "Li", 1000.0 * i, "call"] for i in range(4)],
        },
        "second": {
            "columns": ["name", "manager_name", "aum", "next_step"],
            "rows": [["M1", "Wang", 5.0, "visit"], ["M2", "Wang", 6.0, "visit"]],
        },
    }
    todo = brief.choose_actions(lists, limit=5)
    # who, what it is worth and what to do; the customer number stays in the workbook
    assert todo["columns"] == ["name", "manager_name", "aum", "next_step"]
    assert todo["headers"] == ["Name", "Manager", "AUM", "Next step"]
    assert todo["kinds"] == ["text", "text", "money", "text"]
    assert [r[0] for r in todo["rows"]] == ["N0", "N1", "N2", "N3", "M1"]
    assert (todo["total"], todo["more"]) == (6, 1)
    assert brief.choose_actions({}) is None
    empty = brief.choose_actions({"first": {**lists["first"], "rows": []}})
    assert (empty["rows"], empty["total"], empty["more"]) == ([], 0, 0)


def test_a_list_of_managers_or_of_any_other_shape_shows_its_cells_in_the_brief():
    # staff KPI's list names managers with their development gaps: its rows were once
    # five empty rows under an empty header (none of its columns was a customer list's)
    staff = {
        "columns": ["staff_name", "grade", "training_hours", "hours_short", "certification"],
        "kinds": ["text", "text", "num", "num", "text"],
        "headers": ["Manager", "Grade", "Hours", "Hours short", "Certificate"],
        "rows": [["Li", "Senior", 10.0, 30.0, "None"], ["Wang", "Junior", 20.0, 20.0, "AFP"]],
    }
    todo = brief.choose_actions({"managers_to_train": staff})
    assert todo["headers"] == ["Manager", "Grade", "Hours short"]
    assert todo["rows"] == [["Li", "Senior", 30.0], ["Wang", "Junior", 20.0]]
    other = {"columns": list("abcdef"), "headers": list("ABCDEF"), "rows": [list(range(6))]}
    todo = brief.choose_actions({"other": other})
    assert todo["headers"] == ["A", "B", "C", "D"] and todo["rows"] == [[0, 1, 2, 3]]


def test_the_banks_counted_lists_say_which_branch_and_how_many():
    """At bank scope a list is counted per region, branch and reason: the brief names the
    branch and the count, not five rows of the same next step and an amount."""
    lists = {
        "borrowers": {
            "columns": ["region", "branch", "next_step", "rows", "exposure"],
            "kinds": ["text", "text", "text", "int", "money"],
            "headers": ["Region", "Branch", "Next step", "Borrowers", "Exposure"],
            "rows": [["East", "Riverside", "call", 3, 46.8], ["East", "Harbour", "call", 2, 27.8]],
        }
    }
    todo = brief.choose_actions(lists)
    assert todo["columns"] == ["branch", "rows", "exposure", "next_step"]
    assert todo["rows"][0] == ["Riverside", 3, 46.8, "call"]


def make(locale):
    return page_mod.Page(
        report="risk",
        locale=locale,
        bank_name="Demo Bank",
        branch=BRANCH,
        period="2026-10",
        data_as_of="2026-10-31",
        live=False,
    )


def _page(locale):
    p = make(locale)
    p.title()
    table = pd.DataFrame(
        {
            "kpi": ["npl_ratio", "top10_share"],
            "value": [0.016, 0.2],
            "previous": [0.02, 0.2],
            "bank_median": [0.015, 0.18],
            "rank": [5.0, 9.0],
            "branches": [12.0, 12.0],
            "status": ["amber", "red"],
        }
    )
    p.kpi_frame(table, kinds={"npl_ratio": "pct", "top10_share": "pct"})
    p.summary(
        [
            ("risk.summary.npl_level", {"npl_ratio": 0.016, "bank_median": 0.015}),
            (
                "risk.summary.early_warning",
                {"borrowers": 45, "exposure": 1.1e8, "share": 0.17},
            ),
            ("risk.summary.ltv", {"loans": 3, "outstanding": 1.9e7}),
        ]
    )
    p.section("early_warning")
    rows = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(7)],
            "name": ["张三丰"] * 7,
            "manager_name": ["李四"] * 7,
            "exposure": [1.0e6] * 7,
            "next_step": ["review"] * 7,
        }
    )
    p.action_table(
        "borrowers_to_review",
        rows,
        {
            "customer_id": "text",
            "name": "text",
            "manager_name": "text",
            "exposure": "money",
            "next_step": "label:risk.values.next_step",
        },
        shown=5,
    )
    p.section("scorecard", methods=True)  # the brief never goes to the appendix
    p.brief()
    return p


def test_the_page_brief_in_english():
    p = _page("en")
    data = p.brief_data
    assert [c["key"] for c in data["cards"]] == ["npl_ratio", "top10_share"]
    npl = data["cards"][0]
    assert npl["status_label"] == "Amber" and npl["rank"] == "rank 5 of 12"
    assert npl["text"] == "1.6%" and npl["bank"] == "1.5%" and "-0.4" in npl["change"]
    # the NPL sentence repeats the card: two news sentences, then it fills to three
    assert len(data["sentences"]) == 3 and data["sentences"][0].startswith("The NPL ratio")
    todo = data["actions"]
    assert len(todo["rows"]) == 5 and todo["more"] == 2 and todo["total"] == 7
    assert todo["rows"][0][0] == "张**" and todo["workbook"] == "risk.xlsx"
    block = next(b for b in p.blocks if 'class="bb-brief"' in b)
    soup = BeautifulSoup(block, "html.parser")
    assert soup.find("h2").get_text() == "Brief"
    assert "2 more in the list" in soup.get_text()
    assert not any("bb-brief" in b for b in p.methods_blocks)
    assert p._meta()["brief"] == data


def test_the_page_brief_in_chinese_is_shown_first():
    p = _page("zh-CN")
    data = p.brief_data
    assert data["cards"][0]["rank"] == "全行第 5/12 名"
    assert data["cards"][1]["status_label"] == "红灯"
    first, _rest = opening(p.blocks)
    assert 'class="bb-title"' in first[0] and 'class="bb-brief"' in first[1]
    text = BeautifulSoup(first[1], "html.parser").get_text()
    assert "简报" in text and "本月待办" in text and "清单中另有 2 条" in text


def test_a_card_not_recorded_reads_so_in_the_brief_with_no_colour():
    """A KPI whose inputs the warehouse lacks (here no financials for top10_share's
    stand-in) reads "Not recorded" in the brief as on its card: never a value in red."""
    p = make("en")
    p.not_recorded = frozenset({"top10_share"})
    p.title()
    table = pd.DataFrame(
        {
            "kpi": ["npl_ratio", "top10_share"],
            "value": [0.016, 0.0],
            "previous": [0.02, 0.0],
            "bank_median": [0.015, 0.0],
            "rank": [5.0, 1.0],
            "branches": [12.0, 12.0],
            "status": ["amber", "red"],
        }
    )
    p.kpi_frame(table, kinds={"npl_ratio": "pct", "top10_share": "pct"})
    p.summary([("risk.summary.npl_level", {"npl_ratio": 0.016, "bank_median": 0.015})])
    p.brief()
    card = p.brief_data["cards"][1]
    assert card["text"] == "Not recorded" and card["status"] == "none"
    assert card["bank"] == card["rank"] == card["change"] == card["status_label"] == ""
    assert p.brief_data["cards"][0]["status"] == "amber"


def test_a_suppressed_count_of_the_banks_list_stays_suppressed_in_the_brief():
    p = make("en")
    p.actions = {
        "borrowers": {
            "columns": ["region", "branch", "next_step", "rows", "exposure"],
            "kinds": ["text", "text", "text", "int", "money"],
            "headers": ["Region", "Branch", "Next step", "Borrowers", "Exposure"],
            "rows": [["East", "Riverside", "call", 9, 46.8], ["East", "Harbour", "call", "*", "*"]],
        }
    }
    rows = brief.brief_data(p, change=lambda *a: "")["actions"]["rows"]
    assert rows[1][:3] == ["Harbour", "*", "*"]
    assert rows[0][:2] == ["Riverside", "9"]
