"""The kernels that execute report notebooks: their manager, client, sockets and environment.

Each report gets its own kernel, over Unix sockets in a private folder, with an
environment stripped of secrets; the time limit kills it (or the process rendering
the report) by the worker thread that runs it.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

from .. import redact, speedups
from ..speedups import jupyter_client
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


# No IPython history: every kernel of a run would write the report's code to the same
# ~/.ipython SQLite file, contending for its lock.
# No autoawait: a report never awaits at the top of a cell, and with it on IPython
# compiles every cell once more to find out (about 70 ms of a report's kernel, the
# demo's notebooks measured with a sampling profiler).
KERNEL_ARGUMENTS = ("--HistoryManager.enabled=False", "--InteractiveShell.autoawait=False")
# With the speedups on: no thread round trip to flush an empty stdout/stderr before
# each display (branchbook.speedups.ipykernel).
QUIET_STREAMS = "--IPKernelApp.outstream_class=branchbook.speedups.ipykernel.QuietOutStream"


def kernel_arguments() -> tuple[str, ...]:
    """What every report's kernel is started with, beyond jupyter_client's own."""
    return (*KERNEL_ARGUMENTS, QUIET_STREAMS) if speedups.enabled() else KERNEL_ARGUMENTS


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
    ready_client = jupyter_client.ready_client_class() if speedups.enabled() else None

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(folder, uuid.uuid4().hex[:12])
            if ready_client is not None:
                self.client_factory = ready_client
            KERNELS[threading.get_ident()] = self

        def format_kernel_cmd(self, extra_arguments=None):
            return super().format_kernel_cmd([*(extra_arguments or []), *kernel_arguments()])

        async def _async_pre_start_kernel(self, **kw):
            kw["env"] = kernel_environment(kw.get("env"))
            if provisioner is not None and self.provisioner is None:
                self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
                self.provisioner = provisioner(
                    kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
                )
            return await super()._async_pre_start_kernel(**kw)

    return IPCKernelManager


def kernel_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a report's kernel gets: ours, without the warehouse URL and
    anything named like a password, secret, token or credential.

    A report reads the prepared extracts, never the warehouse, so it has no use for
    them, and a notebook printing ``os.environ`` must not publish a password.
    """
    from ..warehouse import URL_VARIABLE

    env = dict(os.environ if env is None else env)
    return {k: v for k, v in env.items() if k != URL_VARIABLE and not redact.is_secret_name(k)}


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
