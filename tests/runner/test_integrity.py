"""A wrong number never leaves with exit 0: formats of a report agree, one run at a time
per report folder, nothing published after a signal, never written through a link.

Each test drives the real run (library or command) on the session's small bank.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from branchbook.runner import guard
from branchbook.runner.orchestrate import run

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2026-10"


def _library(small_bank: Path, tmp_path: Path, **kwargs) -> dict:
    return dict(
        period=PERIOD,
        branches=["0101"],
        reports=["segmentation"],
        warehouse=small_bank / "build" / "demo" / "warehouse.duckdb",
        params_dir=small_bank / "params",
        build_dir=tmp_path / "build",
        out=tmp_path / "reports",
        progress=False,
        **kwargs,
    )


def _command(small_bank: Path, tmp_path: Path, *args: str) -> list[str]:
    if not (tmp_path / "build").exists():  # the prepared period, copied (runs write there)
        shutil.copytree(small_bank / "build", tmp_path / "build")
    return [
        sys.executable,
        "-m",
        "branchbook.cli",
        "run",
        "--period",
        PERIOD,
        "--warehouse",
        str(small_bank / "build" / "demo" / "warehouse.duckdb"),
        "--params",
        str(small_bank / "params"),
        "--build",
        str(tmp_path / "build"),
        "--out",
        str(tmp_path / "reports"),
        "--no-progress",
        *args,
    ]


def _on_disk(period_dir: Path) -> dict[str, str]:
    """Every published report file under ``period_dir``: path -> SHA-256."""
    return {
        str(p.relative_to(period_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(period_dir.glob("*/*"))
        if p.suffix in (".html", ".pdf", ".xlsx")
    }


def _listed(period_dir: Path) -> dict[str, str]:
    """Every file the manifest lists as published: path -> SHA-256."""
    manifest = json.loads((period_dir / "manifest.json").read_text())
    return {
        item["path"]: item["sha256"]
        for entry in manifest["reports"].values()
        if entry["status"] == "ok"
        for item in entry["outputs"].values()
    }


def test_html_only_after_html_and_pdf_leaves_no_old_pdf_published(small_bank, tmp_path):
    first = run(**_library(small_bank, tmp_path, formats=("html", "pdf")))
    assert first.exit_code == 0
    period_dir = tmp_path / "reports" / PERIOD
    assert (period_dir / "0101" / "segmentation.pdf").is_file()
    again = run(**_library(small_bank, tmp_path, formats=("html",), force=True))
    assert again.exit_code == 0
    assert not (period_dir / "0101" / "segmentation.pdf").exists()
    assert _on_disk(period_dir) == _listed(period_dir)
    # the report and its action-list workbook; no PDF
    assert set(_listed(period_dir)) == {"0101/segmentation.html", "0101/segmentation.xlsx"}
    soup = BeautifulSoup((period_dir / "index.html").read_text(), "html.parser")
    assert {a["href"] for a in soup.select("#bb-index a")} == set(_listed(period_dir))
    # and back: a run that asks for the PDF again makes it, not "up to date"
    third = run(**_library(small_bank, tmp_path, formats=("html", "pdf")))
    assert not third.entries["0101/segmentation"].get("skipped_unchanged")
    assert set(_listed(period_dir)) == {
        "0101/segmentation.html",
        "0101/segmentation.pdf",
        "0101/segmentation.xlsx",
    }
    assert _on_disk(period_dir) == _listed(period_dir)


def test_a_second_run_on_a_folder_is_refused_or_waits(small_bank, tmp_path):
    cmd = _command(small_bank, tmp_path, "--branches", "0101", "--reports", "segmentation")
    cmd += ["--formats", "html"]
    (tmp_path / "reports").mkdir()
    lock = guard.FolderLock(tmp_path / "reports").__enter__()  # another run holds the folder
    try:
        busy = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert busy.returncode == guard.EXIT_BUSY, busy.stderr
        assert busy.stderr.startswith(f"branchbook: busy: {tmp_path / 'reports'}: another run")
        assert len(busy.stderr.strip().splitlines()) == 1, busy.stderr
        waiting = subprocess.Popen(
            [*cmd, "--wait-lock"], stderr=subprocess.PIPE, text=True, cwd=tmp_path
        )
        time.sleep(8)
        assert waiting.poll() is None
        assert not (tmp_path / "reports" / PERIOD).exists()  # nothing written meanwhile
    finally:
        lock.__exit__(None, None, None)
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err[-2000:]
    assert "waiting for another run" in err
    assert _listed(tmp_path / "reports" / PERIOD) == _on_disk(tmp_path / "reports" / PERIOD)


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_after_a_signal_nothing_more_is_published_and_the_manifest_is_true(
    small_bank, tmp_path, sig, code
):
    cmd = _command(small_bank, tmp_path, "--formats", "html", "--workers", "2")
    # as an operator's shell starts it: SIGINT not ignored (a suite launched in the
    # background by a non-interactive shell inherits SIGINT ignored, and Python keeps
    # ignoring a signal it starts with ignored)
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, text=True, cwd=tmp_path, preexec_fn=_default_signals
    )
    period_dir = tmp_path / "reports" / PERIOD
    deadline = time.time() + 300
    while time.time() < deadline and not (period_dir / "manifest.json").exists():
        time.sleep(0.1)
    assert (period_dir / "manifest.json").exists(), "no report finished in time"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("branchbook: ") and "nothing more was published" in last
    at_exit = _on_disk(period_dir)
    time.sleep(6)  # reports killed mid-way are not retried and published afterwards
    assert _on_disk(period_dir) == at_exit
    assert _listed(period_dir) == at_exit
    assert 0 < len(at_exit) < 8  # stopped part-way, with something done
    soup = BeautifulSoup((period_dir / "index.html").read_text(), "html.parser")
    assert sorted(a["href"] for a in soup.select("#bb-index a")) == sorted(at_exit)


def test_a_branch_folder_linked_elsewhere_is_refused_with_exit_3(small_bank, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "reports" / PERIOD).mkdir(parents=True)
    link = tmp_path / "reports" / PERIOD / "0101"
    link.symlink_to(outside, target_is_directory=True)
    cmd = _command(small_bank, tmp_path, "--branches", "0101", "--formats", "html")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"branchbook: {link} is a symbolic link; reports are never written through a link "
        f"out of {tmp_path / 'reports'} (replace it with a folder)"
    )
    assert list(outside.iterdir()) == []
