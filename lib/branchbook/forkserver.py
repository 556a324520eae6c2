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
- a **renderer** per report: the child reads the executed notebook, makes the HTML and
  the PDF and sends the bytes back; the runner writes them. Each PDF has a process of
  its own, so PDFs are made in parallel (WeasyPrint is not thread-safe) and a crash in
  one cannot touch another. Renderers are forked by a second server, forked from the
  first once the common imports are done, that adds WeasyPrint and the page template
  while the first kernels start.

Each server has one thread and never starts another: forking is safe. Both exit,
killing every child still running, when the runner closes their stdin or dies (end of
file on the pipe). Linux only (``fork``); elsewhere the runner starts kernels the ordinary way.

Protocol: one request per Unix-socket connection, a JSON line; see :class:`ForkServer`.
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
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .errors import NotebookRunError, RenderError
from .startup import call_with_deep_stack

# What every report imports; each notebook's own module is added by the runner.
WARM_MODULES = (
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "duckdb",
    "matplotlib.pyplot",
    "scipy.stats",  # the report modules import it on first use (branchbook.startup.LazyModule)
    "scipy.optimize",
    "branchbook.context",
    "branchbook.page",
    "branchbook.charts",
    "branchbook.output.html",
    "branchbook.output.pdf",
    "weasyprint",
    "email.policy",  # imported by every renderer's first PDF
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",  # debugpy: 0.2 s of every kernel start
    "branchbook.kernelio",  # the kernels' stdout/stderr class (runner.KERNEL_ARGUMENTS)
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
RENDER_MODULES = ("branchbook.output.html", "branchbook.output.pdf", "weasyprint", "email.policy")
READY = b"ready\n"
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
        from . import i18n

        for locale in i18n.LOCALES:
            i18n.catalogue(locale)
    if "branchbook.charts" in sys.modules:
        from . import charts

        charts.setup()
        fig, ax = charts.new()
        ax.set_title("预热 warm-up 0123456789")
        charts.to_png(fig)
    if "weasyprint" in sys.modules and "branchbook.output.pdf" in sys.modules:
        from . import i18n
        from .output import html as page
        from .output import pdf

        # The first notebook read and HTML export in a process compile the notebook
        # schema's validator, nbconvert's exporter set-up and the page template (about
        # 0.13 s), and each locale's page stylesheets are parsed once for every PDF
        # (render._split_stylesheets, about 40 ms a PDF); done here once, every
        # renderer forked afterwards starts with them.
        for locale in i18n.LOCALES:
            html, _ = page.notebook_to_html(_warm_notebook(locale))
            pdf.html_to_pdf(html)


def _warm_notebook(locale: str = "en"):
    """A validated one-cell report notebook: a heading block and the page meta."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from .page import META_MIME

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


def _read_line(conn: socket.socket, limit: int = 64 * 1024 * 1024) -> bytes:
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
    from .output import html as page
    from .output import inspect, pdf

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
                    request = json.loads(_read_line(conn) or b"{}")
                    pid = os.fork()
                    if pid == 0:
                        code = 0
                        try:
                            _child_setup(listeners, selector, f"bb-{request.get('op')}")
                            # all of the child's work on one large frame-stack chunk:
                            # see branchbook.startup.call_with_deep_stack
                            if request.get("op") == "kernel":
                                conn.close()
                                call_with_deep_stack(_become_kernel, request)
                            elif request.get("op") == "render":
                                call_with_deep_stack(_render_child, conn, request)
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


# -- the client (in the runner) -------------------------------------------------------


class ForkedProcess:
    """A :class:`subprocess.Popen` look-alike for a process the fork server made.

    It is not our child, so it is watched by pid: alive while the pid exists and is not
    a zombie (the server reaps its children within a few milliseconds).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = -signal.SIGKILL if self._killed else 0
        return self.returncode

    _killed = False

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            if sig == signal.SIGKILL:
                self._killed = True
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.send_signal(signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def provisioner_class(server: ForkServer):
    """A jupyter_client provisioner that asks ``server`` for a kernel instead of starting Python."""
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class ForkProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd: list[str], **kwargs: Any):
            # cmd is [python, -m, ipykernel_launcher, -f, <connection file>, ...]
            try:
                at = cmd.index("ipykernel_launcher") + 1
            except ValueError:
                raise NotebookRunError(f"not an ipykernel command: {cmd[:3]}") from None
            env = {k: str(v) for k, v in (kwargs.get("env") or os.environ).items()}
            cwd = str(kwargs.get("cwd") or os.getcwd())
            self.process = server.spawn_kernel(cmd[at:], env, cwd)
            self.pid = self.process.pid
            self.pgid = self.process.pid
            self.cwd = cwd
            return self.connection_info

    return ForkProvisioner


class ForkServer:
    """The runner's handle on its fork server: start it, ask it for processes, stop it."""

    def __init__(
        self,
        folder: str | os.PathLike,
        modules: list[str] | tuple[str, ...] = WARM_MODULES,
        *,
        cwd: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ):
        """Start the server; with ``wait=False`` return at once and let the caller do
        other work while it imports (:meth:`wait_ready` before the first request)."""
        self.path = str(Path(folder) / "forkserver.sock")
        # the children's /proc/<pid>/environ is the server's: give it only what they may see
        env = dict(os.environ if env is None else env)
        # Reports run side by side, one per core: one BLAS thread each.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")
        env.setdefault("MPLBACKEND", "Agg")
        # debugpy is imported ahead (it is most of a kernel's start-up); without this it
        # warns on every kernel about frozen modules, for a debugger no report uses
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        # pyarrow's jemalloc would start a purging thread; a forking process has none
        env.setdefault("JE_ARROW_MALLOC_CONF", "background_thread:false")
        # malloc's heaps in transparent huge pages (glibc 2.35+, where the kernel allows
        # them on request): fewer page faults and TLB misses in every kernel and
        # renderer. A 48-report run took 3-4% less CPU and wall time (two pairs of runs,
        # 124.5 -> 120.0 cpu-s). An older glibc ignores the setting.
        env.setdefault("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "branchbook.forkserver",
                "--socket",
                self.path,
                "--warm",
                ",".join(dict.fromkeys(modules)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self._ready: bool | None = None
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Block until the server has its imports done. Raises :class:`NotebookRunError`
        (and stops it) if it exits or does not get ready in time."""
        if self._ready is None:
            self._ready = self._wait_ready()
        if not self._ready:
            code = self.process.poll()
            self.close()
            raise NotebookRunError(
                f"the fork server did not start (exit {code}); see the log above"
            )

    def _wait_ready(self) -> bool:
        sel = selectors.DefaultSelector()
        sel.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + START_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                if sel.select(timeout=0.5):
                    return os.read(self.process.stdout.fileno(), len(READY)) == READY
                if self.process.poll() is not None:
                    return False
            return False
        finally:
            sel.close()

    def _connect(self, request: dict) -> socket.socket:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(render_socket(self.path) if request["op"] == "render" else self.path)
            conn.sendall(json.dumps(request).encode() + b"\n")
        except OSError:
            conn.close()
            raise NotebookRunError("the fork server is not running") from None
        return conn

    def spawn_kernel(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedProcess:
        """A kernel on the connection file named in ``argv`` (``-f <file>``)."""
        conn = self._connect({"op": "kernel", "argv": argv, "env": env, "cwd": cwd})
        with conn:
            reply = _read_line(conn)
        if not reply:
            raise NotebookRunError("the fork server did not start a kernel")
        return ForkedProcess(json.loads(reply)["pid"])

    def render(
        self, notebook: str | os.PathLike, formats: tuple[str, ...], on_start=None
    ) -> tuple[bytes, bytes | None, dict[str, Any]]:
        """HTML, PDF (or None) and page meta of an executed notebook, made in a child.

        ``on_start(process)`` gets the renderer's :class:`ForkedProcess` so a time
        limit can kill it. Raises :class:`RenderError` with the renderer's message.
        """
        conn = self._connect({"op": "render", "notebook": str(notebook), "formats": list(formats)})
        with conn:
            reader = conn.makefile("rb")
            started = reader.readline()
            if not started:
                raise RenderError("the renderer did not start")
            process = ForkedProcess(json.loads(started)["pid"])
            if on_start is not None:
                on_start(process)
            line = reader.readline()
            if not line:
                raise RenderError("the renderer died before it finished (killed or crashed)")
            header = json.loads(line)
            if not header["ok"]:
                raise RenderError(
                    header["message"]
                    if header["type"] == "RenderError"
                    else f"{header['type']}: {header['message']}"
                )
            html = reader.read(header["html"])
            pdf = reader.read(header["pdf"]) if "pdf" in formats else None
        if len(html) != header["html"] or (pdf is not None and len(pdf) != header["pdf"]):
            raise RenderError("the renderer's output was cut short")
        return html, pdf, header["meta"]

    def close(self) -> None:
        """Stop the server; it kills any child still running."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        for path in (self.path, render_socket(self.path)):
            with contextlib.suppress(OSError):
                os.unlink(path)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    main()
