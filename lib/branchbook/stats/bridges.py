"""Bridges: what changed between two month ends, split into parts that add up exactly.

Three methods, one per kind of number:

* **stock bridge** (customers, AUM, loans, deposits): ``opening + new + growth +
  decline + lost + moved_in + moved_out = closing``. Each entity (a customer, a loan)
  holds an amount at the opening month end (NaN: not held then) and at the closing one
  (NaN: not held now). *new* is the closing amount of an entity not held at the
  opening; *lost* minus the opening amount of one not held at the closing; of an
  entity held at both, a rise is *growth* and a fall *decline*. When the bridge is cut
  by a segment an entity can change (an asset tier), its opening amount leaves the
  old segment (*moved_out*, negative) and enters the new one (*moved_in*); its change
  counts in the new segment. Moves cancel in the total, so the total bridge is
  opening -> new -> growth -> decline -> lost -> closing with no residual.
* **rate/mix** (NPL ratio, CSAT, churn ...): a ratio of sums ``R = sum(num) /
  sum(den)`` over segments, ``R = sum(w_i r_i)`` with weights ``w_i = den_i /
  sum(den)`` and rates ``r_i = num_i / den_i``. Its change is split per segment by the
  symmetric (midpoint) shift-share ``w1 r1 - w0 r0 = (r1 - r0)(w0 + w1)/2 + (w1 -
  w0)(r0 + r1)/2``: a *rate effect* and a *mix effect* that do not depend on which is
  taken first and leave no residual. The mix effect is centred on the whole ratio,
  ``(w1 - w0)((r0 + r1)/2 - (R0 + R1)/2)``: the weights' shifts add up to zero, so
  the total is the same, but a segment's mix is now what the shift towards it did to
  the ratio (positive when weight moved to a segment with a rate above the whole's),
  not its weight change times its own rate, which gave large per-segment mixes that
  cancelled out. A segment absent at one end takes its rate from the other end, so its
  rate effect is 0 and its whole contribution is mix.
* **balance migration** (the five-class book): a matrix of balances from each class
  at the opening (and *new* lending) to each class at the closing (and *repaid*,
  *written_off*); rows add up to the opening balances, columns to the closing ones.

Amounts are in the unit of the inputs (CNY), ratio effects in ratio units (0.004 =
0.4 pp). Every function returns a new frame; inputs are never changed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The parts of a stock bridge between ``opening`` and ``closing``, in bridge order.
STOCK_PARTS: tuple[str, ...] = ("new", "growth", "decline", "lost", "moved_in", "moved_out")
#: The columns of :func:`stock_bridge`.
STOCK_COLUMNS: tuple[str, ...] = ("opening", *STOCK_PARTS, "closing")
#: Where a balance can go besides a class at the closing (columns of the migration).
MIGRATION_EXITS: tuple[str, ...] = ("repaid", "written_off")
#: Where a balance can come from besides a class at the opening (rows of the migration).
MIGRATION_NEW = "new"


def _amount(frame: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def stock_bridge(
    frame: pd.DataFrame,
    *,
    opening: str,
    closing: str,
    by: str | None = None,
    by_opening: str | None = None,
    order: Sequence | None = None,
) -> pd.DataFrame:
    """The stock bridge of one row per entity, per segment of ``by``.

    ``opening`` / ``closing``: the columns of the entity's amount at the two month
    ends, NaN where the entity was not held (for a count, 1.0 where held). ``by``: the
    entity's segment at the closing (``by_opening`` at the opening, default the same
    column: a segment that does not change, e.g. a manager). Without ``by`` one row
    ``"total"``. ``order``: the segments to show, in order (missing ones are zero rows;
    segments outside it are left out, so pass every segment when the rows must add up).

    Returns one row per segment with :data:`STOCK_COLUMNS`; *decline*, *lost* and
    *moved_out* are negative. ``closing`` is summed from the closing amounts, not
    derived, so :func:`residual` checks the arithmetic. An empty frame gives zeros; an
    empty opening makes every closing amount *new*.

    >>> f = pd.DataFrame({"a0": [10.0, 5.0, np.nan], "a1": [12.0, np.nan, 3.0]})
    >>> stock_bridge(f, opening="a0", closing="a1").loc["total"].tolist()
    [15.0, 3.0, 2.0, 0.0, -5.0, 0.0, 0.0, 15.0]
    """
    a0, a1 = _amount(frame, opening), _amount(frame, closing)
    held0, held1 = a0.notna(), a1.notna()
    both = held0 & held1
    diff = (a1 - a0).where(both, 0.0)
    if by is None:
        seg1 = seg0 = pd.Series("total", index=frame.index)
    else:
        seg1 = frame[by]
        seg0 = frame[by_opening or by]
    moved = both & (seg0.astype(object) != seg1.astype(object))
    # the parts read at the opening are summed per opening segment, the others per
    # closing segment: two group-bys (each sums its columns as one per column would)
    at_opening = pd.DataFrame(
        {
            "opening": a0.where(held0, 0.0),
            "lost": -a0.where(held0 & ~held1, 0.0),
            "moved_out": -a0.where(moved, 0.0),
        }
    )
    at_closing = pd.DataFrame(
        {
            "new": a1.where(held1 & ~held0, 0.0),
            "growth": diff.clip(lower=0.0),
            "decline": diff.clip(upper=0.0),
            "moved_in": a0.where(moved, 0.0),
            "closing": a1.where(held1, 0.0),
        }
    )
    out = pd.concat(
        [
            at_opening.groupby(seg0.astype(object), dropna=True).sum(),
            at_closing.groupby(seg1.astype(object), dropna=True).sum(),
        ],
        axis=1,
    )
    index = list(order) if order is not None else (["total"] if by is None else list(out.index))
    out = out.reindex(index=index, columns=list(STOCK_COLUMNS)).astype(float).fillna(0.0) + 0.0
    out.index.name = by or "segment"
    return out


def stock_total(bridge: pd.DataFrame) -> pd.Series:
    """The whole of a :func:`stock_bridge` cut by segment: the column sums (the moves
    between segments cancel; what remains of them is shown, never dropped)."""
    return bridge[list(STOCK_COLUMNS)].sum().astype(float)


def residual(bridge: pd.DataFrame | pd.Series) -> pd.Series | float:
    """``closing - (opening + parts)`` of a stock bridge (per row of a frame); 0 up to
    floating point for every bridge of :func:`stock_bridge`."""
    if isinstance(bridge, pd.Series):
        return float(bridge["closing"] - bridge[["opening", *STOCK_PARTS]].sum())
    return bridge["closing"] - bridge[["opening", *STOCK_PARTS]].sum(axis=1)


def rate_mix(
    num_opening: pd.Series,
    den_opening: pd.Series,
    num_closing: pd.Series,
    den_closing: pd.Series,
) -> pd.DataFrame:
    """The symmetric rate/mix split of a ratio of sums, per segment (the index).

    The four series are the numerator and denominator sums per segment at the opening
    and closing month ends (a segment missing from a series counts 0). Returns one row
    per segment with ``den_opening``, ``den_closing``, ``weight_opening``,
    ``weight_closing``, ``rate_opening``, ``rate_closing`` (NaN without a
    denominator), ``rate_effect``, ``mix_effect`` and ``contribution`` (their sum).

    The contributions add up to ``R1 - R0`` exactly (see the module docstring); a
    segment that appears or disappears has only a mix effect. With no denominator at
    the opening (an empty prior period) the change is not defined: the effects are NaN.

    >>> s = lambda *v: pd.Series(v, index=["a", "b"], dtype=float)
    >>> rm = rate_mix(s(1, 1), s(50, 50), s(3, 1), s(50, 50))
    >>> rm["rate_effect"].round(6).tolist(), rm["mix_effect"].tolist()
    ([0.02, 0.0], [0.0, 0.0])
    """
    idx = (
        num_opening.index.union(den_opening.index).union(num_closing.index).union(den_closing.index)
    )

    def col(s: pd.Series) -> pd.Series:
        return pd.to_numeric(s, errors="coerce").astype(float).reindex(idx).fillna(0.0)

    n0, d0, n1, d1 = col(num_opening), col(den_opening), col(num_closing), col(den_closing)
    total0, total1 = d0.sum(), d1.sum()
    w0 = d0 / total0 if total0 > 0 else pd.Series(np.nan, index=idx)
    w1 = d1 / total1 if total1 > 0 else pd.Series(np.nan, index=idx)
    r0 = (n0 / d0).where(d0 > 0)
    r1 = (n1 / d1).where(d1 > 0)
    # a segment held at one end only takes the other end's rate: its change is all mix
    f0, f1 = r0.fillna(r1).fillna(0.0), r1.fillna(r0).fillna(0.0)
    rate = (f1 - f0) * (w0 + w1) / 2
    # centred on the whole ratio at the midpoint: the weights' shifts sum to zero, so
    # the total mix is unchanged and each segment's part reads as a shift towards it
    whole = (n0.sum() / total0 + n1.sum() / total1) / 2 if total0 > 0 and total1 > 0 else 0.0
    mix = (w1 - w0) * ((f0 + f1) / 2 - whole)
    out = pd.DataFrame(
        {
            "den_opening": d0,
            "den_closing": d1,
            "weight_opening": w0,
            "weight_closing": w1,
            "rate_opening": r0,
            "rate_closing": r1,
            "rate_effect": rate,
            "mix_effect": mix,
            "contribution": rate + mix,
        },
        index=idx,
    )
    return out


def rate_mix_by(
    frame: pd.DataFrame,
    *,
    num: tuple[str, str],
    den: tuple[str, str],
    by: str,
    by_opening: str | None = None,
    order: Sequence | None = None,
) -> pd.DataFrame:
    """:func:`rate_mix` of one row per entity: ``num`` = (opening column, closing
    column) of the numerator, ``den`` likewise; segments from ``by`` (``by_opening`` at
    the opening, default the same). ``order``: the segments to show, in order."""
    seg0, seg1 = frame[by_opening or by].astype(object), frame[by].astype(object)

    def total(col: str, seg: pd.Series) -> pd.Series:
        return _amount(frame, col).fillna(0.0).groupby(seg, dropna=True).sum()

    out = rate_mix(
        total(num[0], seg0), total(den[0], seg0), total(num[1], seg1), total(den[1], seg1)
    )
    if order is not None:
        # a segment in neither period: no book, no rate, no effect; its weight is 0
        # wherever the period has a book at all
        out = out.reindex(list(order))
        zero = ["den_opening", "den_closing", "rate_effect", "mix_effect", "contribution"]
        out[zero] = out[zero].fillna(0.0)
        for end in ("opening", "closing"):
            if out[f"den_{end}"].sum() > 0:
                out[f"weight_{end}"] = out[f"weight_{end}"].fillna(0.0)
        if out["den_opening"].sum() == 0:  # an empty prior period: nothing is defined
            out[["rate_effect", "mix_effect", "contribution"]] = np.nan
    out.index.name = by
    return out


def rate_mix_total(split: pd.DataFrame, *, opening: float, closing: float) -> dict[str, float]:
    """The whole of a :func:`rate_mix`: ``opening`` and ``closing`` ratios (computed
    independently, e.g. the published ones), ``rate_effect``, ``mix_effect``, ``change``
    and the ``residual`` ``closing - opening - rate - mix`` (0 up to floating point;
    NaN when the opening is not defined)."""
    rate = float(split["rate_effect"].sum(min_count=1))
    mix = float(split["mix_effect"].sum(min_count=1))
    return {
        "opening": opening,
        "closing": closing,
        "rate_effect": rate,
        "mix_effect": mix,
        "change": closing - opening,
        "residual": closing - opening - rate - mix,
    }


def balance_migration(
    frame: pd.DataFrame,
    *,
    state_opening: str,
    state_closing: str,
    opening: str,
    closing: str,
    states: Sequence[str],
    exit: str | None = None,
    exits: Sequence[str] = MIGRATION_EXITS,
) -> pd.DataFrame:
    """Balances from each state at the opening to each state at the closing.

    One row per entity (a loan): its state (a five-class) and amount at the opening
    and at the closing month end, state NaN or amount NaN/0 where it was not on the
    book. ``exit``: a column saying where a fall in balance went, one of ``exits``
    (default ``repaid`` and ``written_off``; a bank that records more, e.g.
    ``restructured``, passes them); a missing or other value goes to the first.

    Returns a matrix with rows ``states`` + ``new`` and columns ``states`` +
    ``exits``: a loan on the book at both ends carries the smaller of
    its two amounts from its opening state to its closing state; a fall goes from its
    opening state to its exit, a rise (a drawdown) from ``new`` to its closing state. A
    loan only at the opening goes wholly to its exit, one only at the closing comes
    wholly from ``new``. Row sums over ``states`` are the opening balances per state,
    column sums over ``states`` the closing ones.
    """
    s0 = frame[state_opening].astype(object)
    s1 = frame[state_closing].astype(object)
    a0 = _amount(frame, opening).fillna(0.0).where(s0.notna(), 0.0)
    a1 = _amount(frame, closing).fillna(0.0).where(s1.notna(), 0.0)
    on0, on1 = s0.notna() & (a0 > 0), s1.notna() & (a1 > 0)
    exits = list(exits)
    out_to = (
        frame[exit].astype(object).where(lambda v: v.isin(exits), exits[0])
        if exit is not None
        else pd.Series(exits[0], index=frame.index, dtype=object)
    )
    both = on0 & on1
    carried = np.minimum(a0, a1).where(both, 0.0)
    fall = (a0 - a1).clip(lower=0.0).where(both, a0.where(on0 & ~on1, 0.0))
    rise = (a1 - a0).clip(lower=0.0).where(both, a1.where(on1 & ~on0, 0.0))
    flows = pd.concat(
        [
            pd.DataFrame({"from": s0, "to": s1, "amount": carried})[both],
            pd.DataFrame({"from": s0, "to": out_to, "amount": fall})[fall > 0],
            pd.DataFrame({"from": MIGRATION_NEW, "to": s1, "amount": rise})[rise > 0],
        ],
        ignore_index=True,
    )
    rows = [*states, MIGRATION_NEW]
    cols = [*states, *exits]
    matrix = flows.pivot_table(
        index="from", columns="to", values="amount", aggfunc="sum", fill_value=0.0
    )
    matrix = matrix.reindex(index=rows, columns=cols).fillna(0.0).astype(float)
    matrix.index.name, matrix.columns.name = "from", "to"
    return matrix


def largest_driver(
    bridge: pd.DataFrame, *, parts: Sequence[str] = ("new", "growth", "decline", "lost")
) -> tuple[object, str, float] | None:
    """``(segment, part, amount)`` of the largest part in absolute value of a bridge
    (a :func:`stock_bridge` or, with ``parts=("rate_effect", "mix_effect")``, a
    :func:`rate_mix`), in the direction of the change when the bridge has one; None when
    every part is 0 or missing. Moves between segments are not drivers of the total."""
    values = bridge[list(parts)].astype(float).stack().dropna()
    if values.empty or not (values != 0).any():
        return None
    if {"opening", "closing"} <= set(bridge.columns):
        change = float(bridge["closing"].sum() - bridge["opening"].sum())
    else:
        change = float(values.sum())
    if change != 0 and ((values > 0) if change > 0 else (values < 0)).any():
        values = values[(values > 0) if change > 0 else (values < 0)]
    (segment, part) = values.abs().idxmax()
    return segment, str(part), float(values[(segment, part)])
