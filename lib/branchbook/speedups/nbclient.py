"""nbclient: a kernel's outputs made without validating each one on its own.

Installed by the runner's engine (``speedups.install("nbclient")``) before it runs a
notebook; the notebook is validated whole when papermill writes it and again when the
renderer reads it (``tests/runner/test_kernel_messages.py``).
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Make nbclient's outputs with :func:`output_from_msg` (idempotent)."""
    import nbclient.client

    nbclient.client.output_from_msg = output_from_msg


def output_from_msg(msg: dict) -> Any:
    """The notebook output for a kernel's IOPub output message, as
    ``nbformat.v4.output_from_msg`` makes it, without validating each one on its own.

    nbformat checks every output against its part of the schema as it is made, with
    jsonschema (the fast validator cannot take a part of the schema): about 0.2 ms an
    output, some 60 outputs a report, in the runner's one process. The notebook is
    validated whole when papermill writes it and again when the renderer reads it, so
    a bad output is still caught before anything is published.
    """
    from nbformat import from_dict

    kind = msg["header"]["msg_type"]
    content = msg["content"]
    if kind in ("display_data", "execute_result"):
        out = {"output_type": kind, "metadata": content["metadata"], "data": content["data"]}
        if kind == "execute_result":
            out["execution_count"] = content["execution_count"]
    elif kind == "stream":
        out = {"output_type": kind, "name": content["name"], "text": content["text"]}
    elif kind == "error":
        out = {
            "output_type": kind,
            "ename": content["ename"],
            "evalue": content["evalue"],
            "traceback": content["traceback"],
        }
    else:
        raise ValueError(f"Unrecognized output msg type: {kind!r}")
    return from_dict(out)
