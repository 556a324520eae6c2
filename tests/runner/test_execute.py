"""One report published: both files or neither, recorded with their checksums."""

from __future__ import annotations

import hashlib

from branchbook.runner import execute


def _task() -> dict:
    return {
        "branch_id": "0101",
        "report": "risk",
        "locale": "zh-CN",
        "stem": "risk",
        "parameters": {"branch_id": "0101", "build_dir": "/tmp/build", "period": "2026-10"},
        "fingerprint": "fp",
    }


def test_a_new_entry_is_failed_until_made_and_keeps_no_build_folder():
    entry = execute.new_entry(_task(), executed="2026-10/executed/0101/risk.ipynb")
    assert entry["status"] == "failed" and entry["error"] is None and entry["outputs"] == {}
    assert entry["parameters"] == {"branch_id": "0101", "period": "2026-10"}
    assert entry["input_fingerprint"] == "fp"
    assert entry["executed"] == "2026-10/executed/0101/risk.ipynb"


def test_a_made_report_is_published_with_its_checksums(tmp_path):
    entry = {**execute.new_entry(_task()), "status": "ok"}
    blobs = {"html": b"<html></html>", "pdf": b"%PDF-1.7"}
    out = execute.publish_report(entry, blobs, tmp_path, ("html", "pdf"))
    assert out["status"] == "ok"
    assert (tmp_path / "0101" / "risk.pdf").read_bytes() == b"%PDF-1.7"
    assert out["outputs"]["html"] == {
        "path": "0101/risk.html",
        "locale": "zh-CN",
        "sha256": hashlib.sha256(b"<html></html>").hexdigest(),
        "bytes": 13,
    }


def test_a_report_in_another_locale_has_it_in_its_file_names(tmp_path):
    task = {**_task(), "locale": "en", "stem": "risk.en"}
    entry = {**execute.new_entry(task), "status": "ok"}
    assert (entry["locale"], entry["stem"]) == ("en", "risk.en")
    blobs = {"html": b"<html lang='en'></html>", "pdf": b"%PDF-1.7", "xlsx": b"PK"}
    out = execute.publish_report(entry, blobs, tmp_path, ("html", "pdf"))
    assert sorted(p.name for p in (tmp_path / "0101").iterdir()) == [
        "risk.en.html",
        "risk.en.pdf",
        "risk.en.xlsx",
    ]
    assert {k: (v["path"], v["locale"]) for k, v in out["outputs"].items()} == {
        "html": ("0101/risk.en.html", "en"),
        "pdf": ("0101/risk.en.pdf", "en"),
        "xlsx": ("0101/risk.en.xlsx", "en"),
    }


def test_a_failed_report_publishes_nothing(tmp_path):
    entry = execute.new_entry(_task(), error="cell 3: KeyError: 'aum'")
    assert execute.publish_report(entry, {}, tmp_path, ("html",)) is entry
    assert list(tmp_path.iterdir()) == []


def test_a_format_not_made_fails_the_entry_and_writes_nothing(tmp_path):
    entry = {**execute.new_entry(_task()), "status": "ok"}
    out = execute.publish_report(entry, {"html": b"<html></html>"}, tmp_path, ("html", "pdf"))
    assert out["status"] == "failed" and out["error"].startswith("KeyError")
    assert not (tmp_path / "0101").exists()


def test_one_line_collapses_space_and_cuts_long_text():
    assert execute.one_line("a\n  b\tc") == "a b c"
    assert execute.one_line("x" * 500, limit=10) == "x" * 9 + "…"


def test_a_report_with_action_lists_publishes_its_workbook_with_the_other_files(tmp_path):
    entry = {**execute.new_entry(_task()), "status": "ok"}
    blobs = {"html": b"<html></html>", "xlsx": b"PK-workbook"}
    out = execute.publish_report(entry, blobs, tmp_path, ("html",))
    assert (tmp_path / "0101" / "risk.xlsx").read_bytes() == b"PK-workbook"
    assert out["outputs"]["xlsx"]["path"] == "0101/risk.xlsx"
    assert set(out["outputs"]) == {"html", "xlsx"}


def test_a_workbook_without_its_report_is_not_published(tmp_path):
    entry = {**execute.new_entry(_task()), "status": "ok"}
    out = execute.publish_report(entry, {"xlsx": b"PK"}, tmp_path, ("html",))
    assert out["status"] == "failed" and not (tmp_path / "0101").exists()


def test_an_html_only_report_removes_the_older_pdf_beside_it(tmp_path):
    (tmp_path / "0101").mkdir()
    (tmp_path / "0101" / "risk.pdf").write_bytes(b"%PDF old numbers")
    entry = {**execute.new_entry(_task()), "status": "ok"}
    out = execute.publish_report(entry, {"html": b"<html></html>"}, tmp_path, ("html",))
    assert out["status"] == "ok" and set(out["outputs"]) == {"html"}
    assert sorted(p.name for p in (tmp_path / "0101").iterdir()) == ["risk.html"]


def test_a_branch_folder_that_is_a_symlink_is_never_written_through(tmp_path):
    import pytest

    from branchbook.errors import OutputError

    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "reports"
    out.mkdir()
    (out / "0101").symlink_to(outside, target_is_directory=True)
    entry = {**execute.new_entry(_task()), "status": "ok"}
    with pytest.raises(OutputError, match=f"^{out / '0101'} is a symbolic link"):
        execute.publish_report(entry, {"html": b"<html></html>"}, out, ("html",))
    assert list(outside.iterdir()) == []


def test_nothing_is_published_or_recorded_once_the_run_stops(tmp_path, monkeypatch):
    from branchbook.runner import guard

    stop = guard.Stop()

    def make(t, **kwargs):  # the run is stopped while the report is being made
        stop.set()
        return {**execute.new_entry(t), "status": "ok"}, {"html": b"<html></html>"}

    monkeypatch.setattr(execute, "make", make)
    monkeypatch.setattr(execute, "task", lambda job, **kw: _task())
    recorded = []
    got = execute.execute(
        object(),
        period="2026-10",
        build_dir=tmp_path,
        out_dir=tmp_path / "out",
        formats=("html",),
        root=tmp_path,
        stop=stop,
        record=lambda k, e: recorded.append(k),
    )
    assert got is None and recorded == [] and not (tmp_path / "out").exists()
