"""Fine and coarse binning of one feature, and each bin's weight of evidence.

Binning
    A numeric column is cut into fine bins: a value held by at least ``1 / fine_bins``
    of the rows (a spike, such as ``dpd == 0`` on a book that is mostly current) is a
    bin of its own, the other values are cut at their own quantiles, so a rare but
    strong tail (1.5% of loans past due, half of them bad) is not averaged away. A bin
    with fewer than ``min_bin_share`` of the rows, or fewer than ``min_bin_events``
    events or non-events, is merged into the neighbour with the closer event rate.
    Adjacent bins are then merged until the event rate follows the feature's trend:
    rises (``ascending``), falls (``descending``), either (``auto``: whichever
    direction keeps more information value; if neither leaves two bins, as with a
    U-shaped relation, the bins are kept as they are) or ``free``. Last, the adjacent
    pair whose event rates differ least significantly (highest chi-square p-value) is
    merged while that p-value is above ``merge_p`` divided by the number of fine
    boundaries (Bonferroni: every one of them was a candidate) or more than
    ``max_bins`` bins remain, so a boundary kept separates rates that differ at that
    level and a feature without signal ends in one bin (IV 0). Bins
    are closed on the left: ``[a, b)``. A text column is binned by level; levels holding
    less than ``rare_level_share`` of the rows are merged into ``(other)``, which also
    takes levels first seen when scoring. The levels, taken in order of their event rate,
    are then held to the numeric bins' rules of size: a level (or ``(other)``) with fewer
    than ``min_bin_share`` of the rows, ``min_bin_events`` events or as many non-events
    joins the neighbour with the closer rate, and the least different neighbours
    (chi-square) are merged while more than ``max_bins`` remain. Levels are not merged on
    the test alone (``merge_p``): they are the bank's own categories, not candidate cut
    points, and on the German credit data that merge cost out-of-sample AUC. A group is
    labelled by its levels, ``a, b``. Missing values get their own ``(missing)`` bin; if
    none were seen when fitting, a missing value scores as an average row (WoE 0).

Weight of evidence (sign convention)
    ``woe = ln(share of all non-events in the bin / share of all events in the bin)``:
    **positive WoE means the bin is safer than average**, negative riskier. A bin's
    information value is ``(non-event share - event share) * woe`` (never negative);
    a feature's IV is the sum over its bins. A bin with no events or no non-events
    has 0.5 added to both of its counts before its WoE is taken, so WoE stays finite.

"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

MISSING = "(missing)"
OTHER = "(other)"


def woe_iv(events: np.ndarray, non_events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WoE and IV of each bin from its counts (see the module docstring for the sign).

    >>> w, iv = woe_iv(np.array([1, 3]), np.array([3, 1]))
    >>> [round(float(v), 4) for v in w], round(float(iv.sum()), 4)
    ([1.0986, -1.0986], 1.0986)
    """
    e = np.asarray(events, dtype=float)
    g = np.asarray(non_events, dtype=float)
    total_e, total_g = e.sum(), g.sum()
    adj = ((e == 0) | (g == 0)) * 0.5
    dist_e = (e + adj) / total_e
    dist_g = (g + adj) / total_g
    woe = np.log(dist_g / dist_e)
    return woe, (dist_g - dist_e) * woe


def _fmt(v: float) -> str:
    return f"{v:.6g}"


class _Bins:
    """The bins of one feature: how to map raw values to bins, and each bin's WoE."""

    def __init__(
        self,
        kind: str,
        labels: list[str],
        count: list[int],
        events: list[int],
        cuts: list[float] | None = None,
        levels: dict[str, str] | None = None,
    ):
        self.kind = kind
        self.labels = list(labels)
        self.count = [int(c) for c in count]
        self.events = [int(e) for e in events]
        self.cuts = [float(c) for c in cuts] if cuts is not None else None
        self.levels = dict(levels) if levels is not None else None
        woe, iv = woe_iv(np.array(self.events), np.array(self.count) - np.array(self.events))
        self.woe, self.iv = woe.tolist(), iv.tolist()

    @property
    def total_iv(self) -> float:
        return float(sum(self.iv))

    def index(self, values: pd.Series) -> np.ndarray:
        """Bin position of each value; -1 for a value with no bin (scores WoE 0)."""
        missing = values.isna().to_numpy()
        miss_at = self.labels.index(MISSING) if MISSING in self.labels else -1
        out = np.full(len(values), -1, dtype=int)
        if self.kind == "numeric":
            x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            missing = np.isnan(x)
            if len(self.labels) > (miss_at >= 0):  # numeric bins exist (not only "missing")
                out[~missing] = np.searchsorted(np.array(self.cuts), x[~missing], side="right")
        else:
            pos = {label: i for i, label in enumerate(self.labels)}
            # a level first seen now: the bin that (other) joined (a saved scorecard of
            # before the grouping has (other) as a label of its own)
            other_at = pos.get(self.levels.get(OTHER, OTHER), -1)
            lookup = {lvl: pos[lab] for lvl, lab in self.levels.items()}
            text = values[~missing].astype(str)
            out[~missing] = text.map(lambda v: lookup.get(v, other_at)).to_numpy(dtype=int)
        out[missing] = miss_at
        return out

    def woe_of(self, values: pd.Series) -> np.ndarray:
        idx = self.index(values)
        woe = np.append(np.array(self.woe, dtype=float), 0.0)  # -1 -> appended 0
        return woe[idx]

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, "labels": self.labels, "count": self.count, "events": self.events}
        if self.kind == "numeric":
            d["cuts"] = self.cuts
        else:
            d["levels"] = self.levels
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _Bins:
        return cls(d["kind"], d["labels"], d["count"], d["events"], d.get("cuts"), d.get("levels"))


