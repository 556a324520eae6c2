"""ipykernel's streams made quiet: a flush with nothing to send costs nothing, and what a
report kernel prints and displays keeps its order."""

from __future__ import annotations

import pytest

from branchbook.runner import forkserver


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
