"""Where reports are made: on threads here (kernels forked warm), or on a Dask cluster."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ..errors import BranchbookError, ParamsError
from . import forkclient, forkserver
from .execute import guarded, make, new_entry, one_line, publish_report
from .guard import Stop, held_signals
from .kernels import (
    KERNELS,
    RENDERERS,
    kernel_environment,
    kernel_folder,
    kernel_manager_class,
    kill_report,
)
from .plan import Job

log = logging.getLogger("branchbook.run")


def run_here(todo: list[Job], workers: int, server, record, *, stop: Stop, **kwargs) -> None:
    """Make and publish ``todo`` on ``workers`` threads of this machine (with the
    run's fork server, already started, or None). The server is closed if the run is
    stopped or refused; otherwise the caller closes it (its renderers make the packs).

    Each thread publishes its report and records it (``record(key, entry)``) under
    ``stop``'s gate, so the manifest lists every file published, however the run ends.
    """
    server = ready_server(server) if todo else None
    km_class = kernel_manager_class(server)
    pool = ThreadPoolExecutor(max_workers=workers)
    futures: dict = {}
    try:
        futures = {
            pool.submit(
                guarded, stop, job, server=server, km_class=km_class, record=record, **kwargs
            ): job
            for job in todo
        }
        for fut in as_completed(futures):
            fut.result()  # an error no report can catch (a refused folder) stops the run
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM) or refused: publish nothing more (a publish under
        # way finishes and is recorded first), stop the running kernels, and wait for
        # the threads. Published files are untouched, the manifest lists every report
        # published so far (run() flushes it), and the next run does the rest.
        with held_signals(swallow=True):
            stop.set()
            for fut in futures:
                fut.cancel()
            for thread_id in {*KERNELS, *RENDERERS}:
                kill_report(thread_id)
            pool.shutdown(wait=True, cancel_futures=True)
            if server is not None:
                server.close()
        raise
    pool.shutdown(wait=True)


def run_on_dask(
    tasks: list[dict],
    scheduler: str,
    run_id: str,
    out_dir: Path,
    formats: tuple[str, ...],
    record,
    *,
    stop: Stop,
) -> None:
    """Make ``tasks`` on the Dask cluster at ``scheduler``; publish here as they finish.

    Workers execute and render (each with its own fork server) and send back the
    bytes; every file is written by this process, so workers need the prepared
    period (``build/``) but not the report folder.
    """
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise ParamsError(
            "--executor dask needs the dask extra: pip install 'branchbook[dask]'"
        ) from None
    try:
        client = Client(scheduler, timeout="30s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ParamsError(
            f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})"
        ) from None
    futures = {}
    try:
        for t in tasks:
            fut = client.submit(
                make_on_worker, t, key=f"branchbook-{run_id}-{t['key']}", pure=False
            )
            futures[fut] = t
        for fut in dask_completed(list(futures), loop=client.loop):
            t = futures[fut]
            t0 = time.perf_counter()
            try:
                entry, blobs = fut.result()
            except Exception as exc:  # the worker died, or the task could not run there
                error = f"on the Dask cluster: {type(exc).__name__}: {one_line(str(exc))}"
                entry, blobs = new_entry(t, error=error, duration_s=0.0), {}
            with held_signals(), stop.publishing() as go:  # published and recorded, or neither
                if not go:
                    break
                entry = publish_report(entry, blobs, out_dir, formats)
                entry["duration_s"] = round(
                    entry.get("duration_s", 0.0) + time.perf_counter() - t0, 2
                )
                record(t["key"], entry)
    except BaseException:
        stop.set()
        client.cancel(list(futures), force=True)
        raise
    finally:
        client.close()


_WORKER_SERVER: dict[str, Any] = {}


_WORKER_LOCK = threading.Lock()


def make_on_worker(t: dict) -> tuple[dict, dict[str, bytes]]:
    """The Dask task: :func:`make` on a worker, with that worker process's fork server."""
    with _WORKER_LOCK:
        if "server" not in _WORKER_SERVER:
            import atexit

            server = start_fork_server(None, t["warm_modules"], Path(t["root"]))
            if server is not None:
                atexit.register(server.close)
            _WORKER_SERVER.update(server=server, km_class=kernel_manager_class(server))
    return make(t, server=_WORKER_SERVER["server"], km_class=_WORKER_SERVER["km_class"])


def import_for_reports() -> None:
    """What :func:`make` imports, imported now (while the fork server warms up)."""
    import papermill.engines  # noqa: F401
    import papermill.execute  # noqa: F401

    from ..output import pdf  # noqa: F401 - imports nbformat the lean way first


def start_fork_server(
    warm: bool | None, modules: tuple[str, ...] | list[str], root: Path, *, wait: bool = True
):
    """The run's fork server, or None (not wanted, not possible, or it failed to start).
    With ``wait=False`` it is still importing when this returns: :func:`ready_server`."""
    if warm is None:
        warm = os.environ.get("BRANCHBOOK_WARM", "1").strip().lower() not in (
            "0",
            "false",
            "no",
            "off",
        )
    if not warm or not forkserver.available():
        return None
    try:
        server = forkclient.ForkServer(
            kernel_folder(),
            [*forkserver.WARM_MODULES, *modules],
            cwd=root,
            env=kernel_environment(),
            wait=False,
        )
        server.started_at = time.perf_counter()
    except (BranchbookError, OSError) as exc:
        log.warning("%s; starting a new Python for each report instead", exc)
        return None
    return ready_server(server) if wait else server


def ready_server(server):
    """``server`` once its imports are done, or None if it failed (cold kernels then)."""
    if server is None:
        return None
    try:
        server.wait_ready()
    except BranchbookError as exc:
        log.warning("%s; starting a new Python for each report instead", exc)
        return None
    log.info(
        "fork server %d ready %.1fs after it started: kernels and renderers start warm",
        server.process.pid,
        time.perf_counter() - server.started_at,
    )
    return server


def progress_steps(total: int, enabled: bool | None):
    """A progress bar on a terminal, one log line per report otherwise."""
    done = {"n": 0}
    use_bar = enabled if enabled is not None else sys.stderr.isatty()
    bar = None
    if use_bar and total:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="report", file=sys.stderr)

    def step(message: str) -> None:
        done["n"] += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(message[:60])
            if done["n"] == total:
                bar.close()
        else:
            log.info("[%d/%d] %s", done["n"], total, message)

    return step
