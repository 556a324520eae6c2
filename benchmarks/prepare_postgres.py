"""Prepare from a PostgreSQL server through a mapping, against the same from the DuckDB file.

At one size of demo bank (default 300 branches, 1,000,000 customers, 26 months: about
51 million transactions; the warehouse under ``build/bench/scale-<branches>/`` is shared
with ``prepare_scale.py`` and ``run.py --scale``), it

1. writes the bank under its own names (``tests/own_schema.py``: schema ``core``, the
   mapping ``tests/data/own_schema.yaml``, a deleted record the mapping leaves out);
2. starts a throwaway PostgreSQL server (``tests/pg_server.py``: Debian's binaries, a
   folder of its own, a free localhost port) and loads that schema into it;
3. times, each as a child process, ``branchbook prepare --force`` from the DuckDB file,
   then from the server through the mapping, then again from the server with nothing
   changed (an up-to-date check: the server's hashes, no row pulled);
4. checks that both prepared periods hold the same files with the same rows (as
   ``tests/test_postgres.py`` does on a small bank).

Peak memory is sampled every 50 ms: prepare's process tree (RSS), and the server's
processes apart (proportional set size, so shared buffers count once).

    .venv/bin/python benchmarks/prepare_postgres.py                  # 300 branches
    .venv/bin/python benchmarks/prepare_postgres.py --branches 30    # a quick look

It ends with one line per prepare: ``<source> <wall s> s, peak <MB> MB (server <MB> MB)``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from prepare_scale import bank_params, warehouse_for  # noqa: E402
from run import Meter, _tool  # noqa: E402

MB = 1024 * 1024
PERIOD = "2026-10"
INSTANTS = tuple(
    f"svc_complaint.{c}" for c in ("received_at", "first_response_at", "plan_at", "resolved_at")
)


class ServerMemory:
    """Peak proportional set size of a PostgreSQL server's processes while in the block."""

    def __init__(self, data: Path):
        self.pid = int((data / "postmaster.pid").read_text().split()[0])
        self.peak = 0
        self._stop = threading.Event()

    def _pss(self) -> int:
        total = 0
        try:
            root = psutil.Process(self.pid)
            for proc in [root, *root.children(recursive=True)]:
                try:
                    total += proc.memory_full_info().pss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    pass
        except psutil.NoSuchProcess:
            pass
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._pss())

    def __enter__(self) -> ServerMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def prepare(source: str, params: Path, build: Path, force: bool = True) -> Meter:
    cmd = [_tool("branchbook"), "prepare", "--period", PERIOD, "--warehouse", source,
           "--params", str(params), "--build", str(build), *(["--force"] if force else [])]  # fmt: skip
    with Meter() as meter:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"prepare_postgres: prepare from {source} failed:\n{proc.stderr[-3000:]}")
    return meter


def differing(a: Path, b: Path) -> tuple[int, list[str]]:
    """The Parquet files of two prepared periods that differ: a file in one only, or
    rows that are not the same once put in one order (floats to pandas' default
    tolerance: sums taken in another order differ in the last bits). Returns the number
    of files compared and the names of those that differ."""
    names = {str(p.relative_to(a)) for p in a.rglob("*.parquet")}
    names |= {str(p.relative_to(b)) for p in b.rglob("*.parquet")}
    differ = []
    for name in sorted(names):
        if not (a / name).is_file() or not (b / name).is_file():
            differ.append(name)
            continue
        x, y = pd.read_parquet(a / name), pd.read_parquet(b / name)
        if len(x.columns):
            x = x.sort_values(list(x.columns), ignore_index=True)
            y = (
                y.sort_values(list(y.columns), ignore_index=True)
                if list(y.columns) == list(x.columns)
                else y
            )
        try:
            pd.testing.assert_frame_equal(x, y)
        except AssertionError:
            differ.append(name)
    return len(names), differ


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--branches", type=int, default=300)
    ap.add_argument("--keep", action="store_true", help="leave the server's folder behind")
    args = ap.parse_args()

    import own_schema
    import pg_server

    wh = warehouse_for(args.branches)
    work = wh.parent
    params = bank_params(work / "params")
    mapped = bank_params(work / "params-postgres")
    shutil.copy(own_schema.MAPPING, mapped / "warehouse.yaml")

    t0 = time.perf_counter()
    own = work / "core_bank.duckdb"
    own.unlink(missing_ok=True)
    own_schema.build(wh, own)
    print(f"own schema written in {time.perf_counter() - t0:.0f} s", flush=True)

    folder = work / "pg"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    srv = pg_server.Server(folder)
    results = []
    try:
        t0 = time.perf_counter()
        pg_server.load(srv, own, "core", instants=INSTANTS)
        print(f"server loaded in {time.perf_counter() - t0:.0f} s", flush=True)
        own.unlink()

        direct = work / "build-duckdb"
        served = work / "build-postgres"
        meter = prepare(str(wh), params, direct)
        results.append(("duckdb file", meter, 0))
        print(f"duckdb file: {meter.wall:.1f} s, peak {meter.peak / MB:,.0f} MB", flush=True)
        for label, force in (("postgres, mapping", True), ("postgres, unchanged", False)):
            with ServerMemory(srv.data) as server:
                meter = prepare(srv.url, mapped, served, force=force)
            results.append((label, meter, server.peak))
            print(f"{label}: {meter.wall:.1f} s, peak {meter.peak / MB:,.0f} MB, "
                  f"server {server.peak / MB:,.0f} MB", flush=True)  # fmt: skip
    finally:
        srv.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    compared, differ = differing(direct / PERIOD / "prepared", served / PERIOD / "prepared")
    for name in differ[:10]:
        print(f"differs: {name}")
    print(f"prepared files: {compared} compared, {len(differ)} differ")
    for label, meter, server_peak in results:
        extra = f" (server {server_peak / MB:,.0f} MB)" if server_peak else ""
        print(f"{label}: {meter.wall:.1f} s, peak {meter.peak / MB:,.0f} MB{extra}")
    # read by scope_cost.py: the DuckDB prepare's build and peak, its memory bound
    (work / "prepare_postgres.json").write_text(json.dumps({
        "build": str(direct),
        "results": [{"source": label, "wall_s": m.wall, "peak_mb": m.peak / MB,
                     "server_peak_mb": sp / MB} for label, m, sp in results],
    }, indent=1))  # fmt: skip
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
