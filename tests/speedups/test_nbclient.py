"""nbclient's outputs made by branchbook: the same nodes nbformat makes, without the
per-output schema check (the whole notebook is checked when it is read for rendering)."""

from __future__ import annotations

import nbformat
import pytest

from branchbook.speedups import nbclient


def _msg(kind: str, **content) -> dict:
    return {"header": {"msg_type": kind}, "content": content}


MESSAGES = [
    _msg("stream", name="stdout", text="a line\n"),
    _msg("stream", name="stderr", text="warning\n"),
    _msg(
        "display_data",
        data={"text/html": "<b>x</b>", "application/vnd.branchbook.meta+json": {"a": [1]}},
        metadata={"isolated": True},
        transient={"display_id": "d1"},
    ),
    _msg("execute_result", data={"text/plain": "42"}, metadata={}, execution_count=7),
    _msg("error", ename="ZeroDivisionError", evalue="division by zero", traceback=["tb"]),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: m["header"]["msg_type"])
def test_an_output_is_made_as_nbformat_makes_it(msg):
    ours = nbclient.output_from_msg(msg)
    theirs = nbformat.v4.output_from_msg(msg)
    assert ours == theirs
    assert isinstance(ours, nbformat.NotebookNode)
    assert "transient" not in ours  # a display id is not part of the notebook


def test_an_unknown_message_is_refused_as_nbformat_refuses_it():
    with pytest.raises(ValueError, match="Unrecognized output msg type: 'status'"):
        nbclient.output_from_msg(_msg("status", execution_state="idle"))
