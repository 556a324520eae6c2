"""Warm processes for kernels and renderers: fork them from a parent that has the imports done.

Starting a kernel the ordinary way costs a Python start-up plus the report's imports
(pandas, matplotlib with the CJK font, DuckDB, pyarrow, statsmodels, IPython): about
two seconds of CPU per report, more than most analyses. Rendering a PDF in a fresh
process pays WeasyPrint's imports and font loading again.

The fork server is one process per run that imports all of that once, and then forks:

- a **kernel** per report: the child becomes an ordinary ipykernel on the connection
  file the kernel manager wrote, in its own session (so the time limit can kill its
  process group), and is used for exactly one notebook. Each child starts from the
  same pristine parent, so no state passes from one report to the next; the parent
  never runs report code.
- a **renderer** per worker of the run: the child reads an executed notebook, makes
  the HTML and the PDF and sends the bytes back (the runner writes them), then waits
  for the worker's next report on the same connection. Renderers are processes of
  their own, so PDFs are made in parallel (WeasyPrint is not thread-safe) and a crash
  in one cannot touch another; a renderer that fails or is killed is replaced by a new
  one for the next report. Renderers are forked by a second server, forked from the
  first once the common imports are done, that adds WeasyPrint and the page template
  while the first kernels start.

Each server has one thread and never starts another: forking is safe. Both exit,
killing every child still running, when the runner closes their stdin or dies (end of
file on the pipe). Linux only (``fork``); elsewhere the runner starts kernels the ordinary way.

Protocol: a request is a JSON line on a Unix-socket connection; a kernel connection
carries one, a renderer's carries one after another; see :class:`ForkServer`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from ..speedups.cpython import call_with_deep_stack

# What every report imports; each notebook's own module is added by the runner.
WARM_MODULES = (
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "duckdb",
    "matplotlib.pyplot",
    "scipy.stats",  # the report modules import it on first use (branchbook.startup.LazyModule)
    "scipy.optimize",
    "sklearn.metrics",  # the risk report's out-of-time AUC; imports no OpenMP threads
    "branchbook.context",
    "branchbook.page",
    "branchbook.charts",
    "branchbook.output.html",
    "branchbook.output.pdf",
    "branchbook.output.typeset",
    "typst",
    "weasyprint",
    "email.policy",  # imported by every renderer's first PDF
    "branchbook.runner.packs",  # the branch packs, made by renderers after the reports
    "pypdf",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",  # debugpy: 0.2 s of every kernel start
    "branchbook.speedups.ipykernel",  # the kernels' stdout/stderr class (kernels.kernel_arguments)
    "IPython.core.interactiveshell",
    "matplotlib_inline.backend_inline",
    # imported by every kernel as it starts or runs a report (found by comparing
    # sys.modules before and after): 30-50 ms of each report's kernel otherwise
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "IPython.utils.wildcard",
    "tornado.platform.asyncio",
    "faulthandler",
    "pyarrow.dataset",  # pandas.read_parquet with filters
    "pandas.core.reshape.reshape",  # unstack
    "pandas.core.methods.to_dict",
    "pandas.core.arrays.arrow.extension_types",
    "statsmodels.miscmodels.ordinal_model",  # the satisfaction report's ordered logit
)
# What only a renderer needs: imported by the render server, forked from the server
# once the rest is imported (see serve).
RENDER_MODULES = (
    "branchbook.output.html",
    "branchbook.output.pdf",
    "branchbook.output.typeset",
    "typst",
    "html.parser",
    "fontTools.ttLib",
    "weasyprint",  # pages Typst does not set (a block it does not know)
    "email.policy",
    "branchbook.runner.packs",  # the branch packs, made by renderers after the reports
    "pypdf",
)
READY = b"ready\n"
RENDERS = ("render", "pack")  # the requests the render server answers, on one connection
START_TIMEOUT_S = 180


def available() -> bool:
    """Whether this platform can fork warm processes."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


