"""The organisation tree: the bank, its regions, their branches and sub-branches.

The tree comes from the warehouse's ``branches`` table: a branch belongs to its
``region`` (a region belongs to the bank, the one root), and a sub-branch names its
parent branch in ``parent_id`` (总行 -> 分行 -> 支行; empty: the branch hangs directly
under its region). A scope is a node of the tree, spelt as the units of
``params/access.yaml``: ``bank``, ``region:<name>``, ``branch:<id>``; its branches are
every branch below it, the node itself included.

:func:`problems` checks the tree (the contract's ``validate`` reports its findings like
every other rule): no parent chain loops (``cycle``), a sub-branch lies in its parent's
region (``region_mismatch``), and every branch reaches the bank (``unreachable``: its
chain ends in a loop, a parent that does not exist, or a blank region). A parent that
does not exist is also the contract's ``orphan`` rule on ``branches.parent_id``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

SCOPES = ("branch", "region", "bank")
"""The levels a report is made for (``branchbook run --scopes``): each branch, each
region, the whole bank."""

BANK = "bank"


@dataclass(frozen=True)
class OrgTree:
    """Each branch's region and parent branch (``None``: directly under its region)."""

    region: Mapping[str, str]
    parent: Mapping[str, str | None]

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, str | None]]) -> OrgTree:
        """The tree of ``(branch_id, region, parent_id)`` rows (not checked: see
        :func:`problems`)."""
        region, parent = {}, {}
        for bid, reg, par in rows:
            region[str(bid)] = "" if reg is None else str(reg)
            parent[str(bid)] = None if par is None or par == "" else str(par)
        return cls(MappingProxyType(region), MappingProxyType(parent))

    def regions(self) -> tuple[str, ...]:
        """The regions, sorted."""
        return tuple(sorted({r for r in self.region.values() if r}))

    def branches(self, scope: str) -> tuple[str, ...]:
        """The branches of a scope, sorted: every branch for ``bank``, a region's for
        ``region:<name>``, a branch and its sub-branches for ``branch:<id>``; empty for
        a scope the tree does not know."""
        if scope == BANK:
            return tuple(sorted(self.region))
        kind, _, name = scope.partition(":")
        if kind == "region":
            return tuple(sorted(b for b, r in self.region.items() if r == name))
        if kind == "branch" and name in self.region:
            return tuple(sorted(b for b in self.region if name in self.ancestors(b) or b == name))
        return ()

    def ancestors(self, branch: str) -> tuple[str, ...]:
        """The parent branches of ``branch``, nearest first (stops at a loop)."""
        out: list[str] = []
        node = self.parent.get(branch)
        while node is not None and node not in out and node != branch:
            out.append(node)
            node = self.parent.get(node)
        return tuple(out)

    def path(self, branch: str) -> tuple[str, ...]:
        """The scopes from the bank down to ``branch``: ``("bank", "region:East",
        "branch:0101", "branch:010101")``."""
        chain = [f"branch:{b}" for b in reversed((branch, *self.ancestors(branch)))]
        return (BANK, f"region:{self.region.get(branch, '')}", *chain)


def folder(scope: str) -> str:
    """The folder a scope's reports are published in: ``bank``, or ``region-<name>``
    (a name that is not plain ASCII letters, digits, ``_`` or ``-``: those kept, the
    rest ``_``, and a short hash of the name so two names never share a folder).

    >>> folder("region:East"), folder("bank")
    ('region-East', 'bank')
    """
    if scope == BANK:
        return "bank"
    name = scope.partition(":")[2]
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return f"region-{name}"
    plain = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")
    tag = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"region-{plain + '-' if plain else ''}{tag}"


def problems(tree: OrgTree) -> dict[str, tuple[str, ...]]:
    """Rule -> the offending branch ids, sorted; only rules that found some.

    ``cycle``: the branch is its own ancestor (a loop of ``parent_id``, a branch its own
    parent included). ``region_mismatch``: a sub-branch whose region is not its parent
    branch's. ``unreachable``: the branch's chain up to its region ends in a loop, a
    parent that is not a branch, or a blank region, so no scope above it would count it
    (a branch on a loop is reported as ``cycle`` only, one whose own parent is missing
    as the contract's ``orphan`` only).

    >>> t = OrgTree.of([("01", "East", "02"), ("02", "East", "01"), ("03", "East", "01")])
    >>> problems(t)
    {'cycle': ('01', '02'), 'unreachable': ('03',)}
    """
    cycle, mismatch, unreachable = set(), set(), set()
    for b in tree.region:
        if _on_loop(tree, b):
            cycle.add(b)
    for b, p in tree.parent.items():
        if p is not None and p in tree.region and tree.region[p] != tree.region[b]:
            mismatch.add(b)
    for b in tree.region:
        if b in cycle or tree.parent[b] is not None and tree.parent[b] not in tree.region:
            continue  # reported as a loop, or (its own parent missing) as an orphan
        top = (b, *tree.ancestors(b))[-1]
        if top in cycle or top not in tree.region or not tree.region[top].strip():
            unreachable.add(b)
    found = {"cycle": cycle, "region_mismatch": mismatch, "unreachable": unreachable}
    return {rule: tuple(sorted(ids)) for rule, ids in found.items() if ids}


def _on_loop(tree: OrgTree, branch: str) -> bool:
    seen = set()
    node = tree.parent.get(branch)
    while node is not None and node not in seen:
        if node == branch:
            return True
        seen.add(node)
        node = tree.parent.get(node)
    return False


def loop_text(tree: OrgTree, branch: str) -> str:
    """The loop through ``branch`` in words: ``0101 -> 0102 -> 0101``."""
    chain = [branch, *tree.ancestors(branch)]
    return " -> ".join([*chain, branch])
