"""Run reports: prepare the period, execute every branch x report, render, publish.

:func:`run` is what ``branchbook run`` calls and what an orchestrator imports. It

- validates everything first (parameters, data contract, branches, reports): bad
  input raises before any notebook starts;
- executes each notebook with papermill, several at once, each report bounded by a
  time limit; a failing report stops no other;
- renders HTML and PDF in memory and publishes both only when both succeeded, by
  atomic rename, so a reader never opens a half-written or failed report; the
  executed notebook of a failure stays in ``build/<period>/executed/`` for debugging;
- records every report in ``reports/<period>/manifest.json`` (written atomically after
  each report, so an interrupted run leaves a true manifest) and rewrites the index;
- skips a report whose notebook, code, parameters and data are unchanged and whose
  published files still match their checksums.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import BranchbookError, NotebookRunError, ParamsError
from .params import BranchParams, ParamSet, validate_branch_id
from .prepare import prepare
from .reports import ReportSpec, select

log = logging.getLogger("branchbook.run")
FORMATS = ("html", "pdf")

EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2, 3


@dataclass
class Job:
    branch_id: str
    spec: ReportSpec
    params: BranchParams
    parameters: dict[str, Any]
    fingerprint: str

    @property
    def key(self) -> str:
        return f"{self.branch_id}/{self.spec.name}"


@dataclass
class RunResult:
    """What a run did: one entry per report, and the exit code it implies."""

    period: str
    run_id: str
    entries: dict[str, dict] = field(default_factory=dict)
    manifest_path: Path | None = None

    @property
    def failed(self) -> list[dict]:
        return [e for e in self.entries.values() if e["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failed else EXIT_OK


def _kernel_manager_class():
    """A kernel manager talking to its kernel over Unix sockets in a private folder.

    The default TCP transport sends code and outputs (customer data) in plain text
    over the loopback interface; IPC sockets live in a folder only this user can read.
    """
    import atexit
    import shutil
    import tempfile

    from jupyter_client.manager import AsyncKernelManager

    folder = tempfile.mkdtemp(prefix="branchbook-kernels-")
    atexit.register(shutil.rmtree, folder, True)

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(folder, uuid.uuid4().hex[:12])
            _KERNELS[threading.get_ident()] = self

    return IPCKernelManager


# The kernel manager of the report each worker thread is executing, for the time limit.
_KERNELS: dict[int, Any] = {}


def _kill_kernel(thread_id: int) -> bool:
    """Kill the kernel (and its process group) of the report running on ``thread_id``."""
    import signal

    km = _KERNELS.get(thread_id)
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
_KM_LOCK = threading.Lock()


def kernel_manager_class():
    global _KM_CLASS
    with _KM_LOCK:
        if _KM_CLASS is None:
            _KM_CLASS = _kernel_manager_class()
    return _KM_CLASS


def _sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


class Manifest:
    """``reports/<period>/manifest.json``: read once, updated and rewritten atomically."""

    def __init__(self, path: Path, period: str, run_id: str):
        self.path = path
        self.lock = threading.Lock()
        try:
            self.data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {"period": period, "reports": {}}
        self.data.update(period=period, run_id=run_id)

    def get(self, key: str) -> dict | None:
        return self.data["reports"].get(key)

    def put(self, key: str, entry: dict) -> None:
        with self.lock:
            self.data["reports"][key] = entry
            self.data["generated"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            from .render import atomic_write

            atomic_write(self.path, json.dumps(self.data, indent=1, ensure_ascii=False).encode())


def _up_to_date(entry: dict | None, fingerprint: str, out_dir: Path) -> bool:
    if not entry or entry.get("status") != "ok" or entry.get("input_fingerprint") != fingerprint:
        return False
    for item in entry.get("outputs", {}).values():
        path = out_dir / item["path"]
        if not path.is_file() or paths.file_sha256(path) != item["sha256"]:
            return False
    return True


def execute(job: Job, *, period: str, build_dir: Path, out_dir: Path, formats: tuple[str, ...],
            root: Path) -> dict:
    """Execute and render one report; publish it only if everything succeeded."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from . import render

    t0 = time.perf_counter()
    common = job.params.common
    executed = build_dir / period / "executed" / job.branch_id / f"{job.spec.name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    running = executed.with_suffix(".running.ipynb")
    entry: dict[str, Any] = {
        "branch_id": job.branch_id,
        "report": job.spec.name,
        "status": "failed",
        "parameters": {k: v for k, v in job.parameters.items() if k not in ("build_dir",)},
        "input_fingerprint": job.fingerprint,
        "outputs": {},
        "error": None,
        "headline": {},
        "executed": str(executed.relative_to(build_dir)),
    }
    attempts = common.retries + 1
    limit = common.report_timeout_s
    timed_out = threading.Event()
    me = threading.get_ident()

    def on_time_limit() -> None:
        timed_out.set()
        _kill_kernel(me)

    try:
        for attempt in range(1, attempts + 1):
            watchdog = threading.Timer(limit, on_time_limit)
            watchdog.daemon = True
            watchdog.start()
            try:
                pm.execute_notebook(
                    str(job.spec.notebook),
                    str(running),
                    parameters=job.parameters,
                    kernel_name="python3",
                    cwd=str(root),
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=limit,
                    start_timeout=120,
                    kernel_manager_class=kernel_manager_class(),
                )
                break
            except PapermillExecutionError as exc:
                if timed_out.is_set():
                    raise NotebookRunError(f"stopped at the report time limit of {limit} s") from None
                raise NotebookRunError(
                    f"cell {exc.exec_count or exc.cell_index}: {exc.ename}: {_one_line(exc.evalue)}"
                ) from None
            except Exception as exc:  # a dead kernel, a timeout, a lost connection
                if timed_out.is_set():
                    raise NotebookRunError(f"stopped at the report time limit of {limit} s") from None
                if attempt < attempts and "DeadKernel" in type(exc).__name__:
                    log.warning("%s: kernel died (attempt %d of %d), retrying", job.key, attempt, attempts)
                    time.sleep(min(2**attempt, 30))
                    continue
                raise NotebookRunError(f"{type(exc).__name__}: {_one_line(str(exc))}") from None
            finally:
                watchdog.cancel()
                _KERNELS.pop(me, None)
        os.replace(running, executed)
        import nbformat

        nb = nbformat.read(str(executed), as_version=4)
        html, meta = render.notebook_to_html(nb)
        blobs = {"html": html.encode("utf-8")}
        if "pdf" in formats:
            blobs["pdf"] = render.html_to_pdf(html)
        for fmt_name in formats:
            rel = f"{job.branch_id}/{job.spec.name}.{fmt_name}"
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            render.atomic_write(target, blobs[fmt_name])
            entry["outputs"][fmt_name] = {
                "path": rel,
                "sha256": hashlib.sha256(blobs[fmt_name]).hexdigest(),
                "bytes": len(blobs[fmt_name]),
            }
        entry["headline"] = meta.get("headline", {})
        entry["status"] = "ok"
    except BranchbookError as exc:
        entry["error"] = _one_line(str(exc))
    except Exception as exc:  # never let one report stop the others
        entry["error"] = f"{type(exc).__name__}: {_one_line(str(exc))}"
    finally:
        if running.exists():
            os.replace(running, executed.with_suffix(".failed.ipynb"))
    entry["duration_s"] = round(time.perf_counter() - t0, 2)
    return entry


