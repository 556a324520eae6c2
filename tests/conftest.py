"""Helpers shared by the test modules."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def with_forked_kernel(tmp_path):
    """``run(modules, body)``: a report kernel forked (as the runner starts one) from a
    fork server warmed with ``modules``; ``await body(client)`` once the client is
    ready, then the kernel and the server are stopped. Returns what ``body`` returns."""
    from branchbook import forkserver, runner

    def run(modules, body):
        srv = forkserver.ForkServer(tmp_path, modules)
        km = runner.kernel_manager_class(srv)(kernel_name="python3")

        async def go():
            await km.start_kernel()
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=60)
                return await body(kc)
            finally:
                kc.stop_channels()
                await km.shutdown_kernel(now=True)

        try:
            return asyncio.run(go())
        finally:
            srv.close()

    return run
