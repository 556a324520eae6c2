"""The benchmark: the obvious script, ``branchbook run`` and the floor, side by side.

On one prepared period of one warehouse, for the same branches and reports, HTML + PDF:

- **naive**: per branch x report, ``papermill`` then ``jupyter nbconvert --to
  branchbook_html`` then ``--to branchbook_pdf``, each its own process, one after another;
- **branchbook**: ``branchbook run --force --scopes branch`` with default settings otherwise,
  into a fresh folder (branch reports only, as naive and the floor make);
- **floor**: the notebooks' code cells executed with ``exec`` in one plain Python
  process and rendered with the same library calls (``benchmarks/floor.py``).

Each mode runs as child processes of this one; it prints wall time, peak memory (RSS of
all descendants summed, sampled every 50 ms), CPU time, the cores other processes used
meanwhile, and the ratios. The last line is
``naive/branchbook=<ratio> branchbook/floor=<ratio>``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BENCH_DIR = ROOT / "build" / "bench"
DEMO_WAREHOUSE = ROOT / "build" / "demo" / "warehouse.duckdb"
MODES = ("naive", "branchbook", "floor")
SAMPLE_S = 0.05
SCALE_MONTHS = 26  # --scale warehouses: ~51M transactions at 300 branches / 1M customers
MB = 1024 * 1024


# -- measuring ------------------------------------------------------------------------


def _tool(name: str) -> str:
    """A console script of this environment (``branchbook``, ``papermill``, ``jupyter``)."""
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy, all cores together."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _cpu(who: int) -> float:
    """CPU seconds of this process (``RUSAGE_SELF``) or of its finished descendants
    (``RUSAGE_CHILDREN``: those waited for, with their own waited-for descendants)."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _own_cpu() -> float:
    return _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)


