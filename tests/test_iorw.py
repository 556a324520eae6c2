"""Atomic writes: the old file or the new one, never half; stale temporaries removed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from branchbook import iorw


def test_atomic_write_replaces_the_file(tmp_path):
    target = tmp_path / "sub" / "a.html"
    iorw.atomic_write(target, b"one")
    iorw.atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["a.html"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_atomic_write_failure_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "a.pdf"
    target.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(iorw.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        iorw.atomic_write(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.pdf"]


def test_temporaries_of_a_dead_writer_are_removed_and_a_live_ones_kept(tmp_path):
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    (tmp_path / "0101").mkdir()
    dead = tmp_path / "0101" / f".risk.pdf.{dead_pid}.k3j2h1g0.tmp"
    live = tmp_path / f".manifest.json.{os.getpid()}.abcd1234.tmp"
    other = tmp_path / ".notes.tmp"  # not ours: no pid in its name
    page = tmp_path / "0101" / "risk.pdf"
    for p in (dead, live, other, page):
        p.write_bytes(b"x")
    assert iorw.remove_stale_temporaries(tmp_path) == [dead]
    assert not dead.exists() and live.exists() and other.exists() and page.exists()
    # and atomic_write names its temporary so
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src).name)
        return real_replace(src, dst)

    import unittest.mock

    with unittest.mock.patch("os.replace", spy):
        iorw.atomic_write(tmp_path / "x.html", b"<html></html>")
    assert iorw._TEMPORARY.match(seen[0]) and f".{os.getpid()}." in seen[0]


def test_a_full_disk_names_the_file_and_keeps_the_errno(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(iorw.os, "write", full)
    target = tmp_path / "0101" / "risk.pdf"
    with pytest.raises(OSError) as caught:
        iorw.atomic_write(target, b"pdf")
    assert str(caught.value) == f"No space left on the device while writing {target}"
    assert caught.value.errno == 28 and caught.value.filename == str(target)
    assert not target.exists() and os.listdir(target.parent) == []


def test_sha256_is_the_hex_digest():
    assert iorw.sha256(b"") == ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_a_symlink_on_the_way_is_refused_and_a_missing_folder_is_fine(tmp_path):
    from branchbook.errors import OutputError

    root = tmp_path / "reports"
    (root / "2026-10").mkdir(parents=True)
    iorw.refuse_symlinks(root, root / "2026-10" / "0101")  # not there yet: made later
    (tmp_path / "elsewhere").mkdir()
    (root / "2026-10" / "0101").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError, match="0101 is a symbolic link"):
        iorw.refuse_symlinks(root, root / "2026-10" / "0101")
    (root / "2026-11").write_text("")
    with pytest.raises(OutputError, match="2026-11 is not a folder"):
        iorw.refuse_symlinks(root, root / "2026-11" / "0101")


def test_remove_says_whether_the_file_was_there(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    assert iorw.remove(tmp_path / "a.pdf") is True
    assert iorw.remove(tmp_path / "a.pdf") is False
