"""An executed notebook made into its files: both or neither, the old pair kept on failure."""

from __future__ import annotations

import hashlib
import os

import nbformat
import pytest

from branchbook.errors import RenderError
from branchbook.output import render


def test_render_failure_leaves_published_files_alone(tmp_path, zh_nb):
    (tmp_path / "r.html").write_text("published")
    bad = nbformat.v4.new_code_cell("x", execution_count=70)
    bad.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
    zh_nb.cells.append(bad)
    with pytest.raises(RenderError, match="ValueError: bad"):
        render.render(zh_nb, html_path=tmp_path / "r.html", pdf_path=tmp_path / "r.pdf")
    assert (tmp_path / "r.html").read_text() == "published"
    assert sorted(os.listdir(tmp_path)) == ["r.html"]


def test_render_reads_an_executed_file(tmp_path, zh_nb):
    path = tmp_path / "segmentation.ipynb"
    nbformat.write(zh_nb, str(path))
    out = render.render(path, html_path=tmp_path / "out" / "segmentation.html")
    assert out["report"] == "segmentation" and set(out["outputs"]) == {"html"}
    html = (tmp_path / "out" / "segmentation.html").read_bytes()

    assert out["outputs"]["html"]["sha256"] == hashlib.sha256(html).hexdigest()


def test_failed_pdf_leaves_the_published_pair(tmp_path, zh_nb, monkeypatch):
    (tmp_path / "r.html").write_text("old html")
    (tmp_path / "r.pdf").write_bytes(b"old pdf")

    def no_pdf(html, *, base_url=None):
        raise RenderError("the PDF would be wrong: .notdef glyph rendered")

    monkeypatch.setattr(render, "html_to_pdf", no_pdf)
    with pytest.raises(RenderError, match="notdef"):
        render.render(zh_nb, html_path=tmp_path / "r.html", pdf_path=tmp_path / "r.pdf")
    assert (tmp_path / "r.html").read_text() == "old html"
    assert (tmp_path / "r.pdf").read_bytes() == b"old pdf"
