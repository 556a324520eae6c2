"""One run at a time per report folder, nothing published after a stop, folders checked
before anything runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from branchbook.errors import BranchbookError, ParamsError
from branchbook.runner import guard


def test_a_second_lock_on_a_folder_is_refused_naming_the_folder_and_holder(tmp_path):
    with guard.FolderLock(tmp_path):
        with pytest.raises(guard.FolderBusy) as caught:
            guard.FolderLock(tmp_path).__enter__()
    message = str(caught.value)
    assert message.startswith(f"{tmp_path}: another run (pid {os.getpid()}, started ")
    assert "--wait-lock" in message and "\n" not in message
    with guard.FolderLock(tmp_path):  # released: free again
        pass


def test_a_waiting_run_gets_the_lock_when_the_first_ends(tmp_path):
    first = guard.FolderLock(tmp_path).__enter__()
    got = threading.Event()

    def second():
        with guard.FolderLock(tmp_path, wait=True):
            got.set()

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.3)
    assert not got.is_set()  # still waiting
    first.__exit__(None, None, None)
    t.join(5)
    assert got.is_set()


@pytest.mark.slow
def test_a_killed_run_does_not_leave_the_lock_held(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from branchbook.runner import guard;"
            f"guard.FolderLock(Path({str(tmp_path)!r})).__enter__(); print('held', flush=True);"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(guard.FolderBusy):
        guard.FolderLock(tmp_path).__enter__()
    holder.kill()  # SIGKILL: no chance to clean up
    holder.wait()
    with guard.FolderLock(tmp_path):
        pass


def test_a_lock_file_removed_while_waiting_is_not_trusted(tmp_path):
    # tidy() may remove a refused run's folder with its lock file: a run that waited on
    # the old file must not think it holds the folder
    first = guard.FolderLock(tmp_path).__enter__()
    done = threading.Event()

    def second():
        with guard.FolderLock(tmp_path, wait=True):
            done.set()
            time.sleep(0.3)

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.2)
    (tmp_path / guard.LOCK_NAME).unlink()
    first.__exit__(None, None, None)
    t.join(5)
    assert done.is_set() and (tmp_path / guard.LOCK_NAME).exists()


def test_nothing_is_published_once_the_run_stops_and_a_publish_under_way_finishes():
    stop = guard.Stop()
    with stop.publishing() as go:
        assert go
        stopper = threading.Thread(target=stop.set)
        stopper.start()
        time.sleep(0.1)
        assert not stop.is_set()  # the stop waits for the publish under way
    stopper.join(5)
    assert stop.is_set()
    with stop.publishing() as go:
        assert not go


def test_held_signals_act_after_the_block():
    seen = []
    old = signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # untouched by held_signals
    previous = signal.signal(signal.SIGTERM, lambda s, f: seen.append("term"))
    try:
        with guard.held_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            assert seen == []
        assert seen == ["term"]
        with guard.held_signals(swallow=True):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
        assert seen == ["term"]
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGUSR1, old)


@pytest.mark.parametrize("option", ["--out", "--build"])
def test_a_folder_that_is_a_file_is_refused_before_any_folder_is_made(tmp_path, option):
    (tmp_path / "afile").write_text("x")
    out, build = tmp_path / "out", tmp_path / "build"
    if option == "--out":
        out = tmp_path / "afile" / "reports"
    else:
        build = tmp_path / "afile"
    params = tmp_path / "params"
    params.mkdir()
    with pytest.raises(BranchbookError) as caught:
        guard.check_folders(out, build, params)
    assert str(caught.value).startswith(
        f"{option} {out if option == '--out' else build}: {tmp_path / 'afile'} is not a folder"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "params"]


def test_a_missing_parameter_folder_is_refused(tmp_path):
    with pytest.raises(ParamsError, match="--params .*nope: no such folder"):
        guard.check_folders(tmp_path / "o", tmp_path / "b", tmp_path / "nope")
    (tmp_path / "f").write_text("")
    with pytest.raises(ParamsError, match="--params .*f: not a folder"):
        guard.check_folders(tmp_path / "o", tmp_path / "b", tmp_path / "f")


def test_tidy_removes_only_the_folders_a_refused_run_made(tmp_path):
    (tmp_path / "params").mkdir()
    made = guard.check_folders(tmp_path / "a" / "out", tmp_path / "build", tmp_path / "params")
    assert made == [tmp_path / "a", tmp_path / "build"]
    (tmp_path / "a" / "out" / guard.LOCK_NAME).write_text("")
    (tmp_path / "build" / "prepare.log").write_text("kept")
    guard.tidy(made)
    assert not (tmp_path / "a").exists() and (tmp_path / "build" / "prepare.log").exists()
