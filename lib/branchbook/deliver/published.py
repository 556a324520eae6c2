"""What a period published, read from its folder (never from the runner's internals).

``reports/<period>/manifest.json`` lists each ``<branch>/<report>`` with its status, its
files (path, sha256, bytes) and its headline KPIs (label, text, value, status); a
report published in more than one locale (``branchbook run --locales``) has one entry
per locale (``<branch>/<report>.<locale>`` for those not the branch's own,
:mod:`branchbook.output.names`), read here as one item with its files per locale. The
summary sentences are read from the published HTML's ``.bb-summary`` block. A branch's
pack (``<branch>/pack.pdf``, :mod:`branchbook.output.pack`) is listed under ``packs``
with the reports it holds.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ..errors import BranchbookError
from ..output import names
from ..params import validate_period

# the line naming the run, its time and the code version: differs on every run
PROVENANCE = re.compile(r"<(\w+)[^>]*\bbb-provenance\b[^>]*>.*?</\1>", re.S)


class NotPublished(BranchbookError):
    """The period has no published reports to deliver or serve."""


@dataclass(frozen=True)
class Item:
    """One published report of one branch: ``outputs`` in the branch's own locale (or,
    without it, the first published), ``locales`` every published locale's."""

    branch: str
    report: str
    headline: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)  # format -> {"path", "sha256", "bytes"}
    locale: str | None = None  # the locale of ``outputs``
    locales: dict = field(default_factory=dict)  # locale -> outputs

    @property
    def key(self) -> str:
        return f"{self.branch}/{self.report}"


@dataclass(frozen=True)
class Pack:
    """A branch's published pack: the reports it holds and its PDF (path, sha256, bytes)."""

    branch: str
    reports: tuple[str, ...]
    pdf: dict


@dataclass(frozen=True)
class Published:
    """The published folder of one period."""

    root: Path  # reports/<period>
    period: str
    run_id: str
    items: dict[str, Item]  # "<branch>/<report>" -> Item, status ok only
    packs: dict[str, Pack] = field(default_factory=dict)  # branch -> its pack, status ok only

    def file(self, item: Item, fmt: str, locale: str | None = None) -> Path | None:
        """``item``'s ``fmt`` file in ``locale`` when published in it, else in its own."""
        out = (item.locales.get(locale) or item.outputs).get(fmt)
        if not out:
            return None
        path = (self.root / out["path"]).resolve()
        return path if path.is_relative_to(self.root.resolve()) and path.is_file() else None

    def checksum(self, item: Item) -> str:
        """A short hash of what the report says: its headline texts and its HTML without
        the provenance line. Running the period again on the same data gives the same
        checksum (only the run id, time and code version differ); corrected data, or any
        change in what the report shows, gives another. Without an HTML file, the PDF's
        hash stands in (it carries the provenance line, so every run differs)."""
        h = hashlib.sha256(f"{item.key}\n".encode())
        for kpi in sorted(item.headline):
            h.update(f"{kpi}={item.headline[kpi].get('text', '')}\n".encode())
        path = self.file(item, "html")
        if path is not None:
            h.update(PROVENANCE.sub("", path.read_text(encoding="utf-8")).encode())
        else:
            h.update(str((item.outputs.get("pdf") or {}).get("sha256", "")).encode())
        return h.hexdigest()[:16]

    def summary(self, item: Item, locale: str | None = None) -> list[str]:
        """The summary sentences of ``item``'s published HTML (in ``locale`` when
        published in it); ``[]`` without one."""
        path = self.file(item, "html", locale)
        return summary_sentences(path.read_text(encoding="utf-8")) if path else []


def read(reports_dir: str | Path, period: str) -> Published:
    """The published reports of ``period`` under ``reports_dir``."""
    root = Path(reports_dir) / validate_period(period)
    manifest = root / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotPublished(
            f"{manifest}: not found (run `branchbook run --period {period}`)"
        ) from None
    except (OSError, ValueError) as exc:
        raise NotPublished(f"{manifest}: cannot read ({exc})") from None
    items = {}
    for (branch, report), group in names.by_report(data.get("reports") or {}).items():
        published = [e for e in group if e.get("status") == "ok"]
        if not published:
            continue
        first = published[0]  # the branch's own locale when it is published
        item = Item(
            branch=branch,
            report=report,
            headline=dict(first.get("headline") or {}),
            outputs=dict(first.get("outputs") or {}),
            locale=names.entry_locale(first),
            locales={names.entry_locale(e): dict(e.get("outputs") or {}) for e in published},
        )
        items[item.key] = item
    packs = {
        branch: Pack(
            branch=branch,
            reports=tuple(r for r in e.get("pages") or {} if r != "cover"),
            pdf=dict(e["outputs"]["pdf"]),
        )
        for branch, e in (data.get("packs") or {}).items()
        if e.get("status") == "ok" and (e.get("outputs") or {}).get("pdf")
    }
    return Published(
        root=root, period=period, run_id=str(data.get("run_id", "")), items=items, packs=packs
    )


_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "col", "source", "area", "embed"}


class _Summary(HTMLParser):
    """Collects the text of each ``<li>`` inside the element with class ``bb-summary``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 inside the summary block
        self.sentences: list[str] = []
        self.current: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in _VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
            if tag == "li":
                self.current = []
        elif "bb-summary" in classes:
            self.depth = 1

    def handle_endtag(self, tag):
        if not self.depth:
            return
        self.depth -= 1
        if tag == "li" and self.current is not None:
            text = re.sub(r"\s+", " ", "".join(self.current)).strip()
            if text:
                self.sentences.append(text)
            self.current = None

    def handle_data(self, data):
        if self.depth and self.current is not None:
            self.current.append(data)


def summary_sentences(html: str) -> list[str]:
    """The sentences of the ``.bb-summary`` list of a published report."""
    parser = _Summary()
    parser.feed(html)
    return parser.sentences
