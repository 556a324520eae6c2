"""jsonschema imported without ``rfc3987_syntax``: 0.9 s of CPU less in every process
that reads a notebook.

jsonschema, which nbformat uses to validate every notebook it reads or writes,
imports the optional ``rfc3987_syntax`` when it is installed (jupyterlab's
dependencies install it) to check the "iri" string formats; that module builds a Lark
grammar at import time: 0.9 s of CPU in every process that reads a notebook (the
runner, the fork server). The notebook schema uses no such format, so :func:`install`
imports jsonschema without it, and puts the module back within reach for anyone who
imports it by name later. Installed before nbformat is imported
(``speedups.install("jsonschema")``); validation gives the same answers either way.
"""

from __future__ import annotations

import importlib
import sys

_OPTIONAL = "rfc3987_syntax"


def install() -> None:
    """Import jsonschema's format checkers without ``rfc3987_syntax`` (idempotent;
    a no-op when jsonschema is imported already)."""
    if "jsonschema" in sys.modules:
        return
    blocked = _OPTIONAL not in sys.modules
    if blocked:
        sys.modules[_OPTIONAL] = None  # type: ignore[assignment]  # "import" raises ImportError
    try:
        importlib.import_module("jsonschema._format")
    finally:
        if blocked and sys.modules.get(_OPTIONAL, 0) is None:
            del sys.modules[_OPTIONAL]
