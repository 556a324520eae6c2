"""A fake published period: what the delivery and the portal read.

The folder is hand-built (both read only the manifest and the files): three branches
in two regions, two reports each, and in every file and headline a marker naming its
branch (``MARK-0101``), so a test can check that nothing carries another branch's data.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

from branchbook.deliver.access import Org

PERIOD = "2026-10"
ORG = Org({"0101": "East", "0102": "East", "0201": "North"})
REPORTS = ("risk", "staff_kpi")
SCOPE_FOLDERS = ("region-East", "region-North", "bank")


def publish(
    root: Path,
    *,
    npl: dict[str, float] | None = None,
    pdf_bytes: int = 2000,
    run_id: str = "r1",
    english: bool = False,
    packs: bool = False,
    scopes: bool = False,
) -> Path:
    """Write ``root/2026-10`` with a manifest, HTML and PDF per branch and report; with
    ``english`` each also in English beside its own zh-CN (``risk.en.html``, key
    ``0101/risk.en``), as ``run --locales zh-CN,en`` publishes them; with ``packs`` a
    branch pack (``0101/pack.pdf``) per branch holding its reports; with ``scopes`` each
    region's and the bank's reports too (``region-East/risk``, ``bank/risk``), their
    markers ``MARK-region-East``, ``MARK-bank``."""
    folder = root / PERIOD
    entries = {}
    locales = {"zh-CN": "", "en": ".en"} if english else {None: ""}
    for branch in ORG.regions:
        for report in REPORTS:
            for locale, infix in locales.items():
                entries.update(_one(folder, branch, report, locale, infix, npl, pdf_bytes, run_id))
    for unit in SCOPE_FOLDERS if scopes else ():
        for report in REPORTS:
            entries.update(_one(folder, unit, report, None, "", npl, pdf_bytes, run_id))
    manifest = {"period": PERIOD, "run_id": run_id, "reports": entries}
    if packs:
        manifest["packs"] = {b: _pack(folder, b) for b in ORG.regions}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def _one(folder, branch, report, locale, infix, npl, pdf_bytes, run_id) -> dict:
    """One report of one branch in one locale (None: no locale recorded, as before)."""
    (folder / branch).mkdir(parents=True, exist_ok=True)
    value = (npl or {}).get(branch, 0.012)
    words = "English sentence" if infix else "Sentence"
    html = (
        f"<html><body><h1>MARK-{branch} {report}</h1><section class='bb-summary'>"
        f"<h2>Summary</h2><ul><li>{words} of MARK-{branch} {report}.</li>"
        f"<li>NPL is {value:.1%}<br>here.</li></ul></section>"
        f"<footer class='bb-provenance'>Run {run_id}</footer></body></html>"
    )
    pdf = f"%PDF-1.4 MARK-{branch} {report} {run_id} ".encode().ljust(pdf_bytes, b"x")
    outputs = {}
    for fmt, data in (("html", html.encode()), ("pdf", pdf)):
        rel = f"{branch}/{report}{infix}.{fmt}"
        (folder / rel).write_bytes(data)
        outputs[fmt] = {
            "path": rel,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
    status = "red" if value > 0.03 else "green"
    return {
        f"{branch}/{report}{infix}": {
            "branch_id": branch,
            "report": report,
            **({"locale": locale, "stem": f"{report}{infix}"} if locale else {}),
            "status": "ok",
            "outputs": outputs,
            "input_fingerprint": f"data-{value}",
            "headline": {
                "npl_ratio": {
                    "label": f"NPL ratio MARK-{branch}",
                    "status": status,
                    "text": f"{value:.1%}",
                    "value": value,
                }
            },
        }
    }


def _pack(folder: Path, branch: str) -> dict:
    data = f"%PDF-1.7 pack MARK-{branch}".encode()
    (folder / branch / "pack.pdf").write_bytes(data)
    pdf = {"path": f"{branch}/pack.pdf", "sha256": hashlib.sha256(data).hexdigest()}
    pages = {"cover": 2, **dict.fromkeys(REPORTS, 3)}
    return {"status": "ok", "pages": pages, "outputs": {"pdf": {**pdf, "bytes": len(data)}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ACCESS = """\
smtp:
  host: 127.0.0.1
  port: {port}
  sender: reports@bank.example
  ca_file: {ca}
  timeout_s: 5
  attempts: {attempts}
  backoff_s: 0
delivery:
  portal_url: https://reports.bank.example/
  attach_limit_mb: {limit}
  thresholds:
    risk.npl_ratio:
      above: 0.025
people:
  - id: li.wei
    name: 李伟
    email: li.wei@bank.example
    locale: zh-CN
    units: [branch:0101]
    alerts: true
  - id: anna.north
    name: Anna North
    email: anna@bank.example
    locale: en
    units: [region:North]
    reports: [risk]
    alerts: true
  - id: audit
    name: Internal Audit
    email: audit@bank.example
    units: [bank]
    formats: [pdf, html]
"""


def write_access(params: Path, *, port=25, ca="null", attempts=2, limit=5.0) -> Path:
    params.mkdir(parents=True, exist_ok=True)
    path = params / "access.yaml"
    path.write_text(ACCESS.format(port=port, ca=ca, attempts=attempts, limit=limit))
    return path


def setup_period(tmp_path: Path, *, limit: float = 5.0, **kw):
    """``(access list, published)`` of a fake period under ``tmp_path``."""
    from branchbook.deliver import access, published

    write_access(tmp_path / "params", limit=limit)
    publish(tmp_path / "reports", **kw)
    return access.load(tmp_path / "params", ORG), published.read(tmp_path / "reports", PERIOD)
