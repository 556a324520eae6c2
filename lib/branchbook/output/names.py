"""How a published report's files are named, in each locale: one rule for every reader.

A branch's report in the branch's own locale (``locale`` of its parameter file) is
``<branch>/<report>.<format>``, as it always was; in another locale, asked for with
``branchbook run --locales``, the locale stands before the format:

>>> file_name("risk", "en", own="zh-CN", fmt="pdf")
'risk.en.pdf'
>>> file_name("risk", "zh-CN", own="zh-CN", fmt="pdf")
'risk.pdf'

So a link to a report in its own language never changes with the locales a run asks
for. The manifest key is the same stem under the branch (``0101/risk``,
``0101/risk.en``); the executed notebook in the build folder is named the same way.
The runner, the index, the up-to-date check, delivery, the portal and ``preview`` all
name files with these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..i18n import LOCALES


def stem(report: str, locale: str, *, own: str) -> str:
    """``risk`` in the branch's own locale ``own``, ``risk.<locale>`` in another."""
    return report if locale == own else f"{report}.{locale}"


def file_name(report: str, locale: str, *, own: str, fmt: str) -> str:
    """``risk.html``, ``risk.en.pdf``: :func:`stem` and the format."""
    return f"{stem(report, locale, own=own)}.{fmt}"


def key(branch: str, report: str, locale: str, *, own: str) -> str:
    """The manifest key of a branch's report in ``locale``: ``0101/risk``, ``0101/risk.en``."""
    return f"{branch}/{stem(report, locale, own=own)}"


def split(name: str) -> tuple[str, str | None, str] | None:
    """``(report, locale or None, format)`` of a published file name, None when the name
    is not of the rule's shape (``risk.html`` -> ``("risk", None, "html")``;
    ``risk.en.pdf`` -> ``("risk", "en", "pdf")``; ``risk.fr.pdf`` -> None)."""
    base, dot, fmt = name.rpartition(".")
    if not dot or not base or not fmt:
        return None
    report, dot, locale = base.partition(".")
    if not dot:
        return report, None, fmt
    return (report, locale, fmt) if locale in LOCALES else None


def parse_locales(
    value: str | list[str] | tuple[str, ...], option: str | None = "locales"
) -> tuple[str, ...]:
    """The locales a run is asked for, in the order given: each one of :data:`LOCALES`,
    none twice, at least one. A bad list raises ``ValueError`` with one line naming
    ``option`` (left out when None: argparse names it), the value and the supported
    locales.

    >>> parse_locales("zh-CN,en")
    ('zh-CN', 'en')
    """
    items = [str(i).strip() for i in (value.split(",") if isinstance(value, str) else value)]
    shown = value if isinstance(value, str) else ",".join(items)
    if not items or any(not i for i in items):
        why = "an empty item" if items and any(items) else "empty"
    elif bad := [i for i in items if i not in LOCALES]:
        why = f"{', '.join(map(repr, bad))} not supported"
    elif twice := sorted({i for i in items if items.count(i) > 1}):
        why = f"{', '.join(map(repr, twice))} given twice"
    else:
        return tuple(items)
    prefix = f"{option}: " if option else ""
    raise ValueError(
        f"{prefix}expected one or more of ({', '.join(LOCALES)}), comma-separated, each "
        f"once; got {shown!r} ({why})"
    )


def entry_locale(entry: Mapping[str, Any]) -> str | None:
    """The locale a manifest entry's report is in (an entry of an older run names it
    only among its parameters)."""
    return entry.get("locale") or (entry.get("parameters") or {}).get("locale")


def by_report(
    entries: Mapping[str, Mapping[str, Any]],
) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """Each ``(branch, report)``'s manifest entries, one per locale: the one in the
    branch's own locale (key ``branch/report``) first, then the others by key."""
    out: dict[tuple[str, str], list[Mapping[str, Any]]] = {}

    def own_first(item: tuple[str, Mapping[str, Any]]) -> tuple[bool, str]:
        key, entry = item
        return str(entry.get("stem") or entry.get("report")) != str(entry.get("report")), key

    for _key, entry in sorted(entries.items(), key=own_first):
        pair = (str(entry.get("branch_id", "")), str(entry.get("report", "")))
        out.setdefault(pair, []).append(entry)
    return out
