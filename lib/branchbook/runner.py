"""Run reports: prepare the period, execute every branch x report, render, publish.

:func:`run` is what ``branchbook run`` calls and what an orchestrator imports. It

- validates everything first (parameters, data contract, branches, reports): bad
  input raises before any notebook starts;
- executes each notebook with papermill, several at once, each report bounded by a
  time limit; a failing report stops no other;
- renders HTML and PDF in memory and publishes both only when both succeeded, by
  atomic rename, so a reader never opens a half-written or failed report; the
  executed notebook of a failure stays in ``build/<period>/executed/`` for debugging;
- records every report in ``reports/<period>/manifest.json`` (written atomically, every
  few seconds and at the end, so an interrupted run leaves a true manifest) and
  rewrites the index;
- skips a report whose notebook, code, parameters and data are unchanged and whose
  published files still match their checksums.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import forkserver, paths
from .errors import BranchbookError, NotebookRunError, ParamsError
from .params import BranchParams, ParamSet, validate_branch_id
from .prepare import prepare
from .reports import ReportSpec, module_names, select

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
    "--IPKernelApp.outstream_class=branchbook.kernelio.QuietOutStream",
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
    provisioner = forkserver.provisioner_class(server) if server is not None else None
    ready_client = _ready_client_class()

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = os.path.join(folder, uuid.uuid4().hex[:12])
            self.client_factory = ready_client
            _KERNELS[threading.get_ident()] = self

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
    from .warehouse import URL_VARIABLE

    env = dict(os.environ if env is None else env)
    return {k: v for k, v in env.items() if k != URL_VARIABLE and not _SECRET_NAME.search(k)}


# What each worker thread is running, for the time limit: the kernel manager of its
# report, or the process rendering it.
_KERNELS: dict[int, Any] = {}
_RENDERERS: dict[int, Any] = {}


def _kill_kernel(thread_id: int) -> bool:
    """Kill the kernel (and its process group) or the renderer of the report on ``thread_id``."""
    import signal

    renderer = _RENDERERS.get(thread_id)
    if renderer is not None and renderer.poll() is None:
        renderer.kill()
        return True
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


_ENGINE = "branchbook"
_ENGINE_LOCK = threading.Lock()


def _output_from_msg(msg: dict) -> Any:
    """The notebook output for a kernel's IOPub output message, as
    ``nbformat.v4.output_from_msg`` makes it, without validating each one on its own.

    nbformat checks every output against its part of the schema as it is made, with
    jsonschema (the fast validator cannot take a part of the schema): about 0.2 ms an
    output, some 60 outputs a report, in the runner's one process. The notebook is
    validated whole when papermill writes it and again when the renderer reads it, so
    a bad output is still caught before anything is published.
    """
    from nbformat import from_dict

    kind = msg["header"]["msg_type"]
    content = msg["content"]
    if kind in ("display_data", "execute_result"):
        out = {"output_type": kind, "metadata": content["metadata"], "data": content["data"]}
        if kind == "execute_result":
            out["execution_count"] = content["execution_count"]
    elif kind == "stream":
        out = {"output_type": kind, "name": content["name"], "text": content["text"]}
    elif kind == "error":
        out = {
            "output_type": kind,
            "ename": content["ename"],
            "evalue": content["evalue"],
            "traceback": content["traceback"],
        }
    else:
        raise ValueError(f"Unrecognized output msg type: {kind!r}")
    return from_dict(out)


def _register_engine() -> str:
    """papermill's nbclient engine, saving the executed notebook less often.

    papermill rewrites the whole notebook (charts included, 1-2 MB) at the start and
    the end of every cell: some 40 writes a report. This engine writes it when the
    notebook starts, when a cell fails, and every 30 s in between (so a long cell still
    leaves evidence); at the end only when the engine fails (a dead kernel, a time
    limit), since papermill writes the finished notebook itself right after (each write
    of a finished report: 5-10 ms of the runner's CPU validating and indenting it).
    Outputs are made by :func:`_output_from_msg`.
    """
    import nbclient.client
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    from . import iorw

    with _ENGINE_LOCK:
        if _ENGINE in papermill_engines._engines:
            return _ENGINE
        iorw.atomic_notebook_saves()  # each save of the executed notebook whole or not at all
        # the outputs of this process's notebooks are validated with the whole notebook
        nbclient.client.output_from_msg = _output_from_msg

        class SparseSaves(NotebookExecutionManager):
            _must = False

            def save(self, **kwargs):
                due = (self.now() - self.last_save_time).total_seconds() >= self.autosave_cell_every
                if self._must or due:
                    super().save(**kwargs)

            def _forced(self, method, *args, **kwargs):
                self._must = True
                try:
                    return method(*args, **kwargs)
                finally:
                    self._must = False

            def notebook_start(self, **kwargs):
                return self._forced(super().notebook_start, **kwargs)

            def cell_exception(self, cell, cell_index=None, **kwargs):
                return self._forced(super().cell_exception, cell, cell_index, **kwargs)

            def notebook_complete(self, save: bool = True, **kwargs):
                if save:
                    return self._forced(super().notebook_complete, **kwargs)
                return super().notebook_complete(**kwargs)  # saves only if 30 s are due

        class Engine(NBClientEngine):
            @classmethod
            def execute_notebook(
                cls,
                nb,
                kernel_name,
                output_path=None,
                progress_bar=True,
                log_output=False,
                autosave_cell_every=30,
                **kwargs,
            ):
                nb_man = SparseSaves(
                    nb,
                    output_path=output_path,
                    progress_bar=progress_bar,
                    log_output=log_output,
                    autosave_cell_every=autosave_cell_every,
                )
                nb_man.notebook_start()
                try:
                    cls.execute_managed_notebook(
                        nb_man, kernel_name, log_output=log_output, **kwargs
                    )
                except BaseException:
                    nb_man.cleanup_pbar()
                    nb_man.notebook_complete()  # saved: papermill writes nothing after this
                    raise
                nb_man.cleanup_pbar()
                # papermill writes the notebook next (with the error marker if a cell failed)
                nb_man.notebook_complete(save=False)
                return nb_man.nb

        papermill_engines.register(_ENGINE, Engine)
    return _ENGINE


def _sha(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:16]


class Manifest:
    """``reports/<period>/manifest.json``: read once, updated and rewritten atomically.

    The file holds every report of the period, so one rewrite costs in proportion to
    the branches (0.17 s of CPU for 1,200 reports) and a rewrite after every report
    costs in proportion to their square. :meth:`put` therefore rewrites it only when
    ``spacing`` times the last rewrite's duration has passed since (at least
    ``min_interval_s``), and :meth:`flush` writes what is left when the run ends, is
    stopped or fails. A run killed with SIGKILL loses at most that last stretch of
    entries: those reports are made again by the next run (their published files are
    whole either way).
    """

    def __init__(
        self,
        path: Path,
        period: str,
        run_id: str,
        *,
        min_interval_s: float = 2.0,
        spacing: float = 50.0,
    ):
        self.path = path
        self.lock = threading.Lock()
        self.min_interval_s = min_interval_s
        self.spacing = spacing
        self._written_at = float("-inf")  # the first entry is written at once
        self._write_s = 0.0
        self._dirty = False
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
            self._dirty = True
            wait = max(self.min_interval_s, self.spacing * self._write_s)
            if time.monotonic() - self._written_at >= wait:
                self._write()

    def flush(self) -> None:
        """Write the entries :meth:`put` has not written yet (if any)."""
        with self.lock:
            if self._dirty:
                self._write()

    def _write(self) -> None:
        from . import iorw

        start = time.monotonic()
        iorw.atomic_write(self.path, json.dumps(self.data, indent=1, ensure_ascii=False).encode())
        self._written_at = time.monotonic()
        self._write_s = self._written_at - start
        self._dirty = False


def _up_to_date(entry: dict | None, fingerprint: str, out_dir: Path) -> bool:
    if not entry or entry.get("status") != "ok" or entry.get("input_fingerprint") != fingerprint:
        return False
    for item in entry.get("outputs", {}).values():
        path = out_dir / item["path"]
        if not path.is_file() or paths.file_sha256(path) != item["sha256"]:
            return False
    return True


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


def _entry(t: dict, **fields: Any) -> dict[str, Any]:
    """A report's manifest entry as it starts: failed until made and published."""
    return {
        "branch_id": t["branch_id"],
        "report": t["report"],
        "status": "failed",
        "parameters": {k: v for k, v in t["parameters"].items() if k != "build_dir"},
        "input_fingerprint": t["fingerprint"],
        "outputs": {},
        "error": None,
        "headline": {},
        **fields,
    }


