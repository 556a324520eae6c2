"""The report registry: a report is one notebook plus one library module.

Every ``notebooks/<name>.ipynb`` is a report named ``<name>``. Its library module is
``branchbook.<name>`` unless the notebook's metadata says otherwise
(``metadata.branchbook.module``, e.g. ``branchbook.kpi`` for ``staff_kpi``). The module
provides ``REPORT`` (the name), ``Settings`` (its section of the parameters) and,
optionally, ``prepare(ctx)`` (bank-wide work done once per period).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import BranchbookError

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
ORDER = ("segmentation", "risk", "satisfaction", "staff_kpi")


@dataclass(frozen=True)
class ReportSpec:
    """One report: its name, notebook and library module."""

    name: str
    notebook: Path
    module: ModuleType

    @property
    def settings(self) -> Any:
        return self.module.Settings

    @property
    def prepare(self):
        return getattr(self.module, "prepare", None)


def _module_name(path: Path) -> str:
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError) as exc:
        raise BranchbookError(f"{path}: not a readable notebook ({exc})") from None
    return meta.get("branchbook", {}).get("module") or f"branchbook.{path.stem}"


@lru_cache(maxsize=4)
def registry(notebook_dir: Path = NOTEBOOK_DIR) -> dict[str, ReportSpec]:
    """All reports found in ``notebook_dir``, in the house order."""
    found = {}
    for path in sorted(Path(notebook_dir).glob("*.ipynb")):
        name = path.stem
        module = importlib.import_module(_module_name(path))
        if getattr(module, "REPORT", None) != name:
            raise BranchbookError(
                f"{path}: module {module.__name__} declares REPORT={getattr(module, 'REPORT', None)!r}, "
                f"expected {name!r}"
            )
        found[name] = ReportSpec(name=name, notebook=path, module=module)
    rank = {n: i for i, n in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], 99), kv[0])))


def module_names(names: list[str] | None, notebook_dir: Path | None = None) -> list[str]:
    """The library modules of ``names`` (all when None), read from the notebooks without
    importing anything: what a fork server can start importing while :func:`select`
    checks them. Unknown names are left to :func:`select`."""
    folder = Path(notebook_dir) if notebook_dir else NOTEBOOK_DIR
    paths = sorted(folder.glob("*.ipynb"))
    if names:
        paths = [p for p in paths if p.stem in names]
    out = []
    for path in paths:
        try:
            out.append(_module_name(path))
        except BranchbookError:
            continue
    return out


def select(names: list[str] | None, notebook_dir: Path | None = None) -> list[ReportSpec]:
    """The specs for ``names`` (all when None); an unknown name is an error."""
    reg = registry(Path(notebook_dir)) if notebook_dir else registry()
    if not names:
        return list(reg.values())
    unknown = [n for n in names if n not in reg]
    if unknown:
        raise BranchbookError(
            f"report is expected to be one of ({', '.join(reg)}). Got {', '.join(map(repr, unknown))} instead."
        )
    return [reg[n] for n in names]
