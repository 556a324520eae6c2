"""The branch packs of a run: one PDF per branch, made once its four reports are published.

A step of its own after the reports (:func:`make_packs`), per branch: a pack is made
when all four reports of the branch are published with a PDF and a brief; redone only
when something it is made from changed (its fingerprint: the reports' files, the
cover's words, the code); published atomically like a report's files, under the
run's stop gate; recorded in the manifest under ``packs``. A branch with a report
missing or failed gets no pack: an earlier one is removed and the manifest names the
missing reports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import codekey, iorw, paths
from ..errors import BranchbookError
from ..output import pack
from .guard import Stop
from .manifest import Manifest

log = logging.getLogger("branchbook.run")


def up_to_date(entry: Mapping[str, Any] | None, fingerprint: str, out_dir: Path) -> bool:
    """Whether the recorded pack is made from ``fingerprint`` and its file is still it."""
    if not entry or entry.get("status") != "ok" or entry.get("fingerprint") != fingerprint:
        return False
    item = (entry.get("outputs") or {}).get("pdf") or {}
    path = out_dir / str(item.get("path", ""))
    return path.is_file() and paths.file_sha256(path) == item.get("sha256")


def make_packs(
    out_dir: Path,
    manifest: Manifest,
    branches: Mapping[str, Mapping[str, Any]],
    *,
    stop: Stop,
    force: bool = False,
) -> dict[str, dict[str, Any]]:
    """Make (or keep, or remove) the pack of each of ``branches``: branch id -> ``{"locale",
    "bank_name", "classification", "info"}`` (the branch's row of the branches table).
    Returns the packs' manifest entries by branch. A pack that cannot be made is
    recorded as failed with its error; it stops nothing else."""
    code = codekey.pack_code()
    done: dict[str, dict[str, Any]] = {}
    for bid, b in branches.items():
        if stop.is_set():
            break
        entries = manifest.data.get("reports", {})
        rel = f"{bid}/{pack.PACK_FILE}"
        missing = pack.missing_reports(entries, bid, out_dir)
        if missing:
            entry: dict[str, Any] = {"status": "missing", "missing": missing}
            _record(out_dir, manifest, bid, entry, stop, remove=rel)
            done[bid] = entry
            continue
        cover = {k: b.get(k) for k in ("locale", "bank_name", "classification")}
        fp = pack.fingerprint(entries, bid, code, **cover, info=sorted(b["info"].items()))
        previous = (manifest.data.get("packs") or {}).get(bid)
        if not force and up_to_date(previous, fp, out_dir):
            done[bid] = previous
            continue
        try:
            data, pages = pack.make_pack(
                out_dir,
                bid,
                entries,
                locale=b["locale"],
                bank_name=b["bank_name"],
                branch=b["info"],
                period=str(manifest.data.get("period", "")),
                classification=b.get("classification") or "",
            )
        except (BranchbookError, OSError, KeyError) as exc:
            entry = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:300]}
            log.warning("%s: the branch pack was not made: %s", bid, entry["error"])
            _record(out_dir, manifest, bid, entry, stop, remove=rel)
            done[bid] = entry
            continue
        if pages.get("cover") != pack.COVER_PAGES:
            log.warning(
                "%s: the pack's cover took %s pages, not %d",
                bid,
                pages.get("cover"),
                pack.COVER_PAGES,
            )
        entry = pack.pack_entry(rel, data, pages, fp)
        _record(out_dir, manifest, bid, entry, stop, write=(rel, data))
        done[bid] = entry
    manifest.flush()
    return done


def _record(
    out_dir: Path,
    manifest: Manifest,
    bid: str,
    entry: dict[str, Any],
    stop: Stop,
    *,
    remove: str | None = None,
    write: tuple[str, bytes] | None = None,
) -> None:
    """Publish (or remove) the pack's file and record it, only while the run is not stopping."""
    with stop.publishing() as go:
        if not go:
            return
        iorw.refuse_symlinks(out_dir, out_dir / bid)
        if write is not None:
            try:
                iorw.atomic_write(out_dir / write[0], write[1])
            except BranchbookError as exc:
                entry.clear()
                entry.update(status="failed", error=str(exc)[:300])
                remove = write[0]
        if remove is not None:
            iorw.remove(out_dir / remove)
        manifest.put_pack(bid, entry)
