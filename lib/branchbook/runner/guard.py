"""What keeps a run's output folder true: one run at a time, and nothing published
after the run was told to stop.

- :func:`check_folders`: the report, build and parameter folders are usable, checked
  before the period is prepared, each refusal one line naming the folder;
- :class:`FolderLock`: an exclusive ``flock`` on ``<out>/.branchbook.lock``; the kernel
  releases it when the process ends, however it ends, so a killed run never leaves it
  held;
- :class:`Stop`: the switch a signal turns, and the gate every publish passes: once
  the run is stopping no report is published, and a publish under way finishes
  (and is recorded) before the run stops;
- :func:`held_signals`: SIGINT and SIGTERM wait until a few lines of bookkeeping are done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import os
import signal
import threading
from pathlib import Path

from ..errors import BranchbookError, OutputError, ParamsError

log = logging.getLogger("branchbook.run")

LOCK_NAME = ".branchbook.lock"
EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_ERROR = 0, 1, 2, 3  # see the command's exit codes
EXIT_BUSY = 4  # the report folder is another run's (and this one was not asked to wait)


_RULE = "must be a folder the run can create or write"


class FolderBusy(BranchbookError):
    """Another run holds the report folder's lock (and this run was not asked to wait)."""


def check_writable(option: str, folder: Path) -> None:
    """Refuse ``folder`` (given as ``option``) if it, or the nearest folder above it that
    exists, is not a folder this user can write into. Makes nothing."""
    folder = Path(folder)
    for parent in (folder, *folder.parents):
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise BranchbookError(
                    f"{option} {folder}: {parent} is not a folder; {option} {_RULE}"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise BranchbookError(
                    f"{option} {folder}: {parent} is not writable by this user; {option} {_RULE}"
                )
            return


def check_folders(out: Path, build: Path, params: Path) -> list[Path]:
    """Refuse, with one line naming the folder, a report or build folder that is a file or
    cannot be created or written, and a parameter folder that is missing or unreadable;
    then make the report and build folders. Returns the outermost folders it made, for
    :func:`tidy` when the run is refused before it made anything."""
    folders = (("--out", out), ("--build", build))
    made = []
    for option, folder in folders:  # every refusal before any folder is made
        check_writable(option, folder)
    if not params.is_dir():
        raise ParamsError(
            f"--params {params}: "
            + ("not a folder" if params.exists() else "no such folder")
            + "; it must hold bank.yaml (and branches/)"
        )
    if not os.access(params, os.R_OK | os.X_OK):
        raise ParamsError(f"--params {params}: the folder is not readable by this user")
    bank = params / "bank.yaml"
    if bank.exists() and not os.access(bank, os.R_OK):
        raise ParamsError(f"--params {params}: {bank} is not readable by this user")
    for option, folder in folders:
        new = [p for p in (folder, *folder.parents) if not p.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            made.extend(new[-1:])
        except OSError as exc:
            raise BranchbookError(
                f"{option} {folder}: cannot create the folder ({exc.strerror or exc}); "
                f"{option} {_RULE}"
            ) from None
    return made


def tidy(made: list[Path]) -> None:
    """Remove the folders :func:`check_folders` made if they hold nothing but empty
    folders and the run's lock file: a refused run leaves no trace."""
    for top in made:
        if not top.is_dir():
            continue
        inside = sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True)
        if any(p.is_file() and p.name != LOCK_NAME for p in inside):
            continue
        with contextlib.suppress(OSError):
            for p in inside:
                p.unlink() if p.is_file() else p.rmdir()
            top.rmdir()


class FolderLock:
    """One run at a time in a report folder: ``flock`` on ``<folder>/.branchbook.lock``.

    ``wait`` blocks until the other run ends; otherwise a held lock raises
    :class:`FolderBusy` naming the folder and the holder's process id. The file holds
    the holder's process id and start time, for a person to read; the lock itself
    is the kernel's and goes with the process.
    """

    def __init__(self, folder: Path, *, wait: bool = False):
        self.path = Path(folder) / LOCK_NAME
        self.wait = wait
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        while True:
            fd = self._lock()
            try:  # the file may have been removed (tidy) while this run waited on it
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        try:
            now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {now}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def _lock(self) -> int:
        import fcntl

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot open the lock file {self.path}: {exc.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise OutputError(f"cannot lock {self.path}: {exc.strerror}") from None
                holder = _holder(fd)
                if not self.wait:
                    raise FolderBusy(
                        f"{self.path.parent}: another run{holder} is writing this report "
                        "folder; one run at a time per folder (pass --wait-lock to wait for it)"
                    ) from None
                log.info("waiting for another run%s to finish with %s", holder, self.path.parent)
                fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").split()
    except OSError:
        return ""
    return f" (pid {text[0]}, started {text[1]})" if len(text) >= 2 else ""


class Stop:
    """The run's stop switch and its publish gate (shared by the worker threads)."""

    def __init__(self):
        self._event = threading.Event()
        self._gate = threading.Lock()

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        """Stop: waits for a publish under way, after which none starts."""
        with self._gate:
            self._event.set()

    @contextlib.contextmanager
    def publishing(self):
        """``with stop.publishing() as go:`` publish only if ``go``; the run does not stop
        in between."""
        with self._gate:
            yield not self._event.is_set()


@contextlib.contextmanager
def held_signals(*, swallow: bool = False):
    """SIGINT and SIGTERM wait until the block is done, then act as they would have
    (or, with ``swallow``, not at all: the run is stopping already).

    Only in the main thread (elsewhere signals never run Python handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    saved = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        saved[sig] = signal.signal(sig, lambda s, f: got.append(s))
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        if got and not swallow:
            signal.raise_signal(got[0])
