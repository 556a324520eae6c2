"""A run with nothing to do, known in a fraction of a second.

A scheduler runs every branch each month, and most runs after the first find every
report up to date. The full check (prepare's fingerprints of the warehouse, the code
keys, the parameters, every published file's checksum) is exact but costs seconds:
it imports the reporting stack and reads the warehouse. This module answers the common
case first, from file metadata alone:

- after a run that published everything it was asked for (no failure, not stopped),
  :func:`write_stamp` records the request (period, branches, reports, formats,
  locales, scopes, folders) and the *signature* of every input and output of it;
- a later run with the same request asks :func:`nothing_to_do`; when every signature is
  the same it has nothing to do and says so, without importing the reporting stack.

A signature is, per file, its size, modification and change times (``st_ctime_ns``,
which no program can set back) and inode, over: the library (every file of the
package, and the installed packages' folders, so an upgrade of pandas counts), the
report notebooks, the parameter folder, the warehouse (a DuckDB file with its ``.wal``,
or every file of a Parquet/CSV folder), the prepared period and the published period
folder (so a reader's deleted or edited file, or another run's work, sends the run the
full way). A database server has no files to look at: a run from a URL always takes the
full way. Anything unsure (no stamp, another request, a file that changed, a stamp that
cannot be read) means the full run, which is always right; this module only ever
skips work that the full run would also skip.

The signatures of the inputs are taken *before* the full run starts and compared again
after it: a warehouse or parameter changed during the run gets no stamp, so the next
run reads it. A file's times have the file system's granularity (a few milliseconds),
so two writes close together can leave the same metadata: an input written less than
:data:`RACY_S` seconds before the run started gets no stamp either (the next run takes
the full way and stamps).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import iorw
from ..paths import PACKAGE_DIR
from ..sources import resolve as resolve_source

STAMP_DIR = "run-stamps"
"""The stamps' folder inside the build folder: one file per request."""

RACY_S = 2.0
"""An input modified this close before a run started is not trusted to show a later change."""

_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def _stat_row(path: Path) -> list[Any] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _walk(root: Path) -> Iterable[Path]:
    """Every file under ``root`` (``root`` itself when it is a file), in a fixed order."""
    if root.is_file():
        yield root
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith((".pyc", ".lock")):
                continue
            yield Path(folder) / name


def signature(roots: Iterable[Path]) -> str:
    """One hash of the metadata of every file under ``roots`` (missing roots count too)."""
    h = hashlib.sha256()
    for root in roots:
        root = Path(root)
        h.update(f"\0{root}\0".encode())
        if not root.exists():
            h.update(b"missing")
            continue
        for path in _walk(root):
            h.update(f"{path.relative_to(root) if path != root else ''}{_stat_row(path)}".encode())
    return h.hexdigest()


def newest_change_ns(roots: Iterable[Path]) -> int:
    """The latest modification or change time (ns) of any file under ``roots``."""
    newest = 0
    for root in roots:
        if not Path(root).exists():
            continue
        for path in _walk(Path(root)):
            row = _stat_row(path)
            if row is not None:
                newest = max(newest, row[1], row[2])
    return newest


def _installed_dirs() -> list[Path]:
    """The folders of installed packages (their listing changes with an install)."""
    return [Path(p) for p in sys.path if p and p.endswith("-packages") and Path(p).is_dir()]


def _dir_entries_signature(folders: Iterable[Path]) -> str:
    """What is installed: each package folder's own metadata and its entries' names."""
    h = hashlib.sha256()
    for folder in folders:
        h.update(f"{folder}{_stat_row(folder)}".encode())
        try:
            h.update("\0".join(sorted(os.listdir(folder))).encode())
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def warehouse_files(warehouse: str | os.PathLike | None) -> list[Path] | None:
    """The files a warehouse is made of, or None for a database server (no quick path)."""
    kind, target = resolve_source(warehouse)
    if kind == "url":
        return None
    path = Path(target)
    return [path, path.with_name(path.name + ".wal")] if not path.is_dir() else [path]


def request_key(request: Mapping[str, Any]) -> str:
    """The stamp's name: a hash of the run's request, as given."""
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def input_signature(
    request: Mapping[str, Any], *, params_dir: Path, notebook_dir: Path, warehouse: list[Path]
) -> dict[str, str]:
    """The signatures of what a run reads, by part."""
    return {
        "code": signature([PACKAGE_DIR, notebook_dir]),
        "installed": _dir_entries_signature(_installed_dirs()),
        "params": signature([params_dir]),
        "warehouse": signature(warehouse),
        "environment": hashlib.sha256(
            json.dumps(
                {k: v for k, v in os.environ.items() if k.startswith("BRANCHBOOK_")},
                sort_keys=True,
            ).encode()
        ).hexdigest(),
    }


