"""The portal's branch packs: which a person may see, the row that links one, its file.

A branch's pack (``/<period>/<branch>/pack.pdf``, :mod:`branchbook.output.pack`) holds
every report of the branch, so it is served only to a person who may see each report it
holds (their units include the branch and they receive each report); the manifest says
which reports those are.
"""

from __future__ import annotations

import html
from pathlib import Path

from ..deliver import published
from ..deliver.access import AccessList
from ..errors import BranchbookError

#: A pack's file name (:data:`branchbook.output.pack.PACK_FILE`; that module lays out
#: PDFs, more than the portal needs to import).
PACK_FILE = "pack.pdf"


def _read(root: Path, period: str) -> dict[str, published.Pack]:
    try:
        return published.read(root, period).packs
    except BranchbookError:
        return {}


def visible(acl: AccessList, root: Path, who: str, period: str) -> dict[str, published.Pack]:
    """The packs of ``period`` that ``who`` may see, by branch."""
    return {b: p for b, p in _read(root, period).items() if acl.may_see_pack(who, b, p.reports)}


def find(
    acl: AccessList, root: Path, who: str, period: str, branch: str
) -> tuple[int, str, Path | None]:
    """``(200, "", path)`` of ``branch``'s pack when ``who`` may see it, else the refusal:
    ``(404 or 403, why, None)``."""
    pack = _read(root, period).get(branch)
    if pack is None:
        return 404, "no such pack", None
    if not acl.may_see_pack(who, branch, pack.reports):
        return 403, f"{branch}/{PACK_FILE}: not every report it holds is in their units", None
    path = (root / period / str(pack.pdf.get("path", ""))).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return 404, "no such pack", None
    return 200, "", path


def row(period: str, pack: published.Pack, label: str) -> str:
    """The index row that links ``pack``, after its branch's reports."""
    return (
        f"<tr data-branch='{pack.branch}' class='pack'><td>{pack.branch}</td>"
        f"<td>{html.escape(label)}</td><td>"
        f"<a href='/{period}/{html.escape(str(pack.pdf.get('path', '')))}'>PDF</a></td></tr>"
    )
