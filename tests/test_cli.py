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
        (
            ["run", "--scopes", "branch,district"],
            "argument --scopes: scopes is expected to be "
            "some of (branch, region, bank). Got 'district' instead.",
        ),
        (["run", "--no-such-option"], "unrecognized arguments: --no-such-option"),
        (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
        (
            ["run", "--locales", "zh-CN,fr"],
            "argument --locales: expected one or more of (en, zh-CN), comma-separated, "
            "each once; got 'zh-CN,fr' ('fr' not supported)",
        ),
        (["run", "--locales", "en,zh-CN,en"], "got 'en,zh-CN,en' ('en' given twice)"),
        (["run", "--locales", ""], "argument --locales: expected one or more of (en, zh-CN)"),
        (
            ["preview", "--branch", "0101", "--report", "risk", "--locale", "fr"],
            "argument --locale: expected one of (en, zh-CN); got 'fr'",
        ),
    ],
)
def test_a_bad_option_is_one_line_with_exit_2(tmp_path, args, says):
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert says in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _bad_input_cases():
    """(name, extra arguments given the test's folder, expected exit, expected last line)"""
    return [
        ("out is a file", ["--out", "{t}/afile"], 2, "branchbook: --out {t}/afile: {t}/afile is not a folder; --out must be a folder the run can create or write"),
        ("out under a file", ["--out", "{t}/afile/reports"], 2, "branchbook: --out {t}/afile/reports: {t}/afile is not a folder; --out must be a folder the run can create or write"),
        ("build is a file", ["--build", "{t}/afile"], 2, "branchbook: --build {t}/afile: {t}/afile is not a folder; --build must be a folder the run can create or write"),
        ("params missing", ["--params", "{t}/nope"], 2, "branchbook: refused: --params {t}/nope: no such folder; it must hold bank.yaml (and branches/)"),
        ("params is a file", ["--params", "{t}/afile"], 2, "branchbook: refused: --params {t}/afile: not a folder; it must hold bank.yaml (and branches/)"),
        ("params without bank.yaml", ["--params", "{t}/emptyparams"], 2, "branchbook: refused: {t}/emptyparams/bank.yaml: file not found (the bank's defaults are required)"),
        ("empty out", ["--out", ""], 2, "branchbook run: error: argument --out: expected a path, got an empty value (omit the option for the default) (see branchbook run --help)"),
        ("manifest not an object", ["--manifest", "[1, 2]"], 2, "branchbook: {t}/reports/2026-10/manifest.json: not a manifest; a manifest is a JSON object whose 'reports' maps branch/report to objects; move it away to start a new one"),
        ("manifest not JSON", ["--manifest", '{"reports": {'], 2, "branchbook: {t}/reports/2026-10/manifest.json: not JSON (Expecting property name enclosed in double quotes: line 1 column 14 (char 13)); a manifest is a JSON object whose 'reports' maps branch/report to objects; move it away to start a new one"),
        ("period folder is a file", ["--period-file"], 3, "branchbook: {t}/reports/2026-10 is not a folder; reports are written into folders"),
        ("unknown branch", ["--branches", "9999"], 2, "branchbook: refused: branch(es) '9999' not in the warehouse's branches table"),
        ("period without data", ["--period", "2031-01"], 2, "branchbook: refused: period 2031-01 has no data in the warehouse (balances cover 2025-10 to 2026-10)"),
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, extra, code, says", _bad_input_cases(), ids=[c[0] for c in _bad_input_cases()]
)
def test_bad_input_is_one_line_naming_the_option_and_the_rule(
    small_bank, tmp_path, name, extra, code, says
):
    import shutil

    (tmp_path / "afile").write_text("x")
    (tmp_path / "emptyparams").mkdir()
    shutil.copytree(small_bank / "build", tmp_path / "build")
    options = {
        "--period": "2026-10",
        "--branches": "0101",
        "--reports": "segmentation",
        "--formats": "html",
        "--warehouse": str(small_bank / "build" / "demo" / "warehouse.duckdb"),
        "--params": str(small_bank / "params"),
        "--build": str(tmp_path / "build"),
        "--out": str(tmp_path / "reports"),
    }
    if extra[0] == "--manifest":
        (tmp_path / "reports" / "2026-10").mkdir(parents=True)
        (tmp_path / "reports" / "2026-10" / "manifest.json").write_text(extra[1])
    elif extra[0] == "--period-file":
        (tmp_path / "reports").mkdir()
        (tmp_path / "reports" / "2026-10").write_text("")
    else:
        options[extra[0]] = extra[1].format(t=tmp_path)
    args = [a for kv in options.items() for a in kv]
    proc = _cli("run", *args, "--no-progress", cwd=tmp_path)
    lines = [ln for ln in proc.stderr.strip().splitlines() if " INFO " not in ln]
    assert proc.returncode == code, proc.stderr
    assert lines == [says.format(t=tmp_path)], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_prepare_with_a_build_folder_that_is_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("x")
    proc = _cli("prepare", "--period", "2026-10", "--build", str(tmp_path / "afile"), cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"branchbook: --build {tmp_path / 'afile'}: {tmp_path / 'afile'} is not a folder; "
        "--build must be a folder the run can create or write"
    ]


def test_run_makes_every_level_by_default_and_branch_is_the_old_behaviour():
    """``branchbook run`` makes each report for the branches, their regions and the bank
    unless told ``--scopes branch``; ``preview`` makes the one branch's report only."""
    from branchbook.cli import parser

    args = parser().parse_args(["run"])
    assert args.scopes == ("branch", "region", "bank")
    assert parser().parse_args(["run", "--scopes", "branch"]).scopes == ("branch",)
    source = (ROOT / "lib" / "branchbook" / "cli.py").read_text(encoding="utf-8")
    preview = source[source.index('if args.command == "preview"') :]
    assert 'scopes=("branch",)' in preview[: preview.index('if args.command == "run"')]


def test_duckdb_out_of_memory_is_one_line_naming_the_limit_and_the_setting(monkeypatch, capsys):
    """Not a traceback: the operator's fix is a larger limit on a machine that has it."""
    import duckdb

    from branchbook import cli

    def short_of_memory(args):
        raise duckdb.OutOfMemoryException("failed to pin block of size 256.0 KiB")

    monkeypatch.setattr(cli, "_dispatch", short_of_memory)
    monkeypatch.setenv("BRANCHBOOK_DUCKDB_MEMORY", "2GB")
    assert cli.main(["prepare"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "ran out of memory under its limit of 2GB (BRANCHBOOK_DUCKDB_MEMORY)" in err
    assert "BRANCHBOOK_DUCKDB_MEMORY=8GB" in err
