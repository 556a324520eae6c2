"""The benchmark's bookkeeping: which run stands for a mode, and what the table shows.

The benchmark itself is run by ``make bench``, never by the tests (no timings here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def result(bench, wall: float, **kw):
    base = dict(
        mode="branchbook",
        wall=wall,
        peak=2 * bench.MB,
        cpu=wall * 1.9,
        others=0.0,
        load=(0.1, 0.1, 0.1),
        reports=48,
    )
    return bench.Result(**{**base, **kw})


def test_the_median_run_stands_for_the_mode_and_keeps_every_failure(bench):
    runs = [
        result(bench, 73.6, failed=["0101/risk: boom"]),
        result(bench, 69.5, left=1),
        result(bench, 70.9, notes=["prepared again"]),
    ]
    chosen = bench.median_run(runs)
    assert chosen.wall == 70.9
    assert chosen.cpu == pytest.approx(70.9 * 1.9)  # the numbers of that one run
    assert chosen.failed == ["0101/risk: boom"] and chosen.left == 1
    assert chosen.notes == ["prepared again"]
    assert bench.median_run(runs[:2]).wall == 69.5  # even: the lower middle run
    assert bench.median_run(runs[1:2]) is runs[1]


def test_naive_runs_once_the_fast_modes_as_often_as_asked(bench):
    assert bench.repeats("naive", 3) == 1
    assert bench.repeats("branchbook", 3) == 3 and bench.repeats("floor", 3) == 3
    assert bench.repeats("branchbook", 0) == 1


def test_the_table_shows_every_run_and_the_median_it_counts(bench):
    runs = [result(bench, 73.6), result(bench, 69.5), result(bench, 70.9)]
    naive = result(bench, 760.0, mode="naive", cpu=700.0)
    lines = bench.table(
        {"naive": naive, "branchbook": bench.median_run(runs)},
        {"naive": [naive], "branchbook": runs},
    )
    assert lines[1].split()[:2] == ["naive", "760.0"]
    assert [ln.split()[2] for ln in lines[2:5]] == ["73.6", "69.5", "70.9"]
    last = lines[5]
    assert last.split()[:3] == ["branchbook", "70.9", "1.48"]
    assert last.endswith("median of 3 runs (73.6, 69.5, 70.9 s)")
    assert bench._ratio(naive, bench.median_run(runs)) == "10.72"


def test_naive_is_cut_into_consecutive_parts_of_near_equal_size(bench):
    pairs = [(b, r) for b in ("0101", "0102", "0103", "0104") for r in ("risk", "kpi", "seg")]
    parts = bench.split_parts(pairs, 5)
    assert [len(p) for p in parts] == [3, 3, 2, 2, 2]
    assert [x for p in parts for x in p] == pairs  # every report once, in naive's order
    assert bench.split_parts(pairs[:2], 3) == [[pairs[0]], [pairs[1]]]  # never an empty part
    assert bench.split_parts(pairs, 1) == [pairs]


def test_naive_made_in_parts_counts_as_one_run(bench):
    parts = [
        result(bench, 200.0, mode="naive", cpu=210.0, peak=500 * bench.MB, reports=16, others=0.1),
        result(
            bench,
            300.0,
            mode="naive",
            cpu=290.0,
            peak=560 * bench.MB,
            reports=16,
            others=0.2,
            failed=["0203/risk: papermill: boom"],
            left=1,
            notes=["n"],
        ),
        result(bench, 250.0, mode="naive", cpu=240.0, peak=520 * bench.MB, reports=16),
    ]
    whole = bench.joined(parts)
    assert (whole.wall, whole.cpu, whole.reports) == (750.0, 740.0, 48)
    assert whole.peak == 560 * bench.MB  # the highest, not the sum: parts never overlap
    assert whole.others == pytest.approx((200 * 0.1 + 300 * 0.2) / 750)
    assert whole.failed == ["0203/risk: papermill: boom"] and whole.left == 1
    assert whole.notes == ["n"]
    lines = bench.table({"naive": whole}, {"naive": parts})
    assert [ln.split()[:3] for ln in lines[1:4]] == [
        ["part", "1", "200.0"],
        ["part", "2", "300.0"],
        ["part", "3", "250.0"],
    ]
    assert lines[4].split()[:3] == ["naive", "750.0", "15.62"]
    assert lines[4].endswith("3 parts, one a round, added")


def test_a_sampled_naive_is_scaled_to_every_branch(bench):
    scope = type("Scope", (), {"branches": ["a", "b", "c", "d"], "n": 16})()
    timed = result(bench, 100.0, mode="naive", cpu=90.0, reports=8)
    scaled = bench.extrapolated(timed, scope, 2)
    assert (scaled.wall, scaled.cpu, scaled.reports, scaled.sample) == (200.0, 180.0, 16, 2)
    assert bench.extrapolated(timed, scope, None) is timed
