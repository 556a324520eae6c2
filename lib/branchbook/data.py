"""What a notebook reads: its branch's extract and the bank-wide benchmarks.

>>> d = load(period="2026-10", branch_id="0101")   # doctest: +SKIP
>>> d.table("customers")                           # the branch's customers
>>> d.bench("bench_segmentation")                  # one row per branch and period
>>> load(period="2026-10", scope="region:East")     # doctest: +SKIP

A notebook never prepares a period itself (that is bank-wide work, done once per
period by ``branchbook prepare`` or ``branchbook run``): when the period has not been
prepared, :func:`load` says which command to run. ``make lab`` prepares the latest
period before it opens JupyterLab.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import i18n, orgtree, paths
from .coverage import Coverage
from .errors import BranchbookError, ParamsError
from .params import validate_branch_id, validate_period
from .prepare import Prepared, load_prepared
from .reports import REPORTS

SCOPES = ("branch", "region:<name>", "bank")
"""What a notebook's data can cover: one branch, a region's branches pooled, or every
branch of the bank pooled (the units of ``params/access.yaml``)."""


@dataclass
class BranchData:
    """One branch's prepared data; with scope ``region:<name>`` or ``bank``, the pooled
    rows of every branch of that region or of the bank (:attr:`members`), so the same
    metric code computes a scope's figures from its rows, never from branch figures."""

    prepared: Prepared
    branch_id: str
    scope: str = "branch"
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _org: orgtree.OrgTree | None = field(default=None, repr=False)

    @property
    def period(self) -> str:
        return self.prepared.period

    @property
    def meta(self) -> dict[str, Any]:
        return self.prepared.meta

    @property
    def org(self) -> orgtree.OrgTree:
        """The organisation tree as prepared (a period prepared before the tree was
        recorded: read from the branches' extracts)."""
        if self._org is None:
            recorded = self.meta.get("org")
            if recorded is not None:
                rows = [(b, r, p) for b, (r, p) in recorded.items()]
            else:
                rows = [
                    (b, r.get("region"), r.get("parent_id"))
                    for b in self.meta["branches"]
                    for r in _branch_rows(self.prepared.root, b)
                ]
            self._org = orgtree.OrgTree.of(rows)
        return self._org

    @property
    def members(self) -> list[str]:
        """The branches whose rows this data pools: the branch itself, the region's
        branches (sub-branches included), or every branch of the bank."""
        if self.scope == "bank":
            return list(self.meta["branches"])
        if self.scope.startswith("region:"):
            return list(self.org.branches(self.scope))
        return [self.branch_id]

    @property
    def fingerprint(self) -> str:
        if self.scope == "bank":
            return self.meta["fingerprint"]
        fps = self.meta["branch_fingerprints"]
        if self.scope.startswith("region:"):
            joined = "\n".join(f"{b}:{fps.get(b, '')}" for b in self.members)
            return hashlib.sha256(joined.encode()).hexdigest()[:16]
        return fps.get(self.branch_id, "")

    @property
    def branch(self) -> dict[str, Any]:
        """The branch's row of the branches table (for a region or the bank: a row
        naming the scope from the catalogues, with its report folder as its id)."""
        if self.scope.startswith("region:") or self.scope == "bank":
            region = self.scope.partition(":")[2]
            key = "region" if region else "bank"
            names = {
                loc: i18n.t(
                    f"common.scope_name.{key}",
                    loc,
                    **({"name": i18n.label("common.regions", region, loc)} if region else {}),
                )
                for loc in ("en", "zh-CN")
            }
            return {
                "branch_id": orgtree.folder(self.scope),
                "name": names["en"],
                "name_zh": names["zh-CN"],
                "region": region,
                "city": "",
            }
        rows = self.table("branches")
        return rows.iloc[0].to_dict() if len(rows) else {"branch_id": self.branch_id}

    @property
    def warnings(self) -> list[dict[str, Any]]:
        """The data contract's warnings that concern this branch (bank scope: all of them).

        Each is a dict as :func:`branchbook.prepare.warning_details` records it, with
        the count and example keys of this branch's rows; a warning about rows that
        reach no branch concerns every report and has ``"bank_wide": True``. Empty for
        a period prepared before warnings were recorded per branch.
        """
        if self.scope == "bank":
            return [dict(w) for w in self.meta.get("warning_details", [])]
        per_branch = self.meta.get("branch_warnings") or {}
        return [
            *(dict(w) for b in self.members for w in per_branch.get(b, [])),
            *({**w, "bank_wide": True} for w in per_branch.get("*", [])),
        ]

    @property
    def coverage(self) -> Coverage:
        """What the warehouse's tables and columns allow this period (the same for every
        branch): ``coverage.produced(report)``, ``coverage.shows("risk.collateral")``
        and ``coverage.reports[report].notes()``, the lines of the report's
        data-coverage note. Everything is shown for a period prepared before coverage
        was recorded."""
        return Coverage.from_json(self.meta.get("coverage"), tuple(REPORTS))

    def _read(self, name: str, folder: str) -> pd.DataFrame:
        root = self.prepared.root
        if folder == "bench":
            path = root / "bench" / f"{name}.parquet"
            if not path.is_file():
                raise BranchbookError(
                    f"benchmark {name!r} was not prepared for {self.period} ({path})"
                )
            return pd.read_parquet(path)
        schema = root / "_schema" / f"{name}.parquet"
        if not schema.is_file():
            raise BranchbookError(f"table {name!r} was not prepared for {self.period}")
        parts = []
        for bid in self.members:
            path = root / "extracts" / bid / f"{name}.parquet"
            if path.is_file():
                frame = pd.read_parquet(path)
                frame["branch_id"] = bid
                parts.append(frame)
        if not parts:
            frame = pd.read_parquet(schema)
            if "branch_id" not in frame:
                frame["branch_id"] = pd.Series(dtype="string")
            return frame
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    def table(self, name: str) -> pd.DataFrame:
        """A contract table or a report artifact, cut to this branch (a fresh copy)."""
        if name not in self._cache:
            self._cache[name] = self._read(name, "extracts")
        return self._cache[name].copy()

    def bench(self, name: str) -> pd.DataFrame:
        """A bank-wide benchmark frame (the same for every branch)."""
        key = f"bench:{name}"
        if key not in self._cache:
            self._cache[key] = self._read(name, "bench")
        return self._cache[key].copy()


