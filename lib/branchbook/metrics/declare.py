"""The :class:`Metric` record and the catalogue every report reads it from."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

#: How a metric's value is printed (a :mod:`branchbook.fmt` kind) and how it adds up:
#: ``int`` and ``money`` are additive (a region's value is the sum of its branches');
#: ``pct`` is a share or rate (0-1), ``num`` a score or rate on its own scale, both
#: ratios of pooled sums.
Kind = Literal["int", "money", "pct", "num"]
Good = Literal["high", "low"]
ADDITIVE_KINDS = ("int", "money")


@dataclass(frozen=True)
class Metric:
    """One metric, declared once.

    ``key`` names it everywhere (the KPI card, the benchmark column, the manifest's
    headline, the locale keys ``<report>.kpis.<key>`` and ``<report>.definitions.<key>``);
    ``report`` is the report that owns it (its label and definition live in that report's
    catalogue); ``kind`` how it prints and adds up; ``good`` which direction is better
    (ranks, status); ``compute`` the one function that computes it (its docstring is the
    reference definition); ``headline`` marks the report's index column; ``shown_in``
    lists every report that prints it as a KPI card (the owner first); ``on_basis``
    marks a metric read on the bank's balance basis (average daily or month end,
    :mod:`.basis`), whose card and definition name the basis.
    """

    key: str
    report: str
    kind: Kind
    good: Good | None
    compute: Callable | None = None
    headline: bool = False
    shown_in: tuple[str, ...] = field(default=())
    on_basis: bool = False

    @property
    def additive(self) -> bool:
        return self.kind in ADDITIVE_KINDS

    @property
    def label_key(self) -> str:
        return f"{self.report}.kpis.{self.key}"

    @property
    def definition_key(self) -> str:
        return f"{self.report}.definitions.{self.key}"

    @property
    def reports(self) -> tuple[str, ...]:
        return self.shown_in or (self.report,)


_CATALOGUE: dict[str, Metric] = {}


def declare(*metrics: Metric) -> tuple[Metric, ...]:
    """Add metrics to the catalogue; a key declared twice (differently) is an error."""
    for m in metrics:
        known = _CATALOGUE.get(m.key)
        if known is not None and known != m:
            raise ValueError(
                f"metric {m.key!r} is declared twice ({known.report} and {m.report}): "
                "declare it once and refer to it"
            )
        _CATALOGUE[m.key] = m
    return metrics


def get(key: str) -> Metric:
    """The declaration of ``key``; an unknown key names the known ones."""
    try:
        return _CATALOGUE[key]
    except KeyError:
        raise KeyError(
            f"metric is expected to be one of ({', '.join(sorted(_CATALOGUE))}). Got {key!r} instead."
        ) from None


def catalogue() -> dict[str, Metric]:
    """Every declared metric, by key (the report modules declare theirs on import)."""
    return dict(_CATALOGUE)


def of_report(report: str, keys: Iterable[str] | None = None) -> tuple[Metric, ...]:
    """The metrics ``report`` shows as KPI cards, in declaration order (or ``keys``' order)."""
    if keys is not None:
        return tuple(get(k) for k in keys)
    return tuple(m for m in _CATALOGUE.values() if report in m.reports)
