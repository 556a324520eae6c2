"""The report registry: the reports are declared here, not found by reading a folder.

A report is one library package and one notebook. :data:`REPORTS` names each report
and its package, in the house order; the notebook is ``<name>.ipynb`` in the notebook
folder (:func:`notebook_dir`: the checkout's ``notebooks/``, or the copy shipped inside
an installed wheel). The package provides ``REPORT`` (the name), ``SOURCES`` (the
contract tables it reads), ``Settings`` (its section of the parameters) and,
optionally, ``prepare(ctx)`` (bank-wide work done once per period).

Anything else in the notebook folder (``Untitled.ipynb``, ``risk-Copy1.ipynb``, an
analyst's scratch notebook) is not a report and is never run. Adding a report is one
line in :data:`REPORTS` plus its package and notebook; the runner, the parameters, the
index and the manifest read this list.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import BranchbookError

#: name -> library package, in the order the index and the pack show them.
REPORTS: dict[str, str] = {
    "segmentation": "branchbook.segmentation",
    "risk": "branchbook.risk",
    "satisfaction": "branchbook.satisfaction",
    "staff_kpi": "branchbook.staff_kpi",
}
ORDER = tuple(REPORTS)
NOTEBOOKS_VARIABLE = "BRANCHBOOK_NOTEBOOKS"
_CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_SHIPPED_NOTEBOOKS = Path(__file__).resolve().parent / "_notebooks"


def notebook_dir() -> Path:
    """Where the report notebooks are: ``$BRANCHBOOK_NOTEBOOKS``, else the checkout's
    ``notebooks/`` (an editable install), else the copies inside the installed package."""
    env = os.environ.get(NOTEBOOKS_VARIABLE, "").strip()
    if env:
        return Path(env)
    if all((_CHECKOUT_NOTEBOOKS / f"{n}.ipynb").is_file() for n in REPORTS):
        return _CHECKOUT_NOTEBOOKS
    return _SHIPPED_NOTEBOOKS


NOTEBOOK_DIR = notebook_dir()


@dataclass(frozen=True)
class ReportSpec:
    """One report: its name, notebook and library package."""

    name: str
    notebook: Path
    module: ModuleType

    @property
    def settings(self) -> Any:
        return self.module.Settings

    @property
    def prepare(self):
        return getattr(self.module, "prepare", None)


@lru_cache(maxsize=4)
def registry(folder: Path | None = None) -> dict[str, ReportSpec]:
    """Every declared report, in the house order, with its notebook in ``folder``
    (default :func:`notebook_dir`). In the project's own folder a missing notebook is an
    error; another folder (a test's, an analyst's variant) may hold only some reports,
    and :func:`select` names a requested one that is not there. A package that declares
    another name is an error naming it."""
    own = not folder
    folder = Path(folder) if folder else notebook_dir()
    found = {}
    for name, module_name in REPORTS.items():
        path = folder / f"{name}.ipynb"
        if not path.is_file():
            if own:  # the project's own notebooks: a broken installation
                raise BranchbookError(f"report {name!r}: notebook {path} not found")
            continue  # another folder may hold some of the reports
        module = importlib.import_module(module_name)
        if getattr(module, "REPORT", None) != name:
            raise BranchbookError(
                f"{module_name}: declares REPORT={getattr(module, 'REPORT', None)!r}, "
                f"expected {name!r} (see branchbook.reports.REPORTS)"
            )
        found[name] = ReportSpec(name=name, notebook=path, module=module)
    return found


def module_names(names: list[str] | None, notebook_dir: Path | None = None) -> list[str]:
    """The library packages of ``names`` (all when None), without importing anything:
    what a fork server can start importing while :func:`select` checks them. Unknown
    names are left to :func:`select`."""
    del notebook_dir  # the list is declared, whatever the notebook folder
    return [REPORTS[n] for n in (names or REPORTS) if n in REPORTS]


def select(names: list[str] | None, notebook_dir: Path | None = None) -> list[ReportSpec]:
    """The specs for ``names`` (all when None); an unknown name is an error."""
    reg = registry(Path(notebook_dir)) if notebook_dir else registry()
    if not names:
        if not reg:
            raise BranchbookError(f"no report notebook in {notebook_dir}")
        return list(reg.values())
    absent = [n for n in names if n in REPORTS and n not in reg]
    if absent:
        raise BranchbookError(
            f"report {absent[0]!r}: notebook {Path(notebook_dir) / (absent[0] + '.ipynb')} not found"
        )
    unknown = [n for n in names if n not in reg]
    if unknown:
        raise BranchbookError(
            f"report is expected to be one of ({', '.join(reg)}). Got {', '.join(map(repr, unknown))} instead."
        )
    return [reg[n] for n in names]


def settings_classes() -> dict[str, Any]:
    """Each report's ``Settings`` class (its section of the parameter files), by name."""
    return {name: spec.settings for name, spec in registry().items()}