def output_signature(out_root: Path, build_dir: Path, period: str) -> dict[str, str]:
    """The signatures of what a run wrote: the period's reports and its prepared folder."""
    return {
        "published": signature([out_root / period, out_root / "index.html"]),
        "prepared": signature([build_dir / period / "prepare.json"]),
    }


def write_stamp(
    build_dir: Path,
    request: Mapping[str, Any],
    before: Mapping[str, str],
    after: Mapping[str, str],
    *,
    out_root: Path,
    period: str,
    summary: Mapping[str, Any],
) -> Path | None:
    """Record a run that published everything it was asked for. Nothing is written when
    an input changed while the run read it (``before`` differs from ``after``)."""
    if dict(before) != dict(after):
        return None
    stamp = {
        "request": dict(request),
        "inputs": dict(after),
        "outputs": output_signature(out_root, build_dir, period),
        "period": period,
        "summary": dict(summary),
    }
    path = Path(build_dir) / STAMP_DIR / f"{request_key(request)}.json"
    iorw.atomic_write(path, json.dumps(stamp, sort_keys=True, indent=1).encode())
    return path


def nothing_to_do(
    build_dir: Path,
    request: Mapping[str, Any],
    inputs: Mapping[str, str],
    *,
    out_root: Path,
) -> dict[str, Any] | None:
    """The stamp of the last complete run of ``request`` when nothing it read or wrote has
    changed since (then the run has nothing to do), else None."""
    path = Path(build_dir) / STAMP_DIR / f"{request_key(request)}.json"
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("request") != json.loads(json.dumps(dict(request), default=str)):
        return None
    if stamp.get("inputs") != dict(inputs):
        return None
    period = stamp.get("period")
    if not isinstance(period, str):
        return None
    if stamp.get("outputs") != output_signature(out_root, Path(build_dir), period):
        return None
    return stamp


class QuickRun:
    """One ``branchbook run`` request and the signature of its inputs as it starts."""

    def __init__(
        self,
        request: Mapping[str, Any],
        *,
        out_root: Path,
        build_dir: Path,
        params_dir: Path,
        notebook_dir: Path,
        warehouse: list[Path],
    ):
        self.request = dict(request)
        self.out_root = out_root
        self.build_dir = build_dir
        self._where = {
            "params_dir": params_dir,
            "notebook_dir": notebook_dir,
            "warehouse": warehouse,
        }
        self.started_ns = time.time_ns()
        self.before = input_signature(self.request, **self._where)

    @classmethod
    def for_args(cls, args, root: Path) -> QuickRun | None:
        """The request of the command's arguments, or None when its warehouse is a
        database server (whose changes no file shows: the full run decides)."""
        from ..reports import notebook_dir

        files = warehouse_files(args.warehouse)
        if files is None:
            return None
        out_root = Path(args.out).resolve() if args.out else root / "reports"
        build_dir = Path(args.build_dir).resolve() if args.build_dir else root / "build"
        params_dir = Path(args.params_dir).resolve() if args.params_dir else root / "params"
        request = {
            "period": args.period,
            "branches": args.branches,
            "reports": args.reports,
            "formats": list(args.formats),
            "locales": args.locales,
            "scopes": args.scopes,
            "executor": args.executor,
            "warehouse": [str(f) for f in files],
            "out": str(out_root),
            "build": str(build_dir),
            "params": str(params_dir),
        }
        return cls(
            request,
            out_root=out_root,
            build_dir=build_dir,
            params_dir=params_dir,
            notebook_dir=notebook_dir().resolve(),
            warehouse=files,
        )

    def nothing_to_do(self) -> dict[str, Any] | None:
        """The last complete run's stamp when nothing has changed since, else None."""
        return nothing_to_do(self.build_dir, self.request, self.before, out_root=self.out_root)

    def record(self, period: str, summary: Mapping[str, Any]) -> Path | None:
        """Stamp a run that published everything it was asked for (not when an input
        changed while it ran)."""
        after = input_signature(self.request, **self._where)
        w = self._where
        roots = [PACKAGE_DIR, w["notebook_dir"], w["params_dir"], *w["warehouse"]]
        if newest_change_ns(roots) > self.started_ns - RACY_S * 1e9:
            return None  # too close to the run's start to trust the times
        return write_stamp(
            self.build_dir,
            self.request,
            self.before,
            after,
            out_root=self.out_root,
            period=period,
            summary=summary,
        )
