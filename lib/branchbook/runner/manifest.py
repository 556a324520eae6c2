"""``reports/<period>/manifest.json``: every report of a period, what made it, where its files are."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from pathlib import Path

from .. import iorw, paths
from ..errors import BranchbookError

log = logging.getLogger("branchbook.run")


class Manifest:
    """``reports/<period>/manifest.json``: read once, updated and rewritten atomically.

    The file holds every report of the period, so one rewrite costs in proportion to
    the branches (0.17 s of CPU for 1,200 reports) and a rewrite after every report
    costs in proportion to their square. :meth:`put` therefore rewrites it only when
    ``spacing`` times the last rewrite's duration has passed since (at least
    ``min_interval_s``), and :meth:`flush` writes what is left when the run ends, is
    stopped or fails. A run killed with SIGKILL loses at most that last stretch of
    entries: those reports are made again by the next run (their published files are
    whole either way).
    """

    def __init__(
        self,
        path: Path,
        period: str,
        run_id: str,
        *,
        min_interval_s: float = 2.0,
        spacing: float = 50.0,
    ):
        self.path = path
        self.lock = threading.Lock()
        self.min_interval_s = min_interval_s
        self.spacing = spacing
        self._written_at = float("-inf")  # the first entry is written at once
        self._write_s = 0.0
        self._dirty = False
        self.data = read(path) or {"period": period, "reports": {}}
        self.data.update(period=period, run_id=run_id)

    def get(self, key: str) -> dict | None:
        return self.data["reports"].get(key)

    def put(self, key: str, entry: dict) -> None:
        with self.lock:
            self.data["reports"][key] = entry
            self.data["generated"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            self._dirty = True
            wait = max(self.min_interval_s, self.spacing * self._write_s)
            if time.monotonic() - self._written_at >= wait:
                self._write()

    def put_pack(self, branch_id: str, entry: dict) -> None:
        """Record a branch's pack (``packs`` beside ``reports``); written by :meth:`flush`."""
        with self.lock:
            self.data.setdefault("packs", {})[branch_id] = entry
            self._dirty = True

    def flush(self) -> None:
        """Write the entries :meth:`put` has not written yet (if any)."""
        with self.lock:
            if self._dirty:
                self._write()

    def _write(self) -> None:
        start = time.monotonic()
        text = json.dumps(_finite(self.data), indent=1, ensure_ascii=False, allow_nan=False)
        iorw.atomic_write(self.path, text.encode())
        self._written_at = time.monotonic()
        self._write_s = self._written_at - start
        self._dirty = False


def _finite(value):
    """``value`` with every non-finite float as ``None``: the manifest is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def read(path: Path) -> dict | None:
    """The manifest at ``path``, None if there is none.

    One that cannot be read, is not JSON or is not of the manifest's shape (an object
    whose ``reports`` maps keys to objects) is refused with one line: starting a new
    one would forget reports that are published, so a person decides.
    """
    rule = "a manifest is a JSON object whose 'reports' maps branch/report to objects"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BranchbookError(f"{path}: cannot read the manifest ({exc}); {rule}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BranchbookError(
            f"{path}: not JSON ({exc}); {rule}; move it away to start a new one"
        ) from None
    reports = data.get("reports") if isinstance(data, dict) else None
    if not isinstance(reports, dict) or not all(isinstance(e, dict) for e in reports.values()):
        raise BranchbookError(f"{path}: not a manifest; {rule}; move it away to start a new one")
    return data


def up_to_date(
    entry: dict | None, fingerprint: str, out_dir: Path, formats: tuple[str, ...] = ()
) -> bool:
    """Whether ``entry``'s report is made from ``fingerprint``, has every one of
    ``formats`` and its published files still match their checksums."""
    if not entry or entry.get("status") != "ok" or entry.get("input_fingerprint") != fingerprint:
        return False
    outputs = entry.get("outputs") or {}
    if any(f not in outputs for f in formats):
        return False
    for item in outputs.values():
        path = out_dir / item["path"]
        if not path.is_file() or paths.file_sha256(path) != item["sha256"]:
            return False
    return True


def remove_other_locales(
    manifest: Manifest, made: dict[str, tuple[str, str]], out_dir: Path
) -> list[str]:
    """Drop from ``manifest``, with their files, the entries of the run's branches and
    reports (``made``: each job's key -> ``(branch, report)``) in a locale the run did
    not make (``0101/risk.en`` after a run without ``--locales en``): a language left
    from an earlier run could tell older numbers than the one just made. Other
    branches' and reports' entries stay; a file a made entry lists is never removed.
    Returns the keys dropped."""
    pairs = set(made.values())
    live = {
        o.get("path")
        for k, e in manifest.data["reports"].items()
        if k in made
        for o in (e.get("outputs") or {}).values()
    }
    dropped = []
    with manifest.lock:
        for key, entry in list(manifest.data["reports"].items()):
            if key in made or (entry.get("branch_id"), entry.get("report")) not in pairs:
                continue
            for item in (entry.get("outputs") or {}).values():
                rel = str(item.get("path") or "")
                inside = rel and not rel.startswith("/") and ".." not in rel.split("/")
                if inside and rel not in live:
                    iorw.remove(out_dir / rel)
            del manifest.data["reports"][key]
            manifest._dirty = True
            dropped.append(key)
    return dropped
