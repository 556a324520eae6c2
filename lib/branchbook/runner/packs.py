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
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
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
    workers: int | None = None,
    server=None,
) -> dict[str, dict[str, Any]]:
    """Make (or keep, or remove) the pack of each of ``branches``: branch id -> ``{"locale",
    "bank_name", "classification", "info"}`` (the branch's row of the branches table).
    Returns the packs' manifest entries by branch. A pack that cannot be made is
    recorded as failed with its error; it stops nothing else.

    Packs are made in up to ``workers`` processes at once (default: the CPU count),
    each forked from the run's warm renderer (``server``, the run's fork server) or,
    without one, in a pool of new Python processes. A pack took about 1.5 s of one
    core in a new process (the cover's fonts and the PDF code loaded for it), 0.35-0.5 s
    in a warm one; the new processes' imports cost some 5 s of a core each (12
    branches, one run)."""
    code = codekey.pack_code()
    done: dict[str, dict[str, Any]] = {}
    todo: dict[str, dict[str, Any]] = {}
    period = str(manifest.data.get("period", ""))
    entries = manifest.data.get("reports", {})
    for bid, b in branches.items():
        missing = pack.missing_reports(entries, bid, out_dir)
        if missing:
            done[bid] = {"status": "missing", "missing": missing}
            _record(out_dir, manifest, bid, done[bid], stop, remove=_rel(bid))
            continue
        cover = {k: b.get(k) for k in ("locale", "bank_name", "classification")}
        fp = pack.fingerprint(entries, bid, code, **cover, info=sorted(b["info"].items()))
        previous = (manifest.data.get("packs") or {}).get(bid)
        if not force and up_to_date(previous, fp, out_dir):
            done[bid] = previous
            continue
        own = {k: e for k, e in entries.items() if k.startswith(f"{bid}/")}
        todo[bid] = {"fingerprint": fp, "entries": own, "branch": dict(b), "period": period}
    for bid, made in _made(out_dir, todo, workers, stop, server):
        if isinstance(made, BaseException):
            entry: dict[str, Any] = {"status": "failed", "error": _one_line(made)}
            log.warning("%s: the branch pack was not made: %s", bid, entry["error"])
            _record(out_dir, manifest, bid, entry, stop, remove=_rel(bid))
        else:
            data, pages = made
            if pages.get("cover") != pack.COVER_PAGES:
                log.warning("%s: the pack's cover took %s pages", bid, pages.get("cover"))
            entry = pack.pack_entry(_rel(bid), data, pages, todo[bid]["fingerprint"])
            _record(out_dir, manifest, bid, entry, stop, write=(_rel(bid), data))
        done[bid] = entry
    manifest.flush()
    return done


def _rel(bid: str) -> str:
    return f"{bid}/{pack.PACK_FILE}"


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]


def make_one(out_dir: str, bid: str, job: Mapping[str, Any]) -> tuple[bytes, dict[str, int]]:
    """One branch's pack (in a worker process): its PDF and pages."""
    b = job["branch"]
    return pack.make_pack(
        Path(out_dir),
        bid,
        job["entries"],
        locale=b["locale"],
        bank_name=b["bank_name"],
        branch=b["info"],
        period=job["period"],
        classification=b.get("classification") or "",
    )


def _made(
    out_dir: Path,
    todo: Mapping[str, Mapping[str, Any]],
    workers: int | None,
    stop: Stop,
    server=None,
):
    """``(branch, (pdf, pages) or the exception)`` for each pack of ``todo``, as each is
    made: by renderers forked from ``server``, else here for one and in a pool of
    processes for more."""
    if not todo:
        return
    n = min(len(todo), workers or os.cpu_count() or 1)
    if server is not None:
        try:
            server.wait_ready()  # still importing if no report was to do
        except BranchbookError as exc:
            log.warning("%s; the packs are made in new processes instead", exc)
        else:
            yield from _made_by_server(server, out_dir, todo, n, stop)
            return
    if n == 1:
        for bid, job in todo.items():
            if stop.is_set():
                return
            try:
                yield bid, make_one(str(out_dir), bid, job)
            except (BranchbookError, OSError, KeyError) as exc:
                yield bid, exc
        return
    import multiprocessing

    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from _as_made(
            {pool.submit(make_one, str(out_dir), bid, job): bid for bid, job in todo.items()}, stop
        )


def _made_by_server(server, out_dir: Path, todo: Mapping[str, Mapping[str, Any]], n: int, stop):
    """:func:`_made` by the fork server's renderers, ``n`` at a time (threads only wait)."""

    def one(bid: str):
        if stop.is_set():
            return None
        return server.pack(out_dir, bid, dict(todo[bid]))

    with ThreadPoolExecutor(n) as pool:
        yield from _as_made({pool.submit(one, bid): bid for bid in todo}, stop)


def _as_made(futures: dict, stop: Stop):
    """``(branch, made or the exception)`` of each future as it finishes, until ``stop``;
    a pack that failed stops no other, one not made (``None``: stopped) is left out."""
    try:
        for fut in as_completed(futures):
            if stop.is_set():
                break
            try:
                made = fut.result()
            except Exception as exc:  # a pack that failed stops no other
                yield futures[fut], exc
                continue
            if made is not None:
                yield futures[fut], made
    finally:
        for fut in futures:
            fut.cancel()


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
