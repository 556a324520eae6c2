"""The runner's manifest: rewritten every few seconds and at the end, never lost."""

from __future__ import annotations

import hashlib
import json

import pytest

from branchbook import iorw
from branchbook.errors import BranchbookError
from branchbook.runner import manifest


def writes(monkeypatch) -> list[int]:
    """The number of entries in each manifest write, in order."""
    seen: list[int] = []
    real = iorw.atomic_write

    def spy(path, data, **kw):
        seen.append(len(json.loads(data)["reports"]))
        return real(path, data, **kw)

    monkeypatch.setattr(iorw, "atomic_write", spy)
    return seen


def test_first_entry_is_written_at_once_the_next_ones_by_flush(tmp_path, monkeypatch):
    seen = writes(monkeypatch)
    m = manifest.Manifest(tmp_path / "manifest.json", "2026-10", "run-1", min_interval_s=3600)
    m.put("0101/risk", {"status": "ok"})
    assert seen == [1]  # a killed run has left a manifest as soon as one report is done
    m.put("0102/risk", {"status": "ok"})
    m.put("0103/risk", {"status": "failed"})
    assert seen == [1]  # within the interval: kept in memory
    m.flush()
    assert seen == [1, 3]
    m.flush()
    assert seen == [1, 3]  # nothing new, nothing written
    data = json.loads((tmp_path / "manifest.json").read_text())
    assert data["run_id"] == "run-1" and set(data["reports"]) == {
        "0101/risk",
        "0102/risk",
        "0103/risk",
    }


def test_without_an_interval_every_entry_is_written(tmp_path, monkeypatch):
    seen = writes(monkeypatch)
    m = manifest.Manifest(tmp_path / "manifest.json", "2026-10", "r", min_interval_s=0, spacing=0)
    for i in range(4):
        m.put(f"010{i}/risk", {"status": "ok"})
    assert seen == [1, 2, 3, 4]


def test_the_wait_grows_with_the_cost_of_a_write(tmp_path, monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr(manifest.time, "monotonic", lambda: clock["now"])
    seen = writes(monkeypatch)
    m = manifest.Manifest(tmp_path / "manifest.json", "2026-10", "r", min_interval_s=2, spacing=50)
    m.put("a", {})
    assert seen == [1]
    m._write_s = 0.1  # as if that write took 0.1 s: the next one waits 50 x 0.1 = 5 s
    clock["now"] += 3
    m.put("b", {})
    assert seen == [1]  # 3 s later: more than the 2 s minimum, less than 5 s
    clock["now"] += 2.5
    m.put("c", {})
    assert seen == [1, 3]


def test_an_existing_manifest_keeps_its_other_entries(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"period": "2026-10", "reports": {"0101/risk": {"status": "ok"}}}))
    m = manifest.Manifest(path, "2026-10", "run-2")
    assert m.get("0101/risk") == {"status": "ok"}
    m.put("0102/risk", {"status": "ok"})
    assert set(json.loads(path.read_text())["reports"]) == {"0101/risk", "0102/risk"}


@pytest.mark.parametrize(
    "text, says",
    [
        ("[]", "not a manifest"),
        ('{"period": "2026-10"}', "not a manifest"),
        ('{"reports": {"0101/risk": 3}}', "not a manifest"),
        ('{"reports": {', "not JSON"),
    ],
)
def test_a_manifest_of_another_shape_is_refused_not_replaced(tmp_path, text, says):
    path = tmp_path / "manifest.json"
    path.write_text(text)
    with pytest.raises(BranchbookError) as caught:
        manifest.Manifest(path, "2026-10", "run-2")
    assert str(caught.value).startswith(f"{path}: {says}")
    assert "'reports' maps branch/report to objects" in str(caught.value)
    assert path.read_text() == text  # left for a person to look at


def test_a_report_missing_a_format_asked_for_is_not_up_to_date(tmp_path):
    (tmp_path / "0101").mkdir()
    (tmp_path / "0101" / "risk.html").write_bytes(b"x")
    entry = {
        "status": "ok",
        "input_fingerprint": "fp",
        "outputs": {"html": {"path": "0101/risk.html", "sha256": hashlib.sha256(b"x").hexdigest()}},
    }
    assert manifest.up_to_date(entry, "fp", tmp_path, ("html",))
    assert not manifest.up_to_date(entry, "fp", tmp_path, ("html", "pdf"))


def _published(out, branch, stem, locale, report):
    files = {}
    for fmt in ("html", "pdf"):
        path = out / branch / f"{stem}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{stem} {fmt}")
        files[fmt] = {"path": f"{branch}/{stem}.{fmt}", "locale": locale, "sha256": "0" * 64}
    return {
        "branch_id": branch,
        "report": report,
        "locale": locale,
        "stem": stem,
        "status": "ok",
        "outputs": files,
    }


def test_a_run_with_fewer_locales_removes_the_others_of_its_reports_only(tmp_path):
    out = tmp_path / "2026-10"
    m = manifest.Manifest(out / "manifest.json", "2026-10", "r1")
    m.data["reports"] = {
        "0101/risk": _published(out, "0101", "risk", "zh-CN", "risk"),
        "0101/risk.en": _published(out, "0101", "risk.en", "en", "risk"),
        "0101/satisfaction.en": _published(out, "0101", "satisfaction.en", "en", "satisfaction"),
        "0102/risk.en": _published(out, "0102", "risk.en", "en", "risk"),
    }
    # this run made 0101's risk in its own locale only
    dropped = manifest.remove_other_locales(m, {"0101/risk": ("0101", "risk")}, out)
    assert dropped == ["0101/risk.en"]
    assert sorted(m.data["reports"]) == ["0101/risk", "0101/satisfaction.en", "0102/risk.en"]
    assert not (out / "0101" / "risk.en.html").exists()
    assert not (out / "0101" / "risk.en.pdf").exists()
    for kept in ("0101/risk.html", "0101/satisfaction.en.pdf", "0102/risk.en.html"):
        assert (out / kept).is_file(), kept
    m.flush()
    assert sorted(manifest.read(m.path)["reports"]) == sorted(m.data["reports"])


def test_a_file_a_made_report_lists_is_never_removed(tmp_path):
    # the branch's locale changed: the entry of the old extra locale lists risk.html too
    out = tmp_path / "2026-10"
    m = manifest.Manifest(out / "manifest.json", "2026-10", "r1")
    made = _published(out, "0101", "risk", "en", "risk")
    odd = _published(out, "0101", "risk.en", "en", "risk")
    odd["outputs"]["html"]["path"] = "0101/risk.html"
    odd["outputs"]["pdf"]["path"] = "/etc/passwd"
    m.data["reports"] = {"0101/risk": made, "0101/risk.en": odd}
    assert manifest.remove_other_locales(m, {"0101/risk": ("0101", "risk")}, out) == [
        "0101/risk.en"
    ]
    assert (out / "0101" / "risk.html").is_file()
