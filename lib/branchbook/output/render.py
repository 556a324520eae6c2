"""An executed notebook made into its published files: the HTML and the PDF, written whole."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat

from ..errors import RenderError
from ..iorw import atomic_write, sha256
from ..page import META_MIME
from .html import notebook_to_html
from .inspect import read_notebook
from .pdf import html_to_pdf


def render(
    executed: str | os.PathLike | nbformat.NotebookNode,
    *,
    html_path: str | os.PathLike | None = None,
    pdf_path: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Render an executed notebook (a path or a node) and write its HTML and/or PDF.

    Both are made in memory first, then each file is written atomically, so a failure
    leaves the files already published as they were. Returns the page meta with an
    ``outputs`` entry ``{"html": {"path", "sha256", "bytes"}, "pdf": {...}}`` for the
    files written.
    Raises :class:`RenderError` if the notebook failed or the page has no meta (the
    notebook never showed its title block).
    """
    if isinstance(executed, (str, os.PathLike)):
        nb = read_notebook(executed)
        name = str(executed)
    else:
        nb, name = executed, "the notebook"
    try:
        html, meta = notebook_to_html(nb)
    except RenderError as exc:
        raise RenderError(f"{name}: {exc}") from None
    if not meta:
        raise RenderError(
            f"{name}: no page meta ({META_MIME}); the notebook never showed its title"
        )
    blobs = {"html": html.encode("utf-8")} if html_path is not None else {}
    targets = {"html": html_path, "pdf": pdf_path}
    if pdf_path is not None:
        try:
            blobs["pdf"] = html_to_pdf(html, base_url=Path(pdf_path).resolve().parent)
        except RenderError as exc:
            raise RenderError(f"{name}: {exc}") from None
    # both files are made before either is written: a failed PDF leaves the old pair
    outputs: dict[str, dict[str, Any]] = {}
    for kind, data in blobs.items():
        atomic_write(targets[kind], data)
        outputs[kind] = {"path": str(targets[kind]), "sha256": sha256(data), "bytes": len(data)}
    return {**meta, "outputs": outputs}
