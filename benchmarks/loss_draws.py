"""How many draws the risk report's simulated loss distribution needs: for some branches
of a prepared period, the spread of VaR (99.9%) over seeds and the CPU seconds of one
branch's simulation, per number of draws.

    python benchmarks/loss_draws.py --build build --period 2026-10 --branches 0101,0102
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from branchbook import risk
from branchbook.risk import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--period", required=True)
    ap.add_argument("--branches", required=True)
    ap.add_argument("--draws", default="10000,20000,50000")
    ap.add_argument("--seeds", type=int, default=8)
    a = ap.parse_args()
    prepared = Path(a.build) / a.period / "prepared"
    s = Settings()
    sc = risk.load_scorecard(pd.read_parquet(prepared / "bench" / "bench_risk_scorecard.parquet"))
    for branch in a.branches.split(","):
        loans = pd.read_parquet(prepared / "extracts" / branch / "risk_loans.parquet")
        book = risk.score_book(loans, scorecard=sc, lgd=s.lgd, ccf=s.ccf)
        for draws in (int(d) for d in a.draws.split(",")):
            var, cpu = [], []
            for seed in range(a.seeds):
                st = s.stress.model_copy(update={"seed": seed})
                t = time.process_time()
                got = risk.loss_summary(book, settings=st, draws=draws).set_index("measure")
                cpu.append(time.process_time() - t)
                var.append(got.loc["var", "value"])
            v = np.array(var)
            print(
                f"{branch} loans={len(book)} draws={draws}: VaR mean {v.mean():,.0f}, "
                f"spread over {a.seeds} seeds {v.std(ddof=1) / v.mean():.1%} (sd/mean), "
                f"CPU {np.median(cpu):.2f}s per simulation"
            )


if __name__ == "__main__":
    main()
