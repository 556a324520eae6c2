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


class FakeServer:
    """The fork server's side of the packs: ``pack`` as the renderers answer it."""

    def __init__(self, fail=(), ready=True):
        self.calls, self.fail, self.ready = [], set(fail), ready

    def wait_ready(self):
        if not self.ready:
            from branchbook.errors import NotebookRunError

            raise NotebookRunError("the fork server did not start (exit 1)")

    def pack(self, out_dir, bid, job):
        from branchbook.errors import RenderError

        self.calls.append((bid, sorted(job)))
        if bid in self.fail:
            raise RenderError("the PDF could not be made: no cover")
        return b"%PDF by a renderer", {"cover": 2, **dict.fromkeys(REPORTS, 3)}


def two_branches(tmp_path):
    manifest = published(tmp_path)
    for key in [k for k in manifest.data["reports"] if k.startswith("0101/")]:
        entry = manifest.data["reports"][key]
        data = {
            kind: (tmp_path / item["path"]).read_bytes() for kind, item in entry["outputs"].items()
        }
        (tmp_path / "0102").mkdir(exist_ok=True)
        for kind, item in entry["outputs"].items():
            (tmp_path / item["path"].replace("0101/", "0102/")).write_bytes(data[kind])
        manifest.put(
            key.replace("0101/", "0102/"),
            {
                **entry,
                "branch_id": "0102",
                "outputs": {
                    k: {**v, "path": v["path"].replace("0101/", "0102/")}
                    for k, v in entry["outputs"].items()
                },
            },
        )
    other = {**BRANCH, "info": {"branch_id": "0102", "name": "Jing'an"}}
    return manifest, {"0101": BRANCH, "0102": other}


def test_packs_are_made_by_the_run_s_warm_renderers(tmp_path, monkeypatch):
    monkeypatch.setattr(pack, "make_pack", fake_pack(calls := []))  # never used here
    manifest, branches = two_branches(tmp_path)
    server = FakeServer()
    done = packs.make_packs(tmp_path, manifest, branches, stop=Stop(), server=server)
    assert calls == []
    assert sorted(bid for bid, _ in server.calls) == ["0101", "0102"]
    # what a renderer gets travels as JSON: the job's keys, nothing else
    assert all(keys == ["branch", "entries", "fingerprint", "period"] for _, keys in server.calls)
    for bid in ("0101", "0102"):
        assert done[bid]["status"] == "ok"
        assert (tmp_path / bid / "pack.pdf").read_bytes() == b"%PDF by a renderer"


def test_a_pack_a_renderer_fails_stops_no_other(tmp_path):
    manifest, branches = two_branches(tmp_path)
    done = packs.make_packs(
        tmp_path, manifest, branches, stop=Stop(), server=FakeServer(fail={"0101"})
    )
    assert done["0101"]["status"] == "failed" and "no cover" in done["0101"]["error"]
    assert not (tmp_path / "0101" / "pack.pdf").exists()
    assert done["0102"]["status"] == "ok"


def test_without_a_ready_server_the_packs_are_made_in_new_processes(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(pack, "make_pack", fake_pack(calls))
    manifest = published(tmp_path)
    server = FakeServer(ready=False)
    done = packs.make_packs(tmp_path, manifest, {"0101": BRANCH}, stop=Stop(), server=server)
    assert server.calls == [] and calls == ["0101"]  # one pack: made in this process
    assert done["0101"]["status"] == "ok"
