"""Each report's links to the same report one level up and down the organisation tree.

A region's report links to its branches' reports and to the bank's, a branch's report to
its region's (a sub-branch's to its parent branch's, a branch's to its sub-branches'),
the bank's to its regions'. A link is made only to a report the period's manifest lists
as published with its page on disk, so the links are written after the run, beside the
reports, as ``<folder>/levels.js`` (:data:`LEVELS_FILE`): the published pages (and their
checksums, what delivery compares) stay as they were made, a report added or failed
later changes only this small file, and the portal writes each person's own, with the
reports they may see only (:mod:`branchbook.serve.app`). A report page reads it with a
script tag and shows the links in its own language; without the script (a PDF, a mail
client) the page is complete, without the links.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import i18n, orgtree
from ..iorw import atomic_write
from . import names

LEVELS_FILE = "levels.js"
LOCALES = ("en", "zh-CN")


def neighbours(tree: orgtree.OrgTree, folder: str) -> tuple[list[str], list[str]]:
    """``(up, down)``: the folders one level above and below ``folder`` (a branch id,
    ``region-<name>`` or ``bank``).

    >>> t = orgtree.OrgTree.of([("0101", "East", None), ("010101", "East", "0101")])
    >>> neighbours(t, "region-East"), neighbours(t, "0101"), neighbours(t, "010101")
    ((['bank'], ['0101']), (['region-East'], ['010101']), (['0101'], []))
    """
    regions = {orgtree.folder(f"region:{r}"): r for r in tree.regions()}
    if folder == orgtree.BANK:
        return [], list(regions)
    if folder in regions:
        down = [
            b
            for b in sorted(tree.region)
            if tree.region[b] == regions[folder] and tree.parent.get(b) not in tree.region
        ]
        return [orgtree.BANK], down
    if folder not in tree.region:
        return [], []
    parent = tree.parent.get(folder)
    up = [parent] if parent in tree.region else [orgtree.folder(f"region:{tree.region[folder]}")]
    return up, sorted(b for b, p in tree.parent.items() if p == folder)


def _label(folder: str, locale: str, names_: Mapping[str, Mapping[str, str]]) -> str:
    own = names_.get(folder) or {}
    text = own.get("name_zh") if locale == "zh-CN" and own.get("name_zh") else own.get("name")
    return str(text or folder)


def _pages(entries: Mapping[str, Mapping[str, Any]], period_dir: Path | None) -> dict:
    """``(folder, report) -> {locale: path}`` of every published page on disk."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for entry in entries.values():
        if entry.get("status") != "ok":
            continue
        path = ((entry.get("outputs") or {}).get("html") or {}).get("path")
        if not path or (period_dir is not None and not (period_dir / path).is_file()):
            continue
        key = (str(entry.get("branch_id")), str(entry.get("report")))
        out.setdefault(key, {})[names.entry_locale(entry) or ""] = str(path)
    return out


def links(
    tree: orgtree.OrgTree,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    period_dir: Path | None = None,
    names_: Mapping[str, Mapping[str, str]] | None = None,
    may_see: Callable[[str, str], bool] = lambda folder, report: True,
) -> dict[str, dict[str, dict[str, list[dict]]]]:
    """``folder -> report -> {"up": [...], "down": [...]}``, each link ``{"text":
    {locale: name}, "href": {locale: path from the folder}}``, only to published pages
    (on disk under ``period_dir`` when given) that ``may_see(folder, report)``."""
    pages = _pages(entries, period_dir)
    names_ = names_ or {}
    out: dict[str, dict[str, dict[str, list[dict]]]] = {}
    for folder, report in pages:
        if not may_see(folder, report):
            continue
        up, down = neighbours(tree, folder)
        sides = {}
        for side, targets in (("up", up), ("down", down)):
            sides[side] = [
                {
                    "text": {loc: _label(t, loc, names_) for loc in LOCALES},
                    "href": {
                        loc: "../" + quote(path, safe="/")
                        for loc, path in pages[(t, report)].items()
                    },
                }
                for t in targets
                if (t, report) in pages and may_see(t, report)
            ]
        if sides["up"] or sides["down"]:
            out.setdefault(folder, {})[report] = sides
    return out


def script(per_report: Mapping[str, Any]) -> bytes:
    """The ``levels.js`` of one folder: its reports' links and their headings."""
    titles = {loc: i18n.t("common.index.report_levels", loc) for loc in LOCALES}
    data = json.dumps({"titles": titles, "reports": per_report}, ensure_ascii=False)
    return ("window.bbLevels = " + data.replace("</", "<\\/") + ";\n").encode()


def write(period_dir: Path, found: Mapping[str, Mapping[str, Any]]) -> None:
    """Write ``levels.js`` where it is read: in every folder that holds a page once any
    report of the period has a level above or below it (an empty one where no report
    has a link, so a page never asks for a file that is not there), and over any earlier
    one (so an old link never outlives its report). A period of branch reports only
    (``--scopes branch``) gets none: its pages show no links, as before."""
    period_dir = Path(period_dir)
    for folder in sorted(p.name for p in period_dir.iterdir() if p.is_dir()):
        target = period_dir / folder / LEVELS_FILE
        pages = found and any((period_dir / folder).glob("*.html"))
        if folder in found or target.exists() or pages:
            atomic_write(target, script(found.get(folder, {})))
