"""jsonschema imported without ``rfc3987_syntax``: about 1 s of CPU less in every
process that reads or writes a notebook.

jsonschema, which nbformat uses to validate every notebook it reads or writes,
imports the optional ``rfc3987_syntax`` when it is installed (jupyterlab's
dependencies install it) to check the "iri" string formats; that module builds 38
Lark grammars at import time: 1.1 s of CPU in every process that imports nbformat
(the command, even for ``--help`` or a run with nothing to do, the runner, the fork
server, the renderers). nbformat never checks formats and the notebook schema uses no
such format (``tests/speedups/test_jsonschema.py``).

:func:`install` puts a finder first on ``sys.meta_path`` that refuses
``rfc3987_syntax`` to ``jsonschema._format`` alone, which then goes without the "iri"
checks as it does where the module is not installed; anyone else importing it by
name gets it. Installing costs nothing (nothing is imported), so the package installs
it as it is imported (``branchbook/__init__.py``): before the command, the runner, the
fork server, a kernel or a renderer can import nbformat. Validation gives the same
answers either way.
"""

from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder

_OPTIONAL = "rfc3987_syntax"
_IMPORTER = "jsonschema._format"


class _NoGrammarForJsonschema(MetaPathFinder):
    """Refuses ``rfc3987_syntax`` while ``jsonschema._format`` imports it."""

    def find_spec(self, name, path=None, target=None):
        if name == _OPTIONAL and _imported_by(_IMPORTER):
            raise ModuleNotFoundError(
                f"{_OPTIONAL} is not imported for {_IMPORTER} (branchbook.speedups)", name=name
            )
        return None  # anything else, or anyone else: the usual finders


def _imported_by(module: str, depth: int = 30) -> bool:
    """Whether the code of ``module`` is on the call stack (within ``depth`` frames)."""
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame is None:
            return False
        if frame.f_globals.get("__name__") == module:
            return True
        frame = frame.f_back
    return False


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (idempotent; imports nothing; no
    effect on a jsonschema imported already)."""
    if not any(isinstance(f, _NoGrammarForJsonschema) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoGrammarForJsonschema())
