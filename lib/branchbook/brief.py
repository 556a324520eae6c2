"""The brief a report opens with: what a branch manager reads when they read nothing else.

One page of A4 (one screen in HTML): the report's KPI cards in short (value, status,
change against last month, the bank's median and the branch's rank), the three to five
summary sentences that matter most and do not merely repeat a card, and the first
actions of the report's action lists with how many more the workbook holds.

Everything here is chosen from what the page already computed (its cards, its summary
facts in their order of importance, its action lists); nothing is computed again. The
brief is kept in the page meta as plain, already translated text (:func:`brief_data`),
so the branch pack's cover (:mod:`branchbook.output.pack`) is made from the same words.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .privacy import MARK

#: At most this many sentences, and at least this many where the summary has them.
SENTENCES, MIN_SENTENCES = 5, 3
#: At most this many actions (rows of the report's action lists, in their order).
ACTIONS = 5
#: The columns of an action shown in the brief, in this order, when the list has them:
#: who, why, what it is worth, and what to do.
# the columns a list whose columns are none of ACTION_COLUMNS shows in the brief
FALLBACK_COLUMNS = 4


ACTION_COLUMNS = (
    "branch",  # the bank's lists are counted per branch and reason (Page._aggregated_list)
    "name",
    "manager_name",
    "staff_name",  # staff KPI's list is of the managers themselves (development gaps)
    "grade",
    "reason",
    "rules",
    "hours_short",
    "certification_required",
    "complaints",
    "rows",
    "aum",
    "exposure",
    "next_step",
)


#: Kinds of action columns printed as numbers (right-aligned, on one line).
NUMBERS = ("money", "int", "num", "pct")


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _numbers(values: Mapping[str, Any]) -> list[float]:
    return [
        float(v)
        for v in values.values()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
    ]


def card_numbers(cards: Iterable[Any]) -> list[float]:
    """Every number a reader sees on the cards, or reads off them: each card's value, last
    period's value, the bank's median, and the change (absolute and relative)."""
    out: list[float] = []
    for c in cards:
        value, prev, bank = (getattr(c, k, None) for k in ("value", "prev", "bank"))
        for v in (value, prev, bank):
            if isinstance(v, (int, float)) and math.isfinite(float(v)):
                out.append(float(v))
        if all(isinstance(v, (int, float)) and math.isfinite(float(v)) for v in (value, prev)):
            out.append(float(value) - float(prev))
            if prev:
                out.append(float(value) / float(prev) - 1)
    return out


def restates_cards(values: Mapping[str, Any], numbers: Sequence[float]) -> bool:
    """Whether a fact only repeats the cards: it has numbers and every one of them is on
    a card (:func:`card_numbers`). A fact with a number of its own (a count of
    borrowers, a name's score) says something the cards do not."""
    own = _numbers(values)
    return bool(own) and all(
        any(math.isclose(v, n, rel_tol=1e-9, abs_tol=1e-12) for n in numbers) for v in own
    )


def choose_sentences(
    facts: Sequence[tuple[str, Mapping[str, Any]]],
    cards: Iterable[Any],
    *,
    limit: int = SENTENCES,
    minimum: int = MIN_SENTENCES,
) -> list[tuple[str, Mapping[str, Any]]]:
    """The summary facts for the brief, in the summary's order of importance: the first
    ``limit`` that do not merely restate a card; when fewer than ``minimum`` are left,
    the most important of the others fill up to ``minimum`` (never a fact twice)."""
    numbers = card_numbers(cards)
    facts = list(facts)
    fresh = [i for i, (_, values) in enumerate(facts) if not restates_cards(values, numbers)]
    chosen = fresh[:limit]
    if len(chosen) < minimum:
        others = [i for i in range(len(facts)) if i not in chosen]
        chosen += others[: minimum - len(chosen)]
    return [facts[i] for i in sorted(chosen)]


def choose_actions(
    actions: Mapping[str, Mapping[str, Any]], *, limit: int = ACTIONS
) -> dict[str, Any] | None:
    """The first ``limit`` rows over the page's action lists (in the lists' order, each
    list already in the order to act), with the :data:`ACTION_COLUMNS` they have (the
    first list's columns). ``{"columns", "kinds", "headers", "rows", "total", "more"}``;
    None when the report has no action list."""
    if not actions:
        return None
    lists = list(actions.values())
    first = lists[0]
    columns = [c for c in ACTION_COLUMNS if c in first.get("columns", [])]
    if not columns:  # a list of another shape: its own first columns, never empty rows
        columns = list(first.get("columns", []))[:FALLBACK_COLUMNS]
    headers = dict(zip(first.get("columns", []), first.get("headers", []), strict=False))
    kinds = dict(zip(first.get("columns", []), first.get("kinds", []), strict=False))
    rows: list[list[Any]] = []
    total = 0
    for table in lists:
        cols = list(table.get("columns", []))
        body = list(table.get("rows", []))
        total += len(body)
        for row in body:
            if len(rows) >= limit:
                break
            cells = dict(zip(cols, row, strict=False))
            rows.append([cells.get(c) for c in columns])
    return {
        "columns": columns,
        "kinds": [kinds.get(c, "text") for c in columns],
        "headers": [headers.get(c, c) for c in columns],
        "rows": rows,
        "total": total,
        "more": total - len(rows),
    }


def brief_data(
    page: Any, *, change: Any, sentences: int = SENTENCES, actions: int = ACTIONS
) -> dict[str, Any]:
    """The brief of ``page`` (a :class:`branchbook.page.Page` whose cards, summary and
    action lists are made) as plain translated text: ``title``, ``report``, ``cards``
    (label, value text, status and its word, change, bank median, rank), ``sentences``
    and ``actions`` (headers, rows of text, how many more, the workbook's name).
    ``change(value, prev, kind, locale)`` writes a card's change (the page's own)."""
    kpi_change = change
    tr, locale = page.tr, page.locale
    cards = []
    for k in page.cards:
        if k.key in getattr(page, "not_recorded", ()):
            # as the page's own card: its inputs are not in the warehouse, so no value,
            # change, median, rank or colour (a 0.0% in red would read as a finding)
            cards.append(
                {
                    "key": k.key,
                    "label": page.rt(f"kpis.{k.key}"),
                    "text": tr("common.kpi.not_recorded"),
                    "status": "none",
                    "status_label": "",
                    "change": "",
                    "bank": "",
                    "rank": "",
                }
            )
            continue
        change = ""
        if _finite(k.value) and _finite(k.prev):
            change = kpi_change(float(k.value), float(k.prev), k.kind, locale)
        rank = ""
        if _finite(k.rank) and _finite(k.ranked):
            rank = tr("common.brief.rank", rank=int(k.rank), of=int(k.ranked))
        cards.append(
            {
                "key": k.key,
                "label": page.rt(f"kpis.{k.key}"),
                "text": page.fmt(k.value, k.kind),
                "status": k.status,
                "status_label": tr(f"common.status.{k.status}"),
                "change": change,
                "bank": page.fmt(k.bank, k.kind) if _finite(k.bank) else "",
                "rank": rank,
            }
        )
    chosen = choose_sentences(page.facts, page.cards, limit=sentences)
    picked = choose_actions(page.actions, limit=actions)
    todo = None
    if picked is not None:
        todo = {
            "headers": picked["headers"],
            "numeric": [kind in NUMBERS for kind in picked["kinds"]],
            "rows": [
                [_cell(page, v, kind) for v, kind in zip(row, picked["kinds"], strict=True)]
                for row in picked["rows"]
            ],
            "total": picked["total"],
            "more": picked["more"],
            "workbook": f"{page.report}.xlsx",
        }
    return {
        "report": page.report,
        "title": page.rt("title"),
        "cards": cards,
        "sentences": [tr(key, **dict(values)) for key, values in chosen],
        "actions": todo,
    }


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _cell(page: Any, value: Any, kind: str) -> str:
    """An action list's exported cell (numbers as numbers, codes already in words) as text;
    a suppressed number (:data:`branchbook.privacy.MARK`) stays suppressed."""
    if value is None:
        return "–"
    if value == MARK:
        return MARK
    if kind in NUMBERS:
        return page.fmt(value, kind)
    return str(value)


def card_html(card: Mapping[str, Any], tr: Any) -> str:
    """One short KPI card: label, value, status word, change, bank median and rank."""
    facts = []
    if card.get("change"):
        facts.append(f"{esc(tr('common.brief.vs_prev'))} {esc(card['change'])}")
    if card.get("bank"):
        word = (
            "common.brief.bank_value"
            if getattr(tr, "level", "") == "region"
            else "common.brief.bank"
        )
        facts.append(f"{esc(tr(word))} {esc(card['bank'])}")
    if card.get("rank"):
        facts.append(esc(card["rank"]))
    status = card.get("status") or "none"
    return (
        f'<div class="bb-bcard bb-{esc(status)}">'
        f'<div class="bb-bcard-label">{esc(card.get("label", ""))}</div>'
        f'<div class="bb-bcard-value">{esc(card.get("text", ""))}'
        f' <span class="bb-bcard-status">{esc(card.get("status_label", ""))}</span></div>'
        f'<div class="bb-bcard-facts">{" · ".join(f"<span>{f}</span>" for f in facts)}</div></div>'
    )


def actions_html(todo: Mapping[str, Any] | None, tr: Any, *, link: bool = True) -> str:
    """The first actions as a small table, and how many more the workbook holds."""
    if todo is None:
        return ""
    if not todo.get("rows"):
        return f'<p class="bb-note">{esc(tr("common.brief.no_actions"))}</p>'
    numeric = list(todo.get("numeric") or [False] * len(todo["headers"]))
    cls = [' class="num"' if n else "" for n in numeric]
    head = "".join(f"<th{c}>{esc(h)}</th>" for h, c in zip(todo["headers"], cls, strict=True))
    body = "".join(
        "<tr>" + "".join(f"<td{c}>{esc(v)}</td>" for v, c in zip(row, cls, strict=True)) + "</tr>"
        for row in todo["rows"]
    )
    more = ""
    if todo.get("more"):
        more = esc(tr("common.brief.more", more=todo["more"], total=todo["total"]))
        if link:
            more += f' <a href="{esc(todo["workbook"])}" download>{esc(tr("common.actions.workbook"))}</a>'
        more = f'<p class="bb-note bb-brief-more">{more}</p>'
    return (
        f'<div class="bb-table bb-brief-actions"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{more}"
    )


def brief_html(data: Mapping[str, Any], tr: Any) -> str:
    """The report's brief block (``section.bb-brief``): shown first, a page of its own."""
    cards = "".join(card_html(c, tr) for c in data.get("cards", []))
    items = "".join(f"<li>{esc(s)}</li>" for s in data.get("sentences", []))
    todo = data.get("actions")
    actions = ""
    if todo is not None:
        actions = f"<h3>{esc(tr('common.brief.actions'))}</h3>{actions_html(todo, tr)}"
    return (
        f'<section class="bb-brief" id="brief" aria-labelledby="brief-h">'
        f'<h2 id="brief-h">{esc(tr("common.brief.title"))}</h2>'
        f'<div class="bb-bcards">{cards}</div>'
        f"<h3>{esc(tr('common.brief.matters'))}</h3><ul>{items}</ul>{actions}</section>"
    )
