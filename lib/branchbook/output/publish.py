"""The index pages readers open first: one per period, and one listing the periods.

``reports/<period>/index.html`` is a table of every branch (id, name, region, city)
by the four reports: each cell says published, failed (with the one-line error) or
not run, and links to the branch's HTML and PDF, in each locale the report was
published in (``branchbook run --locales``: one line per locale, named in the index's
own language); a few headline numbers per branch come from the reports' KPI cards. ``reports/index.html`` lists the periods, newest
first. Both read only the run's ``manifest.json``; every text comes from the
catalogue (``common.index.*``) and every value is escaped.

The pages are single files with inline CSS and a small inline script (search,
filters, sorting) that needs nothing from the network, so they work from a file
share, a static web server or a laptop offline. Without the script the table is
complete; only the controls are hidden.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from .. import fmt, i18n, orgtree
from ..about import __version__
from ..iorw import atomic_write
from ..reports import REPORTS
from . import names
from .html import TEMPLATES, asset

log = logging.getLogger(__name__)

STATUSES = ("ok", "failed", "skipped", "not_produced")
HEADLINES = len(REPORTS)  # one headline number per report, in the reports' order


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write(path: Path, template: str, **values: Any) -> Path:
    html = (
        _env()
        .get_template(template)
        .render(
            css=Markup(asset("index.css")),
            script=Markup(asset("index.js")),
            version=__version__,
            **values,
        )
    )
    atomic_write(path, html.encode("utf-8"))
    return path


def _period_label(period: str, locale: str) -> str:
    try:
        return fmt.month(period, locale)
    except (ValueError, TypeError):
        return str(period)


def _generated(value: Any) -> str:
    """An ISO time as ``YYYY-MM-DD HH:MM`` (the text as given if it is not one)."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _one_line(text: Any, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _text(value: Any) -> str:
    return "" if fmt.is_missing(value) else str(value)


# -- the period index -----------------------------------------------------------------


def _headline_columns(
    entries: Mapping[str, Mapping[str, Any]], limit: int, locale: str | None = None
) -> list[tuple[str, str, str]]:
    """``(report, kpi, label)`` of the headline numbers to show: the first KPI of each
    report in turn, then the second, ... up to ``limit``. The label is the index's own
    locale's name of the KPI when the catalogue has it (a report may be in another
    locale), else the label stored with the report."""
    per_report: dict[str, list[tuple[str, str]]] = {r: [] for r in REPORTS}
    for entry in entries.values():
        report = entry.get("report")
        if entry.get("status") != "ok" or report not in per_report:
            continue
        for kpi, item in (entry.get("headline") or {}).items():
            if kpi not in [k for k, _ in per_report[report]]:
                per_report[report].append((kpi, _text((item or {}).get("label")) or kpi))
    columns: list[tuple[str, str, str]] = []
    depth = 0
    while len(columns) < limit and any(len(v) > depth for v in per_report.values()):
        for report in REPORTS:
            if depth < len(per_report[report]) and len(columns) < limit:
                kpi, label = per_report[report][depth]
                key = f"{report}.kpis.{kpi}"
                if locale and i18n.has(key, locale):
                    label = i18n.t(key, locale)
                columns.append((report, kpi, label))
        depth += 1
    return columns


def _link(period_dir: Path, entry: Mapping[str, Any], kind: str) -> str | None:
    """The relative link to a report file the manifest lists, if the file is there: a
    file of an earlier run that the manifest does not list is never linked."""
    item = (entry.get("outputs") or {}).get(kind)
    rel = item.get("path") if isinstance(item, Mapping) else None
    if not rel:
        return None
    rel = str(rel).replace("\\", "/")
    if rel.startswith("/") or ".." in rel.split("/"):
        return None
    return quote(rel, safe="/") if (period_dir / rel).is_file() else None


def _metric_kind(report: str, kpi: str) -> str | None:
    """The declared kind of a report's KPI (``money``, ``pct``, ...), None if unknown."""
    import importlib

    from ..metrics.declare import get

    try:
        importlib.import_module(REPORTS[report])  # a package declares its metrics
        return get(kpi).kind
    except (KeyError, ImportError):
        return None


