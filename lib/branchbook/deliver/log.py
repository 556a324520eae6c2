"""The delivery log: what each person was sent, beside the period's manifest.

``reports/<period>/delivery.json`` records, per person, each report a message carried
with the checksum of what it carried (:meth:`branchbook.deliver.published.Published.checksum`)
and its headline texts, and every alert sent. It is rewritten after every message that
the mail server accepted, atomically (a temporary file in the same folder, then
``os.replace``), so a run that dies part way knows exactly what went out; a lock file
keeps two deliveries of one period from running at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
from pathlib import Path

from ..errors import BranchbookError

LOG_FILE = "delivery.json"
LOCK_FILE = ".delivery.lock"


class Busy(BranchbookError):
    """Another delivery of the same period is running."""


class DeliveryLog:
    """The log of one period's folder; :meth:`save` writes it atomically."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOG_FILE
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.data = {}
        self.data.setdefault("messages", {})
        self.data.setdefault("alerts", {})

    def delivered(self, person_id: str) -> dict[str, dict]:
        """``{"<branch>/<report>": {"checksum", "headline"}}`` last delivered to a person."""
        return self.data["messages"].get(person_id, {}).get("items", {})

    def record(self, person_id: str, items: dict[str, dict], *, message_id: str, correction: bool):
        entry = self.data["messages"].setdefault(person_id, {"items": {}, "sent": []})
        entry["items"].update(items)
        entry["sent"].append(
            {
                "at": _now(),
                "message_id": message_id,
                "reports": sorted(items),
                "correction": correction,
            }
        )
        self.save()

    def alerted(self, key: str) -> bool:
        return key in self.data["alerts"]

    def record_alert(self, key: str, *, message_id: str) -> None:
        self.data["alerts"][key] = {"at": _now(), "message_id": message_id}
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, indent=1, ensure_ascii=False, sort_keys=True))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and
    ``os.replace``: a reader sees the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(folder: Path):
    """Hold the period folder's delivery lock; :class:`Busy` if another run holds it."""
    fh = open(Path(folder) / LOCK_FILE, "a")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"{folder}: another delivery of this period is running") from None
        yield
    finally:
        fh.close()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
