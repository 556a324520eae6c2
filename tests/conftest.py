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


@pytest.fixture(scope="session")
def small_bank(tmp_path_factory):
    """One small demo bank for the whole session, built and prepared once: a folder with
    ``warehouse.duckdb`` (2 branches, 1,500 customers, 13 months to 2026-10),
    ``params/bank.yaml`` (the project's, no branch files) and ``build/`` with the latest
    period prepared. Read it; copy what a test changes."""
    import shutil
    from pathlib import Path

    from branchbook import demo
    from branchbook.prepare import prepare

    root = tmp_path_factory.mktemp("small_bank")
    (root / "params" / "branches").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "params" / "bank.yaml", root / "params")
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    demo.build(warehouse, branches=2, customers=1_500, months=13, seed=3)
    prepare(None, source=warehouse, params_dir=root / "params", build_dir=root / "build")
    return root