class Meter:
    """Wall time, peak RSS of all descendants, and CPU used by them and by others."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._me = psutil.Process()

    def _tree_rss(self) -> int:
        total = 0
        for proc in self._me.children(recursive=True):
            try:
                total += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return total

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.peak = max(self.peak, self._tree_rss())

    def __enter__(self) -> Meter:
        self.load = os.getloadavg()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._busy0, self._self0 = _busy_seconds(), _cpu(resource.RUSAGE_SELF)
        self._cpu0 = _cpu(resource.RUSAGE_CHILDREN)
        self.t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.cpu = _cpu(resource.RUSAGE_CHILDREN) - self._cpu0  # the mode's processes
        mine = self.cpu + _cpu(resource.RUSAGE_SELF) - self._self0  # and this one's sampling
        self.others = max(0.0, (_busy_seconds() - self._busy0) - mine) / self.wall


def wait_quiet(limit_s: float, threshold: float = 0.3) -> float:
    """Wait (up to ``limit_s``) until other processes use under ``threshold`` cores; return their use."""
    deadline = time.monotonic() + limit_s
    while True:
        b0, c0 = _busy_seconds(), _own_cpu()
        time.sleep(3.0)
        used = max(0.0, (_busy_seconds() - b0) - (_own_cpu() - c0)) / 3.0
        if used < threshold or time.monotonic() >= deadline:
            return used


def left_running(tag: str) -> int:
    """Processes a mode started (they carry its tag in their environment) still alive."""
    found = 0
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("BRANCHBOOK_BENCH_TAG") == tag:
                found += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


# -- the scope ------------------------------------------------------------------------


@dataclass
class Scope:
    """What every mode works on: one warehouse, one prepared period, branches, reports."""

    warehouse: Path | str
    params: Path
    work: Path
    period: str = ""
    branches: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    prepare_s: float = 0.0
    prepare_check_s: float = 0.0
    prepared_now: bool = False  # the first prepare did the work (it was not up to date)
    warehouse_note: str = ""

    @property
    def build(self) -> Path:
        return self.work / "build"

    @property
    def prepare_json(self) -> Path:
        return self.build / self.period / "prepared" / "prepare.json"

    @property
    def n(self) -> int:
        return len(self.branches) * len(self.reports)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _check(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench: {what} failed (exit {done.returncode})")
    return done


def make_scope(args) -> Scope:
    """Find or build the warehouse and the parameter folder the options ask for."""
    if args.scale:
        customers = args.customers or round(1_000_000 * args.scale / 300)
        work = BENCH_DIR / (f"scale-{args.scale}" + (f"-{customers}" if args.customers else ""))
        scope = Scope(warehouse=work / "warehouse.duckdb", params=work / "params", work=work)
        scope.params.mkdir(parents=True, exist_ok=True)
        bank = (ROOT / "params" / "bank.yaml").read_bytes()
        target = scope.params / "bank.yaml"
        if not target.is_file() or target.read_bytes() != bank:
            target.write_bytes(bank)
        if not scope.warehouse.is_file():
            print(
                f"bench: building a {args.scale}-branch warehouse ({customers:,} customers)...",
                flush=True,
            )
            t0 = time.perf_counter()
            _check(
                [
                    _tool("branchbook"),
                    "demo",
                    "--branches",
                    str(args.scale),
                    "--customers",
                    str(customers),
                    "--months",
                    str(SCALE_MONTHS),
                    "--out",
                    str(scope.warehouse),
                ],
                "demo",
            )
            scope.warehouse_note = f"built in {time.perf_counter() - t0:.0f} s"
        return scope
    warehouse = DEMO_WAREHOUSE
    work = BENCH_DIR / "demo"
    if args.warehouse:  # a DuckDB file, a folder of Parquet/CSV or a SQLAlchemy URL
        url = "://" in args.warehouse
        warehouse = args.warehouse if url else Path(args.warehouse).resolve()
        tag = hashlib.sha256(str(warehouse).encode()).hexdigest()[:8]
        work = BENCH_DIR / f"{'url' if url else warehouse.stem}-{tag}"
    params = Path(args.params).resolve() if args.params else ROOT / "params"
    scope = Scope(warehouse=warehouse, params=params, work=work)
    if not args.warehouse and not DEMO_WAREHOUSE.exists():
        print("bench: building the demo warehouse...", flush=True)
        _check([_tool("branchbook"), "demo", "--out", str(warehouse)], "demo")
    return scope


def prepare(scope: Scope, args) -> None:
    """Prepare the period once (timed, not counted), then time the up-to-date check."""
    cmd = [
        _tool("branchbook"),
        "prepare",
        "--warehouse",
        str(scope.warehouse),
        "--params",
        str(scope.params),
        "--build",
        str(scope.build),
    ]
    if args.period:
        cmd += ["--period", args.period]
    if args.fresh_prepare:
        cmd.append("--force")
    before = {p: p.stat().st_mtime for p in scope.build.glob("*/prepared/prepare.json")}
    t0 = time.perf_counter()
    done = _check(cmd, "branchbook prepare")
    scope.prepare_s = time.perf_counter() - t0
    scope.period = re.search(r"prepared (\d{4}-\d{2})", done.stdout).group(1)
    scope.prepared_now = before.get(scope.prepare_json) != scope.prepare_json.stat().st_mtime
    check = cmd[:-1] if args.fresh_prepare else cmd
    t0 = time.perf_counter()
    _check(check, "branchbook prepare (check)")
    scope.prepare_check_s = time.perf_counter() - t0
    meta = json.loads(scope.prepare_json.read_text(encoding="utf-8"))
    scope.branches = meta["branches"][: args.branches] if args.branches else meta["branches"]

    from branchbook.errors import BranchbookError
    from branchbook.reports import select

    try:
        scope.reports = [s.name for s in select(args.reports)]
    except BranchbookError as exc:
        raise SystemExit(f"bench: {exc}") from None


# -- the modes ------------------------------------------------------------------------


@dataclass
class Result:
    mode: str
    wall: float
    peak: int
    cpu: float
    others: float
    load: tuple[float, float, float]
    reports: int
    failed: list[str] = field(default_factory=list)
    left: int = 0
    sample: int | None = None  # naive timed on this many branches, wall extrapolated
    code: str = ""  # the library's code version when the mode started
    notes: list[str] = field(default_factory=list)

    @property
    def per_report(self) -> float:
        return self.wall / self.reports


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _env(tag: str) -> dict[str, str]:
    return {**os.environ, "BRANCHBOOK_BENCH_TAG": tag}


def code_version() -> str:
    """The library's code version now (not cached: the library may change between modes)."""
    from branchbook import paths

    return paths.code_version.__wrapped__()