def make(
    t: dict, *, server: forkserver.ForkServer | None = None, km_class: Any = None
) -> tuple[dict, dict[str, bytes]]:
    """Execute and render one report: its manifest entry (without outputs) and its bytes.

    Nothing is published here; :func:`publish_report` writes the files. With a fork
    ``server`` the kernel and the renderer are forked from its warm parent; without,
    the kernel is a new Python and the page is rendered in this process. The report
    time limit covers both. A failure is returned in the entry, never raised.
    """
    from . import startup

    startup.lean_jsonschema()  # before papermill imports nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    build_dir, formats = Path(t["build_dir"]), tuple(t["formats"])
    executed = build_dir / t["period"] / "executed" / t["branch_id"] / f"{t['report']}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    running = executed.with_suffix(".running.ipynb")
    entry = _entry(t, executed=str(executed.relative_to(build_dir)))
    blobs: dict[str, bytes] = {}
    attempts = t["retries"] + 1
    limit = t["time_limit"]
    timed_out = threading.Event()
    me = threading.get_ident()
    km_class = km_class or kernel_manager_class(server)

    def on_time_limit() -> None:
        timed_out.set()
        _kill_kernel(me)

    def stopped() -> NotebookRunError:
        return NotebookRunError(f"stopped at the report time limit of {limit} s")

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
                    engine_name=_register_engine(),
                    # each kernel serves one report: no need to wait for a polite exit
                    shutdown_kernel="immediate",
                )
                break
            except PapermillExecutionError as exc:
                if timed_out.is_set():
                    raise stopped() from None
                raise NotebookRunError(
                    f"cell {exc.exec_count or exc.cell_index}: {exc.ename}: {_one_line(exc.evalue)}"
                ) from None
            except Exception as exc:  # a dead kernel, a timeout, a lost connection
                if timed_out.is_set():
                    raise stopped() from None
                if attempt < attempts and "DeadKernel" in type(exc).__name__:
                    log.warning(
                        "%s: kernel died (attempt %d of %d), retrying", t["key"], attempt, attempts
                    )
                    time.sleep(min(2**attempt, 30))
                    continue
                raise NotebookRunError(f"{type(exc).__name__}: {_one_line(str(exc))}") from None
            finally:
                _KERNELS.pop(me, None)
        os.replace(running, executed)
        if server is not None:
            try:
                html, pdf, meta = server.render(
                    executed, formats, on_start=lambda p: _RENDERERS.__setitem__(me, p)
                )
            except BranchbookError:
                if timed_out.is_set():
                    raise stopped() from None
                raise
            finally:
                _RENDERERS.pop(me, None)
            blobs = {"html": html, **({"pdf": pdf} if pdf is not None else {})}
        else:
            from .output import html as to_html
            from .output import inspect
            from .output import pdf as to_pdf

            nb = inspect.read_notebook(executed)
            page, meta = to_html.notebook_to_html(nb)
            blobs = {"html": page.encode("utf-8")}
            if "pdf" in formats:
                blobs["pdf"] = to_pdf.html_to_pdf(page)
        if timed_out.is_set():
            raise stopped()
        entry["headline"] = meta.get("headline", {})
        entry["status"] = "ok"
    except BranchbookError as exc:
        entry["error"] = _one_line(str(exc))
        blobs = {}
    except Exception as exc:  # never let one report stop the others
        entry["error"] = f"{type(exc).__name__}: {_one_line(str(exc))}"
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
    entry and leaves the previous files as they were.
    """
    from . import iorw

    if entry["status"] != "ok":
        return entry
    try:
        files = {out_dir / f"{entry['branch_id']}/{entry['report']}.{f}": blobs[f] for f in formats}
        iorw.atomic_write_all(files)
        for fmt_name in formats:
            data = blobs[fmt_name]
            entry["outputs"][fmt_name] = {
                "path": f"{entry['branch_id']}/{entry['report']}.{fmt_name}",
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
    except BranchbookError as exc:
        entry.update(status="failed", error=_one_line(str(exc)))
    except Exception as exc:
        entry.update(status="failed", error=f"{type(exc).__name__}: {_one_line(str(exc))}")
    return entry


def execute(
    job: Job,
    *,
    period: str,
    build_dir: Path,
    out_dir: Path,
    formats: tuple[str, ...],
    root: Path,
    server: forkserver.ForkServer | None = None,
    km_class: Any = None,
) -> dict:
    """Make one report here and publish it: :func:`make` then :func:`publish_report`."""
    t0 = time.perf_counter()
    entry, blobs = make(
        task(job, period=period, build_dir=build_dir, formats=formats, root=root),
        server=server,
        km_class=km_class,
    )
    entry = publish_report(entry, blobs, out_dir, formats)
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


DURATIONS = "durations.json"


def read_durations(build_dir: Path) -> dict[str, float]:
    """Seconds each report (``branch/report``) took the last time it was made, any
    period: ``build/durations.json``; empty when missing or unreadable."""
    try:
        data = json.loads((Path(build_dir) / DURATIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and v >= 0}


def write_durations(build_dir: Path, entries: dict[str, dict]) -> None:
    """Add the made reports' durations to ``build/durations.json`` (best effort: it only
    orders the next run)."""
    made = {
        key: e["duration_s"]
        for key, e in entries.items()
        if e.get("status") == "ok" and not e.get("skipped_unchanged") and "duration_s" in e
    }
    if not made:
        return
    from . import iorw

    durations = {**read_durations(build_dir), **made}
    try:
        iorw.atomic_write(
            Path(build_dir) / DURATIONS,
            json.dumps(durations, sort_keys=True, indent=0).encode(),
            sync=False,
        )
    except (OSError, BranchbookError) as exc:
        log.warning("could not record the reports' durations: %s", exc)


def longest_first(jobs: list[Job], durations: dict[str, float]) -> list[Job]:
    """``jobs`` with the longest expected first, so that a run ends on short reports and
    does not finish on one busy core while the others idle. A job's expected time is
    its own last duration, else the mean of its report's known durations; jobs with
    neither keep their order, before the others (no history: the plan's order).
    """
    by_report: dict[str, list[float]] = {}
    for key, seconds in durations.items():
        by_report.setdefault(key.rsplit("/", 1)[-1], []).append(seconds)
    means = {name: sum(v) / len(v) for name, v in by_report.items()}

    def expected(job: Job) -> float:
        if job.key in durations:
            return durations[job.key]
        return means.get(job.spec.name, float("inf"))

    return sorted(jobs, key=expected, reverse=True)  # stable: ties keep the plan's order


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
    warm: bool | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> RunResult:
    """Run ``reports`` (default all) for ``branches`` (default all) of ``period``
    (default: the latest month in the warehouse).

    ``notebooks`` is a folder of report notebooks other than the project's own.
    ``warm`` (default: on where the platform can fork, off when the environment sets
    ``BRANCHBOOK_WARM=0``) forks kernels and renderers from one process that has the
    imports done (:mod:`branchbook.forkserver`) instead of starting Python for each.
    ``executor="dask"`` makes the reports on the Dask cluster at ``scheduler``
    (default ``$DASK_SCHEDULER_ADDRESS``) and publishes them here.

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
        raise ParamsError(
            f"formats is expected to include html, from ({', '.join(FORMATS)}). Got {list(formats)} instead."
        )
    if executor not in ("local", "dask"):
        raise ParamsError(
            f"executor is expected to be 'local' or 'dask'. Got {executor!r} instead."
        )
    if executor == "dask":
        scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS", "").strip()
        if not scheduler:
            raise ParamsError(
                "--executor dask needs --scheduler <address> (or $DASK_SCHEDULER_ADDRESS)"
            )
    if branches is not None:
        if not branches:
            raise ParamsError(
                "branches: an empty list selects nothing; omit it to run every branch"
            )
        branches = [validate_branch_id(b) for b in branches]
    notebook_dir = Path(notebooks).resolve() if notebooks else None
    # The fork server does its imports (two seconds of one core) while this process
    # imports the reports and papermill and checks the data on the other core;
    # _run_here waits for it. It is closed however the run ends.
    server = None
    if executor == "local":
        server = _start_fork_server(
            warm, tuple(module_names(reports, notebook_dir)), root, wait=False
        )
    try:
        specs = select(reports, notebook_dir)
        modules = tuple(s.module.__name__ for s in specs)  # what the fork servers import ahead
        if server is not None:
            _import_for_reports()
        # ``force`` redoes reports; the prepared period is redone when its inputs changed
        # (its own fingerprint), or by ``branchbook prepare --force``.
        prepared = prepare(period, source=warehouse, params_dir=params_dir, build_dir=build_dir)
        period = prepared.period
        if branches is not None:
            unknown = [b for b in branches if b not in prepared.branch_ids]
            if unknown:
                raise ParamsError(
                    f"branch(es) {', '.join(map(repr, unknown))} not in the warehouse's branches table"
                )
        ps = ParamSet(params_dir)
        ids = branches if branches is not None else prepared.branch_ids
        branch_params = {b: ps.for_branch(b) for b in ids}
        run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        jobs = plan(
            period,
            prepared.meta,
            specs,
            branch_params,
            build_dir=build_dir,
            run_id=run_id,
            formats=formats,
        )
        out_dir = out_dir_root / period
        out_dir.mkdir(parents=True, exist_ok=True)
        from . import iorw

        # a killed run's half-written files (published pages, manifest, executed notebooks)
        for stale in [
            *iorw.remove_stale_temporaries(out_dir),
            *iorw.remove_stale_temporaries(build_dir / period / "executed"),
        ]:
            log.info("removed %s, left by a run that was killed while writing it", stale)
        manifest = Manifest(out_dir / "manifest.json", period, run_id)
        result = RunResult(period=period, run_id=run_id, manifest_path=manifest.path)

        todo = []
        for job in jobs:
            entry = manifest.get(job.key)
            if not force and _up_to_date(entry, job.fingerprint, out_dir):
                result.entries[job.key] = {**entry, "skipped_unchanged": True}
            else:
                todo.append(job)
        todo = longest_first(todo, read_durations(build_dir))
        bar = _progress(len(todo), progress)

        def record(key: str, entry: dict) -> None:
            manifest.put(key, entry)
            result.entries[key] = entry
            status = "ok" if entry["status"] == "ok" else f"FAILED: {entry['error']}"
            bar(f"{key} {status} ({entry['duration_s']:.1f}s)")

        try:
            if executor == "dask":
                log.info(
                    "run %s: %d reports, %d up to date, %d to do on the Dask cluster at %s",
                    run_id,
                    len(jobs),
                    len(jobs) - len(todo),
                    len(todo),
                    scheduler,
                )
                tasks = [
                    task(
                        j,
                        period=period,
                        build_dir=build_dir,
                        formats=formats,
                        root=root,
                        warm_modules=modules,
                    )
                    for j in todo
                ]
                _run_on_dask(tasks, scheduler, run_id, out_dir, formats, record)
            else:
                # One more than the cores: a report waits on its kernel's start-up and on
                # the runner between cells; the extra one keeps the cores busy meanwhile
                # (12 branches x 4 reports: 2 workers 82 s, 3 workers 70.6 s, 4 workers
                # 70.6-71.9 s).
                workers = max(1, workers or (os.cpu_count() or 1) + 1)
                log.info(
                    "run %s: %d reports, %d up to date, %d to do on %d workers",
                    run_id,
                    len(jobs),
                    len(jobs) - len(todo),
                    len(todo),
                    workers,
                )
                _run_here(
                    todo,
                    workers,
                    server,
                    record,
                    period=period,
                    build_dir=build_dir,
                    out_dir=out_dir,
                    formats=formats,
                    root=root,
                )
        finally:  # finished, stopped or failed: every entry recorded reaches the file
            manifest.flush()
            write_durations(build_dir, result.entries)
        _publish(out_dir_root, out_dir, manifest, ps, prepared)
        for e in result.failed:
            print(f"FAILED {e['branch_id']} {e['report']}: {e['error']}", file=sys.stderr)
        return result
    finally:
        if server is not None:  # closed already when the reports ran; closing is idempotent
            server.close()


def _run_here(todo: list[Job], workers: int, server, record, **kwargs) -> None:
    """Make and publish ``todo`` on ``workers`` threads of this machine (with the
    run's fork server, already started, or None); the server is closed at the end."""
    stopping = threading.Event()
    server = _ready_server(server) if todo else None
    km_class = kernel_manager_class(server)
    pool = ThreadPoolExecutor(max_workers=workers)
    futures: dict = {}
    try:
        futures = {
            pool.submit(_guarded, stopping, job, server=server, km_class=km_class, **kwargs): job
            for job in todo
        }
        for fut in as_completed(futures):
            entry = fut.result()
            if entry is not None:  # None: not started, the run is stopping
                record(futures[fut].key, entry)
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM): start nothing new, stop the running kernels.
        # Published files are untouched (every write is an atomic rename), the
        # manifest gets every report finished so far (run() flushes it), and the next
        # run does the rest.
        stopping.set()
        for fut in futures:
            fut.cancel()
        for thread_id in {*_KERNELS, *_RENDERERS}:
            _kill_kernel(thread_id)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if server is not None:
            server.close()
    pool.shutdown(wait=True)