# -- the server (runs in its own process) ---------------------------------------------


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def warm(modules: list[str]) -> None:
    """Import ``modules`` and load what the first chart and the first PDF would load."""
    for name in modules:
        importlib.import_module(name)
    if "branchbook.i18n" in sys.modules:  # every kernel and renderer reads the catalogues
        from .. import i18n

        for locale in i18n.LOCALES:
            i18n.catalogue(locale)
    if "branchbook.charts" in sys.modules:
        from .. import charts

        charts.setup()
        fig, ax = charts.new()
        ax.set_title("预热 warm-up 0123456789")
        charts.to_png(fig)
    if "weasyprint" in sys.modules and "branchbook.output.pdf" in sys.modules:
        from .. import i18n
        from ..output import html as page
        from ..output import pdf

        # The first notebook read and HTML export in a process compile the notebook
        # schema's validator, nbconvert's exporter set-up and the page template (about
        # 0.13 s), and each locale's page stylesheets are parsed once for every PDF
        # (speedups.weasy._split_stylesheets, about 40 ms a PDF); done here once, every
        # renderer forked afterwards starts with them.
        for locale in i18n.LOCALES:
            html, _ = page.notebook_to_html(_warm_notebook(locale))
            if pdf.engine() == "typst":
                from ..output import typeset

                # the fonts and the font's character map read, the page read into
                # Typst markup; not compiled: Typst's compiler starts a pool of
                # threads, and a server that forks must have one thread
                typeset.warm()
                typeset.page_source(html)
            else:
                pdf.html_to_pdf(html)


def _warm_notebook(locale: str = "en"):
    """A validated one-cell report notebook: a heading block and the page meta."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from ..page import META_MIME

    outputs = [
        new_output(
            "display_data",
            data={"text/html": '<h2 class="bb-section" id="sec-warm">预热 warm-up</h2>'},
        ),
        new_output("display_data", data={META_MIME: {"report": "warm-up", "locale": locale}}),
    ]
    nb = new_notebook(cells=[new_code_cell(source="", outputs=outputs, execution_count=1)])
    return nbformat.reads(nbformat.writes(nb), as_version=4)  # validates, as a renderer's read does


def _send(conn: socket.socket, header: dict, *blobs: bytes) -> None:
    conn.sendall(json.dumps(header).encode() + b"\n")
    for blob in blobs:
        conn.sendall(blob)


def read_line(conn: socket.socket, limit: int = 64 * 1024 * 1024) -> bytes:
    chunks = []
    size = 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > limit:
            break
    data = b"".join(chunks)
    line, _, _ = data.partition(b"\n")
    return line


def _name(title: str) -> None:
    """The process name ``ps`` and ``top`` show (``comm``), so a kernel is recognisable."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as f:
        f.write(title[:15])


def _child_setup(
    listeners: list[socket.socket], selector: selectors.BaseSelector, title: str
) -> None:
    """In a freshly forked child: drop the server's handles, own session, default signals."""
    _name(title)
    with contextlib.suppress(Exception):
        selector.close()
    for listener in listeners:
        listener.close()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)


def _become_kernel(request: dict) -> None:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    from ipykernel import kernelapp

    # exit if the server goes (its default was read from the server's environment)
    argv = [*request["argv"], f"--IPKernelApp.parent_handle={os.getppid()}"]
    sys.argv = ["ipykernel_launcher", *argv]
    kernelapp.IPKernelApp.launch_instance(argv=argv)


def _render_child(conn: socket.socket, request: dict) -> None:
    from ..output import html as page
    from ..output import inspect, pdf

    _send(conn, {"pid": os.getpid()})
    try:
        nb = inspect.read_notebook(request["notebook"])
        html, meta = page.notebook_to_html(nb)
        data = html.encode("utf-8")
        made = pdf.html_to_pdf(html) if "pdf" in request["formats"] else b""
    except Exception as exc:
        _send(conn, {"ok": False, "type": type(exc).__name__, "message": str(exc)})
        return
    _send(conn, {"ok": True, "meta": meta, "html": len(data), "pdf": len(made)}, data, made)


def _pack_child(conn: socket.socket, request: dict) -> None:
    """One branch's pack (:func:`branchbook.runner.packs.make_one`), made in a renderer:
    the fonts, the cover's template and the PDF code are warm already."""
    from . import packs

    _send(conn, {"pid": os.getpid()})
    try:
        made, pages = packs.make_one(request["out_dir"], request["branch_id"], request["job"])
    except Exception as exc:
        _send(conn, {"ok": False, "type": type(exc).__name__, "message": str(exc)})
        return
    _send(conn, {"ok": True, "pages": pages, "pdf": len(made)}, made)


def _render_session(conn: socket.socket, request: dict) -> None:
    """Answer ``request`` and every render or pack request after it on ``conn``, one
    after another, until the runner closes the connection.

    Kept warm between the reports of one worker: Typst's first PDF in a new process
    costs about 0.18 s of CPU more than the next (its caches and fonts are cold) and
    reading and exporting the notebook about 0.07 s more (measured on the demo's
    reports, a fresh fork against a renderer that had made one). Any state a report
    leaves is what the floor's single process leaves too, whose pages are the same.
    """
    reader = conn.makefile("rb")
    while request.get("op") in RENDERS:
        (_render_child if request["op"] == "render" else _pack_child)(conn, request)
        line = reader.readline()
        if not line:
            return
        request = json.loads(line)


