"""Delivery: every reader gets their reports, once, and only theirs.

:func:`deliver` reads the access list (:mod:`.access`) and the period's published folder
(:mod:`.published`), and for each person builds one message (:mod:`.messages`) carrying
the reports of their units they have not yet received, or received in a version that
has since changed (then marked as a correction); sends it (:mod:`.smtp`) and records it
in the delivery log (:mod:`.log`) as soon as the server accepted it; then sends the
alerts (:mod:`.alerts`). A message that cannot be sent is reported for its recipient
and the others are still delivered. ``dry_run`` writes every message as an ``.eml``
file for review instead, and records nothing.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BranchbookError, ParamsError
from ..redact import scrub
from ..reports import ORDER
from . import access as access_mod
from . import alerts as alerts_mod
from . import messages, published
from .log import DeliveryLog, locked
from .smtp import Mailer, SendError

log = logging.getLogger(__name__)


@dataclass
class Result:
    """What one delivery did: messages sent (or written), and failures by person id."""

    period: str
    sent: list[str] = field(default_factory=list)  # "<person>: <subject>"
    failed: dict[str, str] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)  # dry run

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def plan(access: access_mod.AccessList, pub: published.Published, done: DeliveryLog, person):
    """``(items, previous)``: the reports ``person`` is due, and what they received
    before of those (non-empty makes the message a correction)."""
    allowed = access.folders(person.id)  # branches, and the regions and bank they cover
    delivered = done.delivered(person.id)
    items, previous = [], {}
    for item in sorted(pub.items.values(), key=lambda i: (i.branch, ORDER.index(i.report))):
        if item.branch not in allowed or item.report not in person.reports:
            continue
        before = delivered.get(item.key)
        if before and before.get("checksum") == pub.checksum(item):
            continue
        items.append(item)
        if before:
            previous[item.key] = before
    return items, previous


def deliver(
    period: str,
    *,
    reports_dir: str | Path = "reports",
    params_dir: str | Path = "params",
    warehouse=None,
    only: list[str] | None = None,
    dry_run: bool = False,
    outbox: str | Path | None = None,
    org: access_mod.Org | None = None,
    mailer: Mailer | None = None,
) -> Result:
    """Deliver ``period``'s reports and alerts to the people of the access list
    (``only`` those ids if given). Nothing is sent if the access list is invalid."""
    org = org or access_mod.org_from_warehouse(warehouse)
    acl = access_mod.load(params_dir, org)
    unknown = sorted(set(only or ()) - set(acl.people))
    if unknown:
        raise ParamsError(f"{acl.path}: no person with id {', '.join(map(repr, unknown))}")
    pub = published.read(reports_dir, period)
    people = [p for p in acl.people.values() if not only or p.id in only]
    result = Result(period)
    if dry_run:
        outbox = Path(outbox or Path("build") / "outbox" / period)
        outbox.mkdir(parents=True, exist_ok=True)
    mailer = mailer or Mailer(acl.smtp)
    with contextlib.nullcontext() if dry_run else locked(pub.root):
        done = DeliveryLog(pub.root)
        try:
            for person in people:
                items, previous = plan(acl, pub, done, person)
                if not items:
                    continue
                _check(acl, person, items)
                msg = messages.build(
                    person,
                    items,
                    pub,
                    sender=acl.smtp.sender,
                    delivery=acl.delivery,
                    previous=previous,
                )
                record = {
                    i.key: {
                        "checksum": pub.checksum(i),
                        "headline": messages.headline_texts(i),
                    }
                    for i in items
                }
                if _send(msg, person, result, mailer, outbox if dry_run else None):
                    if not dry_run:
                        done.record(
                            person.id,
                            record,
                            message_id=msg["Message-ID"],
                            correction=bool(previous),
                        )
            found = alerts_mod.find(pub, acl)
            for person in people:
                due = [
                    a
                    for a in alerts_mod.for_person(person, found, acl)
                    if not done.alerted(f"{person.id}|{a.key}")
                ]
                if not due:
                    continue
                msg = alerts_mod.build(person, due, pub, access=acl)
                if _send(msg, person, result, mailer, outbox if dry_run else None, kind="alert"):
                    if not dry_run:
                        for a in due:
                            done.record_alert(f"{person.id}|{a.key}", message_id=msg["Message-ID"])
        finally:
            mailer.close()
    return result


def _check(acl, person, items) -> None:
    """The last line of defence: never a report of a branch the person may not see."""
    for item in items:
        if not acl.may_see(person.id, item.branch, item.report):
            raise BranchbookError(f"refusing to send {item.key} to {person.id}: not in their units")


def _send(msg, person, result: Result, mailer: Mailer, outbox: Path | None, kind="reports") -> bool:
    if outbox is not None:
        path = outbox / f"{person.id}.{kind}.eml"
        path.write_bytes(bytes(msg))
        result.written.append(path)
        result.sent.append(f"{person.id}: {msg['Subject']}")
        return True
    try:
        mailer.send(msg)
    except SendError as exc:
        key = person.id if kind == "reports" else f"{person.id} (alert)"
        result.failed[key] = scrub(str(exc))
        log.error("not delivered to %s: %s", person.id, scrub(str(exc)))
        return False
    result.sent.append(f"{person.id}: {msg['Subject']}")
    log.info("delivered to %s: %s", person.id, msg["Subject"])
    return True
