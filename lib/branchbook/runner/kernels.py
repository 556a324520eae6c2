"""The kernels that execute report notebooks: their manager, client, sockets and environment.

Each report gets its own kernel, over Unix sockets in a private folder, with an
environment stripped of secrets; the time limit kills it (or the process rendering
the report) by the worker thread that runs it.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from typing import Any

from . import forkclient

_KERNEL_FOLDER: str | None = None


def kernel_folder() -> str:
    """A private folder (mode 0700) for kernel sockets, removed at exit."""
    global _KERNEL_FOLDER
    with _KM_LOCK:
        if _KERNEL_FOLDER is None:
            import atexit
            import shutil
            import tempfile

            _KERNEL_FOLDER = tempfile.mkdtemp(prefix="branchbook-kernels-")
            atexit.register(shutil.rmtree, _KERNEL_FOLDER, True)
    return _KERNEL_FOLDER


KERNEL_ARGUMENTS = (
    "--HistoryManager.enabled=False",
    # no thread round trip to flush an empty stdout/stderr before each display
    "--IPKernelApp.outstream_class=branchbook.runner.kernelio.QuietOutStream",
)


# How long the ready check waits for the kernel's IOPub status before asking again
# (a subscriber that has just connected misses what was published before it joined).
READY_IOPUB_WAIT_S = 0.2


# How soon a client socket tries again to connect to a kernel that has not bound it yet.
RECONNECT_IVL_MS = 10


def _ready_client_class():
    """jupyter_client's asyncio kernel client, ready as soon as the kernel is.

    The client connects its sockets right after the kernel's process is started, before
    the kernel has bound them; ZeroMQ then tries again after its default 100 ms (and
    more, with its random spread): 120-200 ms of every kernel start spent waiting,
    measured with strace. This client's sockets try again every 10 ms.

    ``wait_for_ready`` asks for ``kernel_info`` until the reply and one IOPub message
    arrive, then empties IOPub by reading until nothing has come for 0.2 s: every
    kernel start waits those 0.2 s with nothing to do (0.2-0.3 s of idle core per
    report at the start of a run, measured). This client waits instead for the kernel's
    ``status: idle`` on IOPub for its own ``kernel_info`` request, which the kernel
    publishes after everything else that request caused: IOPub is then connected and
    holds nothing older. A reply without that status (IOPub not yet connected) asks
    again, as jupyter_client does.
    """
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        def _context_default(self):
            import zmq

            context = super()._context_default()
            context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_IVL_MS)
            return context

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")
                msg_id = self.kernel_info()
                if await self._reply_to(msg_id) and await self._idle_after(msg_id):
                    return
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")

        async def _reply_to(self, msg_id: str) -> bool:
            end = time.monotonic() + 1.0
            while (left := end - time.monotonic()) > 0:
                try:
                    msg = await self.shell_channel.get_msg(timeout=left)
                except Empty:
                    return False
                if msg["parent_header"].get("msg_id") == msg_id:
                    if msg["msg_type"] == "kernel_info_reply":
                        self._handle_kernel_info_reply(msg)
                        return True
            return False

        async def _idle_after(self, msg_id: str) -> bool:
            end = time.monotonic() + READY_IOPUB_WAIT_S
            while (left := end - time.monotonic()) > 0:
                try:
                    msg = await self.iopub_channel.get_msg(timeout=left)
                except Empty:
                    return False
                if (
                    msg["msg_type"] == "status"
                    and msg["content"].get("execution_state") == "idle"
                    and msg["parent_header"].get("msg_id") == msg_id
                ):
                    return True
                end = time.monotonic() + READY_IOPUB_WAIT_S  # it is connected: keep reading
            return False

    return ReadyClient


def _kernel_manager_class(server=None):
    """A kernel manager talking to its kernel over Unix sockets in a private folder.

    The default TCP transport sends code and outputs (customer data) in plain text
    over the loopback interface; IPC sockets live in a folder only this user can read.
    With a fork ``server``, the kernel is forked from its warm parent instead of
    started as a new Python.
    """
    from jupyter_client.manager import AsyncKernelManager

    folder = kernel_folder()
    provisioner = forkclient.provisioner_class(server) if server is not None else None
    ready_client = _ready_client_class()

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(folder, uuid.uuid4().hex[:12])
            self.client_factory = ready_client
            KERNELS[threading.get_ident()] = self

        def format_kernel_cmd(self, extra_arguments=None):
            # No IPython history: every kernel of a run would write the report's code
            # to the same ~/.ipython SQLite file, contending for its lock.
            return super().format_kernel_cmd([*(extra_arguments or []), *KERNEL_ARGUMENTS])

        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = kernel_environment(kw.get("env"))
            if provisioner is not None and self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = provisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(**kw)

    return IPCKernelManager


_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL", re.IGNORECASE)


def kernel_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a report's kernel gets: ours, without the warehouse URL and
    anything named like a password, secret, token or credential.

    A report reads the prepared extracts, never the warehouse, so it has no use for
    them, and a notebook printing ``os.environ`` must not publish a password.
    """
    from ..warehouse import URL_VARIABLE

    env = dict(os.environ if env is None else env)
    return {k: v for k, v in env.items() if k != URL_VARIABLE and not _SECRET_NAME.search(k)}


# What each worker thread is running, for the time limit: the kernel manager of its
# report, or the process rendering it.
KERNELS: dict[int, Any] = {}


RENDERERS: dict[int, Any] = {}


def kill_report(thread_id: int) -> bool:
    """Kill the kernel (and its process group) or the renderer of the report on ``thread_id``."""
    import signal

    renderer = RENDERERS.get(thread_id)
    if renderer is not None and renderer.poll() is None:
        renderer.kill()
        return True
    km = KERNELS.get(thread_id)
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None or process.poll() is not None:
        return False
    try:
        pgid = os.getpgid(process.pid)
        if pgid != os.getpgid(0):
            os.killpg(pgid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        return False
    return True


_KM_CLASS = None


_KM_LOCK = threading.RLock()


def kernel_manager_class(server=None):
    """The kernel manager class: forking from ``server``, or starting Python (shared)."""
    global _KM_CLASS
    if server is not None:
        return _kernel_manager_class(server)
    with _KM_LOCK:
        if _KM_CLASS is None:
            _KM_CLASS = _kernel_manager_class()
    return _KM_CLASS
