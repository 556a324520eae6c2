"""The run's pack step: made when a branch's four reports are published, kept while
nothing it is made from changed, removed when a report is missing, never after a stop."""

from __future__ import annotations

import hashlib

from branchbook.output import pack
from branchbook.reports import REPORTS
from branchbook.runner import packs
from branchbook.runner.guard import Stop
from branchbook.runner.manifest import Manifest

BRANCH = {"locale": "en", "bank_name": "Demo Bank", "classification": "Internal",
          "info": {"branch_id": "0101", "name": "Pudong"}}  # fmt: skip


def published(out_dir, failed=()):
    folder = out_dir / "0101"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(out_dir / "manifest.json", "2026-10", "run-1")
    for report in REPORTS:
        outputs = {}
        for kind in ("html", "pdf"):
            data = f"{report}.{kind}".encode()
            (folder / f"{report}.{kind}").write_bytes(data)
            outputs[kind] = {
                "path": f"0101/{report}.{kind}",
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        manifest.put(
            f"0101/{report}",
            {
                "branch_id": "0101",
                "report": report,
                "status": "failed" if report in failed else "ok",
                "outputs": outputs,
                "brief": {"title": report},
            },
        )
    return manifest


def fake_pack(calls):
    def make(period_dir, bid, entries, **kw):
        calls.append(bid)
        return b"%PDF pack " + str(len(calls)).encode(), {"cover": 2, **dict.fromkeys(REPORTS, 3)}

    return make


def test_a_pack_is_made_recorded_and_kept_while_unchanged(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pack, "make_pack", fake_pack(calls))
    manifest = published(tmp_path)
    done = packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=Stop())
    entry = done["0101"]
    assert entry["status"] == "ok" and entry["pages"]["cover"] == 2
    assert entry["outputs"]["pdf"]["path"] == "0101/pack.pdf"
    assert (tmp_path / "0101" / "pack.pdf").read_bytes() == b"%PDF pack 1"
    assert Manifest(tmp_path / "manifest.json", "2026-10", "r").data["packs"]["0101"] == entry
    # nothing changed: kept as it is
    packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=Stop())
    assert calls == ["0101"]
    # a report made again (its PDF changed): the pack is made again
    (tmp_path / "0101" / "risk.pdf").write_bytes(b"new")
    manifest.data["reports"]["0101/risk"]["outputs"]["pdf"]["sha256"] = hashlib.sha256(
        b"new"
    ).hexdigest()
    packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=Stop())
    assert calls == ["0101", "0101"]
    assert (tmp_path / "0101" / "pack.pdf").read_bytes() == b"%PDF pack 2"


def test_a_branch_with_a_failed_report_has_no_pack(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pack, "make_pack", fake_pack(calls))
    manifest = published(tmp_path)
    packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=Stop())
    manifest.data["reports"]["0101/risk"]["status"] = "failed"
    done = packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=Stop())
    assert done["0101"] == {"status": "missing", "missing": ["risk"]}
    assert not (tmp_path / "0101" / "pack.pdf").exists()  # the earlier pack is gone
    assert manifest.data["packs"]["0101"]["missing"] == ["risk"]


def test_nothing_is_published_after_a_stop(tmp_path, monkeypatch):
    monkeypatch.setattr(pack, "make_pack", fake_pack([]))
    manifest = published(tmp_path)
    stop = Stop()
    stop.set()
    assert packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=stop) == {}
    assert not (tmp_path / "0101" / "pack.pdf").exists()
    assert "packs" not in manifest.data
