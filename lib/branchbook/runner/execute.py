"""One report: executed, rendered and published, a failure recorded, never raised."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from .. import iorw, speedups
from ..errors import BranchbookError, NotebookRunError
from ..output import xlsx
from .engine import register_engine
from .forkclient import ForkServer
from .guard import Stop
from .kernels import KERNELS, RENDERERS, kernel_manager_class, kill_report
from .plan import Job

log = logging.getLogger("branchbook.run")

FORMATS = ("html", "pdf")


def task(
    job: Job,
    *,
    period: str,
    build_dir: Path,
    formats: tuple[str, ...],
    root: Path,
    warm_modules: tuple[str, ...] = (),
) -> dict:
    """Everything a worker needs to make one report, as plain data (it can be pickled
    and sent to a Dask worker)."""
    common = job.params.common
    return {
        "key": job.key,
        "branch_id": job.branch_id,
        "report": job.spec.name,
        "locale": job.locale or job.params.common.locale,
        "stem": job.stem or job.spec.name,
        "notebook": str(job.spec.notebook),
        "parameters": job.parameters,
        "fingerprint": job.fingerprint,
        "retries": common.retries,
        "time_limit": common.report_timeout_s,
        "period": period,
        "build_dir": str(build_dir),
        "formats": list(formats),
        "root": str(root),
        "warm_modules": list(warm_modules),
    }


def new_entry(t: dict, **fields: Any) -> dict[str, Any]:
    """A report's manifest entry as it starts: failed until made and published. ``locale``
    is the language it is made in, ``stem`` names its files (:mod:`branchbook.output.names`)."""
    return {
        "branch_id": t["branch_id"],
        "report": t["report"],
        "locale": t.get("locale") or t["parameters"].get("locale"),
        "stem": t.get("stem") or t["report"],
        "status": "failed",
        "parameters": {k: v for k, v in t["parameters"].items() if k != "build_dir"},
        "input_fingerprint": t["fingerprint"],
        "outputs": {},
        "error": None,
        "headline": {},
        **fields,
    }


def make(
    t: dict, *, server: ForkServer | None = None, km_class: Any = None, stop: Any = None
) -> tuple[dict, dict[str, bytes]]:
    """Execute and render one report: its manifest entry (without outputs) and its bytes.

    Nothing is published here; :func:`publish_report` writes the files. With a fork
    ``server`` the kernel and the renderer are forked from its warm parent; without,
    the kernel is a new Python and the page is rendered in this process. The report
    time limit covers both. A failure is returned in the entry, never raised. Once
    ``stop`` (a :class:`~branchbook.runner.guard.Stop`) is set, a dead kernel is not
    retried and nothing more is rendered.
    """
    speedups.install("jsonschema")  # before papermill imports nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    build_dir, formats = Path(t["build_dir"]), tuple(t["formats"])
    executed = build_dir / t["period"] / "executed" / t["branch_id"] / f"{t['stem']}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    running = executed.with_suffix(".running.ipynb")
    entry = new_entry(t, executed=str(executed.relative_to(build_dir)))
    blobs: dict[str, bytes] = {}
    attempts = t["retries"] + 1
    limit = t["time_limit"]
    timed_out = threading.Event()
    me = threading.get_ident()
    km_class = km_class or kernel_manager_class(server)

    def on_time_limit() -> None:
        timed_out.set()
        kill_report(me)

    def stopped() -> NotebookRunError:
        return NotebookRunError(f"stopped at the report time limit of {limit} s")

    def interrupted() -> bool:
        return stop is not None and stop.is_set()

    watchdog = threading.Timer(limit, on_time_limit)
    watchdog.daemon = True
    watchdog.start()
    try:
        for attempt in range(1, attempts + 1):
            try:
                pm.execute_notebook(
                    t["notebook"],
                    str(running),
                    parameters=t["parameters"],
                    kernel_name="python3",
                    cwd=t["root"],
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=limit,
                    start_timeout=120,
                    kernel_manager_class=km_class,
                    engine_name=register_engine(),
                    # each kernel serves one report: no need to wait for a polite exit
                    shutdown_kernel="immediate",
                )
                break
            except PapermillExecutionError as exc:
                if interrupted():
                    raise NotebookRunError("the run was stopped") from None
                if timed_out.is_set():
                    raise stopped() from None
                raise NotebookRunError(
                    f"cell {exc.exec_count or exc.cell_index}: {exc.ename}: {one_line(exc.evalue)}"
                ) from None
            except Exception as exc:  # a dead kernel, a timeout, a lost connection
                if interrupted():  # its kernel was stopped with the run: no retry
                    raise NotebookRunError("the run was stopped") from None
                if timed_out.is_set():
                    raise stopped() from None
                if attempt < attempts and "DeadKernel" in type(exc).__name__:
                    log.warning(
                        "%s: kernel died (attempt %d of %d), retrying", t["key"], attempt, attempts
                    )
                    time.sleep(min(2**attempt, 30))
                    continue
                raise NotebookRunError(f"{type(exc).__name__}: {one_line(str(exc))}") from None
            finally:
                KERNELS.pop(me, None)
        os.replace(running, executed)
        if interrupted():
            raise NotebookRunError("the run was stopped")
        if server is not None:
            try:
                html, pdf, meta = server.render(
                    executed, formats, on_start=lambda p: RENDERERS.__setitem__(me, p)
                )
            except BranchbookError:
                if timed_out.is_set():
                    raise stopped() from None
                raise
            finally:
                RENDERERS.pop(me, None)
            blobs = {"html": html, **({"pdf": pdf} if pdf is not None else {})}
        else:
            from ..output import html as to_html
            from ..output import inspect
            from ..output import pdf as to_pdf

            nb = inspect.read_notebook(executed)
            page, meta = to_html.notebook_to_html(nb)
            blobs = {"html": page.encode("utf-8")}
            if "pdf" in formats:
                blobs["pdf"] = to_pdf.html_to_pdf(page)
        # how many of the page's KPI cards are red and amber, for the index's signal count
        cards = [c for c in (meta.get("headline") or {}).values() if isinstance(c, dict)]
        entry["signals"] = {s: sum(c.get("status") == s for c in cards) for s in ("red", "amber")}
        if meta.get("brief"):  # the branch pack's cover is made from it (runner.packs)
            entry["brief"] = meta["brief"]
        book = xlsx.workbook(meta.get("actions") or {})
        if book is not None:
            blobs["xlsx"] = book  # the action lists, published with the report's files
        if timed_out.is_set():
            raise stopped()
        # the index's headline comes from the prepared period (runner.orchestrate), not the page
        entry["status"] = "ok"
    except BranchbookError as exc:
        entry["error"] = one_line(str(exc))
        blobs = {}
    except Exception as exc:  # never let one report stop the others
        entry["error"] = f"{type(exc).__name__}: {one_line(str(exc))}"
        blobs = {}
    finally:
        watchdog.cancel()
        if running.exists():
            os.replace(running, executed.with_suffix(".failed.ipynb"))
    entry["duration_s"] = round(time.perf_counter() - t0, 2)
    return entry, blobs


def publish_report(
    entry: dict, blobs: dict[str, bytes], out_dir: Path, formats: tuple[str, ...]
) -> dict:
    """Write a made report's files (each by atomic rename) and record them in its entry.

    A report is published only when every format was made; a failed write fails the
    entry and leaves the previous files as they were. A file of another format left by
    an earlier run (a PDF beside a new HTML-only report) is removed: the formats of one
    report never disagree. The files are named by the entry's ``stem`` (``risk``,
    ``risk.en``: :mod:`branchbook.output.names`) and each is recorded with its locale. A folder on the way that is a symbolic link is refused
    (:class:`~branchbook.errors.OutputError`, raised: it stops the run), never written
    through.
    """
    if entry["status"] != "ok":
        return entry
    folder = out_dir / entry["branch_id"]
    iorw.refuse_symlinks(out_dir, folder)
    try:
        stem = entry.get("stem") or entry["report"]
        kinds = (*formats, *(["xlsx"] if "xlsx" in blobs else []))
        files = {folder / f"{stem}.{f}": blobs[f] for f in kinds}
        iorw.atomic_write_all(files)
        for other in (*FORMATS, "xlsx"):  # what this run did not make is not left beside
            if other not in kinds:
                iorw.remove(folder / f"{stem}.{other}")
        for fmt_name in kinds:
            data = blobs[fmt_name]
            entry["outputs"][fmt_name] = {
                "path": f"{entry['branch_id']}/{stem}.{fmt_name}",
                "locale": entry.get("locale"),
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
    except BranchbookError as exc:
        entry.update(status="failed", error=one_line(str(exc)))
    except Exception as exc:
        entry.update(status="failed", error=f"{type(exc).__name__}: {one_line(str(exc))}")
    return entry


def execute(
    job: Job,
    *,
    period: str,
    build_dir: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    root: Path,
    server: ForkServer | None = None,
    km_class: Any = None,
    stop: Stop | None = None,
    record: Any = None,
) -> dict | None:
    """Make one report here and publish it: :func:`make` then :func:`publish_report`,
    then ``record(key, entry)`` if given, all three under ``stop``'s gate: once the run
    is stopping nothing is published or recorded and this returns None."""
    stop = stop or Stop()
    t0 = time.perf_counter()
    entry, blobs = make(
        task(job, period=period, build_dir=build_dir, formats=formats, root=root),
        server=server,
        km_class=km_class,
        stop=stop,
    )
    with stop.publishing() as go:
        if not go:
            return None
        entry = publish_report(entry, blobs, out_dir, formats)
        entry["duration_s"] = round(time.perf_counter() - t0, 2)
        if record is not None:
            record(job.key, entry)
    return entry


def guarded(stop: Stop, job: Job, **kwargs) -> dict | None:
    """``execute`` unless the run is stopping."""
    return None if stop.is_set() else execute(job, stop=stop, **kwargs)


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
