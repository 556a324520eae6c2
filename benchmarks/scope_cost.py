"""What the bank's and the regions' reports cost at a size of demo bank, against prepare.

On the warehouse of ``prepare_scale.py`` / ``run.py --scale`` (default 300 branches,
1,000,000 customers, 26 months), it prepares the period (timed: its peak memory, all its
processes, is the bound; the period ``prepare_postgres.py`` prepared from the DuckDB file
is taken as it is, with its peak, unless ``--prepare``), then runs ``branchbook run --force --scopes
<scope>`` for the bank (and, with ``--scopes bank,region``, each region), HTML and PDF,
one worker at a time by default so that one report's memory is what is measured, and
samples every 50 ms the RSS of every process of the run: the largest single process
(the report's kernel, in practice) and the sum over the run's processes.

    .venv/bin/python benchmarks/scope_cost.py                      # the bank, 300 branches
    .venv/bin/python benchmarks/scope_cost.py --scopes bank,region --branches 30

It ends with ``scope reports: peak <MB> MB in one process, prepare peak <MB> MB: ok``
(``EXCEEDED`` and exit 1 when a scope report's largest process needs more memory than
prepare did).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from prepare_scale import bank_params, warehouse_for  # noqa: E402
from run import Meter, _tool  # noqa: E402

MB = 1024 * 1024
PERIOD = "2026-10"


class Peaks(Meter):
    """:class:`run.Meter` (wall time, peak RSS of all descendants together: ``peak``) that
    also keeps each descendant's peak RSS, by pid, with what it is."""

    def __init__(self) -> None:
        super().__init__()
        self.each: dict[int, tuple[int, str]] = {}

    @staticmethod
    def _what(proc: psutil.Process) -> str:
        """The fork server names its children (``bb-kernel``, ``bb-render``, ...)."""
        name = proc.name()
        return name if name.startswith("bb-") else " ".join(proc.cmdline())[-80:]

    def _tree_rss(self) -> int:
        total = 0
        for proc in self._me.children(recursive=True):
            try:
                rss = proc.memory_info().rss
                if rss > self.each.get(proc.pid, (0, ""))[0]:
                    self.each[proc.pid] = (rss, self._what(proc))
                total += rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return total

    @property
    def one(self) -> int:
        return max((rss for rss, _ in self.each.values()), default=0)

    def top(self, n: int = 5) -> list[tuple[int, int, str]]:
        ranked = sorted(((rss, pid, what) for pid, (rss, what) in self.each.items()), reverse=True)
        return ranked[:n]


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"scope_cost: {what} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--branches", type=int, default=300)
    ap.add_argument("--scopes", default="bank", help="bank, region or both (default bank)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument(
        "--prepare", action="store_true",
        help="prepare again (default: the period prepare_postgres.py prepared, if it did)",
    )  # fmt: skip
    args = ap.parse_args()

    wh = warehouse_for(args.branches)
    work = wh.parent
    params = bank_params(work / "params")
    earlier = work / "prepare_postgres.json"
    reuse = earlier.is_file() and not args.prepare
    if reuse:  # prepared there already: its peak is the bound
        found = json.loads(earlier.read_text(encoding="utf-8"))
        build = Path(found["build"])
        bound = next(r["peak_mb"] for r in found["results"] if r["source"] == "duckdb file") * MB
        print(f"prepare: {build} ({earlier.name}), peak {bound / MB:,.0f} MB", flush=True)
    else:
        build = work / "build-scopes"
    common = ["--warehouse", str(wh), "--params", str(params), "--build", str(build)]
    if not reuse:
        with Peaks() as prep:  # the bound: what prepare itself needs
            _run([_tool("branchbook"), "prepare", "--period", PERIOD, *common, "--force"],
                 "prepare")  # fmt: skip
        print(f"prepare: {prep.wall:.1f} s, peak {prep.peak / MB:,.0f} MB", flush=True)
        bound = prep.peak

    out = work / "reports-scopes"
    cmd = [_tool("branchbook"), "run", "--period", PERIOD, *common, "--out", str(out),
           "--force", "--no-progress", "--scopes", args.scopes,
           "--workers", str(args.workers)]  # fmt: skip
    with Peaks() as run:
        _run(cmd, "run")
    manifest = json.loads((out / PERIOD / "manifest.json").read_text(encoding="utf-8"))
    made = {k: e for k, e in manifest["reports"].items() if e["status"] == "ok"}
    print(f"run --scopes {args.scopes}: {run.wall:.1f} s for {len(made)} reports, "
          f"peak {run.one / MB:,.0f} MB in one process, {run.peak / MB:,.0f} MB in all "
          "(the largest below)", flush=True)  # fmt: skip
    for rss, pid, what in run.top():
        print(f"  {rss / MB:7,.0f} MB  pid {pid}  {what}")
    for key, e in sorted(made.items(), key=lambda item: -item[1]["duration_s"]):
        print(f"  {key:<28} {e['duration_s']:7.1f} s")
    verdict = "ok" if run.one <= bound else "EXCEEDED"
    print(f"scope reports: peak {run.one / MB:,.0f} MB in one process, prepare peak "
          f"{bound / MB:,.0f} MB: {verdict}")  # fmt: skip
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
