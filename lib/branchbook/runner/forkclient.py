"""The runner's side of the fork server: start it, ask it for kernels and renderers, stop it.

See :mod:`branchbook.runner.forkserver` for the server and its protocol.
"""

from __future__ import annotations

import contextlib
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

from .. import speedups
from ..errors import NotebookRunError, RenderError
from .forkserver import READY, RENDERS, START_TIMEOUT_S, WARM_MODULES, read_line, render_socket

# A renderer serves one worker's reports one after another (kept warm: see
# forkserver._render_session) and is replaced after this many. Typst keeps what it
# laid out for the next documents: a renderer's memory grows by some 60 MB a report
# until it levels off near 1.2 GB after a dozen (measured on the demo's reports, 470 MB
# for a new one), while the saving is mostly in the second report. After four, a
# renderer holds about 650 MB and three of every four reports are made warm.
RENDERS_PER_RENDERER = 4


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
        # 124.5 -> 120.0 cpu-s). An older glibc ignores the setting. A speedup: off
        # with the others.
        if speedups.enabled():
            env.setdefault("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "branchbook.runner.forkserver",
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
        self._local = threading.local()  # each worker thread's renderer (its connection)
        self._sessions: set[_Session] = set()
        self._sessions_lock = threading.Lock()
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
            conn.connect(render_socket(self.path) if request["op"] in RENDERS else self.path)
            conn.sendall(json.dumps(request).encode() + b"\n")
        except OSError:
            conn.close()
            raise NotebookRunError("the fork server is not running") from None
        return conn

    def spawn_kernel(self, argv: list[str], env: dict[str, str], cwd: str) -> ForkedProcess:
        """A kernel on the connection file named in ``argv`` (``-f <file>``)."""
        conn = self._connect({"op": "kernel", "argv": argv, "env": env, "cwd": cwd})
        with conn:
            reply = read_line(conn)
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
        request = {"op": "render", "notebook": str(notebook), "formats": list(formats)}
        header, (html, pdf) = self._made(
            request, lambda h: (h["html"], h["pdf"] if "pdf" in formats else None), on_start
        )
        return html, pdf, header["meta"]

    def pack(
        self, out_dir: str | os.PathLike, branch_id: str, job: dict[str, Any]
    ) -> tuple[bytes, dict[str, int]]:
        """A branch's pack PDF and its pages (:func:`branchbook.runner.packs.make_one`),
        made in a child forked from the warm renderer. Raises :class:`RenderError`."""
        request = {
            "op": "pack",
            "out_dir": str(Path(out_dir).resolve()),
            "branch_id": branch_id,
            "job": job,
        }
        header, (made,) = self._made(request, lambda h: (h["pdf"],))
        return made, header["pages"]

    def _made(self, request: dict, sizes, on_start=None) -> tuple[dict, list[bytes | None]]:
        """The renderer's header and the blobs it sent, of the ``sizes(header)`` lengths
        (``None``: a blob not sent).

        Asked of this thread's renderer when it has one (a new one is forked if the kept
        one is gone before it starts on the request); the renderer is kept for the
        thread's next request only when this one went through: after a failure, a time
        limit or a stop, the next request gets a new one.
        """
        session = self._session(request)
        try:
            started = session.reader.readline()
            if not started and session.served:  # the kept renderer is gone: a new one
                self._drop(session)
                session = self._session(request)
                started = session.reader.readline()
            if not started:
                raise RenderError("the renderer did not start")
            process = ForkedProcess(json.loads(started)["pid"])
            if on_start is not None:
                on_start(process)
            line = session.reader.readline()
            if not line:
                raise RenderError("the renderer died before it finished (killed or crashed)")
            header = json.loads(line)
            if not header["ok"]:
                raise RenderError(
                    header["message"]
                    if header["type"] == "RenderError"
                    else f"{header['type']}: {header['message']}"
                )
            blobs = [None if n is None else session.reader.read(n) for n in sizes(header)]
            if any(
                b is not None and len(b) != n for b, n in zip(blobs, sizes(header), strict=True)
            ):
                raise RenderError("the renderer's output was cut short")
        except BaseException:
            self._drop(session)
            raise
        session.served += 1
        if session.served >= RENDERS_PER_RENDERER:
            self._drop(session)
        return header, blobs

    def _session(self, request: dict) -> _Session:
        """This thread's renderer with ``request`` sent to it: the kept one, or a new one."""
        session = getattr(self._local, "session", None)
        if session is not None:
            try:
                session.conn.sendall(json.dumps(request).encode() + b"\n")
                return session
            except OSError:  # gone since its last report
                self._drop(session)
        session = _Session(self._connect(request))
        self._local.session = session
        with self._sessions_lock:
            self._sessions.add(session)
        return session

    def _drop(self, session: _Session) -> None:
        """Close ``session``'s connection: its renderer exits."""
        if getattr(self._local, "session", None) is session:
            self._local.session = None
        with self._sessions_lock:
            self._sessions.discard(session)
        session.close()

    def close(self) -> None:
        """Stop the server; it kills any child still running."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, set()
        for session in sessions:
            session.close()
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


class _Session:
    """A connection to a renderer that answers one request after another."""

    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.reader = conn.makefile("rb")
        self.served = 0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.reader.close()
        with contextlib.suppress(OSError):
            self.conn.close()
