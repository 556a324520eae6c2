"""What passes between a report's kernel and the runner: outputs made without a
per-output schema check (the whole notebook is checked when it is read for rendering),
and kernel streams that flush only when they hold something, in the right order."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from branchbook.errors import RenderError
from branchbook.output import inspect
from branchbook.runner import forkclient, forkserver
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


# -- the kernel's streams ---------------------------------------------------------------


@pytest.fixture
def stream():
    import zmq
    from ipykernel.iostream import IOPubThread
    from jupyter_client.session import Session

    from branchbook.speedups.ipykernel import QuietOutStream

    context = zmq.Context()
    socket = context.socket(zmq.PUB)
    thread = IOPubThread(socket)
    thread.start()
    out = QuietOutStream(Session(key=b""), thread, "stdout", watchfd=False)
    scheduled = []
    original = thread.schedule

    def counting(f):
        scheduled.append(f)
        original(f)

    thread.schedule = counting
    yield out, scheduled
    thread.stop()
    thread.close()
    context.term()


def test_flushing_an_empty_stream_asks_the_io_thread_for_nothing(stream):
    out, scheduled = stream
    out.flush()
    out.flush()
    assert scheduled == []


def test_a_stream_with_text_is_flushed_through_the_io_thread(stream):
    out, scheduled = stream
    out.write("something")
    assert out._flush_pending
    out.flush()  # waits for the IO thread to send it
    assert scheduled  # the write's scheduled flush and the flush's own hand-over
    assert not out._flush_pending
    assert all(buffer.tell() == 0 for buffer in out._buffers.values())
    scheduled.clear()
    out.flush()  # nothing left: free again
    assert scheduled == []


@pytest.mark.slow
@pytest.mark.skipif(not forkserver.available(), reason="the fork server needs Linux")
def test_a_report_kernel_keeps_prints_and_displays_in_order(with_forked_kernel):
    code = (
        "import sys\n"
        "from IPython.display import HTML, display\n"
        "print('before', end='')\n"
        "display(HTML('<b>one</b>'))\n"
        "display(HTML('<b>two</b>'))\n"
        "print('after')\n"
        "type(sys.stdout).__name__\n"
    )

    async def body(kc):
        msg_id = kc.execute(code)
        seen = []
        while True:
            msg = await kc.iopub_channel.get_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                seen.append(("stream", content["text"]))
            elif kind == "display_data":
                seen.append(("display", content["data"]["text/html"]))
            elif kind == "execute_result":
                seen.append(("result", content["data"]["text/plain"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return seen

    seen = with_forked_kernel(["ipykernel.kernelapp", "branchbook.speedups.ipykernel"], body)
    assert seen == [
        ("stream", "before"),
        ("display", "<b>one</b>"),
        ("display", "<b>two</b>"),
        ("stream", "after\n"),
        ("result", "'QuietOutStream'"),
    ]