def _merge(n: list, e: list, cuts: list, i: int) -> None:
    """Merge bin ``i`` with bin ``i + 1`` in place."""
    n[i] += n.pop(i + 1)
    e[i] += e.pop(i + 1)
    cuts.pop(i)


def _rates(n: list, e: list) -> np.ndarray:
    return np.array(e, dtype=float) / np.maximum(np.array(n, dtype=float), 1)


def _too_small(n: list, e: list, min_count: int, min_events: int) -> np.ndarray:
    nn, ee = np.array(n), np.array(e)
    return (nn < min_count) | (ee < min_events) | (nn - ee < min_events)


def _merge_small(n: list, e: list, cuts: list, min_count: int, min_events: int = 0) -> None:
    """Merge bins with fewer than ``min_count`` rows, ``min_events`` events or
    ``min_events`` non-events into the neighbour with the closer event rate, smallest first."""
    while len(n) > 1 and (small := _too_small(n, e, min_count, min_events)).any():
        i = int(np.nonzero(small)[0][np.argmin(np.array(n)[small])])
        if i == 0:
            j = 0
        elif i == len(n) - 1:
            j = i - 1
        else:
            r = _rates(n, e)
            left, right = abs(r[i] - r[i - 1]), abs(r[i] - r[i + 1])
            j = i - 1 if (left, n[i - 1]) < (right, n[i + 1]) else i
        _merge(n, e, cuts, j)


def _make_monotone(n: list, e: list, cuts: list, increasing: bool) -> None:
    while True:
        r = _rates(n, e)
        bad = np.nonzero(r[:-1] > r[1:] if increasing else r[:-1] < r[1:])[0]
        if not len(bad):
            return
        _merge(n, e, cuts, int(bad[0]))


def same_rate_p(n1: int, e1: int, n2: int, e2: int) -> float:
    """p-value of Pearson's chi-square test (1 degree of freedom, no continuity
    correction) that two bins share one event rate; 1.0 when the test is undefined (no
    events, or no non-events, in both).

    >>> round(same_rate_p(100, 10, 100, 20), 4)
    0.0477
    """
    a, b, c, d = e1, n1 - e1, e2, n2 - e2
    den = (a + b) * (c + d) * (a + c) * (b + d)
    if den == 0:
        return 1.0
    chi2 = (a + b + c + d) * (a * d - b * c) ** 2 / den
    return math.erfc(math.sqrt(chi2 / 2))


def _merge_alike(n: list, e: list, cuts: list, max_bins: int, merge_p: float) -> None:
    """Merge the adjacent pair whose event rates differ least significantly (highest
    :func:`same_rate_p`) while that p-value is above ``merge_p`` or more than
    ``max_bins`` bins remain (ChiMerge)."""
    while len(n) > 1:
        p = [same_rate_p(n[i], e[i], n[i + 1], e[i + 1]) for i in range(len(n) - 1)]
        i = int(np.argmax(p))
        if p[i] <= merge_p and len(n) <= max_bins:
            return
        _merge(n, e, cuts, i)


def _fine_cuts(x: np.ndarray, fine_bins: int) -> list[float]:
    """Cut points of the fine bins: a value held by at least ``1 / fine_bins`` of the rows
    (a spike, such as ``dpd == 0``) is a bin of its own; the other values are cut at
    their own quantiles, so a rare tail keeps ``fine_bins`` bins of its own."""
    uniq, counts = np.unique(x, return_counts=True)
    if len(uniq) <= fine_bins:
        return [float(c) for c in uniq[1:]]
    spikes = np.nonzero(counts * fine_bins >= len(x))[0]
    cuts = {float(uniq[i]) for i in spikes if i > 0}
    cuts |= {float(uniq[i + 1]) for i in spikes if i + 1 < len(uniq)}
    rest = x[~np.isin(x, uniq[spikes])]
    if len(rest):
        q = np.quantile(rest, np.linspace(0, 1, fine_bins + 1)[1:-1], method="higher")
        cuts |= {float(c) for c in np.unique(q) if c > uniq[0]}
    return sorted(cuts)


