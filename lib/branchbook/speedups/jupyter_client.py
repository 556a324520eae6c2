"""jupyter_client: a kernel client that is ready as soon as its kernel is.

Chosen by :func:`branchbook.runner.kernels.kernel_manager_class` when the speedups are
on; otherwise the kernel manager uses jupyter_client's own client.
"""

from __future__ import annotations

import time

# How long the ready check waits for the kernel's IOPub status before asking again
# (a subscriber that has just connected misses what was published before it joined).
READY_IOPUB_WAIT_S = 0.2
# How soon a client socket tries again to connect to a kernel that has not bound it yet.
RECONNECT_IVL_MS = 10


def ready_client_class():
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