def render_socket(path: str) -> str:
    """The renderers' socket, beside the kernels' socket ``path``."""
    return str(Path(path).with_name("renderserver.sock"))


def _settle() -> None:
    # Everything imported so far lives as long as the server: take it out of the
    # collector's sight, so children neither scan it nor copy its pages by touching it.
    gc.collect()
    gc.freeze()
    if _threads() != 1:
        raise SystemExit(
            f"branchbook fork server: {_threads()} threads after warm-up; forking is unsafe"
        )


def _listen(path: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    return listener


def serve(path: str, modules: list[str]) -> None:
    """Warm up, listen on ``path`` for kernels and beside it for renderers, fork on
    request until stdin closes.

    What only renderers need (WeasyPrint, the page template) is imported by a second
    server, forked from this one once the common imports are done, which serves the
    renderers' socket: it warms up on the other core while the first kernels start,
    and a kernel request never waits behind those imports (the first kernel of every
    run did: 0.7-0.8 s, measured). Without render modules in ``modules`` this server
    serves both sockets.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides when we stop
    _name("bb-forkserver")
    later = [m for m in modules if m in RENDER_MODULES]
    warm([m for m in modules if m not in later])
    _settle()
    kernels = _listen(path)
    renders = _listen(render_socket(path))
    helper = None
    if later:
        helper = os.fork()
        if helper == 0:
            try:
                _name("bb-renderserver")
                kernels.close()
                try:
                    warm(later)
                except Exception as exc:  # noqa: BLE001 - each renderer then fails on it with the reason
                    print(
                        "branchbook fork server: warming the renderer failed: "
                        f"{type(exc).__name__}: {exc}",
                        file=sys.stderr,
                        flush=True,
                    )
                _settle()
                _serve_requests([renders])
            finally:
                os._exit(0)
        renders.close()
    try:
        os.write(1, READY)
    except BrokenPipeError:  # the runner is gone already
        return
    _serve_requests([kernels] if helper else [kernels, renders], helper=helper)


def _serve_requests(listeners: list[socket.socket], helper: int | None = None) -> None:
    """Fork a kernel or a renderer per request on ``listeners`` until stdin closes; then
    kill the children still running (``helper``, the render server, is left to stop on
    its own, since it kills its own children, and killed only if it does not)."""
    selector = selectors.DefaultSelector()
    for listener in listeners:
        selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(0, selectors.EVENT_READ, "stdin")
    children: set[int] = {helper} if helper else set()

    def reap() -> None:
        while children:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children.clear()
                return
            if pid == 0:
                return
            children.discard(pid)

    try:
        while True:
            for key, _ in selector.select(timeout=0.05):
                if key.data == "stdin":
                    if not os.read(0, 4096):
                        return
                    continue
                conn, _ = key.fileobj.accept()
                try:
                    request = json.loads(read_line(conn) or b"{}")
                    pid = os.fork()
                    if pid == 0:
                        code = 0
                        try:
                            _child_setup(listeners, selector, f"bb-{request.get('op')}")
                            # all of the child's work on one large frame-stack chunk:
                            # see branchbook.speedups.cpython
                            if request.get("op") == "kernel":
                                conn.close()
                                call_with_deep_stack(_become_kernel, request)
                            elif request.get("op") in RENDERS:
                                call_with_deep_stack(_render_session, conn, request)
                            else:
                                code = 2
                        except BaseException:  # noqa: BLE001 - a child never returns into the server
                            import traceback

                            traceback.print_exc()
                            code = 1
                        finally:
                            os._exit(code)
                    children.add(pid)
                    if request.get("op") == "kernel":
                        _send(conn, {"pid": pid})
                finally:
                    conn.close()
            reap()
    finally:
        for pid in children - {helper}:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while children and time.monotonic() < deadline:
            reap()
            if children == {helper} and time.monotonic() > deadline - 0.5:
                with contextlib.suppress(OSError):
                    os.kill(helper, signal.SIGKILL)
            time.sleep(0.01)


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description="branchbook fork server (started by the runner)")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--warm", default=",".join(WARM_MODULES))
    args = ap.parse_args(argv)
    serve(args.socket, [m for m in args.warm.split(",") if m])
    os._exit(0)  # nothing to flush; skip tearing down hundreds of modules


if __name__ == "__main__":
    main()
