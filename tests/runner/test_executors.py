"""Where reports are made: the progress they report, a fork server only when wanted."""

from __future__ import annotations

import logging

from branchbook.runner import executors


def test_progress_is_one_log_line_a_report_off_a_terminal(caplog):
    caplog.set_level("INFO", logger="branchbook.run")
    step = executors.progress_steps(2, False)
    step("0101/risk ok (1.0s)")
    step("0102/risk ok (2.0s)")
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines == ["[1/2] 0101/risk ok (1.0s)", "[2/2] 0102/risk ok (2.0s)"]


def test_no_fork_server_when_it_is_not_wanted(tmp_path, monkeypatch):
    assert executors.start_fork_server(False, (), tmp_path) is None
    monkeypatch.setenv("BRANCHBOOK_WARM", "0")
    assert executors.start_fork_server(None, (), tmp_path) is None
    assert executors.ready_server(None) is None