#: The direction of a feature's event rate: ``ascending`` (rises with the value, as
#: with days past due), ``descending``, ``auto`` (whichever keeps more IV) or ``free``
#: (no monotone constraint).
TRENDS = ("auto", "ascending", "descending", "free")


def _numeric_cuts(
    x: np.ndarray,
    y: np.ndarray,
    *,
    fine_bins: int,
    min_count: int,
    max_bins: int,
    min_events: int = 0,
    merge_p: float = 1.0,
    trend: str = "auto",
) -> tuple[list[float], list[int], list[int]]:
    """Cut points (left-closed bins) and each bin's rows and events."""
    cuts = _fine_cuts(x, fine_bins)
    tested = len(cuts)
    idx = np.searchsorted(np.array(cuts), x, side="right")
    n = np.bincount(idx, minlength=len(cuts) + 1).tolist()
    e = np.bincount(idx, weights=y, minlength=len(cuts) + 1).astype(int).tolist()
    _merge_small(n, e, cuts, min_count, min_events)
    best = None
    directions = {"auto": (True, False), "ascending": (True,), "descending": (False,)}
    for increasing in directions.get(trend, ()):
        nn, ee, cc = list(n), list(e), list(cuts)
        _make_monotone(nn, ee, cc, increasing)
        if len(nn) > 1 or trend != "auto":
            iv = woe_iv(np.array(ee), np.array(nn) - np.array(ee))[1].sum()
            if best is None or iv > best[0]:
                best = (iv, nn, ee, cc)
    if best is not None:
        n, e, cuts = best[1], best[2], best[3]
    # each fine boundary was a candidate: the level is shared among them (Bonferroni);
    # merge_p = 1 merges nothing on the test
    _merge_alike(n, e, cuts, max_bins, merge_p / max(1, tested) if merge_p < 1 else 1.0)
    return [float(c) for c in cuts], n, e


def _numeric_labels(cuts: list[float]) -> list[str]:
    if not cuts:
        return ["all"]
    return (
        [f"< {_fmt(cuts[0])}"]
        + [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        + [f">= {_fmt(cuts[-1])}"]
    )


def _text_bins(
    text: np.ndarray,
    y: np.ndarray,
    *,
    n_total: int,
    rare_level_share: float,
    min_count: int,
    min_events: int = 0,
    max_bins: int,
) -> tuple[list[str], list[int], list[int], dict[str, str]]:
    """Bins of a text column's non-missing values ``text`` (see the module docstring):
    the labels, each bin's rows and events, and each level's label. A level held by fewer
    than ``rare_level_share * n_total`` rows goes to ``(other)``; ``levels[OTHER]`` is the
    label of the bin that levels first seen when scoring take."""
    if not len(text):
        return [], [], [], {}
    level_n = pd.Series(text).value_counts()
    rare = set(level_n[level_n < rare_level_share * n_total].index)
    first = {lvl: (OTHER if lvl in rare else lvl) for lvl in sorted(level_n.index)}
    names = sorted(set(first.values()) - {OTHER}) + ([OTHER] if rare else [])
    mapped = pd.Series(text).map(first).to_numpy()
    n0 = [int((mapped == lab).sum()) for lab in names]
    e0 = [int(y[mapped == lab].sum()) for lab in names]
    # in order of event rate, the boundary between two neighbours plays a cut point's part
    order = sorted(range(len(names)), key=lambda i: (e0[i] / n0[i], names[i]))
    n, e = [n0[i] for i in order], [e0[i] for i in order]
    bounds = list(range(1, len(order)))
    _merge_small(n, e, bounds, min_count, min_events)
    _merge_alike(n, e, bounds, max_bins, 1.0)  # only while more than max_bins remain
    starts, ends = [0, *bounds], [*bounds, len(order)]
    groups = [[names[i] for i in order[a:b]] for a, b in zip(starts, ends, strict=True)]
    label = {}
    for members in groups:
        named = sorted(m for m in members if m != OTHER) + [OTHER] * (OTHER in members)
        label.update({m: ", ".join(named) for m in members})
    # the bins in the order of their labels, the one holding (other) last
    at = sorted(range(len(groups)), key=lambda g: (OTHER in groups[g], label[groups[g][0]]))
    levels = {lvl: label[lab] for lvl, lab in first.items()}
    if rare:
        levels[OTHER] = label[OTHER]
    return [label[groups[g][0]] for g in at], [n[g] for g in at], [e[g] for g in at], levels