def _column_formats(
    entries: Mapping[str, Mapping[str, Any]], headlines: list[tuple[str, str, str]], locale: str
) -> list[tuple[str | None, float | None]]:
    """``(kind, money scale)`` of each headline column: every number of a column is
    written in the index's locale and, for money, in one unit chosen from the column's
    values (never 亿元 in one row and 万元 in the next)."""
    out: list[tuple[str | None, float | None]] = []
    for report, kpi, _label in headlines:
        kind = _metric_kind(report, kpi)
        scale = None
        if kind == "money":
            values = [
                ((e.get("headline") or {}).get(kpi) or {}).get("value")
                for e in entries.values()
                if e.get("report") == report and e.get("status") == "ok"
            ]
            scale = fmt.money_scale(values, locale)
        out.append((kind, scale))
    return out


def _number_text(item: Mapping[str, Any], kind: str | None, scale: float | None, locale: str):
    value = item.get("value")
    if kind is None or not fmt.finite(value):
        return _text(item.get("text")) or fmt.MISSING
    if kind == "money":
        return fmt.money(value, locale, scale=scale)
    return fmt.format_value(value, kind, locale)


def _first_ok(group: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The entry whose numbers stand for a report: the first published locale's."""
    return next((e for e in group if e.get("status") == "ok"), group[0] if group else {})


def _not_produced_reason(entry: Mapping[str, Any], tr: i18n.Translator) -> str:
    """Why a report is not produced, in the index's language: "Not produced: no survey
    data (surveys)", from the missing tables or columns the manifest records."""
    missing = [_text(m) for m in entry.get("missing") or [] if _text(m)]
    whats = []
    for name in missing:
        table = name.split(".", 1)[0]
        key = f"common.coverage.data.{table}"
        what = tr(key) if i18n.has(key, tr.locale) else tr("common.coverage.data.other")
        if what not in whats:
            whats.append(what)
    return tr(
        "common.index.not_produced_reason",
        what=", ".join(whats) or tr("common.coverage.data.other"),
        tables=", ".join(missing) or "–",
    )


def _signals(
    groups: Mapping[tuple[str, str], list[Mapping[str, Any]]], bid: str
) -> dict[str, int] | None:
    """Red and amber KPI cards over the branch's published reports, each report once
    whatever its locales (None when no published report of the branch recorded them)."""
    found = [
        e["signals"]
        for report in REPORTS
        if (e := _first_ok(groups.get((bid, report), []))).get("status") == "ok"
        and isinstance(e.get("signals"), Mapping)
    ]
    if not found:
        return None
    return {s: sum(int(f.get(s) or 0) for f in found) for s in ("red", "amber")}


def _cell(
    period_dir: Path, group: list[Mapping[str, Any]], report: str, tr: i18n.Translator
) -> dict[str, Any]:
    """A report's cell: failed when any of its locales failed, else published when one
    was, else not produced (with its ``reason``), else not run; ``files`` holds one line of links per published locale, named
    (``中文``, ``English``, in the index's language) when there are several or the one
    is not the branch's own."""
    found = [e.get("status") if e.get("status") in STATUSES else "skipped" for e in group]
    status = next((s for s in ("failed", "ok", "not_produced") if s in found), "skipped")
    reason = next(
        (_not_produced_reason(e, tr) for e in group if e.get("status") == "not_produced"), ""
    )
    named = len(group) > 1 or any(str(e.get("stem") or report) != report for e in group)
    files, errors = [], []
    for entry in group:
        loc = names.entry_locale(entry) or ""
        name = tr.label("common.index.locales", loc) if named and loc else ""
        if entry.get("status") == "ok":
            links = {k: _link(period_dir, entry, k) for k in ("html", "pdf", "xlsx")}
            if links["html"] or links["pdf"]:
                files.append({"locale": loc, "name": name, **links})
        elif entry.get("status") == "failed":
            error = _text(entry.get("error"))
            errors.append(f"{name}: {error}" if name else error)
    first = files[0] if files else {}
    error = " · ".join(errors)
    return {
        "status": status,
        "label": tr(f"common.index.{status}"),
        "files": files,
        "html": first.get("html"),
        "pdf": first.get("pdf"),
        "xlsx": first.get("xlsx"),
        "error": _one_line(error),
        "error_full": _one_line(error, 1000),
        "reason": reason if status == "not_produced" else "",
        "rank": STATUSES.index(status),
    }


def _branch_rows(
    period_dir: Path,
    entries: Mapping[str, Mapping[str, Any]],
    branches: list[Mapping[str, Any]],
    locale: str,
    headlines: list[tuple[str, str, str]],
    tr: i18n.Translator,
    packs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    known = {
        str(b.get("branch_id", "")): b for b in branches if b.get("branch_id") not in (None, "")
    }
    for entry in entries.values():
        known.setdefault(str(entry.get("branch_id", "")), {"branch_id": entry.get("branch_id", "")})
    known.pop("", None)
    formats = _column_formats(entries, headlines, locale)
    groups = names.by_report(entries)
    order = tree_order(known)
    rows = []
    for bid, level, depth in order:
        b = known[bid]
        name = (
            _text(b.get("name_zh"))
            if locale == "zh-CN" and _text(b.get("name_zh"))
            else _text(b.get("name"))
        )
        region, city = _text(b.get("region")), _text(b.get("city"))
        city_zh = _text(b.get("city_zh"))
        cells, statuses = [], []
        for report in REPORTS:
            cell = _cell(period_dir, groups.get((bid, report), []), report, tr)
            if level != "branch" and not groups.get((bid, report)):
                # a report made per branch only: no cell to count at this level
                cell |= {"status": "none", "label": tr("common.index.branch_only"), "rank": 9}
            statuses.append(cell["status"])
            cells.append(cell)
        signals = _signals(groups, bid)
        numbers = []
        for (report, kpi, _label), (kind, scale) in zip(headlines, formats, strict=True):
            entry = _first_ok(groups.get((bid, report), []))
            item = (entry.get("headline") or {}).get(kpi) if entry.get("status") == "ok" else None
            if not item:
                numbers.append(None)
                continue
            status = (
                item.get("status") if item.get("status") in ("green", "amber", "red") else "none"
            )
            value = item.get("value")
            numbers.append(
                {
                    "text": _number_text(item, kind, scale, locale),
                    "value": "" if not fmt.finite(value) else repr(float(value)),
                    "status": status,
                    "status_label": tr(f"common.status.{status}"),
                }
            )
        pack = (packs or {}).get(bid) or {}
        rows.append(
            {
                "id": bid,
                "anchor": anchor(bid),
                "level": level,
                "depth": depth,
                "up": _up_link(bid, level, b, known, tr),
                "down": _down_links(bid, level, order, known, locale),
                "name": name,
                # the branch pack (cover brief and the four reports in one PDF), if published
                "pack": _link(period_dir, pack, "pdf") if pack.get("status") == "ok" else None,
                "region": region,
                "region_label": tr.label("common.regions", region) if region else "",
                "city": city_zh if locale == "zh-CN" and city_zh else city,
                "search": " ".join(
                    [
                        bid,
                        tr(f"common.index.levels.{level}"),
                        _text(b.get("name")),
                        _text(b.get("name_zh")),
                        region,
                        tr.label("common.regions", region) if region else "",
                        city,
                        city_zh,
                    ]
                ).lower(),
                "statuses": " ".join(sorted(set(statuses))),
                "cells": cells,
                "numbers": numbers,
                "signals": signals,
                "signals_text": tr("common.index.signals_count", **signals)
                if signals is not None
                else fmt.MISSING,
            }
        )
    return rows


LEVELS = ("bank", "region", "branch")


def anchor(folder: str) -> str:
    """The id of a row of the period index: ``u-bank``, ``u-region-East``, ``u-0101``."""
    return f"u-{folder}"


def _level(bid: str, row: Mapping[str, Any]) -> str:
    """``bank``, ``region`` (the folder of the row's region) or ``branch``."""
    if bid == "bank":
        return "bank"
    region = _text(row.get("region"))
    return "region" if region and bid == orgtree.folder(f"region:{region}") else "branch"


def tree_order(known: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, int]]:
    """The index's rows as the organisation tree reads from the top: ``(id, level,
    depth)``, the bank first, then each region followed by its branches, a sub-branch
    after its parent branch one level deeper; rows with no region last, by id.

    >>> tree_order({"0102": {"region": "East", "parent_id": "0101"},
    ...             "0101": {"region": "East"}, "region-East": {"region": "East"},
    ...             "bank": {}})  # doctest: +NORMALIZE_WHITESPACE
    [('bank', 'bank', 0), ('region-East', 'region', 1), ('0101', 'branch', 2),
     ('0102', 'branch', 3)]
    """
    levels = {bid: _level(bid, row) for bid, row in known.items()}
    branches = {b for b, lv in levels.items() if lv == "branch"}
    parent = {b: _text(known[b].get("parent_id")) for b in branches}
    children: dict[str, list[str]] = {}
    for b in sorted(branches):
        p = parent[b]
        top = (
            not p
            or p not in branches
            or _text(known[p].get("region")) != _text(known[b].get("region"))
        )
        children.setdefault("" if top else p, []).append(b)
    out = [("bank", "bank", 0)] if "bank" in levels else []
    placed: set[str] = set()

    def walk(node: str, depth: int) -> None:
        for b in children.get(node, []):
            if b not in placed:
                placed.add(b)
                out.append((b, "branch", depth))
                walk(b, depth + 1)

    regions = sorted({_text(known[b].get("region")) for b in known if levels[b] != "bank"} - {""})
    for region in regions:
        folder = orgtree.folder(f"region:{region}")
        if levels.get(folder) == "region":
            out.append((folder, "region", 1))
        tops = [b for b in children.get("", []) if _text(known[b].get("region")) == region]
        for b in tops:
            placed.add(b)
            out.append((b, "branch", 2))
            walk(b, 3)
    out += [(b, "branch", 2) for b in sorted(branches - placed)]  # no region, or a loop
    return out


def _up_link(
    bid: str, level: str, row: Mapping[str, Any], known: Mapping[str, Any], tr: i18n.Translator
) -> dict[str, str] | None:
    """The link one level up: a sub-branch's parent branch, a branch's region, a
    region's bank (only to a row the index has)."""
    if level == "bank":
        return None
    parent = _text(row.get("parent_id"))
    if level == "branch" and parent in known:
        target = parent
    elif level == "branch" and _text(row.get("region")):
        target = orgtree.folder(f"region:{_text(row.get('region'))}")
    else:
        target = "bank"
    if target not in known:
        return None
    return {
        "href": f"#{anchor(target)}",
        "text": tr("common.index.up", name=_name(known[target], tr.locale)),
    }


def _down_links(
    bid: str, level: str, order: list[tuple[str, str, int]], known: Mapping[str, Any], locale: str
) -> list[dict[str, str]]:
    """The links one level down: the bank's regions, a region's branches (not their
    sub-branches), a branch's sub-branches."""
    if level == "bank":
        below = [b for b, lv, _ in order if lv == "region"]
    elif level == "region":
        region = _text(known[bid].get("region"))
        below = [
            b
            for b, lv, _ in order
            if lv == "branch"
            and _text(known[b].get("region")) == region
            and _text(known[b].get("parent_id")) not in known
        ]
    else:
        below = [
            b for b, lv, _ in order if lv == "branch" and _text(known[b].get("parent_id")) == bid
        ]
    return [{"href": f"#{anchor(b)}", "text": _name(known[b], locale) or b} for b in below]


def _name(row: Mapping[str, Any], locale: str) -> str:
    zh = _text(row.get("name_zh"))
    return zh if locale == "zh-CN" and zh else _text(row.get("name")) or _text(row.get("branch_id"))


def write_period_index(
    period_dir: Path,
    manifest: dict,
    *,
    locale: str,
    bank_name: str,
    branches: list[dict],
    headlines: int = HEADLINES,
) -> Path:
    """Write ``<period_dir>/index.html``: every branch by the four reports, from the manifest.

    ``branches`` holds one dict per branch (``branch_id``, ``name``, ``name_zh``,
    ``region``, ``city``); a branch that is only in the manifest still gets a row. A
    report is *published* when its manifest status is ``ok`` (linked when its file is
    there), *failed* with its one-line error, or *not run* (``skipped`` or absent).
    ``headlines`` numbers per branch come from the reports' headline KPIs, taking each
    report's first KPI in turn.
    """
    period_dir = Path(period_dir)
    tr = i18n.Translator(locale)
    entries = manifest.get("reports") or {}
    period = str(manifest.get("period") or period_dir.name)
    columns = _headline_columns(entries, headlines, locale)
    rows = _branch_rows(
        period_dir, entries, branches, locale, columns, tr, manifest.get("packs") or {}
    )
    counts = {s: sum(c["status"] == s for r in rows for c in r["cells"]) for s in STATUSES}
    total = sum(c["status"] != "none" for r in rows for c in r["cells"])
    try:
        title = tr("common.index.title", period=period)
    except (ValueError, TypeError):
        title = f"{tr('common.index.periods_title')} · {period}"
    return _write(
        period_dir / "index.html",
        "index.html.j2",
        lang=locale,
        t=tr,
        title=title,
        bank_name=bank_name,
        period=period,
        summary=tr("common.index.summary", ok=counts["ok"], total=total, failed=counts["failed"]),
        generated=tr("common.index.generated", generated=_generated(manifest.get("generated")))
        if manifest.get("generated")
        else "",
        reports=[(r, tr(f"common.reports.{r}")) for r in REPORTS],
        headlines=[(label, tr(f"common.reports.{report}")) for report, _kpi, label in columns],
        rows=rows,
        regions=sorted({(r["region"], r["region_label"]) for r in rows if r["region"]}),
        levels=[(lv, tr(f"common.index.levels.{lv}")) for lv in LEVELS],
        statuses=[(s, tr(f"common.index.{s}")) for s in STATUSES],
    )


# -- the list of periods ----------------------------------------------------------------


def _period_row(manifest_path: Path, locale: str) -> dict[str, Any] | None:
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest.get("reports") or {}
        items = [e for e in entries.values() if isinstance(e, dict)]
        # a report in several locales counts once: failed if one failed, as in its cell
        groups = names.by_report({k: e for k, e in entries.items() if isinstance(e, dict)})
        cells = [
            next((s for s in ("failed", "ok") if any(e.get("status") == s for e in g)), "")
            for g in groups.values()
        ]
    except (OSError, ValueError, AttributeError) as exc:
        log.warning(
            "%s is not a readable manifest (%s); its period is left out of the index",
            manifest_path,
            exc,
        )
        return None
    folder = manifest_path.parent.name
    index = manifest_path.parent / "index.html"
    return {
        "period": folder,
        "label": _period_label(str(manifest.get("period") or folder), locale),
        "href": f"{quote(folder)}/index.html" if index.is_file() else None,
        # branches only: a region's or the bank's report is made with no branch id
        "branches": len(
            {
                str(e.get("branch_id"))
                for e in items
                if (e.get("parameters") or {}).get("branch_id", e.get("branch_id")) != ""
            }
        ),
        "ok": cells.count("ok"),
        "failed": cells.count("failed"),
        "generated": _generated(manifest.get("generated")),
    }


def write_root_index(reports_dir: Path, *, locale: str, bank_name: str) -> Path:
    """Write ``<reports_dir>/index.html``: every period folder with a manifest, newest first."""
    reports_dir = Path(reports_dir)
    tr = i18n.Translator(locale)
    rows = []
    if reports_dir.is_dir():
        for manifest_path in reports_dir.glob("*/manifest.json"):
            row = _period_row(manifest_path, locale)
            if row is not None:
                rows.append(row)
    rows.sort(key=lambda r: r["period"], reverse=True)
    return _write(
        reports_dir / "index.html",
        "periods.html.j2",
        lang=locale,
        t=tr,
        title=tr("common.index.periods_title"),
        bank_name=bank_name,
        rows=rows,
    )