def _run_on_dask(
    tasks: list[dict], scheduler: str, run_id: str, out_dir: Path, formats: tuple[str, ...], record
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
                error = f"on the Dask cluster: {type(exc).__name__}: {_one_line(str(exc))}"
                entry, blobs = _entry(t, error=error, duration_s=0.0), {}
            entry = publish_report(entry, blobs, out_dir, formats)
            entry["duration_s"] = round(entry.get("duration_s", 0.0) + time.perf_counter() - t0, 2)
            record(t["key"], entry)
    except BaseException:
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

            server = _start_fork_server(None, t["warm_modules"], Path(t["root"]))
            if server is not None:
                atexit.register(server.close)
            _WORKER_SERVER.update(server=server, km_class=kernel_manager_class(server))
    return make(t, server=_WORKER_SERVER["server"], km_class=_WORKER_SERVER["km_class"])


def _import_for_reports() -> None:
    """What :func:`make` imports, imported now (while the fork server warms up)."""
    from . import startup
    from .output import pdf  # noqa: F401

    startup.lean_jsonschema()  # before papermill imports nbformat
    import papermill.engines  # noqa: F401
    import papermill.execute  # noqa: F401


def _start_fork_server(
    warm: bool | None, modules: tuple[str, ...] | list[str], root: Path, *, wait: bool = True
):
    """The run's fork server, or None (not wanted, not possible, or it failed to start).
    With ``wait=False`` it is still importing when this returns: :func:`_ready_server`."""
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
        server = forkserver.ForkServer(
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
    return _ready_server(server) if wait else server


def _ready_server(server):
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


def _publish(out_root: Path, out_dir: Path, manifest: Manifest, ps: ParamSet, prepared) -> None:
    from .data import BranchData
    from .output import publish

    branches = BranchData(prepared, "BANK", scope="bank").table("branches")
    common = ps.for_branch(prepared.branch_ids[0]).common if prepared.branch_ids else None
    bank_locale = ps.bank.get("locale", "en")
    bank_name = common.bank_name.get(bank_locale) if common else ""
    info = [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
        for r in branches.to_dict("records")
    ]
    publish.write_period_index(
        out_dir, manifest.data, locale=bank_locale, bank_name=bank_name, branches=info
    )
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
