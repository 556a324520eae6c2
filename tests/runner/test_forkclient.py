"""The runner's handle on the fork server: a renderer's refusal comes back as the error."""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from branchbook.errors import RenderError
from branchbook.runner import forkclient, forkserver


def _notebook_with(output, path):
    """A one-cell notebook holding ``output``, written as it is (nbformat's writer
    would refuse an invalid one)."""
    cell = new_code_cell("show()", execution_count=1)
    nb = new_notebook(cells=[cell])
    nb.cells[0]["outputs"] = [dict(output)]
    path.write_text(json.dumps(nb), encoding="utf-8")


@pytest.mark.skipif(not forkserver.available(), reason="the fork server needs Linux")
def test_a_renderer_refuses_an_invalid_notebook(tmp_path):
    path = tmp_path / "bad.ipynb"
    bad = {"output_type": "display_data", "metadata": {}, "data": {"text/html": 5}}
    _notebook_with(bad, path)
    srv = forkclient.ForkServer(tmp_path, ["branchbook.output.pdf"])
    try:
        with pytest.raises(RenderError, match="not a valid notebook at cells/0/outputs/0"):
            srv.render(path, ("html",))
    finally:
        srv.close()
