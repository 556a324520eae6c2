"""Files written whole or not at all: atomic writes, their stale temporaries, papermill's saves.

Every file a reader or the next run opens (a published page, its PDF, the manifest,
an executed notebook) is written to a temporary file beside it and renamed over it, so
a reader sees the old file or the new one, never half of one. A full disk is an
:class:`~branchbook.errors.OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import tempfile
from pathlib import Path

from .errors import OutputError


def atomic_write(path: str | os.PathLike, data: bytes, *, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` so a reader sees the old file or the new one, never half.

    Writes a temporary file ``.<name>.<pid>.<random>.tmp`` in the same directory, syncs it to
    disk (unless ``sync`` is false) and renames it over ``path``. On any error the
    temporary file is removed and an existing ``path`` is left as it was. The new file
    keeps the old file's permissions (``0644`` if new).

    Raises :class:`~branchbook.errors.OutputError` (an ``OSError`` too, with the
    original ``errno``) naming the file when the disk is full or the file cannot be
    written: "No space left on the device while writing /srv/reports/2026-10/0101/risk.pdf".
    """
    return atomic_write_all({path: data}, sync=sync)[0]


def atomic_write_all(files: dict[str | os.PathLike, bytes], *, sync: bool = True) -> list[Path]:
    """Write several files as one: every file is staged (written and synced) before the
    first is renamed into place, so a full disk on the last one changes none of them.

    This is how a report's HTML and PDF are published: never a new HTML next to an old
    PDF. Errors as for :func:`atomic_write`.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_stage(Path(path), data, sync), Path(path)))
        for tmp, path in staged:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise _output_error(path, exc) from exc
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    if sync:
        for folder in dict.fromkeys(path.parent for _, path in staged):
            with contextlib.suppress(OSError):
                dir_fd = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
    return [path for _, path in staged]


def _stage(path: Path, data: bytes, sync: bool) -> str:
    """A temporary file next to ``path`` holding ``data``, with ``path``'s permissions."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
        fd, tmp = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp"
        )
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
        return tmp
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _output_error(path, exc) from exc
        raise


def refuse_symlinks(root: str | os.PathLike, folder: str | os.PathLike) -> None:
    """Refuse to write into ``folder`` when it, or a folder between ``root`` and it, is a
    symbolic link (or not a folder): a write there would land outside ``root``.

    Raises :class:`~branchbook.errors.OutputError` naming the link. ``root`` itself may be
    a link (the report folder a person chose); missing folders are fine (they are made).
    """
    root, folder = Path(root), Path(folder)
    rel = folder.relative_to(root)
    here = root
    for part in rel.parts:
        here = here / part
        if here.is_symlink():
            raise OutputError(
                f"{here} is a symbolic link; reports are never written through a link "
                f"out of {root} (replace it with a folder)"
            )
        if here.exists() and not here.is_dir():
            raise OutputError(f"{here} is not a folder; reports are written into folders")


def remove(path: str | os.PathLike) -> bool:
    """Remove the file ``path`` if it is there (True if it was); an error names the file."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _output_error(Path(path), exc) from exc
    return True


_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that :func:`atomic_write` left under ``folder`` in a
    process that no longer runs (killed in the middle of a write: nothing can clean
    up after SIGKILL). A live process's temporaries are left alone. Returns the files
    removed."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if not match or not path.is_file() or _process_alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


_FULL = {errno.ENOSPC: "No space left on the device", errno.EDQUOT: "Disk quota exceeded"}


def _output_error(path: Path, exc: OSError) -> OutputError:
    """``exc`` (raised while writing ``path``) as an :class:`OutputError` in words."""
    if exc.errno in _FULL:
        text = f"{_FULL[exc.errno]} while writing {path}"
    else:
        text = f"cannot write {path}: {exc.strerror or exc}"
    error = OutputError(text)
    error.errno, error.strerror, error.filename = exc.errno, exc.strerror, str(path)
    return error


def atomic_notebook_saves():
    """Make papermill save the executed notebook with :func:`atomic_write`.

    papermill rewrites the notebook in place after every cell; when the disk fills up
    that leaves a truncated file and a bare ``OSError``. With this, papermill's handler
    of local paths (when papermill is installed) replaces the file whole at each save
    (not synced: the executed notebook is a build file): a failed save leaves the
    previous one and no temporary file, and the error names the notebook.
    """
    try:
        from papermill.iorw import papermill_io
    except ImportError:  # papermill is only needed to run reports
        return None
    local = papermill_io.get_handler(os.sep)  # the handler of plain local paths
    if getattr(local, "atomic_saves", False):
        return local

    def write(buf, path):
        target = Path(path)
        cwd = getattr(local, "_cwd", None)
        if cwd and not target.is_absolute():
            target = Path(cwd) / target
        if not target.parent.is_dir():
            raise FileNotFoundError(f"output folder {target.parent} doesn't exist.")
        atomic_write(target, buf.encode("utf-8"), sync=False)

    local.write = write
    local.atomic_saves = True
    return local


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()
