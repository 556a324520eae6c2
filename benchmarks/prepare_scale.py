"""How prepare grows with the data: time and peak memory at three sizes of demo bank.

For each size (branches; customers in proportion, 1,000,000 per 300 branches; 26
months of history, so about 51 million transactions at 300 branches) it builds the demo
warehouse once under ``build/bench/scale-<branches>/`` (shared with ``run.py --scale``),
then times ``branchbook prepare --force`` (contract checks,
per-branch extracts, bank-wide benchmarks and models) as a child process, sampling the
RSS of the child and its descendants every 50 ms. DuckDB's memory limit is the
project's default (``BRANCHBOOK_DUCKDB_MEMORY``, 3GB) unless ``--memory`` says otherwise.

    .venv/bin/python benchmarks/prepare_scale.py                 # 30, 100, 300 branches
    .venv/bin/python benchmarks/prepare_scale.py --sizes 300 --memory 2GB

It prints one row per size, then the time and memory per million transactions, and
ends with ``prepare: peak <MB> MB at <N> transactions, bound <MB> MB: ok|EXCEEDED``
(exit 1 when the peak passes ``--bound-mb``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BENCH_DIR, ROOT, SCALE_MONTHS, Meter, _tool  # noqa: E402

CUSTOMERS_PER_BRANCH = 1_000_000 / 300
MONTHS = SCALE_MONTHS
MB = 1024 * 1024


def warehouse_for(branches: int) -> Path:
    work = BENCH_DIR / f"scale-{branches}"  # shared with run.py --scale
    wh = work / "warehouse.duckdb"
    if not wh.is_file():
        customers = round(CUSTOMERS_PER_BRANCH * branches)
        print(
            f"prepare_scale: building {branches} branches, {customers:,} customers, {MONTHS} months...",
            flush=True,
        )
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                _tool("branchbook"),
                "demo",
                "--branches",
                str(branches),
                "--customers",
                str(customers),
                "--months",
                str(MONTHS),
                "--out",
                str(wh),
            ],
            check=True,
        )
    return wh


def bank_params(folder: Path) -> Path:
    """``folder`` holding the project's ``params/bank.yaml``, as a bench bank's parameters."""
    folder.mkdir(exist_ok=True)
    (folder / "bank.yaml").write_bytes((ROOT / "params" / "bank.yaml").read_bytes())
    return folder


def rows(wh: Path) -> tuple[int, int]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return (
            con.execute("SELECT count(*) FROM customers").fetchone()[0],
            con.execute("SELECT count(*) FROM transactions").fetchone()[0],
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="30,100,300", help="branches per size (default 30,100,300)")
    ap.add_argument(
        "--memory", help="BRANCHBOOK_DUCKDB_MEMORY for the runs (default: the project's)"
    )
    ap.add_argument(
        "--bound-mb", type=float, default=4096, help="peak RSS allowed (default 4096 MB)"
    )
    args = ap.parse_args()
    env = dict(os.environ)
    if args.memory:
        env["BRANCHBOOK_DUCKDB_MEMORY"] = args.memory
    results = []
    print(
        f"{'branches':>8} {'customers':>10} {'transactions':>13} {'wall s':>7} {'peak MB':>8} "
        f"{'s/M tx':>7} {'MB/M tx':>8}"
    )
    for branches in (int(b) for b in args.sizes.split(",")):
        wh = warehouse_for(branches)
        customers, transactions = rows(wh)
        work = wh.parent
        params = bank_params(work / "params")
        cmd = [
            _tool("branchbook"),
            "prepare",
            "--force",
            "--warehouse",
            str(wh),
            "--params",
            str(params),
            "--build",
            str(work / "build"),
        ]
        with Meter() as meter:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        mtx = transactions / 1e6
        results.append((transactions, meter.peak / MB))
        print(
            f"{branches:>8} {customers:>10,} {transactions:>13,} {meter.wall:>7.1f} {meter.peak / MB:>8,.0f} "
            f"{meter.wall / mtx:>7.2f} {meter.peak / MB / mtx:>8.1f}",
            flush=True,
        )
        time.sleep(1)
    transactions, peak = max(results)
    verdict = "ok" if peak <= args.bound_mb else "EXCEEDED"
    print(
        f"prepare: peak {peak:,.0f} MB at {transactions:,} transactions, bound {args.bound_mb:,.0f} MB: {verdict}"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
