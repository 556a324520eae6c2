"""Start-up costs that are not the report's: heavy modules imported when first used.

The speed patches to other libraries (jsonschema's import, the frame stack) are in
:mod:`branchbook.speedups`.
"""

from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    """A module imported on first attribute access: ``stats = LazyModule("scipy.stats")``.

    For the report modules' heavy scientific imports (scipy.stats 0.5 s, scipy.optimize):
    the runner imports every report module to read its parameters and never computes
    with them; the kernels have them imported ahead by the fork server anyway.
    """

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:  # only until the first use: the import machinery once
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"