def _measured(mode: str, body, reports: int) -> Result:
    tag = f"{mode}-{uuid.uuid4().hex[:8]}"
    code = code_version()
    with Meter() as m:
        failed, notes = body(_env(tag))
    result = Result(
        mode, m.wall, m.peak, m.cpu, m.others, m.load, reports, failed, notes=notes, code=code
    )
    if code_version() != code:
        result.notes.append("the library's code changed while this mode ran")
    result.left = left_running(tag)
    return result


def naive_params(scope: Scope, branches: list[str], folder: Path) -> dict[tuple[str, str], Path]:
    """The YAML parameter file of each branch x report, exactly as the runner computes them."""
    import yaml

    from branchbook.params import ParamSet
    from branchbook.reports import settings_classes

    ps = ParamSet(scope.params, settings_classes())
    files = {}
    for branch in branches:
        bp = ps.for_branch(branch)
        for report in scope.reports:
            values = bp.notebook_parameters(report, period=scope.period, build_dir=str(scope.build))
            path = folder / f"{branch}-{report}.yaml"
            path.write_text(
                yaml.safe_dump(values, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
            files[branch, report] = path
    return files


def naive_pairs(scope: Scope, sample: int | None) -> list[tuple[str, str]]:
    """Every branch x report naive makes, in its order (the first ``sample`` branches)."""
    branches = scope.branches[:sample] if sample else scope.branches
    return [(branch, report) for branch in branches for report in scope.reports]


def split_parts(pairs: list, parts: int) -> list[list]:
    """``pairs`` cut into ``parts`` consecutive parts whose sizes differ by one at most."""
    parts = max(1, min(parts, len(pairs)))
    size, extra = divmod(len(pairs), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        out.append(pairs[start:end])
        start = end
    return out


def run_naive(
    scope: Scope, sample: int | None, pairs: list[tuple[str, str]] | None = None, *, fresh=True
) -> Result:
    """Naive for ``pairs`` (default all): each report papermill's CLI, then nbconvert's
    to HTML and to PDF. ``fresh=False`` adds to the outputs of the earlier parts."""
    from branchbook.reports import select

    pairs = naive_pairs(scope, sample) if pairs is None else pairs
    branches = list(dict.fromkeys(b for b, _ in pairs))
    folder = scope.work / "runs" / "naive"
    if fresh:
        _fresh(folder)
    params = folder / "params"
    params.mkdir(parents=True, exist_ok=True)
    files = naive_params(scope, branches, params)
    notebooks = {s.name: s.notebook for s in select(scope.reports)}
    out = folder / "out"

    def body(env):
        failed = []
        for branch, report in pairs:
            executed = folder / "executed" / branch / f"{report}.ipynb"
            executed.parent.mkdir(parents=True, exist_ok=True)
            steps = [
                [
                    _tool("papermill"),
                    str(notebooks[report]),
                    str(executed),
                    "-f",
                    str(files[branch, report]),
                    "--cwd",
                    str(ROOT),
                    "--no-progress-bar",
                ],
                *(
                    [
                        _tool("jupyter"),
                        "nbconvert",
                        "--to",
                        f"branchbook_{fmt}",
                        str(executed),
                        "--output-dir",
                        str(out / branch),
                        "--output",
                        report,
                    ]
                    for fmt in ("html", "pdf")
                ),
            ]
            for cmd in steps:
                done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    last = (done.stderr.strip().splitlines() or ["?"])[-1]
                    failed.append(f"{branch}/{report}: {Path(cmd[0]).name}: {last[:200]}")
                    break
        return failed, []

    return _measured("naive", body, len(pairs))


def extrapolated(result: Result, scope: Scope, sample: int | None) -> Result:
    """Naive timed on the first ``sample`` branches, its wall and CPU scaled to all."""
    if sample and sample < len(scope.branches):
        factor = len(scope.branches) / sample
        result = replace(
            result,
            sample=sample,
            wall=result.wall * factor,
            cpu=result.cpu * factor,
            reports=scope.n,
        )
    return result


def joined(parts: list[Result]) -> Result:
    """One mode made in several parts, as if in one go: the walls and CPU added, the
    highest peak, every failure, note and process left."""
    first = parts[0]
    if len(parts) == 1:
        return first
    wall = sum(p.wall for p in parts)
    return replace(
        first,
        wall=wall,
        cpu=sum(p.cpu for p in parts),
        peak=max(p.peak for p in parts),
        others=sum(p.others * p.wall for p in parts) / wall if wall else 0.0,
        reports=sum(p.reports for p in parts),
        failed=[f for p in parts for f in p.failed],
        notes=list(dict.fromkeys(n for p in parts for n in p.notes)),
        left=sum(p.left for p in parts),
    )


def _prepared_stamp(scope: Scope) -> str:
    try:
        return json.loads(scope.prepare_json.read_text(encoding="utf-8")).get("created", "")
    except (OSError, ValueError):
        return ""


def run_branchbook(scope: Scope) -> Result:
    folder = _fresh(scope.work / "runs" / "branchbook")
    cmd = [
        _tool("branchbook"),
        "run",
        "--period",
        scope.period,
        "--warehouse",
        str(scope.warehouse),
        "--params",
        str(scope.params),
        "--build",
        str(scope.build),
        "--out",
        str(folder / "out"),
        "--branches",
        ",".join(scope.branches),
        "--reports",
        ",".join(scope.reports),
        "--formats",
        "html,pdf",
        # like with like: naive and the floor make the branches' reports only, so the
        # run's default regions and bank (--scopes branch,region,bank) are left out
        "--scopes",
        "branch",
        "--force",
        "--no-progress",
    ]
    stamp = _prepared_stamp(scope)

    def body(env):
        with open(folder / "run.log", "w", encoding="utf-8") as log:
            code = subprocess.run(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            ).returncode
        failed = []
        manifest = folder / "out" / scope.period / "manifest.json"
        if manifest.is_file():
            entries = json.loads(manifest.read_text(encoding="utf-8"))["reports"].values()
            failed = [
                f"{e['branch_id']}/{e['report']}: {e['error']}"
                for e in entries
                if e["status"] != "ok"
            ]
        if code not in (0, 1) or not manifest.is_file():
            failed.append(f"branchbook run exited {code} (see {_rel(folder / 'run.log')})")
        notes = []
        if _prepared_stamp(scope) != stamp:
            log_text = (folder / "run.log").read_text(encoding="utf-8")
            took = re.search(r"prepare \S+: done in ([\d.]+)s", log_text)
            notes.append(
                "the run prepared the period again (its inputs changed): "
                f"{took.group(1) if took else '?'} s of its wall time"
            )
        return failed, notes

    return _measured("branchbook", body, scope.n)


def run_floor(scope: Scope) -> Result:
    folder = _fresh(scope.work / "runs" / "floor")
    cmd = [
        sys.executable,
        str(ROOT / "benchmarks" / "floor.py"),
        "--period",
        scope.period,
        "--branches",
        ",".join(scope.branches),
        "--reports",
        ",".join(scope.reports),
        "--build",
        str(scope.build),
        "--params",
        str(scope.params),
        "--out",
        str(folder / "out"),
        "--timings",
        str(folder / "timings.json"),
        "--scopes",
        "branch",
    ]

    def body(env):
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        failed = [
            ln.removeprefix("floor: failed ")
            for ln in done.stderr.splitlines()
            if ln.startswith("floor: failed ")
        ]
        if done.returncode not in (0, 1):
            failed.append(f"floor.py exited {done.returncode}: {done.stderr.strip()[-300:]}")
        return failed, []

    return _measured("floor", body, scope.n)


# -- checking the outputs -------------------------------------------------------------


def _outputs(scope: Scope, mode: str) -> Path:
    out = scope.work / "runs" / mode / "out"
    return out / scope.period if mode == "branchbook" else out


_PROVENANCE = re.compile(r'<footer class="bb-provenance">.*?</footer>', re.S)


def compare(scope: Scope, modes: list[str]) -> list[str]:
    """Each mode's HTML against branchbook's: same sections, same page apart from provenance."""
    from branchbook.output.html import headings

    lines = []
    if "branchbook" not in modes:
        return lines
    base = _outputs(scope, "branchbook")
    for mode in (m for m in modes if m != "branchbook"):
        other = _outputs(scope, mode)
        same_sections = same_page = total = 0
        differ = []
        for path in sorted(other.glob("*/*.html")):
            ref = base / path.relative_to(other)
            if not ref.is_file():
                continue
            total += 1
            a, b = ref.read_text(encoding="utf-8"), path.read_text(encoding="utf-8")
            if headings([a]) == headings([b]):
                same_sections += 1
            else:
                differ.append(str(path.relative_to(other)))
            same_page += _PROVENANCE.sub("", a) == _PROVENANCE.sub("", b)
        sizes = [
            (base / p.relative_to(other)).stat().st_size / p.stat().st_size
            for p in other.glob("*/*.pdf")
            if (base / p.relative_to(other)).is_file()
        ]
        pdf = f"; PDF size branchbook/{mode} {statistics.mean(sizes):.3f}" if sizes else ""
        lines.append(
            f"{mode} vs branchbook: same sections in {same_sections} of {total} HTML pages, "
            f"identical apart from the provenance line in {same_page} of {total}{pdf}"
            + (f"; sections differ: {', '.join(differ[:5])}" if differ else "")
        )
    return lines


# -- where branchbook's time goes -----------------------------------------------------


def _ts(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def notebook_phases(path: Path) -> dict[str, float] | None:
    """Kernel start, parameters, import cell, analysis and kernel stop of an executed notebook,
    from papermill's timing metadata."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    meta = nb.metadata.get("papermill", {})
    cells = [c for c in nb.cells if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not meta.get("end_time") or not cells:
        return None
    phases = {
        "kernel_start": _ts(cells[0].metadata.papermill["start_time"]) - _ts(meta["start_time"]),
        "parameters": 0.0,
        "import_cell": 0.0,
        "analysis": 0.0,
    }
    seen_import = False
    for cell in cells:
        if cell.cell_type != "code":
            continue
        spent = cell.metadata.papermill.get("duration") or 0.0
        tags = set(cell.metadata.get("tags", []))
        if tags & {"parameters", "injected-parameters"}:
            phases["parameters"] += spent
        elif not seen_import:
            phases["import_cell"] += spent
            seen_import = True
        else:
            phases["analysis"] += spent
    phases["kernel_stop"] = _ts(meta["end_time"]) - _ts(cells[-1].metadata.papermill["end_time"])
    return phases


def render_phases(path: Path) -> dict[str, float]:
    """Reading, HTML and PDF of one executed notebook, timed alone in this process."""
    import nbformat

    from branchbook.output import html as page_html
    from branchbook.output import pdf as page_pdf

    t0 = time.perf_counter()
    nb = nbformat.read(str(path), as_version=4)
    t1 = time.perf_counter()
    html, _ = page_html.notebook_to_html(nb)
    t2 = time.perf_counter()
    page_pdf.html_to_pdf(html)
    return {"read_nb": t1 - t0, "html": t2 - t1, "pdf": time.perf_counter() - t2}


def _mean_table(title: str, rows: dict[str, list[dict[str, float]]], order: list[str]) -> list[str]:
    lines = [title, f"  {'report':<14}" + "".join(f"{k:>13}" for k in order) + f"{'sum':>9}"]
    for report, records in rows.items():
        means = [statistics.mean(r.get(k, 0.0) for r in records) for k in order]
        lines.append(
            f"  {report:<14}" + "".join(f"{v:>13.2f}" for v in means) + f"{sum(means):>9.2f}"
        )
    return lines


def profile(scope: Scope, results: dict[str, Result]) -> list[str]:
    """Per report, seconds spent in each phase by branchbook and by the floor."""
    lines = []
    executed = scope.build / scope.period / "executed"
    kernel: dict[str, list] = {}
    rendering: dict[str, list] = {}
    from branchbook.output import pdf as page_pdf

    manifest = scope.work / "runs" / "branchbook" / "out" / scope.period / "manifest.json"
    entries = {}
    if manifest.is_file():
        entries = json.loads(manifest.read_text(encoding="utf-8"))["reports"]
    page_pdf.html_to_pdf("<p>warm-up</p>")  # the first PDF pays WeasyPrint's import and fonts
    for report in scope.reports:
        for branch in scope.branches:
            path = executed / branch / f"{report}.ipynb"
            entry = entries.get(f"{branch}/{report}", {})
            phases = notebook_phases(path) if path.is_file() and "duration_s" in entry else None
            if phases:
                papermill = sum(phases.values())
                phases["render_waits"] = entry["duration_s"] - papermill
                kernel.setdefault(report, []).append(phases)
                rendering.setdefault(report, []).append(render_phases(path))
    if kernel and "branchbook" in results:
        lines += _mean_table(
            "branchbook, per report in a runner worker (mean s; papermill's cell timings, and "
            "the rest of the worker's time: papermill outside the cells, the render in its forked child, the writes; several reports at a time):",
            kernel,
            [
                "kernel_start",
                "parameters",
                "import_cell",
                "analysis",
                "kernel_stop",
                "render_waits",
            ],
        )
        lines += _mean_table(
            "branchbook's render alone (mean s; each executed notebook re-rendered in one process):",
            rendering,
            ["read_nb", "html", "pdf"],
        )
        durations = [e["duration_s"] for e in entries.values() if "duration_s" in e]
        wall = results["branchbook"].wall
        lines.append(
            f"  runner: sum {sum(durations):.1f} worker s over {wall:.1f} s wall = "
            f"{sum(durations) / wall:.2f} reports in flight on average"
        )
    timings = scope.work / "runs" / "floor" / "timings.json"
    if "floor" in results and timings.is_file():
        data = json.loads(timings.read_text(encoding="utf-8"))
        rows: dict[str, list] = {}
        for r in data["records"]:
            rows.setdefault(r["report"], []).append(r)
        lines += _mean_table(
            "floor, per report (mean s, one process):",
            rows,
            ["import_cell", "analysis", "html", "pdf", "write"],
        )
        inside = sum(
            sum(v for k, v in r.items() if k not in ("branch", "report")) for r in data["records"]
        )
        lines.append(
            f"  floor: {inside:.1f} s inside the reports, "
            f"{results['floor'].wall - inside:.1f} s interpreter start, imports and set-up"
        )
    return lines


# -- the report -----------------------------------------------------------------------


def _ratio(a: Result | None, b: Result | None) -> str:
    return f"{a.wall / b.wall:.2f}" if a and b and b.wall > 0 else "n/a"


# naive makes every report one after another in fresh processes: one run lasts 12 to 16
# minutes and so spans the machine's swings of a few minutes. A branchbook or floor run
# lasts one or two minutes, so one run can fall into a slow (or fast) stretch of the
# machine: those modes run --repeat times and the run with the median wall time stands
# for the mode (every run is printed). The bench goes in rounds, one run of each mode a
# round, and naive's reports are cut into as many parts, one a round: naive is still
# made once, report by report, but side by side in time with the others, so a slow
# stretch of the machine falls on every mode instead of on naive's quarter of an hour
# alone (three benches of the same code, naive first then the others, read 10.29,
# 9.93 and 10.65).
SINGLE_RUN_MODES = ("naive",)
REPEAT_UP_TO = 100  # reports; a --scale run lasts long enough to average the swings out


def repeats(mode: str, repeat: int) -> int:
    return 1 if mode in SINGLE_RUN_MODES else max(1, repeat)


def median_run(runs: list[Result]) -> Result:
    """The run with the median wall time (the lower middle one of an even number);
    it carries the failures and leftovers of every run, so none is hidden."""
    ordered = sorted(runs, key=lambda r: r.wall)
    middle = ordered[(len(ordered) - 1) // 2]
    if len(runs) == 1:
        return middle
    failed = list(dict.fromkeys(f for r in runs for f in r.failed))
    notes = list(dict.fromkeys(n for r in runs for n in r.notes))
    return replace(middle, failed=failed, notes=notes, left=max(r.left for r in runs))


def table(results: dict[str, Result], runs: dict[str, list[Result]] | None = None) -> list[str]:
    head = (
        f"{'mode':<13}{'wall s':>9}{'s/report':>10}{'peak MB':>9}{'cpu s':>8}{'cores':>7}"
        f"{'others':>8}{'load1':>7}{'failed':>8}{'left':>6}"
    )

    def row(name: str, r: Result, note: str = "") -> str:
        return (
            f"{name:<13}{r.wall:>9.1f}{r.per_report:>10.2f}{r.peak / MB:>9.0f}{r.cpu:>8.1f}"
            f"{r.cpu / r.wall:>7.2f}{r.others:>8.2f}{r.load[0]:>7.2f}{len(r.failed):>8}{r.left:>6}"
            + (f"   extrapolated from {r.sample} branches" if r.sample else "")
            + note
        )

    lines = [head]
    for mode, r in results.items():
        done = (runs or {}).get(mode, [r])
        if len(done) > 1 and mode in SINGLE_RUN_MODES:  # one run made in parts
            for k, one in enumerate(done, 1):
                lines.append(row(f"  part {k}", one))
            lines.append(row(mode, r, f"   {len(done)} parts, one a round, added"))
        elif len(done) > 1:
            for k, one in enumerate(done, 1):
                lines.append(row(f"  run {k}", one))
            walls = ", ".join(f"{one.wall:.1f}" for one in done)
            lines.append(row(mode, r, f"   median of {len(done)} runs ({walls} s)"))
        else:
            lines.append(row(mode, r))
    return lines


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="naive papermill+nbconvert vs branchbook run vs the floor, side by side"
    )
    ap.add_argument(
        "--branches", type=int, help="the first N branches of the warehouse (default all)"
    )
    ap.add_argument("--reports", type=lambda s: s.split(","), help="comma-separated (default all)")
    ap.add_argument("--warehouse", help="a warehouse other than the demo one")
    ap.add_argument("--params", help="parameter folder for --warehouse (default params/)")
    ap.add_argument(
        "--scale",
        type=int,
        help="build or reuse a demo warehouse of this many branches "
        "under build/bench/ (300: 1,000,000 customers) and use it",
    )
    ap.add_argument(
        "--customers",
        type=int,
        help="customers of the --scale warehouse (default 1,000,000 per 300 branches)",
    )
    ap.add_argument("--period", help="YYYY-MM (default: the latest month)")
    ap.add_argument(
        "--modes",
        type=lambda s: s.split(","),
        default=list(MODES),
        help="comma-separated, run in this order (default naive,branchbook,floor)",
    )
    ap.add_argument(
        "--naive-sample",
        type=int,
        help="time naive on the first K branches only and "
        "extrapolate its wall time linearly (labelled so)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also print where the time goes per report (branchbook and floor)",
    )
    ap.add_argument(
        "--snapshot",
        action="store_true",
        help="run every mode on a copy of lib/ and notebooks/ taken at the start "
        "(for a machine where the code is edited while the benchmark runs)",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="run branchbook and the floor N times each and count the median run; naive "
        "runs once, in N parts, one in each round of the others; default 3 up to "
        f"{REPEAT_UP_TO} reports, 1 above",
    )
    ap.add_argument("--fresh-prepare", action="store_true", help="prepare the period from scratch")
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each mode wait up to S seconds for other processes to go quiet",
    )
    args = ap.parse_args(argv)
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        ap.error(f"--modes is expected to be from ({', '.join(MODES)}). Got {unknown} instead.")
    return args


def snapshot() -> Path:
    """Copy the library and the notebooks, and make every mode (and this process) use the copy.

    For a machine where the code is being edited while the benchmark runs: every mode
    then runs the same code, and the prepared period stays up to date.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    h = hashlib.sha256()
    for folder in (ROOT / "lib" / "branchbook", ROOT / "notebooks"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    target = BENCH_DIR / f"snapshot-{h.hexdigest()[:10]}"
    if not target.is_dir():
        tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
        shutil.copytree(ROOT / "lib" / "branchbook", tmp / "lib" / "branchbook", ignore=ignore)
        shutil.copytree(ROOT / "notebooks", tmp / "notebooks", ignore=ignore)
        tmp.rename(target)
    lib = str(target / "lib")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [lib, os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, lib)
    return target


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.snapshot:
        print(f"bench: running on a copy of lib/ and notebooks/: {_rel(snapshot())}", flush=True)
    scope = make_scope(args)
    prepare(scope, args)
    print(
        f"bench: {len(scope.branches)} branches x {len(scope.reports)} reports "
        f"({','.join(scope.reports)}) = {scope.n} reports, html+pdf, period {scope.period}, "
        f"{psutil.cpu_count()} cores",
        flush=True,
    )
    print(
        f"bench: warehouse {_rel(scope.warehouse)}"
        + (f" ({scope.warehouse_note})" if scope.warehouse_note else "")
        + f", params {_rel(scope.params)}"
    )
    print(
        f"bench: prepare {scope.prepare_s:.1f} s "
        f"({'prepared' if scope.prepared_now else 'already up to date'}), up-to-date check "
        f"{scope.prepare_check_s:.1f} s; not counted below (branchbook run pays the check)",
        flush=True,
    )
    runners = {
        "branchbook": lambda: run_branchbook(scope),
        "floor": lambda: run_floor(scope),
    }
    if args.repeat is None:
        args.repeat = 3 if scope.n <= REPEAT_UP_TO else 1
    results: dict[str, Result] = {}
    runs: dict[str, list[Result]] = {}
    rounds = max(repeats(m, args.repeat) for m in args.modes)
    # naive in as many parts as there are rounds, one part a round, so every mode runs
    # through the same stretches of the machine's speed (see SINGLE_RUN_MODES)
    parts = split_parts(naive_pairs(scope, args.naive_sample), rounds)
    for k in range(rounds):
        for mode in args.modes:
            if mode == "naive":
                if k >= len(parts):
                    continue
                label = f"naive (part {k + 1} of {len(parts)})" if len(parts) > 1 else mode
                run = lambda k=k: run_naive(scope, args.naive_sample, parts[k], fresh=k == 0)  # noqa: E731
            else:
                times = repeats(mode, args.repeat)
                if k >= times:
                    continue
                label = f"{mode} (run {k + 1} of {times})" if times > 1 else mode
                run = runners[mode]
            if args.wait_quiet:
                others = wait_quiet(args.wait_quiet)
                print(f"bench: {mode}: others use {others:.2f} cores before the start", flush=True)
            print(f"bench: {label}...", flush=True)
            r = run()
            runs.setdefault(mode, []).append(r)
            print(f"bench: {label}: {r.wall:.1f} s", flush=True)
    for mode in args.modes:
        if mode == "naive":
            results[mode] = extrapolated(joined(runs[mode]), scope, args.naive_sample)
        else:
            results[mode] = median_run(runs[mode])
    print()
    print("\n".join(table(results, runs)))
    print(
        "(peak MB: RSS of all processes of the mode summed, sampled every 50 ms; cores: the "
        "mode's CPU s / wall s; others: cores busy with other processes meanwhile; load1 at the "
        "start; left: processes of the mode still alive after it)"
    )
    for r in results.values():
        for line in r.failed[:10]:
            print(f"failed ({r.mode}): {line}")
        for note in r.notes:
            print(f"note ({r.mode}): {note}")
    versions = {r.code for r in results.values()}
    if len(versions) > 1:
        print(
            "note: the library's code differed between modes ("
            + ", ".join(f"{r.mode} {r.code}" for r in results.values())
            + "): outputs may differ for that reason"
        )
    for line in compare(scope, list(results)):
        print(line)
    if args.profile:
        print()
        print("\n".join(profile(scope, results)))
    bad = any(r.failed for r in results.values())
    print(
        f"naive/branchbook={_ratio(results.get('naive'), results.get('branchbook'))} "
        f"branchbook/floor={_ratio(results.get('branchbook'), results.get('floor'))}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