def load(
    period: str | None = None,
    branch_id: str = "",
    *,
    scope: str = "branch",
    build_dir: str | os.PathLike | None = None,
    params_dir: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
) -> BranchData:
    """Load a branch's prepared data (``scope="branch"``), a region's
    (``scope="region:<name>"``, ``branch_id`` unused) or the bank's (``scope="bank"``);
    a period not prepared yet is an error naming the command that prepares it. ``params_dir`` and ``source`` are accepted for older
    callers and unused: the prepared period already holds what they selected."""
    del params_dir, source
    if scope not in ("branch", "bank") and not scope.startswith("region:"):
        raise ParamsError(
            f"scope is expected to be one of ({', '.join(SCOPES)}). Got {scope!r} instead."
        )
    root = paths.project_root()
    build = Path(build_dir) if build_dir else root / "build"
    prepared = None
    if period:
        validate_period(period)
        prepared = load_prepared(build, period)
    else:
        done = sorted(p.parent.parent.name for p in build.glob("*/prepared/prepare.json"))
        if done:
            prepared = load_prepared(build, done[-1])
    if prepared is None:
        which = f"--period {period}" if period else "--period YYYY-MM"
        raise BranchbookError(
            f"period {period or '(latest)'} is not prepared in {build}: run "
            f"`branchbook prepare {which}` (or `make demo`) first; a notebook does not "
            "prepare the bank-wide period itself"
        )
    if scope == "branch":
        validate_branch_id(branch_id)
        if branch_id not in prepared.branch_ids:
            raise ParamsError(f"branch {branch_id!r} is not in the warehouse's branches table")
    unit = {"branch": branch_id, "bank": "BANK"}.get(scope, scope)
    data = BranchData(prepared=prepared, branch_id=unit, scope=scope)
    if scope.startswith("region:") and not data.members:
        known = ", ".join(data.org.regions())
        raise ParamsError(
            f"scope {scope!r}: the warehouse's branches table has no such region (regions: {known})"
        )
    return data


def _branch_rows(root: Path, branch_id: str) -> list[dict[str, Any]]:
    path = root / "extracts" / branch_id / "branches.parquet"
    return pd.read_parquet(path).to_dict("records") if path.is_file() else []
