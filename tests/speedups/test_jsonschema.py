"""jsonschema without ``rfc3987_syntax``: nbformat is imported without the grammar
once branchbook is, validates notebooks as before, and the module stays importable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec

import pytest

from branchbook import speedups

_IMPORTS = """
import json, sys, time
t0 = time.process_time()
import branchbook, nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output
cpu = time.process_time() - t0
nb = new_notebook(cells=[new_code_cell("1", outputs=[new_output("stream", text="x")])])
good = nbformat.validate(nbformat.reads(nbformat.writes(nb), as_version=4)) is None
bad = nbformat.from_dict({"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4,
                          "nbformat_minor": 5})
try:
    nbformat.validate(bad)
    refused = False
except nbformat.ValidationError:
    refused = True
grammar = "rfc3987_syntax" in sys.modules
import rfc3987_syntax  # anyone asking by name still gets it
print(json.dumps({"grammar": grammar, "good": good, "refused": refused, "cpu": cpu}))
"""

needs_grammar = pytest.mark.skipif(
    find_spec("rfc3987_syntax") is None, reason="rfc3987_syntax is not installed: nothing to save"
)


def _run(off: bool) -> dict:
    env = {**os.environ, speedups.SWITCH: "0" if off else "1"}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_grammar
def test_nbformat_without_the_grammar_validates_the_same():
    on, off = _run(off=False), _run(off=True)
    assert not on["grammar"] and off["grammar"]  # what the switch changes
    assert on["good"] and off["good"] and on["refused"] and off["refused"]


def test_the_notebook_schema_uses_no_format_the_grammar_checks():
    import nbformat

    schema = json.dumps(nbformat.validator._get_schema_json(nbformat.v4)).replace(" ", "")
    assert '"format":"iri' not in schema


def test_only_jsonschema_is_refused(monkeypatch):
    from branchbook.speedups import jsonschema as patch

    finder = patch._NoGrammarForJsonschema()
    assert finder.find_spec("rfc3987_syntax") is None  # asked from here: the usual finders
    assert finder.find_spec("json") is None
    namespace = {"__name__": "jsonschema._format", "finder": finder}
    with pytest.raises(ModuleNotFoundError, match="rfc3987_syntax"):
        exec("finder.find_spec('rfc3987_syntax')", namespace)  # noqa: S102


def test_install_is_idempotent_and_imports_nothing():
    from branchbook.speedups import jsonschema as patch

    before = set(sys.modules)
    patch.install()
    patch.install()
    assert sum(isinstance(f, patch._NoGrammarForJsonschema) for f in sys.meta_path) == 1
    assert set(sys.modules) - before == set()