def _guarded(stopping: threading.Event, job: Job, **kwargs) -> dict | None:
    """``execute`` unless the run is stopping."""
    return None if stopping.is_set() else execute(job, **kwargs)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def plan(
    period: str,
    prepared_meta: dict,
    specs: list[ReportSpec],
    branch_params: dict[str, BranchParams],
    *,
    build_dir: Path,
    run_id: str,
    formats: tuple[str, ...],
) -> list[Job]:
    """One job per branch x report, with the fingerprint that decides whether to rerun."""
    jobs = []
    nb_hash = {s.name: hashlib.sha256(s.notebook.read_bytes()).hexdigest()[:16] for s in specs}
    for bid, bp in branch_params.items():
        for spec in specs:
            parameters = bp.notebook_parameters(
                spec.name, period=period, build_dir=str(build_dir), run_id=run_id
            )
            stable = {k: v for k, v in parameters.items() if k not in ("run_id", "build_dir")}
            fingerprint = _sha(
                {
                    "notebook": nb_hash[spec.name],
                    "code": paths.code_version(),
                    "parameters": stable,
                    "data": prepared_meta["branch_fingerprints"].get(bid, ""),
                    "bank": prepared_meta["fingerprint"],
                    "formats": sorted(formats),
                }
            )
            jobs.append(Job(bid, spec, bp, parameters, fingerprint))
    return jobs


