"""The messages: one per person and period, in the person's locale.

A message names the period and the person's units in its subject, lists for each report
it carries the headline KPIs and summary sentences, and attaches the reports in the
person's formats, in the person's locale when the report was published in it (``run
--locales``), else in its branch's own; above the size limit of the parameters it
links to the portal instead. A branch pack (the reports of a branch in one PDF) is
linked, never attached (it is large), when the message carries every report it holds.
A correction (a report that changed after it was delivered) is marked in the
subject and says which headline numbers changed.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from ..i18n import t
from .access import Delivery, Person
from .published import Item, Pack, Published

MIME = {"pdf": ("application", "pdf"), "html": ("text", "html")}


def unit_names(person: Person, locale: str) -> str:
    """``0101, North`` / ``全行``: the units as a subject shows them."""
    names = [
        t("deliver.bank", locale) if u == "bank" else u.partition(":")[2] for u in person.units
    ]
    return ", ".join(names)


def message_id(period: str, person: Person, checksums: list[str], kind: str = "reports") -> str:
    """The same content for the same person gives the same Message-ID, so a mail system
    can drop a duplicate should one ever go out twice."""
    digest = hashlib.sha256("|".join([period, person.id, kind, *checksums]).encode()).hexdigest()
    return f"<{period}.{kind}.{digest[:24]}@branchbook>"


def link(delivery: Delivery, period: str, item: Item, fmt: str, locale: str | None = None) -> str:
    """The portal's address of ``item``'s ``fmt`` file, in ``locale`` when published in
    it, else in its branch's own (``.../2026-10/0101/risk.pdf``, ``.../0101/risk.en.pdf``)."""
    out = (item.locales.get(locale) or item.outputs).get(fmt) or {}
    return (
        f"{delivery.portal_url}{period}/{out.get('path') or f'{item.branch}/{item.report}.{fmt}'}"
    )


def build(
    person: Person,
    items: list[Item],
    published: Published,
    *,
    sender: str,
    delivery: Delivery,
    previous: dict[str, dict] | None = None,
) -> EmailMessage:
    """The message carrying ``items`` to ``person``; ``previous`` (what was delivered
    before, by item key) makes it a correction naming the changed headline numbers."""
    loc, period = person.locale, published.period
    correction = bool(previous)
    units = unit_names(person, loc)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((person.name, person.email))
    subject = "deliver.subject_correction" if correction else "deliver.subject"
    msg["Subject"] = t(subject, loc, period=period, units=units)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(period, person, [published.checksum(i) for i in items])
    if correction:
        msg["X-Branchbook-Correction"] = "yes"

    files = [(i, f, published.file(i, f, loc)) for i in items for f in person.formats]
    files = [(i, f, p) for i, f, p in files if p is not None]
    attach = sum(p.stat().st_size for _, _, p in files) <= delivery.attach_limit_mb * 1e6

    lines = [t("deliver.greeting", loc, name=person.name), ""]
    lines.append(
        t("deliver.intro_correction" if correction else "deliver.intro", loc, period=period)
    )
    if correction:
        lines += ["", *_changes(items, previous, loc)]
    for item in items:
        lines += ["", f"{item.branch} · {t(f'common.reports.{item.report}', loc)}"]
        for kpi in item.headline.values():
            label, text = kpi.get("label", ""), kpi.get("text", "")
            status = kpi.get("status") or "none"
            if status == "none":
                line = t("deliver.headline_plain", loc, label=label, text=text)
            else:
                status = t(f"deliver.status.{status}", loc)
                line = t("deliver.headline_line", loc, label=label, text=text, status=status)
            lines.append("  " + line)
        sentences = published.summary(item, loc)
        if sentences:
            lines.append("  " + t("deliver.summary", loc))
            lines += [f"  - {s}" for s in sentences]
    lines.append("")
    if files and attach:
        lines.append(t("deliver.attached", loc))
    elif files:
        lines.append(t("deliver.linked", loc))
        lines += [f"  {link(delivery, period, i, f, loc)}" for i, f, _ in files]
    for pack in packs_of(items, published):
        url = f"{delivery.portal_url}{period}/{pack.pdf.get('path')}"
        lines.append(t("deliver.pack_link", loc, branch=pack.branch, url=url))
    lines += [t("deliver.portal_link", loc, url=delivery.portal_url), "", t("deliver.closing", loc)]
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    if attach:
        for item, fmt, path in files:
            maintype, subtype = MIME[fmt]
            msg.add_attachment(
                path.read_bytes(),
                maintype=maintype,
                subtype=subtype,
                filename=f"{period}-{item.branch}-{path.name}",  # risk.pdf, risk.en.pdf
            )
    msg["Content-Language"] = loc  # after the parts: multipart moves Content-* down
    return msg


def packs_of(items: list[Item], published: Published) -> list[Pack]:
    """The packs of the branches of ``items`` whose every report is among ``items``."""
    out = []
    for branch in dict.fromkeys(i.branch for i in items):
        pack = published.packs.get(branch)
        carried = {i.report for i in items if i.branch == branch}
        if pack is not None and pack.reports and set(pack.reports) <= carried:
            out.append(pack)
    return out


def _changes(items: list[Item], previous: dict[str, dict], loc: str) -> list[str]:
    lines = []
    for item in items:
        before = (previous.get(item.key) or {}).get("headline") or {}
        for key, kpi in item.headline.items():
            old = before.get(key)
            if old is not None and old != kpi.get("text"):
                label = f"{item.branch} · {kpi.get('label', key)}"
                lines.append(
                    "  "
                    + t(
                        "deliver.changed_line",
                        loc,
                        kpi=label,
                        before=old,
                        after=kpi.get("text", ""),
                    )
                )
    if lines:
        return [t("deliver.changed", loc), *lines]
    return [t("deliver.unchanged", loc)]


def headline_texts(item: Item) -> dict[str, str]:
    """What the log keeps of an item's headline: each KPI's displayed text."""
    return {k: str(v.get("text", "")) for k, v in item.headline.items()}
