"""A report's kernel: an environment without secrets, its arguments, the time limit's kill."""

from __future__ import annotations

from branchbook import speedups
from branchbook.runner import kernels


def test_the_kernel_gets_no_warehouse_url_and_no_secret():
    env = kernels.kernel_environment(
        {
            "BRANCHBOOK_WAREHOUSE_URL": "postgresql://u:pw@db/bank",
            "PGPASSWORD": "pw",
            "API_TOKEN": "t",
            "aws_secret_access_key": "k",
            "HOME": "/home/report",
            "LANG": "zh_CN.UTF-8",
        }
    )
    assert env == {"HOME": "/home/report", "LANG": "zh_CN.UTF-8"}


def test_kernels_keep_no_history_and_quiet_streams_follow_the_switch(monkeypatch):
    monkeypatch.setenv(speedups.SWITCH, "1")
    assert kernels.kernel_arguments() == (*kernels.KERNEL_ARGUMENTS, kernels.QUIET_STREAMS)
    assert "--HistoryManager.enabled=False" in kernels.KERNEL_ARGUMENTS
    monkeypatch.setenv(speedups.SWITCH, "0")
    assert kernels.kernel_arguments() == kernels.KERNEL_ARGUMENTS


def test_nothing_to_kill_on_a_thread_that_runs_no_report():
    assert kernels.kill_report(-1) is False


def test_the_kernel_folder_is_private_and_the_same_for_the_run():
    import os
    import stat

    folder = kernels.kernel_folder()
    assert folder == kernels.kernel_folder()
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
