"""The ``branchbook`` command's way out: exit code, exit handlers and output kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LEAVE = """
import atexit, sys, threading, time
from branchbook.cli import leave
atexit.register(lambda: print("handler ran", file=sys.stderr))
if sys.argv[1] == "thread":
    def finish():
        time.sleep(0.5)
        print("thread finished", file=sys.stderr)
    threading.Thread(target=finish).start()
print("x" * 100_000, end="")  # more than a pipe's buffer: must be flushed, not lost
leave(3)
"""


def _leave(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", LEAVE, mode], capture_output=True, text=True, timeout=60
    )


def test_leave_runs_the_exit_handlers_and_keeps_the_output():
    done = _leave("alone")
    assert done.returncode == 3
    assert done.stdout == "x" * 100_000
    assert done.stderr == "handler ran\n"


def test_leave_waits_for_a_thread_still_running():
    done = _leave("thread")
    assert done.returncode == 3
    assert done.stdout == "x" * 100_000
    assert done.stderr == "thread finished\nhandler ran\n"


@pytest.mark.slow
def test_the_command_exits_with_mains_code_and_message(tmp_path):
    missing = tmp_path / "missing.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "branchbook.cli",
            "run",
            "--warehouse",
            missing,
            "--out",
            tmp_path / "out",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"branchbook: refused: warehouse not found: {missing}")
    assert not (tmp_path / "out").exists()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, says",
    [
        (["run", "--workers", "0"], "argument --workers: expected 1 to 64, got 0"),
        (["run", "--workers", "-1"], "argument --workers: expected 1 to 64, got -1"),
        (["run", "--workers", "1000"], "argument --workers: expected 1 to 64, got 1000"),
        (["run", "--workers", "two"], "argument --workers: expected a whole number, got 'two'"),
        (["run", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
    ],
)
def test_a_bad_option_is_one_line_with_exit_2(tmp_path, args, says):
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