def run(
    period: str | None = None,
    *,
    branches: list[str] | None = None,
    reports: list[str] | None = None,
    formats: tuple[str, ...] | list[str] = FORMATS,
    workers: int | None = None,
    warehouse: str | os.PathLike | None = None,
    params_dir: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    build_dir: str | os.PathLike | None = None,
    force: bool = False,
    progress: bool | None = None,
    notebooks: str | os.PathLike | None = None,
) -> RunResult:
    """Run ``reports`` (default all) for ``branches`` (default all) of ``period``
    (default: the latest month in the warehouse).

    ``notebooks`` is a folder of report notebooks other than the project's own.

    Raises :class:`~branchbook.errors.ParamsError`, ``DataContractError`` or
    ``WarehouseError`` before anything runs when the input is bad. Otherwise returns a
    :class:`RunResult` whose ``exit_code`` is 0 when every report was published and
    1 when some failed.
    """
    root = paths.project_root()
    params_dir = Path(params_dir) if params_dir else root / "params"
    build_dir = Path(build_dir).resolve() if build_dir else root / "build"
    out_dir_root = Path(out).resolve() if out else root / "reports"
    formats = tuple(dict.fromkeys(formats))
    bad = [f for f in formats if f not in FORMATS] or (["(none)"] if not formats else [])
    if bad or "html" not in formats:
        raise ParamsError(f"formats is expected to include html, from ({', '.join(FORMATS)}). Got {list(formats)} instead.")
    specs = select(reports, Path(notebooks).resolve() if notebooks else None)
    if branches is not None:
        if not branches:
            raise ParamsError("branches: an empty list selects nothing; omit it to run every branch")
        branches = [validate_branch_id(b) for b in branches]
    prepared = prepare(period, source=warehouse, params_dir=params_dir, build_dir=build_dir, force=force)
    period = prepared.period
    if branches is not None:
        unknown = [b for b in branches if b not in prepared.branch_ids]
        if unknown:
            raise ParamsError(f"branch(es) {', '.join(map(repr, unknown))} not in the warehouse's branches table")
    ps = ParamSet(params_dir)
    ids = branches if branches is not None else prepared.branch_ids
    branch_params = {b: ps.for_branch(b) for b in ids}
    run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    jobs = plan(period, prepared.meta, specs, branch_params, build_dir=build_dir, run_id=run_id, formats=formats)
    out_dir = out_dir_root / period
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out_dir / "manifest.json", period, run_id)
    result = RunResult(period=period, run_id=run_id, manifest_path=manifest.path)

    todo = []
    for job in jobs:
        entry = manifest.get(job.key)
        if not force and _up_to_date(entry, job.fingerprint, out_dir):
            result.entries[job.key] = {**entry, "skipped_unchanged": True}
        else:
            todo.append(job)
    workers = max(1, workers or os.cpu_count() or 1)
    log.info("run %s: %d reports, %d up to date, %d to do on %d workers",
             run_id, len(jobs), len(jobs) - len(todo), len(todo), workers)
    bar = _progress(len(todo), progress)
    stopping = threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers)
    futures: dict = {}
    try:
        futures = {
            pool.submit(_guarded, stopping, job, period=period, build_dir=build_dir,
                        out_dir=out_dir, formats=formats, root=root): job
            for job in todo
        }
        for fut in as_completed(futures):
            job = futures[fut]
            entry = fut.result()
            if entry is None:  # not started: the run is stopping
                continue
            manifest.put(job.key, entry)
            result.entries[job.key] = entry
            status = "ok" if entry["status"] == "ok" else f"FAILED: {entry['error']}"
            bar(f"{job.key} {status} ({entry['duration_s']:.1f}s)")
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): start nothing new, stop the running kernels.
        # Published files are untouched (every write is an atomic rename), the
        # manifest holds every report finished so far, and the next run does the rest.
        stopping.set()
        for fut in futures:
            fut.cancel()
        for thread_id in list(_KERNELS):
            _kill_kernel(thread_id)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    _publish(out_dir_root, out_dir, manifest, ps, prepared)
    for e in result.failed:
        print(f"FAILED {e['branch_id']} {e['report']}: {e['error']}", file=sys.stderr)
    return result


def _publish(out_root: Path, out_dir: Path, manifest: Manifest, ps: ParamSet, prepared) -> None:
    from . import publish
    from .data import BranchData

    branches = BranchData(prepared, "BANK", scope="bank").table("branches")
    common = ps.for_branch(prepared.branch_ids[0]).common if prepared.branch_ids else None
    bank_locale = ps.bank.get("locale", "en")
    bank_name = common.bank_name.get(bank_locale) if common else ""
    info = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in branches.to_dict("records")]
    publish.write_period_index(out_dir, manifest.data, locale=bank_locale, bank_name=bank_name, branches=info)
    publish.write_root_index(out_root, locale=bank_locale, bank_name=bank_name)


def _progress(total: int, enabled: bool | None):
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
