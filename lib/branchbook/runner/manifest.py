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
        try:
            self.data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {"period": period, "reports": {}}
        if not isinstance(self.data, dict) or not isinstance(self.data.get("reports"), dict):
            # a manifest of another shape (hand-edited, another tool's): start afresh;
            # the reports it would have listed are made again and listed anew
            log.warning("%s: not a manifest (no 'reports' mapping); starting a new one", path)
            self.data = {"period": period, "reports": {}}
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


def up_to_date(entry: dict | None, fingerprint: str, out_dir: Path) -> bool:
    if not entry or entry.get("status") != "ok" or entry.get("input_fingerprint") != fingerprint:
        return False
    for item in entry.get("outputs", {}).values():
        path = out_dir / item["path"]
        if not path.is_file() or paths.file_sha256(path) != item["sha256"]:
            return False
    return True
