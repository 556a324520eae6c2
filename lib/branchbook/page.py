"""The report page a notebook builds: title, summary, KPI cards, sections, tables, charts.

A notebook makes one :class:`Page` and calls its methods section by section. Each call
emits one HTML fragment as the cell's output (inside a kernel) and keeps it in
``page.blocks`` (outside one), so the same calls build the same page in a plain
Python process. Every text comes from the catalogue (:mod:`branchbook.i18n`),
every value is escaped, personal columns are masked and small counts suppressed
before anything is shown.

The fragments use a small fixed vocabulary of classes (``bb-title``, ``bb-summary``,
``bb-kpis``, ``bb-section``, ``bb-table``, ``bb-chart``, ``bb-note``,
``bb-definitions``, ``bb-provenance``) that the HTML template styles and the
renderer reads (table of contents from ``h2.bb-section``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import charts, fmt, i18n, metrics, print_layout, privacy
from .metrics.cards import status as rag_status
from .metrics.thresholds import as_rag, cut_text, explain

META_MIME = "application/vnd.branchbook+json"
#: The stylesheets an analyst's notebook shows inline (see :meth:`Page._preview_styles`).
PREVIEW_CSS = ("report.css", "screen.css")
#: A summary says at most this many sentences (the design's three to six).
SUMMARY_LIMIT = 6
NUMERIC_KINDS = {"int", "num", "pct", "delta_pct", "delta", "delta_num", "money", "money_unit"}
SUMMABLE_KINDS = {"int", "money", "money_unit"}


# The heat table's tint: ColorBrewer's nine-class Blues (the scale matplotlib's "Blues"
# is made from), as classes bb-h0 (lightest) to bb-h8 in report.css, which also sets
# each class's text colour (every pair at least 4.5:1, tests/test_page.py checks).
HEAT_LEVELS = 9


def heat_cells(values, number: str = "{:,.0f}") -> list[list[tuple[str | None, int | None]]]:
    """``(text, level)`` of each cell of a matrix of numbers: the level (0 to
    :data:`HEAT_LEVELS` - 1) places the value between the lowest and the highest finite
    value (all 0 when they are equal); a missing or infinite value gives ``(None, None)``."""
    import math

    finite = [v for row in values for v in row if v is not None and math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 0.0)
    out = []
    for row in values:
        cells: list[tuple[str | None, int | None]] = []
        for v in row:
            if v is None or not math.isfinite(v):
                cells.append((None, None))
                continue
            share = (v - lo) / (hi - lo) if hi > lo else 0.0
            cells.append(
                (number.format(v), min(HEAT_LEVELS - 1, int(share * (HEAT_LEVELS - 1) + 0.5)))
            )
        out.append(cells)
    return out


def heat_rows(
    heads: Sequence[Sequence[str]], cells: Sequence[Sequence[tuple[str | None, int | None]]]
) -> list[str]:
    """The ``<tr>`` of each row of a heat table: its head texts (the first a row
    header, any others plain cells), then its cells of :func:`heat_cells`, tinted."""
    out = []
    for head, row in zip(heads, cells, strict=True):
        first, *more = head
        tinted = "".join(
            f'<td class="num bb-none">{fmt.MISSING}</td>'
            if value is None
            else f'<td class="num bb-h{level}">{esc(value)}</td>'
            for value, level in row
        )
        others = "".join(f"<td>{esc(t)}</td>" for t in more)
        out.append(f'<tr><th scope="row">{esc(first)}</th>{others}{tinted}</tr>')
    return out


def heat_transposed(
    head_html: str, rows_html: Sequence[str], t_head_html: str, t_rows_html: Sequence[str]
) -> bool:
    """Whether a heat table is drawn transposed (``t_...``, its columns as rows): only
    when it does not print across A4 at the print font and its transpose prints less
    dense (:func:`print_layout.print_step`). A table that fits stays as it is."""
    step = print_layout.print_step(head_html, rows_html)
    if print_layout.at_print_font(step):
        return False
    return print_layout.print_step(t_head_html, t_rows_html) < step


def esc(value: Any) -> str:
    """Escape text for HTML (quotes too)."""
    return html.escape(str(value), quote=True)


def fixed_table(head_html: str, rows_html: Sequence[str]) -> tuple[str, str]:
    """The ``<table>`` tag and ``<colgroup>`` of a report table for print.

    The column widths (:func:`print_layout.print_fit`) as custom properties only the
    print sheet reads, and the class that prints a table too wide for A4 at 8.5 pt
    denser (``bb-pt75`` ...); the screen ignores both. A plain ``<table>`` for a
    table without cells."""
    fit = print_layout.print_fit(head_html, rows_html)
    if fit is None:
        return "<table>", ""
    css_class, shares = fit
    cols = "".join(f'<col style="--bb-w:{w:.2f}%">' for w in shares)
    return (
        f'<table class="{" ".join(("bb-fixed", css_class)).strip()}">',
        f"<colgroup>{cols}</colgroup>",
    )


@dataclass
class Kpi:
    """One KPI card: the value, last period's value, the bank's median and a status."""

    key: str
    value: float | None
    kind: str = "num"
    prev: float | None = None
    bank: float | None = None
    status: str = "none"
    rule: str = ""
    #: The value at the start of the year (the end of last December); None: the card has
    #: no start-of-year line, NaN: the line says "n/a" (the warehouse starts later).
    year_start: float | None = None
    rank: float | None = None  # 1 is best among the bank's branches
    ranked: float | None = None  # how many branches were ranked


@dataclass
class Page:
    """The page of one report for one branch (or region, or the whole bank)."""

    report: str
    locale: str
    bank_name: str
    branch: Mapping[str, Any]
    period: str
    data_as_of: str = ""
    classification: str = ""
    currency: str = "CNY"
    suppress_below: int = 5
    provenance_info: Mapping[str, Any] = field(default_factory=dict)
    #: each KPI's thresholds in force this period (:func:`branchbook.metrics.thresholds.resolve`):
    #: the definitions appendix says how each KPI's colour is set
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    #: The balance basis the report's AUM was read on (``average_daily`` / ``month_end``,
    #: :mod:`branchbook.metrics.basis`); empty: the labels do not name one.
    balance_basis: str = ""
    #: the level the page is written for (``branch``, ``region``, ``bank``): its texts
    #: name that level where a branch's say "the branch" (:func:`branchbook.i18n.at_level`)
    level: str = "branch"
    #: at the bank's level, each customer's branch and each branch's region: its action
    #: lists are counts and balances per region, branch and reason, no customer rows
    customer_branch: Mapping[str, str] = field(default_factory=dict)
    branch_region: Mapping[str, str] = field(default_factory=dict)
    branch_names: Mapping[str, str] = field(default_factory=dict)
    live: bool | None = None
    #: page sections whose data the warehouse does not record (:mod:`branchbook.coverage`):
    #: not drawn, heading and all; the data-coverage note says why
    hidden: frozenset[str] = field(default_factory=frozenset)
    #: summary sentences (catalogue keys or their start) about sections not drawn
    hidden_facts: tuple[str, ...] = ()
    #: KPIs whose data is not recorded: their cards say so, with no change and no colour;
    #: table columns whose data is not recorded are left out
    not_recorded: frozenset[str] = field(default_factory=frozenset)
    blocks: list[str] = field(default_factory=list)
    appendix_blocks: list[str] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)
    # what the brief is chosen from (see brief()): the cards and the summary's facts
    cards: list[Kpi] = field(default_factory=list)
    facts: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    brief_data: dict[str, Any] | None = None
    # blocks of the methods appendix, and whether blocks go there now (see methods())
    methods_blocks: list[str] = field(default_factory=list)
    _to_methods: bool = field(default=False, init=False, repr=False)
    _in_hidden: bool = field(default=False, init=False, repr=False)
    _methods_heading: str | None = field(default=None, init=False, repr=False)
    # the divisor of each money column of the table being built (fmt.money_scale)
    _scales: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self.tr = i18n.Translator(self.locale, self.currency, level=self.level)
        if self.live is None:
            self.live = _in_kernel()

    # -- plumbing ---------------------------------------------------------------
    def t(self, key: str, /, **values: Any) -> str:
        return self.tr(key, **values)

    def term(self, key: str, label: str) -> str:
        """``label`` of the metric ``key``, naming the balance basis when the metric is
        read on it ("AUM (average daily)", "日均 AUM"); other labels as they are."""
        m = metrics.catalogue().get(key)
        if not self.balance_basis or m is None or not m.on_basis:
            return label
        basis = self.t(f"common.balance_basis.{self.balance_basis}")
        return self.t("common.kpi.on_basis", label=label, basis=basis)

    def rt(self, key: str, /, **values: Any) -> str:
        """A text of this report's catalogue: ``rt("sections.tiers.title")``."""
        return self.tr(f"{self.report}.{key}", **values)

    def _emit(self, fragment: str) -> None:
        if self._in_hidden:  # a section whose data is not recorded draws nothing
            return
        if self._to_methods:
            self.methods_blocks.append(fragment)
            return
        self.blocks.append(fragment)
        if self.live:
            from IPython.display import display

            display({"text/html": fragment}, raw=True)

    def _meta(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "locale": self.locale,
            "title": self.rt("title"),
            "bank": self.bank_name,
            "branch_id": str(self.branch.get("branch_id", "")),
            "branch_name": self.branch_name,
            "region": str(self.branch.get("region", "")),
            "period": self.period,
            "period_label": fmt.month(self.period, self.locale),
            "classification": self.classification,
            "headline": self.headline,
            "actions": self.actions,
            **({"brief": self.brief_data} if self.brief_data is not None else {}),
        }

    def _preview_styles(self) -> None:
        """In an analyst's JupyterLab (a live kernel not started by a run), the report's
        own stylesheets, so cards, tables and charts look as published. Marked as a
        preview: the renderer leaves it out of the published page."""
        if not self.live or self.provenance_info.get("run_id"):
            return
        from IPython.display import display

        folder = Path(__file__).resolve().parent / "templates"
        css = "".join((folder / n).read_text(encoding="utf-8") for n in PREVIEW_CSS)
        display(
            {"text/html": f'<style class="bb-preview">{css}</style>'},
            metadata={"branchbook": {"preview": True}},
            raw=True,
        )

    def _emit_meta(self) -> None:
        if self.live:
            from IPython.display import display

            display({META_MIME: self._meta()}, raw=True)

    @property
    def branch_name(self) -> str:
        if self.locale == "zh-CN" and self.branch.get("name_zh"):
            return str(self.branch["name_zh"])
        return str(self.branch.get("name", self.branch.get("branch_id", "")))

    def fmt(self, value: Any, kind: str, scale: float | None = None) -> str:
        if kind == "money":
            return fmt.money(value, self.locale, self.currency, scale=scale)
        return fmt.format_value(value, kind, self.locale)

    # -- blocks -----------------------------------------------------------------
    def title(self) -> None:
        """The title block: bank, report, branch, region, period, data as of."""
        self._preview_styles()
        unit = f"{self.branch_name} ({self.branch.get('branch_id', '')})"
        rows = [
            # a region's or the bank's report names its scope, without a folder for an id
            (self.t("common.title.scope"), self.branch_name)
            if self.level != "branch"
            else (self.t("common.title.branch"), unit),
            (
                self.t("common.title.region"),
                i18n.label("common.regions", self.branch.get("region", ""), self.locale),
            ),
            (self.t("common.title.period"), fmt.month(self.period, self.locale)),
            (
                self.t("common.title.data_as_of"),
                fmt.date(self.data_as_of, self.locale) if self.data_as_of else "–",
            ),
        ]
        if self.level == "bank":  # the whole bank is in no region: no empty "Region"
            rows.pop(1)
        facts = "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in rows)
        self._emit(
            f'<header class="bb-title"><p class="bb-bank">{esc(self.bank_name)}</p>'
            f"<h1>{esc(self.rt('title'))}</h1><dl>{facts}</dl></header>"
        )
        self._emit_meta()

    def summary(
        self,
        facts: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        moves: Sequence[tuple[str, Mapping[str, Any]]] = (),
        limit: int = SUMMARY_LIMIT,
    ) -> None:
        """Summary sentences from ``(catalogue key, values)`` facts, at most ``limit``:
        the report's facts in their order of importance, then up to two ``moves`` (what
        drove a headline's change, from the bridges), never fewer than three facts."""
        facts = [f for f in facts if not f[0].startswith(self.hidden_facts)]
        moves = [m for m in moves if not m[0].startswith(self.hidden_facts)][:2]
        chosen = [*list(facts)[: max(3, limit - len(moves))], *moves][:limit]
        self.facts = chosen
        sentences = [self.t(key, **dict(values)) for key, values in chosen]
        items = "".join(f"<li>{esc(s)}</li>" for s in sentences)
        self._emit(
            f'<section class="bb-summary" id="summary"><h2 class="bb-section" id="summary-h">'
            f"{esc(self.t('common.summary'))}</h2><ul>{items}</ul></section>"
        )

    def kpi_cards(self, cards: Sequence[Kpi], headline: Sequence[str] = ()) -> None:
        """KPI cards: value, change against last period, bank median, RAG status."""
        self.cards.extend(cards)
        out = []
        for k in cards:
            label = self.term(k.key, self.rt(f"kpis.{k.key}"))
            if k.key in self.not_recorded:
                out.append(self._not_recorded_card(k.key, label, headline))
                continue
            change = ""
            if fmt.finite(k.value) and fmt.finite(k.prev):
                change = kpi_change(float(k.value), float(k.prev), k.kind, self.locale)
            status_text = self.t(f"common.status.{k.status}")
            rule = f' title="{esc(k.rule)}"' if k.rule else ""
            ytd = ""
            if k.year_start is not None:
                text = self.t("common.kpi.not_available")
                if fmt.finite(k.year_start) and fmt.finite(k.value):
                    text = kpi_change(float(k.value), float(k.year_start), k.kind, self.locale)
                    text = text or fmt.MISSING
                ytd = (
                    f'<div class="bb-kpi-change bb-kpi-ytd">'
                    f"{esc(self.t('common.kpi.vs_year_start'))} {esc(text)}</div>"
                )
            out.append(
                f'<div class="bb-kpi bb-{esc(k.status)}"{rule}>'
                f'<div class="bb-kpi-label">{esc(label)}</div>'
                f'<div class="bb-kpi-value">{esc(self.fmt(k.value, k.kind))}</div>'
                f'<div class="bb-kpi-change">{esc(self.t("common.kpi.vs_prev"))} {esc(change or fmt.MISSING)}</div>'
                + ytd
                + self._bank_line(k)
                + f'<div class="bb-kpi-status">{esc(status_text)}</div>'
                + (f'<div class="bb-kpi-rule">{esc(k.rule)}</div>' if k.rule else "")
                + "</div>"
            )
            if not headline or k.key in headline:
                self.headline[k.key] = {
                    "label": label,
                    "value": None if not fmt.finite(k.value) else float(k.value),
                    "text": self.fmt(k.value, k.kind),
                    "status": k.status,
                }
        self._emit(f'<div class="bb-kpis">{"".join(out)}</div>')
        self._emit_meta()

    def _bank_line(self, k: Kpi) -> str:
        """A card's benchmark: the median branch on a branch's card, the bank's own
        value on a region's (none where it is not kept), none on the bank's (its own
        last period is its benchmark)."""
        if self.level == "bank" or (self.level == "region" and not fmt.finite(k.bank)):
            return ""  # no benchmark but its own past; a bank value not kept: no line
        key = "common.kpi.bank_value" if self.level == "region" else "common.kpi.bank_median"
        return f'<div class="bb-kpi-bank">{esc(self.t(key))} {esc(self.fmt(k.bank, k.kind))}</div>'

    def _not_recorded_card(self, key: str, label: str, headline: Sequence[str]) -> str:
        """The card of a KPI whose data the warehouse does not record: "not recorded",
        no change, no bank median, no colour (never 0, never green)."""
        text = self.t("common.kpi.not_recorded")
        if not headline or key in headline:
            self.headline[key] = {"label": label, "value": None, "text": text, "status": "none"}
        return (
            f'<div class="bb-kpi bb-none bb-not-recorded"><div class="bb-kpi-label">{esc(label)}</div>'
            f'<div class="bb-kpi-value">{esc(text)}</div></div>'
        )

    def shows(self, key: str) -> bool:
        """Whether the page section ``key`` is drawn (its data is recorded)."""
        return key not in self.hidden

    def kpi_frame(
        self,
        table: pd.DataFrame,
        *,
        metrics: Sequence[Any] | None = None,
        kinds: Mapping[str, str] | None = None,
        rag: Mapping[str, Any] | None = None,
    ) -> None:
        """KPI cards from a frame with columns ``kpi``, ``value``, ``previous``,
        ``bank_median`` (and optionally ``status`` and ``year_start``), as
        :func:`branchbook.metrics.cards.card_frame` returns it. ``metrics`` are the cards' declarations (their kinds); ``kinds`` is
        the older spelling of the same."""
        if metrics is not None:
            kinds = {m.key: m.kind for m in metrics}
        values = dict(zip(table["kpi"], table["value"], strict=True))
        built = cards(
            values,
            kinds=kinds or {},
            prev=dict(zip(table["kpi"], table["previous"], strict=True)),
            bank=dict(zip(table["kpi"], table["bank_median"], strict=True)),
            rag=rag,
            locale=self.locale,
            year_start=(
                dict(zip(table["kpi"], table["year_start"], strict=True))
                if "year_start" in table
                else None
            ),
        )
        if "status" in table:
            for card, status in zip(built, table["status"], strict=True):
                if isinstance(status, str) and status:
                    card.status = status
        if "rank" in table and "branches" in table:
            for card, rank, of in zip(built, table["rank"], table["branches"], strict=True):
                card.rank, card.ranked = rank, of
        self.kpi_cards(built)

    def section(
        self, key: str, *, intro: bool = True, methods: bool = False, **values: Any
    ) -> None:
        """A section heading (and its one-sentence intro) from ``sections.<key>``.

        ``methods=True``: the whole section (model tables, test statistics, estimation
        details) goes to the methods appendix at the end, under its own heading, until
        the next section."""
        self._to_methods = False
        self._in_hidden = key in self.hidden
        title = self.rt(f"sections.{key}.title", **values)
        text = ""
        if intro and i18n.has(f"{self.report}.sections.{key}.intro", self.locale):
            text = f'<p class="bb-intro">{esc(self.rt(f"sections.{key}.intro", **values))}</p>'
        if methods:
            self._to_methods = True
            self._emit(f'<h3 id="sec-{esc(key)}">{esc(title)}</h3>{text}')
            return
        self._emit(f'<h2 class="bb-section" id="sec-{esc(key)}">{esc(title)}</h2>{text}')

    @contextlib.contextmanager
    def methods(self):
        """Blocks made inside go to the methods appendix, under the current section's
        title, and the section says where they are: ``with page.methods(): page.table(...)``.
        For what a manager does not act on: p-values, intervals, bin edges, coefficients."""
        heading = self.blocks_heading() or ""
        if self._methods_heading != heading:  # once per section
            self._methods_heading = heading
            self.note("common.methods.moved")
            self._to_methods = True
            self._emit(f"<h3>{esc(heading)}</h3>")
        self._to_methods = True
        try:
            yield self
        finally:
            self._to_methods = False

    def brief(self, *, sentences: int | None = None, actions: int | None = None) -> None:
        """The brief the report opens with (:mod:`branchbook.brief`): the cards in short,
        the summary sentences that matter most, the first actions. Called once the cards,
        the summary and the action lists are made (before the definitions); the page
        shows it first, on a page of its own in the PDF."""
        from . import brief

        self.brief_data = brief.brief_data(
            self,
            change=kpi_change,
            sentences=sentences or brief.SENTENCES,
            actions=actions or brief.ACTIONS,
        )
        to_methods, self._to_methods = self._to_methods, False  # never in the appendix
        self._emit(brief.brief_html(self.brief_data, self.tr))
        self._to_methods = to_methods
        self._emit_meta()

    def note(self, key: str, /, **values: Any) -> None:
        """A sentence from the catalogue (full key), e.g. why a section is empty."""
        self._emit(f'<p class="bb-note">{esc(self.t(key, **values))}</p>')

    def notice(self, title: str, lines: Sequence[str]) -> None:
        """A boxed notice above the contents, e.g. the data quality warnings: a title
        sentence and one item per line (texts already from the catalogue)."""
        items = "".join(f'<li class="bb-note">{esc(line)}</li>' for line in lines)
        self._emit(
            f'<aside class="bb-notice" role="note"><p class="bb-note bb-notice-title">'
            f"{esc(title)}</p><ul>{items}</ul></aside>"
        )

    def empty(self, what: str) -> None:
        """Say in words that a section has no data for this branch."""
        self.note("common.empty", what=self.rt(f"empty.{what}"))

    def chart(self, fig, *, alt: str = "") -> None:
        """Embed a matplotlib figure as a PNG (the figure is closed)."""
        if not alt and fig.axes:  # the house style puts titles on the left
            alt = charts.title_text(fig.axes[0])
        self._emit(
            f'<figure class="bb-chart"><img src="{charts.to_data_uri(fig)}" alt="{esc(alt)}"></figure>'
        )

    # -- charts from the catalogue ---------------------------------------------------
    def _chart_text(self, key: str, **values: Any) -> dict[str, str]:
        base = f"{self.report}.charts.{key}"
        out = {"title": self.t(f"{base}.title", **values)}
        for axis, name in (("x", "xlabel"), ("y", "ylabel")):
            out[name] = self.t(f"{base}.{axis}") if i18n.has(f"{base}.{axis}", self.locale) else ""
        return out

    def labels(self, values, prefix: str | None) -> list[str]:
        """Display labels of coded values: ``<report>.values.<prefix>.<value>``."""
        if prefix is None:
            return [fmt.text(v, self.locale) for v in values]
        return [i18n.label(f"{self.report}.values.{prefix}", v, self.locale) for v in values]

    def series_name(self, col: str) -> str:
        for cand in (
            f"{self.report}.series.{col}",
            f"{self.report}.columns.{col}",
            f"common.{col}",
        ):
            if i18n.has(cand, self.locale):
                return self.t(cand)
        return col

    def bar_chart(
        self,
        key: str,
        df: pd.DataFrame,
        series: Sequence[str],
        *,
        labels: str | None = None,
        percent: bool = False,
        horizontal: bool = False,
        **values: Any,
    ) -> None:
        """Bars of ``df``'s ``series`` columns over its index; texts from ``charts.<key>``."""
        fig = charts.bars(
            self.labels(df.index, labels),
            {
                self.series_name(c): df[c].to_numpy(dtype=float, na_value=float("nan"))
                for c in series
            },
            percent=percent,
            horizontal=horizontal,
            **self._chart_text(key, **values),
        )
        self.chart(fig)

    def waterfall_chart(
        self,
        key: str,
        bridge: Mapping[str, float],
        *,
        kind: str = "money",
        steps: Sequence[str] | None = None,
        names: str = "common.bridge",
        **values: Any,
    ) -> None:
        """A stock bridge (:func:`branchbook.stats.stock_bridge`, one row or its
        total) as a waterfall: opening, the parts, closing. Part names from
        ``<names>.<part>`` (default ``common.bridge``), title and axes from
        ``charts.<key>``; moves between segments are drawn only when they do not cancel.
        ``steps``: the bars to draw, opening first and closing last (default the stock
        bridge's columns), e.g. the loans that left the book split by how they left.
        Money is drawn in the unit of :func:`branchbook.fmt.money_unit`, written on the
        bars as the tables write it."""
        from .stats import STOCK_COLUMNS

        if steps is None:
            moves = abs(float(bridge["moved_in"]) + float(bridge["moved_out"])) > 1e-6
            steps = [c for c in STOCK_COLUMNS if moves or c not in ("moved_in", "moved_out")]
        steps = list(steps)
        amounts = [float(bridge[c]) for c in steps]
        texts = [
            ("+" if 0 < i < len(steps) - 1 and v > 0 else "") + self.fmt(v, kind)
            for i, v in enumerate(amounts)
        ]
        scale = (1e4 if self.locale == "zh-CN" else 1e3) if kind == "money" else 1.0
        fig = charts.waterfall(
            [self.t(f"{names}.{c}") for c in steps],
            amounts,
            texts=texts,
            scale=scale,
            **self._chart_text(key, **values),
        )
        self.chart(fig)

    def rate_mix_chart(
        self,
        key: str,
        split: pd.DataFrame,
        *,
        labels: str | None = None,
        scale: float = 100,
        **values: Any,
    ) -> None:
        """The rate and mix effects of a :func:`branchbook.stats.rate_mix` per segment
        (its index, translated from ``values.<labels>``) times ``scale``: percentage
        points of a share by default, ``scale=1`` for a ratio already in its unit
        (points, per 1,000); names from ``common.bridge``, title and axes from
        ``charts.<key>``."""
        fig = charts.effects(
            self.labels(split.index, labels),
            {
                self.t(f"common.bridge.{c}"): split[c].to_numpy(dtype=float, na_value=float("nan"))
                * scale
                for c in ("rate_effect", "mix_effect")
            },
            **self._chart_text(key, **values),
        )
        self.chart(fig)

    def line_chart(
        self,
        key: str,
        x: Sequence[str],
        series: Mapping[str, Sequence[float]],
        *,
        percent: bool = False,
        months: bool = True,
        **values: Any,
    ) -> None:
        """Trend lines; ``series`` maps a series name (a column key) to its values."""
        xs = [fmt.month(v, self.locale) if months else str(v) for v in x]
        fig = charts.lines(
            xs,
            {self.series_name(k): v for k, v in series.items()},
            percent=percent,
            **self._chart_text(key, **values),
        )
        self.chart(fig)

    def heat_table(
        self,
        key: str,
        matrix: pd.DataFrame,
        *,
        rows: str | None = None,
        cols: str | None = None,
        number: str = "{:,.0f}",
        names: pd.DataFrame | None = None,
        max_rows: int = 25,
        **values: Any,
    ) -> None:
        """A labelled matrix as a heat table: each value in its cell, the cell tinted by
        the value (darker is higher); row and column codes translated from
        ``values.<rows|cols>``, title and axis names from ``charts.<key>``.

        A table, not a picture: the numbers stay exact, sharp in print and selectable,
        and a screen reader reads the cells. It is also far cheaper to make: an 18 x 10
        score matrix took 0.25 s as a matplotlib heatmap, a quarter of its report
        (the chart this replaced).

        A matrix wider than tall and too wide for A4 at the print font (the managers of
        a grade across a region or the bank) is drawn transposed when that prints less
        dense
        (:func:`heat_transposed`): one row per column of ``matrix``, in its order, the
        same tints, and rows past ``max_rows`` continue in the appendix as
        :meth:`table`'s do. ``names`` (one row per column of ``matrix``, in order) heads
        those rows, under headers from ``<report>.columns.<column>`` (a manager's name
        and branch); without it the column labels do.
        """
        text = self._chart_text(key, **values)
        row_labels = self.labels(matrix.index, rows)
        col_labels = self.labels(matrix.columns, cols)
        cells = heat_cells(matrix.to_numpy(dtype=float), number)
        corner = " \\ ".join(t for t in (text["ylabel"], text["xlabel"]) if t)
        heads = f"<th>{esc(corner)}</th>" + "".join(
            f'<th class="num">{esc(c)}</th>' for c in col_labels
        )
        body = heat_rows([[label] for label in row_labels], cells)
        if names is None:
            t_corner = " \\ ".join(t for t in (text["xlabel"], text["ylabel"]) if t)
            t_names, t_heads = [[label] for label in col_labels], [t_corner]
        elif len(names) != len(col_labels):
            raise ValueError(
                f"heat table {key!r}: names has {len(names)} rows, one per column of the "
                f"matrix expected ({len(col_labels)})"
            )
        else:
            t_names = [[fmt.text(v, self.locale) for v in r] for r in names.itertuples(False)]
            t_heads = [self.rt(f"columns.{c}") for c in names.columns]
        t_head = "".join(f"<th>{esc(h)}</th>" for h in t_heads) + "".join(
            f'<th class="num">{esc(r)}</th>' for r in row_labels
        )
        t_body = heat_rows(t_names, [[r[j] for r in cells] for j in range(len(col_labels))])
        # only a wide matrix turns: a square one (a transition matrix) keeps its reading
        transposed = len(col_labels) > len(row_labels) and heat_transposed(
            heads, body, t_head, t_body
        )
        if transposed:
            heads, body = t_head, t_body
        table_open, colgroup = fixed_table(heads, body)

        def render(some: list[str]) -> str:
            return (
                f'<div class="bb-table bb-heat">{table_open}<caption>{esc(text["title"])}</caption>{colgroup}'
                f"<thead><tr>{heads}</tr></thead><tbody>{''.join(some)}</tbody></table></div>"
            )

        if transposed:
            self._bounded(render, body, max_rows=max_rows, caption=text["title"])
        else:
            self._emit(render(body))

    def lorenz_chart(self, key: str, curves: Mapping[str, pd.DataFrame], **values: Any) -> None:
        """Lorenz curves; ``curves`` maps a series key to a frame of ``customer_share``, ``aum_share``."""
        fig = charts.lorenz(
            {self.series_name(k): v for k, v in curves.items()}, **self._chart_text(key, **values)
        )
        self.chart(fig)

    def histogram_chart(
        self,
        key: str,
        samples: Mapping[str, Sequence[float]],
        *,
        bins: Any = 20,
        density: bool | None = None,
        **values: Any,
    ) -> None:
        """Distributions; ``samples`` maps a series key to its values. One series is
        drawn as counts, several are normalised so branch and bank shapes compare."""
        fig = charts.histogram(
            {self.series_name(k): v for k, v in samples.items()},
            bins=bins,
            density=len(samples) > 1 if density is None else density,
            **self._chart_text(key, **values),
        )
        self.chart(fig)

    def table(
        self,
        df: pd.DataFrame,
        columns: Mapping[str, str],
        *,
        headers: str | Mapping[str, str] = "columns",
        total: bool | Mapping[str, Any] = False,
        max_rows: int = 25,
        suppress: Sequence[str] = (),
        index: bool = False,
        caption: str | None = None,
        rule: str | None = None,
    ) -> None:
        """A formatted table.

        ``columns`` maps each column to show to its kind: a formatter name from
        :data:`branchbook.fmt.FORMATTERS` or ``label:<catalogue prefix>`` for coded
        values (``label:segmentation.values.tier``). Headers come from
        ``<report>.<headers>.<column>``; a ``money_unit`` header gets the unit.
        Personal columns are masked. When a count column in ``suppress`` is below
        the limit in a row, every number of that row is shown as ``*`` (its share or
        average would give the count back), with complementary suppression so the
        totals row cannot reveal it (see :mod:`branchbook.privacy`), and a note
        under the table says why; ``rule``, when given, is that note's text, written
        under the table whether or not a row is hidden.
        ``total=True`` adds a totals row summing count and money columns; a mapping
        gives the totals row's values explicitly (:data:`branchbook.privacy.SUPPRESSED`
        prints as a suppressed cell). Rows past ``max_rows`` continue in
        the appendix (from row ``max_rows + 1``, totals row at the end of both), with a
        note saying so. A column whose data is not recorded (:attr:`not_recorded`) is
        left out.
        """
        columns = {c: k for c, k in columns.items() if c not in self.not_recorded}
        data = privacy.mask_frame(df.reset_index() if index else df)
        hidden = pd.Series(False, index=data.index)
        for col in suppress:
            counts = pd.to_numeric(data[col])
            kept = privacy.suppress_counts(counts, self.suppress_below)
            hidden |= kept.isna() & counts.notna()
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise KeyError(f"table has no column(s) {missing}; it has {list(data.columns)}")
        heads = []
        for col, kind in columns.items():
            # a table every report shows alike (the league tables) has common headers
            if not isinstance(headers, str):  # texts already made (an aggregated list)
                h = headers[col]
            elif headers.startswith("common."):
                h = self.t(f"{headers}.{col}")
            else:
                h = self.rt(f"{headers}.{col}")
            if kind == "money_unit":
                h = f"{h} ({fmt.money_unit(self.locale, self.currency)})"
            cls = ' class="num"' if kind in NUMERIC_KINDS else ""
            heads.append(f"<th{cls}>{esc(h)}</th>")
        # one unit per money column, chosen from its values (never 亿元 and 万元 mixed)
        self._scales = {
            c: fmt.money_scale(pd.to_numeric(data[c], errors="coerce"), self.locale)
            for c, k in columns.items()
            if k == "money"
        }
        body_rows = [
            self._row(row, columns, hide)
            for (_, row), hide in zip(data.iterrows(), hidden, strict=True)
        ]
        foot = ""
        if total is not False:
            foot = self._total_row(data, df, columns, total)
        cap = f"<caption>{esc(caption)}</caption>" if caption else ""
        head_html = f"<thead><tr>{''.join(heads)}</tr></thead>"
        # Column widths for the PDF, from the text already formatted: the print sheet
        # lays such a table out with `table-layout: fixed`, so WeasyPrint skips
        # measuring every cell, and a table too wide for A4 prints denser.
        table_open, colgroup = fixed_table("".join(heads), [*body_rows, foot])

        def render(rows: list[str]) -> str:
            return (
                f'<div class="bb-table">{table_open}{cap}{colgroup}{head_html}<tbody>{"".join(rows)}</tbody>'
                f"{foot}</table></div>"
            )

        if not body_rows:
            self._emit(
                render([]).replace(
                    "<tbody></tbody>",
                    f'<tbody><tr><td colspan="{len(columns)}" class="bb-none">{esc(self.t("common.no_rows"))}</td></tr></tbody>',
                )
            )
            return
        if rule is not None or hidden.any():
            why = (
                rule
                if rule is not None
                else self.t("common.suppressed_note", limit=self.suppress_below)
            )
            foot_note = f'<p class="bb-note bb-suppressed-note">{esc(why)}</p>'
        else:
            foot_note = ""
        self._bounded(render, body_rows, max_rows=max_rows, caption=caption, after=foot_note)

    def _bounded(
        self,
        render,
        body_rows: list[str],
        *,
        max_rows: int,
        caption: str | None = None,
        after: str = "",
    ) -> None:
        """Emit a table of ``body_rows`` (``render`` makes the whole table of some of
        them) and ``after`` under it. Rows past ``max_rows`` continue in the appendix,
        from row ``max_rows + 1``, with a note saying so."""
        if len(body_rows) <= max_rows:
            self._emit(render(body_rows) + after)
            return
        self._emit(render(body_rows[:max_rows]) + after)
        rest = len(body_rows) - max_rows
        self.note("common.truncated", shown=max_rows, total=len(body_rows), rest=rest)
        # the appendix continues the table from the first row the body leaves out,
        # under the same header and column widths (no row printed twice)
        title = self.t(
            "common.continued",
            title=caption or (self.blocks_heading() or ""),
            first=max_rows + 1,
        )
        self.appendix_blocks.append(f"<h3>{esc(title)}</h3>{render(body_rows[max_rows:])}")

    def unit_names(self, branches: pd.DataFrame) -> dict[str, str]:
        """``{unit: name}`` of the branches of ``branches`` ("name (id)", in the page's
        locale) and of their regions (the catalogue's region names): how a league
        table and its summary sentences name a unit."""
        zh = self.locale == "zh-CN" and "name_zh" in branches
        out = {
            str(
                r["branch_id"]
            ): f"{r['name_zh'] if zh and r['name_zh'] else r['name']} ({r['branch_id']})"
            for _, r in branches.iterrows()
        }
        for region in branches.get("region", pd.Series(dtype=str)).dropna().unique():
            out[str(region)] = i18n.label("common.regions", str(region), self.locale)
        return out

    def league(
        self, key: str, tables: Mapping[str, pd.DataFrame], *, p0: float, names: Mapping[str, str]
    ) -> None:
        """The league tables of the headline KPI ``key`` (:mod:`branchbook.metrics.league`):
        per level of ``tables`` (``region``, ``branch``) the units with value, rank, the
        change against last month and the start of the year and their funnel position
        against the scope's level ``p0``, best first; a note on the funnel, or on why the
        metric has none. Nothing for a branch's report (no ``tables``)."""
        if not tables:
            return
        m = metrics.get(key)
        label = self.term(key, self.t(m.label_key))
        self._emit(
            f'<h2 class="bb-section" id="sec-league-{esc(key)}">'
            f"{esc(self.t('common.league.title', kpi=label))}</h2>"
        )
        change = {"pct": "delta_pct", "num": "delta_num"}.get(m.kind, m.kind)
        funnel = any(t["position"].notna().any() for t in tables.values())
        for level, table in tables.items():
            shown = table.assign(
                unit=[names.get(u, u) for u in table["unit"]],
                position=[
                    self.t(f"common.league.position.{p if pd.notna(p) else 'none'}")
                    for p in table["position"]
                ],
            )
            columns = {
                "unit": "text",
                "value": m.kind,
                "rank": "int",
                "previous": m.kind,
                "change": change,
                "year_start": m.kind,
                "change_ytd": change,
                "position": "text",
            }
            self.table(
                shown,
                columns,
                headers="common.league.columns",
                max_rows=25,
                caption=self.t(f"common.league.caption.{level}", kpi=label),
            )
        if funnel:
            self.note("common.league.funnel", level=self.fmt(p0, m.kind))
        else:
            self.note(f"common.league.no_funnel.{m.kind}")

    def action_table(
        self, name: str, df: pd.DataFrame, columns: Mapping[str, str], *, shown: int
    ) -> None:
        """An action list: the first ``shown`` rows of ``df`` (already in the order to
        act), and a line saying how many of how many are shown and that every row is in
        the workbook published beside the report (``<report>.xlsx``, one sheet per list).

        The full list (personal columns masked as on the page, coded values in words,
        numbers as numbers) is kept in the page meta under ``actions[name]``, for the
        runner to write the workbook (:mod:`branchbook.output.xlsx`). ``name`` is the
        sheet's name, a short key (``customers_to_contact``). In a section not drawn
        (its data is not recorded) there is no list, on the page or in the workbook.
        """
        if self._in_hidden:
            return
        columns = {c: k for c, k in columns.items() if c not in self.not_recorded}
        if self.level == "bank":
            self._aggregated_list(name, df, columns)
            return
        data = privacy.mask_frame(df)
        self.table(data.head(shown), columns, max_rows=shown)
        total, n = len(data), min(shown, len(data))
        if total:
            key = "common.actions.all_shown" if n == total else "common.actions.some_shown"
            link = f"{self.report}.xlsx"
            self._emit(
                f'<p class="bb-note bb-actions-note">{esc(self.t(key, shown=n, total=total))} '
                f'<a href="{esc(link)}" download>{esc(self.t("common.actions.workbook"))}</a></p>'
            )
        self.actions[name] = {
            "columns": list(columns),
            "kinds": list(columns.values()),
            "headers": [self.rt(f"columns.{c}") for c in columns],
            "rows": [
                [self._export(row[c], k) for c, k in columns.items()] for _, row in data.iterrows()
            ],
        }
        self._emit_meta()

    def _aggregated_list(self, name: str, df: pd.DataFrame, columns: Mapping[str, str]) -> None:
        """The bank's form of an action list: per region, branch and reason (the list's
        ``reason`` or ``next_step`` column) the number of rows and the sum of each money
        column, no customer's row (:func:`branchbook.privacy.aggregate`). A group of fewer
        customers than :attr:`suppress_below` shows ``*`` for its numbers (and so does
        its complement), on the page, in the workbook and in the brief, and the rule is
        stated under the table."""
        reason = next((c for c in ("reason", "next_step") if c in columns), None)
        money = [c for c, k in columns.items() if k == "money"]
        branch = df["customer_id"].map(dict(self.customer_branch)) if "customer_id" in df else None
        frame = pd.DataFrame(
            {
                "branch": branch if branch is not None else pd.Series("", index=df.index),
                **({"reason": df[reason]} if reason else {}),
                **({"customer_id": df["customer_id"]} if "customer_id" in df else {}),
                **{c: pd.to_numeric(df[c], errors="coerce") for c in money},
            }
        ).fillna({"branch": ""})
        frame["region"] = frame["branch"].map(dict(self.branch_region)).fillna("")
        keys = ["region", "branch", *(["reason"] if reason else [])]
        out = privacy.aggregate(frame, keys, money=money, limit=self.suppress_below)
        out["region"] = [i18n.label("common.regions", r, self.locale) for r in out["region"]]
        out["branch"] = [self.branch_names.get(b, b) for b in out["branch"]]
        kinds = {"region": "text", "branch": "text", "rows": "int", **dict.fromkeys(money, "money")}
        if reason:
            kinds = {"region": "text", "branch": "text", "reason": columns[reason], "rows": "int",
                     **dict.fromkeys(money, "money")}  # fmt: skip
        heads = {c: self.rt(f"columns.{c}") for c in money}
        heads.update(
            {k: self.t(f"common.actions.aggregate.{k}") for k in ("region", "branch", "rows")}
        )
        if reason:
            heads["reason"] = self.rt(f"columns.{reason}")
        self.note("common.actions.aggregate.note", total=len(df))
        rule = self.t("common.actions.aggregate.suppressed", limit=self.suppress_below)
        self.table(
            out, kinds, headers=heads, max_rows=40, total=True, suppress=["customers"], rule=rule
        )
        self.actions[name] = {
            "columns": list(kinds),
            "kinds": list(kinds.values()),
            "headers": [heads[c] for c in kinds],
            "rows": [
                [
                    privacy.MARK
                    if row["hidden"] and k in NUMERIC_KINDS
                    else self._export(row[c], k)
                    for c, k in kinds.items()
                ]
                for _, row in out.iterrows()
            ],
        }
        self._emit_meta()

    def _export(self, value: Any, kind: str) -> Any:
        """A cell of an exported list: a number stays a number, a code is in words."""
        if fmt.is_missing(value):
            return None
        if kind.startswith("label:"):
            return i18n.label(kind[6:], value, self.locale)
        if kind in NUMERIC_KINDS:
            return float(value) if kind != "int" else int(value)
        if kind == "date":
            return str(value)[:10]
        return str(value)

    def _cell(
        self, value: Any, kind: str, suppressed: bool = False, scale: float | None = None
    ) -> str:
        if suppressed:
            return '<td class="num bb-suppressed">*</td>'
        if kind.startswith("label:"):
            return f"<td>{esc(i18n.label(kind[6:], value, self.locale))}</td>"
        text = self.fmt(value, kind, scale)
        if kind in NUMERIC_KINDS:
            # red only when the reader sees a minus: a change that rounds to zero is neutral
            neg = fmt.finite(value) and float(value) < 0 and "-" in text
            return f'<td class="num{" neg" if neg else ""}">{esc(text)}</td>'
        return f"<td>{esc(text)}</td>"

    def _row(self, row: pd.Series, columns: Mapping[str, str], hidden: bool = False) -> str:
        # A small group hides every number of its row: its share or average would
        # otherwise give the count back.
        scales = self._scales
        cells = [
            self._cell(row[c], k, suppressed=hidden and k in NUMERIC_KINDS, scale=scales.get(c))
            for c, k in columns.items()
        ]
        return f"<tr>{''.join(cells)}</tr>"

    def _total_row(self, data, raw, columns, total) -> str:
        # the totals row keeps its column's unit, however much larger the sum is
        scales = self._scales
        cells = []
        for i, (col, kind) in enumerate(columns.items()):
            if isinstance(total, Mapping) and col in total:
                hide = total[col] is privacy.SUPPRESSED
                cells.append(
                    self._cell(total[col], kind, suppressed=hide, scale=scales.get(col))
                    .replace("<td", "<th", 1)
                    .replace("</td>", "</th>")
                )
            elif kind in SUMMABLE_KINDS and not isinstance(total, Mapping):
                cells.append(
                    self._cell(pd.to_numeric(raw[col]).sum(), kind, scale=scales.get(col))
                    .replace("<td", "<th", 1)
                    .replace("</td>", "</th>")
                )
            else:
                cells.append(f"<th>{esc(self.t('common.total')) if i == 0 else ''}</th>")
        return f'<tfoot><tr class="bb-total">{"".join(cells)}</tr></tfoot>'

    def blocks_heading(self) -> str | None:
        """The text of the most recent section heading (for appendix titles)."""
        import re

        for block in reversed(self.blocks):
            m = re.search(r'<h2 class="bb-section"[^>]*>(.*?)</h2>', block)
            if m:
                return html.unescape(m.group(1))
        return None

    def appendix(self) -> None:
        """The methods appendix (see :meth:`methods`), then the full versions of tables
        that were cut in the body."""
        self._to_methods = False
        self._in_hidden = False
        if self.methods_blocks:
            self._emit(
                f'<section class="bb-methods" id="methods"><h2 class="bb-section" id="sec-methods">'
                f"{esc(self.t('common.methods.title'))}</h2>{''.join(self.methods_blocks)}</section>"
            )
            self.methods_blocks = []
        if not self.appendix_blocks:
            return
        self._emit(
            f'<section class="bb-appendix" id="appendix"><h2 class="bb-section" id="sec-appendix">'
            f"{esc(self.t('common.appendix'))}</h2>{''.join(self.appendix_blocks)}</section>"
        )

    def definitions(self, items: Mapping[str, str]) -> None:
        """Definitions of every metric used: metric -> catalogue key of its definition,
        then every metric the report declares (:mod:`branchbook.metrics`) that ``items``
        does not name, so a declared metric is always defined."""
        self.appendix()
        items = dict(items)
        for m in metrics.of_report(self.report):
            if m.key not in items and i18n.has(m.definition_key, self.locale):
                items[m.key] = m.definition_key
        rows = []
        for metric, key in items.items():
            term = None
            for cand in (
                f"{self.report}.terms.{metric}",
                f"{self.report}.kpis.{metric}",
                f"{self.report}.columns.{metric}",
            ):
                if i18n.has(cand, self.locale):
                    term = self.t(cand)
                    break
            term = self.term(metric, term or metric)
            text = self.t(key)
            th, declared = self.thresholds.get(metric), metrics.catalogue().get(metric)
            if th is not None and declared is not None:
                sep = "" if self.locale == "zh-CN" else " "
                text = f"{text}{sep}{explain(th, declared.kind, self.locale)}"
            rows.append(f"<dt>{esc(term)}</dt><dd>{esc(text)}</dd>")
        self._emit(
            f'<section class="bb-definitions" id="definitions"><h2 class="bb-section" id="sec-definitions">'
            f"{esc(self.t('common.definitions'))}</h2><dl>{''.join(rows)}</dl></section>"
        )

    def provenance(self) -> None:
        """Run id, period, data fingerprint, code version, time of the run."""
        info = dict(self.provenance_info)
        info.setdefault("generated", dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
        line = self.t(
            "common.provenance",
            run_id=info.get("run_id") or "interactive",
            period=self.period,
            fingerprint=str(info.get("fingerprint", ""))[:12],
            version=info.get("code_version", ""),
            generated=info["generated"],
        )
        self._emit(f'<footer class="bb-provenance">{esc(line)}</footer>')
        self._emit_meta()

    def html(self) -> str:
        """All fragments so far, in order (for use outside a kernel)."""
        return "\n".join(self.blocks)

    def meta_json(self) -> str:
        return json.dumps(self._meta(), ensure_ascii=False)


def kpi_change(value: float, prev: float, kind: str, locale: str) -> str:
    """The change of a KPI against last period, in the unit that reads right.

    Shares (``pct``): percentage points. Counts and money: relative change in %
    (empty when last period was 0). Scores and other numbers (``num``, e.g. NPS or a
    0-100 CSAT): the difference in points, since a relative change of a score that
    can cross zero means nothing.
    """
    if kind in ("pct", "delta_pct"):
        return fmt.delta_pct(value - prev, locale)
    if kind in ("int", "money", "money_unit"):
        return fmt.delta(value / prev - 1, locale) if prev != 0 else ""
    return fmt.signed(value - prev)


def cards(
    values: Mapping[str, float],
    *,
    kinds: Mapping[str, str],
    prev: Mapping[str, float] | None = None,
    bank: Mapping[str, float] | None = None,
    rag: Mapping[str, Any] | None = None,
    locale: str = "en",
    year_start: Mapping[str, float] | None = None,
) -> list[Kpi]:
    """KPI cards from dicts of values; ``rag`` maps a KPI to an object with
    ``status(value)`` and ``good`` / ``green`` / ``amber`` (see :class:`branchbook.params.Rag`);
    ``year_start`` the values at the start of the year (a KPI missing from it: NaN, "n/a";
    no mapping: no start-of-year line)."""
    out = []
    for key, value in values.items():
        kind = kinds.get(key, "num")
        r = as_rag((rag or {}).get(key))
        status = rag_status(value, r) or "none"
        rule = ""
        if r is not None:
            sym = "≥" if r.good == "high" else "≤"
            rule = (
                f"{i18n.t('common.status.green', locale)} {sym} {cut_text(r.green, kind, locale)}; "
                f"{i18n.t('common.status.amber', locale)} {sym} {cut_text(r.amber, kind, locale)}"
            )
        out.append(
            Kpi(
                key=key,
                value=value,
                kind=kind,
                prev=(prev or {}).get(key),
                bank=(bank or {}).get(key),
                status=status,
                rule=rule,
                year_start=(
                    None if year_start is None else float(year_start.get(key, float("nan")))
                ),
            )
        )
    return out


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None
