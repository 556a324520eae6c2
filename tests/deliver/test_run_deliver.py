"""`branchbook run --deliver` on a small demo bank, through a real SMTP server: the
summary sentences come from the real published HTML, the PDFs are the real ones, and
a second `branchbook deliver` sends nothing."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from branchbook.deliver.access import org_from_warehouse
from branchbook.deliver.published import summary_sentences

from .conftest import PASSWORD, USER

pytestmark = pytest.mark.slow

ACCESS = """\
smtp: {{host: 127.0.0.1, port: {port}, sender: reports@bank.example, ca_file: {ca}, backoff_s: 0}}
people:
  - {{id: manager, name: 王经理, email: manager@bank.example, locale: zh-CN,
      units: ["branch:{branch}"], reports: [risk]}}
  - {{id: audit, name: Audit, email: audit@bank.example, units: [bank], reports: [risk]}}
"""


def _cli(*args, cwd):
    env = {
        **os.environ,
        "BRANCHBOOK_SMTP_USER": USER,
        "BRANCHBOOK_SMTP_PASSWORD": PASSWORD,
        "BRANCHBOOK_ROOT": str(cwd),
    }
    return subprocess.run(
        [sys.executable, "-m", "branchbook.cli", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_run_then_deliver_the_real_reports(small_bank, tmp_path, smtp_server, tls_files):
    root = tmp_path / "bank"
    shutil.copytree(small_bank, root)
    warehouse = root / "build" / "demo" / "warehouse.duckdb"
    org = org_from_warehouse(warehouse)
    branch, other = sorted(org.regions)[:2]
    (root / "params" / "access.yaml").write_text(
        ACCESS.format(port=smtp_server.port, ca=tls_files[0], branch=branch)
    )
    run = _cli(
        "run", "--period", "2026-10", "--reports", "risk", "--formats", "html,pdf",
        "--no-progress", "--warehouse", str(warehouse), "--deliver", cwd=root,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert PASSWORD not in run.stderr
    [manager] = smtp_server.by_recipient("manager@bank.example")
    assert manager["Subject"] == f"分支机构报告 · 2026年10月 · {branch}"
    body = manager.get_body(("plain",)).get_content()
    published = root / "reports" / "2026-10"
    sentences = summary_sentences((published / branch / "risk.html").read_text())
    assert sentences and all(s in body for s in sentences)
    entry = json.loads((published / "manifest.json").read_text())["reports"][f"{branch}/risk"]
    assert all(k["text"] in body for k in entry["headline"].values())
    others = summary_sentences((published / other / "risk.html").read_text())
    assert not any(s in body for s in others if s not in sentences)
    [pdf] = manager.iter_attachments()
    assert pdf.get_content() == (published / branch / "risk.pdf").read_bytes()
    [audit] = smtp_server.by_recipient("audit@bank.example")
    # head office: every branch's risk report, every region's and the bank's (the run's
    # default makes all three levels); the manager none of the region's or the bank's
    regions = set(org.regions.values())
    assert len(list(audit.iter_attachments())) == len(org.regions) + len(regions) + 1

    again = _cli("deliver", "--period", "2026-10", "--warehouse", str(warehouse), cwd=root)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 message(s), 0 failed" in again.stderr
    assert len(smtp_server.messages) == 2
