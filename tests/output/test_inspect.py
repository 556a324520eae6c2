"""An executed notebook read and checked: an invalid notebook, a failed cell, a traceback,
a script or an external URL stops the report."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from branchbook.errors import RenderError
from branchbook.output import html as page_html
from branchbook.output import inspect
from branchbook.output.inspect import _check_fragment


def test_error_output_names_the_cell(zh_nb):
    bad = nbformat.v4.new_code_cell("1/0", execution_count=50)
    bad.outputs = [
        nbformat.v4.new_output(
            "error",
            ename="ZeroDivisionError",
            evalue="division by zero",
            traceback=[
                "\x1b[0;31mTraceback (most recent call last)\x1b[0m",
                "ZeroDivisionError: division by zero",
            ],
        )
    ]
    zh_nb.cells.insert(5, bad)
    with pytest.raises(RenderError, match=r"cell 5\b.*ZeroDivisionError: division by zero"):
        page_html.notebook_to_html(zh_nb)


def test_traceback_in_stream_output_is_an_error(zh_nb):
    cell = zh_nb.cells[4]
    cell.outputs.append(
        nbformat.v4.new_output(
            "stream",
            name="stderr",
            text="Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'aum'\n",
        )
    )
    with pytest.raises(RenderError, match=r"cell 4\b.*KeyError: 'aum'") as info:
        page_html.notebook_to_html(zh_nb)
    assert "File" not in str(info.value)


def test_script_in_an_output_is_refused(zh_nb):
    cell = nbformat.v4.new_code_cell("chart", execution_count=60)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<div><script>x()</script></div>"}
        )
    ]
    zh_nb.cells.append(cell)
    with pytest.raises(RenderError, match="JavaScript"):
        page_html.notebook_to_html(zh_nb)


def test_external_resource_is_refused(zh_nb):
    cell = nbformat.v4.new_code_cell("logo", execution_count=61)
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": '<img src="https://cdn.example.com/a.png">'}
        )
    ]
    zh_nb.cells.append(cell)
    with pytest.raises(RenderError, match="external"):
        page_html.notebook_to_html(zh_nb)


def test_escaped_hostile_text_is_data_but_live_markup_is_refused():
    _check_fragment(
        "<td>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(2) onerror=&quot;x&quot;</td>",
        "cell 1",
    )
    for live in (
        '<img src="x" onerror="alert(1)">',
        "<script>alert(1)</script>",
        '<a href=" JavaScript:alert(1)">x</a>',
        '<img src="https://cdn.example/x.png">',
    ):
        with pytest.raises(RenderError):
            _check_fragment(live, "cell 1")


def _notebook_with(output, path):
    """A one-cell notebook holding ``output``, written as it is (nbformat's writer
    would refuse an invalid one)."""
    cell = new_code_cell("show()", execution_count=1)
    nb = new_notebook(cells=[cell])
    nb.cells[0]["outputs"] = [dict(output)]
    path.write_text(json.dumps(nb), encoding="utf-8")


def test_reading_a_valid_notebook_gives_it_back(tmp_path):
    path = tmp_path / "good.ipynb"
    _notebook_with(new_output("display_data", data={"text/html": "<p>fine</p>"}), path)
    nb = inspect.read_notebook(path)
    assert nb.cells[0].outputs[0].data["text/html"] == "<p>fine</p>"


def test_an_invalid_output_is_a_render_error_naming_the_file_and_place(tmp_path):
    # what nbformat used to refuse as each output was made: a number as HTML
    path = tmp_path / "bad.ipynb"
    bad = {"output_type": "display_data", "metadata": {}, "data": {"text/html": 5}}
    _notebook_with(bad, path)
    with pytest.raises(RenderError) as caught:
        inspect.read_notebook(path)
    message = str(caught.value)
    assert str(path) in message
    assert "not a valid notebook at cells/0/outputs/0/data/text/html" in message


def test_an_unreadable_notebook_is_a_render_error(tmp_path):
    path = tmp_path / "torn.ipynb"
    path.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(RenderError, match=f"cannot read the executed notebook {path}"):
        inspect.read_notebook(path)
